/** Exit codes of every command (README "Command line"). */

/** Fidelity below tolerance. */
export const EXIT_BELOW_TOLERANCE = 1;
/** Errors: bad input, ngspice failure, failed jobs. */
export const EXIT_ERROR = 2;
/** A run stopped by Ctrl-C / SIGTERM (128 + SIGINT), as shells report it. */
export const EXIT_INTERRUPTED = 130;

/** What a batch run exits with: interrupted beats failed jobs, which beat jobs below the plan's tolerances. */
export function batchExitCode(s: {
  readonly interrupted: boolean;
  readonly failures: readonly unknown[];
  readonly belowTolerance: number;
}): number {
  if (s.interrupted) return EXIT_INTERRUPTED;
  if (s.failures.length > 0) return EXIT_ERROR;
  return s.belowTolerance > 0 ? EXIT_BELOW_TOLERANCE : 0;
}

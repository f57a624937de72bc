/** Exit codes of every command (README "Command line"). */

/** Fidelity below tolerance. */
export const EXIT_BELOW_TOLERANCE = 1;
/** Errors: bad input, ngspice failure, failed jobs. */
export const EXIT_ERROR = 2;
/** A run stopped by Ctrl-C / SIGTERM (128 + SIGINT), as shells report it. */
export const EXIT_INTERRUPTED = 130;

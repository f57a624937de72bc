import { BmruError } from '../errors.js';

/** Exit code of a run stopped by Ctrl-C / SIGTERM (128 + SIGINT), as shells report it. */
export const EXIT_INTERRUPTED = 130;

/**
 * Runs `work` with an abort signal that the first Ctrl-C (or SIGTERM) fires, so finished results are kept and
 * running ngspice processes are stopped; a second Ctrl-C leaves at once. `note` tells the user what happens.
 */
export async function interruptible<T>(work: (signal: AbortSignal) => Promise<T>, note: (text: string) => void): Promise<T> {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(EXIT_INTERRUPTED);
    note(`${signal}: stopping; running jobs are abandoned (they run again next time), finished ones are kept`);
    controller.abort(new BmruError(`interrupted by ${signal}`, 'interrupted'));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await work(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

import { BmruError } from '../errors.js';

import { EXIT_INTERRUPTED } from './exit.js';
export { EXIT_INTERRUPTED };

/**
 * Runs `work` with an abort signal that the first Ctrl-C (or SIGTERM) fires, so finished results are kept and
 * running ngspice processes are stopped; a second Ctrl-C leaves at once. `note` tells the user what happens.
 */
export async function interruptible<T>(
  work: (signal: AbortSignal) => Promise<T>,
  note: (text: string) => void,
): Promise<T> {
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

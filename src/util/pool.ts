/**
 * A promise pool: runs async workers over a list with a concurrency limit. ngspice runs are separate
 * processes, so waiting on them needs no threads: `concurrency` lanes each take the next item when theirs
 * is done.
 */
import os from 'node:os';

/** One finished item, reported as it finishes (for progress). */
export interface Completion<T, R> {
  item: T;
  /** Index of the item in the input list. */
  index: number;
  /** Items finished so far, this one included. */
  completed: number;
  total: number;
  /** The worker's result, when it succeeded. */
  result?: R;
  /** What the worker threw, when it failed. */
  error?: unknown;
}

export interface RunManyOptions<T, R> {
  /** Workers running at once. Default: `os.availableParallelism()`. */
  concurrency?: number;
  /** Called after each item, success or failure; what it throws fails the batch like a worker error. */
  onDone?: (completion: Completion<T, R>) => void;
}

/**
 * Runs `worker` on every item, at most `concurrency` at a time, and resolves with the results in input order.
 *
 * After the first failure no new item starts; the running ones are awaited (so no ngspice process is left
 * unwatched) and the batch rejects with that first error. A worker whose failures should not stop the batch
 * catches them itself, e.g. by returning the error as its result.
 *
 * @example
 *   const results = await runMany(decks, (netlist) => runNgspice({ netlist }), {
 *     concurrency: 2,
 *     onDone: ({ completed, total }) => console.log(`${completed}/${total}`),
 *   });
 */
export async function runMany<T, R>(
  items: readonly T[],
  worker: (item: T, index: number) => Promise<R>,
  options: RunManyOptions<T, R> = {},
): Promise<R[]> {
  const concurrency = options.concurrency ?? os.availableParallelism();
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be an integer >= 1, got ${concurrency}`);
  }
  const results = new Array<R>(items.length);
  let next = 0;
  let completed = 0;
  let failure: { error: unknown } | undefined;

  const lane = async () => {
    while (next < items.length && failure === undefined) {
      const index = next++;
      const outcome = await settle(() => worker(items[index], index));
      completed += 1;
      if ('error' in outcome) failure ??= outcome;
      else results[index] = outcome.result;
      try {
        options.onDone?.({ item: items[index], index, completed, total: items.length, ...outcome });
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
  if (failure) throw failure.error;
  return results;
}

/** The worker's result or what it threw, synchronously or not. */
async function settle<R>(work: () => Promise<R>): Promise<{ result: R } | { error: unknown }> {
  try {
    return { result: await work() };
  } catch (error) {
    return { error };
  }
}

import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { runMany, type Completion } from '../../src/util/pool.js';

describe('runMany', () => {
  it('never runs more workers at once than the concurrency limit, and reaches it', async () => {
    let running = 0;
    let maxRunning = 0;
    await runMany(
      Array.from({ length: 10 }, (_, i) => i),
      async (i) => {
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        await sleep(5 + (i % 3) * 5);
        running -= 1;
      },
      { concurrency: 3 },
    );
    expect(maxRunning).toBe(3);
  });

  it('resolves with the results in input order whatever order they finish in', async () => {
    const results = await runMany(
      [30, 5, 20, 1],
      async (delayMs, index) => {
        await sleep(delayMs);
        return `${index}:${delayMs}`;
      },
      { concurrency: 4 },
    );
    expect(results).toEqual(['0:30', '1:5', '2:20', '3:1']);
  });

  it('reports each completion with a running count', async () => {
    const seen: Completion<number, number>[] = [];
    await runMany([3, 1, 2], async (x) => x * 10, { concurrency: 2, onDone: (c) => seen.push(c) });
    expect(seen.map((c) => c.completed)).toEqual([1, 2, 3]);
    expect(seen.every((c) => c.total === 3 && c.result === c.item * 10 && c.error === undefined)).toBe(true);
    expect(seen.map((c) => c.index).sort()).toEqual([0, 1, 2]);
  });

  it('starts nothing new after a failure, waits for the running workers, then rejects with the first error', async () => {
    const started: number[] = [];
    const finished: number[] = [];
    const errors: unknown[] = [];
    const batch = runMany(
      [0, 1, 2, 3, 4, 5],
      async (i) => {
        started.push(i);
        await sleep(i === 1 ? 1 : 30);
        if (i === 1) throw new Error('worker 1 failed');
        finished.push(i);
      },
      { concurrency: 2, onDone: (c) => c.error && errors.push(c.error) },
    );
    await expect(batch).rejects.toThrow('worker 1 failed');
    expect(started).toEqual([0, 1]);
    expect(finished).toEqual([0]); // awaited before the batch rejected
    expect(errors).toHaveLength(1);
  });

  it('handles an empty list and a concurrency above the number of items', async () => {
    expect(await runMany([], async () => 1)).toEqual([]);
    expect(await runMany([1, 2], async (x) => x + 1, { concurrency: 8 })).toEqual([2, 3]);
  });

  it('counts a worker that throws synchronously as a failure', async () => {
    const worker = (() => {
      throw new Error('sync');
    }) as unknown as (x: number) => Promise<number>;
    await expect(runMany([1], worker)).rejects.toThrow('sync');
  });

  it('rejects a concurrency that is not a positive integer', async () => {
    await expect(runMany([1], async (x) => x, { concurrency: 0 })).rejects.toThrow(RangeError);
    await expect(runMany([1], async (x) => x, { concurrency: 1.5 })).rejects.toThrow(RangeError);
  });
});

/**
 * The batched model (batch.ts) on several cores: clips split across `node:worker_threads` workers, each running
 * `runNetworkBatch` on its share; the traces come back in clip order, identical to one `runNetworkBatch` call
 * (clips are independent, and each one is computed by the same code wherever it runs).
 *
 * Workers are started once per pool: a worker costs tens of milliseconds to start, more than a typical batch.
 */
import { Worker } from 'node:worker_threads';
import type { ModelBatchOptions, StateTrace, TraceKeep } from './batch.js';
import type { InputSequence, Trace } from './network.js';
import type { Network } from './types.js';

/** What a worker is sent: a request id, the network and its share of the clips. */
export interface BatchRequest {
  readonly id: number;
  readonly net: Network;
  readonly clips: readonly InputSequence[];
  readonly keep: TraceKeep;
}

/** What a worker answers: the traces, or the message of what it threw. */
export type BatchReply =
  { readonly id: number; readonly traces: Trace[] | StateTrace[] } | { readonly id: number; readonly error: string };

export interface ModelPool {
  readonly workers: number;
  /** runNetworkBatch(net, clips, options), the clips shared out among the workers by frame count. */
  run(net: Network, clips: readonly InputSequence[], options?: { keep?: 'all' }): Promise<Trace[]>;
  run(net: Network, clips: readonly InputSequence[], options: { keep: 'states' }): Promise<StateTrace[]>;
  run(net: Network, clips: readonly InputSequence[], options?: ModelBatchOptions): Promise<Trace[] | StateTrace[]>;
  /** Stop the workers; the pool cannot run after this. */
  close(): Promise<void>;
}

/**
 * The worker's module: the compiled one beside this file. Run from the TypeScript sources (the test runner), that
 * is the build in dist/, which `npm test` makes first: worker threads load plain JavaScript only.
 */
function workerUrl(): URL {
  const here = import.meta.url;
  return here.endsWith('.ts')
    ? new URL(here.replace(/\/src\/model\/parallel\.ts$/, '/dist/model/parallel-worker.js'))
    : new URL('./parallel-worker.js', here);
}

/** Split clips into at most `parts` contiguous runs of about equal frame counts: [start, end) indices. */
export function shareOut(clips: readonly InputSequence[], parts: number): Array<[number, number]> {
  const total = clips.reduce((n, c) => n + c.frames, 0);
  const runs: Array<[number, number]> = [];
  let start = 0;
  let frames = 0;
  for (let i = 0; i < clips.length; i++) {
    frames += clips[i].frames;
    // Close a run once it holds its share of the frames seen so far (the last run takes the rest).
    if (runs.length < parts - 1 && frames * parts >= total * (runs.length + 1)) {
      runs.push([start, i + 1]);
      start = i + 1;
    }
  }
  if (start < clips.length || runs.length === 0) runs.push([start, clips.length]);
  return runs;
}

/** Start `workers` worker threads for the batched model. */
export function createModelPool(workers: number): ModelPool {
  if (!Number.isInteger(workers) || workers < 1)
    throw new RangeError(`workers must be a whole number >= 1, got ${workers}`);
  const threads = Array.from({ length: workers }, () => new Worker(workerUrl()));
  type Traces = Trace[] | StateTrace[];
  const pending = new Map<number, { resolve: (t: Traces) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  for (const w of threads) {
    w.on('message', (m: BatchReply) => {
      const p = pending.get(m.id);
      pending.delete(m.id);
      if ('error' in m) p?.reject(new Error(m.error));
      else p?.resolve(m.traces);
    });
    w.on('error', (e) => {
      for (const p of pending.values()) p.reject(e);
      pending.clear();
    });
  }
  const runOn = (w: Worker, net: Network, clips: readonly InputSequence[], keep: TraceKeep) =>
    new Promise<Traces>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      w.postMessage({ id, net, clips, keep } satisfies BatchRequest);
    });
  async function run(net: Network, clips: readonly InputSequence[], options?: { keep?: 'all' }): Promise<Trace[]>;
  async function run(net: Network, clips: readonly InputSequence[], options: { keep: 'states' }): Promise<StateTrace[]>;
  async function run(net: Network, clips: readonly InputSequence[], options?: ModelBatchOptions): Promise<Traces>;
  async function run(net: Network, clips: readonly InputSequence[], options: ModelBatchOptions = {}): Promise<Traces> {
    const keep = options.keep ?? 'all';
    const runs = shareOut(clips, workers);
    const parts = await Promise.all(runs.map(([a, b], i) => runOn(threads[i], net, clips.slice(a, b), keep)));
    return parts.flat() as Traces;
  }
  return {
    workers,
    run,
    async close() {
      await Promise.all(threads.map((w) => w.terminate()));
    },
  };
}

/** runNetworkBatch(net, clips, options) on `workers` threads, started for this call and stopped after it. */
export async function runNetworkParallel(
  net: Network,
  clips: readonly InputSequence[],
  options: { workers: number; keep?: 'all' },
): Promise<Trace[]>;
export async function runNetworkParallel(
  net: Network,
  clips: readonly InputSequence[],
  options: { workers: number; keep: 'states' },
): Promise<StateTrace[]>;
export async function runNetworkParallel(
  net: Network,
  clips: readonly InputSequence[],
  options: { workers: number } & ModelBatchOptions,
): Promise<Trace[] | StateTrace[]> {
  const pool = createModelPool(options.workers);
  try {
    return await pool.run(net, clips, { keep: options.keep });
  } finally {
    await pool.close();
  }
}

/** A worker thread of parallel.ts: runs runNetworkBatch on each request and sends the traces back. */
import { parentPort } from 'node:worker_threads';
import { runNetworkBatch } from './batch.js';
import type { BatchReply, BatchRequest } from './parallel.js';

if (parentPort === null) throw new Error('parallel-worker.js runs as a worker thread of parallel.ts');
const port = parentPort;
port.on('message', (req: BatchRequest) => {
  try {
    const traces = runNetworkBatch(req.net, req.clips, { keep: req.keep });
    // Hand the traces' buffers over instead of copying them (states and logits are batch-wide, the rest per clip).
    const buffers = new Set<ArrayBuffer>();
    for (const t of traces) {
      const analog = 'candidates' in t ? [...t.candidates, ...t.blockOutputs] : [];
      for (const a of [...analog, ...t.states, t.logits, t.votes]) buffers.add(a.buffer as ArrayBuffer);
    }
    port.postMessage({ id: req.id, traces } satisfies BatchReply, [...buffers]);
  } catch (e) {
    port.postMessage({ id: req.id, error: e instanceof Error ? e.message : String(e) } satisfies BatchReply);
  }
});

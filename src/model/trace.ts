import { writeToPath } from 'fast-csv';
import type { Network } from './types.js';
import type { Trace } from './network.js';

/** A trace as nested arrays, in the layout of shared/conformance expected.json ([L][T][S], [T][C], ...). */
export interface TraceJson {
  candidates: number[][][];
  states: number[][][];
  block_outputs: number[][][];
  logits: number[][];
  votes: number[];
  decision: number;
}

function rows(flat: ArrayLike<number>, frames: number, width: number): number[][] {
  return Array.from({ length: frames }, (_, t) => Array.from({ length: width }, (_, j) => flat[t * width + j]));
}

/** Convert a trace to nested arrays (for JSON export and for comparing with conformance files). */
export function traceToJson(net: Network, tr: Trace): TraceJson {
  return {
    candidates: tr.candidates.map((c) => rows(c, tr.frames, net.cells)),
    states: tr.states.map((s) => rows(s, tr.frames, net.cells)),
    block_outputs: tr.blockOutputs.map((o) => rows(o, tr.frames, net.width)),
    logits: rows(tr.logits, tr.frames, net.classes),
    votes: Array.from(tr.votes),
    decision: tr.decision,
  };
}

/** Long-format rows, one per (frame, block, unit): easy to filter and plot in any tool. */
export function traceCsvRows(net: Network, tr: Trace): (string | number)[][] {
  const out: (string | number)[][] = [['frame', 'block', 'unit', 'candidate', 'state', 'state_current', 'vote']];
  for (let t = 0; t < tr.frames; t++) {
    net.blocks.forEach((b, k) => {
      for (let j = 0; j < net.cells; j++) {
        const s = tr.states[k][t * net.cells + j];
        out.push([t, k, j, tr.candidates[k][t * net.cells + j], s, s * Math.abs(b.cell.alpha[j]), tr.votes[t]]);
      }
    });
  }
  return out;
}

/** Write the long-format trace CSV. */
export function writeTraceCsv(path: string, net: Network, tr: Trace): Promise<void> {
  return new Promise((resolve, reject) => {
    writeToPath(path, traceCsvRows(net, tr))
      .on('error', reject)
      .on('finish', () => resolve());
  });
}

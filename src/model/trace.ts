import { writeToPath } from 'fast-csv';
import type { Network } from './types.js';
import type { Trace } from './network.js';

/** A trace of either software model: binary states (runNetwork) or cumulative ones (runCumulative). */
export type AnyTrace = Omit<Trace, 'states'> & { readonly states: readonly ArrayLike<number>[] };

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
export function traceToJson(net: Network, tr: AnyTrace): TraceJson {
  return {
    candidates: tr.candidates.map((c) => rows(c, tr.frames, net.cells)),
    states: tr.states.map((s) => rows(s, tr.frames, net.cells)),
    block_outputs: tr.blockOutputs.map((o) => rows(o, tr.frames, net.width)),
    logits: rows(tr.logits, tr.frames, net.classes),
    votes: Array.from(tr.votes),
    decision: tr.decision,
  };
}

/**
 * Long-format rows, one per (frame, block, unit): easy to filter and plot in any tool. `unit` runs over
 * max(S, H): candidate, state and state_current are those of cell `unit` (empty where unit >= S), block_output is
 * component `unit` of h after the block (empty where unit >= H); vote and logit_0..logit_{C-1} are the frame's,
 * repeated on each of its rows.
 */
export function traceCsvRows(net: Network, tr: AnyTrace): (string | number)[][] {
  const { cells: S, width: H, classes: C } = net;
  const logitNames = Array.from({ length: C }, (_, c) => `logit_${c}`);
  const out: (string | number)[][] = [
    ['frame', 'block', 'unit', 'candidate', 'state', 'state_current', 'vote', 'block_output', ...logitNames],
  ];
  for (let t = 0; t < tr.frames; t++) {
    const logits = Array.from(tr.logits.subarray(t * C, (t + 1) * C));
    net.blocks.forEach((b, k) => {
      for (let j = 0; j < Math.max(S, H); j++) {
        const cell =
          j < S
            ? [
                tr.candidates[k][t * S + j],
                tr.states[k][t * S + j],
                tr.states[k][t * S + j] * Math.abs(b.cell.alpha[j]),
              ]
            : ['', '', ''];
        const output = j < H ? tr.blockOutputs[k][t * H + j] : '';
        out.push([t, k, j, ...cell, tr.votes[t], output, ...logits]);
      }
    });
  }
  return out;
}

/** Write the long-format trace CSV. */
export function writeTraceCsv(path: string, net: Network, tr: AnyTrace): Promise<void> {
  return new Promise((resolve, reject) => {
    writeToPath(path, traceCsvRows(net, tr))
      .on('error', reject)
      .on('finish', () => resolve());
  });
}

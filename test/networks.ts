/** Small networks written by hand, for tests whose expectations are worked out on paper. */
import type { Linear, Network } from '../src/model/types.js';

/** A layer from row-major weights and a bias. */
export const linear = (rows: number, cols: number, w: readonly number[], b: readonly number[]): Linear => ({
  weight: { rows, cols, data: Float64Array.from(w) },
  bias: Float64Array.from(b),
});

/** The one cell of `oneCellNetwork`: beta_lo, the hysteresis width, and what else differs from the defaults. */
export interface OneCell {
  readonly betaLo: number;
  readonly delta: number;
  /** Candidate = candWeight x input (the pre layer passes the input through). Default 1. */
  readonly candWeight?: number;
  /** ON level. Default 1. */
  readonly alpha?: number;
  /** Initial state. Default 0 (OFF). */
  readonly s0?: number;
  /** Classifier on the cell's output. Default: class 0 wins when the cell is ON (logits 0.5 vs -0.5). */
  readonly out?: { readonly weight: readonly number[]; readonly bias: readonly number[] };
}

/** Input 1 -> pre (x1) -> candidate -> one cell (thresholds beta_lo, beta_lo + delta) -> post (x1) -> 2 classes. */
export function oneCellNetwork(c: OneCell): Network {
  const out = c.out ?? { weight: [1, -1], bias: [-0.5, 0.5] };
  return {
    arch: 'fq-bmru',
    inputs: 1,
    width: 1,
    cells: 1,
    classes: 2,
    skip: false,
    unitCurrentA: 1e-9,
    frameS: 0.01,
    cellParams: 'realised',
    pre: linear(1, 1, [1], [0]),
    blocks: [
      {
        cand: linear(1, 1, [c.candWeight ?? 1], [0]),
        cell: {
          alpha: Float64Array.of(c.alpha ?? 1),
          beta1: Float64Array.of(c.betaLo),
          delta: Float64Array.of(c.delta),
          s0: Float64Array.of(c.s0 ?? 0),
        },
        post: linear(1, 1, [1], [0]),
      },
    ],
    out: linear(2, 1, out.weight, out.bias),
  };
}

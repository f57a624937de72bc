import type { Network } from '../../src/model/types.js';
import { linear as lin } from '../networks.js';

/** The one-cell network and clip the reference tests score, in software (test/compare) and on a circuit (test/circuit). */

/**
 * One cell fed c = w x + b. With w = 0.005 (below half the smallest c180 copy, so the circuit leaves it out) the
 * trained candidate at x = 80 is 0.6 (ON, beta_hi 0.5) and the realised one 0.2 (OFF, beta_lo 0.3).
 */
export function tiny(w = 0.005, unitCurrentA = 1e-9): Network {
  return {
    arch: 'fq-bmru',
    inputs: 1,
    width: 1,
    cells: 1,
    classes: 2,
    skip: false,
    unitCurrentA,
    frameS: 0.01,
    cellParams: 'realised',
    pre: lin(1, 1, [w], [0]),
    blocks: [
      {
        cand: lin(1, 1, [1], [0.2]),
        cell: {
          alpha: Float64Array.of(1),
          beta1: Float64Array.of(0.3),
          delta: Float64Array.of(0.2),
          s0: Float64Array.of(0),
        },
        post: lin(1, 1, [1], [0]),
      },
    ],
    out: lin(2, 1, [0, 1], [0.5, 0]),
  };
}
export const clip = { frames: 6, features: 1, data: Float64Array.of(0, 80, 80, 0, 80, 80) };

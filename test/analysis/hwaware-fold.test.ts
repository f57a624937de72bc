import { describe, expect, it } from 'vitest';
import {
  applyCorrections,
  applyLogitCorrections,
  fitCorrections,
  fitLogitCorrections,
  modelFit,
  type CellCorrection,
} from '../../src/analysis/hwaware.js';
import type { InputSequence, Trace } from '../../src/model/network.js';
import type { Network } from '../../src/model/types.js';
import { kneeNetwork } from './knee-case.js';
import { linear } from '../networks.js';

// Hand-computed cases for the fitted hardware-aware model (`bmru analyze hwaware`): each fold and fit on numbers
// small enough to check on paper. hwaware.test.ts fits a whole random network against a known circuit.

/** Width 2, two cells, two classes, one block; weights are row-major (cand row j = cell j, post row i = output i). */
function twoByTwo(): Network {
  return {
    arch: 'fq-bmru',
    inputs: 2,
    width: 2,
    cells: 2,
    classes: 2,
    skip: false,
    unitCurrentA: 1e-9,
    frameS: 0.01,
    cellParams: 'realised',
    pre: linear(2, 2, [1, 0, 0, 1], [0, 0]),
    blocks: [
      {
        cand: linear(2, 2, [1, 2, 3, 4], [0.5, 0.6]),
        cell: {
          alpha: Float64Array.of(1, 2),
          beta1: Float64Array.of(0.3, 0.4),
          delta: Float64Array.of(0.2, 0.5),
          s0: Float64Array.of(0, 1),
        },
        post: linear(2, 2, [1, 2, 3, 4], [0.1, 0.2]),
      },
    ],
    out: linear(2, 2, [1, 2, 3, 4], [0.5, -1]),
  };
}

/** A trace of `frames` frames of one block of two cells and two classes, from flat per-frame values. */
function trace(frames: number, candidates: number[], states: number[], logits: number[]): Trace {
  return {
    frames,
    candidates: [Float64Array.from(candidates)],
    states: [Uint8Array.from(states)],
    blockOutputs: [new Float64Array(frames * 2)],
    logits: Float64Array.from(logits),
    votes: new Int32Array(frames),
    decision: 0,
  };
}

const correction = (unit: number, c: Partial<CellCorrection>): CellCorrection => ({
  block: 0,
  unit,
  candidateGain: 1,
  candidateOffset: 0,
  onLevel: 1,
  offLeak: 0,
  ...c,
});

describe('applyCorrections', () => {
  it("scales one cell's candidate row and bias, sets its ON level over the leak, and books the leak to the post bias", () => {
    const net = twoByTwo();
    const out = applyCorrections(net, [
      correction(1, { candidateGain: 2, candidateOffset: 0.1, onLevel: 1.5, offLeak: 0.25 }),
    ]);
    const b = out.blocks[0];
    expect(Array.from(b.cand.weight.data)).toEqual([1, 2, 6, 8]); // row 1 x 2, row 0 as it was
    expect(b.cand.bias[0]).toBe(0.5);
    expect(b.cand.bias[1]).toBeCloseTo(0.6 * 2 + 0.1, 12);
    expect(Array.from(b.cell.alpha)).toEqual([1, 1.25]); // 1.5 ON - 0.25 leak
    // post bias i gains W_post[i, 1] x leak: 0.1 + 2 x 0.25, 0.2 + 4 x 0.25
    expect(b.post.bias[0]).toBeCloseTo(0.6, 12);
    expect(b.post.bias[1]).toBeCloseTo(1.2, 12);
    // Thresholds and initial states are not refitted: delta = beta_hi - beta_lo as given.
    expect(Array.from(b.cell.beta1)).toEqual([0.3, 0.4]);
    expect(b.cell.delta[0]).toBeCloseTo(0.2, 12);
    expect(b.cell.delta[1]).toBeCloseTo(0.5, 12);
    expect(Array.from(b.cell.s0)).toEqual([0, 1]);
    expect(out.cellParams).toBe('realised');
    // The input network is not touched.
    expect(Array.from(net.blocks[0].cand.weight.data)).toEqual([1, 2, 3, 4]);
    expect(Array.from(net.blocks[0].post.bias)).toEqual([0.1, 0.2]);
  });

  it('never makes an ON level negative (a leak above the ON level gives alpha 0)', () => {
    const out = applyCorrections(twoByTwo(), [correction(0, { onLevel: 0.1, offLeak: 0.3 })]);
    expect(out.blocks[0].cell.alpha[0]).toBe(0);
  });
});

describe('applyLogitCorrections', () => {
  it('scales classifier row c by its gain and sets its bias to b gain + offset', () => {
    const out = applyLogitCorrections(twoByTwo(), [
      { gain: 2, offset: 1 },
      { gain: 0.5, offset: 0 },
    ]);
    expect(Array.from(out.out.weight.data)).toEqual([2, 4, 1.5, 2]);
    expect(Array.from(out.out.bias)).toEqual([2, -0.5]);
  });
});

describe('fitLogitCorrections', () => {
  it('fits each class on its own logits (frames interleaved by class)', () => {
    // class 0: y = 2x + 1 on x = 1, 2, 3; class 1: y = 0.5x - 1 on x = 0, 1, 2
    const sw = trace(3, [], [], [1, 0, 2, 1, 3, 2]);
    const fits = fitLogitCorrections(twoByTwo(), sw, Float64Array.of(3, -1, 5, -0.5, 7, 0));
    expect(fits[0].gain).toBeCloseTo(2, 12);
    expect(fits[0].offset).toBeCloseTo(1, 12);
    expect(fits[1].gain).toBeCloseTo(0.5, 12);
    expect(fits[1].offset).toBeCloseTo(-1, 12);
  });

  it('is a pure offset when the model logit does not vary, and no correction with no frames', () => {
    const flat = fitLogitCorrections(twoByTwo(), trace(2, [], [], [2, 1, 2, 1]), Float64Array.of(5, 1, 5, 1));
    expect(flat).toEqual([
      { gain: 1, offset: 3 },
      { gain: 1, offset: 0 },
    ]);
    expect(fitLogitCorrections(twoByTwo(), trace(0, [], [], []), new Float64Array(0))).toEqual([
      { gain: 1, offset: 0 },
      { gain: 1, offset: 0 },
    ]);
  });
});

describe('fitCorrections: how many frames a fit needs', () => {
  // One cell that stays OFF (thresholds far above the candidate), candidate = (x0 - x1) + 0.5.
  const net = kneeNetwork(0.5, 10, 20);
  const clip = (diffs: number[]): InputSequence => ({
    frames: diffs.length,
    features: 2,
    data: Float64Array.from(diffs.flatMap((d) => [d, 0])),
  });
  /** The circuit: candidates 2c + 1 of the model's c, OFF throughout, drawing 0.1 units. */
  const circuit = (diffs: number[]) => ({
    frames: diffs.length,
    candidates: [Float64Array.from(diffs, (d) => 2 * (d + 0.5) + 1)],
    stateCurrents: [Float64Array.from(diffs, () => 0.1)],
    states: [new Uint8Array(diffs.length)],
  });

  it('fits the candidate line and the OFF leak from 3 frames', () => {
    const [c] = fitCorrections(net, clip([1, 2, 3]), circuit([1, 2, 3]));
    expect(c.candidateGain).toBeCloseTo(2, 12);
    expect(c.candidateOffset).toBeCloseTo(1, 12);
    expect(c.offLeak).toBeCloseTo(0.1, 12);
    expect(c.onLevel).toBe(1); // never ON: the model's own alpha
  });

  it("keeps the model's own values from 2 frames", () => {
    expect(fitCorrections(net, clip([1, 2]), circuit([1, 2]))).toEqual([
      { block: 0, unit: 0, candidateGain: 1, candidateOffset: 0, onLevel: 1, offLeak: 0 },
    ]);
  });
});

describe('modelFit', () => {
  it('averages state agreement, candidate, state current (with the leak of the right cell) and logit errors', () => {
    // 2 frames x 2 cells. States: model [1 0 | 0 0], circuit [1 1 | 0 0]: 3 of 4 agree.
    const sw = trace(2, [1, 2, 3, 4], [1, 0, 0, 0], [1, 2, 3, 4]);
    const circuit = {
      frames: 2,
      candidates: [Float64Array.of(1.5, 2, 3, 3)], // |error| 0.5 + 0 + 0 + 1
      states: [Uint8Array.of(1, 1, 0, 0)],
      // model state currents: leak_j + alpha_j s = 0.1 + 1, 0.25 + 0, 0.1, 0.25; |error| 0.1 + 0 + 0.2 + 0
      stateCurrents: [Float64Array.of(1.0, 0.25, 0.3, 0.25)],
      logits: Float64Array.of(1, 1, 4, 4), // |error| 0 + 1 + 1 + 0
    };
    // A correction of another block for unit 0 comes first: only block 0's count here.
    const leak = [
      { ...correction(0, { offLeak: 5 }), block: 1 },
      correction(0, { offLeak: 0.1 }),
      correction(1, { offLeak: 0.25 }),
    ];
    const fit = modelFit(twoByTwo(), sw, circuit, leak);
    expect(fit.stateAgreement).toBe(0.75);
    expect(fit.candidateMAE).toBeCloseTo(1.5 / 4, 12);
    expect(fit.stateCurrentMAE).toBeCloseTo(0.3 / 4, 12);
    expect(fit.logitMAE).toBeCloseTo(2 / 4, 12);
  });
});

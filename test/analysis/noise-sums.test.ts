/**
 * The noise-immunity metric (analysis/noise.ts) on cases worked out by hand: two cells whose every discrepancy,
 * margin and switching frame is written below, draws pooled by hand, candidate noise whose effect on a hysteretic
 * cell is traced frame by frame, and additive noise whose mean discrepancy is a half-normal mean.
 */
import { describe, expect, it } from 'vitest';
import {
  boundaryDiscrepancy,
  mergeDraws,
  perturbNetwork,
  runWithCandidateNoise,
  softwareNoise,
  type BoundaryFrames,
  type BoundaryNoise,
} from '../../src/analysis/noise.js';
import { MARGIN_CLASS_NAMES, type MarginClass } from '../../src/compare/metrics.js';
import { randomNetwork } from '../../src/model/random.js';
import type { Network } from '../../src/model/types.js';
import { createRng } from '../../src/util/random.js';
import { linear, oneCellNetwork } from '../networks.js';

/**
 * One input copied to two cells, candidate c_j = ReLU(candWeight x), cell 0 with thresholds 1 / 1.5 and alpha 1,
 * cell 1 with 2 / 3 and alpha 2; both start OFF.
 */
function twoCells(candWeight = 1): Network {
  return {
    ...oneCellNetwork({ betaLo: 1, delta: 0.5 }),
    width: 2,
    cells: 2,
    pre: linear(2, 1, [1, 1], [0, 0]),
    blocks: [
      {
        cand: linear(2, 2, [candWeight, 0, 0, candWeight], [0, 0]),
        cell: {
          alpha: Float64Array.of(1, 2),
          beta1: Float64Array.of(1, 2),
          delta: Float64Array.of(0.5, 1),
          s0: Float64Array.of(0, 0),
        },
        post: linear(2, 2, [1, 0, 0, 1], [0, 0]),
      },
    ],
    out: linear(2, 2, [1, -1, -1, 1], [0, 0]),
  };
}

/** Boundary values of one block from per-frame rows (each row one value per cell); state currents alpha s. */
function frames(c: number[][], s: number[][], alpha: number[]): BoundaryFrames {
  return {
    frames: c.length,
    candidates: [Float64Array.from(c.flat())],
    states: [Uint8Array.from(s.flat())],
    stateCurrents: [Float64Array.from(s.flatMap((row) => row.map((v, j) => alpha[j] * v)))],
  };
}

const bins = (b: BoundaryNoise) => MARGIN_CLASS_NAMES.map((m) => [m, b.byMargin[m].unitFrames, b.byMargin[m].flips]);

describe('boundaryDiscrepancy on two cells', () => {
  // Frame by frame, (cell 0, cell 1); cell 0 thresholds 1 / 1.5, alpha 1; cell 1 thresholds 2 / 3, alpha 2.
  //   reference candidates (1.02, 2.06), (1.25, 3.5), (2.0, 3.5); states (0, 0), (0, 1), (1, 1)
  //   disturbed candidates (1.12, 2.06), (1.25, 3.1), (2.3, 3.3); states (0, 1), (1, 1), (1, 1)
  // |dc|: cell 0 0.1, 0, 0.3; cell 1 0, 0.4, 0.2.  |d alpha s|: cell 0 0, 1, 0; cell 1 2, 0, 0.
  // Switching (reference state differs from the previous one, s0 = 0 before frame 0): cell 0 at frame 2, cell 1 at 1.
  // Margins to the nearest threshold, relative to it: 1.02 -> 0.02/1; 2.06 -> 0.06/2 = 3%; 1.25 is as far from 1 as
  // from 1.5 and takes 1.5: 0.25/1.5 = 16.7%; 3.5 -> 0.5/3 = 16.7% (twice); 2.0 -> 0.5/1.5 = 33%.
  const ref = frames(
    [
      [1.02, 2.06],
      [1.25, 3.5],
      [2.0, 3.5],
    ],
    [
      [0, 0],
      [0, 1],
      [1, 1],
    ],
    [1, 2],
  );
  const test = frames(
    [
      [1.12, 2.06],
      [1.25, 3.1],
      [2.3, 3.3],
    ],
    [
      [0, 1],
      [1, 1],
      [1, 1],
    ],
    [1, 2],
  );

  it('pools the unit-frames of both cells, and splits off the switching ones', () => {
    const [b] = boundaryDiscrepancy(twoCells(), ref, test);
    expect(b.unitFrames).toBe(6);
    expect(b.switchingUnitFrames).toBe(2);
    expect(b.candidateMAE).toBeCloseTo(1.0 / 6, 12);
    expect(b.stateMAE).toBeCloseTo(3 / 6, 12);
    expect(b.ratio).toBeCloseTo(1 / 3, 12);
    // Stable: cell 0 frames 0, 1 and cell 1 frames 0, 2: |dc| 0.1 + 0 + 0 + 0.2, |d alpha s| 0 + 1 + 2 + 0.
    expect(b.candidateMAEStable).toBeCloseTo(0.3 / 4, 12);
    expect(b.stateMAEStable).toBeCloseTo(3 / 4, 12);
    expect(b.ratioStable).toBeCloseTo(0.1, 12);
    // One flip per cell, each worth its alpha: (1 + 2) / 6.
    expect(b.flips).toBe(2);
    expect(b.flipMAE).toBeCloseTo(0.5, 12);
    expect(b.ratioFlips).toBeCloseTo(1 / 3, 12);
  });

  it('gives each cell its own means over the frames and its own flips', () => {
    const [b] = boundaryDiscrepancy(twoCells(), ref, test);
    expect(b.cells.map((c) => [c.unit, c.candidateMAE, c.stateMAE, c.flips])).toEqual([
      [0, expect.closeTo(0.4 / 3, 12), expect.closeTo(1 / 3, 12), 1],
      [1, expect.closeTo(0.6 / 3, 12), expect.closeTo(2 / 3, 12), 1],
    ]);
  });

  it('bins unit-frames by the margin to the nearer threshold, relative to that threshold (a tie takes the upper)', () => {
    const [b] = boundaryDiscrepancy(twoCells(), ref, test);
    // 1-5%: 1.02 and 2.06 (the latter flipped); 5-20%: 1.25 (flipped), 3.5, 3.5; >=20%: 2.0.
    expect(bins(b)).toEqual([
      ['<1%', 0, 0],
      ['1-5%', 2, 1],
      ['5-20%', 3, 1],
      ['>=20%', 1, 0],
    ]);
  });

  it('measures the margin in units when the nearer threshold is 0', () => {
    // Thresholds 0 / 1: a candidate of 0.003 is 0.003 from the lower one, 0.3% of a unit.
    const net = oneCellNetwork({ betaLo: 0, delta: 1 });
    const one = frames([[0.003]], [[0]], [1]);
    const [b] = boundaryDiscrepancy(net, one, one);
    expect(bins(b)).toEqual([
      ['<1%', 1, 0],
      ['1-5%', 0, 0],
      ['5-20%', 0, 0],
      ['>=20%', 0, 0],
    ]);
  });

  it('reports no stable unit-frames as means of 0, and an exact output as an unbounded ratio', () => {
    // One cell, OFF at s0, switching ON then OFF: both unit-frames switch. The disturbed run has the same states.
    const net = oneCellNetwork({ betaLo: 1, delta: 0.5 });
    const refRun = frames([[2], [0]], [[1], [0]], [1]);
    const [b] = boundaryDiscrepancy(net, refRun, frames([[2.5], [0.5]], [[1], [0]], [1]));
    expect(b.switchingUnitFrames).toBe(2);
    expect(b.candidateMAEStable).toBe(0);
    expect(b.stateMAEStable).toBe(0);
    expect(b.ratioStable).toBe(Infinity); // 0 / 0 here: nothing at the input either, but nothing at the output
    expect(b.candidateMAE).toBeCloseTo(0.5, 12);
    expect(b.ratio).toBe(Infinity);
    // A run against itself: no discrepancy anywhere, and every ratio unbounded rather than 0 / 0.
    const [same] = boundaryDiscrepancy(net, refRun, refRun);
    expect([same.ratio, same.ratioStable, same.ratioFlips]).toEqual([Infinity, Infinity, Infinity]);
  });
});

describe('mergeDraws', () => {
  const zeroBins = (): Record<MarginClass, { unitFrames: number; flips: number }> =>
    Object.fromEntries(MARGIN_CLASS_NAMES.map((m) => [m, { unitFrames: 0, flips: 0 }])) as Record<
      MarginClass,
      { unitFrames: number; flips: number }
    >;
  const row = (r: Partial<BoundaryNoise>): BoundaryNoise => ({
    block: 0,
    unitFrames: 0,
    switchingUnitFrames: 0,
    candidateMAE: 0,
    stateMAE: 0,
    ratio: Infinity,
    candidateMAEStable: 0,
    stateMAEStable: 0,
    ratioStable: Infinity,
    flips: 0,
    flipMAE: 0,
    ratioFlips: Infinity,
    cells: [],
    byMargin: zeroBins(),
    ...r,
  });
  // Draw A: 4 unit-frames, 2 switching; sums: input 1, output 1, stable input 0.6 and output 1 (over 2), flips 1 worth 1.
  const a = row({
    unitFrames: 4,
    switchingUnitFrames: 2,
    candidateMAE: 0.25,
    stateMAE: 0.25,
    candidateMAEStable: 0.3,
    stateMAEStable: 0.5,
    flips: 1,
    flipMAE: 0.25,
    cells: [{ unit: 0, candidateMAE: 0.25, stateMAE: 0.25, flips: 1 }],
    byMargin: { ...zeroBins(), '1-5%': { unitFrames: 4, flips: 1 } },
  });
  // Draw B: 6 unit-frames, 1 switching; sums: input 3, output 0, stable input 2 (over 5), no flips.
  const b = row({
    unitFrames: 6,
    switchingUnitFrames: 1,
    candidateMAE: 0.5,
    candidateMAEStable: 0.4,
    cells: [{ unit: 0, candidateMAE: 0.5, stateMAE: 0, flips: 0 }],
    byMargin: { ...zeroBins(), '1-5%': { unitFrames: 2, flips: 0 }, '>=20%': { unitFrames: 4, flips: 0 } },
  });

  it('pools two draws as one run of their unit-frames together', () => {
    const [m] = mergeDraws([[a], [b]]);
    expect(m.unitFrames).toBe(10);
    expect(m.switchingUnitFrames).toBe(3);
    expect(m.candidateMAE).toBeCloseTo(4 / 10, 12); // (1 + 3) / 10
    expect(m.stateMAE).toBeCloseTo(1 / 10, 12);
    expect(m.ratio).toBeCloseTo(4, 12);
    expect(m.candidateMAEStable).toBeCloseTo(2.6 / 7, 12); // (0.6 + 2) over 2 + 5 stable
    expect(m.stateMAEStable).toBeCloseTo(1 / 7, 12);
    expect(m.ratioStable).toBeCloseTo(2.6, 12);
    expect(m.flips).toBe(1);
    expect(m.flipMAE).toBeCloseTo(1 / 10, 12);
    expect(m.ratioFlips).toBeCloseTo(4, 12);
    // Per cell: the draws' means averaged (each draw is one run of the clip), flips summed.
    expect(m.cells).toEqual([{ unit: 0, candidateMAE: expect.closeTo(0.375, 12), stateMAE: 0.125, flips: 1 }]);
    expect(bins(m)).toEqual([
      ['<1%', 0, 0],
      ['1-5%', 6, 1],
      ['5-20%', 0, 0],
      ['>=20%', 4, 0],
    ]);
  });
});

describe('runWithCandidateNoise', () => {
  it('adds the noise to the candidate before the cell: a positive kick latches a hysteretic cell ON', () => {
    // Thresholds 1 / 1.5, x = 1.2 every frame (between them: the cell holds). Noise +0.6, 0, -0.5, 0:
    // candidates 1.8 (ON), 1.2 (holds ON), 0.7 (OFF), 1.2 (holds OFF). The classifier votes class 0 when ON.
    const net = oneCellNetwork({ betaLo: 1, delta: 0.5 });
    const inputs = { frames: 4, features: 1, data: Float64Array.of(1.2, 1.2, 1.2, 1.2) };
    const tr = runWithCandidateNoise(net, inputs, [Float64Array.of(0.6, 0, -0.5, 0)]);
    expect(Array.from(tr.candidates[0])).toEqual([1.8, 1.2, 0.7, 1.2].map((v) => expect.closeTo(v, 12)));
    expect(Array.from(tr.states[0])).toEqual([1, 1, 0, 0]);
    expect(Array.from(tr.votes)).toEqual([0, 0, 1, 1]);
  });
});

describe('softwareNoise disturbances', () => {
  // Two cells driven to 10 units or 0, far from their thresholds (1 / 1.5 and 2 / 3): nothing flips.
  const net = twoCells(10);
  const alternating = { frames: 200, features: 1, data: Float64Array.from({ length: 200 }, (_, t) => (t + 1) % 2) };
  const level = 0.15;
  const sigma = level / 3;

  it('with both disturbances off is the clean run: no discrepancy, every unit-frame of every draw counted', () => {
    const [b] = softwareNoise(net, alternating, { level, seed: 4, draws: 3, parameters: false, candidates: false });
    expect(b.unitFrames).toBe(3 * 200 * 2);
    expect([b.candidateMAE, b.stateMAE, b.flips]).toEqual([0, 0, 0]);
  });

  it('additive candidate noise alone: the mean |dc| is the half-normal mean, half of it where the ReLU clips', () => {
    // On x = 1 frames c = 10 + n, so |dc| = |n|, mean sigma sqrt(2/pi); on x = 0 frames c = ReLU(n), so |dc| =
    // max(n, 0), mean sigma / sqrt(2 pi). Half the frames each: sigma (sqrt(2/pi) + 1/sqrt(2 pi)) / 2 = 0.598 sigma.
    // 2000 unit-frames: the standard error is about 0.6 sigma / sqrt(2000), 2.2% of that mean (seed 4 lands 4% high).
    const [b] = softwareNoise(net, alternating, { level, seed: 4, draws: 5, parameters: false });
    const expected = (sigma * (Math.sqrt(2 / Math.PI) + 1 / Math.sqrt(2 * Math.PI))) / 2;
    expect(b.unitFrames).toBe(5 * 200 * 2);
    expect(b.candidateMAE / expected).toBeGreaterThan(0.9);
    expect(b.candidateMAE / expected).toBeLessThan(1.1);
    expect(b.flips).toBe(0);
    expect(b.stateMAE).toBe(0); // the parameters (alpha among them) are exact
  });

  it('parameter noise alone moves the ON candidates and the ON levels, and leaves the OFF frames exact', () => {
    // Biases are 0 and stay 0 under p (1 + N): on x = 0 frames every candidate is exactly 0, so all the input
    // discrepancy comes from the x = 1 frames, where c = 10 (1 + e_pre)(1 + e_cand).
    const [b] = softwareNoise(net, alternating, { level, seed: 4, draws: 5, candidates: false });
    expect(b.candidateMAE).toBeGreaterThan(0);
    expect(b.stateMAE).toBeGreaterThan(0);
    expect(b.flips).toBe(0);
  });
});

describe('perturbNetwork', () => {
  it('scales each parameter by 1 + N(0, sigma): a sigma above and below in 15.9% of parameters each', () => {
    // Under p / (1 + N) instead, the two tails would hold 22% (N < -1/(1 + sigma)) and 7.7% (N > 1/(1 - sigma)).
    const net = randomNetwork({ inputs: 13, width: 64, blocks: 2, classes: 2, seed: 9 });
    const sigma = 0.3;
    const p = perturbNetwork(net, sigma, createRng(5));
    const before = net.blocks.flatMap((b) => Array.from(b.cand.weight.data));
    const after = p.blocks.flatMap((b) => Array.from(b.cand.weight.data));
    const z = after.map((v, i) => (v / before[i] - 1) / sigma);
    // Normal tail P(N > 1) = 0.1587; with 8192 weights its standard error is 0.4%.
    expect(Math.abs(z.filter((v) => v > 1).length / z.length - 0.1587)).toBeLessThan(0.02);
    expect(Math.abs(z.filter((v) => v < -1).length / z.length - 0.1587)).toBeLessThan(0.02);
  });
});

/**
 * Software Monte Carlo flips at the rate the normal distribution says: one cell whose candidate sits just above
 * its threshold, with one parameter drawn. A Monte Carlo that never perturbs (or never reports a flip) would
 * print "0/N flips" for any network; this case has a known non-zero rate.
 */
import { describe, expect, it } from 'vitest';
import { decisionFlipRate, softwareMonteCarlo, type ParamRef } from '../../src/analysis/montecarlo.js';
import { runNetwork, type InputSequence } from '../../src/model/network.js';
import type { Network } from '../../src/model/types.js';
import { oneCellNetwork } from '../networks.js';

/**
 * Input 1 -> pre (x1) -> candidate = w * 1 -> one cell (beta_lo 0.5, beta_hi 1.0, alpha 1, starting OFF) ->
 * classifier: class 0 wins when the cell is ON (logits 0.5 vs -0.5), class 1 when it is OFF.
 */
function oneCell(w: number): Network {
  return oneCellNetwork({ candWeight: w, betaLo: 0.5, delta: 0.5 });
}
const ONE_FRAME: InputSequence = { frames: 1, features: 1, data: Float64Array.of(1) };
/** The candidate weight, drawn as w (1 + sigma N(0, 1)). */
const candWeight = (sigma: number): ParamRef => ({
  name: 'blocks.0.cand.weight[0]',
  get: (n) => n.blocks[0].cand.weight.data,
  index: 0,
  sigma,
});

const DRAWS = 4000;

describe('softwareMonteCarlo', () => {
  it('flips a cell 1 sigma above its threshold in 15.87% of draws (P(N < -1)), state and decision alike', () => {
    // w = 1.01, beta_hi = 1: the cell stays ON while 1.01 (1 + sigma N) >= 1, i.e. N >= -(0.01 / 1.01) / sigma = -1.
    const net = oneCell(1.01);
    expect(runNetwork(net, ONE_FRAME).states[0][0]).toBe(1);
    const r = softwareMonteCarlo(net, ONE_FRAME, [candWeight(0.01 / 1.01)], DRAWS, 7);
    const flips = r.filter((d) => d.decisionFlip).length / DRAWS;
    // Binomial sd at p = 0.1587 over 4000 draws: 0.0058; allow 4 sd.
    expect(flips).toBeGreaterThan(0.1587 - 0.023);
    expect(flips).toBeLessThan(0.1587 + 0.023);
    // One unit-frame: a draw either agrees fully or not at all, and then its decision flips with it.
    for (const d of r) expect(d.stateAgreement).toBe(d.decisionFlip ? 0 : 1);
  });

  it('flips at 50% when the candidate sits exactly at the threshold, and never when it is 3x above it', () => {
    const atThreshold = softwareMonteCarlo(oneCell(1), ONE_FRAME, [candWeight(0.05)], DRAWS, 8);
    const rate = atThreshold.filter((d) => d.decisionFlip).length / DRAWS;
    expect(rate).toBeGreaterThan(0.5 - 0.032); // sd 0.0079
    expect(rate).toBeLessThan(0.5 + 0.032);
    // At w = 3 a flip needs N < -(2/3) / 0.05 = -13.3: never in 4000 draws.
    const far = softwareMonteCarlo(oneCell(3), ONE_FRAME, [candWeight(0.05)], DRAWS, 9);
    expect(far.filter((d) => d.decisionFlip || d.stateAgreement !== 1)).toEqual([]);
  });

  it('draws p (1 + sigma N), not p / (1 + sigma N): at sigma 50% a weight of 2 flips in 15.87% of draws', () => {
    // w = 2, beta_hi = 1: OFF when 2 (1 + 0.5 N) < 1, i.e. N < -1: 15.87%. Drawn as 2 / (1 + 0.5 N) the cell
    // would be OFF for N > 2 or N < -2 (a negative candidate is cut to 0): 4.55%, 19 sd away.
    const r = softwareMonteCarlo(oneCell(2), ONE_FRAME, [candWeight(0.5)], DRAWS, 10);
    const flips = r.filter((d) => d.decisionFlip).length / DRAWS;
    expect(flips).toBeGreaterThan(0.1587 - 0.023); // sd 0.0058, 4 sd
    expect(flips).toBeLessThan(0.1587 + 0.023);
  });

  it('reports the fraction of unit-frames that agree: 3 of 4 when only the first frame flips', () => {
    // Inputs 1, 2, 2, 2 with w = 1.01: ON in every frame. A draw with w < 1 (N < -1, 15.87%) leaves frame 0 OFF,
    // and 2w >= beta_hi turns the cell ON from frame 1 on: agreement 3/4, and 3 of 4 votes keep the decision.
    const frames: InputSequence = { frames: 4, features: 1, data: Float64Array.of(1, 2, 2, 2) };
    const r = softwareMonteCarlo(oneCell(1.01), frames, [candWeight(0.01 / 1.01)], DRAWS, 11);
    expect(r.filter((d) => d.decisionFlip || (d.stateAgreement !== 1 && d.stateAgreement !== 0.75))).toEqual([]);
    const partial = r.filter((d) => d.stateAgreement === 0.75).length / DRAWS;
    expect(partial).toBeGreaterThan(0.1587 - 0.023); // sd 0.0058, 4 sd
    expect(partial).toBeLessThan(0.1587 + 0.023);
  });
});

describe('decisionFlipRate', () => {
  const clip = (x: number): InputSequence => ({ frames: 1, features: 1, data: Float64Array.of(x) });

  it('flips a clip 1 sigma above its threshold on 15.87% of chips (P(N < -1))', () => {
    const rate = decisionFlipRate(oneCell(1.01), [clip(1)], [candWeight(0.01 / 1.01)], DRAWS, 7);
    expect(rate).toBeGreaterThan(0.1587 - 0.023); // binomial sd 0.0058 over 4000 chips, 4 sd
    expect(rate).toBeLessThan(0.1587 + 0.023);
  });

  it('draws each chip once for every clip: a clip that cannot flip beside one that can halves the rate exactly', () => {
    // Input 3: candidate 3.03, a flip needs N < -(2.03 / 3.03) / (0.01 / 1.01) = -68. Per-clip draws would use
    // other normals for the first clip and not give exactly half.
    const refs = [candWeight(0.01 / 1.01)];
    const alone = decisionFlipRate(oneCell(1.01), [clip(1)], refs, 500, 3);
    expect(alone).toBeGreaterThan(0);
    expect(decisionFlipRate(oneCell(1.01), [clip(1), clip(3)], refs, 500, 3)).toBe(alone / 2);
    expect(decisionFlipRate(oneCell(1.01), [clip(1), clip(1)], refs, 500, 3)).toBe(alone);
  });

  it('is 0 without draws, without clips, and with sigma 0', () => {
    const refs = [candWeight(0.01 / 1.01)];
    expect(decisionFlipRate(oneCell(1.01), [clip(1)], refs, 0, 1)).toBe(0);
    expect(decisionFlipRate(oneCell(1.01), [], refs, 10, 1)).toBe(0);
    expect(decisionFlipRate(oneCell(1), [clip(1)], [candWeight(0)], 100, 1)).toBe(0);
  });
});

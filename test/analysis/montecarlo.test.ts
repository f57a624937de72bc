/**
 * The software side of the Monte Carlo study (src/analysis/montecarlo.ts): per-sample seeds, the sigma each
 * parameter is given, and the one-at-a-time sensitivity ranking. Expectations are worked by hand on one-cell
 * networks (test/networks.ts) or come from a second implementation (the seed hash in BigInt arithmetic).
 */
import { describe, expect, it } from 'vitest';
import {
  mirrorSigmas,
  parameterSigmas,
  sampleSeed,
  sensitivity,
  type ParamRef,
} from '../../src/analysis/montecarlo.js';
import type { InputSequence } from '../../src/model/network.js';
import type { Network } from '../../src/model/types.js';
import type { Process } from '../../src/netlist/process.js';
import { loadKit } from '../circuit/kits.js';
import { oneCellNetwork } from '../networks.js';

const U32 = 2n ** 32n;
/**
 * sampleSeed as its comment specifies it, in BigInt arithmetic modulo 2^32 rather than Math.imul and `>>>`:
 * the counter (campaign ^ golden ratio) * 0x85ebca6b + index, then Wellons' "lowbias32" finaliser.
 */
function referenceSeed(campaign: number, index: number): number {
  const mul = (a: bigint, b: bigint) => (a * b) % U32;
  let h = (mul(BigInt(campaign >>> 0) ^ 0x9e3779b9n, 0x85ebca6bn) + BigInt(index)) % U32;
  h = mul(h ^ (h >> 16n), 0x7feb352dn);
  h = mul(h ^ (h >> 15n), 0x846ca68bn);
  return Number(h ^ (h >> 16n));
}

describe('sampleSeed', () => {
  it('is the specified hash of (campaign, index), so seeds recorded by an earlier run stay reproducible', () => {
    for (const [campaign, index] of [
      [1, 1],
      [1, 7],
      [2, 5],
      [0, 1000],
      [0xffffffff, 3],
      [12345, 0xfffffffe],
    ]) {
      expect(sampleSeed(campaign, index), `campaign ${campaign}, index ${index}`).toBe(referenceSeed(campaign, index));
    }
  });
});

/** Per-device sigma of gain of a W x L device on a process with A_VT `avtMvUm`, A_beta `abetaPctUm` (Pelgrom). */
const deviceSigma = (avtMvUm: number, abetaPctUm: number, areaUm2: number) =>
  Math.hypot(avtMvUm / Math.sqrt(areaUm2) / (1.45 * 25.85), (abetaPctUm * 1e-2) / Math.sqrt(areaUm2));

describe('mirrorSigmas', () => {
  it('takes the worse polarity for a weight, whichever it is', async () => {
    const { process: c180 } = await loadKit('c180');
    // c180's unit mirror: 2u x 8u reference and copy (16 um^2 each), A_beta 1 %um on both polarities.
    const withAvt = (n: number, p: number): Process => ({
      ...c180,
      mismatch: { n: { avtMvUm: n, abetaPctUm: 1 }, p: { avtMvUm: p, abetaPctUm: 1 } },
    });
    const unity = (avt: number) => Math.SQRT2 * deviceSigma(avt, 1, 16);
    expect(mirrorSigmas(withAvt(4.1, 8.2)).unity).toBeCloseTo(unity(8.2), 9);
    expect(mirrorSigmas(withAvt(8.2, 4.1)).unity).toBeCloseTo(unity(8.2), 9);
    expect(mirrorSigmas(withAvt(8.2, 4.1)).weight(1)).toBeCloseTo(unity(8.2), 9);
  });
});

/** A second block unlike the first, so a ref that reads the wrong block shows. */
function twoBlocks(): Network {
  const a = oneCellNetwork({
    candWeight: 0.25,
    betaLo: 0.5,
    delta: 0.5,
    out: { weight: [1, -0.25], bias: [-0.5, 0.5] },
  });
  const b = oneCellNetwork({ candWeight: 0.5, betaLo: 0.3, delta: 0.2, alpha: 2 }).blocks[0];
  return { ...a, blocks: [a.blocks[0], b] };
}

describe('parameterSigmas', () => {
  it('names every weight, bias and cell parameter in order, reads it back, and gives it the sigma of its mirror', async () => {
    const { process } = await loadKit('c180');
    // c180 (A_VT 4.1 mV um, A_beta 1 %um both polarities), unit mirror 2u x 8u: a unity mirror is two such
    // devices; |w| = 0.25 is a 0.5u x 8u copy (4 um^2), |w| = 0.5 a 1u x 8u copy (8 um^2); a threshold is the
    // ratio of two unity copies (two unity mirrors: sqrt 2 x unity).
    const unit = deviceSigma(4.1, 1, 16);
    const U = Math.SQRT2 * unit;
    const T = 2 * unit;
    const W025 = Math.hypot(unit, deviceSigma(4.1, 1, 4));
    const W05 = Math.hypot(unit, deviceSigma(4.1, 1, 8));
    const expected: [string, number, number][] = [
      ['pre.weight[0]', 1, U],
      ['pre.bias[0]', 0, U],
      ['blocks.0.cand.weight[0]', 0.25, W025],
      ['blocks.0.cand.bias[0]', 0, U],
      ['blocks.0.cell.alpha[0]', 1, U],
      ['blocks.0.cell.beta1[0]', 0.5, T],
      ['blocks.0.cell.delta[0]', 0.5, T],
      ['blocks.0.post.weight[0]', 1, U],
      ['blocks.0.post.bias[0]', 0, U],
      ['blocks.1.cand.weight[0]', 0.5, W05],
      ['blocks.1.cand.bias[0]', 0, U],
      ['blocks.1.cell.alpha[0]', 2, U],
      ['blocks.1.cell.beta1[0]', 0.3, T],
      ['blocks.1.cell.delta[0]', 0.2, T],
      ['blocks.1.post.weight[0]', 1, U],
      ['blocks.1.post.bias[0]', 0, U],
      ['out.weight[0]', 1, U],
      ['out.weight[1]', -0.25, W025],
      ['out.bias[0]', -0.5, U],
      ['out.bias[1]', 0.5, U],
    ];
    const net = twoBlocks();
    const refs = parameterSigmas(net, process);
    expect(refs.map((r) => r.name)).toEqual(expected.map(([name]) => name));
    refs.forEach((r, i) => {
      const [name, value, sigma] = expected[i];
      expect(r.get(net)[r.index], name).toBe(value);
      expect(r.sigma, name).toBeCloseTo(sigma, 9);
    });
    // The refs address the network they are given, not the one they were built from.
    const other = twoBlocks();
    other.blocks[1].cell.beta1[0] = 0.7;
    expect(refs.find((r) => r.name === 'blocks.1.cell.beta1[0]')?.get(other)[0]).toBe(0.7);
  });
});

/** The candidate weight of a one-cell network, moved by sigma; named after sigma so the ranking is readable. */
const candWeight = (sigma: number): ParamRef => ({
  name: `w ${sigma}`,
  get: (n) => n.blocks[0].cand.weight.data,
  index: 0,
  sigma,
});
const frames = (...x: number[]): InputSequence => ({ frames: x.length, features: 1, data: Float64Array.from(x) });

describe('sensitivity', () => {
  it('counts the unit-frames each of +-1 sigma changes, notes decision changes, and ranks by changes', () => {
    // One cell (beta_lo 0.5, beta_hi 1, starts OFF), candidate = w x input with w = 1; ON votes class 0, OFF
    // class 1. Inputs 0.99, 0, 1.02, 0: nominal states OFF, OFF, ON, OFF (votes 1, 1, 0, 1: class 1).
    // sigma 0.5%: 0.99 x 1.005 < 1 and 1.02 x 0.995 >= 1: nothing changes.
    // sigma 1.5%: +: 0.99 x 1.015 = 1.005 turns frame 0 ON (votes 0, 1, 0, 1: a tie, class 0: the decision
    //   changes); -: 1.02 x 0.985 = 1.005 still ON.
    // sigma 2.5%: + as above; -: 1.02 x 0.975 = 0.9945 holds frame 2 OFF (class 1 throughout: no change).
    // The same ranking whatever order the refs come in (two orders: a comparator that mis-weighs the -1 sigma
    // changes misplaces one or the other).
    const net = oneCellNetwork({ candWeight: 1, betaLo: 0.5, delta: 0.5 });
    const ranked = [
      { parameter: 'w 0.025', sigma: 0.025, changesUp: 1, changesDown: 1, decisionChanges: true },
      { parameter: 'w 0.015', sigma: 0.015, changesUp: 1, changesDown: 0, decisionChanges: true },
      { parameter: 'w 0.005', sigma: 0.005, changesUp: 0, changesDown: 0, decisionChanges: false },
    ];
    for (const sigmas of [
      [0.005, 0.015, 0.025],
      [0.025, 0.005, 0.015],
    ]) {
      expect(sensitivity(net, frames(0.99, 0, 1.02, 0), sigmas.map(candWeight)), `${sigmas}`).toEqual(ranked);
    }
    expect(net.blocks[0].cand.weight.data[0]).toBe(1); // moved on a copy
  });

  it('notes a decision that changes at -1 sigma only', () => {
    // w = 1.01 on one frame of input 1: ON (class 0); -2%: 0.9898 < beta_hi, OFF (class 1); +2% stays ON.
    const net = oneCellNetwork({ candWeight: 1.01, betaLo: 0.5, delta: 0.5 });
    expect(sensitivity(net, frames(1), [candWeight(0.02)])).toEqual([
      { parameter: 'w 0.02', sigma: 0.02, changesUp: 0, changesDown: 1, decisionChanges: true },
    ]);
  });
});

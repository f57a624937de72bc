import { describe, expect, it } from 'vitest';
import {
  boundaryDiscrepancy,
  perturbNetwork,
  runWithCandidateNoise,
  softwareNoise,
  NOISE_LEVELS,
  type BoundaryFrames,
} from '../../src/analysis/noise.js';
import { runNetwork, type InputSequence } from '../../src/model/network.js';
import { randomInputs, randomNetwork } from '../../src/model/random.js';
import type { Network } from '../../src/model/types.js';
import { addSourceNoise, noisyWaveform } from '../../src/netlist/noise.js';
import type { Element } from '../../src/netlist/elements.js';
import { createRng } from '../../src/util/random.js';
import { oneCellNetwork } from '../networks.js';

/** One input, one cell: candidate = ReLU(scale * x), thresholds 1.0 / 1.5, alpha 1. */
function oneCell(scale: number): Network {
  return oneCellNetwork({ candWeight: scale, betaLo: 1, delta: 0.5 });
}
/** Alternating frames x = 1, 0, 1, 0, ... */
const alternating = (frames: number): InputSequence => ({
  frames,
  features: 1,
  data: Float64Array.from({ length: frames }, (_, t) => (t % 2 === 0 ? 1 : 0)),
});

describe('software noise injection', () => {
  it('with zero noise reproduces the reference loop exactly (2 and 3 classes)', () => {
    for (const { inputs, classes, seed, frames } of [
      { inputs: 13, classes: 2, seed: 5, frames: 30 },
      { inputs: 5, classes: 3, seed: 11, frames: 20 },
    ]) {
      const net = randomNetwork({ inputs, width: 4, blocks: 2, classes, seed });
      const x = randomInputs(frames, inputs, seed);
      const ref = runNetwork(net, x);
      const got = runWithCandidateNoise(
        net,
        x,
        net.blocks.map(() => new Float64Array(frames * net.cells)),
      );
      expect(got.states).toEqual(ref.states);
      expect(got.candidates).toEqual(ref.candidates);
      expect(got.logits).toEqual(ref.logits);
      expect(got.blockOutputs).toEqual(ref.blockOutputs);
      expect(got.votes).toEqual(ref.votes);
      expect(got.decision).toBe(ref.decision);
    }
  });

  it('a cell driven far from its thresholds (candidate 0 or 10 vs 1.0/1.5) never flips at any level', () => {
    const net = oneCell(10);
    for (const level of NOISE_LEVELS) {
      const [b] = softwareNoise(net, alternating(200), { level, seed: 1, draws: 5 });
      expect(b.flips).toBe(0);
      expect(b.candidateMAE).toBeGreaterThan(0);
      // What is left at the output is the cell's own alpha jitter on ON frames: mean |N(0, sigma)| / 2 ~ 0.4 sigma.
      expect(b.stateMAE).toBeLessThan(level / 3);
    }
  });

  it('a cell driven just above its upper threshold flips under noise, more at higher levels', () => {
    const net = oneCell(1.52); // 1.3% above beta_hi
    const flips = NOISE_LEVELS.map(
      (level) => softwareNoise(net, alternating(400), { level, seed: 2, draws: 3 })[0].flips,
    );
    expect(flips[0]).toBeGreaterThan(0);
    expect(flips[2]).toBeGreaterThan(flips[0]);
    const [b] = softwareNoise(net, alternating(400), { level: 0.15, seed: 2, draws: 3 });
    expect(b.byMargin['1-5%'].flips).toBe(b.flips); // every unit-frame sits at 1.3% (ON) or far below (OFF)
  });

  it('perturbNetwork draws p * (1 + N(0, sigma)) and leaves s0 alone', () => {
    const net = randomNetwork({ inputs: 13, width: 16, blocks: 2, classes: 2, seed: 9 });
    const p = perturbNetwork(net, 0.05, createRng(3));
    const rel = Array.from(p.blocks[0].cand.weight.data, (v, i) => v / net.blocks[0].cand.weight.data[i] - 1);
    const mean = rel.reduce((a, b) => a + b, 0) / rel.length;
    const sd = Math.sqrt(rel.reduce((a, b) => a + (b - mean) ** 2, 0) / rel.length);
    expect(Math.abs(mean)).toBeLessThan(0.015);
    expect(sd).toBeGreaterThan(0.04);
    expect(sd).toBeLessThan(0.06);
    expect(p.blocks[1].cell.s0).toEqual(net.blocks[1].cell.s0);
  });
});

describe('boundaryDiscrepancy', () => {
  it('computes the input and output discrepancies and excludes switching frames', () => {
    const net = oneCell(10);
    const frames = (c: number[], s: number[]): BoundaryFrames => ({
      frames: c.length,
      candidates: [Float64Array.from(c)],
      states: [Uint8Array.from(s)],
      stateCurrents: [Float64Array.from(s)],
    });
    const ref = frames([0, 10, 10, 0], [0, 1, 1, 0]); // frames 1 and 3 switch
    const test = frames([0.2, 9.8, 10.4, 0.2], [0, 1, 0, 0]); // frame 2 flipped
    const [b] = boundaryDiscrepancy(net, ref, test);
    expect(b.candidateMAE).toBeCloseTo(1.0 / 4, 12);
    expect(b.stateMAE).toBeCloseTo(1 / 4, 12);
    expect(b.ratio).toBeCloseTo(1, 12);
    expect(b.switchingUnitFrames).toBe(2);
    expect(b.candidateMAEStable).toBeCloseTo(0.6 / 2, 12);
    expect(b.stateMAEStable).toBeCloseTo(0.5, 12);
    expect(b.flips).toBe(1);
    expect(b.byMargin['>=20%'].flips).toBe(1);
  });
});

describe('circuit source noise', () => {
  const src = (name: string, group?: string): Element => ({
    type: 'isrc',
    name,
    from: 'a',
    to: 'b',
    dcA: 1e-9,
    role: 'bias',
    noiseGroup: group,
  });
  const noise = { inputRel: 0.05, biasRel: 0.05, stepS: 1e-3, seed: 7 };
  it('is reproducible from the seed, differs between seeds, and shares samples within a group', () => {
    const els = [src('a1', 'g'), src('a2', 'g'), src('b')];
    const one = addSourceNoise(els, noise, 0.01, 1e-9, (s) => s.role);
    expect(addSourceNoise(els, noise, 0.01, 1e-9, (s) => s.role)).toEqual(one);
    expect(addSourceNoise(els, { ...noise, seed: 8 }, 0.01, 1e-9, (s) => s.role)).not.toEqual(one);
    const pwl = one.map((e) => (e.type === 'isrc' ? e.pwl! : []));
    expect(pwl[0]).toEqual(pwl[1]);
    expect(pwl[0]).not.toEqual(pwl[2]);
    const values = pwl[2].map(([, i]) => i / 1e-9 - 1);
    const sd = Math.sqrt(values.reduce((a, v) => a + v * v, 0) / values.length);
    expect(sd).toBeGreaterThan(0.01);
    expect(sd).toBeLessThan(0.15);
  });
  it('keeps the base waveform edges and never reverses a source', () => {
    const w = noisyWaveform(
      [
        [0, 0],
        [5e-3, 0],
        [5.001e-3, 1e-9],
        [0.01, 1e-9],
      ],
      Float64Array.from({ length: 11 }, (_, k) => (k % 2 ? 1 : -1) * 5e-10),
      1e-3,
      0.01,
    );
    expect(w.map(([t]) => t)).toContain(5.001e-3);
    expect(Math.min(...w.map(([, i]) => i))).toBe(0);
    expect(w.find(([t]) => t === 2e-3)![1]).toBe(0); // 0 A - 0.5 nA clipped
  });
});

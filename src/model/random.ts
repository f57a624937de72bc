import { createRng, type Rng } from '../util/random.js';
import { DEFAULT_FRAME_S, DEFAULT_UNIT_CURRENT_A } from './tensors.js';
import type { Block, Linear, Network } from './types.js';
import type { InputSequence } from './network.js';

/** Shape and value ranges of a synthetic network (software units = multiples of I_unit). */
export interface RandomNetworkSpec {
  inputs: number;
  width: number;
  blocks: number;
  classes: number;
  cells?: number;
  skip?: boolean;
  seed: number;
  /** Weight magnitudes are drawn from [lo, hi] with a random sign. */
  weightRange?: [number, number];
  /** beta_lo drawn from this range (units). */
  betaLoRange?: [number, number];
  /** delta (hysteresis width) drawn from this range (units). */
  deltaRange?: [number, number];
  /** alpha (ON level) drawn from this range (units). */
  alphaRange?: [number, number];
}

/**
 * Defaults sized for the circuit: |W| in 0.25..2 keeps mirror width ratios within what a 180 nm mirror
 * realises accurately (DESIGN §3 reference sweep 0.5-15 um around a ~5 um unity width), thresholds in
 * 0.1-1.5 nA keep biases in the reference 10-500 pA .. nA range.
 */
const DEFAULTS = {
  weightRange: [0.25, 2] as [number, number],
  betaLoRange: [0.15, 0.8] as [number, number],
  deltaRange: [0.1, 0.5] as [number, number],
  alphaRange: [0.4, 1.2] as [number, number],
};

function linear(rng: Rng, rows: number, cols: number, range: [number, number], biasScale: number): Linear {
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = (rng.next() < 0.5 ? -1 : 1) * rng.uniform(range[0], range[1]);
  const bias = new Float64Array(rows);
  for (let i = 0; i < rows; i++) bias[i] = biasScale * rng.uniform(-1, 1);
  return { weight: { rows, cols, data }, bias };
}

function fill(rng: Rng, n: number, range: [number, number]): Float64Array {
  return Float64Array.from({ length: n }, () => rng.uniform(range[0], range[1]));
}

/** A seeded random network with realised (non-negative) cell parameters. */
export function randomNetwork(spec: RandomNetworkSpec): Network {
  const rng = createRng(spec.seed);
  const o = { ...DEFAULTS, ...spec };
  const cells = spec.cells ?? spec.width;
  const blocks: Block[] = [];
  const pre = linear(rng, spec.width, spec.inputs, o.weightRange, 0.3);
  for (let k = 0; k < spec.blocks; k++) {
    const cand = linear(rng, cells, spec.width, o.weightRange, 0.3);
    const cell = {
      alpha: fill(rng, cells, o.alphaRange),
      beta1: fill(rng, cells, o.betaLoRange),
      delta: fill(rng, cells, o.deltaRange),
      s0: Float64Array.from({ length: cells }, () => (rng.next() < 0.5 ? 0 : 1)),
    };
    const post = linear(rng, spec.width, cells, o.weightRange, 0.3);
    blocks.push({ cand, cell, post });
  }
  const out = linear(rng, spec.classes, spec.width, o.weightRange, 0.3);
  return {
    arch: 'fq-bmru',
    inputs: spec.inputs,
    width: spec.width,
    cells,
    classes: spec.classes,
    skip: spec.skip ?? true,
    unitCurrentA: DEFAULT_UNIT_CURRENT_A,
    frameS: DEFAULT_FRAME_S,
    cellParams: 'realised',
    pre,
    blocks,
    out,
  };
}

/**
 * Seeded MFCC-like input: each feature a slow random walk plus a few bursts, normalised per feature to
 * mean 0 and standard deviation 1 (as the reference pipeline normalises MFCCs per clip).
 */
export function randomInputs(frames: number, features: number, seed: number): InputSequence {
  const rng = createRng(seed);
  const data = new Float64Array(frames * features);
  for (let f = 0; f < features; f++) {
    let v = rng.normal();
    for (let t = 0; t < frames; t++) {
      v = 0.85 * v + 0.5 * rng.normal();
      data[t * features + f] = v;
    }
    let mean = 0;
    for (let t = 0; t < frames; t++) mean += data[t * features + f] / frames;
    let varSum = 0;
    for (let t = 0; t < frames; t++) varSum += (data[t * features + f] - mean) ** 2;
    const sd = Math.sqrt(varSum / frames) || 1;
    for (let t = 0; t < frames; t++) data[t * features + f] = (data[t * features + f] - mean) / sd;
  }
  return { frames, features, data };
}

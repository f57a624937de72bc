/**
 * Hardware-aware software model (issue 3 §5): non-idealities learnt from one calibration co-simulation, folded
 * back into ordinary network parameters so the fast model runs unchanged and predicts the circuit more closely.
 *
 * Learnt per cell (least squares over the calibration clip's frames):
 * - candidate path: c_circuit ~ g c_model + o (mirror-chain gain error and the summing node's offset, e.g. leakage);
 *   folded in as cand row j scaled by g and bias b g + o (exact where the model's candidate is not rectified);
 * - state current: the ON level and the OFF leakage; the cell's output alpha s becomes
 *   leak + (on - leak) s, i.e. alpha = on - leak and the post layer's bias gains W_post[:, j] * leak.
 * Thresholds are not refitted: the calibration tables already map them, and a gain error on the candidate is
 * the same thing as a threshold error of the opposite sign.
 */
import type { Block, Network } from '../model/types.js';
import { cellThresholds } from '../model/types.js';
import { runNetwork, type InputSequence, type Trace } from '../model/network.js';
import type { BoundaryFrames } from './noise.js';

export interface CellCorrection {
  readonly block: number;
  readonly unit: number;
  readonly candidateGain: number;
  readonly candidateOffset: number;
  /** Circuit state current when ON / OFF (software units). */
  readonly onLevel: number;
  readonly offLeak: number;
}

/** Below this many frames in a state, the model's own value is kept (too few samples to fit). */
const MIN_FRAMES_TO_FIT = 3;

/** Least squares y ~ g x + o; with no spread in x, a pure offset. */
function fitLine(x: readonly number[], y: readonly number[]): { gain: number; offset: number } {
  const n = x.length;
  if (n === 0) return { gain: 1, offset: 0 };
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
  }
  if (sxx === 0) return { gain: 1, offset: my - mx };
  const gain = sxy / sxx;
  return { gain, offset: my - gain * mx };
}

/**
 * Learn per-cell corrections block by block: block k is fitted against the model with blocks < k already
 * corrected, since its candidates are computed from the (leaky, gain-shifted) outputs upstream.
 */
export function fitCorrections(net: Network, inputs: InputSequence, circuit: BoundaryFrames): CellCorrection[] {
  const all: CellCorrection[] = [];
  for (let k = 0; k < net.blocks.length; k++) {
    const sw = runNetwork(applyCorrections(net, all), inputs);
    all.push(...fitBlock(net, k, sw, circuit));
  }
  return all;
}

/**
 * Corrections of one block from a software trace and the circuit's frames on the same clip. Only frames where
 * the model's candidate is above zero (not rectified) and the states agree are used: elsewhere the relation is
 * not the linear one being fitted.
 */
function fitBlock(net: Network, k: number, sw: Trace, circuit: BoundaryFrames): CellCorrection[] {
  const S = net.cells;
  const out: CellCorrection[] = [];
  {
    const block = net.blocks[k];
    // The model's own alpha (not a corrected one) is the fallback ON level.
    const { alpha } = cellThresholds(block.cell);
    for (let j = 0; j < S; j++) {
      const xs: number[] = [];
      const ys: number[] = [];
      const on: number[] = [];
      const off: number[] = [];
      for (let t = 0; t < sw.frames; t++) {
        const i = t * S + j;
        if (sw.states[k][i] !== circuit.states[k][i]) continue;
        if (sw.candidates[k][i] > 0) {
          xs.push(sw.candidates[k][i]);
          ys.push(circuit.candidates[k][i]);
        }
        (sw.states[k][i] ? on : off).push(circuit.stateCurrents[k][i]);
      }
      const line = xs.length >= MIN_FRAMES_TO_FIT ? fitLine(xs, ys) : { gain: 1, offset: 0 };
      const mean = (v: number[], fallback: number) =>
        v.length >= MIN_FRAMES_TO_FIT ? v.reduce((a, b) => a + b, 0) / v.length : fallback;
      out.push({
        block: k,
        unit: j,
        candidateGain: line.gain,
        candidateOffset: line.offset,
        onLevel: mean(on, alpha[j]),
        offLeak: mean(off, 0),
      });
    }
  }
  return out;
}

/** Per class: circuit logit ~ gain * model logit + offset (the classifier's mirror errors), from the same clip. */
export function fitLogitCorrections(
  net: Network,
  sw: Trace,
  circuitLogits: Float64Array,
): { gain: number; offset: number }[] {
  const C = net.classes;
  return Array.from({ length: C }, (_, c) => {
    const x: number[] = [];
    const y: number[] = [];
    for (let t = 0; t < sw.frames; t++) {
      x.push(sw.logits[t * C + c]);
      y.push(circuitLogits[t * C + c]);
    }
    return fitLine(x, y);
  });
}

/** The classifier with per-class logit corrections folded in (row c scaled by gain, bias b gain + offset). */
export function applyLogitCorrections(net: Network, fits: readonly { gain: number; offset: number }[]): Network {
  const H = net.width;
  const data = Float64Array.from(net.out.weight.data);
  const bias = Float64Array.from(net.out.bias);
  fits.forEach((f, c) => {
    for (let i = 0; i < H; i++) data[c * H + i] *= f.gain;
    bias[c] = bias[c] * f.gain + f.offset;
  });
  return { ...net, out: { weight: { ...net.out.weight, data }, bias } };
}

/** The network with the corrections folded into its parameters (the result is a plain 'realised' network). */
export function applyCorrections(net: Network, corrections: readonly CellCorrection[]): Network {
  const S = net.cells;
  const H = net.width;
  const blocks: Block[] = net.blocks.map((block, k) => {
    const th = cellThresholds(block.cell);
    const cand = {
      weight: { ...block.cand.weight, data: Float64Array.from(block.cand.weight.data) },
      bias: Float64Array.from(block.cand.bias),
    };
    const post = { weight: block.post.weight, bias: Float64Array.from(block.post.bias) };
    const alpha = Float64Array.from(th.alpha);
    for (const c of corrections.filter((x) => x.block === k)) {
      const j = c.unit;
      for (let i = 0; i < H; i++) cand.weight.data[j * H + i] *= c.candidateGain;
      cand.bias[j] = cand.bias[j] * c.candidateGain + c.candidateOffset;
      alpha[j] = Math.max(c.onLevel - c.offLeak, 0);
      for (let i = 0; i < H; i++) post.bias[i] += block.post.weight.data[i * S + j] * c.offLeak;
    }
    return {
      cand,
      cell: {
        alpha,
        beta1: th.betaLo,
        delta: Float64Array.from(th.betaHi, (hi, j) => hi - th.betaLo[j]),
        s0: Float64Array.from(th.s0),
      },
      post,
    };
  });
  return { ...net, cellParams: 'realised', blocks };
}

export interface ModelFit {
  readonly stateAgreement: number;
  /** Mean |c_model - c_circuit| over unit-frames, software units. */
  readonly candidateMAE: number;
  /** Mean |state current model - circuit|, software units. */
  readonly stateCurrentMAE: number;
  /** Mean |logit model - circuit| over frames and classes. */
  readonly logitMAE: number;
}

/** How closely a software trace predicts the circuit. */
export function modelFit(
  net: Network,
  sw: Trace,
  circuit: BoundaryFrames & { readonly logits: Float64Array },
  leak?: readonly CellCorrection[],
): ModelFit {
  const S = net.cells;
  let agree = 0;
  let dc = 0;
  let ds = 0;
  let n = 0;
  net.blocks.forEach((block, k) => {
    const { alpha } = cellThresholds(block.cell);
    const offLevels = Array.from(
      { length: S },
      (_, j) => leak?.find((c) => c.block === k && c.unit === j)?.offLeak ?? 0,
    );
    for (let i = 0; i < sw.frames * S; i++) {
      const j = i % S;
      const offLevel = offLevels[j];
      if (sw.states[k][i] === circuit.states[k][i]) agree++;
      dc += Math.abs(sw.candidates[k][i] - circuit.candidates[k][i]);
      ds += Math.abs(offLevel + alpha[j] * sw.states[k][i] - circuit.stateCurrents[k][i]);
      n++;
    }
  });
  let dl = 0;
  for (let i = 0; i < sw.logits.length; i++) dl += Math.abs(sw.logits[i] - circuit.logits[i]);
  return {
    stateAgreement: agree / n,
    candidateMAE: dc / n,
    stateCurrentMAE: ds / n,
    logitMAE: dl / Math.max(sw.logits.length, 1),
  };
}

/**
 * The FQ-BMRU network of DESIGN.md §1 in float64, two ways that must agree exactly:
 * `runNetwork` steps frame by frame through all blocks (what the clockless circuit does), and
 * `runNetworkScan` processes a whole sequence block by block, the cell recurrence as an associative scan.
 */
import type { Linear, Network } from './types.js';
import { cellThresholds } from './types.js';

/** A sequence of input frames, row-major [frames x features], signed software units. */
export interface InputSequence {
  readonly frames: number;
  readonly features: number;
  readonly data: Float64Array;
}

/** Everything the model computes, per block and frame (row-major [T x S] / [T x H] / [T x C]). */
export interface Trace {
  readonly frames: number;
  readonly candidates: Float64Array[];
  readonly states: Uint8Array[];
  readonly blockOutputs: Float64Array[];
  readonly logits: Float64Array;
  readonly votes: Int32Array;
  readonly decision: number;
}

/** y[yOff..] = W x[xOff..] + b (no allocation: this is the inner loop). */
function affine(layer: Linear, x: Float64Array, xOff: number, y: Float64Array, yOff: number): void {
  const { rows, cols, data } = layer.weight;
  for (let r = 0; r < rows; r++) {
    let acc = layer.bias[r];
    const wOff = r * cols;
    for (let c = 0; c < cols; c++) acc += data[wOff + c] * x[xOff + c];
    y[yOff + r] = acc;
  }
}

function reluInPlace(v: Float64Array, from: number, to: number): void {
  for (let i = from; i < to; i++) if (v[i] < 0) v[i] = 0;
}

function checkInputs(net: Network, inputs: InputSequence): void {
  if (inputs.features !== net.inputs) {
    throw new RangeError(`input has ${inputs.features} features per frame, the model expects ${net.inputs}`);
  }
}

function allocTrace(net: Network, frames: number) {
  const L = net.blocks.length;
  return {
    candidates: Array.from({ length: L }, () => new Float64Array(frames * net.cells)),
    states: Array.from({ length: L }, () => new Uint8Array(frames * net.cells)),
    blockOutputs: Array.from({ length: L }, () => new Float64Array(frames * net.width)),
    logits: new Float64Array(frames * net.classes),
  };
}

/** Run the network frame by frame (the reference loop). */
export function runNetwork(net: Network, inputs: InputSequence): Trace {
  checkInputs(net, inputs);
  const T = inputs.frames;
  const { width: H, cells: S, classes: C } = net;
  const tr = allocTrace(net, T);
  const thresholds = net.blocks.map((b) => cellThresholds(b.cell));
  const state = thresholds.map((th) => Uint8Array.from(th.s0));
  const h = new Float64Array(H);
  const xPos = new Float64Array(H);
  const cellOut = new Float64Array(S);
  for (let t = 0; t < T; t++) {
    affine(net.pre, inputs.data, t * inputs.features, h, 0);
    net.blocks.forEach((block, k) => {
      const th = thresholds[k];
      const s = state[k];
      const cand = tr.candidates[k];
      for (let i = 0; i < H; i++) xPos[i] = h[i] > 0 ? h[i] : 0;
      affine(block.cand, xPos, 0, cand, t * S);
      reluInPlace(cand, t * S, (t + 1) * S);
      for (let j = 0; j < S; j++) {
        const c = cand[t * S + j];
        s[j] = c >= th.betaHi[j] ? 1 : c < th.betaLo[j] ? 0 : s[j];
        tr.states[k][t * S + j] = s[j];
        cellOut[j] = th.alpha[j] * s[j];
      }
      const out = tr.blockOutputs[k];
      affine(block.post, cellOut, 0, out, t * H);
      for (let i = 0; i < H; i++) {
        const v = out[t * H + i];
        out[t * H + i] = (v > 0 ? v : 0) + (net.skip ? h[i] : 0);
        h[i] = out[t * H + i];
      }
    });
    affine(net.out, h, 0, tr.logits, t * C);
  }
  return finish(tr, T, C);
}

/** Run the network block by block over the whole sequence; the cell recurrence is an associative scan. */
export function runNetworkScan(net: Network, inputs: InputSequence): Trace {
  checkInputs(net, inputs);
  const T = inputs.frames;
  const { width: H, cells: S, classes: C } = net;
  const tr = allocTrace(net, T);
  let h = new Float64Array(T * H);
  for (let t = 0; t < T; t++) affine(net.pre, inputs.data, t * inputs.features, h, t * H);
  const xPos = new Float64Array(T * H);
  const cellOut = new Float64Array(T * S);
  net.blocks.forEach((block, k) => {
    const th = cellThresholds(block.cell);
    for (let i = 0; i < T * H; i++) xPos[i] = h[i] > 0 ? h[i] : 0;
    const cand = tr.candidates[k];
    for (let t = 0; t < T; t++) affine(block.cand, xPos, t * H, cand, t * S);
    reluInPlace(cand, 0, T * S);
    scanStates(cand, th.betaLo, th.betaHi, th.s0, T, S, tr.states[k]);
    for (let i = 0; i < T * S; i++) cellOut[i] = th.alpha[i % S] * tr.states[k][i];
    const out = tr.blockOutputs[k];
    for (let t = 0; t < T; t++) affine(block.post, cellOut, t * S, out, t * H);
    for (let i = 0; i < T * H; i++) out[i] = (out[i] > 0 ? out[i] : 0) + (net.skip ? h[i] : 0);
    h = out;
  });
  for (let t = 0; t < T; t++) affine(net.out, h, t * H, tr.logits, t * C);
  return finish(tr, T, C);
}

/**
 * States of one cell bank over time as an inclusive associative scan of s_t = hold_t * s_{t-1} + high_t
 * (Hillis-Steele, log2(T) passes). The elements are binary, so composition is bitwise:
 * (a2, b2) o (a1, b1) = (a2 & a1, (a2 & b1) | b2).
 */
export function scanStates(
  cand: Float64Array,
  betaLo: Float64Array,
  betaHi: Float64Array,
  s0: Uint8Array,
  frames: number,
  cells: number,
  out: Uint8Array,
): void {
  let hold = new Uint8Array(frames * cells);
  let high = new Uint8Array(frames * cells);
  for (let i = 0; i < frames * cells; i++) {
    const j = i % cells;
    high[i] = cand[i] >= betaHi[j] ? 1 : 0;
    hold[i] = !high[i] && cand[i] >= betaLo[j] ? 1 : 0;
  }
  for (let d = 1; d < frames; d *= 2) {
    const nextHold = hold.slice();
    const nextHigh = high.slice();
    for (let t = d; t < frames; t++) {
      for (let j = 0; j < cells; j++) {
        const i = t * cells + j;
        const p = (t - d) * cells + j;
        nextHold[i] = hold[i] & hold[p];
        nextHigh[i] = (hold[i] & high[p]) | high[i];
      }
    }
    hold = nextHold;
    high = nextHigh;
  }
  for (let i = 0; i < frames * cells; i++) out[i] = (hold[i] & s0[i % cells]) | high[i];
}

function finish(tr: ReturnType<typeof allocTrace>, T: number, C: number): Trace {
  const votes = new Int32Array(T);
  for (let t = 0; t < T; t++) votes[t] = argmax(tr.logits, t * C, C);
  return { frames: T, ...tr, votes, decision: majority(votes, C) };
}

/** Index of the largest of v[off..off+n); a tie goes to the lowest index (DESIGN §1). */
export function argmax(v: ArrayLike<number>, off: number, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (v[off + i] > v[off + best]) best = i;
  return best;
}

/** Majority vote over per-frame classes; a tie goes to the lowest class index. */
export function majority(votes: ArrayLike<number>, classes: number): number {
  const counts = new Int32Array(classes);
  for (let t = 0; t < votes.length; t++) counts[votes[t]]++;
  return argmax(counts, 0, classes);
}

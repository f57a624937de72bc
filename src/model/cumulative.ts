/**
 * The software model of the cumulative family (arch.ts: CMRU, relaxed CMRU, and the FQ-BMRU at eps = 0) in
 * float64, frame by frame. The states are real numbers (integers for the CMRU), so this is a separate loop from
 * `runNetwork`, whose binary states and packed kernels are the BMRU's; it sums in the order the training forward
 * pass does (bias first, then inputs in order), so a trained model reproduces its training-time logits exactly.
 */
import { cellUpdate, cumulativeEps } from './arch.js';
import { argmax, majority, type InputSequence } from './network.js';
import type { Linear, Network } from './types.js';
import { cellThresholds } from './types.js';

/** Everything the cumulative model computes, per block and frame (row-major [T x S] / [T x H] / [T x C]). */
export interface CumulativeTrace {
  readonly frames: number;
  readonly candidates: Float64Array[];
  /** s_t per cell (0/1 at eps = 0; integers for the CMRU; real for the relaxed CMRU). */
  readonly states: Float64Array[];
  readonly blockOutputs: Float64Array[];
  readonly logits: Float64Array;
  readonly votes: Int32Array;
  readonly decision: number;
}

/** y[yOff..] = W x[xOff..] + b, bias first then columns in order (the training forward pass's order). */
function affine(layer: Linear, x: ArrayLike<number>, xOff: number, y: Float64Array, yOff: number): void {
  const { rows, cols, data } = layer.weight;
  for (let r = 0; r < rows; r++) {
    let acc = layer.bias[r];
    for (let c = 0; c < cols; c++) acc += data[r * cols + c] * x[xOff + c];
    y[yOff + r] = acc;
  }
}

/** Run a network of any arch with its own eps (arch.ts), frame by frame; the cell output current is |alpha| s_t. */
export function runCumulative(net: Network, inputs: InputSequence): CumulativeTrace {
  if (inputs.features !== net.inputs) {
    throw new RangeError(`input has ${inputs.features} features per frame, the model expects ${net.inputs}`);
  }
  const eps = cumulativeEps(net);
  const T = inputs.frames;
  const { inputs: F, width: H, cells: S, classes: C } = net;
  const th = net.blocks.map((b) => cellThresholds(b.cell));
  const candidates = net.blocks.map(() => new Float64Array(T * S));
  const states = net.blocks.map(() => new Float64Array(T * S));
  const blockOutputs = net.blocks.map(() => new Float64Array(T * H));
  const logits = new Float64Array(T * C);
  const state = th.map((t) => Float64Array.from(t.s0));
  const h = new Float64Array(H);
  const xPos = new Float64Array(H);
  const o = new Float64Array(S);
  const v = new Float64Array(H);
  for (let t = 0; t < T; t++) {
    affine(net.pre, inputs.data, t * F, h, 0);
    net.blocks.forEach((block, k) => {
      const { alpha, betaLo, betaHi } = th[k];
      for (let i = 0; i < H; i++) xPos[i] = h[i] > 0 ? h[i] : 0;
      affine(block.cand, xPos, 0, candidates[k], t * S);
      for (let j = 0; j < S; j++) {
        const i = t * S + j;
        const c = candidates[k][i] > 0 ? candidates[k][i] : 0;
        candidates[k][i] = c;
        const s = cellUpdate(state[k][j], c >= betaHi[j] ? 1 : 0, c >= betaLo[j] ? 1 : 0, eps);
        state[k][j] = s;
        states[k][i] = s;
        o[j] = alpha[j] * s;
      }
      affine(block.post, o, 0, v, 0);
      for (let i = 0; i < H; i++) {
        h[i] = (v[i] > 0 ? v[i] : 0) + (net.skip ? h[i] : 0);
        blockOutputs[k][t * H + i] = h[i];
      }
    });
    affine(net.out, h, 0, logits, t * C);
  }
  const votes = new Int32Array(T);
  for (let t = 0; t < T; t++) votes[t] = argmax(logits, t * C, C);
  return { frames: T, candidates, states, blockOutputs, logits, votes, decision: majority(votes, C) };
}

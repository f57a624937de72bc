/**
 * Forward pass with saved activations and hand-written backpropagation through time for the FQ-BMRU network
 * of DESIGN §1, one clip at a time (a batch is a loop over clips accumulating into one gradient).
 *
 * Forward (per frame t, block k, cell j), exactly as src/model/network.ts `runNetwork` computes it, summing
 * in the same order so the states and logits agree bit for bit:
 *   x'   = max(h_in, 0);  u = W_c x' + b_c;  c = max(u, 0)
 *   hi   = [c >= beta_hi];  lo = [c >= beta_lo]
 *   s_t  = hi (1 - s_{t-1}) + lo s_{t-1}         -- OFF: switches on at beta_hi; ON: stays on down to beta_lo
 *   v    = W_p (alpha s_t) + b_p;  h_out = max(v, 0) + h_in (skip)
 *   logits = W_o h_L + b_o;  loss = mean over frames of cross-entropy(softmax(logits_t), target)
 *   (+ optionally `currentPenalty`, a squared hinge on currents beyond what the circuit's mirrors carry well)
 *
 * Backward: the exact derivatives of those expressions, except the two steps hi and lo, whose derivative
 * is the arctan surrogate (surrogate.ts). The written form of s_t fixes which threshold a frame's gradient
 * reaches: an OFF cell only feels beta_hi, an ON cell only beta_lo, as the hysteresis works.
 *
 * Through time, ds_t/ds_{t-1} = lo - hi is 1 inside the hysteresis band (hold) and 0 where the candidate
 * forces the state (the BMRU's "gradient blocking"). The cumulative update (CMRU, DESIGN §1 / arXiv
 * 2605.11855) writes the same states as s_t = s_{t-1} + z_t (y_t - s_{t-1}) with update gate z_t = 1 - hold_t
 * and target y_t = hi_t; here its increment is treated as not depending on s_{t-1}, so the gradient passes
 * through time with coefficient a_t = (1 - z_t) + eps z_t: eps = 1 is the cumulative skip-connection through
 * time, eps = 0 the pure BMRU. Only the backward pass depends on this eps (`cumulative`): the states are the exact
 * BMRU states at every eps, so annealing it from 1 to 0 never changes what the exported model computes.
 *
 * `forwardEps` runs the cumulative family itself (src/model/arch.ts `cellUpdate`: the CMRU at 1, the relaxed CMRU
 * in (0, 1)): s_t = a_t s_{t-1} + hi - eps (1 - lo), a_t = (lo - hi) + eps (1 - lo + hi), states no longer binary.
 * Its backward is exact apart from the surrogate steps: ds_t/dhi = 1 - (1 - eps) s_{t-1}, ds_t/dlo = (1 - eps)
 * s_{t-1} + eps, ds_t/ds_{t-1} = a_t (eps where the candidate forces the state: the skip-connection through time).
 *
 * `soft: true` replaces both steps (and the binarised s0) by the smooth arctan step in the forward pass too,
 * which makes the whole pass differentiable so a finite-difference check can test every line of the
 * backward pass, surrogate path included (with eps = 0, the backward is then the exact gradient).
 */
import type { Linear, Network } from '../model/types.js';
import { cellCarry, cellUpdate } from '../model/arch.js';
import { cellThresholds, S0_ON_THRESHOLD, type CellThresholds } from '../model/types.js';
import type { Rng } from '../util/random.js';
import type { ParamLayout } from './params.js';
import { S0_SURROGATE_WIDTH, softStep, surrogateGrad } from './surrogate.js';

/** How the backward pass treats the steps. */
export interface GradOptions {
  /** Surrogate width (units of I_unit), see surrogate.ts. */
  readonly surrogateWidth: number;
  /** eps of the cumulative update: 1 = CMRU gradient through time, 0 = pure BMRU (default). */
  readonly cumulative?: number;
  /** eps of the forward pass's cell update (src/model/arch.ts): 0 = FQ-BMRU (default), 1 = CMRU, between = relaxed. */
  readonly forwardEps?: number;
  /** Smooth steps in the forward pass as well (gradient checks only; the states are then not binary). */
  readonly soft?: boolean;
  /** Currents beyond this magnitude (units of I_unit) are penalised (`currentPenalty`); undefined = none. */
  readonly currentCap?: number;
  /** Weight of the current penalty relative to the cross-entropy. */
  readonly currentWeight?: number;
  /**
   * Standard deviation (units of I_unit) of Gaussian noise added to every candidate pre-activation in the forward
   * pass, drawn per frame and cell from `noiseRng`: the circuit's candidate differs from the model's by leakage and
   * mirror error of this order, and a model trained under it keeps its candidates away from the thresholds that
   * decide states. 0 / undefined = none.
   */
  readonly candidateNoise?: number;
  readonly noiseRng?: Rng;
  /**
   * Margin (units of I_unit) a candidate should keep from the threshold that decides its cell's next state (beta_hi
   * while OFF, beta_lo while ON): `marginPenalty`. undefined / 0 = none.
   */
  readonly margin?: number;
  /** Weight of the margin penalty relative to the per-frame cross-entropy. */
  readonly marginWeight?: number;
  /**
   * Unit-frames of the clip under training that take their own margin and weight in place of the ones above: flags
   * per block [T x S], set where the circuit (the hardware-aware model) has another state than the network, so the
   * near ties the circuit cannot resolve are pushed further apart (trainer.ts `TrainOptions.focus`). Undefined = none.
   */
  readonly marginFocus?: MarginFocus;
  /**
   * Margin (units of I_unit) the path between two frames should keep from the threshold a holding cell must not
   * cross (`transitionPenalty`); undefined / 0 = none.
   */
  readonly transitionMargin?: number;
  /** Weight of the transition penalty relative to the per-frame cross-entropy. */
  readonly transitionWeight?: number;
}

/** The unit-frames `GradOptions.marginFocus` widens the margin of, and their margin (units of I_unit) and weight. */
export interface MarginFocus {
  readonly flags: readonly Uint8Array[];
  readonly margin: number;
  readonly weight: number;
}

/** Activations of one clip, kept for the backward pass; reused across clips of the same length. */
export interface Tape {
  readonly frames: number;
  /** Block inputs: hIn[0] = pre-projection output, hIn[k + 1] = output of block k; [T x H] each. */
  readonly hIn: Float64Array[];
  /** max(hIn[k], 0) [T x H]. */
  readonly xPos: Float64Array[];
  /** Candidate pre-activations u [T x S] (the candidate current is max(u, 0)). */
  readonly u: Float64Array[];
  /** States s_t [T x S] (0/1 unless soft). */
  readonly s: Float64Array[];
  /** Initial states s_0 per block [S] as used (0/1 unless soft). */
  readonly s0: Float64Array[];
  /** Post pre-activations v [T x H]. */
  readonly v: Float64Array[];
  readonly logits: Float64Array;
}

/** A tape for `frames` frames of this network shape. */
export function allocTape(net: Network, frames: number): Tape {
  const L = net.blocks.length;
  const { width: H, cells: S } = net;
  const arr = (n: number, size: number) => Array.from({ length: n }, () => new Float64Array(size));
  return {
    frames,
    hIn: arr(L + 1, frames * H),
    xPos: arr(L, frames * H),
    u: arr(L, frames * S),
    s: arr(L, frames * S),
    s0: arr(L, S),
    v: arr(L, frames * H),
    logits: new Float64Array(frames * net.classes),
  };
}

/** y[yOff..] = W x[xOff..] + b, summed in the order runNetwork uses (bias first, then columns in order). */
function affine(layer: Linear, x: Float64Array, xOff: number, y: Float64Array, yOff: number): void {
  const { rows, cols, data } = layer.weight;
  for (let r = 0; r < rows; r++) {
    let acc = layer.bias[r];
    const wOff = r * cols;
    for (let c = 0; c < cols; c++) acc += data[wOff + c] * x[xOff + c];
    y[yOff + r] = acc;
  }
}

/** The thresholds every clip of a batch uses (computed once per parameter update). */
export function networkThresholds(net: Network): CellThresholds[] {
  return net.blocks.map((b) => cellThresholds(b.cell));
}

/**
 * Forward pass of one clip (inputs[xOff..], [frames x F] row-major), filling `tape`.
 * `th` = networkThresholds(net); soft mode reads them too, except s0, which it smooths from the raw value.
 */
export function forwardClip(
  net: Network,
  th: readonly CellThresholds[],
  inputs: Float64Array,
  xOff: number,
  tape: Tape,
  opts: GradOptions,
): void {
  const T = tape.frames;
  const { inputs: F, width: H, cells: S, classes: C } = net;
  const w = opts.surrogateWidth;
  const noise = opts.candidateNoise ?? 0;
  const fe = opts.forwardEps ?? 0;
  if (noise > 0 && !opts.noiseRng) throw new RangeError('forwardClip: candidateNoise needs a noiseRng');
  for (let t = 0; t < T; t++) affine(net.pre, inputs, xOff + t * F, tape.hIn[0], t * H);
  net.blocks.forEach((block, k) => {
    const { alpha, betaLo, betaHi } = th[k];
    const hIn = tape.hIn[k];
    const xPos = tape.xPos[k];
    const u = tape.u[k];
    const s = tape.s[k];
    const v = tape.v[k];
    const hOut = tape.hIn[k + 1];
    const s0 = tape.s0[k];
    for (let j = 0; j < S; j++)
      s0[j] = opts.soft ? softStep(Math.abs(block.cell.s0[j]) - S0_ON_THRESHOLD, S0_SURROGATE_WIDTH) : th[k].s0[j];
    for (let i = 0; i < T * H; i++) xPos[i] = hIn[i] > 0 ? hIn[i] : 0;
    const o = new Float64Array(S);
    for (let t = 0; t < T; t++) {
      affine(block.cand, xPos, t * H, u, t * S);
      if (noise > 0) for (let j = 0; j < S; j++) u[t * S + j] += noise * opts.noiseRng!.normal();
      for (let j = 0; j < S; j++) {
        const c = u[t * S + j] > 0 ? u[t * S + j] : 0;
        const sp = t === 0 ? s0[j] : s[(t - 1) * S + j];
        const hi = opts.soft ? softStep(c - betaHi[j], w) : c >= betaHi[j] ? 1 : 0;
        const lo = opts.soft ? softStep(c - betaLo[j], w) : c >= betaLo[j] ? 1 : 0;
        const st = cellUpdate(sp, hi, lo, fe);
        s[t * S + j] = st;
        o[j] = alpha[j] * st;
      }
      affine(block.post, o, 0, v, t * H);
      for (let i = 0; i < H; i++) {
        const vi = v[t * H + i];
        hOut[t * H + i] = (vi > 0 ? vi : 0) + (net.skip ? hIn[t * H + i] : 0);
      }
    }
  });
  const hL = tape.hIn[net.blocks.length];
  for (let t = 0; t < T; t++) affine(net.out, hL, t * H, tape.logits, t * C);
}

/**
 * Per-frame softmax cross-entropy of the logits against one class for the whole clip. Returns the summed
 * loss over frames and writes dLoss/dlogits * scale into `dLogits` (scale = 1 / (frames * clips in batch)
 * makes the batch loss a mean over every frame of every clip).
 */
export function frameCrossEntropy(
  logits: Float64Array,
  frames: number,
  classes: number,
  target: number,
  scale: number,
  dLogits: Float64Array,
): number {
  let loss = 0;
  for (let t = 0; t < frames; t++) {
    const off = t * classes;
    let m = -Infinity;
    for (let c = 0; c < classes; c++) m = Math.max(m, logits[off + c]);
    let z = 0;
    for (let c = 0; c < classes; c++) z += Math.exp(logits[off + c] - m);
    loss += m + Math.log(z) - logits[off + target];
    for (let c = 0; c < classes; c++)
      dLogits[off + c] = scale * (Math.exp(logits[off + c] - m) / z - (c === target ? 1 : 0));
  }
  return loss;
}

/**
 * Penalty on currents the circuit carries beyond `currentCap`, summed over the clip's frames (as
 * frameCrossEntropy's return): weight * sum over frames and units of max(|x| - cap, 0)^2, where x runs over
 * the candidates u (where positive) and every block input/output h (pre-projection output included).
 * The software model does not care how far a candidate overshoots a threshold, the circuit's mirrors do:
 * they are accurate up to a few nA (DESIGN §3). Returns 0 without a cap.
 */
export function currentPenalty(tape: Tape, opts: GradOptions): number {
  const cap = opts.currentCap;
  if (cap === undefined || !opts.currentWeight) return 0;
  let sum = 0;
  const add = (x: Float64Array, positiveOnly: boolean) => {
    for (let i = 0; i < x.length; i++) {
      const over = (positiveOnly ? x[i] : Math.abs(x[i])) - cap;
      if (over > 0) sum += over * over;
    }
  };
  tape.hIn.forEach((h) => add(h, false));
  // The candidate current is max(u, 0): only u > cap is a large current.
  tape.u.forEach((u) => add(u, true));
  return opts.currentWeight * sum;
}

/**
 * Penalty on candidates that sit close to the threshold deciding their cell's state, summed over the clip's frames
 * (as currentPenalty): weight * sum over frames and cells of (max(margin - |c - beta|, 0) / margin)^2, beta = beta_hi
 * where the previous state is OFF, beta_lo where it is ON, c = max(u, 0). The circuit's candidate differs from the
 * model's by leakage, mirror error and in-frame timing of a few pA: a candidate within that of its threshold can
 * put the circuit's cell in the other state, and the hysteresis then keeps the disagreement for many frames.
 * Returns 0 without a margin.
 */
export function marginPenalty(tape: Tape, th: readonly CellThresholds[], opts: GradOptions): number {
  let sum = 0;
  const S = tape.s0[0]?.length ?? 0;
  tape.u.forEach((u, k) => {
    for (let i = 0; i < u.length; i++) {
      const [m, w] = marginAt(opts, k, i);
      if (!m || !w) continue;
      const j = i % S;
      const sp = i < S ? tape.s0[k][j] : tape.s[k][i - S];
      const c = u[i] > 0 ? u[i] : 0;
      const d = m - Math.abs(c - (sp >= 0.5 ? th[k].betaLo[j] : th[k].betaHi[j]));
      if (d > 0) sum += w * (d / m) ** 2;
    }
  });
  return sum;
}

/** The margin and weight of unit-frame i (= t S + j) of block k: the focus's where it flags it, else the usual. */
function marginAt(opts: GradOptions, k: number, i: number): [number, number] {
  const f = opts.marginFocus;
  return f && f.flags[k][i] ? [f.margin, f.weight] : [opts.margin ?? 0, opts.marginWeight ?? 0];
}

/**
 * d(marginPenalty)/dc * scale of one unit-frame (0 outside the margin); dPenalty/dbeta is its negative.
 * `beta` is the threshold that decides the frame.
 */
function marginGrad(c: number, beta: number, [m, w]: [number, number], scale: number): number {
  if (!m || !w) return 0;
  const x = c - beta;
  const d = m - Math.abs(x);
  return d > 0 ? ((-2 * w * d) / (m * m)) * (x < 0 ? -1 : 1) * scale : 0;
}

/**
 * The bound of a candidate's path between frames t - 1 and t: each input term moves from its value at t - 1 to its
 * value at t on its own schedule (in the circuit, at a speed set by its own current), so the candidate can reach
 * b + sum_i W_i * (the end of x_i that lowers it most) on the way. `low`: that lower bound (what an ON cell must
 * stay above); otherwise the upper bound (what an OFF cell must stay below). Returns the bound and, when `pick`
 * is given, writes there the frame (t - 1 or t) whose value of x_i the bound takes.
 */
export function pathBound(
  layer: Linear,
  xPos: Float64Array,
  t: number,
  j: number,
  low: boolean,
  pick?: Uint8Array,
): number {
  const { cols: H, data } = layer.weight;
  let bound = layer.bias[j];
  for (let i = 0; i < H; i++) {
    const w = data[j * H + i];
    const before = xPos[(t - 1) * H + i];
    const now = xPos[t * H + i];
    // Lower bound: a positive weight at its smaller end, a negative one at its larger; the upper bound the reverse.
    const takeBefore = w > 0 === low ? before < now : before > now;
    bound += w * (takeBefore ? before : now);
    if (pick) pick[i] = takeBefore ? 1 : 0;
  }
  return bound;
}

/**
 * The excess of a holding frame's path bound over its threshold (0 when none, or when the frame is not a hold):
 * ON at t - 1 and t, beta_lo + margin - lower bound; OFF at both, upper bound - (beta_hi - margin).
 */
function transitionExcess(
  layer: Linear,
  tape: Tape,
  th: CellThresholds,
  k: number,
  t: number,
  j: number,
  m: number,
  pick?: Uint8Array,
): { excess: number; on: boolean } {
  const S = tape.s0[k].length;
  const on = tape.s[k][(t - 1) * S + j] >= 0.5;
  if (on !== tape.s[k][t * S + j] >= 0.5) return { excess: 0, on };
  const bound = pathBound(layer, tape.xPos[k], t, j, on, pick);
  const excess = on ? th.betaLo[j] + m - bound : bound - (th.betaHi[j] - m);
  return { excess: excess > 0 ? excess : 0, on };
}

/**
 * Penalty on holding cells whose candidate could cross the threshold on the way between two frames, summed over
 * the clip (as currentPenalty): weight * sum over frames t >= 1 and cells that keep their state from t - 1 to t of
 * (max(excess, 0) / margin)^2 (`transitionExcess`). The model switches between frames instantly; the clockless
 * circuit's terms do not arrive together, and a cell that crosses on the way latches (hysteresis) where the model
 * held. On the shipped KWS model 0.63% of holding frames have such a path, and they are where 93 of the 99 (GF180MCU)
 * and 30 of the 35 (c180) disagreements of the hardware-aware model that start at a holding frame start.
 * Returns 0 without a margin.
 */
export function transitionPenalty(net: Network, tape: Tape, th: readonly CellThresholds[], opts: GradOptions): number {
  const m = opts.transitionMargin;
  if (!m || !opts.transitionWeight) return 0;
  let sum = 0;
  net.blocks.forEach((block, k) => {
    const S = th[k].betaLo.length;
    for (let t = 1; t < tape.frames; t++)
      for (let j = 0; j < S; j++) {
        const { excess } = transitionExcess(block.cand, tape, th[k], k, t, j, m);
        if (excess > 0) sum += (excess / m) ** 2;
      }
  });
  return opts.transitionWeight * sum;
}

/**
 * Adds the transition penalty's gradient (times scale) for block k: into the candidate layer's weight and bias, the
 * thresholds (gBetaLo / gBetaHi), and dPenalty/dxPos into gX [T x H].
 */
function transitionGrad(
  layer: Linear,
  tape: Tape,
  th: CellThresholds,
  k: number,
  opts: GradOptions,
  scale: number,
  grads: { gW: Float64Array; gb: Float64Array; gBetaLo: Float64Array; gBetaHi: Float64Array; gX: Float64Array },
): void {
  const m = opts.transitionMargin;
  if (!m || !opts.transitionWeight) return;
  const { cols: H, data } = layer.weight;
  const S = th.betaLo.length;
  const pick = new Uint8Array(H);
  for (let t = 1; t < tape.frames; t++)
    for (let j = 0; j < S; j++) {
      const { excess, on } = transitionExcess(layer, tape, th, k, t, j, m, pick);
      if (excess === 0) continue;
      const dExcess = ((2 * opts.transitionWeight * excess) / (m * m)) * scale;
      // ON: excess = beta_lo + m - bound; OFF: excess = bound - beta_hi + m.
      const dBound = on ? -dExcess : dExcess;
      if (on) grads.gBetaLo[j] += dExcess;
      else grads.gBetaHi[j] -= dExcess;
      grads.gb[j] += dBound;
      for (let i = 0; i < H; i++) {
        const at = (pick[i] ? t - 1 : t) * H + i;
        grads.gW[j * H + i] += dBound * tape.xPos[k][at];
        grads.gX[at] += dBound * data[j * H + i];
      }
    }
}

/** Adds d(penalty)/dx * scale to g for one array of the tape (`positiveOnly` for candidates). */
function addPenaltyGrad(
  x: Float64Array,
  g: Float64Array,
  n: number,
  opts: GradOptions,
  scale: number,
  positiveOnly: boolean,
): void {
  const cap = opts.currentCap;
  if (cap === undefined || !opts.currentWeight) return;
  const k = 2 * opts.currentWeight * scale;
  for (let i = 0; i < n; i++) {
    if (x[i] > cap) g[i] += k * (x[i] - cap);
    else if (!positiveOnly && x[i] < -cap) g[i] += k * (x[i] + cap);
  }
}

/** Scratch buffers of the backward pass, reused across clips. */
export interface BackwardScratch {
  readonly gH: Float64Array;
  readonly gHIn: Float64Array;
  readonly gV: Float64Array;
  readonly gS: Float64Array;
  readonly gU: Float64Array;
  readonly gAlphaAbs: Float64Array;
  readonly gBetaLo: Float64Array;
  readonly gBetaHi: Float64Array;
  /** dPenalty/dxPos of the transition penalty [T x H]. */
  readonly gX: Float64Array;
}

export function allocScratch(net: Network, frames: number): BackwardScratch {
  const { width: H, cells: S } = net;
  return {
    gH: new Float64Array(frames * H),
    gHIn: new Float64Array(frames * H),
    gV: new Float64Array(frames * H),
    gS: new Float64Array(frames * S),
    gU: new Float64Array(frames * S),
    gAlphaAbs: new Float64Array(S),
    gBetaLo: new Float64Array(S),
    gBetaHi: new Float64Array(S),
    gX: new Float64Array(frames * H),
  };
}

/** d|x|/dx, taking +1 at 0 so a parameter sitting at 0 can still move. */
const signOf = (x: number) => (x < 0 ? -1 : 1);

/**
 * Backward pass of one clip: accumulates dLoss/dtheta into `grad` (the flat layout of params.ts) from
 * dLoss/dlogits. `net` must be the raw view of the parameters whose gradient `grad` holds; `scale` is the
 * factor frameCrossEntropy applied to dLogits, applied to the current penalty's gradient too.
 */
export function backwardClip(
  net: Network,
  layout: ParamLayout,
  th: readonly CellThresholds[],
  inputs: Float64Array,
  xOff: number,
  tape: Tape,
  dLogits: Float64Array,
  grad: Float64Array,
  scratch: BackwardScratch,
  opts: GradOptions,
  scale = 1,
): void {
  const T = tape.frames;
  const { inputs: F, width: H, cells: S } = net;
  const L = net.blocks.length;
  const w = opts.surrogateWidth;
  const eps = opts.cumulative ?? 0;
  const fe = opts.forwardEps ?? 0;
  const g = (name: string) => {
    const slot = layout.bySlot.get(name)!;
    return grad.subarray(slot.offset, slot.offset + slot.size);
  };

  // Classifier: logits_t = W_o h_L,t + b_o.
  const { gH } = scratch;
  linearBackward(net.out, tape.hIn[L], dLogits, T, g('out.weight'), g('out.bias'), gH);
  addPenaltyGrad(tape.hIn[L], gH, T * H, opts, scale, false);

  for (let k = L - 1; k >= 0; k--) {
    const block = net.blocks[k];
    const { alpha, betaLo, betaHi } = th[k];
    const hIn = tape.hIn[k];
    const u = tape.u[k];
    const s = tape.s[k];
    const v = tape.v[k];
    const { gHIn, gV, gS, gU, gAlphaAbs, gBetaLo, gBetaHi } = scratch;

    // h_out = max(v, 0) + h_in: the skip passes gH straight to the block input.
    for (let i = 0; i < T * H; i++) {
      gV[i] = v[i] > 0 ? gH[i] : 0;
      gHIn[i] = net.skip ? gH[i] : 0;
    }
    // v_t = W_p (alpha s_t) + b_p.
    const gWp = g(`blocks.${k}.post.weight`);
    const gbp = g(`blocks.${k}.post.bias`);
    const Wp = block.post.weight.data;
    gAlphaAbs.fill(0);
    for (let t = 0; t < T; t++) {
      for (let i = 0; i < H; i++) {
        const gv = gV[t * H + i];
        if (gv === 0) continue;
        gbp[i] += gv;
        for (let j = 0; j < S; j++) gWp[i * S + j] += gv * alpha[j] * s[t * S + j];
      }
      for (let j = 0; j < S; j++) {
        let go = 0;
        for (let i = 0; i < H; i++) go += Wp[i * S + j] * gV[t * H + i];
        gAlphaAbs[j] += go * s[t * S + j];
        gS[t * S + j] = go * alpha[j];
      }
    }

    // The cell, backwards in time: s_t = hi (1 - s_{t-1}) + lo s_{t-1}.
    gBetaLo.fill(0);
    gBetaHi.fill(0);
    const s0 = tape.s0[k];
    for (let j = 0; j < S; j++) {
      let carry = 0; // dLoss/ds_t arriving from frame t + 1
      for (let t = T - 1; t >= 0; t--) {
        const i = t * S + j;
        const gs = gS[i] + carry;
        const sp = t === 0 ? s0[j] : s[i - S];
        const c = u[i] > 0 ? u[i] : 0;
        const dHi = surrogateGrad(c - betaHi[j], w);
        const dLo = surrogateGrad(c - betaLo[j], w);
        const gHi = fe === 0 ? gs * (1 - sp) : gs * (1 - (1 - fe) * sp);
        const gLo = fe === 0 ? gs * sp : gs * ((1 - fe) * sp + fe);
        const on = sp >= 0.5;
        const gm = marginGrad(c, on ? betaLo[j] : betaHi[j], marginAt(opts, k, i), scale);
        gU[i] = u[i] > 0 ? gHi * dHi + gLo * dLo + gm : 0;
        gBetaHi[j] -= gHi * dHi + (on ? 0 : gm);
        gBetaLo[j] -= gLo * dLo + (on ? gm : 0);
        const hi = opts.soft ? softStep(c - betaHi[j], w) : c >= betaHi[j] ? 1 : 0;
        const lo = opts.soft ? softStep(c - betaLo[j], w) : c >= betaLo[j] ? 1 : 0;
        const hold = fe === 0 ? lo - hi : cellCarry(hi, lo, fe);
        carry = gs * (hold + eps * (1 - hold));
      }
      // s_0 = [|s0_raw| > 0.5]; carry is now dLoss/ds_0.
      const s0raw = block.cell.s0[j];
      g(`blocks.${k}.cell.s0`)[j] +=
        carry * surrogateGrad(Math.abs(s0raw) - S0_ON_THRESHOLD, S0_SURROGATE_WIDTH) * signOf(s0raw);
    }
    const { gX } = scratch;
    gX.fill(0, 0, T * H);
    transitionGrad(block.cand, tape, th[k], k, opts, scale, {
      gW: g(`blocks.${k}.cand.weight`),
      gb: g(`blocks.${k}.cand.bias`),
      gBetaLo,
      gBetaHi,
      gX,
    });
    // beta_lo = |beta1|, beta_hi = |beta1| + |delta|, output level |alpha|.
    const cell = block.cell;
    const gA = g(`blocks.${k}.cell.alpha`);
    const gB = g(`blocks.${k}.cell.beta1`);
    const gD = g(`blocks.${k}.cell.delta`);
    for (let j = 0; j < S; j++) {
      gA[j] += gAlphaAbs[j] * signOf(cell.alpha[j]);
      gB[j] += (gBetaLo[j] + gBetaHi[j]) * signOf(cell.beta1[j]);
      gD[j] += gBetaHi[j] * signOf(cell.delta[j]);
    }

    // u_t = W_c max(h_in, 0) + b_c (gU already holds dLoss/du with the ReLU applied).
    addPenaltyGrad(u, gU, T * S, opts, scale, true);
    linearBackward(block.cand, tape.xPos[k], gU, T, g(`blocks.${k}.cand.weight`), g(`blocks.${k}.cand.bias`), gH);
    for (let i = 0; i < T * H; i++) gH[i] = gHIn[i] + (hIn[i] > 0 ? gH[i] + gX[i] : 0);
    addPenaltyGrad(hIn, gH, T * H, opts, scale, false);
  }

  // Pre-projection: h_0 = W_pre x + b_pre.
  const gWpre = g('pre.weight');
  const gbpre = g('pre.bias');
  for (let t = 0; t < T; t++) {
    for (let r = 0; r < H; r++) {
      const gr = gH[t * H + r];
      if (gr === 0) continue;
      gbpre[r] += gr;
      for (let c = 0; c < F; c++) gWpre[r * F + c] += gr * inputs[xOff + t * F + c];
    }
  }
}

/**
 * Backward of y_t = W x_t + b over T frames: accumulates dW, db, and writes dx_t = W^T dy_t into `gx`.
 */
function linearBackward(
  layer: Linear,
  x: Float64Array,
  gy: Float64Array,
  T: number,
  gW: Float64Array,
  gb: Float64Array,
  gx: Float64Array,
): void {
  const { rows, cols, data } = layer.weight;
  gx.fill(0, 0, T * cols);
  for (let t = 0; t < T; t++) {
    for (let r = 0; r < rows; r++) {
      const gr = gy[t * rows + r];
      if (gr === 0) continue;
      gb[r] += gr;
      const wOff = r * cols;
      for (let c = 0; c < cols; c++) {
        gW[wOff + c] += gr * x[t * cols + c];
        gx[t * cols + c] += data[wOff + c] * gr;
      }
    }
  }
}

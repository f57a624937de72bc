/**
 * AdamW with a cosine learning-rate schedule and global gradient-norm clipping, on flat Float64Arrays,
 * plus the projection that keeps every parameter realisable by the circuit after each step.
 */
import type { ParamLayout } from './params.js';

/** AdamW hyper-parameters (Loshchilov & Hutter's decoupled weight decay). */
export interface AdamWOptions {
  /** Adam's moment decay rates (PyTorch defaults). */
  readonly beta1: number;
  readonly beta2: number;
  /** Denominator guard (PyTorch default). */
  readonly eps: number;
  /** Decoupled weight decay per step, times the learning rate; applied to weights only. */
  readonly weightDecay: number;
}

export const DEFAULT_ADAMW: AdamWOptions = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 };

/** Optimiser state: first and second moments, step count. */
export interface AdamWState {
  readonly m: Float64Array;
  readonly v: Float64Array;
  step: number;
}

export function createAdamW(size: number): AdamWState {
  return { m: new Float64Array(size), v: new Float64Array(size), step: 0 };
}

/**
 * One AdamW step in place: theta -= lr * (m_hat / (sqrt(v_hat) + eps) + wd * theta * decay[i]).
 * `decay[i]` is 1 where weight decay applies (weights), 0 elsewhere (biases, cell thresholds, s0).
 */
export function adamwStep(
  state: AdamWState,
  theta: Float64Array,
  grad: Float64Array,
  lr: number,
  decay: Uint8Array,
  o: AdamWOptions = DEFAULT_ADAMW,
): void {
  state.step++;
  const bc1 = 1 - o.beta1 ** state.step;
  const bc2 = 1 - o.beta2 ** state.step;
  const { m, v } = state;
  for (let i = 0; i < theta.length; i++) {
    m[i] = o.beta1 * m[i] + (1 - o.beta1) * grad[i];
    v[i] = o.beta2 * v[i] + (1 - o.beta2) * grad[i] * grad[i];
    const update = m[i] / bc1 / (Math.sqrt(v[i] / bc2) + o.eps);
    theta[i] -= lr * (update + (decay[i] ? o.weightDecay * theta[i] : 0));
  }
}

/** Weight-decay mask of a layout: 1 on `weight` tensors. */
export function decayMask(layout: ParamLayout): Uint8Array {
  const mask = new Uint8Array(layout.size);
  for (const s of layout.slots) if (s.kind === 'weight') mask.fill(1, s.offset, s.offset + s.size);
  return mask;
}

/**
 * Learning rate at `step` of `total`: linear warm-up over `warmup` steps to `peak`, then half a cosine down
 * to `peak * floor` at the last step.
 */
export function cosineLr(step: number, total: number, peak: number, warmup: number, floor: number): number {
  if (step < warmup) return (peak * (step + 1)) / warmup;
  const progress = total > warmup ? Math.min(1, (step - warmup) / (total - warmup)) : 1;
  return peak * (floor + (1 - floor) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}

/** Scale `grad` in place so its L2 norm is at most `maxNorm`; returns the norm before clipping. */
export function clipGradNorm(grad: Float64Array, maxNorm: number): number {
  let sq = 0;
  for (let i = 0; i < grad.length; i++) sq += grad[i] * grad[i];
  const norm = Math.sqrt(sq);
  if (norm > maxNorm && norm > 0) {
    const k = maxNorm / norm;
    for (let i = 0; i < grad.length; i++) grad[i] *= k;
  }
  return norm;
}

/**
 * What the circuit realises well, in software units (1 unit = I_unit):
 * - weights: a mirror's |W| is a width ratio; |W| <= 2 is the top of the range src/model/random.ts draws for
 *   circuits (0.25-2: mirrors stay accurate across the reference 0.5-15 um width sweep around ~5 um unity).
 * - biases and cell parameters (alpha, beta_lo, delta): currents of at most 2 units (2 nA), inside the 0.1-3 nA
 *   range where the reference mirrors are unity-gain (DESIGN §3) and above every trained value the reference
 *   KWS model has (delta up to ~1.5 nA, DESIGN §1b).
 * - s0: only |s0| > 0.5 matters; keeping |s0| <= 1 stops it drifting where the surrogate no longer reaches.
 * - beta_lo >= 0.05 units (50 pA), 10x the cell's OFF-state leakage of ~3-5 pA (DESIGN §3): a lower beta_lo
 *   would let the leakage of a candidate the software sees as 0 hold the circuit's cell ON.
 */
export const LIMITS = { weight: 2, bias: 2, cell: 2, s0: 1, betaLoMin: 0.05 } as const;

export type Limits = { readonly [K in keyof typeof LIMITS]: number };

/**
 * Clamp every parameter into its realisable range (after each optimiser step); returns how many moved.
 * beta1 is raw (the model uses |beta1|), so its floor keeps the sign: |beta1| < min becomes +-min.
 */
export function projectToLimits(layout: ParamLayout, theta: Float64Array, limits: Limits = LIMITS): number {
  let clamped = 0;
  for (const slot of layout.slots) {
    const lim = limits[slot.kind];
    const floor = slot.name.endsWith('.cell.beta1') ? limits.betaLoMin : 0;
    for (let i = slot.offset; i < slot.offset + slot.size; i++) {
      const v = theta[i];
      const clampedV = Math.sign(v || 1) * Math.min(lim, Math.max(floor, Math.abs(v)));
      if (clampedV !== v) ((theta[i] = clampedV), clamped++);
    }
  }
  return clamped;
}

/**
 * The surrogate gradient of the cell's Heaviside (DESIGN §1: the state switches when the candidate crosses
 * beta_hi or beta_lo). The forward pass keeps the exact step; the backward pass uses the derivative of a
 * smooth arctan-shaped step of the same position:
 *
 *   H(x) ~ 1/2 + atan(pi x / w) / pi,      dH/dx ~ (1 / w) / (1 + (pi x / w)^2)
 *
 * `w` (the surrogate width, software units = multiples of I_unit) is the distance from the threshold at
 * which the derivative has fallen to 1/(1 + pi^2) ~ 9% of its peak 1/w. The normalisation 1/w makes the
 * surrogate integrate to 1 (as the true step's Dirac does), so changing `w` changes how far from a threshold
 * a candidate still feels it, not the total gradient a crossing carries.
 */

/**
 * Default surrogate width for thresholds in units (1 unit = I_unit = 1 nA by default). Candidates and
 * thresholds of a KWS model sit around 0.1-2 units (models/example/kws-example.json: beta_lo 0.15-0.8,
 * delta 0.1-0.5), so 0.25 units lets a candidate within about one hysteresis band of a threshold steer it,
 * while far-away frames (several units off) contribute < 1% of the peak.
 */
export const DEFAULT_SURROGATE_WIDTH = 0.25;

/**
 * Surrogate width for the learned initial state s0 (binarised at |s0| > 0.5, DESIGN §1): s0 is
 * dimensionless on a 0..1 scale, so half that scale lets any |s0| in [0, 1] move the binarised value.
 */
export const S0_SURROGATE_WIDTH = 0.5;

/** Smooth arctan step of width `w` (used by the gradient check's soft forward pass). */
export function softStep(x: number, w: number): number {
  return 0.5 + Math.atan((Math.PI * x) / w) / Math.PI;
}

/** Derivative of `softStep`: the surrogate dH/dx used in every backward pass. */
export function surrogateGrad(x: number, w: number): number {
  const z = (Math.PI * x) / w;
  return 1 / (w * (1 + z * z));
}

/** The exact Heaviside of the cell: ON at or above the threshold (DESIGN §1 uses c >= beta). */
export function hardStep(x: number): number {
  return x >= 0 ? 1 : 0;
}

/**
 * What a process's calibrated cell can hold, as limits the trainer projects the cell parameters into after every
 * step (`bmru train --process`): a model trained inside them builds on that process without `--clamp`. The limits
 * come from netlist/ranges.ts `processCellLimits` (the CLI joins the two: training stays below the netlist stage).
 */
import type { ParamLayout } from './params.js';

/** Cell limits in software units (1 = I_unit); every process named must hold the cell. */
export interface CellLimits {
  /** Processes the limits come from (for reports). */
  readonly processes: readonly string[];
  /** Lowest beta_hi and alpha (units): the bottom of the calibrated current range. */
  readonly minCurrent: number;
  /** Highest beta_hi and alpha (units): the top of the calibrated current range. */
  readonly maxCurrent: number;
  /** Lowest beta_lo (units) at this beta_hi (units): the widest hysteresis the calibrated cells hold. */
  readonly betaLoFloor: (betaHi: number) => number;
}

/**
 * Move each cell's (alpha, beta_hi, beta_lo) into `limits` in place, keeping the raw signs (the model reads |.|):
 * alpha and beta_hi into [minCurrent, maxCurrent], then beta_lo up to the floor at that beta_hi (beta_hi kept, the
 * hysteresis narrowed). Returns how many values moved.
 */
export function projectCells(layout: ParamLayout, theta: Float64Array, limits: CellLimits): number {
  let moved = 0;
  const set = (i: number, magnitude: number) => {
    const v = Math.sign(theta[i] || 1) * magnitude;
    if (v !== theta[i]) ((theta[i] = v), moved++);
  };
  const fit = (x: number) => Math.min(limits.maxCurrent, Math.max(limits.minCurrent, x));
  for (const slot of layout.slots) {
    if (!slot.name.endsWith('.cell.alpha')) continue;
    const block = slot.name.slice(0, -'.cell.alpha'.length);
    const b1 = layout.bySlot.get(`${block}.cell.beta1`)!;
    const d = layout.bySlot.get(`${block}.cell.delta`)!;
    for (let j = 0; j < slot.size; j++) {
      const ia = slot.offset + j;
      const ib = b1.offset + j;
      const id = d.offset + j;
      set(ia, fit(Math.abs(theta[ia])));
      const hi = fit(Math.abs(theta[ib]) + Math.abs(theta[id]));
      const lo = Math.min(hi, Math.max(Math.abs(theta[ib]), limits.betaLoFloor(hi)));
      set(ib, lo);
      set(id, hi - lo);
    }
  }
  return moved;
}

/** How one process realises the trainable parameters, as hardware-aware training's forward pass sees them. */
export interface ParamRealisation {
  /** Process name (for reports). */
  readonly process: string;
  /** The weight magnitude the process's mirror copy realises for |w| (width grid, smallest copy, 0 below half of it). */
  readonly weight: (absW: number) => number;
  /** Relative 1-sigma mismatch of the copy that realises a weight of this magnitude. */
  readonly weightSigma: (absW: number) => number;
  /** Relative 1-sigma mismatch of a bias current or alpha (a unity mirror). */
  readonly unitySigma: number;
  /** Relative 1-sigma mismatch of beta1 or delta (a threshold: the ratio of two unity mirrors). */
  readonly thresholdSigma: number;
}

/** A source of standard normal draws (util/random.ts `Rng` has one). */
interface NormalSource {
  normal(): number;
}

/**
 * The parameters one training step's forward and backward pass see (written to `out`): every weight as `r`
 * realises it, keeping its sign, and with `noise` > 0 every weight, bias and cell parameter times
 * (1 + noise * sigma * N(0, 1)), sigma the process's Pelgrom sigma of its element; s0 as it is. The trainer applies
 * the gradient taken at `out` to `theta` (straight-through: rounding and mismatch have no gradient of their own).
 */
export function realiseParams(
  layout: ParamLayout,
  theta: Float64Array,
  r: ParamRealisation,
  noise: number,
  rng: NormalSource,
  out: Float64Array,
): void {
  const jitter = (sigma: number) => (noise > 0 ? 1 + noise * sigma * rng.normal() : 1);
  for (const slot of layout.slots) {
    for (let i = slot.offset; i < slot.offset + slot.size; i++) {
      const v = theta[i];
      if (slot.kind === 'weight') {
        const w = Math.abs(v);
        out[i] = Math.sign(v) * r.weight(w) * jitter(r.weightSigma(w));
      } else if (slot.kind === 'bias') out[i] = v * jitter(r.unitySigma);
      else if (slot.kind === 'cell')
        out[i] = v * jitter(slot.name.endsWith('.alpha') ? r.unitySigma : r.thresholdSigma);
      else out[i] = v;
    }
  }
}

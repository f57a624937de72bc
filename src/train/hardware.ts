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

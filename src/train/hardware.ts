/**
 * What a process's calibrated cell can hold, as limits the trainer projects the cell parameters into after every
 * step (`bmru train --process`): a model trained inside them builds on that process without `--clamp`.
 */
import { physicalRanges, lowestBetaLoA } from '../netlist/ranges.js';
import type { Calibration } from '../netlist/calibration.js';
import type { Process } from '../netlist/process.js';
import { hardwareAwareNetwork, runHardwareAware } from '../analysis/hwmodel.js';
import { runNetwork, type InputSequence } from '../model/network.js';
import type { Network } from '../model/types.js';
import type { TrainingData } from './data.js';
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
 * The cell limits of the processes (each with its calibration) at every I_unit of `unitCurrentsA`: the tightest of
 * them. The widest hysteresis a cell holds is not proportional to its current, so a model built at several I_unit
 * (a power sweep) must be trained inside all of them.
 */
export function processCellLimits(
  processes: readonly { process: Process; calibration?: Calibration }[],
  unitCurrentsA: readonly number[],
): CellLimits {
  const ranges = processes.map((p) => physicalRanges(p.process, p.calibration));
  const lowest = Math.min(...unitCurrentsA);
  const highest = Math.max(...unitCurrentsA);
  return {
    processes: processes.map((p) => p.process.name),
    minCurrent: Math.max(...ranges.map((r) => r.currentA.min)) / lowest,
    maxCurrent: Math.min(...ranges.map((r) => r.currentA.max)) / highest,
    betaLoFloor: (betaHi) =>
      Math.max(...ranges.flatMap((r) => unitCurrentsA.map((u) => lowestBetaLoA(r.grid, betaHi * u) / u))),
  };
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

/**
 * How closely the circuits of `processes` follow a network on some clips: per process, the fraction of unit-frames
 * where the hardware-aware model (analysis/hwmodel.ts, the circuit's simulator at software speed) has the trained
 * network's state; the score is the worst process's. Used to pick the checkpoint (trainer.ts `hardwareScore`).
 */
export function hardwareAgreement(
  processes: readonly { process: Process; calibration?: Calibration }[],
  data: TrainingData,
  indices: ArrayLike<number>,
): (net: Network) => number {
  const clipSize = data.frames * data.features;
  const clip = (n: number): InputSequence => ({
    frames: data.frames,
    features: data.features,
    data: data.data.subarray(indices[n] * clipSize, (indices[n] + 1) * clipSize),
  });
  return (net) => {
    const trained = Array.from({ length: indices.length }, (_, n) => runNetwork(net, clip(n)).states);
    let worst = 1;
    for (const p of processes) {
      const hw = hardwareAwareNetwork(net, p.process, p.calibration);
      let agree = 0;
      let total = 0;
      for (let n = 0; n < indices.length; n++) {
        const states = runHardwareAware(hw, clip(n)).states;
        states.forEach((s, k) =>
          s.forEach((v, i) => {
            agree += v === trained[n][k][i] ? 1 : 0;
            total++;
          }),
        );
      }
      worst = Math.min(worst, total > 0 ? agree / total : 1);
    }
    return worst;
  };
}

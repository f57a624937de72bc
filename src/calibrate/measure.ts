/** Extract cell and mirror figures from the sweep plots of decks.ts. */
import type { RawPlot } from '../spice/rawfile.js';
import { vector } from '../spice/rawfile.js';
import { valueAt } from '../compare/sample.js';
import { SWEEP_A_PER_V } from './decks.js';

/** What one cell realises (A). */
export interface CellMeasurement {
  readonly betaHiA: number;
  readonly betaLoA: number;
  /** State current while ON, read at twice beta_hi on the downward sweep. */
  readonly onA: number;
  /** State current while OFF with no input. */
  readonly offA: number;
  /** State current on the OFF branch at the requested fractions of beta_hi (A), when asked for. */
  readonly offCurveA?: readonly number[];
  /**
   * Where each branch really ends (A): V0 past FOLD_LEVEL of the way to the other rail. beta_hi and beta_lo are read
   * where V0 crosses VDD/2 (the comparator's state); on the ON branch V0 can fall through VDD/2 well before the cell
   * lets go (GF180MCU, beta_lo 153 pA: V0 is at 0.54 V at 143.4 pA with the output still ON, the fold is at 143.1
   * pA), and an input back above beta_lo brings V0 back up: a state that reads OFF but remembers ON.
   */
  readonly betaHiFoldA?: number;
  readonly betaLoFoldA?: number;
}

/** How far past VDD/2 V0 must go (fraction of the way to the far rail) to count as the end of a branch. */
export const FOLD_LEVEL = 0.9;

/** Sweep value (as current, A) where V0 first crosses `level` along the sweep direction, or NaN if it never does. */
function switchPointA(plot: RawPlot, v0: string, level: number): number {
  const x = plot.real[0];
  const v = vector(plot, v0);
  const start = v[0] >= level;
  for (let i = 1; i < v.length; i++) {
    if (v[i] >= level !== start) return 0.5 * (x[i - 1] + x[i]) * SWEEP_A_PER_V;
  }
  return Number.NaN;
}

/**
 * Cell figures from an upward (OFF start) and a downward (ON start) sweep of the same cells; `offFractions`: also
 * read the OFF branch's state current at these fractions of beta_hi.
 */
export function measureCells(
  up: RawPlot,
  down: RawPlot,
  count: number,
  vddV: number,
  offFractions?: readonly number[],
): CellMeasurement[] {
  const half = vddV / 2;
  const xDown = down.real[0];
  // valueAt wants increasing abscissae; the downward sweep is reversed once here.
  const xAsc = Float64Array.from(xDown).reverse();
  return Array.from({ length: count }, (_, k) => {
    const betaHiA = switchPointA(up, `v(c${k}_v0)`, half);
    const betaLoA = switchPointA(down, `v(c${k}_v0)`, half);
    const iDown = Float64Array.from(vector(down, `i(vm_c${k})`)).reverse();
    const onA = valueAt(xAsc, iDown, Math.min((2 * betaHiA) / SWEEP_A_PER_V, xAsc[xAsc.length - 1]));
    const betaHiFoldA = switchPointA(up, `v(c${k}_v0)`, half + FOLD_LEVEL * half);
    const betaLoFoldA = switchPointA(down, `v(c${k}_v0)`, half - FOLD_LEVEL * half);
    const iUp = vector(up, `i(vm_c${k})`);
    const offA = iUp[0];
    const offCurveA =
      offFractions && Number.isFinite(betaHiA)
        ? offFractions.map((f) => valueAt(up.real[0], iUp, (f * betaHiA) / SWEEP_A_PER_V))
        : undefined;
    return { betaHiA, betaLoA, onA, offA, betaHiFoldA, betaLoFoldA, ...(offCurveA ? { offCurveA } : {}) };
  });
}

/** Mirror gain (I_out / I_ref) per ratio and polarity, at each requested reference current. */
export type MirrorLoad = 'p' | 'n' | 'ps' | 'ns';

/** Mirror gain (I_out / I_ref) per load (see mirrorSweepDeck), ratio and reference current. */
export function measureMirrors(
  plot: RawPlot,
  ratios: readonly number[],
  currentsA: readonly number[],
): Record<MirrorLoad, number[][]> {
  const x = plot.real[0];
  const gains = (pol: MirrorLoad) =>
    ratios.map((_, k) => {
      const y = vector(plot, `i(vm_${pol}${k})`);
      return currentsA.map((iA) => valueAt(x, y, iA / SWEEP_A_PER_V) / iA);
    });
  return { p: gains('p'), n: gains('n'), ps: gains('ps'), ns: gains('ns') };
}

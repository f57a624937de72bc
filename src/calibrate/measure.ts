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
}

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

/** Cell figures from an upward (OFF start) and a downward (ON start) sweep of the same cells. */
export function measureCells(up: RawPlot, down: RawPlot, count: number, vddV: number): CellMeasurement[] {
  const half = vddV / 2;
  const xDown = down.real[0];
  // valueAt wants increasing abscissae; the downward sweep is reversed once here.
  const xAsc = Float64Array.from(xDown).reverse();
  return Array.from({ length: count }, (_, k) => {
    const betaHiA = switchPointA(up, `v(c${k}_v0)`, half);
    const betaLoA = switchPointA(down, `v(c${k}_v0)`, half);
    const iDown = Float64Array.from(vector(down, `i(vm_c${k})`)).reverse();
    const onA = valueAt(xAsc, iDown, Math.min((2 * betaHiA) / SWEEP_A_PER_V, xAsc[xAsc.length - 1]));
    const offA = vector(up, `i(vm_c${k})`)[0];
    return { betaHiA, betaLoA, onA, offA };
  });
}

/** Mirror gain (I_out / I_ref) per ratio and polarity, at each requested reference current. */
export type MirrorLoad = 'p' | 'n' | 'ps' | 'ns';

/** Mirror gain (I_out / I_ref) per load (see mirrorSweepDeck), ratio and reference current. */
export function measureMirrors(plot: RawPlot, ratios: readonly number[], currentsA: readonly number[]): Record<MirrorLoad, number[][]> {
  const x = plot.real[0];
  const gains = (pol: MirrorLoad) =>
    ratios.map((_, k) => {
      const y = vector(plot, `i(vm_${pol}${k})`);
      return currentsA.map((iA) => valueAt(x, y, iA / SWEEP_A_PER_V) / iA);
    });
  return { p: gains('p'), n: gains('n'), ps: gains('ps'), ns: gains('ns') };
}

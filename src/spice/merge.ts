/**
 * Transient plots of several decks over the same span merged into one, as if one deck had written them: what a
 * partitioned run (netlist/partition.ts) hands the comparator. Each deck steps on its own time grid, and each
 * vector keeps it (the plot's `timeOf`; read with `series`): resampling every vector onto the union of the grids
 * cost memory in proportion to vectors x partitions x points (5.4 GB at width 64 over 5 frames) and added nothing,
 * since the comparator interpolates a waveform between its own points anyway. Vectors that every deck has on its
 * own share of the circuit (the supply currents) are summed, on the union grid, which is the plot's scale; any
 * other vector is taken from the first plot that holds it.
 */
import { canonicalVectorName, type RawPlot, type RawVector, type Series } from './rawfile.js';

/**
 * One plot of the plots' vectors, each on its own deck's time grid; `summed`: vector names (any spelling `vector`
 * accepts) to add up over every plot that has them, on the union of the grids (the merged plot's scale).
 *
 * @throws RangeError when a plot's scale is not time, or there is no plot
 * @example mergeTransientPlots([front, block0, block1], ['i(vvdd_ff)']) // i(vvdd_ff) = sum of the three
 */
export function mergeTransientPlots(plots: readonly RawPlot[], summed: readonly string[]): RawPlot {
  if (plots.length === 0) throw new RangeError('expected at least one plot to merge');
  for (const p of plots)
    if (p.vectors[0]?.type !== 'time') throw new RangeError(`expected transient plots, got "${p.plotname}"`);
  const grid = unionGrid(plots.map((p) => p.real[0]));
  const sumSet = new Set(summed.map(canonicalVectorName));
  const vectors: RawVector[] = [plots[0].vectors[0]];
  const real: Float64Array[] = [grid];
  const timeOf: (Float64Array | undefined)[] = [undefined];
  const parts = new Map<string, Series[]>();
  const at = new Map<string, number>();
  for (const p of plots) {
    for (let i = 1; i < p.vectors.length; i++) {
      const c = canonicalVectorName(p.vectors[i].name);
      if (sumSet.has(c)) parts.get(c)?.push({ timeS: p.real[0], y: p.real[i] });
      if (at.has(c)) continue;
      at.set(c, real.length);
      vectors.push(p.vectors[i]);
      if (sumSet.has(c)) {
        parts.set(c, [{ timeS: p.real[0], y: p.real[i] }]);
        real.push(grid); // replaced by the sum below
        timeOf.push(undefined);
      } else {
        real.push(p.real[i]);
        timeOf.push(p.real[0]);
      }
    }
  }
  for (const [c, ps] of parts) real[at.get(c)!] = sumOnGrid(ps, grid);
  return { ...plots[0], complex: false, vectors, numPoints: grid.length, real, imag: undefined, timeOf };
}

/**
 * The sum of piecewise-linear waveforms (each held at its end values outside its span) at every point of `grid`,
 * a sorted superset of their time points. The sum is linear between grid points, so it is carried from point to
 * point with the sum of the waveforms' slopes, which changes only at their own points: time in proportion to their
 * points (x log grid) instead of waveforms x grid, which at width 64 (262 partitions) cost more than the rest of
 * the merge. At a repeated time the later value wins, as `valueAt` reads it.
 */
export function sumOnGrid(parts: readonly Series[], grid: Float64Array): Float64Array {
  const n = grid.length;
  const slopeStep = new Float64Array(n);
  const jump = new Float64Array(n);
  for (const { timeS: t, y } of parts) {
    jump[0] += y[0];
    for (let j = 0; j + 1 < t.length; j++) {
      const k = gridIndex(grid, t[j]);
      if (t[j + 1] === t[j]) {
        jump[k] += y[j + 1] - y[j];
        continue;
      }
      const slope = (y[j + 1] - y[j]) / (t[j + 1] - t[j]);
      slopeStep[k] += slope;
      slopeStep[gridIndex(grid, t[j + 1])] -= slope;
    }
  }
  const out = new Float64Array(n);
  let value = 0;
  let slope = 0;
  for (let k = 0; k < n; k++) {
    if (k > 0) value += slope * (grid[k] - grid[k - 1]);
    value += jump[k];
    out[k] = value;
    slope += slopeStep[k];
  }
  return out;
}

/** Index of time `t` in `grid` (sorted; `t` one of its points). */
function gridIndex(grid: Float64Array, t: number): number {
  let lo = 0;
  let hi = grid.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (grid[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Sorted union of time grids, equal times once. */
export function unionGrid(times: readonly Float64Array[]): Float64Array {
  const all = new Float64Array(times.reduce((n, t) => n + t.length, 0));
  let o = 0;
  for (const t of times) {
    all.set(t, o);
    o += t.length;
  }
  all.sort();
  let n = 0;
  for (let i = 0; i < all.length; i++) if (n === 0 || all[i] !== all[n - 1]) all[n++] = all[i];
  return all.slice(0, n);
}

/** One time window's transient (netlist/window.ts): its plot, where its t = 0 is in clip time, what it keeps. */
export interface WindowPlot {
  readonly plot: RawPlot;
  /** Clip time of the window's t = 0 (s). */
  readonly offsetS: number;
  /** Clip time from which its points are kept (s): the window before it ends there. */
  readonly keepFromS: number;
}

/**
 * How far past the window before's end a point must lie to be kept (relative to the clip time): ngspice's last point
 * lands on tstop to rounding, and the next window's first points (an input edge starts there) must not repeat it.
 */
const STITCH_REL_TOL = 1e-9;

/**
 * Transient plots of consecutive time windows of one deck, as one plot on clip time: every point of the first
 * window, then each later window's points after its `keepFromS` (its warm-up dropped), shifted by its offset.
 *
 * @throws RangeError when there is no window, a plot is not a transient, or the windows' vectors differ
 */
export function stitchTransientPlots(windows: readonly WindowPlot[]): RawPlot {
  if (windows.length === 0) throw new RangeError('expected at least one window to stitch');
  const names = windows[0].plot.vectors.map((v) => v.name);
  for (const { plot } of windows) {
    if (plot.vectors[0]?.type !== 'time') throw new RangeError(`expected transient plots, got "${plot.plotname}"`);
    const these = plot.vectors.map((v) => v.name);
    if (these.length !== names.length || these.some((n, i) => n !== names[i]))
      throw new RangeError(`expected every window to hold the same vectors, got ${these.length} vs ${names.length}`);
  }
  const kept = windows.map(({ plot, offsetS, keepFromS }, w) => {
    const time = plot.real[0];
    let from = 0;
    if (w > 0) while (from < time.length && time[from] + offsetS <= keepFromS * (1 + STITCH_REL_TOL)) from++;
    return { from, n: time.length - from };
  });
  const total = kept.reduce((s, k) => s + k.n, 0);
  const real = names.map((_, v) => {
    const out = new Float64Array(total);
    let o = 0;
    windows.forEach(({ plot, offsetS }, w) => {
      const { from, n } = kept[w];
      const src = plot.real[v].subarray(from, from + n);
      if (v === 0) for (let i = 0; i < n; i++) out[o + i] = src[i] + offsetS;
      else out.set(src, o);
      o += n;
    });
    return out;
  });
  return { ...windows[0].plot, complex: false, numPoints: total, real, imag: undefined, timeOf: undefined };
}

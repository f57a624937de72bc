/**
 * Transient plots of several decks over the same span merged into one, as if one deck had written them: what a
 * partitioned run (netlist/partition.ts) hands the comparator, which reads one plot. Each deck steps on its own
 * time grid; the merged plot's grid is their union and each vector is linearly interpolated onto it, which is how
 * the comparator reads a plot between its points anyway (so frame samples and extremes are unchanged). Vectors
 * that every deck has on its own share of the circuit (the supply currents) are summed; any other vector is taken
 * from the first plot that holds it.
 */
import { canonicalVectorName, type RawPlot, type RawVector } from './rawfile.js';

/**
 * One plot on the union of the plots' time grids. `summed`: vector names (any spelling `vector` accepts) to add
 * up over every plot that has them.
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
  const at = new Map<string, number>();
  for (const p of plots) {
    for (let i = 1; i < p.vectors.length; i++) {
      const c = canonicalVectorName(p.vectors[i].name);
      const have = at.get(c);
      if (have !== undefined && !sumSet.has(c)) continue;
      const y = resample(p.real[0], p.real[i], grid);
      if (have === undefined) {
        at.set(c, real.length);
        vectors.push(p.vectors[i]);
        real.push(y);
      } else {
        const acc = real[have];
        for (let k = 0; k < acc.length; k++) acc[k] += y[k];
      }
    }
  }
  return { ...plots[0], complex: false, vectors, numPoints: grid.length, real, imag: undefined };
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

/**
 * y(time) linearly interpolated at each point of `grid` (both ascending), held at the end values outside `time`'s
 * span; at a repeated time the later value wins, as `valueAt` reads it.
 */
export function resample(time: Float64Array, y: Float64Array, grid: Float64Array): Float64Array {
  const out = new Float64Array(grid.length);
  const last = time.length - 1;
  let j = 0;
  for (let k = 0; k < grid.length; k++) {
    const t = grid[k];
    if (t <= time[0]) {
      out[k] = y[0];
      continue;
    }
    if (t >= time[last]) {
      out[k] = y[last];
      continue;
    }
    while (j < last && time[j + 1] <= t) j++;
    const f = (t - time[j]) / (time[j + 1] - time[j]);
    out[k] = y[j] + f * (y[j + 1] - y[j]);
  }
  return out;
}

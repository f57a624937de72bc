/**
 * Checks and shapes plot data before it reaches the renderer. Vega silently drops NaN and non-positive values on
 * log scales; a plot that quietly lost points misleads more than one that refuses, so every check here throws a
 * RangeError that names the series, the axis and the index.
 */

/** How one series is drawn: `step` holds each y until the next x (sample-and-hold frames); `dashed` suits fits. */
/** `dashed-step`: a sampled quantity (held between samples, as `step`) drawn dashed beside a stepped reference. */
export type Mark = 'line' | 'point' | 'step' | 'dashed' | 'dashed-step';

/** One axis: `label` carries the unit (e.g. 'width N', 'power (W)'); `format` is a d3-format specifier. */
export interface Axis {
  readonly label: string;
  readonly log?: boolean;
  /** Fixed [min, max]; without it the axis fits the data. Points outside are clipped. */
  readonly domain?: readonly [number, number];
  readonly format?: string;
  /** Counts and indices (frames, units, widths): ticks at whole numbers only, never 0.5. */
  readonly integer?: boolean;
}

/** One named curve; x[i] pairs with y[i], and points are joined in the order given. */
export interface Series {
  readonly name: string;
  readonly x: ArrayLike<number>;
  readonly y: ArrayLike<number>;
  /** Default 'line'. */
  readonly mark?: Mark;
}

/** Histogram bins: `counts[i]` values fell in [edges[i], edges[i + 1]); the last bin also holds its upper edge. */
export interface Bins {
  readonly edges: number[];
  readonly counts: number[];
  /** Values outside a fixed extent, not counted in any bin. */
  readonly outside: number;
}

/** Half-width of the single bin made when all values are equal, relative to the value (or absolute at 0). */
const DEGENERATE_HALF_WIDTH = 0.5;

/** Throws unless `v` can be drawn on `axis`: finite, and positive on a log axis. */
export function checkValue(v: number, axis: Axis, axisName: 'x' | 'y', where: string, index: number): void {
  if (!Number.isFinite(v)) throw new RangeError(`${where} index ${index}: ${axisName} = ${v} is not finite`);
  if (axis.log && v <= 0) {
    throw new RangeError(
      `${where} index ${index}: ${axisName} = ${v} is not positive, the log ${axisName} axis ('${axis.label}') needs values > 0`,
    );
  }
}

/** Throws unless a fixed domain is an increasing pair of finite numbers, positive on a log axis. */
export function checkDomain(axis: Axis, axisName: 'x' | 'y'): void {
  if (!axis.domain) return;
  const [lo, hi] = axis.domain;
  if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo < hi)) {
    throw new RangeError(`${axisName} axis ('${axis.label}'): domain [${lo}, ${hi}] must be finite and increasing`);
  }
  if (axis.log && lo <= 0)
    throw new RangeError(`${axisName} axis ('${axis.label}'): log domain [${lo}, ${hi}] must be positive`);
}

/** Throws unless there is a point to draw, the series are uniquely named (the legend keys on names) and drawable on the axes. */
export function checkSeries(series: readonly Series[], x: Axis, y: Axis): void {
  if (series.length === 0) throw new RangeError('a line chart needs at least one series');
  checkDomain(x, 'x');
  checkDomain(y, 'y');
  if (series.every((s) => s.x.length === 0)) throw new RangeError('a line chart needs at least one point');
  const seen = new Set<string>();
  for (const s of series) {
    const where = `series '${s.name}'`;
    if (seen.has(s.name)) throw new RangeError(`${where} appears twice; the legend needs unique names`);
    seen.add(s.name);
    if (s.x.length !== s.y.length) throw new RangeError(`${where}: x has ${s.x.length} values, y has ${s.y.length}`);
    for (let i = 0; i < s.x.length; i++) {
      checkValue(s.x[i], x, 'x', where, i);
      checkValue(s.y[i], y, 'y', where, i);
    }
  }
}

/** Extent of the values in the axis's own coordinate (log10 on a log axis), widened when all values are equal. */
function binExtent(t: readonly number[], axis: Axis): [number, number] {
  if (axis.domain)
    return axis.log ? [Math.log10(axis.domain[0]), Math.log10(axis.domain[1])] : [axis.domain[0], axis.domain[1]];
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of t) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (lo < hi) return [lo, hi];
  const half = Math.abs(lo) * DEGENERATE_HALF_WIDTH || DEGENERATE_HALF_WIDTH;
  return [lo - half, hi + half];
}

/** Bin count by Sturges' rule: grows with the sample so small Monte Carlo runs do not scatter into empty bins. */
export function defaultBins(n: number): number {
  return Math.ceil(Math.log2(Math.max(n, 1))) + 1;
}

/** Equal-width bins over the data (or `axis.domain`); equal in log10 on a log axis so each decade looks alike. */
export function binValues(values: ArrayLike<number>, axis: Axis, bins: number = defaultBins(values.length)): Bins {
  if (values.length === 0) throw new RangeError('a histogram needs at least one value');
  if (!(Number.isInteger(bins) && bins >= 1)) throw new RangeError(`bins = ${bins} must be a positive integer`);
  checkDomain(axis, 'x');
  const t: number[] = [];
  for (let i = 0; i < values.length; i++) {
    checkValue(values[i], axis, 'x', 'values', i);
    t.push(axis.log ? Math.log10(values[i]) : values[i]);
  }
  const [lo, hi] = binExtent(t, axis);
  const step = (hi - lo) / bins;
  const counts = new Array<number>(bins).fill(0);
  let outside = 0;
  for (const v of t) {
    if (v < lo || v > hi) {
      outside++;
      continue;
    }
    counts[Math.min(bins - 1, Math.floor((v - lo) / step))]++;
  }
  const edges = Array.from({ length: bins + 1 }, (_, i) => (i === bins ? hi : lo + i * step));
  return { edges: axis.log ? edges.map((e) => 10 ** e) : edges, counts, outside };
}

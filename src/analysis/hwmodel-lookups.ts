/**
 * The table lookups of the hardware-aware model's inner loop (analysis/hwmodel.ts): the measured tables of
 * netlist/hardware-tables.ts packed into software units, read by piecewise-linear interpolation, and the rail law.
 * Kept apart from the model (and out of analysis/index.ts) so that each can be tested on a table worked by hand.
 */
import { interpolate } from '../netlist/calibration.js';
import type { CopyTable, KneeTable } from '../netlist/hardware-tables.js';

/** A knee table in software units, flattened for the inner loop (excess over max(h, 0), row-major). */
export interface PackedKnee {
  readonly rows: Float64Array;
  readonly cols: Float64Array;
  readonly excess: Float64Array;
  /** Largest tabulated h: above it the node is ideal. */
  readonly top: number;
  /** Largest tabulated N: above it the last row is used. */
  readonly maxRow: number;
}

/**
 * The copy curves of one rail polarity in software units (rail current r -> copy current per unit gain), resampled
 * for an O(1) lookup: COPY_LUT + 1 points uniform in sqrt(r / top), [other-type load, own-type load] interleaved.
 * Uniform in sqrt(r) puts the points where the curve bends (near zero: 0.01 pA apart at top = 3 nA) and keeps
 * linear interpolation within 0.003 pA of the table's own interpolation where it is straight.
 */
export interface PackedCopy {
  readonly top: number;
  readonly lut: Float64Array;
  /** Beyond top: copy = r * slope. */
  readonly slopeOpposite: number;
  readonly slopeSame: number;
}

const COPY_LUT = 512;

/** A knee table in software units (`unitA` amperes per unit), checked for shape. */
export function packKnee(t: KneeTable | undefined, unitA: number): PackedKnee | undefined {
  if (!t) return undefined;
  const nc = t.netA.length;
  if (t.diodeA.length !== t.opposingA.length || t.diodeA.some((r) => r.length !== nc)) {
    throw new RangeError('knee table: diodeA must be [opposingA.length][netA.length]');
  }
  return {
    rows: Float64Array.from(t.opposingA, (v) => v / unitA),
    cols: Float64Array.from(t.netA, (v) => v / unitA),
    excess: Float64Array.from(t.diodeA.flatMap((row) => row.map((v, c) => (v - Math.max(t.netA[c], 0)) / unitA))),
    top: t.netA[nc - 1] / unitA,
    maxRow: t.opposingA[t.opposingA.length - 1] / unitA,
  };
}

/** The copy curves of rails of `polarity`, resampled for `copyAt` (software units). */
export function packCopy(t: CopyTable | undefined, polarity: 'n' | 'p', unitA: number): PackedCopy | undefined {
  if (!t) return undefined;
  const opp = t[polarity];
  const same = t[polarity === 'n' ? 'nSame' : 'pSame'];
  const n = t.currentsA.length - 1;
  if (opp.length !== n + 1 || same.length !== n + 1) throw new RangeError('copy table: one value per current');
  const xs = t.currentsA;
  const top = xs[n];
  const lut = new Float64Array(2 * (COPY_LUT + 1));
  for (let k = 0; k <= COPY_LUT; k++) {
    const r = top * (k / COPY_LUT) ** 2;
    lut[2 * k] = interpolate(xs, opp, r) / unitA;
    lut[2 * k + 1] = interpolate(xs, same, r) / unitA;
  }
  return { top: top / unitA, lut, slopeOpposite: opp[n] / top, slopeSame: same[n] / top };
}

/** Piecewise-linear y(x) on increasing x, held beyond the ends (a short table: linear scan). */
export function curveAt(x: Float64Array, y: Float64Array, v: number): number {
  if (v <= x[0]) return y[0];
  const n = x.length - 1;
  if (v >= x[n]) return y[n];
  let i = 0;
  while (v > x[i + 1]) i++;
  return y[i] + ((v - x[i]) / (x[i + 1] - x[i])) * (y[i + 1] - y[i]);
}

/** Index of the segment of a sorted Float64Array holding v (clamped to the first / last). */
export function seg(xs: Float64Array, v: number): number {
  let lo = 0;
  let hi = xs.length - 1;
  if (v <= xs[0]) return 0;
  if (v >= xs[hi]) return hi - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] <= v) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** A summing node's steady diode current for sourced P and opposing N (units): ideal above the table, else the measured excess, bilinear in (N, h). */
export function kneeAt(k: PackedKnee | undefined, P: number, N: number): number {
  const h = P - N;
  const ideal = h > 0 ? h : 0;
  // With nothing opposing, the diode takes all of P (the table's first row, N = 0, is exact there).
  if (k === undefined || h >= k.top || N <= 0) return ideal;
  const n = N < k.maxRow ? (N > 0 ? N : 0) : k.maxRow;
  const r = seg(k.rows, n);
  const wr = (n - k.rows[r]) / (k.rows[r + 1] - k.rows[r]);
  const c = seg(k.cols, h);
  let wc = (h - k.cols[c]) / (k.cols[c + 1] - k.cols[c]);
  if (wc < 0) wc = 0;
  const a = r * k.cols.length + c;
  const b = a + k.cols.length;
  const e = k.excess;
  const lo = e[a] + wc * (e[a + 1] - e[a]);
  const hi = e[b] + wc * (e[b + 1] - e[b]);
  const d = ideal + lo + wr * (hi - lo);
  return d > 0 ? d : 0;
}

/** What copies of rail p pass per unit gain, into pass[2p] (other-type load) and pass[2p + 1] (own type). */
export function copyAt(cp: PackedCopy | undefined, r: number, p: number, pass: Float64Array): void {
  if (cp === undefined) {
    pass[2 * p] = r;
    pass[2 * p + 1] = r;
    return;
  }
  if (r >= cp.top) {
    pass[2 * p] = r * cp.slopeOpposite;
    pass[2 * p + 1] = r * cp.slopeSame;
    return;
  }
  const u = Math.sqrt(r / cp.top) * COPY_LUT;
  const i = u | 0;
  const w = u - i;
  const lut = cp.lut;
  pass[2 * p] = lut[2 * i] + w * (lut[2 * i + 2] - lut[2 * i]);
  pass[2 * p + 1] = lut[2 * i + 1] + w * (lut[2 * i + 3] - lut[2 * i + 1]);
}

/**
 * A rail's current after `x` = dt / Q of Q dr/dt = r (h - r) from r0 (exact: 1/r relaxes linearly,
 * d(1/r)/dt = (1 - h/r) / Q): towards h when h > 0, down at rate |h| / Q when h < 0.
 */
export function railStep(r0: number, h: number, x: number): number {
  const y0 = 1 / r0;
  const hx = h * x;
  const y = hx > -1e-9 && hx < 1e-9 ? y0 + x * (1 - h * y0) : 1 / h + (y0 - 1 / h) * Math.exp(-hx);
  return 1 / y;
}

/** Switching time (s) of a cell from its ln-time row at relative overdrive d (log-log, extrapolated at the ends). */
export function switchTime(row: Float64Array, logOd: Float64Array, d: number): number {
  const ld = Math.log(d > 1e-6 ? d : 1e-6);
  const n = logOd.length - 1;
  let i = 0;
  while (i < n - 1 && ld > logOd[i + 1]) i++;
  return Math.exp(row[i] + ((ld - logOd[i]) / (logOd[i + 1] - logOd[i])) * (row[i + 1] - row[i]));
}

/** A commit ratio at relative overdrive d (linear in log d between the measured overdrives, held beyond them). */
export function commitAt(row: Float64Array, logOd: Float64Array, d: number): number {
  const ld = Math.log(d > 1e-6 ? d : 1e-6);
  const n = logOd.length - 1;
  if (ld <= logOd[0]) return row[0];
  if (ld >= logOd[n]) return row[n];
  let i = 0;
  while (ld > logOd[i + 1]) i++;
  return row[i] + ((ld - logOd[i]) / (logOd[i + 1] - logOd[i])) * (row[i + 1] - row[i]);
}

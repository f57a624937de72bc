/**
 * Calibration tables (DESIGN §2): what the circuit realises for a given element value, measured with ngspice
 * sweeps (`bmru calibrate`) and stored per process as `calibration.json` beside `process.json`. The generator
 * inverts them so that realised parameters match trained ones; without a table the transfer is the identity.
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { InputError, parseWith } from '../errors.js';
import { HardwareTablesSchema } from './hardware-tables.js';

/** A monotone transfer y = f(x) sampled at increasing x (both in the units named by the owner). */
const TableSchema = z.object({ x: z.array(z.number()).min(2), y: z.array(z.number()).min(2) });
export type Table = z.infer<typeof TableSchema>;

const CalibrationSchema = z.object({
  process: z.string(),
  ngspiceVersion: z.string().optional(),
  createdAt: z.string().optional(),
  /**
   * Fingerprint of the method that measured the tables (calibrate/method.ts `calibrationMethod`: the sweep decks
   * and grids); absent in files older than it. Tables of another method are stale: see `methodMismatch`.
   */
  method: z.string().optional(),
  /** Supply (V) the tables were measured at: every current a stack can pass depends on its headroom. Absent in older files. */
  vddV: z.number().positive().optional(),
  /**
   * Cell. `grid`: beta_hi and beta_hi - beta_lo (both divided by I_thresh) measured on a grid of I_thresh rows x
   * I_width / I_thresh fractions, because the two biases interact: the feedback current starts to flow before the
   * switch (beta_hi falls ~4% at I_width = 7% of I_thresh) and the width a feedback current buys depends on the
   * threshold it works against. `gain`: I_gain (A) -> ON level (A).
   */
  cell: z
    .object({
      grid: z.object({
        thresh: z.array(z.number()).min(1),
        fractions: z.array(z.number()).min(2),
        betaHi: z.array(z.array(z.number())),
        delta: z.array(z.array(z.number())),
      }),
      gain: TableSchema,
    })
    .partial(),
  /**
   * Mirrors: nominal width ratio -> measured current gain, per device polarity and load: `n`/`p` copy into a
   * diode of the opposite type, `nSame`/`pSame` into a node held by a diode of their own type.
   */
  mirror: z.object({ n: TableSchema, p: TableSchema, nSame: TableSchema, pSame: TableSchema }).partial(),
  /** Residual error after inversion, for the report (fraction or A, as named). */
  residual: z.record(z.string(), z.number()).optional(),
  /** Summing-node knees and cell OFF leakage for the hardware-aware model (hardware-tables.ts); absent in older files. */
  hardware: HardwareTablesSchema.optional(),
});
export type Calibration = z.infer<typeof CalibrationSchema>;

export const CALIBRATION_FILE = 'calibration.json';

/**
 * The calibration stored beside a process, or undefined if there is none. Given the process's supply, tables
 * measured at another VDD are refused: they would realise every element for a headroom the circuit does not have.
 */
export async function loadCalibration(processDir: string, expect?: { vddV: number }): Promise<Calibration | undefined> {
  const path = join(processDir, CALIBRATION_FILE);
  if (!existsSync(path)) return undefined;
  const calibration = parseWith(CalibrationSchema, JSON.parse(await readFile(path, 'utf8')), path);
  for (const [name, t] of tables(calibration)) checkTable(t, name, path);
  if (expect && calibration.vddV !== undefined && !sameVdd(calibration.vddV, expect.vddV))
    throw new InputError(
      `tables measured at VDD = ${calibration.vddV} V, but process.json sets vddV = ${expect.vddV} V: re-measure them with bmru calibrate -p <this process> (about a minute on c180), or run with --no-calibrated`,
      { file: path, field: 'vddV' },
    );
  return calibration;
}

/** Hex digits of a method fingerprint that messages show: enough to tell two apart by eye. */
const SHOWN_METHOD_DIGITS = 12;

/**
 * Why tables were measured by another method than `method` (the fingerprint this toolkit writes), or undefined
 * when they carry it. Tables without a fingerprint predate it, so nothing says which method measured them.
 */
export function methodMismatch(calibration: Pick<Calibration, 'method'>, method: string): string | undefined {
  if (calibration.method === method) return undefined;
  const now = method.slice(0, SHOWN_METHOD_DIGITS);
  return calibration.method === undefined
    ? `measured by another calibration method (the tables carry no method fingerprint; this toolkit's is ${now})`
    : `measured by another calibration method (fingerprint ${calibration.method.slice(0, SHOWN_METHOD_DIGITS)}, this toolkit's ${now})`;
}

/** Supplies closer than this are one setting (V): a JSON round trip of a decimal volt value. */
const SAME_VDD_V = 1e-9;

/** Whether two supplies (V) are the same setting. */
export function sameVdd(aV: number, bV: number): boolean {
  return Math.abs(aV - bV) <= SAME_VDD_V;
}

function tables(c: Calibration): [string, Table][] {
  const out: [string, Table][] = [];
  if (c.cell.gain) out.push(['cell.gain', c.cell.gain]);
  for (const [k, t] of Object.entries(c.mirror)) if (t) out.push([`mirror.${k}`, t]);
  return out;
}

function checkTable(t: Table, name: string, file: string): void {
  if (t.x.length !== t.y.length)
    throw new InputError(`x and y differ in length (${t.x.length} vs ${t.y.length})`, { file, field: name });
  for (let i = 1; i < t.x.length; i++) {
    if (!(t.x[i] > t.x[i - 1]) || !(t.y[i] > t.y[i - 1])) {
      throw new InputError('expected strictly increasing x and y (a monotone transfer)', {
        file,
        field: name,
        index: i,
      });
    }
  }
}

/** Piecewise-linear y(x), extrapolating linearly from the end segments. */
export function interpolate(xs: readonly number[], ys: readonly number[], x: number): number {
  let i = 1;
  while (i < xs.length - 1 && x > xs[i]) i++;
  const t = (x - xs[i - 1]) / (xs[i] - xs[i - 1]);
  return ys[i - 1] + t * (ys[i] - ys[i - 1]);
}

/** Forward transfer (element value -> realised parameter); identity without a table. */
export function forward(table: Table | undefined, x: number): number {
  return table ? interpolate(table.x, table.y, x) : x;
}

/** Inverse transfer (wanted parameter -> element value); identity without a table. */
export function inverse(table: Table | undefined, y: number): number {
  return table ? interpolate(table.y, table.x, y) : y;
}

export type CellGrid = NonNullable<Calibration['cell']['grid']>;

/**
 * The bracketing rows of the grid and the weight of the upper one (linear in log I_thresh, clamped at the ends:
 * thresholds outside the measured rows use the nearest row's normalised values).
 */
function bracket(rowsAtA: readonly number[], threshA: number): [number, number, number] {
  if (rowsAtA.length === 1 || threshA <= rowsAtA[0]) return [0, 0, 0];
  const last = rowsAtA.length - 1;
  if (threshA >= rowsAtA[last]) return [last, last, 0];
  let i = 1;
  while (threshA > rowsAtA[i]) i++;
  const f = Math.log(threshA / rowsAtA[i - 1]) / Math.log(rowsAtA[i] / rowsAtA[i - 1]);
  return [i - 1, i, f];
}

/** What a cell realises (A) for biases I_thresh and I_width; identity (beta_hi = I_thresh, delta = I_width) without a grid. */
export function cellForward(
  grid: CellGrid | undefined,
  threshA: number,
  widthA: number,
): { betaHiA: number; deltaA: number } {
  if (!grid) return { betaHiA: threshA, deltaA: widthA };
  if (threshA <= 0) return { betaHiA: 0, deltaA: 0 };
  const [lo, hi, w] = bracket(grid.thresh, threshA);
  const frac = widthA / threshA;
  const at = (table: number[][], r: number) => interpolate(grid.fractions, table[r], frac);
  const mix = (table: number[][]) => at(table, lo) + w * (at(table, hi) - at(table, lo));
  // Widths below the sweep resolution interpolate to tiny negatives; a hysteresis width cannot be negative.
  return { betaHiA: mix(grid.betaHi) * threshA, deltaA: widthA > 0 ? Math.max(mix(grid.delta) * threshA, 0) : 0 };
}

/** Iterations of the 2x2 inverse; the map is close to diagonal, so a few steps converge to ~1e-6. */
const INVERSE_ITERATIONS = 40;

/**
 * Biases (A) that make a cell realise beta_hi and delta, by fixed-point iteration on cellForward. The width bias
 * stays within the widest measured I_width / I_thresh: beyond it the cell was never measured, and extrapolating
 * would let the mapping table claim a hysteresis the circuit may not have (a trained beta_lo near 0 asked for
 * 0.91-0.94 of beta_hi; the grids reach ~0.83). cellForward of the result says what the cell then realises.
 */
export function cellInverse(
  grid: CellGrid | undefined,
  betaHiA: number,
  deltaA: number,
): { threshA: number; widthA: number } {
  let threshA = betaHiA;
  let widthA = deltaA;
  if (!grid || betaHiA <= 0) return { threshA: Math.max(threshA, 0), widthA: Math.max(widthA, 0) };
  const maxFraction = grid.fractions[grid.fractions.length - 1];
  for (let i = 0; i < INVERSE_ITERATIONS; i++) {
    const f = cellForward(grid, threshA, widthA);
    threshA = Math.max(threshA + (betaHiA - f.betaHiA), betaHiA * 0.1);
    if (deltaA > 0) widthA = Math.min(Math.max(widthA + (deltaA - f.deltaA), 0), maxFraction * threshA);
  }
  return { threshA, widthA };
}

/**
 * Calibration tables (DESIGN §2): what the circuit realises for a given element value, measured with ngspice
 * sweeps (`bmru calibrate`) and stored per process as `calibration.json` beside `process.json`. The generator
 * inverts them so that realised parameters match trained ones; without a table the transfer is the identity.
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { InputError } from '../errors.js';

/** A monotone transfer y = f(x) sampled at increasing x (both in the units named by the owner). */
const TableSchema = z.object({ x: z.array(z.number()).min(2), y: z.array(z.number()).min(2) });
export type Table = z.infer<typeof TableSchema>;

const CalibrationSchema = z.object({
  process: z.string(),
  ngspiceVersion: z.string().optional(),
  createdAt: z.string().optional(),
  /** Cell: bias current (A) -> measured beta_hi (A) for I_thresh, measured beta_hi - beta_lo (A) for I_width, ON level (A) for I_gain. */
  cell: z.object({ thresh: TableSchema, width: TableSchema, gain: TableSchema }).partial(),
  /** Mirrors: nominal width ratio -> measured current gain, per polarity. */
  mirror: z.object({ n: TableSchema, p: TableSchema }).partial(),
  /** Residual error after inversion, for the report (fraction or A, as named). */
  residual: z.record(z.string(), z.number()).optional(),
});
export type Calibration = z.infer<typeof CalibrationSchema>;

export const CALIBRATION_FILE = 'calibration.json';

/** The calibration stored beside a process, or undefined if there is none. */
export async function loadCalibration(processDir: string): Promise<Calibration | undefined> {
  const path = join(processDir, CALIBRATION_FILE);
  if (!existsSync(path)) return undefined;
  const parsed = CalibrationSchema.safeParse(JSON.parse(await readFile(path, 'utf8')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(issue.message, { file: path, field: issue.path.join('.') });
  }
  for (const [name, t] of tables(parsed.data)) checkTable(t, name, path);
  return parsed.data;
}

function tables(c: Calibration): [string, Table][] {
  const out: [string, Table][] = [];
  for (const [k, t] of Object.entries(c.cell)) if (t) out.push([`cell.${k}`, t]);
  for (const [k, t] of Object.entries(c.mirror)) if (t) out.push([`mirror.${k}`, t]);
  return out;
}

function checkTable(t: Table, name: string, file: string): void {
  if (t.x.length !== t.y.length) throw new InputError(`x and y differ in length (${t.x.length} vs ${t.y.length})`, { file, field: name });
  for (let i = 1; i < t.x.length; i++) {
    if (!(t.x[i] > t.x[i - 1]) || !(t.y[i] > t.y[i - 1])) {
      throw new InputError('expected strictly increasing x and y (a monotone transfer)', { file, field: name, index: i });
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

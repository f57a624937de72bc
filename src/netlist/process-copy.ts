/**
 * Copies of a process folder with a few settings changed (the supply, device sizes), each calibrated in its own
 * folder: `bmru analyze power --sweep` keeps one per VDD, a batch plan with `calibrateSizes` one per sizes entry.
 * A copy's tables are measured once and kept beside its process.json, so a rerun reuses them while they carry the
 * method fingerprint the caller hands in (calibrate/method.ts `calibrationMethod`): tables measured by another
 * method (an older toolkit's decks or grids) are measured again, as a changed process.json's are.
 */
import { existsSync } from 'node:fs';
import { copyFile, readdir, readFile, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { loadProcess, type Process, type Sizing } from './process.js';
import { CALIBRATION_FILE, loadCalibration, methodMismatch, type Calibration } from './calibration.js';
import { makeDir, writeFileAtomic } from '../util/output.js';

/** What a copy changes: the supply (V) and fields of `sizing` (um); absent: as in the source. */
export interface ProcessChanges {
  readonly vddV?: number;
  readonly sizing?: Partial<Sizing>;
}

/**
 * process.json of `source` with `changes` applied (sizing fields merged into its `sizing`); a relative
 * `defaultKitDir` made absolute (the copy lives elsewhere), everything else as it is.
 */
export function processJsonAt(sourceText: string, sourceDir: string, changes: ProcessChanges): string {
  const p = JSON.parse(sourceText) as Record<string, unknown>;
  if (changes.vddV !== undefined) p.vddV = changes.vddV;
  if (changes.sizing !== undefined) p.sizing = { ...(p.sizing as object | undefined), ...changes.sizing };
  if (typeof p.defaultKitDir === 'string') p.defaultKitDir = resolve(sourceDir, p.defaultKitDir);
  return JSON.stringify(p, null, 2) + '\n';
}

/**
 * Copies the process folder of `sourceFile` into `dir` with `changes` applied (processJsonAt), the files beside it
 * but calibration.json alongside (the deck lines' `{dir}` files; subfolders are not copied). A copy already there
 * with the same process.json is kept with its tables; one with another process.json is replaced and its tables
 * dropped. Returns the copy's process.json.
 */
export async function writeProcessCopy(sourceFile: string, changes: ProcessChanges, dir: string): Promise<string> {
  const sourceDir = dirname(resolve(sourceFile));
  const text = processJsonAt(await readFile(sourceFile, 'utf8'), sourceDir, changes);
  const file = join(dir, 'process.json');
  if (existsSync(file) && (await readFile(file, 'utf8')) === text) return file;
  await makeDir(dir);
  await rm(join(dir, CALIBRATION_FILE), { force: true });
  const skip = new Set([basename(sourceFile), CALIBRATION_FILE]);
  for (const f of await readdir(sourceDir, { withFileTypes: true })) {
    if (f.isFile() && !skip.has(f.name)) await copyFile(join(sourceDir, f.name), join(dir, f.name));
  }
  await writeFileAtomic(file, text);
  return file;
}

/** Measures a process's calibration tables (the CLI hands in src/calibrate's `calibrate`). */
export type MeasureCalibration = (process: Process) => Promise<Calibration>;

/**
 * The tables stored beside the copy `process` in `dir` when they can be used: of its VDD and measured by `method`;
 * else why not (no file, tables that do not load or are of another VDD, another method).
 */
async function usableTables(dir: string, process: Process, method: string): Promise<{ missing: string } | undefined> {
  let calibration: Calibration | undefined;
  try {
    calibration = await loadCalibration(dir, process);
  } catch (e) {
    return { missing: `its tables do not load: ${(e as Error).message}` };
  }
  if (calibration === undefined) return { missing: `no ${CALIBRATION_FILE} (never calibrated, or interrupted)` };
  const other = methodMismatch(calibration, method);
  return other === undefined ? undefined : { missing: `its tables were ${other}` };
}

/**
 * The process of `sourceFile` with `changes` in `dir`, calibrated there: the copy's stored tables when they belong
 * to that process.json (writeProcessCopy drops them with another), its VDD and `method` (the fingerprint the
 * toolkit's calibration writes), else measured now with `measure` and stored (written whole: an interrupted
 * measurement leaves no tables, and the next run measures again). Returns the copy's process.json, whether it was
 * measured now and, when it had stored tables, why they were not used (another VDD or method, a table that does
 * not load).
 *
 * @throws Error when `measure` returns tables of another method than `method` (they would be measured at every run)
 */
export async function calibratedCopy(
  sourceFile: string,
  changes: ProcessChanges,
  dir: string,
  measure: MeasureCalibration,
  method: string,
  kit?: string,
): Promise<{ file: string; measured: boolean; why?: string }> {
  const file = await writeProcessCopy(sourceFile, changes, dir);
  const process = await loadProcess(file, kit);
  const stale = await usableTables(dir, process, method);
  if (stale === undefined) return { file, measured: false };
  const why = existsSync(join(dir, CALIBRATION_FILE)) ? stale.missing : undefined; // none: a first measurement
  const calibration = await measure(process);
  const other = methodMismatch(calibration, method);
  if (other !== undefined)
    throw new Error(
      `internal: the measurement of ${file} returned tables ${other}: they would be measured again at every run`,
    );
  await writeFileAtomic(join(dir, CALIBRATION_FILE), JSON.stringify(calibration, null, 1) + '\n');
  return { file, measured: true, why };
}

/** A stored copy a reader may use (its process.json), or why there is none to use. */
export type StoredCopy = { readonly file: string } | { readonly missing: string };

/**
 * The copy of `sourceFile` with `changes` in `dir` as it is stored, read only: its process.json when that is what
 * writeProcessCopy would write now and calibration.json beside it holds tables of its VDD measured by `method`; else
 * why not. For readers that must not write the copy (a Slurm array task: another task may be reading it).
 */
export async function storedCopy(
  sourceFile: string,
  changes: ProcessChanges,
  dir: string,
  method: string,
  kit?: string,
): Promise<StoredCopy> {
  const file = join(dir, 'process.json');
  if (!existsSync(file)) return { missing: 'not made yet' };
  const text = processJsonAt(await readFile(sourceFile, 'utf8'), dirname(resolve(sourceFile)), changes);
  if ((await readFile(file, 'utf8')) !== text) return { missing: `made from another ${basename(sourceFile)}` };
  let process: Process;
  try {
    process = await loadProcess(file, kit);
  } catch (e) {
    return { missing: `its process.json does not load: ${(e as Error).message}` };
  }
  return (await usableTables(dir, process, method)) ?? { file };
}

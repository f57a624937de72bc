import type { Argv } from 'yargs';
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { InputError } from '../errors.js';
import { spiceNumber } from '../spice/deck.js';
import { requireCircuitArch } from '../model/arch.js';
import { loadCircuitModel, loadModel } from '../model/load.js';
import { loadInputs } from '../model/inputs.js';
import { loadProcess, type Process } from '../netlist/process.js';
import { CALIBRATION_FILE, loadCalibration, type Calibration } from '../netlist/calibration.js';
import { calibrationMethod, warnIfStale } from '../calibrate/method.js';
import type { Network } from '../model/types.js';
import type { InputSequence } from '../model/network.js';
import { DEFAULTS, PACKAGE_ROOT, resolveProcessPath } from '../util/paths.js';
import { ensureWritableDir, writeFileAtomic } from '../util/output.js';
import { checkTransistorBudget, DEFAULT_MAX_TRANSISTORS, shapeOf } from '../netlist/budget.js';
import { checkPhysicalRanges, physicalRanges, type Clamp, type RangeSource } from '../netlist/ranges.js';
import {
  checkHwawareFits,
  REFERENCE_MEANING,
  REFERENCE_NAMES,
  type HwawareSource,
  type ReferenceName,
} from '../compare/references.js';
import { tableHwaware } from '../analysis/hwmodel.js';
import { calibrate } from '../calibrate/calibrate.js';
import type { BatchOptions } from '../jobs/run.js';
import type { ExpandedPlan } from '../jobs/plan.js';
import type { Progress } from './progress.js';

/** Options shared by every command that reads a model and an input clip. */
export function modelOptions<T>(y: Argv<T>) {
  return y
    .option('model', {
      alias: 'm',
      type: 'string',
      default: DEFAULTS.model,
      describe: 'model file (.json or .safetensors, DESIGN §1b tensor names)',
      defaultDescription: 'shipped example',
    })
    .option('inputs', {
      alias: 'i',
      type: 'string',
      default: DEFAULTS.inputs,
      describe: 'input CSV: one row per frame, one column per feature',
      defaultDescription: 'shipped 101-frame clip',
    });
}

/** Options shared by every command that builds a circuit. */
export function processOptions<T>(y: Argv<T>) {
  return y
    .option('process', {
      alias: 'p',
      type: 'string',
      default: 'c180',
      describe: 'process: a shipped name (c180, gf180mcu) or a path to a process.json',
    })
    .option('kit', {
      type: 'string',
      describe: 'PDK folder for processes whose deck lines use {kit} (e.g. your GF180MCU ngspice models)',
    })
    .option('calibrated', {
      type: 'boolean',
      default: true,
      describe: 'invert the process calibration tables (models/<process>/calibration.json) when they exist',
    })
    .option('max-transistors', {
      type: 'number',
      default: DEFAULT_MAX_TRANSISTORS,
      describe:
        'refuse a network whose circuit would have more transistors (ngspice time grows ~transistors^2: 8284 took 25 min for 10 frames here)',
    })
    .option('clamp', {
      type: 'boolean',
      default: false,
      describe:
        "build currents and frame times outside the process's ranges at the nearest end (each one listed) instead of refusing them",
    })
    .check((a) => intAtLeast('max-transistors', a['max-transistors'], 1));
}

/** Circuit options every circuit command takes (processOptions). */
export interface CircuitArgs {
  model: string;
  maxTransistors: number;
  clamp: boolean;
}

/**
 * Before any deck is written or ngspice started: the transistor budget, then the process's current and
 * frame-time ranges (netlist/ranges.ts). Returns the network to build (clamped values with --clamp, each
 * printed as a warning).
 */
export function checkCircuit(
  net: Network,
  process: Process,
  calibration: Calibration | undefined,
  a: CircuitArgs,
  source: RangeSource = {},
): { net: Network; clamps: readonly Clamp[] } {
  checkTransistorBudget(shapeOf(net), a.maxTransistors, a.model);
  const r = checkPhysicalRanges(net, physicalRanges(process, calibration), {
    file: a.model,
    ...source,
    clamp: a.clamp,
  });
  for (const c of r.clamps) console.error(`warning: ${c.message}`);
  return r;
}

/** Records what --clamp changed as `<out>/clamped.json` (nothing when nothing was clamped). */
export async function writeClamps(out: string, clamps: readonly Clamp[]): Promise<void> {
  if (clamps.length === 0) return;
  await writeFileAtomic(
    join(out, 'clamped.json'),
    JSON.stringify(
      clamps.map(({ parameter, from, to, unit, message }) => ({ parameter, from, to, unit, message })),
      null,
      1,
    ) + '\n',
  );
}

/** `--timeout`: seconds before ngspice is killed, checked to be > 0. */
export function timeoutOption<T>(y: Argv<T>, defaultS: number) {
  return y
    .option('timeout', { type: 'number', default: defaultS, describe: 'kill ngspice after this many seconds' })
    .check((a) => a.timeout > 0 || `--timeout must be a number of seconds > 0, got ${a.timeout}`);
}

/**
 * yargs `.check` helpers for numeric flags. yargs turns a non-number (`--workers abc`) into NaN and lets any
 * number through; without these a bad value reaches the library and fails as an internal error after work
 * has started (or is silently taken, e.g. NaN as a limit no value is below). An absent optional flag passes.
 */
export function intAtLeast(flag: string, v: number | undefined, min: number): true | string {
  return v === undefined || (Number.isInteger(v) && v >= min) || `--${flag} must be an integer >= ${min}, got ${v}`;
}

/** `--flag` must be a number in [lo, hi] (`open`: the ends excluded). */
export function numberIn(flag: string, v: number | undefined, lo: number, hi: number, open = false): true | string {
  const ok = open ? v! > lo && v! < hi : v! >= lo && v! <= hi;
  return (
    v === undefined || ok || `--${flag} must be a number in ${open ? `(${lo}, ${hi})` : `[${lo}, ${hi}]`}, got ${v}`
  );
}

/**
 * The model and input sequence of a command. Every command but `simulate` builds or models the circuit, which is a
 * BMRU: `circuit` (default) refuses any other arch with what to do (src/model/arch.ts `requireCircuitArch`).
 */
export async function loadModelAndInputs(
  a: { model: string; inputs: string },
  { circuit = true }: { circuit?: boolean } = {},
): Promise<{ net: Network; inputs: InputSequence }> {
  const net = await loadModel(a.model);
  if (circuit) requireCircuitArch(net, a.model);
  const inputs = await loadInputs(a.inputs);
  if (inputs.features !== net.inputs) {
    throw new InputError(`has ${inputs.features} columns, the model expects ${net.inputs} features`, {
      file: a.inputs,
    });
  }
  return { net, inputs };
}

export async function loadProcessAndCalibration(a: {
  process: string;
  kit?: string;
  calibrated: boolean;
}): Promise<{ process: Process; calibration?: Calibration }> {
  const file = resolveProcessPath(a.process);
  const process = await loadProcess(file, a.kit);
  const calibration = a.calibrated ? await loadCalibration(process.dir, process) : undefined;
  warnIfStale(calibration, join(process.dir, CALIBRATION_FILE), file);
  return { process, calibration };
}

/** Warns (one line each, calibrate/method.ts) about a plan's process tables measured by another calibration method. */
export function warnStalePlanTables(expanded: ExpandedPlan): void {
  for (const p of expanded.processes.values())
    warnIfStale(p.calibration, join(p.process.dir, CALIBRATION_FILE), p.file);
}

/**
 * Default output folder name, one convention for every command: `<command>-<model stem>[-<inputs stem>]-<process>`,
 * so a second clip or process does not overwrite the first.
 */
export function outName(analysis: string, modelPath: string, processName: string, inputsPath?: string): string {
  const stem = (p: string) => basename(p).replace(/\.[^.]+$/, '');
  return `${analysis}-${stem(modelPath)}${inputsPath ? `-${stem(inputsPath)}` : ''}-${processName}`;
}

/** Arguments every analysis command shares (model, clip, process, timeout, output folder). */
export interface AnalysisArgs extends CircuitArgs {
  model: string;
  inputs: string;
  process: string;
  kit?: string;
  calibrated: boolean;
  timeout: number;
  out?: string;
}

/**
 * The flags that build the same circuit in a command this one runs (a Slurm task starts on another node, in the
 * toolkit's folder): process, kit, calibration, transistor budget, clamping and timeout, every path absolute.
 */
export function circuitArgv(a: Omit<AnalysisArgs, 'model' | 'inputs' | 'out'>): string[] {
  const shipped = existsSync(resolve(PACKAGE_ROOT, 'models', a.process, 'process.json'));
  return [
    ...['-p', shipped ? a.process : resolve(a.process)],
    ...(a.kit === undefined ? [] : ['--kit', resolve(a.kit)]),
    a.calibrated ? '--calibrated' : '--no-calibrated',
    ...['--max-transistors', String(a.maxTransistors)],
    ...(a.clamp ? ['--clamp'] : []),
    ...['--timeout', String(a.timeout)],
  ];
}

/** Load what an analysis needs and create its output folder (default `out/<analysis>-<model>-<process>`), proven writable before any simulation. */
export async function prepareAnalysis(
  a: AnalysisArgs,
  analysis: string,
): Promise<{ net: Network; inputs: InputSequence; process: Process; calibration?: Calibration; out: string }> {
  const loaded = await loadModelAndInputs(a);
  const { process, calibration } = await loadProcessAndCalibration(a);
  const { net, clamps } = checkCircuit(loaded.net, process, calibration, a);
  const out = a.out ?? join('out', outName(analysis, a.model, process.name, a.inputs));
  await ensureWritableDir(out);
  await writeClamps(out, clamps);
  return { net, inputs: loaded.inputs, process, calibration, out };
}

/**
 * The folder an output file goes into must exist: said before the work, naming the folder, instead of a raw
 * `ENOENT: no such file or directory, open ...` after it.
 */
export function checkOutputFolder(file: string, flag = 'out'): void {
  const dir = dirname(resolve(file));
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) {
    const what = existsSync(dir) ? 'is not a folder' : 'does not exist';
    throw new InputError(
      `cannot write ${file}: the folder ${dir} ${what} (create it first, or give --${flag} a path in an existing folder)`,
      { file, field: `--${flag}` },
    );
  }
}

/** The hardware-aware reference every command scores unless a fitted file is given: the process's tables. */
export const PROCESS_HWAWARE: HwawareSource = {
  origin: 'process',
  build: tableHwaware,
  source: "the process calibration's hardware tables",
};

/**
 * `--reference` and `--hwaware-model`: which software model the verdict judges the circuit against. Every
 * reference available is scored and reported either way; this only picks the one the pass/fail uses.
 */
export function referenceOptions<T>(y: Argv<T>) {
  return y
    .option('reference', {
      type: 'string',
      choices: REFERENCE_NAMES as unknown as string[],
      describe: `the model the verdict judges the circuit against (all are reported): ${REFERENCE_NAMES.map((n) => `${n} = ${REFERENCE_MEANING[n]}`).join('; ')}`,
      defaultDescription:
        'the best predictor available for the process: hwaware where its calibration has hardware tables (both shipped kits), else realised; a fitted --hwaware-model judges only when asked',
    })
    .option('hwaware-model', {
      type: 'string',
      describe:
        'a fitted hardware-aware model (hwaware-model.json of bmru analyze hwaware on this model and process): scored as the hwaware reference',
    });
}

/**
 * `--unit-current`: I_unit in A instead of the model's (the same network at another current; power scales with it).
 * `modelDefault` says what the default is in --help.
 */
export function unitCurrentOption<T>(y: Argv<T>, modelDefault = "the model's") {
  return y.option('unit-current', {
    type: 'string',
    coerce: currentArg('unit-current'),
    describe: "I_unit (A, or SPICE style: 250p, 250pA): override the model's; power scales with it",
    defaultDescription: modelDefault,
  }) as unknown as Argv<T & { 'unit-current': number | undefined }>;
}

/**
 * yargs `coerce` for a current flag: a number in A or SPICE notation (`250p`, `250pA`, `2.5e-10`), as ngspice reads
 * it (src/spice/deck.ts `spiceNumber`); anything else, or a current <= 0, is refused with the flag's name.
 */
export function currentArg(flag: string): (v: unknown) => number {
  return (v) => {
    // yargs reads a flag given no value as '' (main.ts `flagsWithoutValue` words it the same way for other flags).
    if (v === '') throw new Error(`--${flag} expects a value`);
    const a = typeof v === 'number' ? v : spiceNumber(String(v));
    if (a === undefined || !(a > 0) || !Number.isFinite(a))
      throw new Error(`--${flag} must be a current in A > 0 (e.g. 250p, 250pA or 2.5e-10), got "${String(v)}"`);
    return a;
  };
}

/** The sbatch settings a command that submits to Slurm passes on (`slurmSubmitOptions`). */
export interface SlurmSubmitArgs {
  slurmPartition?: string;
  account?: string;
  time?: string;
  sbatchArg?: string[];
  setup?: string[];
}

/** Flags of `SlurmSubmitArgs`, as yargs spells them. */
export const SLURM_SUBMIT_FLAGS = ['slurm-partition', 'account', 'time', 'sbatch-arg', 'setup'] as const;

/** `--slurm-partition`, `--account`, `--time`, `--sbatch-arg`, `--setup`: what every sbatch of a `--slurm` run gets. */
export function slurmSubmitOptions<T>(y: Argv<T>) {
  return y
    .option('slurm-partition', { type: 'string', describe: 'with --slurm: the Slurm partition (queue) to run in' })
    .option('account', { alias: 'A', type: 'string', describe: 'with --slurm: the Slurm account to charge' })
    .option('time', {
      type: 'string',
      describe: 'with --slurm: wall-time limit per task, as sbatch --time (90, 2:00:00, 1-12:00:00)',
      defaultDescription: "the partition's default",
    })
    .option('sbatch-arg', {
      type: 'string',
      array: true,
      describe: 'with --slurm: one more #SBATCH option, e.g. --sbatch-arg=--mem-per-cpu=2G (repeatable)',
    })
    .option('setup', {
      type: 'string',
      array: true,
      describe: 'with --slurm: a shell line each task runs first, e.g. "module load nodejs ngspice" (repeatable)',
    });
}

/** `SlurmSubmitArgs` as the command-line flags that set them, for a command this one runs. */
export function slurmSubmitArgv(a: SlurmSubmitArgs): string[] {
  return [
    ...(a.slurmPartition === undefined ? [] : ['--slurm-partition', a.slurmPartition]),
    ...(a.account === undefined ? [] : ['--account', a.account]),
    ...(a.time === undefined ? [] : ['--time', a.time]),
    ...(a.sbatchArg ?? []).map((x) => `--sbatch-arg=${x}`),
    ...(a.setup ?? []).flatMap((x) => ['--setup', x]),
  ];
}

/**
 * `--spice-option name=value` (repeatable): ngspice `.options` over the generator's defaults (DEFAULT_SPICE_OPTIONS);
 * the deck writer refuses anything but an option name and a number or single word.
 */
export function spiceOptionOption<T>(y: Argv<T>) {
  return y
    .option('spice-option', {
      type: 'string',
      array: true,
      describe:
        'ngspice .options entry name=value over the defaults (abstol=1e-15 gmin=1e-15 chgtol=1e-18 reltol=1e-4 vntol=1e-7 method=gear); repeatable',
    })
    .check((a) => {
      for (const e of (a['spice-option'] as string[] | undefined) ?? [])
        if (!SPICE_OPTION.test(e))
          return `--spice-option expects name=value (e.g. reltol=1e-3), got ${JSON.stringify(e)}`;
      return true;
    });
}

const SPICE_OPTION = /^[a-z_][a-z0-9_]*=[^\s=]+$/i;

/** The `--spice-option` entries as the generator's `spiceOptions` (numbers where they parse as one). */
export function spiceOptionsFrom(entries: readonly string[] | undefined): Record<string, string | number> | undefined {
  if (!entries || entries.length === 0) return undefined;
  return Object.fromEntries(
    entries.map((e) => {
      const [k, v] = e.split('=');
      const n = Number(v);
      return [k.toLowerCase(), Number.isFinite(n) ? n : v];
    }),
  );
}

/**
 * The network at `--unit-current` (unchanged without it), and where its I_unit comes from for the range check's
 * error: the flag when given, else the model file's field.
 */
export function withUnitCurrent(net: Network, unitCurrent: number | undefined): { net: Network; source: RangeSource } {
  return unitCurrent === undefined
    ? { net, source: {} }
    : { net: { ...net, unitCurrentA: unitCurrent }, source: { unitField: '--unit-current' } };
}

/** What `referenceOptions` parsed. */
export interface ReferenceArgs {
  reference?: string;
  hwawareModel?: string;
}

/**
 * The verdict's reference and the hardware-aware model, checked against the network before anything runs.
 *
 * @throws InputError when the `--hwaware-model` file is not a model of `net`
 */
export async function loadReferences(
  a: ReferenceArgs,
  net: Network,
): Promise<{ reference?: ReferenceName; hwaware?: HwawareSource }> {
  const reference = a.reference as ReferenceName | undefined; // yargs checked it against the choices
  if (a.hwawareModel === undefined) return { reference, hwaware: PROCESS_HWAWARE };
  const hw = await loadCircuitModel(a.hwawareModel);
  checkHwawareFits(hw, net, a.hwawareModel);
  return { reference, hwaware: { origin: 'file', net: hw, source: a.hwawareModel } };
}

/**
 * What `runBatch` needs for plans with `calibrateSizes`: `bmru calibrate`'s full measurement of each copy on `workers`
 * ngspice processes, its sweeps on the progress line, a line per copy measured, reused or failed.
 */
export function sizesCalibrationOptions(
  p: Progress,
  workers: number,
  signal?: AbortSignal,
): Pick<BatchOptions, 'calibrateSizes' | 'calibrationMethod' | 'onSizesCalibration'> {
  return {
    calibrationMethod: calibrationMethod(),
    calibrateSizes: async (copy, label) => {
      p.update(`calibrating ${label}`);
      const run = await calibrate(copy, {
        concurrency: workers,
        run: { signal },
        onRun: (done, total) => p.update(`calibrating ${label}: ${done}/${total} sweeps`),
      });
      return run.calibration;
    },
    onSizesCalibration: (c) =>
      p.note(
        c.outcome === 'failed'
          ? `warning: calibrating ${c.label} failed (its jobs fail with it): ${c.error}`
          : `${c.outcome === 'measured' ? 'calibrated' : 'reusing the tables of'} ${c.label}${c.why === undefined ? '' : ` again (${c.why})`}: ${shownPath(c.file)}`,
      ),
  };
}

/** A path relative to the current folder when it lies below it, else as it is. */
function shownPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' ? '.' : rel.startsWith('..') ? path : rel;
}

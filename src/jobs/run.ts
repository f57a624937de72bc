/**
 * The local batch runner: one ngspice per worker (each single-threaded: the runner writes `.options num_threads=1`),
 * every finished job published at once as its own record, jobs with a record skipped on the next run.
 * Ctrl-C (an aborted signal) kills the running ngspice processes and records nothing for their jobs, so a
 * rerun does them again; everything finished before stays.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { InputError } from '../errors.js';
import { loadCircuitModel } from '../model/load.js';
import { loadInputs } from '../model/inputs.js';
import { randomInputs } from '../model/random.js';
import type { InputSequence } from '../model/network.js';
import type { Network } from '../model/types.js';
import { cornerOptions, NOMINAL_TEMPERATURE_C } from '../netlist/corners.js';
import { cosimulate, referenceTable, type CosimResult } from '../pipeline.js';
import { checkHwawareFits, type HwawareBuilder, type HwawareSource } from '../compare/references.js';
import { checkTransistorBudget, shapeOf } from '../netlist/budget.js';
import { checkPhysicalRanges, physicalRanges } from '../netlist/ranges.js';
import { runMany } from '../util/pool.js';
import { loadProcess, type Process, type Sizing } from '../netlist/process.js';
import { CALIBRATION_FILE, loadCalibration, type Calibration } from '../netlist/calibration.js';
import { calibratedCopy, storedCopy } from '../netlist/process-copy.js';
import { ngspiceVersion } from '../spice/runner.js';
import { createRng } from '../util/random.js';
import { classifyFailure, type Failure } from './failure.js';
import { GENERATOR, sizingText, sliceJobs, type ExpandedPlan, type Job, type Slice } from './plan.js';
import {
  JOBS_SCHEMA,
  acquireLock,
  ensureOutDirs,
  openStreams,
  outPaths,
  listResultIds,
  readResults,
  rebuildStreams,
  writeJobsFile,
  writeResult,
  type AttemptRecord,
  type CosimRecord,
  type JobsFile,
  type OutPaths,
  type ResultRecord,
  type Streams,
} from './store.js';

/** Batch jobs (plans, sweeps) have no --clamp: a model outside the process's ranges is retrained inside them. */
export const PLAN_RANGE_REMEDY =
  'batch jobs cannot clamp: train the model inside the range (bmru train --process) or see what bmru compare --clamp builds';

export interface BatchOptions {
  /** ngspice processes at once. Default: `os.availableParallelism()`. */
  readonly workers?: number;
  /** Run only this share of the jobs; publishes records only (no shared streams, no lock). */
  readonly slice?: Slice;
  /** Extra attempts for a retryable failure (timeout, crash). Default: the plan's `retries`. */
  readonly retries?: number;
  /** Per-attempt limit (s). Default: the plan's `timeoutS`. */
  readonly timeoutS?: number;
  /** Run jobs whose record says failed again (their old record stays until the new one replaces it). */
  readonly retryFailed?: boolean;
  /** Abort to stop: running ngspice processes are killed, their jobs stay pending. */
  readonly signal?: AbortSignal;
  /** Called when a job starts or ends. */
  readonly onProgress?: (p: BatchProgress) => void;
  /** Called with each record as it is published. */
  readonly onRecord?: (r: ResultRecord) => void;
  /** The ngspice binary. Default: as `runNgspice` (env `BMRU_NGSPICE`, else `ngspice`). */
  readonly ngspiceBin?: string;
  /** Where ngspice work directories are made (those of failed attempts are kept). Default: `os.tmpdir()`. */
  readonly workRoot?: string;
  /**
   * A per-process hardware-aware model (compare/references.ts): scored as the hwaware reference of jobs whose plan
   * names no hardware-aware model file, and then the default reference where it returns a model.
   */
  readonly processHwaware?: HwawareBuilder;
  /**
   * Measures the tables of a process copy at a sizes entry (plan `calibrateSizes`; the CLI hands in src/calibrate's
   * `calibrate`); `label` names the copy for progress lines. Needed only when such a copy has no tables yet.
   */
  readonly calibrateSizes?: (process: Process, label: string) => Promise<Calibration>;
  /**
   * The calibration method fingerprint a copy's stored tables must carry to be reused (src/calibrate's
   * `calibrationMethod`, handed in with calibrateSizes: jobs do not import the calibration stage); needed by plans
   * with `calibrateSizes`.
   */
  readonly calibrationMethod?: string;
  /** Called once per calibrated copy the run's jobs need, before any job runs: measured now, reused, or failed. */
  readonly onSizesCalibration?: (c: SizesCalibrationEvent) => void;
  /**
   * Only read the calibrated copies, never measure or write one (a slice: the array's other tasks may need the same
   * copy at the same moment); a missing one stops the run before any job (calibrateSizesCopies makes them).
   */
  readonly sizesCalibrationsReadOnly?: boolean;
}

/** What became of one process copy calibrated at a sizes entry. */
export interface SizesCalibrationEvent {
  /** `c180 at mirrorLengthUm=4 (1/2)`. */
  readonly label: string;
  /** Its calibration.json (absolute). */
  readonly file: string;
  readonly outcome: 'measured' | 'reused' | 'failed';
  /** Why it failed. */
  readonly error?: string;
  /** Measured although tables were stored: why they were not used (another calibration method, say). */
  readonly why?: string;
}

/** The tables a calibrated copy gives its jobs, or why it has none (each of its jobs fails with that error). */
type SizesCalibration =
  { readonly calibration: Calibration; readonly file: string; readonly sha256: string } | { readonly error: unknown };

/** Where a batch stands, for a progress line. */
export interface BatchProgress {
  /** Jobs in the plan (or slice). */
  readonly total: number;
  /** Jobs that had a record before this run started. */
  readonly skipped: number;
  /** Jobs this run finished (ok or failed). */
  readonly finished: number;
  /** Of those, failed. */
  readonly failed: number;
  readonly running: number;
  readonly elapsedS: number;
  /** Jobs finished per second of this run, once one has. */
  readonly ratePerS: number | null;
  /** Remaining jobs over that rate. */
  readonly etaS: number | null;
}

export interface BatchSummary {
  readonly total: number;
  readonly skipped: number;
  readonly ok: number;
  readonly failed: number;
  /** Jobs neither done before nor finished now (after an interrupt). */
  readonly pending: number;
  readonly interrupted: boolean;
  readonly wallS: number;
  readonly workers: number;
  /** Every failed record of the plan (or slice), earlier runs' included. */
  readonly failures: readonly ResultRecord[];
  /** Ok jobs of the plan (or slice) whose verdict failed the plan's tolerances, earlier runs' included. */
  readonly belowTolerance: number;
  readonly paths: OutPaths;
}

/** What every job of one run shares. */
interface RunContext {
  readonly expanded: ExpandedPlan;
  readonly retries: number;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  readonly ngspiceBin?: string;
  readonly workRoot?: string;
  readonly model: (file: string) => Promise<Network>;
  readonly inputFile: (file: string) => Promise<InputSequence>;
  readonly processHwaware?: HwawareBuilder;
  /** The calibrated copies of the sizes entries the run's jobs use, by folder (Job `sizesCalibration`). */
  readonly sizesCalibrations: ReadonlyMap<string, SizesCalibration>;
}

/**
 * Runs the jobs of a plan (or of one slice) that have no record yet.
 *
 * @throws what no job can get past (ngspice missing, the output folder locked or unwritable), after the
 *   running jobs have ended; a job's own failure is recorded, never thrown.
 */
export async function runBatch(expanded: ExpandedPlan, opts: BatchOptions = {}): Promise<BatchSummary> {
  const { plan } = expanded;
  const paths = outPaths(plan.outDir);
  const workers = opts.workers ?? os.availableParallelism();
  const startedMs = performance.now();
  const jobs = sliceJobs(expanded.jobs, opts.slice);
  // A folder that cannot take the records must stop the batch now, not after its first simulation.
  await ensureOutDirs(paths);
  // The lock and the shared streams belong to the unsliced run; slices of one plan may run at once anywhere.
  const release = opts.slice === undefined ? await acquireLock(paths) : undefined;
  let streams: Streams | undefined;
  try {
    await writeJobsFile(paths, jobsFileOf(expanded));
    // Only the records this run needs are read: a slice of a large plan on a shared filesystem reads its own.
    const ids = await listResultIds(paths);
    const existing = await readResults(
      paths,
      (release ? expanded.jobs : jobs).map((j) => j.id).filter((id) => ids.has(id)),
    );
    const rerun = (j: Job) =>
      !existing.has(j.id) || (opts.retryFailed === true && existing.get(j.id)!.status === 'failed');
    const todo = jobs.filter(rerun);
    if (release) {
      const kept = expanded.jobs.filter((j) => !rerun(j) && existing.has(j.id)).map((j) => existing.get(j.id)!);
      await rebuildStreams(paths, kept);
      streams = await openStreams(paths);
    }
    // Before any job: each copy once, one at a time (a calibration already runs its sweeps on every worker).
    const ctx = runContext(expanded, opts, await sizesCalibrations(expanded, todo, opts));
    const records = new Map<string, ResultRecord>();
    let running = 0;
    let failed = 0;
    const report = () =>
      opts.onProgress?.(progressOf(jobs.length, jobs.length - todo.length, records.size, failed, running, startedMs));
    report();
    await runMany(
      todo,
      async (job) => {
        if (opts.signal?.aborted) return;
        running++;
        report();
        try {
          const record = await runJob(ctx, job);
          if (record === undefined) return; // interrupted: no record, the job stays pending
          await writeResult(paths, record);
          records.set(job.id, record);
          if (record.status === 'failed') failed++;
          await streams?.append(record);
          opts.onRecord?.(record);
        } finally {
          running--;
          report();
        }
      },
      { concurrency: workers },
    );
    const all = jobs
      .map((j) => records.get(j.id) ?? existing.get(j.id))
      .filter((r): r is ResultRecord => r !== undefined);
    return {
      total: jobs.length,
      skipped: jobs.length - todo.length,
      ok: [...records.values()].filter((r) => r.status === 'ok').length,
      failed,
      pending: todo.filter((j) => !records.has(j.id)).length,
      interrupted: opts.signal?.aborted === true,
      wallS: (performance.now() - startedMs) / 1000,
      workers,
      failures: all.filter((r) => r.status === 'failed'),
      belowTolerance: all.filter((r) => r.cosim?.pass === false).length,
      paths,
    };
  } finally {
    await streams?.close();
    await release?.();
  }
}

/** jobs.json of a plan: what `status` and `report` read from the output folder alone. */
export function jobsFileOf(expanded: ExpandedPlan): JobsFile {
  const { plan } = expanded;
  return {
    schema: JOBS_SCHEMA,
    name: plan.name,
    planFile: plan.file,
    generator: GENERATOR,
    tolerances: plan.tolerances,
    timeoutS: plan.timeoutS,
    retries: plan.retries,
    jobs: expanded.jobs,
    specs: plan.specs,
    nominalVddV: nominalVddV(expanded),
    modelFrameS: expanded.modelFrameS,
    nominalSizing: nominalSizing(expanded),
  };
}

/** One field of each process, by the plan's reference to it. */
function perProcess<T>(expanded: ExpandedPlan, pick: (p: Process) => T): Record<string, T> {
  return Object.fromEntries([...expanded.processes].map(([ref, p]) => [ref, pick(p.process)]));
}

/** Each process's own device sizes (um) by the plan's reference to it. */
export const nominalSizing = (expanded: ExpandedPlan): Record<string, Sizing> => perProcess(expanded, (p) => p.sizing);

/** Each process's own supply (V) by the plan's reference to it. */
export const nominalVddV = (expanded: ExpandedPlan): Record<string, number> => perProcess(expanded, (p) => p.vddV);

function progressOf(
  total: number,
  skipped: number,
  finished: number,
  failed: number,
  running: number,
  startedMs: number,
): BatchProgress {
  const elapsedS = (performance.now() - startedMs) / 1000;
  const ratePerS = finished > 0 && elapsedS > 0 ? finished / elapsedS : null;
  const remaining = total - skipped - finished;
  return {
    total,
    skipped,
    finished,
    failed,
    running,
    elapsedS,
    ratePerS,
    etaS: ratePerS === null ? null : remaining / ratePerS,
  };
}

function runContext(
  expanded: ExpandedPlan,
  opts: BatchOptions,
  sizesCalibrations: ReadonlyMap<string, SizesCalibration>,
): RunContext {
  // One parse per file and run: every job of a model shares it (a model that does not validate fails each
  // of its jobs with the same bad-input message, at no cost).
  const cache = <T>(load: (file: string) => Promise<T>) => {
    const m = new Map<string, Promise<T>>();
    return (file: string) => {
      if (!m.has(file)) m.set(file, load(file));
      return m.get(file)!;
    };
  };
  return {
    expanded,
    retries: opts.retries ?? expanded.plan.retries,
    timeoutMs: (opts.timeoutS ?? expanded.plan.timeoutS) * 1000,
    signal: opts.signal,
    ngspiceBin: opts.ngspiceBin,
    workRoot: opts.workRoot,
    model: cache(loadCircuitModel),
    inputFile: cache(loadInputs),
    processHwaware: opts.processHwaware,
    sizesCalibrations,
  };
}

/** A process copy calibrated at a sizes entry that some jobs use (plan `calibrateSizes`). */
interface WantedCopy {
  /** Its folder in the output folder (Job `sizesCalibration`). */
  readonly folder: string;
  /** The first job that uses it: its process and sizes. */
  readonly job: Job;
  readonly label: string;
  readonly dir: string;
  /** Its calibration.json (absolute). */
  readonly file: string;
}

/** The copies the jobs `jobs` use, in plan order, each once. */
function wantedCopies(expanded: ExpandedPlan, jobs: readonly Job[]): WantedCopy[] {
  const first = new Map<string, Job>();
  for (const j of jobs)
    if (j.sizesCalibration != null && !first.has(j.sizesCalibration)) first.set(j.sizesCalibration, j);
  return [...first].map(([folder, job], k) => {
    const p = expanded.processes.get(job.process.ref)!;
    const dir = join(expanded.plan.outDir, folder);
    return {
      folder,
      job,
      label: `${p.process.name} at ${sizingText(job.sizing!)} (${k + 1}/${first.size})`,
      dir,
      file: join(dir, CALIBRATION_FILE),
    };
  });
}

/**
 * The copies the jobs `jobs` use whose tables are not stored (or not of the copy's process.json, its VDD and the
 * calibration method `method`), each with why; read only. What `bmru batch submit --dry-run` reports and what stops a slice.
 */
export async function missingSizesCalibrations(
  expanded: ExpandedPlan,
  method: string,
  jobs: readonly Job[] = expanded.jobs,
): Promise<{ readonly file: string; readonly why: string }[]> {
  const missing: { file: string; why: string }[] = [];
  for (const c of wantedCopies(expanded, jobs)) {
    const p = expanded.processes.get(c.job.process.ref)!;
    const stored = await storedCopy(p.file, { sizing: c.job.sizing! }, c.dir, method, expanded.plan.kit);
    if ('missing' in stored) missing.push({ file: c.file, why: stored.missing });
  }
  return missing;
}

/** The command that calibrates a plan's copies, as the messages name it. */
export function calibrateCommand(expanded: ExpandedPlan): string {
  const { plan } = expanded;
  return `bmru batch calibrate ${plan.file} --out ${plan.outDir}${plan.kit === undefined ? '' : ` --kit ${plan.kit}`}`;
}

/**
 * Calibrates every copy the plan's jobs use (plan `calibrateSizes`), one at a time, before any job runs anywhere:
 * what `bmru batch calibrate` and `bmru batch submit` do so that array tasks only read the copies. Stored tables are
 * reused. Holds the output folder's lock meanwhile (a `batch run` of the whole plan writes the same copies).
 * Returns what became of each copy; a failed one is reported, not thrown.
 *
 * @throws BmruError `batch-locked` when another run holds the output folder
 */
export async function calibrateSizesCopies(
  expanded: ExpandedPlan,
  opts: Pick<BatchOptions, 'calibrateSizes' | 'calibrationMethod' | 'onSizesCalibration' | 'signal'>,
): Promise<SizesCalibrationEvent[]> {
  const paths = outPaths(expanded.plan.outDir);
  await ensureOutDirs(paths);
  const release = await acquireLock(paths);
  const events: SizesCalibrationEvent[] = [];
  try {
    await sizesCalibrations(expanded, expanded.jobs, {
      ...opts,
      onSizesCalibration: (e) => {
        events.push(e);
        opts.onSizesCalibration?.(e);
      },
    });
  } finally {
    await release();
  }
  return events;
}

/**
 * The calibrated copies the jobs `todo` use (plan `calibrateSizes`), in plan order: stored tables in the output
 * folder reused, missing ones measured with `opts.calibrateSizes`. A copy whose measurement fails is recorded as that
 * error for its jobs; an interrupt stops before the next copy (the jobs then never start). With
 * `opts.sizesCalibrationsReadOnly` nothing is measured or written.
 *
 * @throws InputError read only, when a copy is missing: before any job, naming `bmru batch calibrate`
 */
async function sizesCalibrations(
  expanded: ExpandedPlan,
  todo: readonly Job[],
  opts: Pick<
    BatchOptions,
    'calibrateSizes' | 'calibrationMethod' | 'onSizesCalibration' | 'signal' | 'sizesCalibrationsReadOnly'
  >,
): Promise<Map<string, SizesCalibration>> {
  const { plan, processes } = expanded;
  const method = opts.calibrationMethod;
  if (method === undefined && wantedCopies(expanded, todo).length > 0)
    throw new Error(
      'the plan calibrates sizes and this runner was given no calibrationMethod to check the copies against',
    );
  if (opts.sizesCalibrationsReadOnly) {
    const missing = await missingSizesCalibrations(expanded, method!, todo);
    if (missing.length > 0)
      throw new InputError(
        `${missing.length} calibrated process copies this slice needs are not ready (${missing.map((m) => `${m.file}: ${m.why}`).join('; ')}); ` +
          `a slice only reads them, so two tasks never measure one copy: calibrate them once with \`${calibrateCommand(expanded)}\` ` +
          '(bmru batch submit does it unless --no-calibrate), then run the slice again; its jobs are still pending',
        { file: plan.file, field: 'calibrateSizes' },
      );
  }
  const found = new Map<string, SizesCalibration>();
  const measure = opts.calibrateSizes;
  for (const { folder, job, label, dir, file } of wantedCopies(expanded, todo)) {
    if (opts.signal?.aborted) break;
    const p = processes.get(job.process.ref)!;
    try {
      const copy = opts.sizesCalibrationsReadOnly
        ? { file: join(dir, 'process.json'), measured: false }
        : await calibratedCopy(
            p.file,
            { sizing: job.sizing! },
            dir,
            (copyProcess) => {
              if (measure === undefined)
                throw new Error(
                  `the plan calibrates sizes and this runner was given no calibrateSizes to measure ${file}`,
                );
              return measure(copyProcess, label);
            },
            method!,
            plan.kit,
          );
      const text = await readFile(file);
      const calibration = await loadCalibration(dir, await loadProcess(copy.file, plan.kit));
      if (calibration === undefined) throw new Error(`no tables in ${file} after calibrating`);
      found.set(folder, { calibration, file, sha256: createHash('sha256').update(text).digest('hex') });
      opts.onSizesCalibration?.({ label, file, outcome: copy.measured ? 'measured' : 'reused', why: copy.why });
    } catch (e) {
      if (opts.signal?.aborted) break;
      found.set(folder, { error: e });
      opts.onSizesCalibration?.({ label, file, outcome: 'failed', error: (e as Error).message });
    }
  }
  return found;
}

/**
 * Attempts a job until it succeeds, fails in a way another attempt cannot change, or has used 1 + retries
 * attempts. Returns its record, or undefined when the run was interrupted.
 */
async function runJob(ctx: RunContext, job: Job): Promise<ResultRecord | undefined> {
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const attempts: AttemptRecord[] = [];
  let failure: Failure | undefined;
  for (let attempt = 1; attempt <= 1 + ctx.retries; attempt++) {
    if (ctx.signal?.aborted) return undefined;
    const attemptAt = new Date().toISOString();
    const a0 = performance.now();
    try {
      const r = await attemptJob(ctx, job);
      attempts.push({ attempt, startedAt: attemptAt, wallS: (performance.now() - a0) / 1000 });
      const copy = job.sizesCalibration == null ? undefined : ctx.sizesCalibrations.get(job.sizesCalibration);
      return record(job, 'ok', startedAt, t0, attempts, r.run.ngspiceVersion, {
        cosim: cosimRecord(r),
        ...(copy !== undefined && 'sha256' in copy ? { sizesCalibrationSha256: copy.sha256 } : {}),
      });
    } catch (e) {
      if (ctx.signal?.aborted) return undefined;
      failure = classifyFailure(e);
      if (failure === undefined) throw e; // no job can succeed (ngspice missing): stop the batch
      attempts.push({ attempt, startedAt: attemptAt, wallS: (performance.now() - a0) / 1000, failure });
      if (!failure.retryable) break;
    }
  }
  const version = await ngspiceVersion(ctx.ngspiceBin).catch(() => null);
  return record(job, 'failed', startedAt, t0, attempts, version, { failure });
}

/** One co-simulation of a job. */
async function attemptJob(ctx: RunContext, job: Job): Promise<CosimResult> {
  const { plan, processes } = ctx.expanded;
  const loaded = await ctx.model(job.model.file);
  // --unit-current or a swept frame period: the model at another I_unit or frame period; a range error then names
  // the flag or the plan's field, not the model's.
  const overridden = job.unitCurrentA != null;
  const framed = job.framePeriodS != null;
  const net = {
    ...loaded,
    ...(overridden ? { unitCurrentA: job.unitCurrentA! } : {}),
    ...(framed ? { frameS: job.framePeriodS! } : {}),
  };
  const inputs = await jobInputs(ctx, job, net);
  const p = processes.get(job.process.ref)!;
  const calibration = jobCalibration(ctx, job);
  // Before a deck is written: the budget and the process's ranges (a plan cannot clamp: out of range is bad input).
  checkTransistorBudget(shapeOf(net), plan.maxTransistors, job.model.file);
  checkPhysicalRanges(net, physicalRanges(p.process, calibration), {
    file: job.model.file,
    ...(overridden ? { unitField: '--unit-current' } : {}),
    ...(framed ? { frameFile: plan.file, frameField: 'framePeriods' } : {}),
    remedy: PLAN_RANGE_REMEDY,
  });
  const hwaware = await jobHwaware(ctx, job, net);
  const corner: Partial<ReturnType<typeof cornerOptions>> =
    job.corner === null
      ? {}
      : cornerOptions(p.process, { corner: job.corner, vddScale: 1, temperatureC: NOMINAL_TEMPERATURE_C });
  // The sweep axes: the calibration stays the one measured at the process's own VDD (the question is how the built
  // circuit behaves when the supply or the temperature moves, as the corners analysis asks it).
  // A sizes entry: the same calibration (measured at the process's own sizes), so the sweep asks how the circuit
  // moves when only its layout changes; with calibrateSizes, the tables of a copy measured at the entry's sizes.
  const cornered = corner.process ?? p.process;
  const process = job.sizing != null ? { ...cornered, sizing: { ...cornered.sizing, ...job.sizing } } : cornered;
  return cosimulate(net, inputs, {
    ...(job.reference ? { reference: job.reference } : {}),
    ...(hwaware === undefined ? {} : { hwaware }),
    maxTransistors: plan.maxTransistors,
    ...corner,
    process: job.vddV != null ? { ...process, vddV: job.vddV } : process,
    ...(job.temperatureC != null ? { temperatureC: job.temperatureC } : {}),
    calibration,
    tolerances: plan.tolerances,
    spiceOptions: job.spiceSeed === null ? undefined : { seed: job.spiceSeed },
    title: `bmru batch ${plan.name} job ${job.id}: ${job.label}`,
    run: {
      name: `batch-${job.id}`,
      timeoutMs: ctx.timeoutMs,
      keepWorkDir: 'onFailure',
      signal: ctx.signal,
      ngspiceBin: ctx.ngspiceBin,
      workRoot: ctx.workRoot,
    },
  });
}

/** The tables a job is built with: its sizes entry's calibrated copy, else the process's own (none uncalibrated). */
function jobCalibration(ctx: RunContext, job: Job): Calibration | undefined {
  if (job.sizesCalibration == null) return ctx.expanded.processes.get(job.process.ref)!.calibration;
  const c = ctx.sizesCalibrations.get(job.sizesCalibration);
  if (c === undefined) throw new Error(`no calibrated copy for ${job.sizesCalibration}: the run did not prepare it`);
  if ('error' in c) throw c.error;
  return c.calibration;
}

/** The job's hardware-aware model: the plan's file (checked to be a model of the job's network), else the per-process one. */
async function jobHwaware(ctx: RunContext, job: Job, net: Network): Promise<HwawareSource | undefined> {
  if (job.hwaware) {
    const hw = await ctx.model(job.hwaware.file);
    checkHwawareFits(hw, net, job.hwaware.file);
    return { origin: 'file', net: hw, source: job.hwaware.path };
  }
  return ctx.processHwaware === undefined
    ? undefined
    : { origin: 'process', build: ctx.processHwaware, source: 'the per-process hardware-aware model' };
}

/** The job's input clip: a file (perturbed by seeded noise if asked), or a seeded random clip. */
async function jobInputs(ctx: RunContext, job: Job, net: Network): Promise<InputSequence> {
  const input = job.input;
  if (input.kind === 'random') return randomInputs(input.frames, net.inputs, input.seed);
  const clip = await ctx.inputFile(input.file);
  if (clip.features !== net.inputs) {
    throw new InputError(`has ${clip.features} columns, the model ${job.model.path} expects ${net.inputs} features`, {
      file: input.file,
    });
  }
  if (input.frames !== null && input.frames > clip.frames) {
    throw new InputError(`has ${clip.frames} frames, the plan asks for the first ${input.frames}`, {
      file: input.file,
    });
  }
  const head = input.frames === null ? clip : firstFrames(clip, input.frames);
  return input.noiseSd === null ? head : withNoise(head, input.noiseSd, input.noiseSeed!);
}

function firstFrames(clip: InputSequence, frames: number): InputSequence {
  return { frames, features: clip.features, data: clip.data.slice(0, frames * clip.features) };
}

/** The clip plus independent N(0, sd^2) noise on every value, drawn from `seed`. */
export function withNoise(clip: InputSequence, sd: number, seed: number): InputSequence {
  const rng = createRng(seed);
  return { ...clip, data: clip.data.map((v) => v + sd * rng.normal()) };
}

function cosimRecord(r: CosimResult): CosimRecord {
  return {
    frames: r.generated.frames,
    transistors: r.generated.transistors,
    ngspiceS: r.run.durationMs / 1000,
    pass: r.verdict.pass,
    verdict: r.verdict,
    reference: r.reference,
    comparison: r.comparison,
    references: referenceTable(r),
    supplyMeanA: r.circuit.supplyMeanA,
  };
}

function record(
  job: Job,
  status: 'ok' | 'failed',
  startedAt: string,
  t0: number,
  attempts: AttemptRecord[],
  ngspiceVersion: string | null,
  outcome: { cosim?: CosimRecord; failure?: Failure; sizesCalibrationSha256?: string },
): ResultRecord {
  return {
    schema: 'bmru-batch-result/1',
    id: job.id,
    status,
    job,
    generator: GENERATOR,
    host: os.hostname(),
    startedAt,
    finishedAt: new Date().toISOString(),
    wallS: (performance.now() - t0) / 1000,
    attempts,
    ngspiceVersion,
    ...outcome,
  };
}

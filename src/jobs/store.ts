/**
 * A batch's output folder:
 *
 * ```
 * <out>/jobs.json          the expanded plan: every job with its id (what `status` and `report` read)
 * <out>/results/<id>.json  one record per finished job, ok or failed: the truth
 * <out>/results.jsonl      the same records, one per line, appended as jobs finish
 * <out>/results.csv        one summary row per record, appended as jobs finish
 * <out>/run.lock           held by a running `bmru batch run` (without --slice)
 * ```
 *
 * A record is published by write-temp, fsync, rename, fsync of the folder (DESIGN §7): it exists whole or not
 * at all, whatever kills the process, and a job whose record exists is done. The JSONL and CSV files are
 * derived: a kill in the middle of an append can leave half a line, so each run rebuilds them from the
 * records before appending, and a job appears in them exactly once. Many workers on a shared filesystem
 * (Slurm slices) never append to one file: they only publish records.
 */
import { open, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeToString } from 'fast-csv';
import { z } from 'zod';
import { BmruError, InputError, parseWith } from '../errors.js';
import { runMany } from '../util/pool.js';
import { tryLock } from '../util/lockfile.js';
import { ensureWritableDir, makeDir, outputError, readTextIfExists, writeFileAtomic } from '../util/output.js';
import type { Comparison } from '../compare/metrics.js';
import { REFERENCE_NAMES, type ReferenceName, type ReferenceTable } from '../compare/references.js';
import type { Verdict } from '../compare/tolerance.js';
import type { Tolerances } from '../compare/tolerance.js';
import type { Failure } from './failure.js';
import type { Job } from './plan.js';
import type { SpecLimits } from './specs.js';
import type { Sizing } from '../netlist/process.js';

export const RESULT_SCHEMA = 'bmru-batch-result/1';
export const JOBS_SCHEMA = 'bmru-batch-jobs/1';

/** One try at a job. */
export interface AttemptRecord {
  readonly attempt: number;
  readonly startedAt: string;
  readonly wallS: number;
  /** Absent for the attempt that succeeded. */
  readonly failure?: Failure;
}

/** What a successful job measured. */
export interface CosimRecord {
  readonly frames: number;
  readonly transistors: number;
  readonly ngspiceS: number;
  /** The verdict under the plan's tolerances when the job ran (`report` judges again with the current ones). */
  readonly pass: boolean;
  readonly verdict: Verdict;
  /** The reference `verdict` and `comparison` are about (absent in records from before references: realised). */
  readonly reference?: ReferenceName;
  readonly comparison: Comparison;
  /** The circuit against every reference scored (absent in records from before references). */
  readonly references?: ReferenceTable;
  /** Mean supply current per domain (A). */
  readonly supplyMeanA: Record<string, number>;
}

/** `results/<id>.json`: a finished job. */
export interface ResultRecord {
  readonly schema: typeof RESULT_SCHEMA;
  readonly id: string;
  readonly status: 'ok' | 'failed';
  readonly job: Job;
  readonly generator: string;
  readonly host: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  /** Wall time over all attempts (s). */
  readonly wallS: number;
  readonly attempts: readonly AttemptRecord[];
  readonly ngspiceVersion: string | null;
  readonly cosim?: CosimRecord;
  /** SHA-256 of the calibration.json of the copy calibrated at the job's sizes (`job.sizesCalibration`), when it has one. */
  readonly sizesCalibrationSha256?: string;
  /** Why the last attempt failed (status failed). */
  readonly failure?: Failure;
}

/** `jobs.json`: the expanded plan, so that `status` and `report` work from the output folder alone. */
export interface JobsFile {
  readonly schema: typeof JOBS_SCHEMA;
  readonly name: string;
  readonly planFile: string;
  readonly generator: string;
  readonly tolerances: Tolerances;
  readonly timeoutS: number;
  readonly retries: number;
  readonly jobs: readonly Job[];
  /** The plan's datasheet limits (absent in folders written before datasheets: none). */
  readonly specs?: SpecLimits;
  /** Each process's own supply (V) by its plan reference, for jobs that do not sweep VDD (absent before datasheets). */
  readonly nominalVddV?: Readonly<Record<string, number>>;
  /** Each model's own frame period (s) by plan path, when the plan sweeps frame periods (the datasheet's typical). */
  readonly modelFrameS?: Readonly<Record<string, number>>;
  /** Each process's own device sizes (um) by plan reference (the datasheet's typical for a `sizes` sweep). */
  readonly nominalSizing?: Readonly<Record<string, Sizing>>;
}

/** The files of an output folder. */
export interface OutPaths {
  readonly dir: string;
  readonly results: string;
  readonly jsonl: string;
  readonly csv: string;
  readonly jobs: string;
  readonly lock: string;
}

export function outPaths(dir: string): OutPaths {
  return {
    dir,
    results: join(dir, 'results'),
    jsonl: join(dir, 'results.jsonl'),
    csv: join(dir, 'results.csv'),
    jobs: join(dir, 'jobs.json'),
    lock: join(dir, 'run.lock'),
  };
}

const ID_FILE = /^[0-9a-f]{16}\.json$/;

export function resultPath(paths: OutPaths, id: string): string {
  return join(paths.results, `${id}.json`);
}

/**
 * Creates the output folder and its results folder and proves both writable, before any job runs.
 *
 * @throws OutputError naming the folder that is not
 */
export async function ensureOutDirs(paths: OutPaths): Promise<void> {
  await ensureWritableDir(paths.dir);
  await ensureWritableDir(paths.results);
}

/** Publishes a job's record (see writeFileAtomic). */
export async function writeResult(paths: OutPaths, record: ResultRecord): Promise<void> {
  await makeDir(paths.results);
  await writeFileAtomic(resultPath(paths, record.id), `${JSON.stringify(record, null, 1)}\n`);
}

const ResultSchema = z.looseObject({
  schema: z.literal(RESULT_SCHEMA),
  id: z.string().regex(/^[0-9a-f]{16}$/),
  status: z.enum(['ok', 'failed']),
  job: z.looseObject({ id: z.string(), label: z.string(), corner: z.string().nullable(), seed: z.number().nullable() }),
  attempts: z.array(z.looseObject({ attempt: z.number() })),
  finishedAt: z.string(),
  cosim: z.looseObject({ pass: z.boolean(), comparison: z.looseObject({ stateAgreement: z.number() }) }).optional(),
  failure: z.looseObject({ class: z.string(), message: z.string() }).optional(),
});

/** Reads one record, or undefined if the job has none. */
export async function readResult(paths: OutPaths, id: string): Promise<ResultRecord | undefined> {
  const file = resultPath(paths, id);
  const text = await readTextIfExists(file);
  return text === undefined ? undefined : parseRecord(text, file);
}

function parseRecord(text: string, file: string): ResultRecord {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InputError(`not a batch result record (${(e as Error).message})`, { file });
  }
  // Validated, but returned as read: zod would reorder the keys, and a rebuilt stream should match the appended one.
  parseWith(ResultSchema, raw, file);
  return raw as ResultRecord;
}

/** Ids of the jobs that have a record (from the file names alone). */
export async function listResultIds(paths: OutPaths): Promise<Set<string>> {
  try {
    return new Set(
      (await readdir(paths.results)).filter((n) => ID_FILE.test(n)).map((n) => n.slice(0, -'.json'.length)),
    );
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new Set();
    throw e;
  }
}

/** Files read at once: enough to hide latency, few enough to stay far from the open-file limit. */
const READ_CONCURRENCY = 32;

/** The records of the given jobs that have one, keyed by job id. */
export async function readResults(paths: OutPaths, ids: Iterable<string>): Promise<Map<string, ResultRecord>> {
  const records = await runMany([...ids], (id) => readResult(paths, id), { concurrency: READ_CONCURRENCY });
  return new Map(records.filter((r): r is ResultRecord => r !== undefined).map((r) => [r.id, r]));
}

/** Every record in the folder, keyed by job id. */
export async function readAllResults(paths: OutPaths): Promise<Map<string, ResultRecord>> {
  return readResults(paths, await listResultIds(paths));
}

/** Records in the order they finished (ties by id), as the streams list them. */
export function byFinish(records: Iterable<ResultRecord>): ResultRecord[] {
  return [...records].sort((a, b) =>
    a.finishedAt < b.finishedAt ? -1 : a.finishedAt > b.finishedAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
  );
}

/** Columns of results.csv. */
export const CSV_HEADER = [
  'id',
  'status',
  'label',
  'model',
  'input',
  'process',
  'corner',
  'seed',
  'frames',
  'pass',
  'state_agreement',
  'vote_agreement',
  'decision_match',
  'software_decision',
  'circuit_decision',
  'disagreements',
  'failure_class',
  'failure_message',
  'attempts',
  'wall_s',
  'ngspice_s',
  'ngspice_version',
  'finished_at',
  'reference',
  ...REFERENCE_NAMES.flatMap((n) => [`state_agreement_${n}`, `decision_match_${n}`] as const),
] as const;

/** The reference a record's verdict judged against: records from before references were judged against realised. */
export const recordReference = (c: CosimRecord): ReferenceName => c.reference ?? 'realised';

/** One results.csv row (empty cells where a failed job has no measurement). */
export function csvRow(r: ResultRecord): (string | number)[] {
  const j = r.job;
  const c = r.cosim;
  const input =
    j.input.kind === 'random'
      ? `random:${j.input.frames}#${j.input.seed}`
      : `${j.input.path}${j.input.frames === null ? '' : `[:${j.input.frames}]`}${j.input.noiseSd === null ? '' : `+noise${j.input.noiseSd}#${j.input.noiseSeed}`}`;
  const cell = (v: number | boolean | null | undefined): string | number =>
    v === undefined || v === null ? '' : typeof v === 'boolean' ? String(v) : v;
  return [
    r.id,
    r.status,
    j.label,
    j.model.path,
    input,
    j.process.name,
    j.corner ?? '',
    cell(j.seed),
    cell(c?.frames),
    cell(c?.pass),
    cell(c?.comparison.stateAgreement),
    cell(c?.comparison.voteAgreement),
    cell(c?.comparison.decisionMatch),
    cell(c?.comparison.softwareDecision),
    cell(c?.comparison.circuitDecision),
    cell(c?.comparison.disagreements.length),
    r.failure?.class ?? '',
    (r.failure?.message ?? '').replace(/\s*\n\s*/g, ' | '),
    r.attempts.length,
    Number(r.wallS.toFixed(3)),
    c ? Number(c.ngspiceS.toFixed(3)) : '',
    r.ngspiceVersion ?? '',
    r.finishedAt,
    c ? recordReference(c) : '',
    ...REFERENCE_NAMES.flatMap((n) => [
      cell(c?.references?.[n]?.stateAgreement),
      cell(c?.references?.[n]?.decisionMatch),
    ]),
  ];
}

async function csvLines(rows: readonly (readonly (string | number)[])[]): Promise<string> {
  return rows.length === 0 ? '' : `${await writeToString(rows as (string | number)[][])}\n`;
}

/**
 * Rewrites results.jsonl and results.csv (atomically) from the given records: those the present results.jsonl
 * lists keep its order (the order they were appended in, which two workers finishing within a millisecond can
 * make differ from finishing order), the others follow in finishing order.
 */
export async function rebuildStreams(paths: OutPaths, records: Iterable<ResultRecord>): Promise<void> {
  const listed = new Map<string, number>();
  for (const line of ((await readTextIfExists(paths.jsonl)) ?? '').split('\n')) {
    if (line.trim() === '') continue;
    let id: unknown;
    try {
      id = (JSON.parse(line) as { id?: unknown }).id;
    } catch {
      continue; // a line cut off by a crash: its record is on disk, it goes with the others in finishing order
    }
    if (typeof id === 'string' && !listed.has(id)) listed.set(id, listed.size);
  }
  const place = (r: ResultRecord) => listed.get(r.id) ?? Number.MAX_SAFE_INTEGER;
  const sorted = byFinish(records).sort((a, b) => place(a) - place(b));
  await makeDir(paths.dir);
  await writeFileAtomic(paths.jsonl, sorted.map((r) => `${JSON.stringify(r)}\n`).join(''));
  await writeFileAtomic(paths.csv, await csvLines([[...CSV_HEADER], ...sorted.map(csvRow)]));
}

/** Appends records to results.jsonl and results.csv as they come, one at a time. */
export interface Streams {
  append(record: ResultRecord): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens the two streams for appending. Appends are chained so that lines of two workers never interleave;
 * they are not fsynced: the records are the durable copy and the next run rebuilds the streams from them.
 */
export async function openStreams(paths: OutPaths): Promise<Streams> {
  const append = (file: string) =>
    open(file, 'a').then(
      (fh) => ({
        fh,
        write: (text: string) => fh.appendFile(text).catch((e: unknown) => Promise.reject(outputError(e, file))),
      }),
      (e: unknown) => Promise.reject(outputError(e, file)),
    );
  const jsonl = await append(paths.jsonl);
  const csv = await append(paths.csv).catch(async (e: unknown) => {
    await jsonl.fh.close();
    throw e;
  });
  let chain: Promise<void> = Promise.resolve();
  return {
    append(record) {
      const write = async () => {
        await jsonl.write(`${JSON.stringify(record)}\n`);
        await csv.write(await csvLines([csvRow(record)]));
      };
      chain = chain.then(write);
      return chain;
    },
    async close() {
      await chain.catch(() => undefined);
      await Promise.all([jsonl.fh.close(), csv.fh.close()]);
    },
  };
}

/** Writes jobs.json (atomically; identical plans give identical files, so concurrent slices may all write it). */
export async function writeJobsFile(paths: OutPaths, file: JobsFile): Promise<void> {
  await makeDir(paths.dir);
  await writeFileAtomic(paths.jobs, `${JSON.stringify(file, null, 1)}\n`);
}

const JobsFileSchema = z.looseObject({
  schema: z.literal(JOBS_SCHEMA),
  name: z.string(),
  tolerances: z.looseObject({}),
  jobs: z.array(z.looseObject({ id: z.string(), index: z.number(), label: z.string() })),
});

/** Reads jobs.json of an output folder. */
export async function readJobsFile(paths: OutPaths): Promise<JobsFile> {
  let text: string;
  try {
    text = await readFile(paths.jobs, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const hint =
      code === 'ENOENT'
        ? 'not a batch output folder (no jobs.json; `bmru batch run` writes it), or give the plan file'
        : code;
    throw new InputError(hint ?? (e as Error).message, { file: paths.jobs });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InputError(`expected valid JSON (${(e as Error).message})`, { file: paths.jobs });
  }
  parseWith(JobsFileSchema, raw, paths.jobs);
  return raw as JobsFile;
}

/**
 * Takes run.lock so that two runs on one machine do not append to the same streams. A lock left by a killed
 * run (its pid is gone on this host) is taken over; any number of runs racing for it get one winner (see
 * util/lockfile.ts). Returns the release function.
 *
 * @throws BmruError (kind `batch-locked`) when a live run holds it, or it cannot be told who does
 */
export async function acquireLock(paths: OutPaths): Promise<() => Promise<void>> {
  await makeDir(paths.dir);
  const lock = await tryLock(paths.lock);
  if (lock.ok) return lock.release;
  const owner = lock.owner;
  const gone = `if no bmru batch run is using ${paths.dir}, delete ${paths.lock}`;
  switch (lock.reason) {
    case 'held':
      throw new BmruError(
        `${paths.dir} is in use by bmru batch run (pid ${owner?.pid} on ${owner?.host}, since ${owner?.startedAt}); if that run is gone, delete ${paths.lock}`,
        'batch-locked',
      );
    case 'unreadable':
      throw new BmruError(`${paths.lock} is not a lock this version can read; ${gone}`, 'batch-locked');
    case 'stuck':
      throw new BmruError(
        `${paths.lock} was left by pid ${owner?.pid}, which is gone, but another takeover of it never finished; ${gone} and ${paths.dir}/.run.lock.takeover-*`,
        'batch-locked',
      );
  }
}

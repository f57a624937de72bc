/**
 * A partitioned simulation (pipeline.ts, issue 13) as Slurm job arrays: one array per stage (`partitionStages`: the
 * front end, each block's shared part, its cells side by side, ..., the classifier), each depending on the one before
 * (`dependencyArgs`), and a last one-task array that merges the partitions and compares, as `bmru compare
 * --partitioned` does on this machine: the merge runs `cosimulate` with `storedPartitions` as its executor, so the
 * comparison, report and figures are the same code; only where ngspice ran differs.
 *
 * The tasks hand their results on through a shared folder, `<out>/partitions/`: partition i's rawfile `p<i>.raw` and
 * its record `p<i>.json`, written last (a record means the rawfile is complete). A task whose partition has a record
 * does nothing, and a resubmission leaves out the partitions that have one. `run.json` there holds a fingerprint of
 * the run (plan, process, options): a task, a merge or a submission finding another run's fingerprint refuses.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { BmruError, InputError } from '../errors.js';
import {
  combinePasses,
  mergePartitionRuns,
  partitionInputs,
  partitionStages,
  runPartition,
  type PartitionContext,
  type PartitionExecutor,
  type PartitionRunInfo,
  type PartitionStage,
} from '../pipeline.js';
import { readRawfile, transientPlot, type RawPlot } from '../spice/rawfile.js';
import { encodeRawfile } from '../spice/rawwrite.js';
import { closeLauncher } from '../spice/launcher.js';
import { voltageProbe } from '../netlist/deck.js';
import { GLOBAL_NODES, type Partition } from '../netlist/partition.js';
import type { RunResult } from '../spice/runner.js';
import type { SpiceMessage } from '../spice/classify.js';
import { makeDir, readTextIfExists, writeFileAtomic } from '../util/output.js';
import { PACKAGE_ROOT } from '../util/paths.js';
import { networkToJson } from '../model/json-format.js';
import { inputsCsv } from '../model/inputs.js';
import type { InputSequence } from '../model/network.js';
import type { Network } from '../model/types.js';
import { arrayScript, dependencyArgs, sh, slurmDir, type SlurmSettings } from './slurm.js';

/** `<out>/partitions/`: the partitions' rawfiles and records, on a filesystem every node sees. */
export function partitionStoreDir(outDir: string): string {
  return join(outDir, 'partitions');
}

/** A partition of a pass, as the stage scripts name it: `1:5` is partition 5 in pass 1. */
export interface PartitionKey {
  readonly pass: number;
  readonly index: number;
}

/** `1:5` -> { pass: 1, index: 5 }. @throws InputError for anything else */
export function parsePartitionKey(text: string): PartitionKey {
  const m = /^([12]):(\d+)$/.exec(text);
  if (!m)
    throw new InputError(`expected <pass>:<partition index> (e.g. 1:5), got '${text}'`, { field: '--slurm-part' });
  return { pass: Number(m[1]), index: Number(m[2]) };
}

const stem = (k: PartitionKey): string => `p${k.index}${k.pass > 1 ? `-pass${k.pass}` : ''}`;
const rawPath = (dir: string, k: PartitionKey): string => join(dir, `${stem(k)}.raw`);
const recordPath = (dir: string, k: PartitionKey): string => join(dir, `${stem(k)}.json`);
const runFile = (dir: string): string => join(dir, 'run.json');

/** What a task leaves beside a partition's rawfile once it is complete. */
const RecordSchema = z.object({
  fingerprint: z.string(),
  pass: z.number().int(),
  index: z.number().int(),
  info: z
    .object({
      index: z.number().int(),
      label: z.string(),
      transistors: z.number(),
      replicas: z.number(),
      handoffs: z.number(),
      handoffPoints: z.number(),
      durationMs: z.number(),
      cpuS: z.number().optional(),
      points: z.number(),
      windows: z.number().int().optional(),
      windowsInTurn: z.number().int().optional(),
      handoffReplay: z.enum(['file', 'bsource']).optional(),
      abstolRetriedA: z.number().optional(),
      workDir: z.string().optional(),
    })
    .strict(),
  ngspiceVersion: z.string(),
  exitCode: z.number(),
  messages: z.array(z.object({ severity: z.string(), kind: z.string(), text: z.string() }).passthrough()),
  stdoutTail: z.string(),
  stderrTail: z.string(),
  startedAt: z.string(),
  endedAt: z.string(),
  /** Where it ran: `$SLURM_ARRAY_JOB_ID`, `$SLURM_ARRAY_TASK_ID`, the host. */
  ranOn: z.object({ job: z.string().optional(), task: z.string().optional(), host: z.string() }),
  /** CPU seconds of the whole task: node (start-up, deck, hand-offs) and its ngspice. */
  taskCpuS: z.number().optional(),
  /** Of those, its finished children's (ngspice and its version check), from the kernel's accounting (rusage). */
  childCpuS: z.number().optional(),
});
export type PartitionRecord = z.infer<typeof RecordSchema>;
/**
 * Every field of `PartitionRunInfo` has its place in the record's strict schema: a field added there and not here
 * makes every record that carries it unreadable to the next stage (as `windowsInTurn` did), so the build fails.
 */
const INFO_FIELDS_IN_SCHEMA: [Exclude<keyof PartitionRunInfo, keyof PartitionRecord['info']>] extends [never]
  ? true
  : never = true;
void INFO_FIELDS_IN_SCHEMA;

/**
 * The run's fingerprint: its partition plan (every element, so the model, clip, process values and calibration),
 * the process card, ngspice options, tstop and passes. Partitions stored under another fingerprint are another run's.
 */
export function runFingerprint(ctx: PartitionContext): string {
  const { plan, tStopS, passes, opts } = ctx;
  return createHash('sha256')
    .update(JSON.stringify([plan, tStopS, passes, opts.spiceOptions ?? null, opts.process]))
    .digest('hex')
    .slice(0, 16);
}

/**
 * Makes `<out>/partitions/` for this run, or checks that it is this run's.
 *
 * @throws InputError when it holds another run's partitions (another model, clip, process or option)
 */
export async function openPartitionStore(ctx: PartitionContext, outDir: string): Promise<string> {
  const dir = partitionStoreDir(outDir);
  const fingerprint = runFingerprint(ctx);
  const had = await readTextIfExists(runFile(dir));
  if (had !== undefined) {
    const was = (JSON.parse(had) as { fingerprint?: string }).fingerprint;
    if (was !== fingerprint)
      throw new InputError(
        `${dir} holds the partitions of another run (fingerprint ${was}, this run's ${fingerprint}: another model, clip, process or option): remove the folder or choose another --out`,
        { file: runFile(dir) },
      );
    return dir;
  }
  await makeDir(dir);
  const labels = ctx.plan.partitions.map((p) => p.label);
  await writeFileAtomic(
    runFile(dir),
    JSON.stringify({ fingerprint, passes: ctx.passes, partitions: labels }, null, 1) + '\n',
  );
  return dir;
}

/** `<out>/partitions/plan/p<i>.json`: partition i as cut at submission. */
const planPath = (dir: string, index: number): string => join(dir, 'plan', `p${index}.json`);

/**
 * A partition as the submission cut it, with what else a task needs of the whole circuit. A task loads this instead
 * of building and cutting the whole circuit again: at width 128 that took 2.6 of a task's ~2.9 CPU-s
 * (generateNetlist 1.8, partitionCircuit 0.5, the run's fingerprint 0.3; docs/slurm.md).
 */
const StoredPartitionSchema = z.object({
  /** The run's fingerprint (run.json's) when the plan was stored. */
  fingerprint: z.string(),
  /** Hash of the network and options a task builds the deck with (`taskSourceHash`): they must not have changed. */
  sources: z.string(),
  labels: z.array(z.string()),
  tStopS: z.number(),
  tolV: z.number(),
  passes: z.union([z.literal(1), z.literal(2)]),
  flatCells: z.boolean(),
  partition: z.object({ index: z.number().int(), label: z.string() }).passthrough(),
  /**
   * Per partition this one reads from: every rail any partition reads from it (`PartitionContext.railsFrom`);
   * absent in a plan stored before it was kept, whose tasks choose points over their own rails, as then.
   */
  railsFrom: z.record(z.string(), z.array(z.string())).optional(),
});

/** What a task builds a partition's deck from besides the partition: the network and the options (runner's left out). */
function taskSourceHash(net: PartitionContext['net'], opts: PartitionContext['opts']): string {
  const json = JSON.stringify([net, opts], (key, v: unknown) =>
    // Not the deck's: the runner's settings, the executor, the local pool's size (a task is not given -j).
    key === 'run' || key === 'partitionExecutor' || key === 'workers' ? undefined : v,
  );
  return createHash('sha256').update(json).digest('hex').slice(0, 16);
}

/**
 * Stores every partition of the run (`<out>/partitions/plan/`) for the tasks to load (`storedTaskContext`); those
 * this run stored already are left as they are. Returns how many it wrote.
 */
export async function storePartitionPlan(ctx: PartitionContext, dir: string): Promise<number> {
  const fingerprint = runFingerprint(ctx);
  const sources = taskSourceHash(ctx.net, ctx.opts);
  const labels = ctx.plan.partitions.map((p) => p.label);
  await makeDir(join(dir, 'plan'));
  let wrote = 0;
  for (const p of ctx.plan.partitions) {
    const file = planPath(dir, p.index);
    // Stored by an earlier submission of this run (the fingerprint is written first): keep; another run's: replace.
    if ((await readTextIfExists(file))?.startsWith(`{"fingerprint":"${fingerprint}"`)) continue;
    const stored = { fingerprint, sources, labels, tStopS: ctx.tStopS, tolV: ctx.tolV, passes: ctx.passes };
    const railsFrom = Object.fromEntries([...new Set(p.handoffs.map((h) => h.from))].map((f) => [f, ctx.railsFrom(f)]));
    await writeFileAtomic(
      file,
      JSON.stringify({ ...stored, flatCells: ctx.built.flatCells, partition: p, railsFrom }) + '\n',
    );
    wrote++;
  }
  return wrote;
}

/**
 * The context a task runs partition `index` in, from its stored plan (`storePartitionPlan`) and the network and
 * options it was given: the other partitions are their labels only (what a task reads of them: error messages).
 *
 * @throws InputError when there is no stored plan for it, it is not one, or it belongs to another run or was cut
 *   from another network or options
 */
export async function storedTaskContext(
  dir: string,
  index: number,
  base: Pick<PartitionContext, 'net' | 'opts' | 'run' | 'handoff'>,
): Promise<PartitionContext> {
  const file = planPath(dir, index);
  const text = await readTextIfExists(file);
  const had = await readTextIfExists(runFile(dir));
  if (text === undefined || had === undefined)
    throw new InputError(
      `no stored plan for partition ${index} (${file}${had === undefined ? `, nor ${runFile(dir)}` : ''}): submit with \`bmru compare --partitioned --slurm\`, which writes them`,
      { file },
    );
  const r = StoredPartitionSchema.safeParse(JSON.parse(text));
  if (!r.success)
    throw new InputError(`not a stored partition (${r.error.issues[0].path.join('.')}: ${r.error.issues[0].message})`, {
      file,
    });
  const s = r.data;
  const run = (JSON.parse(had) as { fingerprint?: string }).fingerprint;
  if (s.fingerprint !== run || s.partition.index !== index)
    throw new InputError(
      `stored for run ${s.fingerprint}, partition ${s.partition.index}, but ${runFile(dir)} is run ${run} and the task asks for partition ${index}: remove the folder and submit again`,
      { file },
    );
  if (s.sources !== taskSourceHash(base.net, base.opts))
    throw new InputError(
      `cut from another network or options than this task's (model, clip or option changed since submission): submit again into another --out`,
      { file },
    );
  const partitions = s.labels.map((label, i) =>
    i === index ? (s.partition as unknown as Partition) : labelOnly(i, label),
  );
  return {
    ...base,
    built: { flatCells: s.flatCells },
    tStopS: s.tStopS,
    plan: { partitions },
    railsFrom: (from) => s.railsFrom?.[String(from)] ?? [],
    tolV: s.tolV,
    passes: s.passes,
  };
}

/** A partition of which a task knows only the label (it runs another one). */
function labelOnly(index: number, label: string): Partition {
  return {
    index,
    label,
    kind: 'rest',
    own: [],
    copies: [],
    after: [],
    replicas: [],
    replicaDrains: [],
    copyDrainSaves: [],
    handoffs: [],
    initialConditions: [],
    saves: [],
    transistors: 0,
  };
}

/** The fingerprint in the store's run.json. @throws InputError when there is none */
async function storeFingerprint(dir: string): Promise<string> {
  const text = await readTextIfExists(runFile(dir));
  const fingerprint = text === undefined ? undefined : (JSON.parse(text) as { fingerprint?: string }).fingerprint;
  if (fingerprint === undefined) throw new InputError('missing or without a fingerprint', { file: runFile(dir) });
  return fingerprint;
}

/** The record of a partition, or undefined when it has none (not run, or not finished). @throws InputError for a record that is not one */
export async function readRecord(dir: string, k: PartitionKey): Promise<PartitionRecord | undefined> {
  const file = recordPath(dir, k);
  const text = await readTextIfExists(file);
  if (text === undefined) return undefined;
  const r = RecordSchema.safeParse(JSON.parse(text));
  if (!r.success)
    throw new InputError(
      // InputError puts the file in front.
      `not a partition record (${r.error.issues[0].path.join('.')}: ${r.error.issues[0].message})`,
      {
        file,
      },
    );
  return r.data;
}

/** Per stage, the partitions (with their pass) without a record: what a submission still has to run. */
export async function missingPartitions(
  ctx: PartitionContext,
  dir: string,
): Promise<{ stage: PartitionStage; missing: PartitionKey[] }[]> {
  const out: { stage: PartitionStage; missing: PartitionKey[] }[] = [];
  for (const stage of partitionStages(ctx)) {
    const missing: PartitionKey[] = [];
    for (const index of stage.partitions)
      if ((await readRecord(dir, { pass: stage.pass, index })) === undefined) missing.push({ pass: stage.pass, index });
    out.push({ stage, missing });
  }
  return out;
}

/**
 * The transient plot of a stored partition (only `vectors` of it, and time, when given).
 *
 * @throws BmruError naming the partition when it has no record yet, or a record but no rawfile
 */
async function storedPlot(
  ctx: PartitionContext,
  dir: string,
  k: PartitionKey,
  vectors?: readonly string[],
): Promise<RawPlot> {
  if ((await readRecord(dir, k)) === undefined)
    throw new BmruError(
      `partition ${k.index} (${ctx.plan.partitions[k.index].label}, pass ${k.pass}) has no result in ${dir}: its stage has not run or failed (see its log in ${slurmDir(join(dir, '..'))})`,
      'slurm-task',
    );
  const raw = rawPath(dir, k);
  if (!existsSync(raw))
    throw new BmruError(
      `partition ${k.index} (${ctx.plan.partitions[k.index].label}, pass ${k.pass}) has a record but no rawfile ${raw}: remove its record ${recordPath(dir, k)} and submit again`,
      'slurm-task',
    );
  return transientPlot(await readRawfile(raw, vectors === undefined ? {} : { vectors }));
}

/**
 * Per partition (`pass:index`) whose plot partition `k` reads, the vectors it reads there: its hand-offs' rails and,
 * in a second pass, its replicas' copies' drains (a global node's is not read: it is the supply's DC).
 */
function vectorsRead(ctx: PartitionContext, k: PartitionKey): Map<string, string[]> {
  const p = ctx.plan.partitions[k.index];
  const read = new Map<string, string[]>();
  const add = (pass: number, from: number, node: string) => {
    const key = `${pass}:${from}`;
    read.set(key, [...(read.get(key) ?? []), voltageProbe(node)]);
  };
  // Every rail read from a source, not only this partition's: the hand-off's points are chosen over all of them.
  for (const from of new Set(p.handoffs.map((h) => h.from)))
    for (const node of new Set([
      ...ctx.railsFrom(from),
      ...p.handoffs.filter((h) => h.from === from).map((h) => h.node),
    ]))
      add(k.pass, from, node);
  if (k.pass > 1) for (const d of p.replicaDrains) if (!GLOBAL_NODES.has(d.node)) add(1, d.from, d.node);
  return read;
}

/**
 * CPU seconds of this process and its finished children (ngspice), and of the children alone, from /proc/self/stat
 * (utime, stime, cutime, cstime in clock ticks); undefined where there is no /proc.
 */
async function taskCpuSeconds(): Promise<{ totalS: number; childrenS: number } | undefined> {
  const stat = await readTextIfExists('/proc/self/stat').catch(() => undefined);
  if (stat === undefined) return undefined;
  // Fields after the command name (which may hold spaces, so split after its closing parenthesis): state is field 3.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = (fields: number[]) => fields.reduce((s, i) => s + Number(f[i]), 0); // fields 14-17 of proc(5)
  const [own, children] = [ticks([11, 12]), ticks([13, 14])];
  return Number.isFinite(own + children)
    ? { totalS: (own + children) / USER_HZ, childrenS: children / USER_HZ }
    : undefined;
}

/** Linux's USER_HZ, the unit of /proc/<pid>/stat times: 100 on every architecture Node runs on (proc(5)). */
const USER_HZ = 100;

/**
 * Runs one partition as a Slurm task does: reads the plots it needs from the store, runs ngspice, publishes the
 * rawfile (by rename) and then its record. Does nothing when the partition has a record already.
 *
 * @returns 'done' when the record was there, 'ran' otherwise
 * @throws whatever `runPartition` throws (the ngspice work directory is kept and named), or BmruError when a
 *   partition it reads has no result
 */
export async function runStoredPartition(
  ctx: PartitionContext,
  dir: string,
  k: PartitionKey,
  keepWorkDir: boolean,
): Promise<'done' | 'ran'> {
  if (k.index >= ctx.plan.partitions.length || k.pass > ctx.passes)
    throw new InputError(
      `partition ${k.pass}:${k.index} does not exist: this run has ${ctx.plan.partitions.length} partitions and ${ctx.passes} pass(es)`,
      { field: '--slurm-part' },
    );
  if ((await readRecord(dir, k)) !== undefined) return 'done';
  // The record carries run.json's fingerprint: read it before ngspice runs, not after minutes of it.
  const fingerprint = await storeFingerprint(dir);
  const startedAt = new Date().toISOString();
  const inputs = new Map<string, Promise<RawPlot>>();
  // Only the vectors this partition reads (memory: at width 128 the front end's rawfile holds hundreds of rails).
  const reads = vectorsRead(ctx, k);
  const plotOf = (pass: number, index: number): Promise<RawPlot> => {
    const key = `${pass}:${index}`;
    if (!inputs.has(key)) inputs.set(key, storedPlot(ctx, dir, { pass, index }, reads.get(key) ?? []));
    return inputs.get(key)!;
  };
  // Fail on a missing input before ngspice starts, naming it.
  await Promise.all(partitionInputs(ctx, k.pass, k.index).map((i) => plotOf(i.pass, i.index)));
  // The rawfile is written from the plot in memory, not copied from ngspice's work directory: a partition run as
  // time windows one after another (a long hand-off) has no rawfile of its whole transient, and keeping each
  // window's directory only to copy one file left them all behind (~5 per windowed partition, at width 128 over 10
  // frames ~1,000 directories in /tmp).
  const r = await runPartition(
    { ...ctx, run: { ...ctx.run, keepWorkDir: keepWorkDir ? 'always' : 'onFailure' } },
    k.pass,
    k.index,
    plotOf,
  );
  const raw = rawPath(dir, k);
  const temp = join(dir, `.${stem(k)}.raw.${process.pid}.tmp`);
  await writeFile(temp, encodeRawfile(transientPlot(r.result.plots)));
  await rename(temp, raw);
  const { workDir, ...info } = r.info;
  // A launcher (a task that grew past its threshold) still holds ngspice's CPU: once it exits, it is in cutime.
  await closeLauncher();
  const cpu = await taskCpuSeconds();
  const record: PartitionRecord = {
    // run.json's: the store is this run's (openPartitionStore or storedTaskContext checked), and a task's context
    // holds its own partition only, so it cannot compute the run's.
    fingerprint,
    pass: k.pass,
    index: k.index,
    info: keepWorkDir && workDir !== undefined ? { ...info, workDir } : info,
    ngspiceVersion: r.result.ngspiceVersion,
    exitCode: r.result.exitCode,
    messages: r.result.messages.map((m) => ({ ...m })),
    stdoutTail: r.result.stdoutTail,
    stderrTail: r.result.stderrTail,
    startedAt,
    endedAt: new Date().toISOString(),
    ranOn: {
      ...(process.env.SLURM_ARRAY_JOB_ID ? { job: process.env.SLURM_ARRAY_JOB_ID } : {}),
      ...(process.env.SLURM_ARRAY_TASK_ID ? { task: process.env.SLURM_ARRAY_TASK_ID } : {}),
      host: os.hostname(),
    },
    ...(cpu === undefined ? {} : { taskCpuS: cpu.totalS, childCpuS: cpu.childrenS }),
  };
  await writeFileAtomic(recordPath(dir, k), JSON.stringify(record, null, 1) + '\n');
  return 'ran';
}

/** What a submission recorded: each stage's job and which partition each of its tasks runs. */
const SubmittedSchema = z.object({
  stages: z.array(
    z.object({
      stage: z.number().int(),
      label: z.string(),
      job: z.string(),
      tasks: z.array(z.object({ pass: z.number().int(), index: z.number().int() })),
    }),
  ),
  merge: z.string().optional(),
});
export type Submitted = z.infer<typeof SubmittedSchema>;

/** `<out>/slurm/submitted.json`: the latest submission's jobs. */
export const submittedPath = (outDir: string): string => join(slurmDir(outDir), 'submitted.json');

/** The latest submission's jobs, or undefined when there was none (or it cannot be read). */
export async function readSubmitted(outDir: string): Promise<Submitted | undefined> {
  const text = await readTextIfExists(submittedPath(outDir)).catch(() => undefined);
  if (text === undefined) return undefined;
  const r = SubmittedSchema.safeParse(JSON.parse(text));
  return r.success ? r.data : undefined;
}

/** Where partition `k` ran or should have: its stage's job and task and the task's log (from the latest submission). */
export function taskOf(
  submitted: Submitted | undefined,
  outDir: string,
  k: PartitionKey,
): { stage: number; label: string; job: string; task: number; log: string } | undefined {
  for (const s of submitted?.stages ?? []) {
    const task = s.tasks.findIndex((t) => t.pass === k.pass && t.index === k.index);
    if (task >= 0)
      return { stage: s.stage, label: s.label, job: s.job, task, log: join(slurmDir(outDir), `${s.job}_${task}.out`) };
  }
  return undefined;
}

/** The last non-empty line of a log (what a failed task said last), or undefined. */
export async function lastLogLine(log: string): Promise<string | undefined> {
  const text = await readTextIfExists(log).catch(() => undefined);
  return text
    ?.split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .pop();
}

/**
 * The partitions of the first stage that left no result, as an error naming the stage, each task, its log and
 * the log's last line.
 */
export async function missingError(ctx: PartitionContext, outDir: string): Promise<BmruError | undefined> {
  const dir = partitionStoreDir(outDir);
  const first = (await missingPartitions(ctx, dir)).find((s) => s.missing.length > 0);
  if (first === undefined) return undefined;
  const submitted = await readSubmitted(outDir);
  const lines: string[] = [];
  for (const k of first.missing.slice(0, MISSING_LISTED)) {
    const t = taskOf(submitted, outDir, k);
    const label = ctx.plan.partitions[k.index].label;
    if (t === undefined) {
      lines.push(`partition ${k.pass}:${k.index} (${label}) was not submitted`);
      continue;
    }
    const said = await lastLogLine(t.log);
    lines.push(
      `task ${t.task} of Slurm job ${t.job} (partition ${label}): log ${t.log}${said === undefined ? ' (none yet: cancelled before it started?)' : `, last line: ${said}`}`,
    );
  }
  const more = first.missing.length > MISSING_LISTED ? `; ${first.missing.length - MISSING_LISTED} more` : '';
  return new BmruError(
    `stage '${first.stage.label}' left ${first.missing.length} of ${first.stage.partitions.length} partitions without a result in ${dir}: ${lines.join('; ')}${more}. Fix the cause, then submit again: finished partitions are kept`,
    'slurm-task',
  );
}

/** Tasks an error lists by name (the rest are counted). */
const MISSING_LISTED = 3;

/**
 * The executor of the merge step: every partition's last pass from the store, merged. Wall time: from the first
 * partition's start to the last one's end.
 *
 * @throws BmruError naming the first stage with a partition without a result, its tasks and their logs
 */
export function storedPartitions(outDir: string): PartitionExecutor {
  return {
    label: 'Slurm (a job array per stage)',
    run: async (ctx) => {
      const dir = await openPartitionStore(ctx, outDir);
      const missing = await missingError(ctx, outDir);
      if (missing) throw missing;
      const n = ctx.plan.partitions.length;
      const records: PartitionRecord[][] = [];
      for (let pass = 1; pass <= ctx.passes; pass++) {
        records.push([]);
        for (let index = 0; index < n; index++) records[pass - 1].push((await readRecord(dir, { pass, index }))!);
      }
      const last: RunResult[] = [];
      for (let index = 0; index < n; index++) {
        const r = records[ctx.passes - 1][index];
        last.push({
          plots: await readRawfile(rawPath(dir, { pass: ctx.passes, index })),
          exitCode: r.exitCode,
          durationMs: r.info.durationMs,
          ngspiceVersion: r.ngspiceVersion,
          messages: r.messages as unknown as SpiceMessage[],
          stdoutTail: r.stdoutTail,
          stderrTail: r.stderrTail,
        });
      }
      const infos: PartitionRunInfo[] = last.map((_, i) => combinePasses(records.map((p) => p[i].info)));
      const all = records.flat();
      const wallMs =
        Math.max(...all.map((r) => Date.parse(r.endedAt))) - Math.min(...all.map((r) => Date.parse(r.startedAt)));
      return mergePartitionRuns(last, infos, wallMs);
    },
  };
}

/** A network and clip run on Slurm by a `bmru compare --partitioned --slurm --wait` of their own (`slurmCompare`). */
export interface SlurmCompareRun {
  /** The run's folder, on a filesystem every node sees: model.json and clip.csv go there, then compare's outputs. */
  readonly dir: string;
  readonly net: Network;
  readonly inputs: InputSequence;
  /**
   * compare's flags besides -m, -i, -o, --partitioned, --slurm and --wait: those that build the deck as the caller's
   * run does (process, kit, partition cut, transistor budget; the merge here refuses another run's partitions) and
   * those of the tasks (timeout, sbatch settings).
   */
  readonly compareArgs: readonly string[];
  /** Each line compare writes to stderr (its submissions, their job ids), as it comes. */
  readonly onLine?: (line: string) => void;
}

/** Lines of compare's stderr quoted in the error when it fails. */
const COMPARE_ERROR_LINES = 5;

/**
 * An executor for callers that build their network in memory (`analyze power --scaling --slurm`): writes it and
 * its clip into the run's folder, runs `bmru compare` on them as Slurm job arrays and waits for its merge (which
 * writes compare's reports there), then merges the stored partitions here as `storedPartitions` does, so the caller
 * reads the same merged plot a local run gives. compare resubmits only the partitions without a result: rerun
 * after a failure and the work done stays done.
 *
 * @throws BmruError naming the folder, compare's exit code and its last stderr lines when it fails (exit 1, a
 *   comparison outside its tolerances, is a result: the caller scores the states itself)
 */
export function slurmCompare(run: SlurmCompareRun): PartitionExecutor {
  return {
    label: 'Slurm (a job array per stage)',
    run: async (ctx) => {
      await makeDir(run.dir);
      const model = join(run.dir, 'model.json');
      const clip = join(run.dir, 'clip.csv');
      await writeFileAtomic(model, networkToJson(run.net));
      await writeFileAtomic(clip, inputsCsv(run.inputs, { exact: true }));
      const args = [
        ...['compare', '-m', model, '-i', clip, ...run.compareArgs],
        ...['--partitioned', '--slurm', '--wait', '-o', run.dir],
      ];
      const { code, lines } = await runBmru(args, run.onLine);
      if (code !== 0 && code !== 1)
        throw new BmruError(
          `bmru compare --slurm in ${run.dir} ended with ${code === null ? 'a signal' : `exit ${code}`}: ${lines.slice(-COMPARE_ERROR_LINES).join(' | ')}`,
          'slurm-task',
        );
      return storedPartitions(run.dir).run(ctx);
    },
  };
}

/** Runs this toolkit's CLI as a child process: its exit code and stderr lines (each handed to `onLine` as it comes). */
function runBmru(
  args: readonly string[],
  onLine?: (line: string) => void,
): Promise<{ code: number | null; lines: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(PACKAGE_ROOT, 'bin', 'bmru.js'), ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const lines: string[] = [];
    let partial = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      const parts = (partial + s).split('\n');
      partial = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        onLine?.(line);
      }
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, lines: partial === '' ? lines : [...lines, partial] }));
  });
}

/** Removes the stage scripts an earlier submission wrote (a resubmission writes only the stages with partitions left). */
export async function removeStageScripts(outDir: string): Promise<void> {
  const logs = slurmDir(outDir);
  const names = await readdir(logs).catch(() => [] as string[]);
  for (const n of names) if (/^stage-\d+\.sbatch$/.test(n)) await rm(join(logs, n), { force: true });
}

/** One stage's array script and what its tasks run. */
export interface StageScript {
  readonly stage: number;
  readonly label: string;
  readonly tasks: readonly PartitionKey[];
  readonly file: string;
  readonly text: string;
}

/** What `slurmScripts` writes: a script per stage with partitions left, the merge script, the submit driver. */
export interface SlurmScripts {
  readonly stages: readonly StageScript[];
  readonly merge: { readonly file: string; readonly text: string };
  /** `submit.sh`: the same submissions as `bmru compare --slurm`, in dependency order, for a user to run. */
  readonly driver: { readonly file: string; readonly text: string };
}

/**
 * The scripts of a partitioned run on Slurm: per stage with partitions left (`todo`), an array whose task i runs
 * `compare <args> --slurm-part <its partition>`; a one-task merge array running `compare <args> --slurm-merge`;
 * and `submit.sh`, which submits them in order, each after the one before (`dependencyArgs`). `args` is the compare
 * command line the tasks share (every path absolute).
 */
export function slurmScripts(
  todo: readonly { stage: PartitionStage; missing: readonly PartitionKey[] }[],
  outDir: string,
  args: readonly string[],
  settings: SlurmSettings & { readonly jobName: string },
): SlurmScripts {
  const logs = slurmDir(outDir);
  const command = ['exec node', sh(settings.bin), 'compare', ...args.map(sh)].join(' ');
  const stages: StageScript[] = [];
  todo.forEach(({ stage, missing }, s) => {
    if (missing.length === 0) return;
    const file = join(logs, `stage-${String(s).padStart(2, '0')}.sbatch`);
    const text = arrayScript({
      ...settings,
      cpusPerTask: 1,
      jobName: `${settings.jobName}-s${s}`,
      tasks: missing.length,
      logDir: logs,
      comments: [
        `Written by \`bmru compare --partitioned --slurm\`: stage ${s} of ${todo.length} (${stage.label}), ${missing.length} partition(s), one per task.`,
        `Each task writes its partition's rawfile and record into ${partitionStoreDir(outDir)}; one with a record already does nothing.`,
        `Submitted after the stage before it has ended with every task ok (sbatch --dependency=afterok:<its job>); ${join(logs, 'submit.sh')} submits all stages in order.`,
      ],
      body: [
        `PARTS=(${missing.map((k) => `${k.pass}:${k.index}`).join(' ')})`,
        '# exec: a time limit or scancel signals node itself, which stops its ngspice process.',
        `${command} --slurm-part "\${PARTS[$SLURM_ARRAY_TASK_ID]}"`,
      ],
    });
    stages.push({ stage: s, label: stage.label, tasks: missing, file, text });
  });
  const mergeFile = join(logs, 'merge.sbatch');
  const merge = arrayScript({
    ...settings,
    cpusPerTask: 1,
    jobName: `${settings.jobName}-merge`,
    tasks: 1,
    logDir: logs,
    comments: [
      'Written by `bmru compare --partitioned --slurm`: merges the partitions and compares, as `bmru compare --partitioned` does locally.',
      `Writes ${join(outDir, 'report.json')} and the other reports; exit 0 pass, 1 below tolerance, 2 error (a partition missing: named with its task's log).`,
    ],
    body: [`${command} --slurm-merge`],
  });
  const id = (s: number): string => `\${j${s}%%;*}`; // sbatch --parsable prints <id> or <id>;<cluster>
  const driver: string[] = [
    '#!/bin/bash',
    `# Written by \`bmru compare --partitioned --slurm\`: submits ${stages.length} stage array(s) and the merge, each after the one before.`,
    '# Run it to submit the same chain again (bmru compare ... --slurm does the same and resubmits only missing partitions).',
    'set -e',
  ];
  let prev: number | undefined;
  for (const st of stages) {
    const dep = prev === undefined ? [] : dependencyArgs(id(prev));
    driver.push(
      `j${st.stage}=$(sbatch --parsable ${dep.map((d) => `"${d}"`).join(' ')}${dep.length ? ' ' : ''}${sh(st.file)})`,
    );
    driver.push(
      `echo "stage ${st.stage} (${st.label.replace(/["$`\\]/g, '')}): job ${id(st.stage)}, ${st.tasks.length} task(s)"`,
    );
    prev = st.stage;
  }
  const dep = prev === undefined ? [] : dependencyArgs(id(prev));
  driver.push(`jm=$(sbatch --parsable ${dep.map((d) => `"${d}"`).join(' ')}${dep.length ? ' ' : ''}${sh(mergeFile)})`);
  driver.push(`echo "merge: job \${jm%%;*}; report: ${join(outDir, 'report.json').replace(/["$`\\]/g, '')}"`, '');
  return {
    stages,
    merge: { file: mergeFile, text: merge },
    driver: { file: join(logs, 'submit.sh'), text: driver.join('\n') },
  };
}

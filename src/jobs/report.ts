/**
 * What a batch has produced: counts for `bmru batch status`, aggregates, report.csv rows and report.html for
 * `bmru batch report` (mostly pure functions of the plan's jobs and the records found; records of jobs no longer
 * in the plan are counted apart and otherwise ignored), and opening a batch by its plan or its output folder.
 */
import { stat } from 'node:fs/promises';
import { judge, type Tolerances } from '../compare/tolerance.js';
import { BmruError, parseWith } from '../errors.js';
import { SpecsSchema, type SpecLimits } from './specs.js';
import { histogram, htmlPage, lineChart, writePlot } from '../plot/index.js';
import { FAILURE_CLASSES, type FailureClass } from './failure.js';
import { expandPlan, loadPlan, sizingText, type Job } from './plan.js';
import { nominalSizing, nominalVddV } from './run.js';
import type { Sizing } from '../netlist/process.js';
import {
  acquireLock,
  outPaths,
  readJobsFile,
  rebuildStreams,
  recordReference,
  type OutPaths,
  type ResultRecord,
} from './store.js';
import { REFERENCE_NAMES, type ReferenceName } from '../compare/references.js';
import { formatSi } from '../netlist/ranges.js';

export interface BatchStatus {
  readonly total: number;
  readonly ok: number;
  readonly failed: number;
  readonly pending: number;
  readonly failedByClass: Record<FailureClass, number>;
  /** Records in the folder whose job the plan no longer lists (e.g. after seeds were removed). */
  readonly foreign: number;
}

/** Counts done, failed and pending jobs of a plan. */
export function batchStatus(jobs: readonly Job[], records: ReadonlyMap<string, ResultRecord>): BatchStatus {
  const failedByClass = Object.fromEntries(FAILURE_CLASSES.map((c) => [c, 0])) as Record<FailureClass, number>;
  let ok = 0;
  let failed = 0;
  for (const j of jobs) {
    const r = records.get(j.id);
    if (r?.status === 'ok') ok++;
    else if (r?.status === 'failed') {
      failed++;
      const cls = r.failure?.class ?? 'internal';
      failedByClass[cls] = (failedByClass[cls] ?? 0) + 1;
    }
  }
  const ids = new Set(jobs.map((j) => j.id));
  const foreign = [...records.keys()].filter((id) => !ids.has(id)).length;
  return { total: jobs.length, ok, failed, pending: jobs.length - ok - failed, failedByClass, foreign };
}

/** One row of the report: the jobs of one model on one process corner. */
export interface GroupRow {
  readonly model: string;
  readonly process: string;
  readonly corner: string;
  /** The sweep values of the row's jobs (I_unit, VDD, temperature), '-' for none. */
  readonly condition: string;
  readonly jobs: number;
  readonly ok: number;
  readonly failed: number;
  readonly pending: number;
  /** Jobs whose comparison passes the tolerances given to `aggregate`. */
  readonly pass: number;
  /** Mean and minimum unit-frame state agreement over the ok jobs (null without any). */
  readonly stateAgreementMean: number | null;
  readonly stateAgreementMin: number | null;
  readonly voteAgreementMean: number | null;
  /** Fraction of ok jobs whose circuit decision equals the model's. */
  readonly decisionMatchRate: number | null;
  /** Mean ngspice wall time per ok job (s). */
  readonly ngspiceMeanS: number | null;
  /** The references the ok jobs' verdicts judged against (one, unless the plan changed between runs). */
  readonly verdictReferences: readonly ReferenceName[];
  /** Per reference scored by every ok job: mean state agreement and decision-match rate against it. */
  readonly references: Partial<
    Record<ReferenceName, { readonly stateAgreementMean: number; readonly decisionMatchRate: number }>
  >;
}

/**
 * Aggregates the records per model x process x corner, in plan order. Pass/fail is judged again from each
 * stored comparison with `tolerances`, so a changed tolerance file needs no rerun.
 */
export function aggregate(
  jobs: readonly Job[],
  records: ReadonlyMap<string, ResultRecord>,
  tolerances: Tolerances,
): GroupRow[] {
  const groups = new Map<
    string,
    { key: { model: string; process: string; corner: string; condition: string }; jobs: Job[] }
  >();
  for (const j of jobs) {
    const key = { model: j.model.path, process: j.process.name, corner: j.corner ?? '-', condition: conditionOf(j) };
    const k = JSON.stringify(key);
    if (!groups.has(k)) groups.set(k, { key, jobs: [] });
    groups.get(k)!.jobs.push(j);
  }
  return [...groups.values()].map(({ key, jobs: gj }) => {
    const recs = gj.map((j) => records.get(j.id));
    const ok = recs.filter(
      (r): r is ResultRecord & { cosim: NonNullable<ResultRecord['cosim']> } =>
        r?.status === 'ok' && r.cosim !== undefined,
    );
    const failed = recs.filter((r) => r?.status === 'failed').length;
    const states = ok.map((r) => r.cosim.comparison.stateAgreement);
    return {
      ...key,
      jobs: gj.length,
      ok: ok.length,
      failed,
      pending: gj.length - ok.length - failed,
      pass: ok.filter((r) => judge(r.cosim.comparison, tolerances).pass).length,
      stateAgreementMean: mean(states),
      stateAgreementMin: states.length === 0 ? null : Math.min(...states),
      voteAgreementMean: mean(ok.map((r) => r.cosim.comparison.voteAgreement)),
      decisionMatchRate: mean(ok.map((r) => (r.cosim.comparison.decisionMatch ? 1 : 0))),
      ngspiceMeanS: mean(ok.map((r) => r.cosim.ngspiceS)),
      verdictReferences: REFERENCE_NAMES.filter((n) => ok.some((r) => recordReference(r.cosim) === n)),
      references: Object.fromEntries(
        REFERENCE_NAMES.flatMap((n) => {
          const figures = ok.map((r) => r.cosim.references?.[n]);
          if (ok.length === 0 || figures.some((f) => f === undefined)) return [];
          return [
            [
              n,
              {
                stateAgreementMean: mean(figures.map((f) => f!.stateAgreement))!,
                decisionMatchRate: mean(figures.map((f) => (f!.decisionMatch ? 1 : 0)))!,
              },
            ],
          ];
        }),
      ),
    };
  });
}

/**
 * A job's sweep values as one cell: `250 pA 800 mV 85 C frame 5 ms mirrorLengthUm=4 calibrated there` ("calibrated
 * there": built with a copy of the process calibrated at those sizes), '-' when it has none.
 */
export function conditionOf(j: Job): string {
  const parts = [
    ...(j.unitCurrentA != null ? [formatSi(j.unitCurrentA, 'A')] : []),
    ...(j.vddV != null ? [formatSi(j.vddV, 'V')] : []),
    ...(j.temperatureC != null ? [`${j.temperatureC} C`] : []),
    ...(j.framePeriodS != null ? [`frame ${formatSi(j.framePeriodS, 's')}`] : []),
    ...(j.sizing != null ? [sizingText(j.sizing)] : []),
    ...(j.sizesCalibration != null ? ['calibrated there'] : []),
  ];
  return parts.length === 0 ? '-' : parts.join(' ');
}

function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
}

/** Failed records of the plan's jobs, in plan order. */
export function failedRecords(jobs: readonly Job[], records: ReadonlyMap<string, ResultRecord>): ResultRecord[] {
  return jobs.map((j) => records.get(j.id)).filter((r): r is ResultRecord => r?.status === 'failed');
}

/** Columns of report.csv: one row per model, process and corner, then the figures against each reference. */
export const REPORT_HEADER = [
  'model',
  'process',
  'corner',
  'condition',
  'jobs',
  'ok',
  'failed',
  'pending',
  'pass',
  'state_agreement_mean',
  'state_agreement_min',
  'vote_agreement_mean',
  'decision_match_rate',
  'ngspice_mean_s',
  'reference',
  ...REFERENCE_NAMES.flatMap((n) => [`state_agreement_mean_${n}`, `decision_match_rate_${n}`]),
];

/** A group row as report.csv writes it (empty cells where nothing was measured). */
export function reportCsvRow(r: GroupRow): (string | number)[] {
  const n = (v: number | null | undefined) => (v === null || v === undefined ? '' : v);
  return [
    r.model,
    r.process,
    r.corner,
    r.condition,
    r.jobs,
    r.ok,
    r.failed,
    r.pending,
    r.pass,
    n(r.stateAgreementMean),
    n(r.stateAgreementMin),
    n(r.voteAgreementMean),
    n(r.decisionMatchRate),
    n(r.ngspiceMeanS),
    r.verdictReferences.join(' '),
    ...REFERENCE_NAMES.flatMap((x) => [n(r.references[x]?.stateAgreementMean), n(r.references[x]?.decisionMatchRate)]),
  ];
}

/** A batch as `status` and `report` see it. */
export interface OpenedBatch {
  readonly name: string;
  readonly paths: OutPaths;
  readonly jobs: readonly Job[];
  readonly tolerances: Tolerances;
  /** The plan's datasheet limits (none for a folder written before datasheets). */
  readonly specs: SpecLimits;
  /** Each process's own supply (V) by plan reference; undefined for a folder written before datasheets. */
  readonly nominalVddV?: Readonly<Record<string, number>>;
  /** Each model's own frame period (s) by plan path, when the plan sweeps frame periods. */
  readonly modelFrameS?: Readonly<Record<string, number>>;
  /** Each process's own device sizes (um) by plan reference; undefined for a folder written before size sweeps. */
  readonly nominalSizing?: Readonly<Record<string, Sizing>>;
}

/** A plan file (expanded now) or an output folder (its jobs.json). */
export async function openBatch(
  target: string,
  opts: { out?: string; kit?: string; unitCurrentA?: number } = {},
): Promise<OpenedBatch> {
  const isDir = await stat(target).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (isDir) {
    const paths = outPaths(target);
    const file = await readJobsFile(paths);
    return {
      name: file.name,
      paths,
      jobs: file.jobs,
      tolerances: file.tolerances,
      specs: parseWith(SpecsSchema, file.specs ?? {}, `${paths.jobs} (specs)`) as SpecLimits,
      ...(file.nominalVddV === undefined ? {} : { nominalVddV: file.nominalVddV }),
      ...(file.modelFrameS === undefined ? {} : { modelFrameS: file.modelFrameS }),
      ...(file.nominalSizing === undefined ? {} : { nominalSizing: file.nominalSizing }),
    };
  }
  // A plan run with --unit-current has jobs of their own (another I_unit, other ids): the same flag finds them.
  const plan = await loadPlan(target, { out: opts.out, kit: opts.kit, unitCurrentA: opts.unitCurrentA });
  const expanded = await expandPlan(plan);
  return {
    name: plan.name,
    paths: outPaths(plan.outDir),
    jobs: expanded.jobs,
    tolerances: plan.tolerances,
    specs: plan.specs,
    nominalVddV: nominalVddV(expanded),
    modelFrameS: expanded.modelFrameS,
    nominalSizing: nominalSizing(expanded),
  };
}

/**
 * Rebuilds results.jsonl / results.csv from the records (after `--slice` runs, which write records only),
 * unless a run holds the folder. Returns whether it did.
 */
export async function refreshStreams(
  paths: OutPaths,
  jobs: readonly Job[],
  records: ReadonlyMap<string, ResultRecord>,
): Promise<boolean> {
  let release: (() => Promise<void>) | undefined;
  try {
    release = await acquireLock(paths);
  } catch (e) {
    if (e instanceof BmruError && e.kind === 'batch-locked') return false;
    throw e;
  }
  try {
    await rebuildStreams(
      paths,
      jobs.map((j) => records.get(j.id)).filter((r): r is ResultRecord => r !== undefined),
    );
    return true;
  } finally {
    await release();
  }
}

/** Per-job state agreement (histogram) and per group (points with the decision-match rate); false without ok jobs. */
export async function writeReportPage(
  file: string,
  name: string,
  rows: readonly GroupRow[],
  jobs: readonly Job[],
  records: ReadonlyMap<string, ResultRecord>,
): Promise<boolean> {
  const agreements = jobs.flatMap((j) => {
    const r = records.get(j.id);
    return r?.status === 'ok' && r.cosim ? [r.cosim.comparison.stateAgreement] : [];
  });
  if (agreements.length === 0) return false;
  const groups = rows.filter((r) => r.stateAgreementMean !== null);
  const label = (r: GroupRow) =>
    `${r.model.split('/').pop()} ${r.process} ${r.corner}${r.condition === '-' ? '' : ` ${r.condition}`}`;
  await writePlot(
    file,
    htmlPage(`bmru batch report: ${name}`, [
      {
        heading: 'State agreement per job',
        svg: await histogram({
          title: `Unit-frame state agreement (${agreements.length} jobs)`,
          x: { label: 'state agreement (fraction)' },
          values: agreements,
        }),
      },
      {
        heading: 'Per model, process and corner',
        svg: await lineChart({
          title: 'Mean state agreement and decision-match rate per group',
          x: { label: 'group (row of report.csv)', integer: true },
          y: { label: 'fraction' },
          series: [
            {
              name: 'state agreement (mean)',
              x: groups.map((_, i) => i),
              y: groups.map((r) => r.stateAgreementMean!),
              mark: 'point',
            },
            {
              name: 'decision match rate',
              x: groups.map((_, i) => i),
              y: groups.map((r) => r.decisionMatchRate!),
              mark: 'point',
            },
          ],
        }),
        caption: groups.map((r, i) => `${i}: ${label(r)}`).join('; '),
      },
    ]),
  );
  return true;
}

/**
 * What a batch has produced: counts for `bmru batch status`, aggregates for `bmru batch report`. Pure
 * functions of the plan's jobs and the records found; records of jobs no longer in the plan are counted apart
 * and otherwise ignored.
 */
import { judge, type Tolerances } from '../compare/tolerance.js';
import { FAILURE_CLASSES, type FailureClass } from './failure.js';
import type { Job } from './plan.js';
import { recordReference, type ResultRecord } from './store.js';
import { REFERENCE_NAMES, type ReferenceName } from '../compare/references.js';

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
  readonly references: Partial<Record<ReferenceName, { readonly stateAgreementMean: number; readonly decisionMatchRate: number }>>;
}

/**
 * Aggregates the records per model x process x corner, in plan order. Pass/fail is judged again from each
 * stored comparison with `tolerances`, so a changed tolerance file needs no rerun.
 */
export function aggregate(jobs: readonly Job[], records: ReadonlyMap<string, ResultRecord>, tolerances: Tolerances): GroupRow[] {
  const groups = new Map<string, { key: { model: string; process: string; corner: string }; jobs: Job[] }>();
  for (const j of jobs) {
    const key = { model: j.model.path, process: j.process.name, corner: j.corner ?? '-' };
    const k = JSON.stringify(key);
    if (!groups.has(k)) groups.set(k, { key, jobs: [] });
    groups.get(k)!.jobs.push(j);
  }
  return [...groups.values()].map(({ key, jobs: gj }) => {
    const recs = gj.map((j) => records.get(j.id));
    const ok = recs.filter((r): r is ResultRecord & { cosim: NonNullable<ResultRecord['cosim']> } => r?.status === 'ok' && r.cosim !== undefined);
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
          return [[n, { stateAgreementMean: mean(figures.map((f) => f!.stateAgreement))!, decisionMatchRate: mean(figures.map((f) => (f!.decisionMatch ? 1 : 0)))! }]];
        }),
      ),
    };
  });
}

function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
}

/** Failed records of the plan's jobs, in plan order. */
export function failedRecords(jobs: readonly Job[], records: ReadonlyMap<string, ResultRecord>): ResultRecord[] {
  return jobs.map((j) => records.get(j.id)).filter((r): r is ResultRecord => r?.status === 'failed');
}

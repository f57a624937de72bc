/**
 * CI fidelity regression (issue 4 §3): a suite is a batch plan; its results are checked against the plan's
 * tolerances and against a stored baseline (per job id), and reported as JUnit XML and Markdown.
 *
 * A case regresses when its verdict fails the tolerances, when its state agreement falls more than `maxDrop`
 * below the baseline's, or when the circuit's decision matched the model's in the baseline and no longer does.
 * A case with no record or a failed run is an error (exit 2), not a regression: nothing was measured.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { judge, type Tolerances } from '../compare/tolerance.js';
import { InputError, parseWith } from '../errors.js';
import type { Job } from './plan.js';
import type { ResultRecord } from './store.js';

export const BASELINE_SCHEMA = 'bmru-fidelity-baseline/1';
/** Default allowed drop of unit-frame state agreement below the baseline (0.5 percentage points). */
export const DEFAULT_MAX_DROP = 0.005;

const EntrySchema = z.object({ label: z.string(), stateAgreement: z.number().min(0).max(1), voteAgreement: z.number().min(0).max(1), decisionMatch: z.boolean() });
const BaselineSchema = z.object({
  schema: z.literal(BASELINE_SCHEMA),
  suite: z.string(),
  generator: z.string(),
  createdAt: z.string(),
  entries: z.record(z.string(), EntrySchema),
});
export type Baseline = z.infer<typeof BaselineSchema>;
export type BaselineEntry = z.infer<typeof EntrySchema>;

export interface CaseResult {
  readonly id: string;
  readonly label: string;
  readonly status: 'pass' | 'regression' | 'error' | 'new';
  readonly reasons: readonly string[];
  readonly stateAgreement: number | null;
  readonly baseline: BaselineEntry | null;
  readonly wallS: number;
}

/** A baseline from the ok records of a suite's jobs (every job must have one). */
export function baselineFrom(suite: string, generator: string, jobs: readonly Job[], records: ReadonlyMap<string, ResultRecord>): Baseline {
  const entries: Record<string, BaselineEntry> = {};
  for (const j of jobs) {
    const r = records.get(j.id);
    if (r?.status !== 'ok' || !r.cosim) throw new InputError(`job ${j.id} (${j.label}) has no successful result: a baseline needs every case measured`, { file: suite });
    const c = r.cosim.comparison;
    entries[j.id] = { label: j.label, stateAgreement: c.stateAgreement, voteAgreement: c.voteAgreement, decisionMatch: c.decisionMatch };
  }
  return { schema: BASELINE_SCHEMA, suite, generator, createdAt: new Date().toISOString(), entries };
}

/** Read and validate a baseline file. */
export async function loadBaseline(file: string): Promise<Baseline> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read the baseline (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); create it with \`bmru fidelity baseline\``, { file });
  }
  // A corrupt baseline is not a missing one: "create it" would have the record of what passed before replaced,
  // unreviewed, by whatever the circuit does now.
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InputError(`expected valid JSON (${(e as Error).message}); restore it (e.g. from version control), or rewrite it after review with \`bmru fidelity baseline\``, { file });
  }
  return parseWith(BaselineSchema, raw, file);
}

/** Judge every job of a suite against tolerances and baseline. */
export function checkFidelity(jobs: readonly Job[], records: ReadonlyMap<string, ResultRecord>, baseline: Baseline, tolerances: Tolerances, maxDrop = DEFAULT_MAX_DROP): CaseResult[] {
  return jobs.map((j): CaseResult => {
    const r = records.get(j.id);
    const base = baseline.entries[j.id] ?? null;
    const common = { id: j.id, label: j.label, baseline: base, wallS: r?.wallS ?? 0 };
    if (r?.status !== 'ok' || !r.cosim) {
      const why = r?.failure ? `${r.failure.class}: ${r.failure.message}` : 'no result';
      return { ...common, status: 'error', reasons: [why], stateAgreement: null };
    }
    const c = r.cosim.comparison;
    const reasons: string[] = [];
    const verdict = judge(c, tolerances);
    for (const k of verdict.checks.filter((x) => !x.pass)) reasons.push(`${k.name}: ${String(k.measured)} (limit ${k.limit})`);
    if (base) {
      if (c.stateAgreement < base.stateAgreement - maxDrop) {
        reasons.push(`state agreement ${(100 * c.stateAgreement).toFixed(2)}% is more than ${(100 * maxDrop).toFixed(2)} points below the baseline's ${(100 * base.stateAgreement).toFixed(2)}%`);
      }
      if (base.decisionMatch && !c.decisionMatch) reasons.push('the circuit decision matched the model in the baseline and no longer does');
    }
    const status = reasons.length > 0 ? 'regression' : base ? 'pass' : 'new';
    return { ...common, status, reasons, stateAgreement: c.stateAgreement };
  });
}

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** JUnit XML: one testcase per job; regressions are failures, missing or failed runs errors. */
export function junitXml(suite: string, cases: readonly CaseResult[]): string {
  const count = (s: CaseResult['status']) => cases.filter((c) => c.status === s).length;
  const time = cases.reduce((s, c) => s + c.wallS, 0);
  const body = cases.map((c) => {
    const head = `  <testcase classname="${xml(suite)}" name="${xml(`${c.label} [${c.id}]`)}" time="${c.wallS.toFixed(3)}"`;
    if (c.status === 'regression') return `${head}>\n    <failure message="${xml(c.reasons[0])}">${xml(c.reasons.join('\n'))}</failure>\n  </testcase>`;
    if (c.status === 'error') return `${head}>\n    <error message="${xml(c.reasons[0])}"/>\n  </testcase>`;
    return `${head}/>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuite name="${xml(suite)}" tests="${cases.length}" failures="${count('regression')}" errors="${count('error')}" time="${time.toFixed(3)}">`,
    ...body,
    '</testsuite>',
    '',
  ].join('\n');
}

/** A Markdown summary for a CI job page. */
export function markdownSummary(suite: string, cases: readonly CaseResult[], maxDrop: number): string {
  const pct = (v: number | null | undefined) => (v === null || v === undefined ? '-' : `${(100 * v).toFixed(2)}%`);
  const icon = { pass: 'pass', new: 'new (no baseline)', regression: '**REGRESSION**', error: '**ERROR**' } as const;
  const lines = [
    `## Fidelity: ${suite}`,
    '',
    `${cases.filter((c) => c.status === 'pass' || c.status === 'new').length} of ${cases.length} cases pass (state agreement may drop at most ${(100 * maxDrop).toFixed(2)} points below the baseline).`,
    '',
    '| case | state agreement | baseline | result | why |',
    '|---|---|---|---|---|',
    ...cases.map((c) => `| ${c.label} | ${pct(c.stateAgreement)} | ${pct(c.baseline?.stateAgreement)} | ${icon[c.status]} | ${c.reasons.join('; ').replace(/\|/g, '\\|')} |`),
    '',
  ];
  return lines.join('\n');
}

/** Exit code of a check: 2 when any case could not be measured, 1 on any regression, else 0. */
export function fidelityExitCode(cases: readonly CaseResult[]): 0 | 1 | 2 {
  if (cases.some((c) => c.status === 'error')) return 2;
  return cases.some((c) => c.status === 'regression') ? 1 : 0;
}

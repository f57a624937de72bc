/**
 * CI fidelity regression (issue 4 §3): a suite is a batch plan; its results are checked against the plan's
 * tolerances and against a stored baseline, and reported as JUnit XML and Markdown.
 *
 * The baseline is keyed by each case's identity as the suite names it (`caseKey`: model, input, process,
 * corner, seed), not by job id: job ids are content hashes that change with every calibration or generator
 * change, and a baseline keyed by them would match nothing after such a change, so nothing would be compared.
 * Each entry keeps the job's fingerprint (its id without the code digest) as `fingerprint`, so a check can say what changed.
 *
 * A case regresses when its verdict fails the tolerances, when its state agreement falls more than `maxDrop`
 * below the baseline's, or when the circuit's decision matched the model's in the baseline and no longer does.
 * A case whose fingerprint changed but stays within those limits is `changed` (reported, not a failure). A
 * case without a baseline entry is `new` and fails unless new cases are allowed: a gate that passes what it
 * has never seen compares nothing. A case with no record or a failed run is an error (exit 2): nothing was
 * measured.
 */
import { readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { z } from 'zod';
import { judge, type Tolerances } from '../compare/tolerance.js';
import { InputError, parseWith } from '../errors.js';
import type { Job } from './plan.js';
import { recordReference, type ResultRecord } from './store.js';
import { REFERENCE_NAMES, type ReferenceName } from '../compare/references.js';

export const BASELINE_SCHEMA = 'bmru-fidelity-baseline/2';
/** The schema keyed by job id; read only to say how to replace it. */
const BASELINE_SCHEMA_V1 = 'bmru-fidelity-baseline/1';
/** Default allowed drop of unit-frame state agreement below the baseline (0.5 percentage points). */
export const DEFAULT_MAX_DROP = 0.005;

const FiguresSchema = z.strictObject({
  stateAgreement: z.number().min(0).max(1),
  voteAgreement: z.number().min(0).max(1),
  decisionMatch: z.boolean(),
});
const EntrySchema = z.strictObject({
  label: z.string(),
  /** The job id (content hash) the figures were measured under. */
  fingerprint: z.string().regex(/^[0-9a-f]{16}$/, 'expected the 16 hex digits of a job id'),
  /** Against the verdict's reference (`reference`). */
  stateAgreement: z.number().min(0).max(1),
  voteAgreement: z.number().min(0).max(1),
  decisionMatch: z.boolean(),
  /** The reference the figures above are against (absent in baselines from before references: realised). */
  reference: z.enum(REFERENCE_NAMES).optional(),
  /** The same figures against every reference the run scored. */
  references: z.partialRecord(z.enum(REFERENCE_NAMES), FiguresSchema).optional(),
});
const BaselineSchema = z.object({
  schema: z.literal(BASELINE_SCHEMA, { error: `expected "${BASELINE_SCHEMA}"` }),
  suite: z.string(),
  generator: z.string(),
  createdAt: z.string(),
  // An empty baseline would pass every check without comparing anything.
  entries: z.record(z.string(), EntrySchema).refine((e) => Object.keys(e).length > 0, {
    error:
      'the baseline has no entries, so a check would compare nothing: write it with `bmru fidelity baseline` after review',
  }),
});
export type Baseline = z.infer<typeof BaselineSchema>;
export type BaselineEntry = z.infer<typeof EntrySchema>;

/** How one case of a suite came out. */
export interface CaseResult {
  /** The stable case identity (`caseKey`): what the baseline and the JUnit test names use. */
  readonly key: string;
  /** The job id (content hash) of this run. */
  readonly id: string;
  readonly label: string;
  readonly status: 'pass' | 'changed' | 'regression' | 'new' | 'error';
  readonly reasons: readonly string[];
  /** Against the verdict's reference. */
  readonly stateAgreement: number | null;
  /** The reference the verdict judged against (null: no result). */
  readonly reference: ReferenceName | null;
  /** State agreement against every reference the run scored. */
  readonly references: Partial<Record<ReferenceName, number>>;
  /** The baseline entry, its figures against `reference` (null: none to compare with). */
  readonly baseline: BaselineEntry | null;
  readonly wallS: number;
}

/** A baseline entry whose case the suite no longer has. */
export interface StaleEntry {
  readonly key: string;
  readonly entry: BaselineEntry;
}

/** A whole check: every case, the baseline entries left over, and the rules it was judged by. */
export interface FidelityCheck {
  readonly cases: readonly CaseResult[];
  readonly stale: readonly StaleEntry[];
  /** Drop of state agreement allowed below the baseline (fraction). */
  readonly maxDrop: number;
  /** Whether a case without a baseline entry passes. */
  readonly allowNew: boolean;
}

/** Options of `checkFidelity`. */
export interface CheckOptions {
  /** Default DEFAULT_MAX_DROP (0.005, half a percentage point). */
  readonly maxDrop?: number;
  /** Default false: a case without a baseline entry fails. */
  readonly allowNew?: boolean;
}

/**
 * The stable identity of a suite case, e.g. `kws-example.json|clip-101.csv:5|c180|tt|seed0`: model, input
 * (file and frames, or `random#<seed>:<frames>`, plus `+noise<sd>`), process, corner, seed, with `-` for no
 * corner or seed. Built from the names the suite gives (paths relative to the suite), never from content, so it
 * survives recalibration and toolkit upgrades; the content lives in the fingerprint (the job id).
 */
export function caseKey(job: Job): string {
  const input =
    job.input.kind === 'random'
      ? `random#${job.input.seed}:${job.input.frames}`
      : `${suitePath(job.input.path)}${job.input.frames === null ? '' : `:${job.input.frames}`}${job.input.noiseSd === null ? '' : `+noise${job.input.noiseSd}`}`;
  return [
    suitePath(job.model.path),
    input,
    suitePath(job.process.ref),
    job.corner ?? '-',
    job.seed === null ? '-' : `seed${job.seed}`,
  ].join('|');
}

/** A path as the suite writes it, normalised so `./a.json` and `a.json` name one case. */
const suitePath = (p: string) => posix.normalize(p.replace(/\\/g, '/'));

/** The suite's jobs by case key; two jobs with one key would share a baseline entry, so that is an error. */
function jobsByKey(suite: string, jobs: readonly Job[]): Map<string, Job> {
  const byKey = new Map<string, Job>();
  for (const j of jobs) {
    const key = caseKey(j);
    const other = byKey.get(key);
    if (other)
      throw new InputError(`cases '${other.label}' and '${j.label}' have one case key '${key}': name each case once`, {
        file: suite,
      });
    byKey.set(key, j);
  }
  return byKey;
}

/** A baseline from the ok records of a suite's jobs (every job must have one); `suite` names the suite file in errors. */
export function baselineFrom(
  suite: string,
  name: string,
  generator: string,
  jobs: readonly Job[],
  records: ReadonlyMap<string, ResultRecord>,
): Baseline {
  const entries: Record<string, BaselineEntry> = {};
  for (const [key, j] of jobsByKey(suite, jobs)) {
    const r = records.get(j.id);
    if (r?.status !== 'ok' || !r.cosim)
      throw new InputError(`job ${j.id} (${j.label}) has no successful result: a baseline needs every case measured`, {
        file: suite,
      });
    const c = r.cosim.comparison;
    const references =
      r.cosim.references === undefined
        ? undefined
        : Object.fromEntries(
            Object.entries(r.cosim.references).map(([n, f]) => [
              n,
              { stateAgreement: f.stateAgreement, voteAgreement: f.voteAgreement, decisionMatch: f.decisionMatch },
            ]),
          );
    entries[key] = {
      label: j.label,
      fingerprint: j.fingerprint,
      stateAgreement: c.stateAgreement,
      voteAgreement: c.voteAgreement,
      decisionMatch: c.decisionMatch,
      reference: recordReference(r.cosim),
      ...(references === undefined ? {} : { references }),
    };
  }
  return { schema: BASELINE_SCHEMA, suite: name, generator, createdAt: new Date().toISOString(), entries };
}

/** Read and validate a baseline file: a version-1 (job-id keyed) or empty baseline is an InputError. */
export async function loadBaseline(file: string): Promise<Baseline> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new InputError(
      `cannot read the baseline (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); create it with \`bmru fidelity baseline\``,
      { file },
    );
  }
  // A corrupt baseline is not a missing one: "create it" would have the record of what passed before replaced,
  // unreviewed, by whatever the circuit does now.
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InputError(
      `expected valid JSON (${(e as Error).message}); restore it (e.g. from version control), or rewrite it after review with \`bmru fidelity baseline\``,
      { file },
    );
  }
  if ((raw as { schema?: unknown } | null)?.schema === BASELINE_SCHEMA_V1) {
    throw new InputError(
      `${BASELINE_SCHEMA_V1} is keyed by job ids (content hashes), which change with every calibration or toolkit change; expected ${BASELINE_SCHEMA}, keyed by case: rewrite it with \`bmru fidelity baseline\` after reviewing the figures it writes`,
      { file, field: 'schema' },
    );
  }
  return parseWith(BaselineSchema, raw, file);
}

/** Judge every job of a suite against tolerances and baseline; `suite` names the suite file in errors. */
export function checkFidelity(
  suite: string,
  jobs: readonly Job[],
  records: ReadonlyMap<string, ResultRecord>,
  baseline: Baseline,
  tolerances: Tolerances,
  options: CheckOptions = {},
): FidelityCheck {
  const maxDrop = options.maxDrop ?? DEFAULT_MAX_DROP;
  const byKey = jobsByKey(suite, jobs);
  const cases = [...byKey].map(([key, j]) =>
    judgeCase(key, j, records.get(j.id), baseline.entries[key] ?? null, tolerances, maxDrop),
  );
  const stale = Object.entries(baseline.entries)
    .filter(([key]) => !byKey.has(key))
    .map(([key, entry]) => ({ key, entry }));
  return { cases, stale, maxDrop, allowNew: options.allowNew ?? false };
}

/**
 * A baseline entry's figures against `ref`: its own when it was measured against `ref` (entries from before
 * references were, against realised), else those it recorded for `ref`, else null (nothing to compare with).
 */
export function baselineFigures(entry: BaselineEntry, ref: ReferenceName): BaselineEntry | null {
  if ((entry.reference ?? 'realised') === ref) return entry;
  const f = entry.references?.[ref];
  return f === undefined ? null : { ...entry, ...f, reference: ref };
}

function judgeCase(
  key: string,
  j: Job,
  r: ResultRecord | undefined,
  entry: BaselineEntry | null,
  tolerances: Tolerances,
  maxDrop: number,
): CaseResult {
  const common = { key, id: j.id, label: j.label, wallS: r?.wallS ?? 0 };
  if (r?.status !== 'ok' || !r.cosim) {
    const why = r?.failure ? `${r.failure.class}: ${r.failure.message}` : 'no result';
    return {
      ...common,
      baseline: entry,
      status: 'error',
      reasons: [why],
      stateAgreement: null,
      reference: null,
      references: {},
    };
  }
  const c = r.cosim.comparison;
  const reference = recordReference(r.cosim);
  const references = Object.fromEntries(
    Object.entries(r.cosim.references ?? { [reference]: c }).map(([n, f]) => [n, f.stateAgreement]),
  );
  // The gate judges the verdict's reference, against the baseline's figures for that same reference.
  const base = entry === null ? null : baselineFigures(entry, reference);
  const measured = { ...common, baseline: base, stateAgreement: c.stateAgreement, reference, references };
  const failures = judge(c, tolerances)
    .checks.filter((x) => !x.pass)
    .map((k) => `${k.name}: ${String(k.measured)} (limit ${k.limit})`);
  if (!base) {
    const why =
      entry === null
        ? 'no baseline entry for this case'
        : `the baseline entry has no figures against the ${reference} model (it was measured against ${entry.reference ?? 'realised'}): rewrite it with bmru fidelity baseline after review`;
    const reasons = [...failures, why];
    return { ...measured, status: failures.length > 0 ? 'regression' : 'new', reasons };
  }
  if (c.stateAgreement < base.stateAgreement - maxDrop) {
    failures.push(
      `state agreement ${(100 * c.stateAgreement).toFixed(2)}% is more than ${(100 * maxDrop).toFixed(2)} points below the baseline's ${(100 * base.stateAgreement).toFixed(2)}%`,
    );
  }
  if (base.decisionMatch && !c.decisionMatch)
    failures.push('the circuit decision matched the model in the baseline and no longer does');
  // The figures are still compared: a changed fingerprint is what a recalibration looks like, and it is
  // exactly when the gate must keep watching.
  const changed = base.fingerprint !== j.fingerprint;
  const reasons = changed
    ? [
        ...failures,
        `fingerprint changed (baseline ${base.fingerprint}, now ${j.fingerprint}): model, inputs, process, calibration or toolkit version differ from the baseline's run`,
      ]
    : failures;
  return { ...measured, status: failures.length > 0 ? 'regression' : changed ? 'changed' : 'pass', reasons };
}

/** How a case counts: `new` fails unless new cases are allowed. */
export function caseOutcome(c: CaseResult, allowNew: boolean): 'ok' | 'failure' | 'error' {
  if (c.status === 'error') return 'error';
  if (c.status === 'regression' || (c.status === 'new' && !allowNew)) return 'failure';
  return 'ok';
}

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** JUnit XML: one testcase per case, named by case key; failures, errors, and stale baseline entries as skipped. */
export function junitXml(suite: string, check: FidelityCheck): string {
  const outcomes = check.cases.map((c) => caseOutcome(c, check.allowNew));
  const time = check.cases.reduce((s, c) => s + c.wallS, 0);
  const body = check.cases.map((c, i) => {
    const head = `  <testcase classname="${xml(suite)}" name="${xml(c.key)}" time="${c.wallS.toFixed(3)}"`;
    const why = c.reasons.length > 0 ? c.reasons : [c.status];
    if (outcomes[i] === 'failure')
      return `${head}>\n    <failure message="${xml(why[0])}">${xml(why.join('\n'))}</failure>\n  </testcase>`;
    if (outcomes[i] === 'error') return `${head}>\n    <error message="${xml(why[0])}"/>\n  </testcase>`;
    // Passing but worth a look (changed fingerprint, allowed new case): said where CI viewers show output.
    if (c.reasons.length > 0)
      return `${head}>\n    <system-out>${xml(`${c.status}: ${c.reasons.join('\n')}`)}</system-out>\n  </testcase>`;
    return `${head}/>`;
  });
  const stale = check.stale.map(
    (s) =>
      `  <testcase classname="${xml(suite)}" name="${xml(s.key)}" time="0.000">\n    <skipped message="stale: in the baseline, no longer in the suite"/>\n  </testcase>`,
  );
  const count = (o: string) => outcomes.filter((x) => x === o).length;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuite name="${xml(suite)}" tests="${check.cases.length + check.stale.length}" failures="${count('failure')}" errors="${count('error')}" skipped="${check.stale.length}" time="${time.toFixed(3)}">`,
    ...body,
    ...stale,
    '</testsuite>',
    '',
  ].join('\n');
}

/** The result column's word for a case (`new` says whether it fails). */
export function statusText(c: CaseResult, allowNew: boolean): string {
  return c.status === 'new' ? (allowNew ? 'new (allowed)' : 'new (no baseline)') : c.status;
}

/** A Markdown summary for a CI job page. */
export function markdownSummary(suite: string, check: FidelityCheck): string {
  const pct = (v: number | null | undefined) => (v === null || v === undefined ? '-' : `${(100 * v).toFixed(2)}%`);
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  const shout = (c: CaseResult) =>
    caseOutcome(c, check.allowNew) === 'ok'
      ? statusText(c, check.allowNew)
      : `**${statusText(c, check.allowNew).toUpperCase()}**`;
  const passing = check.cases.filter((c) => caseOutcome(c, check.allowNew) === 'ok').length;
  const refs = scoredReferences(check);
  const lines = [
    `## Fidelity: ${suite}`,
    '',
    `${passing} of ${check.cases.length} cases pass (state agreement may drop at most ${(100 * check.maxDrop).toFixed(2)} points below the baseline).`,
    '',
    `The verdict judges the circuit against the reference named per case; state agreement against every reference scored follows.`,
    '',
    `| case | reference | state agreement | baseline | result | ${refs.map((n) => `vs ${n} | `).join('')}why |`,
    `|---|---|---|---|---|${refs.map(() => '---|').join('')}---|`,
    ...check.cases.map(
      (c) =>
        `| ${cell(c.key)} | ${c.reference ?? '-'} | ${pct(c.stateAgreement)} | ${pct(c.baseline?.stateAgreement)} | ${shout(c)} | ${refs.map((n) => `${pct(c.references[n])} | `).join('')}${cell(c.reasons.join('; '))} |`,
    ),
    '',
  ];
  if (check.stale.length > 0) {
    lines.push(
      `Stale baseline entries (no longer in the suite; \`bmru fidelity baseline\` drops them): ${check.stale.map((s) => `\`${s.key}\``).join(', ')}.`,
      '',
    );
  }
  return lines.join('\n');
}

/** The references some case of a check was scored against, in REFERENCE_NAMES order. */
export function scoredReferences(check: FidelityCheck): ReferenceName[] {
  return REFERENCE_NAMES.filter((n) => check.cases.some((c) => c.references[n] !== undefined));
}

/** Exit code of a check: 2 when any case could not be measured, 1 on any regression or disallowed new case, else 0. */
export function fidelityExitCode(check: FidelityCheck): 0 | 1 | 2 {
  const outcomes = check.cases.map((c) => caseOutcome(c, check.allowNew));
  if (outcomes.includes('error')) return 2;
  return outcomes.includes('failure') ? 1 : 0;
}

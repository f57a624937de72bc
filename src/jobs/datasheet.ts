/**
 * A CACE-style datasheet of a batch (`bmru batch report --datasheet`): per spec the minimum, typical and maximum
 * value across the conditions a plan swept (corner, I_unit, VDD, temperature, frame period, device sizes), the
 * plan's limit, and pass/fail.
 *
 * A condition is the jobs of one model on one process at one corner and one set of sweep values (its inputs and
 * seeds); its value of a spec is taken over those jobs (a mean, the worst input, the largest delay: see SPECS), and
 * only when every one of them has an ok record: a condition with a failed or pending job has no value, so a
 * datasheet never states a figure over fewer inputs than the plan asked for. One datasheet section per model and
 * process (another circuit); corners are conditions, as in a PVT table.
 */
import { basename } from 'node:path';
import { CORE_DOMAINS, type Domain } from '../netlist/supplies.js';
import { NOMINAL_TEMPERATURE_C } from '../netlist/corners.js';
import { formatSi } from '../netlist/ranges.js';
import { escapeHtml } from '../plot/index.js';
import { ownSizing, type Job } from './plan.js';
import type { Sizing } from '../netlist/process.js';
import { conditionOf } from './report.js';
import { SPEC_NAMES, type SpecLimit, type SpecLimits, type SpecName } from './specs.js';
import type { CosimRecord, ResultRecord } from './store.js';

/** The corner that counts as typical when a plan sweeps corners (kit and skewed-card corners both name it so). */
export const TYPICAL_CORNER = 'tt';

/** What one ok job measured, in the specs' units; undefined where the record lacks the figure. */
export interface JobFigures {
  readonly stateAgreementTrained?: number;
  readonly voteAgreementTrained?: number;
  readonly decisionMatchTrained?: boolean;
  readonly stateAgreementRealised?: number;
  /** Mean delivered power per supply domain (W): the domain's mean current times the job's VDD. */
  readonly powerW: Partial<Record<Domain, number>>;
  /** Largest switching delay of any unit (s) after the frame edge at which the model switches; 0 when none switched. */
  readonly switchDelayMaxS: number;
  /** The same as a fraction of the job's frame period; undefined in a record written before that was kept. */
  readonly switchDelayMaxFrames?: number;
}

/** A job's figures from its record; `vddV` is the supply it ran at (the swept one, else the process's). */
export function jobFigures(cosim: CosimRecord, vddV: number): JobFigures {
  const trained = cosim.references?.trained;
  const realised = cosim.references?.realised;
  // As the tolerance check of the switching delay does (compare/tolerance.ts).
  const delayS = Math.max(0, ...cosim.comparison.switching.map((s) => s.maxDelayS ?? 0));
  const frameS = cosim.comparison.frameS;
  return {
    ...(trained === undefined
      ? {}
      : {
          stateAgreementTrained: trained.stateAgreement,
          voteAgreementTrained: trained.voteAgreement,
          decisionMatchTrained: trained.decisionMatch,
        }),
    ...(realised === undefined ? {} : { stateAgreementRealised: realised.stateAgreement }),
    powerW: Object.fromEntries(Object.entries(cosim.supplyMeanA).map(([d, a]) => [d, a * vddV])),
    switchDelayMaxS: delayS,
    ...(frameS === undefined ? {} : { switchDelayMaxFrames: delayS / frameS }),
  };
}

/** How a spec is shown and how a condition's value comes from its jobs' figures. */
interface SpecDef {
  /** What the row says. */
  readonly label: string;
  /** A column heading of the per-condition table. */
  readonly short: string;
  readonly unit: 'fraction' | 'W' | 's';
  /** The condition's value from its jobs (at least one); undefined when some job lacks the figure. */
  readonly value: (jobs: readonly JobFigures[]) => number | undefined;
}

const all = <T>(v: readonly (T | undefined)[]): T[] | undefined =>
  v.every((x) => x !== undefined) ? (v as T[]) : undefined;
const meanOf = (v: readonly number[] | undefined) =>
  v === undefined ? undefined : v.reduce((a, b) => a + b, 0) / v.length;
const power = (d: Domain) => (jobs: readonly JobFigures[]) => meanOf(all(jobs.map((j) => j.powerW[d])));

/** Every spec, by name (SPEC_NAMES order is the datasheet's). */
export const SPECS: Readonly<Record<SpecName, SpecDef>> = {
  stateAgreementTrained: {
    short: 'agreement vs trained',
    label: 'state agreement vs trained model (mean over inputs)',
    unit: 'fraction',
    value: (jobs) => meanOf(all(jobs.map((j) => j.stateAgreementTrained))),
  },
  worstInputStateAgreementTrained: {
    short: 'worst input vs trained',
    label: 'state agreement vs trained model (worst input)',
    unit: 'fraction',
    value: (jobs) => {
      const v = all(jobs.map((j) => j.stateAgreementTrained));
      return v === undefined ? undefined : Math.min(...v);
    },
  },
  stateAgreementRealised: {
    short: 'agreement vs realised',
    label: 'state agreement vs realised model (mean over inputs)',
    unit: 'fraction',
    value: (jobs) => meanOf(all(jobs.map((j) => j.stateAgreementRealised))),
  },
  voteAgreementTrained: {
    short: 'votes vs trained',
    label: 'frame vote agreement vs trained model (mean)',
    unit: 'fraction',
    value: (jobs) => meanOf(all(jobs.map((j) => j.voteAgreementTrained))),
  },
  decisionMatchTrained: {
    short: 'decisions vs trained',
    label: 'clip decisions equal to the trained model (fraction of inputs)',
    unit: 'fraction',
    value: (jobs) => meanOf(all(jobs.map((j) => j.decisionMatchTrained))?.map((m) => (m ? 1 : 0))),
  },
  corePowerW: {
    short: 'core power',
    label: `core power (${CORE_DOMAINS.join(' + ')}, mean)`,
    unit: 'W',
    value: (jobs) =>
      meanOf(all(jobs.map((j) => all(CORE_DOMAINS.map((d) => j.powerW[d]))?.reduce((a, b) => a + b, 0)))),
  },
  powerCellW: { label: 'power: cells (mean)', short: 'cells', unit: 'W', value: power('cell') },
  powerFfW: { label: 'power: feedforward mirrors (mean)', short: 'feedforward', unit: 'W', value: power('ff') },
  powerBiasW: { label: 'power: bias generation (mean)', short: 'bias', unit: 'W', value: power('bias') },
  powerInW: { label: 'power: input front end (mean)', short: 'input front end', unit: 'W', value: power('in') },
  switchDelayMaxS: {
    short: 'max switching delay',
    label: 'switching delay after the model switches (max over units and inputs)',
    unit: 's',
    value: (jobs) => Math.max(...jobs.map((j) => j.switchDelayMaxS)),
  },
  switchDelayMaxFrames: {
    short: 'max switching delay / frame',
    label: 'the same as a fraction of the frame period (one limit across frame periods)',
    unit: 'fraction',
    value: (jobs) => {
      const v = all(jobs.map((j) => j.switchDelayMaxFrames));
      return v === undefined ? undefined : Math.max(...v);
    },
  },
};

/** One condition: the jobs of one corner and one set of sweep values. */
export interface SheetCondition {
  /** `tt 1 nA 900 mV 27 C`; the process's own values stand where the plan does not sweep. */
  readonly label: string;
  readonly typical: boolean;
  readonly jobs: number;
  readonly ok: number;
  /** Absent: not measured (a job failed, is pending, or its record lacks the figure). */
  readonly values: Partial<Record<SpecName, number>>;
}

export type SpecStatus = 'pass' | 'fail' | 'missing' | 'no limit';

/** One row of a datasheet section. */
export interface SpecRow {
  readonly name: SpecName;
  readonly label: string;
  readonly short: string;
  readonly unit: SpecDef['unit'];
  /** Over the conditions that have a value (null: none has). */
  readonly min: number | null;
  /** At the typical condition (null: the plan did not run it, or it has no value). */
  readonly typ: number | null;
  readonly max: number | null;
  readonly limit: SpecLimit | null;
  readonly status: SpecStatus;
  /** Why it fails or is missing; empty otherwise. */
  readonly reason: string;
}

/** The datasheet of one model on one process. */
export interface SheetSection {
  readonly model: string;
  readonly process: string;
  readonly nominalVddV: number;
  /** What typical means here, e.g. `VDD 900 mV (the process's), 27 C, I_unit 1 nA (the plan's first)`. */
  readonly typicalRule: string;
  /** Which calibration tables the conditions were built with, when the section sweeps sizes; null otherwise. */
  readonly calibrationRule: string | null;
  readonly conditions: readonly SheetCondition[];
  readonly specs: readonly SpecRow[];
}

export interface Datasheet {
  readonly name: string;
  readonly sections: readonly SheetSection[];
  readonly jobs: number;
  readonly ok: number;
}

/**
 * The datasheet of a batch. `nominalVddV` maps each process reference (`job.process.ref`) to its own supply: the
 * VDD of jobs that do not sweep it (their power) and the typical condition's. `own.modelFrameS` maps each model's
 * plan path to its own frame period, the typical one when the plan sweeps frame periods, and `own.sizing` each
 * process reference to its own device sizes, the typical ones when the plan sweeps `sizes` (missing there: no
 * condition is typical).
 *
 * @throws Error naming the process reference when `nominalVddV` lacks it
 */
export function buildDatasheet(
  name: string,
  jobs: readonly Job[],
  records: ReadonlyMap<string, ResultRecord>,
  limits: SpecLimits,
  nominalVddV: Readonly<Record<string, number>>,
  own: {
    readonly modelFrameS?: Readonly<Record<string, number>>;
    readonly sizing?: Readonly<Record<string, Sizing>>;
  } = {},
): Datasheet {
  const sections = new Map<string, Job[]>();
  for (const j of jobs) {
    const key = JSON.stringify([j.model.path, j.process.ref]);
    if (!sections.has(key)) sections.set(key, []);
    sections.get(key)!.push(j);
  }
  const ok = jobs.filter((j) => records.get(j.id)?.status === 'ok').length;
  return {
    name,
    jobs: jobs.length,
    ok,
    sections: [...sections.values()].map((sj) => {
      const vdd = nominalVddV[sj[0].process.ref];
      if (vdd === undefined) throw new Error(`no nominal VDD for process ${sj[0].process.ref}`);
      return buildSection(sj, records, limits, vdd, {
        frameS: own.modelFrameS?.[sj[0].model.path] ?? null,
        sizing: own.sizing?.[sj[0].process.ref] ?? null,
      });
    }),
  };
}

/** What the section's model and process call their own (null: unknown, then no job sweeping it is typical). */
interface Own {
  readonly frameS: number | null;
  readonly sizing: Sizing | null;
}

/**
 * The typical condition's test: nominal VDD and temperature, the typical corner, the section's first I_unit, the
 * model's own frame period and the process's own device sizes.
 */
function isTypical(j: Job, nominalVddV: number, firstUnitCurrentA: number | null, own: Own): boolean {
  const modelFrameS = own.frameS;
  return (
    (j.corner === null || j.corner === TYPICAL_CORNER) &&
    (j.vddV == null || Math.abs(j.vddV - nominalVddV) <= VDD_MATCH_V) &&
    (j.temperatureC == null || j.temperatureC === NOMINAL_TEMPERATURE_C) &&
    (j.unitCurrentA ?? null) === firstUnitCurrentA &&
    (j.framePeriodS == null ||
      (modelFrameS !== null && Math.abs(j.framePeriodS - modelFrameS) <= FRAME_MATCH_REL * modelFrameS)) &&
    (j.sizing == null || (own.sizing !== null && ownSizing(j.sizing, own.sizing)))
  );
}

/** Two supplies closer than this are one (a plan writes 0.9 where the process says 0.9: float text either way). */
const VDD_MATCH_V = 1e-9;
/** Two frame periods this close (relative) are one: 0.01 in a plan and 1e-2 from a safetensors header's text. */
const FRAME_MATCH_REL = 1e-9;

function buildSection(
  jobs: readonly Job[],
  records: ReadonlyMap<string, ResultRecord>,
  limits: SpecLimits,
  nominalVddV: number,
  own: Own,
): SheetSection {
  const first = jobs[0];
  // Jobs are in plan order with the I_unit sweep outside VDD and temperature: the first job has the plan's first.
  const firstUnitCurrentA = first.unitCurrentA ?? null;
  const groups = new Map<string, Job[]>();
  for (const j of jobs) {
    const label = conditionLabel(j, nominalVddV);
    if (!groups.has(label)) groups.set(label, []);
    groups.get(label)!.push(j);
  }
  const conditions = [...groups].map(([label, gj]): SheetCondition => {
    const recs = gj.map((j) => records.get(j.id));
    const figures = recs.flatMap((r, i) =>
      r?.status === 'ok' && r.cosim ? [jobFigures(r.cosim, gj[i].vddV ?? nominalVddV)] : [],
    );
    const complete = figures.length === gj.length;
    const values: Partial<Record<SpecName, number>> = {};
    if (complete)
      for (const name of SPEC_NAMES) {
        const v = SPECS[name].value(figures);
        if (v !== undefined) values[name] = v;
      }
    return {
      label,
      typical: isTypical(gj[0], nominalVddV, firstUnitCurrentA, own),
      jobs: gj.length,
      ok: figures.length,
      values,
    };
  });
  const unitRule =
    firstUnitCurrentA === null
      ? "the model's own I_unit"
      : `I_unit ${formatSi(firstUnitCurrentA, 'A')} (the plan's first)`;
  const cornerRule = jobs.some((j) => j.corner !== null) ? `corner ${TYPICAL_CORNER}, ` : '';
  const frameRule = !jobs.some((j) => j.framePeriodS != null)
    ? ''
    : own.frameS === null
      ? ", the model's own frame period (unknown: the model did not load)"
      : `, frame ${formatSi(own.frameS, 's')} (the model's own)`;
  const sizingRule = !jobs.some((j) => j.sizing != null)
    ? ''
    : own.sizing === null
      ? ", the process's own sizes (unknown: a jobs.json from before size sweeps)"
      : ", the process's own sizes";
  return {
    model: basename(first.model.path),
    process: first.process.name,
    nominalVddV,
    typicalRule: `${cornerRule}VDD ${formatSi(nominalVddV, 'V')} (the process's), ${NOMINAL_TEMPERATURE_C} C, ${unitRule}${frameRule}${sizingRule}`,
    calibrationRule: calibrationRuleOf(jobs),
    conditions,
    specs: SPEC_NAMES.map((name) => specRow(name, conditions, limits[name] ?? null)),
  };
}

/** Which tables a section's jobs were built with, when it sweeps sizes (plan `calibrateSizes`); null otherwise. */
function calibrationRuleOf(jobs: readonly Job[]): string | null {
  if (!jobs.some((j) => j.sizing != null)) return null;
  const copies = [...new Set(jobs.flatMap((j) => (j.sizesCalibration != null ? [j.sizesCalibration] : [])))];
  if (copies.length === 0)
    return "every condition with the process's own calibration.json, measured at the process's own sizes";
  return `conditions marked "calibrated there" with a copy of the process calibrated at their sizes (${copies.map((c) => `${c}/calibration.json`).join(', ')}, in the output folder); the others with the process's own calibration.json`;
}

/** A condition's label: corner and sweep values (`conditionOf`), `nominal` when nothing is swept. */
function conditionLabel(j: Job, nominalVddV: number): string {
  const sweep = conditionOf(j);
  const parts = [...(j.corner === null ? [] : [j.corner]), ...(sweep === '-' ? [] : [sweep])];
  return parts.length === 0 ? `nominal (${formatSi(nominalVddV, 'V')}, ${NOMINAL_TEMPERATURE_C} C)` : parts.join(' ');
}

/**
 * One spec over the conditions: min, typ, max and the verdict. A value passes when min <= v <= max (the limits
 * themselves pass). Any condition outside fails the spec; otherwise a condition without a value makes it missing
 * (the spec cannot be shown to hold there); a spec without a limit is listed with `no limit`.
 */
export function specRow(name: SpecName, conditions: readonly SheetCondition[], limit: SpecLimit | null): SpecRow {
  const def = SPECS[name];
  const measured = conditions.filter((c) => c.values[name] !== undefined);
  const values = measured.map((c) => c.values[name]!);
  const typ = conditions.find((c) => c.typical)?.values[name] ?? null;
  const row = {
    name,
    label: def.label,
    short: def.short,
    unit: def.unit,
    min: values.length === 0 ? null : Math.min(...values),
    typ,
    max: values.length === 0 ? null : Math.max(...values),
    limit,
  };
  if (limit === null) return { ...row, status: 'no limit', reason: '' };
  const below = limit.min === undefined ? [] : measured.filter((c) => c.values[name]! < limit.min!);
  const above = limit.max === undefined ? [] : measured.filter((c) => c.values[name]! > limit.max!);
  if (below.length > 0 || above.length > 0) {
    const say = (cs: SheetCondition[], side: string, bound: number) =>
      cs.length === 0
        ? []
        : [
            `${side} ${formatValue(bound, def.unit)} at ${cs.length} of ${conditions.length} conditions (${cs
              .map((c) => `${c.label}: ${formatValue(c.values[name]!, def.unit)}`)
              .join('; ')})`,
          ];
    const reason = [...say(below, 'below the minimum', limit.min!), ...say(above, 'above the maximum', limit.max!)];
    return { ...row, status: 'fail', reason: reason.join('; ') };
  }
  const lacking = conditions.filter((c) => c.values[name] === undefined);
  if (lacking.length > 0) {
    const why = lacking.map((c) => `${c.label} (${c.ok} of ${c.jobs} jobs ok)`).join('; ');
    return {
      ...row,
      status: 'missing',
      reason: `not measured at ${lacking.length} of ${conditions.length} conditions: ${why}`,
    };
  }
  return { ...row, status: 'pass', reason: '' };
}

/** Exit code of a datasheet, as the fidelity gate's: 2 when a limited spec lacks a value somewhere, 1 when one fails. */
export function datasheetExitCode(sheet: Datasheet): 0 | 1 | 2 {
  const statuses = sheet.sections.flatMap((s) => s.specs.map((r) => r.status));
  if (statuses.includes('missing')) return 2;
  return statuses.includes('fail') ? 1 : 0;
}

/** A value in its spec's unit: `99.38%`, `47.1 nW`, `3.06 ms`. */
export function formatValue(v: number | null, unit: SpecDef['unit']): string {
  if (v === null) return '-';
  return unit === 'fraction' ? `${(100 * v).toFixed(2)}%` : formatSi(v, unit);
}

/** A limit as `>= 99.00%`, `<= 60 nW` or `99.00% .. 100.00%`; `-` without one. */
export function formatLimit(l: SpecLimit | null, unit: SpecDef['unit']): string {
  if (l === null) return '-';
  if (l.min !== undefined && l.max !== undefined) return `${formatValue(l.min, unit)} .. ${formatValue(l.max, unit)}`;
  return l.min !== undefined ? `>= ${formatValue(l.min, unit)}` : `<= ${formatValue(l.max!, unit)}`;
}

const md = (s: string) => s.replace(/\|/g, '\\|');

/** The datasheet as Markdown: per section the spec table, then every condition's values. */
export function datasheetMarkdown(sheet: Datasheet): string {
  const lines = [
    `# Datasheet: ${sheet.name}`,
    '',
    `${sheet.ok} of ${sheet.jobs} jobs ok. Per spec: minimum, typical and maximum over the conditions swept; a condition's value is taken over all its inputs and seeds, and only when every one of its jobs is ok. A value passes when it lies within the limit, the limit itself included.`,
    '',
  ];
  for (const s of sheet.sections) {
    const typical = s.conditions.find((c) => c.typical);
    lines.push(
      `## ${s.model} on ${s.process}`,
      '',
      `Typical: ${s.typicalRule}${typical ? ` = condition \`${typical.label}\`` : ' (not among the conditions run: typ is empty)'}. ${s.conditions.length} conditions.`,
      '',
      ...(s.calibrationRule === null ? [] : [`Calibration: ${md(s.calibrationRule)}.`, '']),
      '| spec | min | typ | max | limit | result |',
      '|---|---|---|---|---|---|',
      ...s.specs.map(
        (r) =>
          `| ${md(r.label)} (\`${r.name}\`) | ${formatValue(r.min, r.unit)} | ${formatValue(r.typ, r.unit)} | ${formatValue(r.max, r.unit)} | ${formatLimit(r.limit, r.unit)} | ${r.status === 'fail' || r.status === 'missing' ? `**${r.status.toUpperCase()}**` : r.status} |`,
      ),
      '',
    );
    const why = s.specs.filter((r) => r.reason !== '');
    if (why.length > 0) lines.push(...why.map((r) => `- \`${r.name}\`: ${md(r.reason)}`), '');
    lines.push(
      '### Per condition',
      '',
      `| condition | jobs ok | ${s.specs.map((r) => r.short).join(' | ')} |`,
      `|---|---|${s.specs.map(() => '---|').join('')}`,
      ...s.conditions.map(
        (c) =>
          `| ${md(c.label)}${c.typical ? ' (typ)' : ''} | ${c.ok}/${c.jobs} | ${s.specs.map((r) => formatValue(c.values[r.name] ?? null, r.unit)).join(' | ')} |`,
      ),
      '',
    );
  }
  return lines.join('\n');
}

/** Width of a spec's range bar (px) in the HTML page. */
const BAR_WIDTH_PX = 220;
const BAR_HEIGHT_PX = 18;

/**
 * A spec's range as a small inline SVG: the span min..max as a bar, typ as a tick, the limits as red lines; the
 * scale spans the values and the limits, so a limit far from the values is still drawn.
 */
function rangeBar(r: SpecRow): string {
  if (r.min === null || r.max === null) return '';
  const ends = [
    r.min,
    r.max,
    ...(r.limit?.min === undefined ? [] : [r.limit.min]),
    ...(r.limit?.max === undefined ? [] : [r.limit.max]),
  ];
  const lo = Math.min(...ends);
  const hi = Math.max(...ends);
  const pad = (hi - lo) * 0.08 || Math.abs(hi) * 0.05 || 1;
  const x = (v: number) => ((v - (lo - pad)) / (hi - lo + 2 * pad)) * BAR_WIDTH_PX;
  const h = BAR_HEIGHT_PX;
  const colour = r.status === 'fail' ? '#d62728' : r.status === 'pass' ? '#2ca02c' : '#7f7f7f';
  const parts = [
    `<line x1="0" y1="${h / 2}" x2="${BAR_WIDTH_PX}" y2="${h / 2}" stroke="#ccc" />`,
    `<rect x="${x(r.min).toFixed(1)}" y="${h / 2 - 4}" width="${Math.max(2, x(r.max) - x(r.min)).toFixed(1)}" height="8" fill="${colour}" opacity="0.6" />`,
    ...(r.typ === null
      ? []
      : [
          `<line x1="${x(r.typ).toFixed(1)}" y1="2" x2="${x(r.typ).toFixed(1)}" y2="${h - 2}" stroke="#222" stroke-width="2" />`,
        ]),
    ...[r.limit?.min, r.limit?.max]
      .filter((v): v is number => v !== undefined)
      .map(
        (v) =>
          `<line x1="${x(v).toFixed(1)}" y1="0" x2="${x(v).toFixed(1)}" y2="${h}" stroke="#d62728" stroke-dasharray="3,2" />`,
      ),
  ];
  return `<svg width="${BAR_WIDTH_PX}" height="${h}" viewBox="0 0 ${BAR_WIDTH_PX} ${h}" role="img" aria-label="range of ${escapeHtml(r.name)}">${parts.join('')}</svg>`;
}

/** Only inline CSS: the page opens from a file on a machine without network access. */
const PAGE_STYLE = [
  'body { font-family: sans-serif; max-width: 1200px; margin: 2em auto; padding: 0 1em; color: #222; }',
  'table { border-collapse: collapse; margin: 1em 0 2em 0; font-size: 14px; }',
  'th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: right; vertical-align: middle; }',
  'th:first-child, td:first-child { text-align: left; }',
  'table.conditions td { white-space: nowrap; }',
  'thead th { background: #f2f2f2; }',
  'td.pass { color: #1a7f1a; font-weight: bold; }',
  'td.fail { color: #fff; background: #d62728; font-weight: bold; }',
  'td.missing { color: #fff; background: #7f7f7f; font-weight: bold; }',
  'tr.typ td { background: #fffbe6; }',
  'code { font-size: 12px; color: #555; }',
  'p.why { color: #a00; }',
].join('\n');

/**
 * The datasheet as one self-contained HTML page (inline CSS and SVG; its one script only tells a test browser, as the
 * other pages do, that it is drawn: `window.bmruReport.ready`).
 */
export function datasheetHtml(sheet: Datasheet): string {
  const e = escapeHtml;
  const body: string[] = [
    `<h1>Datasheet: ${e(sheet.name)}</h1>`,
    `<p>${sheet.ok} of ${sheet.jobs} jobs ok. Per spec: minimum, typical and maximum over the conditions swept; a condition's value is taken over all its inputs and seeds, and only when every one of its jobs is ok. Range: the bar spans min..max, the black tick is typ, dashed red lines are the limits.</p>`,
  ];
  for (const s of sheet.sections) {
    const typical = s.conditions.find((c) => c.typical);
    body.push(
      `<h2>${e(s.model)} on ${e(s.process)}</h2>`,
      `<p>Typical: ${e(s.typicalRule)}${typical ? ` = condition <b>${e(typical.label)}</b>` : ' (not among the conditions run: typ is empty)'}. ${s.conditions.length} conditions.</p>`,
      ...(s.calibrationRule === null ? [] : [`<p>Calibration: ${e(s.calibrationRule)}.</p>`]),
      '<table class="specs"><thead><tr><th>spec</th><th>min</th><th>typ</th><th>max</th><th>limit</th><th>result</th><th>range</th></tr></thead><tbody>',
      ...s.specs.map(
        (r) =>
          `<tr><td>${e(r.label)}<br /><code>${r.name}</code></td><td>${e(formatValue(r.min, r.unit))}</td><td>${e(formatValue(r.typ, r.unit))}</td><td>${e(formatValue(r.max, r.unit))}</td><td>${e(formatLimit(r.limit, r.unit))}</td><td class="${r.status === 'no limit' ? '' : r.status}">${e(r.status)}</td><td>${rangeBar(r)}</td></tr>`,
      ),
      '</tbody></table>',
      ...s.specs.filter((r) => r.reason !== '').map((r) => `<p class="why"><code>${r.name}</code>: ${e(r.reason)}</p>`),
      '<h3>Per condition</h3>',
      `<table class="conditions"><thead><tr><th>condition</th><th>jobs ok</th>${s.specs.map((r) => `<th title="${r.name}">${e(r.short)}</th>`).join('')}</tr></thead><tbody>`,
      ...s.conditions.map(
        (c) =>
          `<tr${c.typical ? ' class="typ"' : ''}><td>${e(c.label)}${c.typical ? ' (typ)' : ''}</td><td>${c.ok}/${c.jobs}</td>${s.specs.map((r) => `<td>${e(formatValue(c.values[r.name] ?? null, r.unit))}</td>`).join('')}</tr>`,
      ),
      '</tbody></table>',
    );
  }
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8" />',
    `<title>Datasheet: ${e(sheet.name)}</title>`,
    `<style>\n${PAGE_STYLE}\n</style>`,
    '</head>',
    '<body>',
    ...body,
    `<script>window.bmruReport = { ready: true, views: 0 };</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

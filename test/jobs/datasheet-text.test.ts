import { describe, expect, it } from 'vitest';
import {
  buildDatasheet,
  datasheetHtml,
  datasheetMarkdown,
  formatLimit,
  specRow,
  type Datasheet,
  type SheetCondition,
  type SpecRow,
} from '../../src/jobs/datasheet.js';
import type { Job } from '../../src/jobs/plan.js';
import type { ResultRecord } from '../../src/jobs/store.js';

/**
 * A second fabricated batch, small enough to write its whole Markdown out by hand: one model on one process (VDD
 * 0.5 V, not swept), corners tt and ss at one I_unit, two inputs per corner, every record with a 8 ms frame.
 * Currents in nA, powers = current x 0.5 V; all agreements binary fractions, so every figure below is exact.
 *
 * | job | corner | agreement | votes | decision | realised | cell / ff / bias / in (nA) | unit delays  |
 * |-----|--------|-----------|-------|----------|----------|----------------------------|--------------|
 * | 0   | tt     | 1         | 0.5   | yes      | 0.75     | 10 / 20 / 10 / 4           | 2 ms         |
 * | 1   | tt     | 0.5       | 1     | no       | 0.5      | 10 / 20 / 10 / 4           | 1 ms, 4 ms   |
 * | 2   | ss     | 0.875     | 0.75  | yes      | 1        | 30 / 20 / 10 / 4           | none         |
 * | 3   | ss     | 0.875     | 0.75  | yes      | (absent) | 30 / 20 / 10 / 4           | none         |
 *
 * By hand, per condition (tt | ss): agreement mean 0.75 | 0.875; worst input 0.5 | 0.875; realised mean 0.625 |
 * not measured (job 3 lacks it); votes 0.75 | 0.75; decisions 0.5 | 1; core (cell+ff+bias) 40 nA -> 20 nW | 60 nA
 * -> 30 nW; cells 5 | 15 nW; ff 10 nW; bias 5 nW; input 2 nW; max delay 4 ms | 0 s (nothing switched); as a frame
 * fraction 4/8 = 0.5 | 0.
 */
interface Fig {
  corner?: string | null;
  agreement: number;
  votes: number;
  decision: boolean;
  realised?: number;
  cellNa: number;
  delaysS: number[];
}

const SMALL: Fig[] = [
  { corner: 'tt', agreement: 1, votes: 0.5, decision: true, realised: 0.75, cellNa: 10, delaysS: [2e-3] },
  { corner: 'tt', agreement: 0.5, votes: 1, decision: false, realised: 0.5, cellNa: 10, delaysS: [1e-3, 4e-3] },
  { corner: 'ss', agreement: 0.875, votes: 0.75, decision: true, realised: 1, cellNa: 30, delaysS: [] },
  { corner: 'ss', agreement: 0.875, votes: 0.75, decision: true, cellNa: 30, delaysS: [] },
];

function job(i: number, over: Record<string, unknown> = {}): Job {
  return {
    id: `job${i}`,
    index: i,
    label: `job ${i}`,
    model: { path: 'models/m.json', file: '/models/m.json', sha256: 'm' },
    process: { ref: 'c180', name: 'c180', sha256: 'p', calibrationSha256: null, deckSha256: 'd' },
    corner: null,
    seed: null,
    unitCurrentA: 1e-9,
    vddV: null,
    temperatureC: null,
    ...over,
  } as unknown as Job;
}

function okRecord(j: Job, f: Fig): ResultRecord {
  const trained = { stateAgreement: f.agreement, voteAgreement: f.votes, decisionMatch: f.decision };
  return {
    id: j.id,
    status: 'ok',
    job: j,
    cosim: {
      references: {
        trained,
        ...(f.realised === undefined ? {} : { realised: { ...trained, stateAgreement: f.realised } }),
      },
      supplyMeanA: { cell: f.cellNa * 1e-9, ff: 20e-9, bias: 10e-9, in: 4e-9 },
      comparison: {
        switching: f.delaysS.map((d, unit) => ({ block: 0, unit, switches: 1, maxDelayS: d })),
        frameS: 8e-3,
      },
    },
  } as unknown as ResultRecord;
}

const LIMITS = {
  stateAgreementTrained: { min: 0.75 },
  worstInputStateAgreementTrained: { min: 0.625 },
  stateAgreementRealised: { min: 0.5 },
  corePowerW: { max: 25e-9 },
  switchDelayMaxS: { min: 0, max: 4e-3 },
};

function smallSheet(): Datasheet {
  const jobs = SMALL.map((f, i) => job(i, { corner: f.corner }));
  const records = new Map(jobs.map((j, i) => [j.id, okRecord(j, SMALL[i])]));
  return buildDatasheet('small', jobs, records, LIMITS, { c180: 0.5 });
}

const FIG: Fig = { agreement: 1, votes: 1, decision: true, realised: 1, cellNa: 10, delaysS: [] };

describe('datasheet of a small batch, worked out by hand', () => {
  it('writes the whole Markdown', () => {
    const header =
      "4 of 4 jobs ok. Per spec: minimum, typical and maximum over the conditions swept; a condition's value is taken over all its inputs and seeds, and only when every one of its jobs is ok. A value passes when it lies within the limit, the limit itself included.";
    const expected = [
      '# Datasheet: small',
      '',
      header,
      '',
      '## m.json on c180',
      '',
      "Typical: corner tt, VDD 500 mV (the process's), 27 C, I_unit 1 nA (the plan's first) = condition `tt 1 nA`. 2 conditions.",
      '',
      '| spec | min | typ | max | limit | result |',
      '|---|---|---|---|---|---|',
      '| state agreement vs trained model (mean over inputs) (`stateAgreementTrained`) | 75.00% | 75.00% | 87.50% | >= 75.00% | pass |',
      '| state agreement vs trained model (worst input) (`worstInputStateAgreementTrained`) | 50.00% | 50.00% | 87.50% | >= 62.50% | **FAIL** |',
      '| state agreement vs realised model (mean over inputs) (`stateAgreementRealised`) | 62.50% | 62.50% | 62.50% | >= 50.00% | **MISSING** |',
      '| frame vote agreement vs trained model (mean) (`voteAgreementTrained`) | 75.00% | 75.00% | 75.00% | - | no limit |',
      '| clip decisions equal to the trained model (fraction of inputs) (`decisionMatchTrained`) | 50.00% | 50.00% | 100.00% | - | no limit |',
      '| core power (cell + ff + bias, mean) (`corePowerW`) | 20 nW | 20 nW | 30 nW | <= 25 nW | **FAIL** |',
      '| power: cells (mean) (`powerCellW`) | 5 nW | 5 nW | 15 nW | - | no limit |',
      '| power: feedforward mirrors (mean) (`powerFfW`) | 10 nW | 10 nW | 10 nW | - | no limit |',
      '| power: bias generation (mean) (`powerBiasW`) | 5 nW | 5 nW | 5 nW | - | no limit |',
      '| power: input front end (mean) (`powerInW`) | 2 nW | 2 nW | 2 nW | - | no limit |',
      '| switching delay after the model switches (max over units and inputs) (`switchDelayMaxS`) | 0 s | 4 ms | 4 ms | 0 s .. 4 ms | pass |',
      '| the same as a fraction of the frame period (one limit across frame periods) (`switchDelayMaxFrames`) | 0.00% | 50.00% | 50.00% | - | no limit |',
      '',
      '- `worstInputStateAgreementTrained`: below the minimum 62.50% at 1 of 2 conditions (tt 1 nA: 50.00%)',
      '- `stateAgreementRealised`: not measured at 1 of 2 conditions: ss 1 nA (2 of 2 jobs ok)',
      '- `corePowerW`: above the maximum 25 nW at 1 of 2 conditions (ss 1 nA: 30 nW)',
      '',
      '### Per condition',
      '',
      '| condition | jobs ok | agreement vs trained | worst input vs trained | agreement vs realised | votes vs trained | decisions vs trained | core power | cells | feedforward | bias | input front end | max switching delay | max switching delay / frame |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
      '| tt 1 nA (typ) | 2/2 | 75.00% | 50.00% | 62.50% | 75.00% | 50.00% | 20 nW | 5 nW | 10 nW | 5 nW | 2 nW | 4 ms | 50.00% |',
      '| ss 1 nA | 2/2 | 87.50% | 87.50% | - | 75.00% | 100.00% | 30 nW | 15 nW | 10 nW | 5 nW | 2 nW | 0 s | 0.00% |',
      '',
    ].join('\n');
    expect(datasheetMarkdown(smallSheet())).toBe(expected);
  });

  it('leaves an unmeasured figure absent from the condition (not present as undefined)', () => {
    const ss = smallSheet().sections[0].conditions[1];
    // By hand, as in the table above; realised lacks job 3's figure so it is not a key at all.
    expect(ss.values).toStrictEqual({
      stateAgreementTrained: 0.875,
      worstInputStateAgreementTrained: 0.875,
      voteAgreementTrained: 0.75,
      decisionMatchTrained: 1,
      corePowerW: ss.values.corePowerW,
      powerCellW: ss.values.powerCellW,
      powerFfW: ss.values.powerFfW,
      powerBiasW: ss.values.powerBiasW,
      powerInW: ss.values.powerInW,
      switchDelayMaxS: 0,
      switchDelayMaxFrames: 0,
    });
    expect(ss.values.corePowerW).toBeCloseTo(30e-9, 20);
    expect(ss.values.powerCellW).toBeCloseTo(15e-9, 20);
  });

  it('counts only ok records as ok jobs (failed and pending are not)', () => {
    const jobs = [0, 1, 2].map((i) => job(i));
    const records = new Map<string, ResultRecord>([
      ['job0', okRecord(jobs[0], FIG)],
      ['job1', { id: 'job1', status: 'failed', job: jobs[1] } as unknown as ResultRecord],
    ]);
    const sheet = buildDatasheet('n', jobs, records, {}, { c180: 0.5 });
    expect([sheet.ok, sheet.jobs]).toEqual([1, 3]);
    expect(sheet.sections[0].conditions[0]).toMatchObject({ jobs: 3, ok: 1, values: {} });
  });

  it('makes one section per model and process, each at its own VDD, and names a process without one', () => {
    const jobs = [
      job(0),
      job(1, { model: { path: 'other/n.json' } }),
      job(2, { process: { ref: 'g45', name: 'gpdk45' } }),
      job(3),
    ];
    const records = new Map(jobs.map((j) => [j.id, okRecord(j, FIG)]));
    const sheet = buildDatasheet('two', jobs, records, {}, { c180: 0.5, g45: 1 });
    expect(sheet.sections.map((s) => [s.model, s.process, s.nominalVddV, s.conditions[0].jobs])).toEqual([
      ['m.json', 'c180', 0.5, 2],
      ['n.json', 'c180', 0.5, 1],
      ['m.json', 'gpdk45', 1, 1],
    ]);
    // cell + ff + bias = 40 nA at 1 V.
    expect(sheet.sections[2].specs.find((r) => r.name === 'corePowerW')!.typ).toBeCloseTo(40e-9, 20);
    expect(() => buildDatasheet('two', jobs, records, {}, { c180: 0.5 })).toThrow('no nominal VDD for process g45');
  });

  it("names a condition 'nominal' when nothing is swept, and says the model's own I_unit is typical", () => {
    const jobs = [job(0, { unitCurrentA: null }), job(1, { unitCurrentA: null })];
    const records = new Map(jobs.map((j) => [j.id, okRecord(j, FIG)]));
    const s = buildDatasheet('n', jobs, records, {}, { c180: 0.5 }).sections[0];
    expect(s.conditions.map((c) => [c.label, c.typical, c.jobs])).toEqual([['nominal (500 mV, 27 C)', true, 2]]);
    expect(s.typicalRule).toBe("VDD 500 mV (the process's), 27 C, the model's own I_unit");
  });

  it("is typical only at the plan's first I_unit, and names the corner rule when any job has a corner", () => {
    const jobs = [job(0, { corner: 'tt' }), job(1, { unitCurrentA: 2e-9 }), job(2, { corner: 'ss' })];
    const records = new Map(jobs.map((j) => [j.id, okRecord(j, FIG)]));
    const s = buildDatasheet('n', jobs, records, {}, { c180: 0.5 }).sections[0];
    expect(s.conditions.map((c) => [c.label, c.typical])).toEqual([
      ['tt 1 nA', true],
      ['2 nA', false],
      ['ss 1 nA', false],
    ]);
    expect(s.typicalRule).toBe("corner tt, VDD 500 mV (the process's), 27 C, I_unit 1 nA (the plan's first)");
  });

  it('counts a supply exactly VDD_MATCH_V (1e-9 V) from the nominal as nominal', () => {
    // 2e-9 - 1e-9 is exactly 1e-9 in binary floating point (a power-of-two multiple).
    const jobs = [job(0, { vddV: 2e-9 }), job(1, { vddV: 3e-9 })];
    const records = new Map(jobs.map((j) => [j.id, okRecord(j, FIG)]));
    const s = buildDatasheet('n', jobs, records, {}, { c180: 1e-9 }).sections[0];
    expect(s.conditions.map((c) => c.typical)).toEqual([true, false]);
  });

  it('matches a frame period within 1e-9 relative of the own one, and not one 1e-7 relative away', () => {
    // 10 ms own; 10 ms + 1 ns is 1e-7 relative: not the own period (a tolerance of 1e-9 / 0.01 would take it).
    // Job 0 also states the nominal 27 C, only so that the two are separate conditions (both labels say 10 ms).
    const jobs = [job(0, { framePeriodS: 0.01 + 1e-9, temperatureC: 27 }), job(1, { framePeriodS: 1e-2 })];
    const records = new Map(jobs.map((j) => [j.id, okRecord(j, FIG)]));
    const s = buildDatasheet('n', jobs, records, {}, { c180: 0.5 }, { modelFrameS: { 'models/m.json': 0.01 } })
      .sections[0];
    expect(s.conditions.map((c) => c.typical)).toEqual([false, true]);
    expect(s.typicalRule).toBe(
      "VDD 500 mV (the process's), 27 C, I_unit 1 nA (the plan's first), frame 10 ms (the model's own)",
    );
  });

  it('counts a frame period exactly 1e-9 relative from the own one as the own one (the edge is inclusive)', () => {
    // M = 2^-36 / 1e-9 rounded, one ulp up: a 14.55 ms frame for which 1e-9 x M rounds to 2^-36 exactly, so M + 2^-36
    // is a period whose difference from M is the tolerance to the last bit (found by a search over powers of two).
    const M = 0.014551915228366852;
    const FP = 0.014551915242918767;
    expect([FP - M, 1e-9 * M]).toEqual([2 ** -36, 2 ** -36]);
    const jobs = [job(0, { framePeriodS: FP, temperatureC: 27 }), job(1, { framePeriodS: M })];
    const records = new Map(jobs.map((j) => [j.id, okRecord(j, FIG)]));
    const s = buildDatasheet('n', jobs, records, {}, { c180: 0.5 }, { modelFrameS: { 'models/m.json': M } })
      .sections[0];
    expect(s.conditions.map((c) => c.typical)).toEqual([true, true]);
  });

  it('says the frame and sizes rules when any job sweeps them, and the unknown own sizes', () => {
    // Mixed on purpose: the rules hold when some (not all) jobs carry the sweep.
    const jobs = [job(0), job(1, { framePeriodS: 0.01, sizing: { mirrorLengthUm: 8 } })];
    const records = new Map(jobs.map((j) => [j.id, okRecord(j, FIG)]));
    const unknown = buildDatasheet('n', jobs, records, {}, { c180: 0.5 }).sections[0];
    expect(unknown.typicalRule).toBe(
      "VDD 500 mV (the process's), 27 C, I_unit 1 nA (the plan's first), the model's own frame period (unknown: the model did not load), the process's own sizes (unknown: a jobs.json from before size sweeps)",
    );
    expect(unknown.calibrationRule).toBe(
      "every condition with the process's own calibration.json, measured at the process's own sizes",
    );
    const own = { unitWidthUm: 2, mirrorLengthUm: 8, switchWidthUm: 0.22, switchLengthUm: 16 };
    const known = buildDatasheet('n', jobs, records, {}, { c180: 0.5 }, { sizing: { c180: own } }).sections[0];
    expect(known.typicalRule).toMatch(/, the process's own sizes$/);
  });

  it('lists every calibrated copy in the calibration rule, comma separated', () => {
    const jobs = [
      job(0, { sizing: { mirrorLengthUm: 8 }, sizesCalibration: 'cal/a' }),
      job(1, { sizing: { mirrorLengthUm: 12 }, sizesCalibration: 'cal/b' }),
      job(2, { sizing: { mirrorLengthUm: 12 }, sizesCalibration: 'cal/b' }),
    ];
    const records = new Map(jobs.map((j) => [j.id, okRecord(j, FIG)]));
    expect(buildDatasheet('n', jobs, records, {}, { c180: 0.5 }).sections[0].calibrationRule).toBe(
      'conditions marked "calibrated there" with a copy of the process calibrated at their sizes (cal/a/calibration.json, cal/b/calibration.json, in the output folder); the others with the process\'s own calibration.json',
    );
  });
});

describe('specRow over hand-made conditions', () => {
  const cond = (label: string, v: number | undefined, ok = 1, jobs = 1): SheetCondition => ({
    label,
    typical: false,
    jobs,
    ok,
    values: v === undefined ? {} : { decisionMatchTrained: v },
  });

  it('joins several failing conditions, and both sides, with "; "', () => {
    const cs = [cond('a', 0.25), cond('b', 0.5), cond('c', 0.75), cond('d', 1)];
    const r = specRow('decisionMatchTrained', cs, { min: 0.6, max: 0.8 });
    expect(r.status).toBe('fail');
    expect(r.reason).toBe(
      'below the minimum 60.00% at 2 of 4 conditions (a: 25.00%; b: 50.00%); above the maximum 80.00% at 1 of 4 conditions (d: 100.00%)',
    );
  });

  it('joins several unmeasured conditions with "; "', () => {
    const cs = [cond('a', undefined, 0, 2), cond('b', 0.5), cond('c', undefined, 1, 3)];
    const r = specRow('decisionMatchTrained', cs, { max: 1 });
    expect(r).toMatchObject({ status: 'missing', min: 0.5, typ: null, max: 0.5 });
    expect(r.reason).toBe('not measured at 2 of 3 conditions: a (0 of 2 jobs ok); c (1 of 3 jobs ok)');
  });

  it('formats a two-sided limit with both ends', () => {
    expect(formatLimit({ min: 0.5, max: 1 }, 'fraction')).toBe('50.00% .. 100.00%');
    expect(formatLimit({ max: 6e-8 }, 'W')).toBe('<= 60 nW');
    expect(formatLimit(null, 's')).toBe('-');
  });
});

/** A sheet written by hand (not built): two sections, one without a typical condition, text with | < & ". */
function handSheet(): Datasheet {
  const spec = (over: Partial<SpecRow>): SpecRow => ({
    name: 'decisionMatchTrained',
    label: 'decisions',
    short: 'dec',
    unit: 'fraction',
    min: 0.5,
    typ: null,
    max: 1,
    limit: { min: 0.75 },
    status: 'fail',
    reason: 'below <a|b>',
    ...over,
  });
  return {
    name: 'h&<1>',
    jobs: 3,
    ok: 2,
    sections: [
      {
        model: 'm<1>.json',
        process: 'p|q',
        nominalVddV: 0.5,
        typicalRule: 'rule "x"',
        calibrationRule: 'cal a|b & <c>',
        conditions: [
          { label: 'a|b <x>', typical: false, jobs: 2, ok: 1, values: { decisionMatchTrained: 0.5 } },
          { label: 'c', typical: false, jobs: 1, ok: 1, values: {} },
        ],
        specs: [
          spec({}),
          spec({
            name: 'corePowerW',
            label: 'power',
            short: 'P',
            unit: 'W',
            min: null,
            max: null,
            limit: null,
            status: 'no limit',
            reason: '',
          }),
        ],
      },
      {
        model: 'n.json',
        process: 'r',
        nominalVddV: 1,
        typicalRule: 'T',
        calibrationRule: null,
        conditions: [{ label: 'd', typical: true, jobs: 1, ok: 1, values: { decisionMatchTrained: 1 } }],
        specs: [spec({ typ: 1, min: 1, status: 'pass', reason: '' })],
      },
    ],
  };
}

describe('datasheet text of a hand-written sheet', () => {
  it('writes the whole Markdown, escaping | in labels, rules and reasons', () => {
    const expected = [
      '# Datasheet: h&<1>',
      '',
      "2 of 3 jobs ok. Per spec: minimum, typical and maximum over the conditions swept; a condition's value is taken over all its inputs and seeds, and only when every one of its jobs is ok. A value passes when it lies within the limit, the limit itself included.",
      '',
      '## m<1>.json on p|q',
      '',
      'Typical: rule "x" (not among the conditions run: typ is empty). 2 conditions.',
      '',
      'Calibration: cal a\\|b & <c>.',
      '',
      '| spec | min | typ | max | limit | result |',
      '|---|---|---|---|---|---|',
      '| decisions (`decisionMatchTrained`) | 50.00% | - | 100.00% | >= 75.00% | **FAIL** |',
      '| power (`corePowerW`) | - | - | - | - | no limit |',
      '',
      '- `decisionMatchTrained`: below <a\\|b>',
      '',
      '### Per condition',
      '',
      '| condition | jobs ok | dec | P |',
      '|---|---|---|---|',
      '| a\\|b <x> | 1/2 | 50.00% | - |',
      '| c | 1/1 | - | - |',
      '',
      '## n.json on r',
      '',
      'Typical: T = condition `d`. 1 conditions.',
      '',
      '| spec | min | typ | max | limit | result |',
      '|---|---|---|---|---|---|',
      '| decisions (`decisionMatchTrained`) | 100.00% | 100.00% | 100.00% | >= 75.00% | pass |',
      '',
      '### Per condition',
      '',
      '| condition | jobs ok | dec |',
      '|---|---|---|',
      '| d (typ) | 1/1 | 100.00% |',
      '',
    ].join('\n');
    expect(datasheetMarkdown(handSheet())).toBe(expected);
  });

  it('writes the HTML verdicts, values, limits, reasons and per-condition cells, escaped', () => {
    const html = datasheetHtml(handSheet());
    expect(html.startsWith('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8" />\n')).toBe(true);
    expect(html).toContain('<title>Datasheet: h&amp;&lt;1&gt;</title>');
    expect(html).toContain('<h1>Datasheet: h&amp;&lt;1&gt;</h1>\n<p>2 of 3 jobs ok. Per spec:');
    expect(html).toContain('<h2>m&lt;1&gt;.json on p|q</h2>');
    expect(html).toContain(
      '<p>Typical: rule &quot;x&quot; (not among the conditions run: typ is empty). 2 conditions.</p>\n<p>Calibration: cal a|b &amp; &lt;c&gt;.</p>',
    );
    expect(html).toContain('<p>Typical: T = condition <b>d</b>. 1 conditions.</p>\n<table class="specs">');
    // The spec rows: label, name, min, typ, max, limit, verdict cell (no class without a limit).
    expect(html).toContain(
      '<tr><td>decisions<br /><code>decisionMatchTrained</code></td><td>50.00%</td><td>-</td><td>100.00%</td><td>&gt;= 75.00%</td><td class="fail">fail</td><td><svg ',
    );
    expect(html).toContain(
      '<tr><td>power<br /><code>corePowerW</code></td><td>-</td><td>-</td><td>-</td><td>-</td><td class="">no limit</td><td></td></tr>',
    );
    expect(html).toContain('<td>&gt;= 75.00%</td><td class="pass">pass</td>');
    // Only the failing spec has a reason paragraph, right after its table.
    expect(html).toContain(
      '</tbody></table>\n<p class="why"><code>decisionMatchTrained</code>: below &lt;a|b&gt;</p>\n<h3>Per condition</h3>',
    );
    expect(html.match(/<p class="why">/g)).toHaveLength(1);
    expect(html).toContain(
      '<table class="conditions"><thead><tr><th>condition</th><th>jobs ok</th><th title="decisionMatchTrained">dec</th><th title="corePowerW">P</th></tr></thead><tbody>\n<tr><td>a|b &lt;x&gt;</td><td>1/2</td><td>50.00%</td><td>-</td></tr>\n<tr><td>c</td><td>1/1</td><td>-</td><td>-</td></tr>\n</tbody></table>',
    );
    expect(html).toContain('<tr class="typ"><td>d (typ)</td><td>1/1</td><td>100.00%</td></tr>\n</tbody></table>');
    expect(html).toContain('<script>window.bmruReport = { ready: true, views: 0 };</script>\n</body>\n</html>\n');
    expect(html.endsWith('</html>\n')).toBe(true);
    expect(html).toContain('</style>\n</head>\n<body>\n<h1>');
    // The verdict colours a reader relies on (the page's style, one rule a line).
    expect(html).toContain('<style>\nbody { font-family: sans-serif;');
    expect(html).toContain('td.pass { color: #1a7f1a; font-weight: bold; }\ntd.fail {');
    expect(html).toContain('td.fail { color: #fff; background: #d62728; font-weight: bold; }');
    expect(html).toContain('td.pass { color: #1a7f1a; font-weight: bold; }');
    expect(html).toContain('td.missing { color: #fff; background: #7f7f7f; font-weight: bold; }');
  });
});

describe('datasheet HTML range bars', () => {
  // Bar 220 x 18 px. The scale spans the values and the limits, padded by 8% of the span on each side; a zero span
  // is padded by 5% of the value, or by 1 at zero (either way the point lands mid-bar, x = 110).
  const row = (over: Partial<SpecRow>): SpecRow => ({
    name: 'decisionMatchTrained',
    label: 'l',
    short: 's',
    unit: 'fraction',
    min: null,
    typ: null,
    max: null,
    limit: null,
    status: 'no limit',
    reason: '',
    ...over,
  });
  const sheetOf = (specs: SpecRow[]): Datasheet => ({
    name: 'bars',
    jobs: 1,
    ok: 1,
    sections: [
      {
        model: 'm',
        process: 'p',
        nominalVddV: 1,
        typicalRule: 'T',
        calibrationRule: null,
        conditions: [],
        specs,
      },
    ],
  });
  const svgs = (html: string) => [...html.matchAll(/<svg [^]*?<\/svg>/g)].map((m) => m[0]);
  const open =
    '<svg width="220" height="18" viewBox="0 0 220 18" role="img" aria-label="range of decisionMatchTrained">';
  const axis = '<line x1="0" y1="9" x2="220" y2="9" stroke="#ccc" />';
  const limitAt = (x: string) => `<line x1="${x}" y1="0" x2="${x}" y2="18" stroke="#d62728" stroke-dasharray="3,2" />`;

  it('draws min..max, typ and the limits on a scale spanning values and limits', () => {
    const html = datasheetHtml(
      sheetOf([
        // A, fail: values 0.5..1, limit min 0.75. Span 0.5, pad 0.04, scale 0.46..1.04 (0.58 wide):
        // x(0.5) = 0.04 / 0.58 * 220 = 15.17, x(1) = 0.54 / 0.58 * 220 = 204.83, width 189.66; x(0.75) = 110.
        row({ min: 0.5, max: 1, limit: { min: 0.75 }, status: 'fail' }),
        // C, missing: values 0.25..0.75, typ 0.5, limit max 1. Span 0.75, pad 0.06, scale 0.19..1.06 (0.87 wide):
        // x(0.25) = 0.06 / 0.87 * 220 = 15.17; width 0.5 / 0.87 * 220 = 126.44; x(0.5) = 0.31 / 0.87 * 220 = 78.39;
        // x(1) = 0.81 / 0.87 * 220 = 204.83.
        row({ min: 0.25, typ: 0.5, max: 0.75, limit: { max: 1 }, status: 'missing' }),
        // D, no limit, everything at 0: pad 1, x(0) = 110; the bar is at least 2 px wide.
        row({ min: 0, typ: 0, max: 0 }),
        // E, pass, everything at 2 with both limits there: x = 110, two limit lines.
        row({ min: 2, typ: 2, max: 2, limit: { min: 2, max: 2 }, status: 'pass' }),
        // No values: no bar.
        row({ limit: { min: 1 }, status: 'missing' }),
      ]),
    );
    expect(svgs(html)).toEqual([
      `${open}${axis}<rect x="15.2" y="5" width="189.7" height="8" fill="#d62728" opacity="0.6" />${limitAt('110.0')}</svg>`,
      `${open}${axis}<rect x="15.2" y="5" width="126.4" height="8" fill="#7f7f7f" opacity="0.6" /><line x1="78.4" y1="2" x2="78.4" y2="16" stroke="#222" stroke-width="2" />${limitAt('204.8')}</svg>`,
      `${open}${axis}<rect x="110.0" y="5" width="2.0" height="8" fill="#7f7f7f" opacity="0.6" /><line x1="110.0" y1="2" x2="110.0" y2="16" stroke="#222" stroke-width="2" /></svg>`,
      `${open}${axis}<rect x="110.0" y="5" width="2.0" height="8" fill="#2ca02c" opacity="0.6" /><line x1="110.0" y1="2" x2="110.0" y2="16" stroke="#222" stroke-width="2" />${limitAt('110.0')}${limitAt('110.0')}</svg>`,
    ]);
    expect(html).toContain('<td class="missing">missing</td><td></td></tr>');
  });

  it('widens the scale to a lower limit below the values', () => {
    const html = datasheetHtml(sheetOf([row({ min: 0.5, max: 1, limit: { min: 0.25 }, status: 'pass' })]));
    // Values 0.5..1, limit 0.25: the scale spans 0.25..1 (0.75), padded by 0.06: 0.19..1.06 (0.87 wide).
    // x(0.5) = 0.31 / 0.87 * 220 = 78.39; width 0.5 / 0.87 * 220 = 126.44; x(0.25) = 0.06 / 0.87 * 220 = 15.17.
    expect(html).toContain(
      '<rect x="78.4" y="5" width="126.4" height="8" fill="#2ca02c" opacity="0.6" /><line x1="15.2" y1="0" x2="15.2" y2="18" stroke="#d62728" stroke-dasharray="3,2" /></svg>',
    );
  });
});

describe('datasheet HTML page style', () => {
  it('has one rule a line for every element and class the page uses', () => {
    const html = datasheetHtml({ name: 'x', jobs: 0, ok: 0, sections: [] });
    const style = /<style>\n([^]*)\n<\/style>/.exec(html)![1].split('\n');
    // The markup's elements and classes (tables `specs` and `conditions`, `typ` rows, `why` paragraphs, verdict cells).
    const selectors = [
      'body',
      'table',
      'th, td',
      'th:first-child, td:first-child',
      'table.conditions td',
      'thead th',
      'td.pass',
      'td.fail',
      'td.missing',
      'tr.typ td',
      'code',
      'p.why',
    ];
    expect(style.map((rule) => /^(.+?) \{ [^{}]+; \}$/.exec(rule)?.[1])).toEqual(selectors);
  });
});

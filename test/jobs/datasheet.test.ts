import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import {
  buildDatasheet,
  datasheetExitCode,
  datasheetHtml,
  datasheetMarkdown,
  type Datasheet,
} from '../../src/jobs/datasheet.js';
import { expandPlan, loadPlan, type Job } from '../../src/jobs/plan.js';
import type { ResultRecord } from '../../src/jobs/store.js';
import type { SpecLimits } from '../../src/jobs/specs.js';
import { REPO_ROOT } from '../helpers.js';

/**
 * A fabricated batch: one model on one process (nominal VDD 0.75 V), VDD [0.5, 0.75] x temperature [27, 85] at one
 * swept I_unit, two inputs per condition. Agreements are binary fractions so that means are exact and a limit equal
 * to a value is a true boundary. Expected figures below are worked out by hand from the table.
 *
 * | condition        | agreement vs trained | decisions match | core current (cell+ff+bias) | max delay |
 * |------------------|----------------------|-----------------|-----------------------------|-----------|
 * | 0.5 V  27 C      | 0.75, 1              | no, yes         | 40 nA                       | 3 ms      |
 * | 0.75 V 27 C (typ)| 1, 0.875             | yes, yes        | 40 nA                       | 2 ms      |
 * | 0.5 V  85 C      | 0.9375, 0.9375       | yes, yes        | 40 nA                       | 4 ms      |
 * | 0.75 V 85 C      | 1, 1                 | yes, yes        | 60 nA                       | 1 ms      |
 */
const NOMINAL_VDD_V = 0.75;
const UNIT_A = 1e-9;

interface Fake {
  vddV: number;
  temperatureC: number;
  agreement: number;
  decisionMatch: boolean;
  cellA: number;
  delaysS: (number | null)[];
  corner?: string | null;
  realised?: boolean;
  failed?: boolean;
  /** The frame period the comparison recorded (absent in older records). */
  frameS?: number;
}

function fakeJob(i: number, f: Fake): Job {
  return {
    id: `job${i}`,
    index: i,
    label: `job ${i}`,
    model: { path: 'm.json', file: '/m.json', sha256: 'm' },
    process: { ref: 'c180', name: 'c180', sha256: 'p', calibrationSha256: null, deckSha256: 'd' },
    corner: f.corner ?? null,
    seed: null,
    unitCurrentA: UNIT_A,
    vddV: f.vddV,
    temperatureC: f.temperatureC,
  } as unknown as Job;
}

function fakeRecord(job: Job, f: Fake): ResultRecord {
  if (f.failed) return { id: job.id, status: 'failed', job } as unknown as ResultRecord;
  const figures = { stateAgreement: f.agreement, voteAgreement: 1, decisionMatch: f.decisionMatch };
  return {
    id: job.id,
    status: 'ok',
    job,
    cosim: {
      references: { trained: figures, ...(f.realised === false ? {} : { realised: figures }) },
      // ff 20 nA and bias 10 nA in every job: the core current is cell + 30 nA.
      supplyMeanA: { cell: f.cellA, ff: 20e-9, bias: 10e-9, in: 5e-9 },
      comparison: {
        switching: f.delaysS.map((d, unit) => ({ block: 0, unit, switches: 1, maxDelayS: d })),
        ...(f.frameS === undefined ? {} : { frameS: f.frameS }),
      },
    },
  } as unknown as ResultRecord;
}

const BASE: Fake[] = [
  { vddV: 0.5, temperatureC: 27, agreement: 0.75, decisionMatch: false, cellA: 10e-9, delaysS: [3e-3] },
  { vddV: 0.5, temperatureC: 27, agreement: 1, decisionMatch: true, cellA: 10e-9, delaysS: [null] },
  { vddV: 0.75, temperatureC: 27, agreement: 1, decisionMatch: true, cellA: 10e-9, delaysS: [1e-3, null] },
  { vddV: 0.75, temperatureC: 27, agreement: 0.875, decisionMatch: true, cellA: 10e-9, delaysS: [2e-3] },
  { vddV: 0.5, temperatureC: 85, agreement: 0.9375, decisionMatch: true, cellA: 10e-9, delaysS: [4e-3] },
  { vddV: 0.5, temperatureC: 85, agreement: 0.9375, decisionMatch: true, cellA: 10e-9, delaysS: [] },
  { vddV: 0.75, temperatureC: 85, agreement: 1, decisionMatch: true, cellA: 30e-9, delaysS: [1e-3] },
  { vddV: 0.75, temperatureC: 85, agreement: 1, decisionMatch: true, cellA: 30e-9, delaysS: [0.5e-3] },
];

function sheetOf(fakes: readonly Fake[], limits: SpecLimits): Datasheet {
  const jobs = fakes.map((f, i) => fakeJob(i, f));
  const records = new Map(jobs.map((j, i) => [j.id, fakeRecord(j, fakes[i])]));
  return buildDatasheet('fake', jobs, records, limits, { c180: NOMINAL_VDD_V });
}

const row = (sheet: Datasheet, name: string) => sheet.sections[0].specs.find((r) => r.name === name)!;

describe('datasheet: min / typ / max over the conditions', () => {
  it('takes each condition over its inputs, then min, typ (0.75 V 27 C) and max over the conditions', () => {
    const sheet = sheetOf(BASE, {});
    expect(sheet.sections).toHaveLength(1);
    expect(sheet.sections[0].conditions.map((c) => [c.label, c.typical])).toEqual([
      ['1 nA 500 mV 27 C', false],
      ['1 nA 750 mV 27 C', true],
      ['1 nA 500 mV 85 C', false],
      ['1 nA 750 mV 85 C', false],
    ]);
    // Means per condition 0.875, 0.9375, 0.9375, 1.
    expect(row(sheet, 'stateAgreementTrained')).toMatchObject({ min: 0.875, typ: 0.9375, max: 1, status: 'no limit' });
    // Worst input per condition 0.75, 0.875, 0.9375, 1.
    expect(row(sheet, 'worstInputStateAgreementTrained')).toMatchObject({ min: 0.75, typ: 0.875, max: 1 });
    // Decisions: 1 of 2 at 0.5 V 27 C, all elsewhere.
    expect(row(sheet, 'decisionMatchTrained')).toMatchObject({ min: 0.5, typ: 1, max: 1 });
    // Delays: the largest unit delay of any input, 0 for an input where no unit switched: 3, 2, 4, 1 ms.
    expect(row(sheet, 'switchDelayMaxS')).toMatchObject({ min: 1e-3, typ: 2e-3, max: 4e-3 });
    // Records without a frame period: the fraction is not measured.
    expect(row(sheet, 'switchDelayMaxFrames')).toMatchObject({ min: null, typ: null, max: null });
    // With a 10 ms frame: 3, 2, 4, 1 ms are 0.3, 0.2, 0.4, 0.1 of it.
    const framed = row(
      sheetOf(
        BASE.map((f) => ({ ...f, frameS: 10e-3 })),
        { switchDelayMaxFrames: { max: 0.35 } },
      ),
      'switchDelayMaxFrames',
    );
    expect(framed).toMatchObject({ typ: 0.2, status: 'fail' });
    expect(framed.min).toBeCloseTo(0.1, 15);
    expect(framed.max).toBeCloseTo(0.4, 15);
    // Core power = 40 nA x VDD, or 60 nA x 0.75 V: 20, 30, 20, 45 nW.
    const core = row(sheet, 'corePowerW');
    expect(core.min).toBeCloseTo(20e-9, 20);
    expect(core.typ).toBeCloseTo(30e-9, 20);
    expect(core.max).toBeCloseTo(45e-9, 20);
    // The input front end is not core power: 5 nA x VDD.
    expect(row(sheet, 'powerInW').max).toBeCloseTo(3.75e-9, 20);
  });

  it('uses the process VDD for jobs that do not sweep it', () => {
    const fakes = BASE.slice(2, 4);
    const jobs = fakes.map((f, i) => ({ ...fakeJob(i, f), vddV: null }) as Job);
    const records = new Map(jobs.map((j, i) => [j.id, fakeRecord(j, fakes[i])]));
    const sheet = buildDatasheet('fake', jobs, records, {}, { c180: 0.5 });
    // 40 nA at the process's 0.5 V.
    expect(row(sheet, 'corePowerW').typ).toBeCloseTo(20e-9, 20);
    expect(sheet.sections[0].conditions[0].typical).toBe(true);
  });

  it('has no typ when the typical condition was not run, and a swept corner other than tt is not typical', () => {
    const hot = sheetOf(
      BASE.filter((f) => f.temperatureC === 85),
      {},
    );
    expect(row(hot, 'stateAgreementTrained')).toMatchObject({ min: 0.9375, typ: null, max: 1 });
    const ss = sheetOf(
      BASE.map((f) => ({ ...f, corner: 'ss' })),
      {},
    );
    expect(ss.sections[0].conditions.some((c) => c.typical)).toBe(false);
    expect(ss.sections[0].conditions[0].label).toBe('ss 1 nA 500 mV 27 C');
  });
});

describe('datasheet: a swept frame period', () => {
  // BASE with its temperature axis read as a frame-period axis: 27 C -> 10 ms, 85 C -> 5 ms.
  const framed = (modelFrameS?: Record<string, number>) => {
    const jobs = BASE.map(
      (f, i) => ({ ...fakeJob(i, f), temperatureC: null, framePeriodS: f.temperatureC === 27 ? 0.01 : 0.005 }) as Job,
    );
    const records = new Map(jobs.map((j, i) => [j.id, fakeRecord(j, BASE[i])]));
    return buildDatasheet('fake', jobs, records, {}, { c180: NOMINAL_VDD_V }, { modelFrameS });
  };

  it("is typical at the model's own frame period", () => {
    const own10 = framed({ 'm.json': 0.01 });
    expect(own10.sections[0].conditions.map((c) => [c.label, c.typical])).toEqual([
      ['1 nA 500 mV frame 10 ms', false],
      ['1 nA 750 mV frame 10 ms', true],
      ['1 nA 500 mV frame 5 ms', false],
      ['1 nA 750 mV frame 5 ms', false],
    ]);
    expect(own10.sections[0].typicalRule).toContain("frame 10 ms (the model's own)");
    // The typical condition's agreement, as in the table above: mean of 1 and 0.875.
    expect(row(own10, 'stateAgreementTrained').typ).toBe(0.9375);
    const own5 = framed({ 'm.json': 0.005 });
    expect(own5.sections[0].conditions.filter((c) => c.typical).map((c) => c.label)).toEqual([
      '1 nA 750 mV frame 5 ms',
    ]);
    // 750 mV 5 ms: both inputs at 1.
    expect(row(own5, 'stateAgreementTrained').typ).toBe(1);
  });

  it("has no typ when the model's own frame period is unknown or was not swept", () => {
    const unknown = framed();
    expect(unknown.sections[0].conditions.some((c) => c.typical)).toBe(false);
    expect(unknown.sections[0].typicalRule).toContain('unknown');
    expect(framed({ 'm.json': 0.02 }).sections[0].conditions.some((c) => c.typical)).toBe(false);
  });
});

describe('datasheet: swept device sizes', () => {
  // BASE with its temperature axis read as a sizes axis: 27 C -> mirrors at L = 8 um, 85 C -> 12 um.
  const OWN = { unitWidthUm: 2, mirrorLengthUm: 8, switchWidthUm: 0.22, switchLengthUm: 16 };
  const sized = (sizing?: Record<string, typeof OWN>) => {
    const jobs = BASE.map(
      (f, i) =>
        ({ ...fakeJob(i, f), temperatureC: null, sizing: { mirrorLengthUm: f.temperatureC === 27 ? 8 : 12 } }) as Job,
    );
    const records = new Map(jobs.map((j, i) => [j.id, fakeRecord(j, BASE[i])]));
    return buildDatasheet('fake', jobs, records, {}, { c180: NOMINAL_VDD_V }, { sizing });
  };

  it("is typical at the process's own sizes, and nowhere when they are unknown", () => {
    const sheet = sized({ c180: OWN });
    expect(sheet.sections[0].conditions.map((c) => [c.label, c.typical])).toEqual([
      ['1 nA 500 mV mirrorLengthUm=8', false],
      ['1 nA 750 mV mirrorLengthUm=8', true],
      ['1 nA 500 mV mirrorLengthUm=12', false],
      ['1 nA 750 mV mirrorLengthUm=12', false],
    ]);
    expect(row(sheet, 'stateAgreementTrained').typ).toBe(0.9375);
    expect(sheet.sections[0].typicalRule).toContain("the process's own sizes");
    // A process whose own mirrors are 12 um long: the other column is typical.
    const long = sized({ c180: { ...OWN, mirrorLengthUm: 12 } });
    expect(long.sections[0].conditions.filter((c) => c.typical).map((c) => c.label)).toEqual([
      '1 nA 750 mV mirrorLengthUm=12',
    ]);
    expect(sized().sections[0].conditions.some((c) => c.typical)).toBe(false);
  });

  it('says which calibration each condition was built with: the own tables, or the copy at the sizes (marked)', () => {
    const own = sized({ c180: OWN });
    expect(own.sections[0].calibrationRule).toBe(
      "every condition with the process's own calibration.json, measured at the process's own sizes",
    );
    expect(datasheetMarkdown(own)).toContain("Calibration: every condition with the process's own calibration.json");
    // The 12 um jobs built with a copy calibrated there (plan calibrateSizes), the 8 um ones with c180's own.
    const folder = 'calibrations/c180-0123abcd/mirrorLengthUm=12';
    const jobs = BASE.map(
      (f, i) =>
        ({
          ...fakeJob(i, f),
          temperatureC: null,
          sizing: { mirrorLengthUm: f.temperatureC === 27 ? 8 : 12 },
          ...(f.temperatureC === 27 ? {} : { sizesCalibration: folder }),
        }) as Job,
    );
    const records = new Map(jobs.map((j, i) => [j.id, fakeRecord(j, BASE[i])]));
    const sheet = buildDatasheet('fake', jobs, records, {}, { c180: NOMINAL_VDD_V }, { sizing: { c180: OWN } });
    expect(sheet.sections[0].conditions.map((c) => [c.label, c.typical])).toEqual([
      ['1 nA 500 mV mirrorLengthUm=8', false],
      ['1 nA 750 mV mirrorLengthUm=8', true],
      ['1 nA 500 mV mirrorLengthUm=12 calibrated there', false],
      ['1 nA 750 mV mirrorLengthUm=12 calibrated there', false],
    ]);
    const rule = sheet.sections[0].calibrationRule!;
    expect(rule).toContain(`${folder}/calibration.json`);
    expect(rule).toContain("the others with the process's own calibration.json");
    expect(datasheetHtml(sheet)).toContain(`${folder}/calibration.json`);
    // Without a sizes axis there is nothing to say.
    expect(sheetOf(BASE, {}).sections[0].calibrationRule).toBeNull();
  });
});

describe('datasheet: limits', () => {
  it('passes a value equal to the limit and fails one just past it, naming the condition', () => {
    expect(row(sheetOf(BASE, { stateAgreementTrained: { min: 0.875 } }), 'stateAgreementTrained').status).toBe('pass');
    expect(row(sheetOf(BASE, { switchDelayMaxS: { max: 4e-3 } }), 'switchDelayMaxS').status).toBe('pass');
    const low = row(sheetOf(BASE, { stateAgreementTrained: { min: 0.9 } }), 'stateAgreementTrained');
    expect(low.status).toBe('fail');
    expect(low.reason).toContain('1 nA 500 mV 27 C: 87.50%');
    expect(low.reason).toContain('at 1 of 4 conditions');
    const slow = row(sheetOf(BASE, { switchDelayMaxS: { min: 1.5e-3, max: 3.5e-3 } }), 'switchDelayMaxS');
    expect(slow.status).toBe('fail');
    // Both ends broken: 1 ms below, 4 ms above.
    expect(slow.reason).toMatch(/below the minimum 1.5 ms at 1 of 4 conditions \(1 nA 750 mV 85 C: 1 ms\)/);
    expect(slow.reason).toMatch(/above the maximum 3.5 ms at 1 of 4 conditions \(1 nA 500 mV 85 C: 4 ms\)/);
  });

  it('names a metric that is missing, and a condition whose job failed, as missing (exit 2), not as pass', () => {
    const noRealised = sheetOf(
      BASE.map((f) => ({ ...f, realised: false })),
      { stateAgreementRealised: { min: 0.5 } },
    );
    const r = row(noRealised, 'stateAgreementRealised');
    expect(r).toMatchObject({ status: 'missing', min: null, typ: null, max: null });
    expect(r.reason).toContain('not measured at 4 of 4 conditions');
    expect(datasheetExitCode(noRealised)).toBe(2);
    expect(datasheetMarkdown(noRealised)).toContain('`stateAgreementRealised`: not measured at 4 of 4 conditions');

    // One of the two inputs at 0.5 V 85 C failed: that condition has no value, even where the other input passes.
    const failed = sheetOf(
      BASE.map((f, i) => (i === 5 ? { ...f, failed: true } : f)),
      { stateAgreementTrained: { min: 0.5 } },
    );
    const s = row(failed, 'stateAgreementTrained');
    expect(s.status).toBe('missing');
    expect(s.reason).toBe('not measured at 1 of 4 conditions: 1 nA 500 mV 85 C (1 of 2 jobs ok)');
    // Over the three conditions left: 0.875, 0.9375, 1.
    expect([s.min, s.max]).toEqual([0.875, 1]);
  });

  it('exits 0 when every limit holds, 1 when one fails, 2 when one is missing (as the fidelity gate)', () => {
    expect(datasheetExitCode(sheetOf(BASE, { decisionMatchTrained: { min: 0.5 } }))).toBe(0);
    expect(datasheetExitCode(sheetOf(BASE, { decisionMatchTrained: { min: 1 } }))).toBe(1);
    expect(datasheetExitCode(sheetOf(BASE, {}))).toBe(0);
    const both = sheetOf(
      BASE.map((f) => ({ ...f, realised: false })),
      { decisionMatchTrained: { min: 1 }, stateAgreementRealised: { min: 0.5 } },
    );
    expect(datasheetExitCode(both)).toBe(2);
  });

  it('writes the limits and verdicts into the Markdown and the HTML', () => {
    const sheet = sheetOf(BASE, { decisionMatchTrained: { min: 1 }, corePowerW: { max: 50e-9 } });
    const text = datasheetMarkdown(sheet);
    expect(text).toContain('| 50.00% | 100.00% | 100.00% | >= 100.00% | **FAIL** |');
    expect(text).toContain('| 20 nW | 30 nW | 45 nW | <= 50 nW | pass |');
    const html = datasheetHtml(sheet);
    expect(html).toContain('<td class="fail">fail</td>');
    expect(html).not.toMatch(/<(link|img)|src=|href=/);
  });
});

describe('plan specs: section', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'bmru-specs-test-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));
  const EXAMPLE = path.join(REPO_ROOT, 'models', 'example');
  const head = `name: t\nprocess: c180\nmodels: [${path.join(EXAMPLE, 'kws-example.json')}]\ninputs: [${path.join(EXAMPLE, 'clip-101.csv')}]\n`;

  async function planError(name: string, specs: string): Promise<InputError> {
    const file = path.join(dir, name);
    await writeFile(file, `${head}specs:\n${specs}`);
    const e = await loadPlan(file).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).file).toBe(file);
    return e as InputError;
  }

  it('reads limits by spec name', async () => {
    const file = path.join(dir, 'ok.yaml');
    await writeFile(
      file,
      `${head}specs:\n  corePowerW: { max: 1e-7 }\n  stateAgreementTrained: { min: 0.99, max: 1 }\n`,
    );
    expect((await loadPlan(file)).specs).toEqual({
      corePowerW: { max: 1e-7 },
      stateAgreementTrained: { min: 0.99, max: 1 },
    });
    const none = path.join(dir, 'none.yaml');
    await writeFile(none, head);
    expect((await loadPlan(none)).specs).toEqual({});
  });

  it('expands the shipped example plan to 3 x 2 x 2 conditions with its limits', async () => {
    const shipped = await loadPlan(path.join(EXAMPLE, 'datasheet-example.yaml'));
    expect((await expandPlan(shipped)).jobs).toHaveLength(12);
    expect(Object.keys(shipped.specs).sort()).toEqual([
      'corePowerW',
      'decisionMatchTrained',
      'stateAgreementTrained',
      'switchDelayMaxS',
      'worstInputStateAgreementTrained',
    ]);
  });

  it('names the field and what was expected', async () => {
    const unknown = await planError('u.yaml', '  stateAgreement: { min: 0.9 }\n');
    expect(unknown.field).toBe('specs.stateAgreement');
    expect(unknown.rule).toContain(
      'unknown spec: expected one of stateAgreementTrained, worstInputStateAgreementTrained',
    );
    const empty = await planError('e.yaml', '  corePowerW: {}\n');
    expect([empty.field, empty.rule]).toEqual(['specs.corePowerW', 'expected min, max or both']);
    const crossed = await planError('c.yaml', '  corePowerW: { min: 2e-7, max: 1e-7 }\n');
    expect([crossed.field, crossed.rule]).toEqual(['specs.corePowerW.max', 'expected min <= max']);
    const text = await planError('t.yaml', '  corePowerW: { max: lots }\n');
    expect(text.field).toBe('specs.corePowerW.max');
    const extra = await planError('x.yaml', '  corePowerW: { max: 1e-7, typ: 5e-8 }\n');
    expect(extra.field).toBe('specs.corePowerW');
    const list = await planError('l.yaml', '  - corePowerW\n');
    expect(list.field).toBe('specs');
    // A bare number where the limits go: the rule says what shape a limit takes (specs.ts LimitSchema's message).
    const bare = await planError('b.yaml', '  corePowerW: 1e-7\n');
    expect([bare.field, bare.rule]).toEqual(['specs.corePowerW', 'expected {min?: number, max?: number}']);
  });

  it('takes a limit whose min equals its max (both ends included: "min <= v <= max")', async () => {
    const file = path.join(dir, 'equal.yaml');
    await writeFile(file, `${head}specs:\n  decisionMatchTrained: { min: 1, max: 1 }\n`);
    expect((await loadPlan(file)).specs).toEqual({ decisionMatchTrained: { min: 1, max: 1 } });
  });
});

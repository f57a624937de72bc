import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  aggregate,
  batchStatus,
  conditionOf,
  failedRecords,
  openBatch,
  REPORT_HEADER,
  refreshStreams,
  reportCsvRow,
  writeReportPage,
} from '../../src/jobs/report.js';
import { acquireLock, JOBS_SCHEMA, outPaths, writeJobsFile, type ResultRecord } from '../../src/jobs/store.js';
import { DEFAULT_TOLERANCES } from '../../src/compare/tolerance.js';
import { DISAGREEMENT_CAUSES, type Comparison } from '../../src/compare/metrics.js';
import type { Job } from '../../src/jobs/plan.js';
import type { ReferenceName } from '../../src/compare/references.js';
import { REPO_ROOT } from '../helpers.js';

// Jobs and records built by hand: what is checked is the bookkeeping. Figures are sums of powers of two, so every
// mean below is exact and worked out by hand in the comments.
const job = (id: string, extra: Partial<Job> = {}): Job =>
  ({
    id,
    label: `job ${id}`,
    model: { path: 'models/a.json' },
    process: { ref: 'c180.json', name: 'c180' },
    corner: 'tt',
    unitCurrentA: 2.5e-10,
    ...extra,
  }) as unknown as Job;
const noneByMargin = { '<1%': 0, '1-5%': 0, '5-20%': 0, '>=20%': 0 };
const comparison = (stateAgreement: number, voteAgreement: number, decisionMatch: boolean): Comparison =>
  ({
    stateAgreement,
    voteAgreement,
    decisionMatch,
    disagreements: [],
    disagreementsByMargin: noneByMargin,
    disagreementsByCause: Object.fromEntries(DISAGREEMENT_CAUSES.map((c) => [c, noneByMargin])),
    switching: [],
  }) as unknown as Comparison;
type Figures = Partial<Record<ReferenceName, { stateAgreement: number; decisionMatch: boolean }>>;
const ok = (j: Job, c: Comparison, ngspiceS: number, reference?: ReferenceName, references?: Figures): ResultRecord =>
  ({
    id: j.id,
    status: 'ok',
    job: j,
    cosim: { comparison: c, ngspiceS, ...(reference ? { reference } : {}), ...(references ? { references } : {}) },
  }) as unknown as ResultRecord;
const failed = (j: Job, cls?: string): ResultRecord =>
  ({
    id: j.id,
    status: 'failed',
    job: j,
    ...(cls ? { failure: { class: cls, kind: 'x', message: 'm' } } : {}),
  }) as unknown as ResultRecord;
// State agreement 0.9 passes at these tolerances, 0.75 does not (limit 0.9); vote agreement 0.5 passes (limit 0.5).
const tol = { ...DEFAULT_TOLERANCES, minStateAgreement: 0.9, minVoteAgreement: 0.5 };

// Group 1 (a.json, c180, tt, 250 pA): j1, j2 ok, j3 failed, j4 never ran, j5 "ok" without a co-simulation.
// Group 2 (a.json, c180, no corner, no sweep): j6 failed (timeout), j7 ok.
// Group 3 (a.json, c180, tt, 250 pA 800 mV): j8 ok, decision lost. Group 4 (b.json, c180, ff): j9 never ran.
const j1 = job('j1');
const j2 = job('j2');
const j3 = job('j3');
const j4 = job('j4');
const j5 = job('j5');
const j6 = job('j6', { corner: null, unitCurrentA: null });
const j7 = job('j7', { corner: null, unitCurrentA: null });
const j8 = job('j8', { vddV: 0.8 });
const j9 = job('j9', { model: { path: 'b.json' } as Job['model'], corner: 'ff' });
// Plan order interleaves the groups: rows come in the order each group first appears.
const jobs = [j1, j6, j2, j8, j3, j7, j4, j9, j5];
const records = new Map<string, ResultRecord>([
  // j1 judged against realised (no `reference`: records from before references), j2 against trained.
  [
    j1.id,
    ok(j1, comparison(1, 1, true), 2, undefined, {
      trained: { stateAgreement: 1, decisionMatch: true },
      realised: { stateAgreement: 1, decisionMatch: true },
    }),
  ],
  [
    j2.id,
    ok(j2, comparison(0.75, 0.5, false), 4, 'trained', { trained: { stateAgreement: 0.5, decisionMatch: false } }),
  ],
  [j3.id, failed(j3)],
  [j5.id, { id: j5.id, status: 'ok', job: j5 } as unknown as ResultRecord],
  [j6.id, failed(j6, 'timeout')],
  [j7.id, ok(j7, comparison(0.5, 1, true), 1)],
  [j8.id, ok(j8, comparison(1, 1, false), 8, 'hwaware')],
  // A record of a job the plan no longer lists.
  ['gone', failed(job('gone'), 'crash')],
]);

describe('batchStatus', () => {
  it('counts ok, failed (by class, internal when unclassified) and pending jobs, and records of other jobs', () => {
    expect(batchStatus(jobs, records)).toEqual({
      total: 9,
      // j1, j2, j5, j7, j8: status ok, whether or not a co-simulation is stored
      ok: 5,
      failed: 2,
      pending: 2,
      failedByClass: { convergence: 0, timeout: 1, crash: 0, 'bad-input': 0, internal: 1 },
      foreign: 1,
    });
  });

  it('adds up failures of one class', () => {
    const k1 = job('k1');
    const k2 = job('k2');
    const crashes = new Map([
      [k1.id, failed(k1, 'crash')],
      [k2.id, failed(k2, 'crash')],
    ]);
    expect(batchStatus([k1, k2], crashes).failedByClass).toEqual({
      convergence: 0,
      timeout: 0,
      crash: 2,
      'bad-input': 0,
      internal: 0,
    });
  });

  it('counts nothing for a plan without jobs, and every record as foreign', () => {
    expect(batchStatus([], records)).toEqual({
      total: 0,
      ok: 0,
      failed: 0,
      pending: 0,
      failedByClass: { convergence: 0, timeout: 0, crash: 0, 'bad-input': 0, internal: 0 },
      foreign: 8,
    });
  });
});

describe('aggregate', () => {
  it('groups by model, process, corner and condition in plan order, with means over the ok jobs', () => {
    const rows = aggregate(jobs, records, tol);
    expect(rows).toEqual([
      {
        model: 'models/a.json',
        process: 'c180',
        corner: 'tt',
        condition: '250 pA',
        jobs: 5,
        // j5 has no co-simulation: not ok here, so pending (5 - 2 ok - 1 failed)
        ok: 2,
        failed: 1,
        pending: 2,
        // j1 (1 >= 0.9) passes, j2 (0.75) does not
        pass: 1,
        stateAgreementMean: (1 + 0.75) / 2,
        stateAgreementMin: 0.75,
        voteAgreementMean: (1 + 0.5) / 2,
        decisionMatchRate: 0.5,
        ngspiceMeanS: (2 + 4) / 2,
        // in REFERENCE_NAMES order (trained, realised, hwaware), not the records' order
        verdictReferences: ['trained', 'realised'],
        // trained is scored by both: (1 + 0.5) / 2, one decision of two; realised only by j1, so left out
        references: { trained: { stateAgreementMean: 0.75, decisionMatchRate: 0.5 } },
      },
      {
        model: 'models/a.json',
        process: 'c180',
        corner: '-',
        condition: '-',
        jobs: 2,
        ok: 1,
        failed: 1,
        pending: 0,
        // 0.5 < 0.9
        pass: 0,
        stateAgreementMean: 0.5,
        stateAgreementMin: 0.5,
        voteAgreementMean: 1,
        decisionMatchRate: 1,
        ngspiceMeanS: 1,
        verdictReferences: ['realised'],
        references: {},
      },
      {
        model: 'models/a.json',
        process: 'c180',
        corner: 'tt',
        condition: '250 pA 800 mV',
        jobs: 1,
        ok: 1,
        failed: 0,
        pending: 0,
        // DEFAULT_TOLERANCES require the decision to match
        pass: 0,
        stateAgreementMean: 1,
        stateAgreementMin: 1,
        voteAgreementMean: 1,
        decisionMatchRate: 0,
        ngspiceMeanS: 8,
        verdictReferences: ['hwaware'],
        references: {},
      },
      {
        model: 'b.json',
        process: 'c180',
        corner: 'ff',
        condition: '250 pA',
        jobs: 1,
        ok: 0,
        failed: 0,
        pending: 1,
        pass: 0,
        stateAgreementMean: null,
        stateAgreementMin: null,
        voteAgreementMean: null,
        decisionMatchRate: null,
        ngspiceMeanS: null,
        verdictReferences: [],
        references: {},
      },
    ]);
  });

  it('keeps groups apart that differ only in process name', () => {
    const other = job('k1', { process: { ref: 'x.json', name: 'c180b' } as Job['process'] });
    const rows = aggregate([j7, other], records, tol);
    expect(rows.map((r) => [r.process, r.corner, r.jobs])).toEqual([
      ['c180', '-', 1],
      ['c180b', 'tt', 1],
    ]);
  });
});

describe('conditionOf', () => {
  it('writes each sweep value with its unit, in a fixed order, and - for none', () => {
    const all = job('c', {
      unitCurrentA: 2.5e-10,
      vddV: 0.8,
      temperatureC: 85,
      framePeriodS: 0.005,
      sizing: { mirrorLengthUm: 4 },
      sizesCalibration: 'sizes-1',
    });
    expect(conditionOf(all)).toBe('250 pA 800 mV 85 C frame 5 ms mirrorLengthUm=4 calibrated there');
    const none = job('n', { unitCurrentA: null });
    expect(conditionOf(none)).toBe('-');
    expect(conditionOf({ ...none, temperatureC: 0 })).toBe('0 C');
    expect(conditionOf({ ...none, vddV: 1.8 })).toBe('1.8 V');
    expect(conditionOf({ ...none, framePeriodS: 0.01 })).toBe('frame 10 ms');
    expect(conditionOf({ ...none, sizing: { unitWidthUm: 1, switchLengthUm: 0.5 } })).toBe(
      'unitWidthUm=1 switchLengthUm=0.5',
    );
    expect(conditionOf({ ...none, sizesCalibration: 'x' })).toBe('calibrated there');
  });
});

describe('failedRecords', () => {
  it("lists the plan's failed jobs in plan order, not other jobs' records", () => {
    expect(failedRecords(jobs, records).map((r) => r.id)).toEqual(['j6', 'j3']);
  });
});

describe('report.csv', () => {
  it('has one column per group figure, then two per reference', () => {
    expect(REPORT_HEADER).toEqual([
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
      'state_agreement_mean_trained',
      'decision_match_rate_trained',
      'state_agreement_mean_realised',
      'decision_match_rate_realised',
      'state_agreement_mean_hwaware',
      'decision_match_rate_hwaware',
    ]);
  });

  it('writes a row cell by cell, 0 as 0 and nothing measured as empty', () => {
    const [g1, , g3, g4] = aggregate(jobs, records, tol);
    expect(reportCsvRow(g1)).toEqual([
      'models/a.json',
      'c180',
      'tt',
      '250 pA',
      5,
      2,
      1,
      2,
      1,
      0.875,
      0.75,
      0.75,
      0.5,
      3,
      'trained realised',
      0.75,
      0.5,
      '',
      '',
      '',
      '',
    ]);
    expect(reportCsvRow(g3).slice(9, 15)).toEqual([1, 1, 1, 0, 8, 'hwaware']);
    expect(reportCsvRow(g4).slice(4)).toEqual([1, 0, 0, 1, 0, '', '', '', '', '', '', '', '', '', '', '', '']);
  });
});

describe('writeReportPage', () => {
  it('writes nothing without an ok co-simulation', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'bmru-report-'));
    try {
      const file = path.join(dir, 'report.html');
      const onlyJ5 = new Map([[j5.id, records.get(j5.id)!]]);
      expect(await writeReportPage(file, 'demo', aggregate([j5, j3], onlyJ5, tol), [j5, j3], onlyJ5)).toBe(false);
      await expect(stat(file)).rejects.toThrow(/ENOENT/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('plots every ok job and each group with an ok job, named in the caption', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'bmru-report-'));
    try {
      const file = path.join(dir, 'report.html');
      expect(await writeReportPage(file, 'demo', aggregate(jobs, records, tol), jobs, records)).toBe(true);
      const html = await readFile(file, 'utf8');
      for (const text of [
        'bmru batch report: demo',
        'State agreement per job',
        // j1, j2, j7, j8 (j5 has no co-simulation)
        'Unit-frame state agreement (4 jobs)',
        'state agreement (fraction)',
        'Per model, process and corner',
        'Mean state agreement and decision-match rate per group',
        'group (row of report.csv)',
        // the y axis's own title
        '>fraction<',
        'state agreement (mean)',
        'decision match rate',
        // group 4 (no ok job) is not plotted; the model's folder is left out, and '-' for no sweep
        '0: a.json c180 tt 250 pA; 1: a.json c180 -; 2: a.json c180 tt 250 pA 800 mV',
      ]) {
        expect(html).toContain(text);
      }
      expect(html).not.toContain('b.json');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('refreshStreams', () => {
  it('rebuilds the streams from the records of the plan, or returns false while a run holds the folder', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'bmru-report-'));
    try {
      const paths = outPaths(dir);
      const release = await acquireLock(paths);
      expect(await refreshStreams(paths, jobs, new Map())).toBe(false);
      await expect(stat(paths.jsonl)).rejects.toThrow(/ENOENT/);
      await release();
      // No record of any job: empty streams (a job without a record is left out, not written as undefined).
      expect(await refreshStreams(paths, jobs, new Map())).toBe(true);
      expect(await readFile(paths.jsonl, 'utf8')).toBe('');
      // The lock is released again.
      await (
        await acquireLock(paths)
      )();
      // A job with a record: its record is written.
      const r = {
        schema: 'bmru-batch-result/1',
        id: '0000000000000001',
        status: 'failed',
        job: { ...j1, id: '0000000000000001', index: 0, input: { kind: 'random', frames: 2, seed: 1 }, seed: null },
        generator: 'g',
        host: 'h',
        startedAt: '2026-01-01T00:00:00.000Z',
        finishedAt: '2026-01-01T00:00:01.000Z',
        wallS: 1,
        attempts: [{ attempt: 1, startedAt: '2026-01-01T00:00:00.000Z', wallS: 1 }],
        ngspiceVersion: '39',
        failure: { class: 'timeout', kind: 'timeout', message: 'm', retryable: true },
      } as unknown as ResultRecord;
      expect(await refreshStreams(paths, [r.job, ...jobs], new Map([[r.id, r]]))).toBe(true);
      expect(
        (await readFile(paths.jsonl, 'utf8'))
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l).id),
      ).toEqual([r.id]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('passes on errors other than a held lock', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'bmru-report-'));
    try {
      const file = path.join(dir, 'not-a-folder');
      await writeFile(file, '');
      await expect(refreshStreams(outPaths(file), jobs, new Map())).rejects.toThrow(/not-a-folder/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('openBatch', () => {
  const jobsFile = (extra: object) => ({
    schema: JOBS_SCHEMA,
    name: 'demo',
    planFile: 'plan.yaml',
    generator: 'g',
    tolerances: tol,
    timeoutS: 1,
    retries: 0,
    jobs: [{ ...j1, index: 0 }],
    ...extra,
  });

  it("reads an output folder's jobs.json, with the optional sections only when written", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'bmru-report-'));
    try {
      const paths = outPaths(dir);
      await writeJobsFile(paths, jobsFile({}) as never);
      const bare = await openBatch(dir);
      expect(bare).toEqual({
        name: 'demo',
        paths,
        jobs: [{ ...j1, index: 0 }],
        tolerances: tol,
        specs: {},
      });
      expect(Object.keys(bare)).toEqual(['name', 'paths', 'jobs', 'tolerances', 'specs']);

      const sizing = { unitWidthUm: 1, mirrorLengthUm: 2, switchWidthUm: 0.5, switchLengthUm: 0.25 };
      const specs = { stateAgreementTrained: { min: 0.9 } };
      await writeJobsFile(
        paths,
        jobsFile({
          specs,
          nominalVddV: { 'c180.json': 1.8 },
          modelFrameS: { 'models/a.json': 0.01 },
          nominalSizing: { 'c180.json': sizing },
        }) as never,
      );
      expect(await openBatch(dir)).toMatchObject({
        specs,
        nominalVddV: { 'c180.json': 1.8 },
        modelFrameS: { 'models/a.json': 0.01 },
        nominalSizing: { 'c180.json': sizing },
      });

      await writeJobsFile(paths, jobsFile({ specs: { noSuchSpec: { min: 1 } } }) as never);
      await expect(openBatch(dir)).rejects.toThrow(`${paths.jobs} (specs)`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('expands a plan file with the options given (output folder, I_unit)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'bmru-report-'));
    try {
      const example = path.join(REPO_ROOT, 'models', 'example');
      const plan = path.join(dir, 'plan.yaml');
      await writeFile(
        plan,
        `name: p\nprocess: c180\nmodels: [${path.join(example, 'kws-example.json')}]\ninputs: [${path.join(example, 'clip-101.csv')}]\nout: first\n`,
      );
      const plain = await openBatch(plan);
      expect(plain.name).toBe('p');
      expect(plain.paths).toEqual(outPaths(path.join(dir, 'first')));
      expect(plain.jobs.map((j) => j.unitCurrentA)).toEqual([null]);
      const other = path.join(dir, 'second');
      const at = await openBatch(plan, { out: other, unitCurrentA: 5e-10 });
      expect(at.paths).toEqual(outPaths(other));
      expect(at.jobs.map((j) => j.unitCurrentA)).toEqual([5e-10]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reads anything else as a plan file', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'bmru-report-'));
    try {
      const missing = path.join(dir, 'plan.yaml');
      const e = (await openBatch(missing).catch((err: unknown) => err)) as Error;
      expect(e).toBeInstanceOf(Error);
      expect(e.message).not.toContain('jobs.json');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

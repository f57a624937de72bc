/**
 * Plan `calibrateSizes` on real ngspice: the example network on c180 with one sizes entry, mirrors and bias devices
 * at L = 1 um instead of the process's own 8 um. The batch calibrates a copy of c180 at 1 um in its output folder and
 * builds the entry's job with it; a resumed run reuses the copy. Then the cells the two sets of tables build at 1 um
 * are measured: the copy's land on their targets, c180's own tables (measured at 8 um) used at 1 um do not.
 * A reduced calibration plan (4 x 4 cell grid, 4 ON levels, 3 mirror ratios, no hardware tables) keeps the copy to
 * about 40 short DC sweeps.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  biasesFor,
  calibrate,
  DEFAULT_PLAN,
  measureCellsSpice,
  TOLERANCE_ABS_A,
  TOLERANCE_REL,
  type CalibrationPlan,
  type CellTarget,
} from '../../src/calibrate/calibrate.js';
import { calibrationMethod } from '../../src/calibrate/method.js';
import type { CellMeasurement } from '../../src/calibrate/measure.js';
import { expandPlan, parsePlan } from '../../src/jobs/plan.js';
import { runBatch, type SizesCalibrationEvent } from '../../src/jobs/run.js';
import { outPaths, readAllResults, resultPath } from '../../src/jobs/store.js';
import { CALIBRATION_FILE, loadCalibration } from '../../src/netlist/calibration.js';
import { loadProcess, type Process } from '../../src/netlist/process.js';
import { REPO_ROOT } from '../helpers.js';
import { cliFixture } from '../cli/fixture.js';

const nA = 1e-9;
const EXAMPLE = path.join(REPO_ROOT, 'models', 'example');
const C180 = path.join(REPO_ROOT, 'models', 'c180', 'process.json');

/** The reduced calibration: rows span the shipped grid's 0.05-2.8 nA, so the example's currents stay in range. */
const SMALL_PLAN: CalibrationPlan = {
  ...DEFAULT_PLAN,
  threshA: [0.05, 0.2, 0.8, 2.8].map((v) => v * nA),
  widthFractions: [0, 0.25, 0.55, 0.85],
  gainA: [0.2, 0.5, 1, 1.5].map((v) => v * nA),
  mirrorRatios: [0.5, 1, 2],
  mirrorCurrentsA: [0.3, 1].map((v) => v * nA),
  relStep: 2e-3,
};

/** Two cells inside that grid: narrow and wide hysteresis. */
const TARGETS: readonly CellTarget[] = [
  { betaLoA: 0.6 * nA, betaHiA: 0.8 * nA, alphaA: 0.5 * nA },
  { betaLoA: 0.12 * nA, betaHiA: 0.2 * nA, alphaA: 1 * nA },
];

/**
 * How far apart (relative to the target) the two sets of tables put every threshold and ON level at 1 um: well
 * above the DC sweep's 0.2% step, a third of the smallest gap measured (2.4%).
 */
const OWN_APART_REL = 0.008;

/** How far apart the cell and bias supply currents of the two builds are at least (half the smaller gap measured). */
const TABLES_APART_REL = 0.01;

/** Issue 2's acceptance rule (calibrate.ts): within 3% of the target or 5 pA, whichever is larger. */
const within = (measuredA: number, targetA: number) =>
  Math.abs(measuredA - targetA) <= Math.max(TOLERANCE_REL * targetA, TOLERANCE_ABS_A);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'bmru-sizes-cal-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('calibrateSizes: a sizes entry built with a copy of the process calibrated at its sizes', () => {
  const measured: Process[] = [];
  const events: SizesCalibrationEvent[] = [];
  const calibrateSizes = async (copy: Process) => {
    measured.push(copy);
    return (await calibrate(copy, { plan: SMALL_PLAN, hardwarePlan: false, concurrency: 1 })).calibration;
  };
  // Written by the first test, read by the second.
  let copyDir = '';

  it('calibrates the copy once, builds the job with it, and reuses it when the batch resumes', async () => {
    const planText = [
      'name: sizes-cal',
      'process: c180',
      `models: [${path.join(EXAMPLE, 'kws-example.json')}]`,
      `inputs: [{ file: ${path.join(EXAMPLE, 'clip-101.csv')}, frames: 2 }]`,
      'sizes: [{ mirrorLengthUm: 1 }]',
      'calibrateSizes: true',
      'out: out-sizes-cal',
    ].join('\n');
    const plan = await parsePlan(planText, path.join(dir, 'plan.yaml'));
    const expanded = await expandPlan(plan);
    expect(expanded.jobs).toHaveLength(1);
    const job = expanded.jobs[0];
    const hash8 = createHash('sha256').update(readFileSync(C180)).digest('hex').slice(0, 8);
    expect(job.sizesCalibration).toBe(`calibrations/c180-${hash8}/mirrorLengthUm=1`);
    copyDir = path.join(dir, 'out-sizes-cal', job.sizesCalibration!);

    const opts = {
      workers: 1,
      workRoot: dir,
      calibrateSizes,
      // The copies are measured with the small plan, so that is the method they must carry to be reused.
      calibrationMethod: calibrationMethod(SMALL_PLAN, false),
      onSizesCalibration: (e: SizesCalibrationEvent) => events.push(e),
    };
    const first = await runBatch(expanded, opts);
    expect(first.ok).toBe(1);
    // One measurement, of a process at the entry's length; c180's own sizing is 8 um (models/c180/process.json).
    expect(measured.map((p) => [p.sizing.mirrorLengthUm, p.dir])).toEqual([[1, copyDir]]);
    expect(events.map((e) => e.outcome)).toEqual(['measured']);
    const file = path.join(copyDir, CALIBRATION_FILE);
    const record = (await readAllResults(outPaths(plan.outDir))).get(job.id)!;
    expect(record.job.sizesCalibration).toBe(job.sizesCalibration);
    expect(record.sizesCalibrationSha256).toBe(createHash('sha256').update(readFileSync(file)).digest('hex'));

    // The same entry with c180's own tables (no calibrateSizes): another circuit, so other bias currents.
    const ownPlan = await parsePlan(
      planText.replace('calibrateSizes: true', 'calibrateSizes: false').replace('out-sizes-cal', 'out-sizes-own'),
      path.join(dir, 'own.yaml'),
    );
    const ownExpanded = await expandPlan(ownPlan);
    expect(ownExpanded.jobs[0].sizesCalibration).toBeUndefined();
    expect((await runBatch(ownExpanded, { workers: 1, workRoot: dir })).ok).toBe(1);
    const ownRecord = (await readAllResults(outPaths(ownPlan.outDir))).get(ownExpanded.jobs[0].id)!;
    const mine = record.cosim!.supplyMeanA;
    const theirs = ownRecord.cosim!.supplyMeanA;
    const apart = (d: string) => Math.abs(mine[d] - theirs[d]) / theirs[d];
    // The cells' biases come from the tables (1.9% and 2.3% apart in the run that set this); the input front end
    // does not read them, so it stays: the difference is the tables', not the layout's (both are at 1 um).
    expect(apart('cell'), JSON.stringify({ mine, theirs })).toBeGreaterThan(TABLES_APART_REL);
    expect(apart('bias'), JSON.stringify({ mine, theirs })).toBeGreaterThan(TABLES_APART_REL);
    expect(apart('in'), JSON.stringify({ mine, theirs })).toBeLessThan(1e-4);

    // A resumed batch (the job's record gone, as after an interrupt): the job runs again, the copy is not measured.
    await rm(resultPath(outPaths(plan.outDir), job.id));
    const second = await runBatch(expanded, opts);
    expect(second.ok).toBe(1);
    expect(measured).toHaveLength(1);
    expect(events.map((e) => e.outcome)).toEqual(['measured', 'reused']);
  }, 900_000);

  it("realises its targets at L = 1 um, where c180's own tables (measured at 8 um) do not", async () => {
    expect(existsSync(path.join(copyDir, CALIBRATION_FILE)), 'the first test wrote the copy').toBe(true);
    const sized = await loadProcess(path.join(copyDir, 'process.json'));
    const copy = await loadCalibration(copyDir, sized);
    const own = await loadCalibration(path.dirname(C180), await loadProcess(C180));
    const cellsWith = (c: typeof copy) =>
      measureCellsSpice(
        sized,
        TARGETS.map((t) => biasesFor(c, t)),
        SMALL_PLAN,
        { concurrency: 1 },
      );
    const withCopy = await cellsWith(copy);
    const withOwn = await cellsWith(own);
    const pick = {
      beta_hi: (m: CellMeasurement) => m.betaHiA,
      beta_lo: (m: CellMeasurement) => m.betaLoA,
      'ON level': (m: CellMeasurement) => m.onA,
    };
    const want = {
      beta_hi: (t: CellTarget) => t.betaHiA,
      beta_lo: (t: CellTarget) => t.betaLoA,
      'ON level': (t: CellTarget) => t.alphaA,
    };
    for (const [k, t] of TARGETS.entries()) {
      for (const what of ['beta_hi', 'beta_lo', 'ON level'] as const) {
        const targetA = want[what](t);
        const copyA = pick[what](withCopy[k]);
        const ownA = pick[what](withOwn[k]);
        const where = `cell ${k} ${what}: target ${targetA}, copy's tables ${copyA}, own tables ${ownA} (A)`;
        // The copy meets the acceptance rule of bmru calibrate; the tables measured at 8 um land further away
        // (c180 at 1 um: beta_hi 2.8-3.4% low, beta_lo 2.4-2.5% high, ON 2.9-3.5% high in the run that set this).
        expect(within(copyA, targetA), where).toBe(true);
        expect(Math.abs(ownA - targetA), where).toBeGreaterThan(Math.abs(copyA - targetA));
        expect(Math.abs(ownA - copyA) / targetA, where).toBeGreaterThan(OWN_APART_REL);
      }
    }
  }, 600_000);
});

/**
 * `bmru batch submit --slurm` (the built binary) on a calibrateSizes plan: it calibrates the copy on this machine
 * before it calls sbatch (a fake one that notes whether the copy's tables are there yet), and an array task
 * (`batch run --slice 0/1`) then builds its job from that copy without measuring. One real calibration, the CLI's
 * full one (about 30 CPU-s on c180), with one ngspice at a time.
 */
describe('batch submit calibrates every copy before the array, and a slice reads it', () => {
  it('measures the copy once, submits after, and the slice builds its job from it', async () => {
    const f = await cliFixture();
    try {
      const hash8 = createHash('sha256').update(readFileSync(C180)).digest('hex').slice(0, 8);
      const copyDir = path.join(f.dir, 'out', 'calibrations', `c180-${hash8}`, 'mirrorLengthUm=4');
      const tables = path.join(copyDir, CALIBRATION_FILE);
      const bin = path.join(f.dir, 'bin');
      await mkdir(bin);
      await writeFile(
        path.join(bin, 'sbatch'),
        `#!/bin/sh\nif [ -f '${tables}' ]; then echo present > '${bin}/seen'; else echo absent > '${bin}/seen'; fi\necho 77\n`,
      );
      await chmod(path.join(bin, 'sbatch'), 0o755);
      const plan = await f.write(
        'plan.yaml',
        [
          'name: submit-cal',
          'process: c180',
          `models: [${path.join(EXAMPLE, 'kws-example.json')}]`,
          `inputs: [{ file: ${path.join(EXAMPLE, 'clip-101.csv')}, frames: 2 }]`,
          'sizes: [{ mirrorLengthUm: 4 }]',
          'calibrateSizes: true',
          'out: out',
        ].join('\n'),
      );
      const submit = await f.run(['batch', 'submit', plan, '--slurm', '-j', '1'], {
        PATH: `${bin}:${process.env.PATH}`,
      });
      expect(submit.exitCode, submit.stderr).toBe(0);
      expect(submit.stderr).toContain('calibrated c180 at mirrorLengthUm=4 (1/1): out/calibrations/');
      expect(submit.stderr).toMatch(/1 calibrated, 0 reused, 0 failed of 1 copies/);
      expect(submit.stdout).toContain('Slurm job 77');
      expect((await readFile(path.join(bin, 'seen'), 'utf8')).trim()).toBe('present');
      const copyProcess = JSON.parse(await readFile(path.join(copyDir, 'process.json'), 'utf8'));
      expect(copyProcess.sizing.mirrorLengthUm).toBe(4); // c180's own: 8 um
      const text = await readFile(tables, 'utf8');
      expect(text).not.toBe(await readFile(path.join(path.dirname(C180), CALIBRATION_FILE), 'utf8'));

      const slice = await f.run(['batch', 'run', plan, '--slice', '0/1', '-j', '1']);
      expect(slice.exitCode, slice.stderr).toBe(0);
      expect(slice.stderr).toContain('reusing the tables of c180 at mirrorLengthUm=4 (1/1)');
      expect(await readFile(tables, 'utf8')).toBe(text);
      const records = [...(await readAllResults(outPaths(path.join(f.dir, 'out')))).values()];
      expect(records.map((r) => [r.status, r.sizesCalibrationSha256])).toEqual([
        ['ok', createHash('sha256').update(text).digest('hex')],
      ]);
    } finally {
      await f.cleanUp();
    }
  }, 900_000);
});

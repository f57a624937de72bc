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
import { mkdtemp, rm } from 'node:fs/promises';
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
import { expandPlan, parsePlan } from '../../src/jobs/plan.js';
import { runBatch, type SizesCalibrationEvent } from '../../src/jobs/run.js';
import { outPaths, readAllResults, resultPath } from '../../src/jobs/store.js';
import { CALIBRATION_FILE, loadCalibration } from '../../src/netlist/calibration.js';
import { loadProcess, type Process } from '../../src/netlist/process.js';
import { REPO_ROOT } from '../helpers.js';

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
    const plan = await parsePlan(
      [
        'name: sizes-cal',
        'process: c180',
        `models: [${path.join(EXAMPLE, 'kws-example.json')}]`,
        `inputs: [{ file: ${path.join(EXAMPLE, 'clip-101.csv')}, frames: 2 }]`,
        'sizes: [{ mirrorLengthUm: 1 }]',
        'calibrateSizes: true',
        'out: out-sizes-cal',
      ].join('\n'),
      path.join(dir, 'plan.yaml'),
    );
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
    const report = (m: typeof withCopy) =>
      m
        .map(
          (c, k) =>
            `beta_hi ${c.betaHiA / nA} (target ${TARGETS[k].betaHiA / nA}), beta_lo ${c.betaLoA / nA} (target ${TARGETS[k].betaLoA / nA}) nA`,
        )
        .join('; ');
    TARGETS.forEach((t, k) => {
      expect(within(withCopy[k].betaHiA, t.betaHiA), report(withCopy)).toBe(true);
      expect(within(withCopy[k].betaLoA, t.betaLoA), report(withCopy)).toBe(true);
    });
    // The own tables at the new length miss some threshold by more than the rule allows.
    const ownMisses = TARGETS.flatMap((t, k) => [
      within(withOwn[k].betaHiA, t.betaHiA),
      within(withOwn[k].betaLoA, t.betaLoA),
    ]).filter((ok) => !ok);
    expect(ownMisses.length, report(withOwn)).toBeGreaterThan(0);
  }, 600_000);
});

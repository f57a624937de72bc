/**
 * The parts of jobs/run.ts that run no ngspice, imported from src/: jobs.json's content (`jobsFileOf`), the
 * calibrate command the messages name, and the seeded noise of a job's clip. Every expectation is written out by
 * hand; the noise's from a separate implementation of mulberry32 and Box-Muller (Python, see `withNoise`).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  calibrateCommand,
  calibrateSizesCopies,
  jobsFileOf,
  nominalSizing,
  nominalVddV,
  withNoise,
} from '../../src/jobs/run.js';
import { GENERATOR, expandPlan, parsePlan, type ExpandedPlan } from '../../src/jobs/plan.js';
import { loadCalibration } from '../../src/netlist/calibration.js';
import type { Process } from '../../src/netlist/process.js';
import { calibrationMethod } from '../../src/calibrate/method.js';
import { planText } from './slurm-plan.js';
import { REPO_ROOT } from '../helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'bmru-run-units-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const SIZING_A = { mirrorLengthUm: 2, cellWidthUm: 1 };
const SIZING_B = { mirrorLengthUm: 4, cellWidthUm: 3 };

/** A plan as expandPlan gives it, with only what these functions read. */
function expanded(over: Record<string, unknown> = {}): ExpandedPlan {
  return {
    plan: {
      name: 'sweep',
      file: '/plans/sweep.yaml',
      outDir: '/scratch/out',
      tolerances: { stateTolerance: 0.1 },
      timeoutS: 600,
      retries: 2,
      specs: { maxPowerW: 1e-3 },
      ...over,
    },
    processes: new Map([
      ['c180', { process: { name: 'c180', vddV: 1.8, sizing: SIZING_A }, file: '/m/c180/process.json' }],
      ['gf.json', { process: { name: 'gf180mcu', vddV: 3.3, sizing: SIZING_B }, file: '/m/gf/process.json' }],
    ]),
    jobs: [{ id: 'j1' }, { id: 'j2' }],
    duplicates: 0,
    modelFrameS: { 'm.json': 0.01 },
  } as unknown as ExpandedPlan;
}

describe('jobsFileOf', () => {
  it("holds the plan's name, file, tolerances, limits and jobs, each process's supply and sizes by its reference", () => {
    const e = expanded();
    expect(jobsFileOf(e)).toEqual({
      schema: 'bmru-batch-jobs/1',
      name: 'sweep',
      planFile: '/plans/sweep.yaml',
      generator: GENERATOR,
      tolerances: { stateTolerance: 0.1 },
      timeoutS: 600,
      retries: 2,
      jobs: [{ id: 'j1' }, { id: 'j2' }],
      specs: { maxPowerW: 1e-3 },
      nominalVddV: { c180: 1.8, 'gf.json': 3.3 },
      modelFrameS: { 'm.json': 0.01 },
      nominalSizing: { c180: SIZING_A, 'gf.json': SIZING_B },
    });
    expect(nominalVddV(e)).toEqual({ c180: 1.8, 'gf.json': 3.3 });
    expect(nominalSizing(e)).toEqual({ c180: SIZING_A, 'gf.json': SIZING_B });
  });
});

describe('calibrateCommand', () => {
  it('names the plan and the output folder, and the kit when the plan has one', () => {
    expect(calibrateCommand(expanded())).toBe('bmru batch calibrate /plans/sweep.yaml --out /scratch/out');
    expect(calibrateCommand(expanded({ kit: '/pdk/gf180mcu' }))).toBe(
      'bmru batch calibrate /plans/sweep.yaml --out /scratch/out --kit /pdk/gf180mcu',
    );
  });
});

describe('withNoise', () => {
  it('adds sd times N(0, 1) from mulberry32(seed) through Box-Muller, value by value, and keeps the shape', () => {
    const clip = { frames: 2, features: 2, data: Float64Array.from([1, -2, 0.25, 3]) };
    const noisy = withNoise(clip, 0.5, 7);
    // Python: mulberry32(7), u = 1 - next(), v = next(), r = sqrt(-2 ln u): r cos(2 pi v), then r sin(2 pi v); twice:
    // N = 0.14197043782155663, 0.058240714748711335, -0.8642530248729361, -2.605680906750795; value + 0.5 N.
    const want = [1.0709852189107782, -1.9708796426256443, -0.18212651243646805, 1.6971595466246026];
    expect([noisy.frames, noisy.features, noisy.data.length]).toEqual([2, 2, 4]);
    Array.from(noisy.data).forEach((v, i) => expect(v).toBeCloseTo(want[i], 12));
    expect(Array.from(clip.data)).toEqual([1, -2, 0.25, 3]); // the clip itself untouched
  });
});

/*
 * calibrateSizesCopies with nothing measured: c180's own tables stand in for a measurement (same VDD, so the copy
 * loads them), as in slurm.test.ts; what is tested is who measures, what is reported, and where an interrupt stops.
 */
describe('calibrateSizesCopies: the checks, the interrupt, the read-only copies', () => {
  const C180 = path.join(REPO_ROOT, 'models', 'c180');
  /** Two copies (mirrorLengthUm 4 and 16), one job each, writing into `<dir>/<out>`. */
  const twoCopies = async (out: string) =>
    expandPlan(
      await parsePlan(
        `${planText(out).replace('seeds: { count: 5 }', 'seeds: { count: 1 }')}sizes: [{ mirrorLengthUm: 4 }, { mirrorLengthUm: 16 }]\ncalibrateSizes: true\n`,
        path.join(dir, `${out}.yaml`),
      ),
    );
  const LABELS = ['c180 at mirrorLengthUm=4 (1/2)', 'c180 at mirrorLengthUm=16 (2/2)'];

  it('refuses a plan with copies and no calibration method, and has nothing to do on a plan without copies', async () => {
    const e = await twoCopies('out-nomethod');
    await expect(
      calibrateSizesCopies(e, { calibrateSizes: async () => (await loadCalibration(C180))! }),
    ).rejects.toThrow(
      new Error('the plan calibrates sizes and this runner was given no calibrationMethod to check the copies against'),
    );
    const plain = await expandPlan(await parsePlan(planText('out-plain'), path.join(dir, 'plain.yaml')));
    expect(await calibrateSizesCopies(plain, {})).toEqual([]);
  });

  it('reports a copy it has no measurement for as failed, naming its calibration.json', async () => {
    const e = await twoCopies('out-nomeasure');
    const events = await calibrateSizesCopies(e, { calibrationMethod: calibrationMethod() });
    const file = (k: number) => events[k].file;
    expect(path.basename(file(0))).toBe('calibration.json');
    expect(events).toEqual(
      [0, 1].map((k) => ({
        label: LABELS[k],
        file: file(k),
        outcome: 'failed',
        error: `the plan calibrates sizes and this runner was given no calibrateSizes to measure ${file(k)}`,
      })),
    );
  });

  it('measures nothing once interrupted, and records no failure for a measurement the interrupt broke', async () => {
    const e = await twoCopies('out-abort');
    const seen: number[] = [];
    const before = new AbortController();
    before.abort();
    const measure = async (p: Process) => {
      seen.push(p.sizing.mirrorLengthUm);
      return (await loadCalibration(C180))!;
    };
    expect(
      await calibrateSizesCopies(e, {
        calibrateSizes: measure,
        calibrationMethod: calibrationMethod(),
        signal: before.signal,
      }),
    ).toEqual([]);
    expect(seen).toEqual([]);
    // Ctrl-C during the first copy's measurement: it fails, and neither it nor the next copy is reported.
    const during = new AbortController();
    const broken = async (p: Process) => {
      seen.push(p.sizing.mirrorLengthUm);
      during.abort();
      throw new Error('killed');
    };
    expect(
      await calibrateSizesCopies(e, {
        calibrateSizes: broken,
        calibrationMethod: calibrationMethod(),
        signal: during.signal,
      }),
    ).toEqual([]);
    expect(seen).toEqual([4]);
  });

  it("read only (a slice's copies, as runBatch passes the option on): the stored copies reused, nothing measured", async () => {
    const e = await twoCopies('out-readonly');
    const own = (await loadCalibration(C180))!;
    const first = await calibrateSizesCopies(e, {
      calibrateSizes: async () => own,
      calibrationMethod: calibrationMethod(),
    });
    expect(first.map((x) => x.outcome)).toEqual(['measured', 'measured']);
    const never = async (): Promise<never> => {
      throw new Error('a read-only run measured');
    };
    const readOnly = { calibrateSizes: never, calibrationMethod: calibrationMethod(), sizesCalibrationsReadOnly: true };
    const again = await calibrateSizesCopies(e, readOnly as Parameters<typeof calibrateSizesCopies>[1]);
    expect(again).toEqual(
      [0, 1].map((k) => ({ label: LABELS[k], file: first[k].file, outcome: 'reused', why: undefined })),
    );
  });
});

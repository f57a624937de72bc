import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultUnitCurrentsA, defaultVddsV, modelCopyName, sweepPoints, vddFolder } from '../../src/analysis/sweep.js';
import { calibratedCopy, processJsonAt, writeProcessCopy } from '../../src/netlist/process-copy.js';
import type { ResultRecord } from '../../src/jobs/store.js';
import type { Calibration } from '../../src/netlist/calibration.js';
import { REPO_ROOT } from '../helpers.js';

const C180 = path.join(REPO_ROOT, 'models', 'c180', 'process.json');
const GF = path.join(REPO_ROOT, 'models', 'gf180mcu', 'process.json');

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'bmru-sweep-'));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

describe('sweep grid defaults and names', () => {
  it('supplies around the process VDD to 50 mV, unit currents around the model I_unit', () => {
    expect(defaultVddsV(0.9)).toEqual([0.6, 0.9, 1.2, 1.8]);
    expect(defaultVddsV(1.5)).toEqual([1, 1.5, 2, 3]);
    expect(defaultUnitCurrentsA(250e-12)).toEqual([125e-12, 250e-12, 500e-12]);
  });

  it('names a supply folder and a model copy by their value', () => {
    expect(vddFolder(0.6)).toBe('vdd-0.6V');
    expect(vddFolder(0.1 + 0.2)).toBe('vdd-0.3V');
    expect(modelCopyName('kws-w4', 250e-12)).toBe('kws-w4-250pA.json');
    expect(modelCopyName('kws-w4', 1e-9)).toBe('kws-w4-1nA.json');
  });
});

describe('process copies at another supply', () => {
  it('changes only vddV, and makes a relative default kit folder absolute', () => {
    const c = JSON.parse(processJsonAt(readFileSync(C180, 'utf8'), path.dirname(C180), { vddV: 0.6 }));
    const shipped = JSON.parse(readFileSync(C180, 'utf8'));
    expect(c).toEqual({ ...shipped, vddV: 0.6 });
    const g = JSON.parse(processJsonAt(readFileSync(GF, 'utf8'), path.dirname(GF), { vddV: 2.2 }));
    expect(g.defaultKitDir).toBe(path.resolve(REPO_ROOT, '..', 'shared', 'pdk', 'gf180mcu'));
  });

  it('merges a sizes entry into the sizing section, the other fields and vddV as shipped', () => {
    const shipped = JSON.parse(readFileSync(C180, 'utf8'));
    const c = JSON.parse(
      processJsonAt(readFileSync(C180, 'utf8'), path.dirname(C180), { sizing: { mirrorLengthUm: 4 } }),
    );
    // models/c180/process.json sizing: unitWidthUm 2, mirrorLengthUm 8, switchWidthUm 0.22, switchLengthUm 16.
    expect(c.sizing).toEqual({ unitWidthUm: 2, mirrorLengthUm: 4, switchWidthUm: 0.22, switchLengthUm: 16 });
    expect({ ...c, sizing: shipped.sizing }).toEqual(shipped);
  });

  it('copies the files beside process.json but the tables, and keeps a copy (and its tables) that is already there', async () => {
    const dir = path.join(tmp, 'copy');
    const file = await writeProcessCopy(C180, { vddV: 0.75 }, dir);
    expect(existsSync(path.join(dir, 'c180.lib'))).toBe(true);
    expect(existsSync(path.join(dir, 'calibration.json'))).toBe(false);
    await writeFile(path.join(dir, 'calibration.json'), '{}');
    expect(await writeProcessCopy(C180, { vddV: 0.75 }, dir)).toBe(file);
    expect(existsSync(path.join(dir, 'calibration.json'))).toBe(true);
    // Another supply in the same folder: the tables go with the old process.json.
    await writeProcessCopy(C180, { vddV: 0.8 }, dir);
    expect(existsSync(path.join(dir, 'calibration.json'))).toBe(false);
    expect(JSON.parse(readFileSync(file, 'utf8')).vddV).toBe(0.8);
  });

  it('measures the tables once at that supply and reuses them after (measure handed in: no ngspice here)', async () => {
    const shipped = JSON.parse(readFileSync(path.join(path.dirname(C180), 'calibration.json'), 'utf8')) as Calibration;
    const measured: number[] = [];
    const measure = async (p: { vddV: number }) => {
      measured.push(p.vddV);
      return { ...shipped, vddV: p.vddV, method: 'method' };
    };
    const dir = path.join(tmp, 'cal');
    expect((await calibratedCopy(C180, { vddV: 0.6 }, dir, measure, 'method')).measured).toBe(true);
    expect((await calibratedCopy(C180, { vddV: 0.6 }, dir, measure, 'method')).measured).toBe(false);
    expect(measured).toEqual([0.6]);
    expect(JSON.parse(readFileSync(path.join(dir, 'calibration.json'), 'utf8')).vddV).toBe(0.6);
  });
});

/** A batch record with only what sweepPoints reads. */
function okRecord(supplyMeanA: Record<string, number>, agreement: Record<string, number>): ResultRecord {
  const references = Object.fromEntries(
    Object.entries(agreement).map(([n, a]) => [n, { stateAgreement: a, decisionMatch: a > 0.9 }]),
  );
  return {
    status: 'ok',
    cosim: {
      transistors: 612,
      ngspiceS: 20,
      reference: 'hwaware',
      comparison: { stateAgreement: agreement.hwaware },
      references,
      supplyMeanA,
    },
  } as unknown as ResultRecord;
}

describe('sweepPoints', () => {
  it('prices each point at its own VDD, marks the Pareto front on the verdict reference, and keeps failures as rows', () => {
    const nA = 1e-9;
    const points = sweepPoints([
      {
        vddV: 0.6,
        unitCurrentA: 250e-12,
        record: okRecord({ cell: 1 * nA, ff: 10 * nA, bias: 4 * nA, in: 5 * nA }, { trained: 0.96, hwaware: 0.98 }),
      },
      {
        vddV: 0.9,
        unitCurrentA: 250e-12,
        record: okRecord({ cell: 1 * nA, ff: 10 * nA, bias: 4 * nA, in: 5 * nA }, { trained: 0.97, hwaware: 0.99 }),
      },
      // Dearer and no better on hwaware (better on trained, which the front does not weigh).
      {
        vddV: 1.8,
        unitCurrentA: 250e-12,
        record: okRecord({ cell: 1 * nA, ff: 10 * nA, bias: 4 * nA, in: 5 * nA }, { trained: 0.99, hwaware: 0.99 }),
      },
      {
        vddV: 0.9,
        unitCurrentA: 20e-12,
        record: {
          status: 'failed',
          failure: {
            class: 'bad-input',
            kind: 'bad-input',
            message: 'I_unit = 20 pA is below the range',
            retryable: false,
          },
        } as unknown as ResultRecord,
      },
      { vddV: 0.5, unitCurrentA: 250e-12, error: 'calibration at 0.5 V failed: no switching' },
      { vddV: 0.75, unitCurrentA: 250e-12 },
    ]);
    expect(points[0].coreW).toBeCloseTo(15 * nA * 0.6, 20);
    expect(points[0].powerW!.in).toBeCloseTo(5 * nA * 0.6, 20);
    expect(points[1].coreW).toBeCloseTo(15 * nA * 0.9, 20);
    expect(points.map((p) => p.pareto)).toEqual([true, true, false, false, false, false]);
    expect(points[0].stateAgreement).toBe(0.98);
    expect(points[2].references.trained!.stateAgreement).toBe(0.99);
    expect(points.map((p) => p.status)).toEqual(['ok', 'ok', 'ok', 'failed', 'failed', 'failed']);
    expect(points[3].reason).toBe('bad-input: I_unit = 20 pA is below the range');
    expect(points[4].reason).toBe('calibration at 0.5 V failed: no switching');
    expect(points[5].reason).toMatch(/not run/);
    expect(points[3].coreW).toBeNull();
  });
});

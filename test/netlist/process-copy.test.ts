import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calibratedCopy, storedCopy } from '../../src/netlist/process-copy.js';
import type { Calibration } from '../../src/netlist/calibration.js';
import type { Process } from '../../src/netlist/process.js';
import { REPO_ROOT } from '../helpers.js';

const C180 = path.join(REPO_ROOT, 'models', 'c180', 'process.json');
/** c180's own tables stand in for a measurement (a copy at other mirror lengths keeps c180's VDD, so they load). */
const TABLES = JSON.parse(
  readFileSync(path.join(REPO_ROOT, 'models', 'c180', 'calibration.json'), 'utf8'),
) as Calibration;
/** Two method fingerprints, as calibrate/method.ts would write them (any strings: the copy only compares them). */
const METHOD = 'a'.repeat(64);
const OLD_METHOD = 'b'.repeat(64);
const CHANGES = { sizing: { mirrorLengthUm: 4 } };

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'bmru-copy-'));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

/** A fake measurement that counts its calls and returns the stand-in tables with `method`. */
function fakeMeasure(method: string | undefined = METHOD) {
  const calls: number[] = [];
  const measure = async (p: Process): Promise<Calibration> => {
    calls.push(p.sizing.mirrorLengthUm);
    return { ...TABLES, method };
  };
  return { calls, measure };
}

/** Rewrites the copy's stored tables with `method` (undefined: no fingerprint, as files before it). */
async function plantTables(dir: string, method: string | undefined): Promise<void> {
  await writeFile(path.join(dir, 'calibration.json'), JSON.stringify({ ...TABLES, method }, null, 1) + '\n');
}

const storedMethod = (dir: string) =>
  (JSON.parse(readFileSync(path.join(dir, 'calibration.json'), 'utf8')) as Calibration).method;

describe('calibrated process copies and the calibration method', () => {
  it('measures a new copy without a reason, then reuses tables of the same method', async () => {
    const dir = path.join(tmp, 'fresh');
    const { calls, measure } = fakeMeasure();
    expect(await calibratedCopy(C180, CHANGES, dir, measure, METHOD)).toEqual({
      file: path.join(dir, 'process.json'),
      measured: true,
      why: undefined,
    });
    expect(storedMethod(dir)).toBe(METHOD);
    expect((await calibratedCopy(C180, CHANGES, dir, measure, METHOD)).measured).toBe(false);
    expect(calls).toEqual([4]);
  });

  it('measures again tables without a fingerprint, saying why, and then reuses the new ones', async () => {
    const dir = path.join(tmp, 'unmarked');
    const { calls, measure } = fakeMeasure();
    await calibratedCopy(C180, CHANGES, dir, measure, METHOD);
    await plantTables(dir, undefined);
    const again = await calibratedCopy(C180, CHANGES, dir, measure, METHOD);
    expect(again.measured).toBe(true);
    expect(again.why).toBe(
      "its tables were measured by another calibration method (the tables carry no method fingerprint; this toolkit's is aaaaaaaaaaaa)",
    );
    expect(storedMethod(dir)).toBe(METHOD);
    expect((await calibratedCopy(C180, CHANGES, dir, measure, METHOD)).measured).toBe(false);
    expect(calls).toEqual([4, 4]);
  });

  it('measures again tables of another method, naming both fingerprints', async () => {
    const dir = path.join(tmp, 'other');
    const { calls, measure } = fakeMeasure();
    await calibratedCopy(C180, CHANGES, dir, measure, METHOD);
    await plantTables(dir, OLD_METHOD);
    const again = await calibratedCopy(C180, CHANGES, dir, measure, METHOD);
    expect(again).toMatchObject({
      measured: true,
      why: "its tables were measured by another calibration method (fingerprint bbbbbbbbbbbb, this toolkit's aaaaaaaaaaaa)",
    });
    expect(storedMethod(dir)).toBe(METHOD);
    expect(calls).toEqual([4, 4]);
  });

  it('refuses a measurement that returns tables of another method, keeping what was stored', async () => {
    const dir = path.join(tmp, 'mismatch');
    const { measure } = fakeMeasure(OLD_METHOD);
    await expect(calibratedCopy(C180, CHANGES, dir, measure, METHOD)).rejects.toThrow(
      /^internal: the measurement of .*process\.json returned tables measured by another calibration method \(fingerprint bbbbbbbbbbbb, this toolkit's aaaaaaaaaaaa\)/,
    );
    expect(existsSync(path.join(dir, 'calibration.json'))).toBe(false);
  });

  it('storedCopy reports tables without a fingerprint or of another method as missing, with why; current ones as the copy', async () => {
    const dir = path.join(tmp, 'stored');
    const { measure } = fakeMeasure();
    const { file } = await calibratedCopy(C180, CHANGES, dir, measure, METHOD);
    expect(await storedCopy(C180, CHANGES, dir, METHOD)).toEqual({ file });
    await plantTables(dir, undefined);
    expect(await storedCopy(C180, CHANGES, dir, METHOD)).toEqual({
      missing:
        "its tables were measured by another calibration method (the tables carry no method fingerprint; this toolkit's is aaaaaaaaaaaa)",
    });
    await plantTables(dir, OLD_METHOD);
    expect(await storedCopy(C180, CHANGES, dir, METHOD)).toEqual({
      missing:
        "its tables were measured by another calibration method (fingerprint bbbbbbbbbbbb, this toolkit's aaaaaaaaaaaa)",
    });
    // Read only: the stale tables are still there for calibratedCopy to replace.
    expect(storedMethod(dir)).toBe(OLD_METHOD);
  });
});

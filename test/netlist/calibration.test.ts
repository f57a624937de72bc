import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { loadCalibration } from '../../src/netlist/calibration.js';
import { REPO_ROOT } from '../helpers.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'bmru-cal-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A copy of the shipped c180 calibration with its recorded supply replaced (undefined: the key removed). */
function calibrationAt(vddV: number | undefined): string {
  const dir = mkdtempSync(path.join(tmp, 'p-'));
  const c = JSON.parse(readFileSync(path.join(REPO_ROOT, 'models', 'c180', 'calibration.json'), 'utf8'));
  if (vddV === undefined) delete c.vddV;
  else c.vddV = vddV;
  writeFileSync(path.join(dir, 'calibration.json'), JSON.stringify(c));
  cpSync(path.join(REPO_ROOT, 'models', 'c180', 'process.json'), path.join(dir, 'process.json'));
  return dir;
}

describe('calibration supply', () => {
  it('refuses tables measured at another VDD, naming the file, the field and both supplies', async () => {
    const dir = calibrationAt(1.8);
    const err = await loadCalibration(dir, { vddV: 0.9 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toMatch(/VDD = 1\.8 V.*vddV = 0\.9 V.*bmru calibrate/);
    expect(err).toMatchObject({ file: path.join(dir, 'calibration.json'), field: 'vddV' });
  });

  it('accepts tables measured at the process supply, and older files that do not record it', async () => {
    expect((await loadCalibration(calibrationAt(0.9), { vddV: 0.9 }))?.vddV).toBe(0.9);
    expect((await loadCalibration(calibrationAt(undefined), { vddV: 0.9 }))?.cell).toBeDefined();
  });

  it('records the supply in the shipped tables, equal to each shipped process', async () => {
    for (const name of ['c180', 'gf180mcu']) {
      const dir = path.join(REPO_ROOT, 'models', name);
      const process = JSON.parse(readFileSync(path.join(dir, 'process.json'), 'utf8'));
      const calibration = await loadCalibration(dir, process);
      expect(calibration?.vddV, name).toBe(process.vddV);
    }
  });
});

import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { loadCalibration } from '../../src/netlist/calibration.js';
import { REPO_ROOT } from '../helpers.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'bmru-cal-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A folder with a copy of the shipped c180 process and calibration, the calibration changed by `edit` (parsed JSON: any). */
function calibrationWith(edit: (c: any) => void): string {
  const dir = mkdtempSync(path.join(tmp, 'p-'));
  const c = JSON.parse(readFileSync(path.join(REPO_ROOT, 'models', 'c180', 'calibration.json'), 'utf8'));
  edit(c);
  writeFileSync(path.join(dir, 'calibration.json'), JSON.stringify(c));
  cpSync(path.join(REPO_ROOT, 'models', 'c180', 'process.json'), path.join(dir, 'process.json'));
  return dir;
}

/** The c180 calibration with its recorded supply replaced (undefined: the key removed). */
function calibrationAt(vddV: number | undefined): string {
  return calibrationWith((c) => {
    if (vddV === undefined) delete c.vddV;
    else c.vddV = vddV;
  });
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

describe('cell fold table', () => {
  const fieldOf = async (dir: string) => {
    const err = await loadCalibration(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    return (err as InputError).message;
  };

  it('refuses an ON branch that ends above beta_lo (a fold of 1.02 of it), naming the entry', async () => {
    const msg = await fieldOf(calibrationWith((c) => (c.hardware.cellFold.lo[2][3] = 1.02)));
    expect(msg).toMatch(/hardware\.cellFold\.lo\.2\.3/);
    expect(msg).toMatch(/<=\s*1/);
  });

  it('refuses an OFF branch that ends below beta_hi, and an ON branch end of 0', async () => {
    expect(await fieldOf(calibrationWith((c) => (c.hardware.cellFold.hi[0][0] = 0.99)))).toMatch(
      /hardware\.cellFold\.hi\.0\.0/,
    );
    expect(await fieldOf(calibrationWith((c) => (c.hardware.cellFold.lo[0][0] = 0)))).toMatch(
      /hardware\.cellFold\.lo\.0\.0/,
    );
  });

  it('refuses a table whose rows or columns do not match its thresh and fractions', async () => {
    expect(await fieldOf(calibrationWith((c) => c.hardware.cellFold.lo.pop()))).toMatch(
      /hardware\.cellFold\.lo.*expected 7 rows \(one per thresh\), got 6/,
    );
    expect(await fieldOf(calibrationWith((c) => c.hardware.cellFold.hi[4].pop()))).toMatch(
      /hardware\.cellFold\.hi\.4.*expected 11 columns \(one per fraction\), got 10/,
    );
  });

  it('accepts the branch ends at exactly 1 (the shipped tables have both)', async () => {
    const cal = await loadCalibration(calibrationWith(() => undefined));
    expect(cal?.hardware?.cellFold?.lo.flat()).toContain(1);
    expect(cal?.hardware?.cellFold?.hi.flat()).toContain(1);
  });
});

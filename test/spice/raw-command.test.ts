/**
 * `bmru raw` (the built binary) on rawfiles LTspice, QSPICE and Xyce wrote (test/fixtures/raw-other): the summary
 * of a complex AC plot by magnitude and phase against the analytic RC, the CSV at full resolution, and the
 * one-line errors for a plot that is not there and for QSPICE binary data.
 */
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers.js';
import { cliFixture, EXIT_ERROR, type CliFixture } from '../cli/fixture.js';

const DIR = path.join(REPO_ROOT, 'test', 'fixtures', 'raw-other');
/** R1 100 Ohm, C1 10 uF: the RC low-pass of the AC files (README there). */
const RC_S = 1e-3;
const F_LAST_HZ = 1e5;

let f: CliFixture;
beforeAll(async () => {
  f = await cliFixture();
  for (const name of ['ac_ltspice.ascii.raw', 'dc_qspice.ascii.qraw', 'sens_xyce.ascii.raw'])
    await copyFile(path.join(DIR, name), path.join(f.dir, name));
});
afterAll(() => f.cleanUp());

describe('bmru raw', () => {
  it('LTspice AC: writer named, |V(out)| and its phase at 100 kHz as the RC gives them, re/im CSV columns', async () => {
    const r = await f.run(['raw', 'ac_ltspice.ascii.raw', '--json', 'ac.json', '--csv', 'ac.csv']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/written by LTspice \(Command: Linear Technology Corporation LTspice\); utf-8, ascii/);
    const s = JSON.parse(await readFile(path.join(f.dir, 'ac.json'), 'utf8'));
    expect(s).toMatchObject({ writer: 'LTspice', encoding: 'utf-8', layout: 'ascii', warnings: [] });
    const out = s.plots[0].vectors.find((v: { name: string }) => v.name === 'V(out)');
    const wrc = 2 * Math.PI * F_LAST_HZ * RC_S;
    expect(out.last).toBeCloseTo(1 / Math.hypot(1, wrc), 9);
    expect(out.lastPhaseDeg).toBeCloseTo((-Math.atan(wrc) * 180) / Math.PI, 6);
    const csv = (await readFile(path.join(f.dir, 'ac.csv'), 'utf8')).trim().split('\n');
    expect(csv[0]).toBe(
      're(frequency),im(frequency),re(V(out)),im(V(out)),re(V(in)),im(V(in)),re(I(Vin)),im(I(Vin)),re(I(C1)),im(I(C1)),re(I(R1)),im(I(R1))',
    );
    expect(csv).toHaveLength(1 + 51);
    // The file's own text for the last point, 16 digits: the CSV keeps them all.
    expect(csv[51].split(',').slice(2, 4).map(Number)).toEqual([2.533023174835789e-6, -1.591545399487361e-3]);
  });

  it('the same file in UTF-16LE (as LTspice writes it) gives the same summary, encoding reported', async () => {
    const text = await readFile(path.join(DIR, 'ac_ltspice.ascii.raw'), 'utf8');
    await writeFile(path.join(f.dir, 'ac16.raw'), Buffer.from(text, 'utf16le'));
    const r = await f.run(['raw', 'ac16.raw', '--json', 'ac16.json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const a = JSON.parse(await readFile(path.join(f.dir, 'ac.json'), 'utf8'));
    const b = JSON.parse(await readFile(path.join(f.dir, 'ac16.json'), 'utf8'));
    expect(b.encoding).toBe('utf-16le');
    expect(b.plots).toEqual(a.plots);
  });

  it('Xyce with a .SENS table: the warning is printed, the transient is summarised', async () => {
    const r = await f.run(['raw', 'sens_xyce.ascii.raw']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/written by Xyce/);
    expect(r.stdout).toMatch(/warning: 4 lines after the last point of "Transient Analysis"/);
    expect(r.stdout).toMatch(/Transient Analysis: 11 points, 4 vectors/);
  });

  it('--plot that matches nothing: exit 2, the plots the file holds listed', async () => {
    const r = await f.run(['raw', 'dc_qspice.ascii.qraw', '--plot', 'Transient']);
    expect(r.exitCode).toBe(EXIT_ERROR);
    expect(r.stderr).toMatch(/no plot named like "Transient"; the file holds: DC Transfer Characteristic/);
  });

  it('QSPICE binary data: exit 2, the file, the writer and what is unsupported named', async () => {
    const text = await readFile(path.join(DIR, 'dc_qspice.ascii.qraw'), 'utf8');
    const head = text.slice(0, text.indexOf('Values:')) + 'Binary:\n';
    await writeFile(path.join(f.dir, 'dc.qraw'), Buffer.concat([Buffer.from(head), Buffer.alloc(6 * 5 * 8)]));
    const r = await f.run(['raw', 'dc.qraw']);
    expect(r.exitCode).toBe(EXIT_ERROR);
    expect(r.stderr).toMatch(
      /dc\.qraw: written by QSPICE \(Command: QSPICE64, [^)]*\): binary \.qraw data is not supported/,
    );
  });
});

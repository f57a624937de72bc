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
    expect(r.stderr).toMatch(/no plot "Transient"; the file holds: 1 DC Transfer Characteristic \(dc\)/);
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

/**
 * `--plot` on a file ngspice 39 wrote with three plots (test/fixtures/raw/multi.cir: .op, .dc V1 0 1 0.25,
 * .tran 100u 2m; the README there lists them in file order: DC transfer characteristic 5 points, Operating Point 1,
 * Transient Analysis 78). The point counts tell which plot was chosen.
 */
describe('bmru raw --plot on an ngspice file with several plots', () => {
  const NGSPICE_DIR = path.join(REPO_ROOT, 'test', 'fixtures', 'raw');
  const POINTS = { dc: 5, op: 1, tran: 78 };
  beforeAll(async () => {
    for (const name of ['multi.ascii.raw', 'multi.bin.raw'])
      await copyFile(path.join(NGSPICE_DIR, name), path.join(f.dir, name));
  });
  const chosen = async (file: string, plot: string) => {
    const json = `${file}.${plot.replace(/\W/g, '_')}.json`;
    const r = await f.run(['raw', file, '--plot', plot, '--json', json]);
    expect(r.exitCode, r.stderr).toBe(0);
    const s = JSON.parse(await readFile(path.join(f.dir, json), 'utf8'));
    return s.plots.map((p: { plotname: string; points: number }) => [p.plotname, p.points]);
  };

  it.each(['multi.ascii.raw', 'multi.bin.raw'])(
    '%s: by short form, whole name in any case, and number',
    async (file) => {
      expect(await chosen(file, 'dc')).toEqual([['DC transfer characteristic', POINTS.dc]]);
      expect(await chosen(file, 'OP')).toEqual([['Operating Point', POINTS.op]]);
      expect(await chosen(file, 'tran')).toEqual([['Transient Analysis', POINTS.tran]]);
      expect(await chosen(file, 'transient ANALYSIS')).toEqual([['Transient Analysis', POINTS.tran]]);
      expect(await chosen(file, '2')).toEqual([['Operating Point', POINTS.op]]);
    },
  );

  it('"AC" no longer picks "DC transfer characteristic" (its letters are in "charACteristic"): exit 2, plots listed', async () => {
    const r = await f.run(['raw', 'multi.ascii.raw', '--plot', 'AC']);
    expect(r.exitCode).toBe(EXIT_ERROR);
    expect(r.stderr).toContain(
      'no plot "AC"; the file holds: 1 DC transfer characteristic (dc), 2 Operating Point (op), 3 Transient Analysis (tran)',
    );
    expect(r.stdout).not.toContain('DC transfer characteristic:');
  });

  it('a part of a name, or a number past the last plot: exit 2, plots listed', async () => {
    for (const [plot, why] of [
      ['Transient', 'no plot "Transient"'],
      ['4', 'no plot number 4'],
      ['0', 'no plot number 0'],
    ]) {
      const r = await f.run(['raw', 'multi.bin.raw', '--plot', plot]);
      expect(r.exitCode, plot).toBe(EXIT_ERROR);
      expect(r.stderr).toContain(`${why}; the file holds: 1 DC transfer characteristic (dc), 2 Operating Point (op)`);
    }
  });

  it('two plots of the same name: exit 2, asked to choose by number', async () => {
    const text = await readFile(path.join(NGSPICE_DIR, 'multi.ascii.raw'), 'latin1');
    await writeFile(
      path.join(f.dir, 'twice.raw'),
      text.replace('Plotname: DC transfer characteristic', 'Plotname: Transient Analysis'),
    );
    const r = await f.run(['raw', 'twice.raw', '--plot', 'tran']);
    expect(r.exitCode).toBe(EXIT_ERROR);
    expect(r.stderr).toContain(
      '2 plots match "tran", choose one by number; the file holds: 1 Transient Analysis (tran)',
    );
    expect(await chosen('twice.raw', '3')).toEqual([['Transient Analysis', POINTS.tran]]);
  });
});

/**
 * `bmru spice` on decks written for this test (real ngspice): `.meas` results and `.print` tables despite
 * ngspice 39's `-r` restriction, complex AC vectors as magnitude and phase, every plot of a multi-analysis deck,
 * relative includes. Expected values are analytic (an RC: tau = 1 ms), not what the code printed before.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { absoluteIncludes, plotRows, uniqueNames } from '../../src/spice/export.js';
import type { RawPlot } from '../../src/spice/rawfile.js';
import { cliFixture, type CliFixture } from '../cli/fixture.js';

const R_OHM = 1e3;
const C_F = 1e-6;
const TAU_S = R_OHM * C_F;
const RC = `V1 in 0 PWL(0 0 1n 1) AC 1\nR1 in out ${R_OHM}\nC1 out 0 ${C_F}`;

let f: CliFixture;
beforeAll(async () => {
  f = await cliFixture();
});
afterAll(() => f.cleanUp());

interface Summary {
  plots: {
    plotname: string;
    points: number;
    complex: boolean;
    vectors: { name: string; last: number; max: number; lastPhaseDeg?: number }[];
  }[];
  measurements: { name: string; value: number | null; extra: Record<string, number>; error?: string }[];
  printFile: string | null;
}
const summary = async (file: string): Promise<Summary> => JSON.parse(await readFile(path.join(f.dir, file), 'utf8'));

describe('bmru spice (real ngspice)', () => {
  it('measures .meas lines and keeps .print tables that ngspice 39 drops when it writes a rawfile', async () => {
    await f.write(
      'meas.cir',
      `* rc\n${RC}\n.tran 10u 5m\n.meas tran tcross WHEN v(out)=0.5 CROSS=1\n.meas tran vmax MAX v(out)\n.meas tran tnever WHEN v(out)=2 CROSS=1\n.print tran v(out)\n.end\n`,
    );
    const r = await f.run(['spice', 'meas.cir', '--json', 'meas.json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const s = await summary('meas.json');
    const m = Object.fromEntries(s.measurements.map((x) => [x.name, x]));
    expect(m.tcross.value! / (TAU_S * Math.LN2)).toBeCloseTo(1, 2); // 0.5 = 1 - exp(-t / tau)
    expect(m.vmax.value).toBeCloseTo(1 - Math.exp(-5), 3);
    expect(m.vmax.extra.at).toBeCloseTo(5e-3, 9);
    expect(m.tnever).toMatchObject({ value: null, error: 'out of interval' });
    const printed = await readFile(path.join(f.dir, s.printFile!), 'utf8');
    expect(printed).toMatch(/^Index\s+time\s+v\(out\)/m);
    expect(printed.split('\n').filter((l) => /^\d+\t/.test(l)).length).toBeGreaterThan(100);
  });

  it('summarises complex AC vectors by magnitude and phase, and writes them as re/im columns', async () => {
    await f.write('ac.cir', `* rc ac\n${RC}\n.ac dec 10 10 10meg\n.end\n`);
    const r = await f.run(['spice', 'ac.cir', '--json', 'ac.json', '--csv', 'ac.csv']);
    expect(r.exitCode, r.stderr).toBe(0);
    const out = (await summary('ac.json')).plots[0].vectors.find((v) => v.name === 'v(out)')!;
    const wrc = 2 * Math.PI * 10e6 * TAU_S;
    expect(out.last / (1 / Math.hypot(1, wrc))).toBeCloseTo(1, 3);
    expect(out.lastPhaseDeg!).toBeCloseTo((-Math.atan(wrc) * 180) / Math.PI, 2);
    const header = (await readFile(path.join(f.dir, 'ac.csv'), 'utf8')).split('\n')[0];
    expect(header.split(',')).toEqual(expect.arrayContaining(['re(frequency)', 're(v(out))', 'im(v(out))']));
  });

  it('lists every plot of a multi-analysis deck, exports each by name, and one with --plot', async () => {
    await f.write(
      'multi.cir',
      `* rc four analyses\n${RC}\n.op\n.dc V1 0 1 0.5\n.ac dec 5 10 1meg\n.tran 10u 2m\n.end\n`,
    );
    const r = await f.run(['spice', 'multi.cir', '--csv', 'multi.csv']);
    expect(r.exitCode, r.stderr).toBe(0);
    const names = ['Operating Point', 'DC transfer characteristic', 'AC Analysis', 'Transient Analysis'];
    for (const name of names) expect(r.stdout).toContain(name);
    for (const part of ['operating-point', 'dc-transfer-characteristic', 'ac-analysis', 'transient-analysis']) {
      expect((await readFile(path.join(f.dir, `multi.${part}.csv`), 'utf8')).length).toBeGreaterThan(10);
    }
    // "ac" is in "DC transfer charACteristic" too: only the AC plot may come out.
    const only = await f.run(['spice', 'multi.cir', '--plot', 'ac', '--csv', 'only.csv']);
    expect(only.exitCode, only.stderr).toBe(0);
    for (const other of ['Transient Analysis', 'DC transfer characteristic', 'Operating Point'])
      expect(only.stdout).not.toContain(other);
    expect((await readFile(path.join(f.dir, 'only.csv'), 'utf8')).split('\n')[0]).toContain('im(v(out))');
    const dc = await f.run(['spice', 'multi.cir', '--plot', 'DC Transfer Characteristic', '--json', 'dc.json']);
    expect(dc.exitCode, dc.stderr).toBe(0);
    // .dc V1 0 1 0.5: three points; no load on out, so v(out) follows V1 to 1 V.
    const dcPlots = (await summary('dc.json')).plots;
    expect(dcPlots.map((p) => [p.plotname, p.points])).toEqual([['DC transfer characteristic', 3]]);
    expect(dcPlots[0].vectors.find((v) => v.name === 'v(out)')!.last).toBeCloseTo(1, 9);
    const none = await f.run(['spice', 'multi.cir', '--plot', 'noise']);
    expect(none.exitCode).toBe(2);
    expect(none.stderr).toMatch(/no plot "noise"; the run wrote: 1 .*\(op\).*, 4 Transient Analysis \(tran\)/);
  });

  it("finds an include relative to the deck's own folder although the deck runs from a work folder", async () => {
    await mkdir(path.join(f.dir, 'lib', 'parts'), { recursive: true });
    await writeFile(path.join(f.dir, 'lib', 'parts', 'load.inc'), `R2 out 0 ${R_OHM}\n`);
    await writeFile(
      path.join(f.dir, 'lib', 'top.cir'),
      `* divider\nV1 in 0 1\nR1 in out ${R_OHM}\n.include parts/load.inc\n.op\n.end\n`,
    );
    const r = await f.run(['spice', 'lib/top.cir', '--json', 'top.json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const v = (await summary('top.json')).plots[0].vectors.find((x) => x.name === 'v(out)')!;
    expect(v.last).toBeCloseTo(0.5, 9); // the included R2 is there: a divider
  });
});

describe('plot export helpers', () => {
  it('makes repeated vector names unique in order', () => {
    expect(uniqueNames(['time', 'i(p1)', 'i(p1)', 'v(a)', 'i(p1)'])).toEqual([
      'time',
      'i(p1)',
      'i(p1)#2',
      'v(a)',
      'i(p1)#3',
    ]);
  });

  it('writes complex plots as re/im column pairs at full resolution', () => {
    const plot = {
      title: '',
      date: '',
      plotname: 'AC Analysis',
      complex: true,
      numPoints: 1,
      vectors: [
        { index: 0, name: 'frequency', type: 'frequency' },
        { index: 1, name: 'v(out)', type: 'voltage' },
      ],
      real: [Float64Array.of(1e7), Float64Array.of(1 / 3)],
      imag: [Float64Array.of(0), Float64Array.of(-0.25)],
    } as unknown as RawPlot;
    expect(plotRows(plot)).toEqual([
      ['re(frequency)', 'im(frequency)', 're(v(out))', 'im(v(out))'],
      [1e7, 0, 1 / 3, -0.25],
    ]);
  });

  it('makes relative .include/.lib paths absolute against the deck folder and leaves absolute ones', () => {
    const deck = '* t\n.include parts/a.inc\n.lib "models/x.lib" tt\n.INC /abs/b.inc\n';
    expect(absoluteIncludes(deck, '/home/u/d')).toBe(
      '* t\n.include /home/u/d/parts/a.inc\n.lib "/home/u/d/models/x.lib" tt\n.INC /abs/b.inc\n',
    );
  });
});

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseString } from 'fast-csv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliFixture, exampleClip, EXIT_ERROR, type CliFixture } from './fixture.js';

// The real binary and ngspice (fixture.ts) on 3 frames of the example at the shipped VDD: no calibration to run.
let cli: CliFixture;
beforeAll(async () => {
  cli = await cliFixture();
});
afterAll(() => cli.cleanUp());

/** sweep.csv as objects keyed by its header. */
/** The sweep's CSV read as CSV (a reason with a comma is a quoted field). */
async function sweepCsv(dir: string): Promise<Record<string, string>[]> {
  const text = await readFile(path.join(cli.dir, dir, 'sweep.csv'), 'utf8');
  return new Promise((resolve, reject) => {
    const rows: Record<string, string>[] = [];
    parseString<Record<string, string>, Record<string, string>>(text, { headers: true })
      .on('data', (r) => rows.push(r))
      .on('error', reject)
      .on('end', () => resolve(rows));
  });
}

describe('bmru analyze power --sweep', () => {
  const args = (clip: string) => [
    'analyze',
    'power',
    '--sweep',
    '-i',
    clip,
    '--vdd',
    '0.9',
    '--unit-currents',
    '20p,500p,1n',
    '-j',
    '2',
    '-o',
    'sw',
  ];

  it('prices each I_unit in core power (twice the current, twice the power), marks the Pareto points, keeps an unbuildable point as a row, and resumes without ngspice', async () => {
    const clip = await cli.write('clip3.csv', exampleClip(3));
    const r = await cli.run(args(clip));
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/3 points, 2 workers/);
    const rows = await sweepCsv('sw');
    expect(rows.map((x) => [x.vdd_v, x.unit_current_a, x.status])).toEqual([
      ['0.9', '2e-11', 'failed'],
      ['0.9', '5e-10', 'ok'],
      ['0.9', '1e-9', 'ok'],
    ]);
    expect(rows[0].reason).toMatch(/^bad-input: .*I_unit = 20 pA is below the range 50 pA/);
    const [half, full] = [Number(rows[1].core_w), Number(rows[2].core_w)];
    expect(half).toBeGreaterThan(20e-9); // the example draws ~90 nW at 500 pA, 0.9 V
    expect(full / half).toBeGreaterThan(1.8);
    expect(full / half).toBeLessThan(2.2);
    // core = cell + ff + bias, each domain's mean current x 0.9 V
    expect(Number(rows[1].cell_w) + Number(rows[1].ff_w) + Number(rows[1].bias_w)).toBeCloseTo(half, 15);
    for (const x of rows.slice(1)) {
      expect(x.reference).toBe('hwaware');
      for (const n of ['trained', 'realised', 'hwaware']) {
        expect(Number(x[`state_${n}`])).toBeGreaterThan(0.9);
        expect(Number(x[`state_${n}`])).toBeLessThanOrEqual(1);
      }
    }
    // The cheaper point is on the front unless the dearer one agrees better.
    expect(rows[1].pareto).toBe('true');
    expect(rows[2].pareto).toBe(Number(rows[2].state_agreement) > Number(rows[1].state_agreement) ? 'true' : 'false');
    expect(r.stdout).toMatch(/^\* +0\.9 V +500 pA +[\d.]+ nW/m);
    expect(r.stdout).toMatch(/^ +0\.9 V +20 pA +- .* failed: bad-input/m);
    const json = JSON.parse(await readFile(path.join(cli.dir, 'sw', 'sweep.json'), 'utf8'));
    expect(json.pareto[0]).toMatchObject({ vddV: 0.9, unitCurrentA: 5e-10 });
    const html = await readFile(path.join(cli.dir, 'sw', 'pareto.html'), 'utf8');
    expect(html).toContain('id="bmru-spec"');
    expect(html).toContain('0.9 V, 500 pA');

    // Again, with no ngspice to be found: every point comes from the stored results.
    const again = await cli.run(args(clip), { BMRU_NGSPICE: '/nonexistent/ngspice' });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/: 2 of 3 points simulated, 3 results taken from an earlier run;/);
    expect(await sweepCsv('sw')).toEqual(rows);
  });

  it('refuses a bad list before anything runs', async () => {
    const r = await cli.run(['analyze', 'power', '--sweep', '--vdd', '0.9,zero']);
    expect(r.exitCode).toBe(EXIT_ERROR);
    expect(r.stderr).toMatch(/--vdd must be a comma-separated list of values in V > 0 .* got "zero"/);
  });
});

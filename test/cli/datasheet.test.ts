/**
 * `bmru batch report --datasheet` end to end: a two-condition VDD sweep of the one-cell tiny model through real
 * ngspice, then the datasheet from the output folder and from a plan with a stricter limit.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TINY_CLIP, cliFixture, tinyModel, type CliFixture } from './fixture.js';

let fx: CliFixture;
beforeAll(async () => {
  fx = await cliFixture();
});
afterAll(() => fx.cleanUp());

/** Core domains (netlist/supplies.ts CORE_DOMAINS), written out: the test sums them itself. */
const CORE = ['cell', 'ff', 'bias'];

const plan = (specs: string) =>
  [
    'name: sheet',
    'process: c180',
    'models: [tiny.json]',
    'inputs: [tiny.csv]',
    'vdd: [0.8, 0.9]',
    'out: out-sheet',
    'timeoutS: 120',
    'specs:',
    specs,
    '',
  ].join('\n');

describe('bmru batch report --datasheet', () => {
  it('sweeps two supplies through ngspice and judges the limits: exit 0 when they hold, 1 when one fails', async () => {
    await fx.write('tiny.json', tinyModel(0.2));
    await fx.write('tiny.csv', TINY_CLIP);
    const specs = '  stateAgreementRealised: { min: 0.99 }\n  corePowerW: { max: 1e-3 }';
    await fx.write('sheet.yaml', plan(specs));
    const run = await fx.run(['batch', 'run', 'sheet.yaml', '-j', '1', '-q']);
    expect(run.exitCode === 0 || run.exitCode === 1, run.stderr).toBe(true);

    const ok = await fx.run(['batch', 'report', 'out-sheet', '--datasheet']);
    expect(ok.exitCode, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toContain('2 of 2 specs with a limit pass');
    const md = await readFile(path.join(fx.dir, 'out-sheet', 'datasheet.md'), 'utf8');
    // The circuit leaves the cell's input out, so it never turns ON: as the realised model (agreement 100%) and
    // unlike the trained one, which is ON in 4 of 6 frames (agreement 2/6, decision 1 against the circuit's 0).
    expect(md).toMatch(/\(`stateAgreementTrained`\) \| 33\.33% \| 33\.33% \| 33\.33% \| - \| no limit \|/);
    expect(md).toMatch(/\(`decisionMatchTrained`\) \| 0\.00% \| 0\.00% \| 0\.00% \| - \| no limit \|/);
    expect(md).toMatch(/\(`stateAgreementRealised`\) \| 100\.00% \| 100\.00% \| 100\.00% \| >= 99\.00% \| pass \|/);
    // The process's own 0.9 V is typical.
    expect(md).toContain('= condition `900 mV`');

    // Core power from the records themselves: mean supply current per core domain times each job's VDD.
    const dir = path.join(fx.dir, 'out-sheet', 'results');
    const records = await Promise.all(
      (await readdir(dir)).map(async (f) => JSON.parse(await readFile(path.join(dir, f), 'utf8'))),
    );
    expect(records).toHaveLength(2);
    const coreW = records
      .map((r) => CORE.reduce((s, d) => s + r.cosim.supplyMeanA[d], 0) * r.job.vddV)
      .sort((a, b) => a - b);
    expect(coreW[0]).toBeGreaterThan(0);
    // Three significant digits with an SI prefix, as a datasheet prints a power.
    const si = (w: number) => {
      const [scale, prefix] = w >= 1e-6 ? [1e-6, 'u'] : w >= 1e-9 ? [1e-9, 'n'] : [1e-12, 'p'];
      return `${Number((w / scale).toPrecision(3))} ${prefix}W`;
    };
    expect(md).toContain(`(\`corePowerW\`) | ${si(coreW[0])} | `);
    expect(md).toContain(` | ${si(coreW[1])} | <= 1 mW | pass |`);

    // The same jobs judged by a plan that asks the trained model's decisions: both conditions miss it.
    await fx.write('strict.yaml', plan(`${specs}\n  decisionMatchTrained: { min: 1 }`));
    const strict = await fx.run(['batch', 'report', 'strict.yaml', '--datasheet']);
    expect(strict.exitCode, strict.stdout + strict.stderr).toBe(1);
    expect(strict.stdout).toContain(
      'decisionMatchTrained: below the minimum 100.00% at 2 of 2 conditions (800 mV: 0.00%; 900 mV: 0.00%)',
    );
    expect(strict.stdout).toContain('2 of 3 specs with a limit pass');
    const html = await readFile(path.join(fx.dir, 'out-sheet', 'datasheet.html'), 'utf8');
    expect(html.match(/<td class="fail">/g)).toHaveLength(1);
  });
});

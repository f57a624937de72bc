/** `bmru fidelity` on the real binary: baseline, a passing check, a regression against a better baseline, errors. */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_CLIP, EXAMPLE_MODEL, EXIT_ERROR, cliFixture, type CliFixture } from './fixture.js';

let fx: CliFixture;
beforeAll(async () => {
  fx = await cliFixture();
});
afterAll(() => fx.cleanUp());

const SUITE = ['name: fid', 'process: c180', `models: [${EXAMPLE_MODEL}]`, `inputs: [{ file: ${EXAMPLE_CLIP}, frames: 3 }]`, 'tolerances: { minStateAgreement: 0.9, requireDecisionMatch: false, minVoteAgreement: 0.5 }', 'out: out-fid', ''].join('\n');

describe('bmru fidelity', () => {
  it('records a baseline, passes against it, and fails (exit 1, JUnit failure) against a better one', async () => {
    const suite = await fx.write('suite.yaml', SUITE);
    const missing = await fx.run(['fidelity', 'check', suite]);
    expect(missing.exitCode).toBe(EXIT_ERROR);
    expect(missing.stderr).toMatch(/suite\.baseline\.json: cannot read the baseline .*bmru fidelity baseline/);

    const base = await fx.run(['fidelity', 'baseline', suite]);
    expect(base.exitCode, base.stderr).toBe(0);
    const file = path.join(fx.dir, 'suite.baseline.json');
    const baseline = JSON.parse(await readFile(file, 'utf8'));
    const [entry] = Object.values(baseline.entries) as { stateAgreement: number }[];

    const pass = await fx.run(['fidelity', 'check', suite]);
    expect(pass.exitCode, pass.stdout + pass.stderr).toBe(0);
    expect(pass.stdout).toMatch(/fidelity fid: PASS/);

    // Today's result made worse in its record (the batch's source of truth): the check must call it a regression.
    const [id] = Object.keys(baseline.entries);
    const recFile = path.join(fx.dir, 'out-fid', 'results', `${id}.json`);
    const rec = JSON.parse(await readFile(recFile, 'utf8'));
    rec.cosim.comparison.stateAgreement = entry.stateAgreement - 0.05;
    await writeFile(recFile, JSON.stringify(rec));
    const reg = await fx.run(['fidelity', 'check', suite]);
    expect(reg.exitCode, reg.stdout + reg.stderr).toBe(1);
    expect(reg.stdout).toMatch(/fidelity fid: REGRESSION/);
    expect(reg.stdout).toMatch(/more than 0\.50 points below the baseline/);
    const junit = await readFile(path.join(fx.dir, 'out-fid', 'fidelity-junit.xml'), 'utf8');
    expect(junit).toMatch(/tests="1" failures="1" errors="0"/);
    const md = await readFile(path.join(fx.dir, 'out-fid', 'fidelity-summary.md'), 'utf8');
    expect(md).toMatch(/^## Fidelity: fid$/m);
  });
});

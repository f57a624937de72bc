import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliFixture, exampleClip, type CliFixture } from './fixture.js';

// The real binary in a temp dir: see fixture.ts (dist/ must be built; npm test does). One end-to-end run
// on a 5-frame clip (about 10 s). The fidelity numbers are not checked: the circuit is still being
// calibrated, so only the report's shape, the files and the exit code's meaning are.
let cli: CliFixture;
beforeAll(async () => {
  cli = await cliFixture();
});
afterAll(() => cli.cleanUp());

describe('bmru compare', () => {
  it('co-simulates a 5-frame clip, prints the agreement and a verdict, and writes report.json', async () => {
    const clip = await cli.write('clip5.csv', exampleClip(5));
    const r = await cli.run(['compare', '-i', clip, '-o', 'cmp', '--timeout', '120']);
    expect([0, 1], r.stderr).toContain(r.exitCode);
    expect(r.stdout).toMatch(/^state agreement +[\d.]+% of 40 unit-frames/m); // 5 frames x 2 blocks x 4 cells
    const verdict = /^verdict: (PASS|FAIL)$/m.exec(r.stdout)?.[1];
    expect(verdict).toBe(r.exitCode === 0 ? 'PASS' : 'FAIL');
    expect(r.stdout).toContain('report: cmp/report.json');
    expect(r.stderr).toMatch(/^ngspice: 5 frames on c180 done \([\d.]+ s\)$/m);
    const report = JSON.parse(await readFile(path.join(cli.dir, 'cmp', 'report.json'), 'utf8'));
    expect(report.verdict.pass).toBe(verdict === 'PASS');
    expect(report).toMatchObject({ process: 'c180', ngspiceVersion: expect.stringMatching(/^39/) });
  });
});

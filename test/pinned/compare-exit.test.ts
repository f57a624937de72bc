/**
 * `bmru compare`'s exit code means what its help says: 0 pass, 1 fidelity below tolerance, 2 error. Real
 * ngspice on a 5-frame clip (about 10 s a run), once with tolerances any run meets and once with one no run
 * that switches a cell can meet (every switching delay above 1 ps; the report shows the delay it measured).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliFixture, exampleClip, expectOneErrorLine, EXIT_ERROR, type CliFixture } from '../cli/fixture.js';

let cli: CliFixture;
let clip: string;
beforeAll(async () => {
  cli = await cliFixture();
  clip = await cli.write('clip5.csv', exampleClip(5));
});
afterAll(() => cli.cleanUp());

interface ReportCheck {
  name: string;
  measured: number | boolean;
  pass: boolean;
}
const verdictOf = async (out: string): Promise<{ pass: boolean; checks: ReportCheck[] }> =>
  JSON.parse(await readFile(path.join(cli.dir, out, 'report.json'), 'utf8')).verdict;

describe('bmru compare exit code', () => {
  it('is 1, with verdict FAIL, when the run is below a tolerance it cannot meet (switching within 1 ps)', async () => {
    const tol = await cli.write(
      'strict.json',
      JSON.stringify({
        minStateAgreement: 0,
        minVoteAgreement: 0,
        requireDecisionMatch: false,
        maxUnexplained: {},
        maxSwitchDelayS: 1e-12,
      }),
    );
    const r = await cli.run(['compare', '-i', clip, '-t', tol, '-o', 'strict', '--timeout', '120']);
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^verdict: FAIL\b/m);
    const verdict = await verdictOf('strict');
    expect(verdict.pass).toBe(false);
    // The one check that can fail here did, on a delay the run measured (the cells switch from their s0 state).
    const delay = verdict.checks.find((c) => c.name === 'max switching delay (s)')!;
    expect(delay.measured as number).toBeGreaterThan(1e-12);
    expect(verdict.checks.filter((c) => !c.pass).map((c) => c.name)).toEqual(['max switching delay (s)']);
  });

  it('is 0, with verdict PASS, under tolerances every run meets', async () => {
    const tol = await cli.write(
      'lax.json',
      JSON.stringify({ minStateAgreement: 0, minVoteAgreement: 0, requireDecisionMatch: false, maxUnexplained: {} }),
    );
    const r = await cli.run(['compare', '-i', clip, '-t', tol, '-o', 'lax', '--timeout', '120']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^verdict: PASS\b/m);
    expect((await verdictOf('lax')).pass).toBe(true);
  });

  it(`is ${EXIT_ERROR} (an error, not a fidelity verdict) for a tolerance file that is not valid, before ngspice runs`, async () => {
    const tol = await cli.write('bad.json', JSON.stringify({ minStateAgreement: 1.01 }));
    const r = await cli.run(['compare', '-i', clip, '-t', tol, '-o', 'bad']);
    expectOneErrorLine(r, 'minStateAgreement');
    expect(r.exitCode).toBe(EXIT_ERROR);
  });
});

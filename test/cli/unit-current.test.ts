/**
 * `--unit-current` on compare and batch run (kws has had it): the checks and the range errors, which name the flag,
 * come before any simulation, so these need no ngspice (compare.test.ts runs one circuit at another I_unit).
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_MODEL, cliFixture, expectOneErrorLine, type CliFixture } from './fixture.js';

let cli: CliFixture;
beforeAll(async () => {
  cli = await cliFixture();
});
afterAll(() => cli.cleanUp());

const OUT_OF_RANGE = "'--unit-current': I_unit = 1 uA is above the range 50 pA .. 2.8 nA";

describe('compare --unit-current', () => {
  it('refuses a current that is not > 0, naming the flag', async () => {
    for (const bad of ['0', '-1e-9', 'abc'])
      expectOneErrorLine(
        await cli.run(['compare', `--unit-current=${bad}`]),
        '--unit-current must be a current in A > 0',
      );
  });

  it("refuses an I_unit outside the process's range, naming the flag rather than the model's field", async () => {
    expectOneErrorLine(
      await cli.run(['compare', '--unit-current', '1e-6', '-o', 'big']),
      OUT_OF_RANGE,
      'use --clamp to build it at the nearest end of the range',
    );
  });
});

describe('batch run --unit-current', () => {
  it('runs every job at that I_unit: out of range, each job fails as bad input naming the flag', async () => {
    const plan = path.join(cli.dir, 'plan.yaml');
    await writeFile(
      plan,
      `name: uc\nprocess: c180\nmodels: [${EXAMPLE_MODEL}]\ninputs: [{ random: { frames: 2, seed: 1 } }]\n`,
    );
    const r = await cli.run(['batch', 'run', plan, '--unit-current', '1e-6', '-o', 'uc', '-q', '--retries', '0']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(2);
    expect(r.stdout).toContain('kws-example random2#1 c180 at 1 uA');
    const [record] = (await readFile(path.join(cli.dir, 'uc', 'results.jsonl'), 'utf8')).trimEnd().split('\n');
    expect(JSON.parse(record).failure).toMatchObject({
      class: 'bad-input',
      message: expect.stringContaining(OUT_OF_RANGE),
    });
    // A plan has no --clamp: the error says what to do instead.
    expect(JSON.parse(record).failure.message).toContain('batch jobs cannot clamp');
    expect(JSON.parse(record).failure.message).not.toContain('use --clamp');
    expectOneErrorLine(await cli.run(['batch', 'run', plan, '--unit-current', '0']), '--unit-current must be');

    // status / report given the plan file find that run's jobs only with the same flag (they have ids of their own).
    const status = (...more: string[]) => cli.run(['batch', 'status', plan, '-o', 'uc', ...more]);
    const withFlag = await status('--unit-current', '1e-6');
    const without = await status();
    expect(withFlag.stdout).toMatch(/^failed +1 \(bad-input 1\)$/m);
    expect(withFlag.stdout).toMatch(/^pending +0$/m);
    expect(withFlag.stdout).toContain('kws-example random2#1 c180 at 1 uA');
    expect(without.stdout).toMatch(/^failed +0$/m);
    expect(without.stdout).toMatch(/^pending +1$/m);
    expect(without.stdout).toContain('1 more results belong to jobs this plan no longer lists (ignored)');
  });
});

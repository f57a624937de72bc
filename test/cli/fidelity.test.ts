/**
 * `bmru fidelity` on the real binary and real ngspice: a baseline recorded and checked; the SHIPPED suite
 * against the SHIPPED baseline (the CI gate: it must compare every case, not pass them as new); edited copies
 * of that baseline that must fail; `--kit`.
 */
import { cp, readdir, readFile, writeFile, appendFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, SHARED_DIR } from '../helpers.js';
import { EXAMPLE_CLIP, EXAMPLE_MODEL, EXIT_ERROR, cliFixture, expectOneErrorLine, type CliFixture } from './fixture.js';

let fx: CliFixture;
beforeAll(async () => {
  fx = await cliFixture();
});
afterAll(() => fx.cleanUp());

const SUITE = [
  'name: fid',
  'process: c180',
  `models: [${EXAMPLE_MODEL}]`,
  `inputs: [{ file: ${EXAMPLE_CLIP}, frames: 3 }]`,
  'tolerances: { minStateAgreement: 0.9, requireDecisionMatch: false, minVoteAgreement: 0.5 }',
  'out: out-fid',
  '',
].join('\n');

describe('bmru fidelity', () => {
  it('records a baseline, passes against it, and fails (exit 1, JUnit failure) when the result gets worse', async () => {
    const suite = await fx.write('suite.yaml', SUITE);
    const missing = await fx.run(['fidelity', 'check', suite]);
    expect(missing.exitCode).toBe(EXIT_ERROR);
    expect(missing.stderr).toMatch(/suite\.baseline\.json: cannot read the baseline .*bmru fidelity baseline/);

    const base = await fx.run(['fidelity', 'baseline', suite]);
    expect(base.exitCode, base.stderr).toBe(0);
    const file = path.join(fx.dir, 'suite.baseline.json');
    const baseline = JSON.parse(await readFile(file, 'utf8'));
    const key = `${EXAMPLE_MODEL}|${EXAMPLE_CLIP}:3|c180|-|-`;
    expect(Object.keys(baseline.entries)).toEqual([key]);
    const entry = baseline.entries[key] as { stateAgreement: number; fingerprint: string };

    const pass = await fx.run(['fidelity', 'check', suite]);
    expect(pass.exitCode, pass.stdout + pass.stderr).toBe(0);
    expect(pass.stdout).toMatch(/fidelity fid: PASS \(1 pass\)/);

    // Today's result made worse in its record (the batch's source of truth): the check must call it a regression.
    // The one job's record (named by its job id, which carries the code digest; the fingerprint does not).
    const results = path.join(fx.dir, 'out-fid', 'results');
    const [recName] = (await readdir(results)).filter((f) => f.endsWith('.json'));
    const recFile = path.join(results, recName);
    const rec = JSON.parse(await readFile(recFile, 'utf8'));
    rec.cosim.comparison.stateAgreement = entry.stateAgreement - 0.05;
    await writeFile(recFile, JSON.stringify(rec));
    const reg = await fx.run(['fidelity', 'check', suite]);
    expect(reg.exitCode, reg.stdout + reg.stderr).toBe(1);
    expect(reg.stdout).toMatch(/fidelity fid: FAIL \(1 regression\)/);
    expect(reg.stdout).toMatch(/more than 0\.50 points below the baseline/);
    const junit = await readFile(path.join(fx.dir, 'out-fid', 'fidelity-junit.xml'), 'utf8');
    expect(junit).toMatch(/tests="1" failures="1" errors="0"/);
    const md = await readFile(path.join(fx.dir, 'out-fid', 'fidelity-summary.md'), 'utf8');
    expect(md).toMatch(/^## Fidelity: fid$/m);

    // The baseline keeps every reference's figures, so the gate can judge another reference against its own figures.
    expect(baseline.entries[key]).toMatchObject({
      reference: 'hwaware',
      references: {
        trained: { stateAgreement: expect.any(Number) },
        realised: { stateAgreement: expect.any(Number) },
        hwaware: { stateAgreement: entry.stateAgreement },
      },
    });
    const trained = await fx.run(['fidelity', 'check', suite, '--reference', 'trained']);
    expect(trained.exitCode, trained.stdout + trained.stderr).toBe(0);
    expect(trained.stdout).toMatch(/fidelity fid: PASS \(1 changed\)/); // another job (the reference is part of its id), same case
    const row = trained.stdout.split('\n').find((l) => l.startsWith(key))!;
    expect(row).toMatch(
      new RegExp(
        `^\\S+\\s+trained\\s+([\\d.]+)%\\s+${(100 * baseline.entries[key].references.trained.stateAgreement).toFixed(2)}%\\s+changed`,
      ),
    );
    expect(trained.stdout).toMatch(/vs trained\s+vs realised/);
  });
});

describe('the shipped fidelity suite against the shipped baseline (the CI gate)', () => {
  const SHIPPED_SUITE = path.join(REPO_ROOT, 'models', 'example', 'fidelity-suite.yaml');
  const SHIPPED_BASELINE = path.join(REPO_ROOT, 'models', 'example', 'fidelity-suite.baseline.json');
  // The kit every GF180MCU circuit test uses; given with --kit so the flag is exercised on the real suite too.
  const KIT = path.join(SHARED_DIR, 'pdk', 'gf180mcu');
  const check = (...more: string[]) =>
    fx.run(['fidelity', 'check', SHIPPED_SUITE, '-o', 'out-ship', '-j', '2', '--kit', KIT, ...more]);
  const baselineCopy = async (
    name: string,
    edit: (b: { entries: Record<string, Record<string, unknown>> }) => void,
  ) => {
    const b = JSON.parse(await readFile(SHIPPED_BASELINE, 'utf8'));
    edit(b);
    await fx.write(name, JSON.stringify(b));
    return name;
  };
  const junitOf = () => readFile(path.join(fx.dir, 'out-ship', 'fidelity-junit.xml'), 'utf8');

  it('compares every case with a baseline figure and passes (exit 0, no case new)', async () => {
    const r = await check();
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/fidelity fidelity-example: PASS/);
    expect(r.stdout).not.toMatch(/\bnew\b/);
    const junit = await junitOf();
    expect(junit).toMatch(/tests="6" failures="0" errors="0" skipped="0"/);
    const names = [...junit.matchAll(/<testcase [^>]*name="([^"]*)"/g)].map((m) => m[1]);
    const shipped = JSON.parse(await readFile(SHIPPED_BASELINE, 'utf8')) as { entries: Record<string, unknown> };
    expect(names.sort()).toEqual(Object.keys(shipped.entries).sort());
  });

  it('fails (exit 1) against a copy of the baseline with a state agreement raised above what is measured', async () => {
    // Judged against the realised model, the one case below 100% (97.50% against every reference).
    const key = 'kws-example.json|random#12:5|gf180mcu|-|-';
    const raised = await baselineCopy('raised.json', (b) => {
      const realised = (b.entries[key].references as Record<string, { stateAgreement: number }>).realised;
      expect(realised.stateAgreement).toBeLessThan(1 - 0.005);
      realised.stateAgreement = 1;
    });
    const r = await check('--baseline', raised, '--reference', 'realised');
    expect(r.exitCode, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/fidelity fidelity-example: FAIL \(5 changed, 1 regression\)/); // another reference: other job ids
    expect(r.stdout).toMatch(/9\d\.\d\d% is more than 0\.50 points below the baseline's 100\.00%/);
    expect(await junitOf()).toMatch(/tests="6" failures="1" errors="0"/);
  });

  it('fails (exit 1) on a case the baseline lacks unless --allow-new, and lists entries the suite lacks as stale', async () => {
    const key = 'kws-example.json|random#12:5|gf180mcu|-|-';
    const partial = await baselineCopy('partial.json', (b) => {
      delete b.entries[key];
      b.entries['gone.json|random#1:5|c180|-|-'] = { ...b.entries['kws-example.json|random#12:5|c180|-|-'] };
    });
    const r = await check('--baseline', partial);
    expect(r.exitCode, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/fidelity fidelity-example: FAIL \(5 pass, 1 new \(no baseline\), 1 stale\)/);
    expect(r.stdout).toMatch(/warning: 1 stale baseline entries .*: gone\.json\|random#1:5\|c180\|-\|-/);
    const allowed = await check('--baseline', partial, '--allow-new');
    expect(allowed.exitCode, allowed.stdout + allowed.stderr).toBe(0);
    expect(allowed.stdout).toMatch(/PASS \(5 pass, 1 new \(allowed\), 1 stale\)/);
  });

  it('refuses an empty baseline (exit 2) before running anything', async () => {
    const empty = await baselineCopy('empty.json', (b) => (b.entries = {}));
    expectOneErrorLine(await check('--baseline', empty), 'empty.json', "'entries'", 'no entries');
  });

  it('names a missing suite (exit 2), not the baseline its default name would come from', async () => {
    const r = await fx.run(['fidelity', 'check', 'no-such-suite.yaml', '-o', 'out-missing']);
    expectOneErrorLine(r, 'no-such-suite.yaml', 'cannot read');
    expect(r.stderr).not.toMatch(/baseline/);
  });

  it('runs the GF180MCU cases on the kit --kit names: another kit content is a changed fingerprint, still compared', async () => {
    const kit = path.join(fx.dir, 'my-kit');
    await cp(KIT, kit, { recursive: true });
    await appendFile(path.join(kit, 'design.ngspice'), '\n* a local copy of the kit\n');
    const r = await fx.run(['fidelity', 'check', SHIPPED_SUITE, '-o', 'out-ship', '-j', '2', '--kit', 'my-kit']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/PASS \(3 pass, 3 changed\)/);
    for (const line of r.stdout.split('\n').filter((l) => l.includes('|gf180mcu|')))
      expect(line).toMatch(
        /changed\s+(?:[\d.]+%\s+){3}fingerprint changed \(baseline [0-9a-f]{16}, now [0-9a-f]{16}\)/,
      );
    expectOneErrorLine(
      await fx.run(['fidelity', 'check', SHIPPED_SUITE, '-o', 'out-ship', '--kit', 'no-such-kit']),
      'no-such-kit',
      "'kit'",
      'no such folder',
    );
  });
});

/**
 * `bmru batch` on the real binary: a run killed with SIGKILL mid-way and restarted ends with every job exactly
 * once in the results; status and report read what it left; a bad plan is one error line.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { copyFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processesIn, REPO_ROOT } from '../helpers.js';
import { writeProcessCopy } from '../../src/netlist/process-copy.js';
import { BIN, EXAMPLE_CLIP, EXAMPLE_MODEL, cliFixture, expectOneErrorLine, type CliFixture } from './fixture.js';

const C180 = path.join(REPO_ROOT, 'models', 'c180', 'process.json');

let fx: CliFixture;
beforeAll(async () => {
  fx = await cliFixture();
});
afterAll(() => fx.cleanUp());

const PLAN = [
  'name: killed',
  'process: c180',
  `models: [${EXAMPLE_MODEL}]`,
  `inputs: [{ file: ${EXAMPLE_CLIP}, frames: 2, noiseSd: 0.05 }]`,
  'seeds: { count: 4 }',
  'out: out-killed',
  '',
].join('\n');

/** Starts `bmru batch run` in its own process group (apart from the test runner's). */
function startDetached(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: fx.dir,
    env: { ...process.env, TMPDIR: fx.dir },
    stdio: 'ignore',
    detached: true,
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited };
}

const recordsIn = (dir: string) =>
  existsSync(dir) ? readdirSync(dir).filter((n) => /^[0-9a-f]{16}\.json$/.test(n)) : [];

describe('bmru batch', () => {
  it('finishes a run killed with SIGKILL mid-way with every job exactly once in results.jsonl and results.csv', async () => {
    const plan = await fx.write('killed.yaml', PLAN);
    const results = path.join(fx.dir, 'out-killed', 'results');
    const { child, exited } = startDetached(['batch', 'run', plan, '-j', '2', '-q']);
    const deadline = Date.now() + 110_000;
    while (recordsIn(results).length === 0 && Date.now() < deadline) await sleep(100);
    process.kill(-child.pid!, 'SIGKILL'); // node, like a machine going down
    await exited;
    // Its ngspice processes run in groups of their own, which a SIGKILL of node cannot reach: end them too.
    for (const pid of processesIn(fx.dir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // ended meanwhile
      }
    }
    const before = recordsIn(results).length;
    expect(before).toBeGreaterThanOrEqual(1);
    expect(before).toBeLessThan(4); // killed mid-way, not after the end

    const rerun = await fx.run(['batch', 'run', plan, '-j', '2', '-q']);
    expect(rerun.exitCode, rerun.stderr).toBe(0);
    expect(rerun.stdout).toContain(
      `jobs 4: ${before} had results already, ${4 - before} ok and 0 failed in this run, 0 pending`,
    );

    const jobs = JSON.parse(await readFile(path.join(fx.dir, 'out-killed', 'jobs.json'), 'utf8'))
      .jobs.map((j: { id: string }) => j.id)
      .sort();
    const jsonl = (await readFile(path.join(fx.dir, 'out-killed', 'results.jsonl'), 'utf8')).trimEnd().split('\n');
    expect(jsonl.map((l) => JSON.parse(l).id).sort()).toEqual(jobs);
    const csv = (await readFile(path.join(fx.dir, 'out-killed', 'results.csv'), 'utf8')).trimEnd().split('\n');
    expect(
      csv
        .slice(1)
        .map((l) => l.split(',')[0])
        .sort(),
    ).toEqual(jobs);
    expect(recordsIn(results).sort()).toEqual(jobs.map((id: string) => `${id}.json`));
  });

  it('stops on Ctrl-C (SIGINT) with exit 130, keeping the finished jobs and releasing the lock', async () => {
    const plan = await fx.write(
      'interrupted.yaml',
      PLAN.replace('name: killed', 'name: interrupted').replace('out: out-killed', 'out: out-interrupted'),
    );
    const results = path.join(fx.dir, 'out-interrupted', 'results');
    const child = spawn(process.execPath, [BIN, 'batch', 'run', plan, '-j', '1', '-q'], {
      cwd: fx.dir,
      env: { ...process.env, TMPDIR: fx.dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    const deadline = Date.now() + 110_000;
    while (recordsIn(results).length === 0 && Date.now() < deadline) await sleep(100);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    const kept = recordsIn(results).length;
    expect(kept).toBeGreaterThanOrEqual(1);
    expect(kept).toBeLessThan(4);
    expect(stdout).toMatch(new RegExp(`${4 - kept} pending \\(interrupted: run the same command again to finish\\)`));
    expect(existsSync(path.join(fx.dir, 'out-interrupted', 'run.lock'))).toBe(false);
    const jsonl = (await readFile(path.join(fx.dir, 'out-interrupted', 'results.jsonl'), 'utf8')).trimEnd().split('\n');
    expect(jsonl).toHaveLength(kept);
  });

  it('status and report read the output folder: counts, aggregate table, report.csv', async () => {
    const status = await fx.run(['batch', 'status', 'out-killed']);
    expect(status.exitCode, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/batch killed \(out-killed\): 4 jobs/);
    expect(status.stdout).toMatch(/ok\s+4/);
    expect(status.stdout).toMatch(/pending\s+0/);

    const report = await fx.run(['batch', 'report', 'killed.yaml']);
    expect(report.exitCode, report.stderr).toBe(0);
    expect(report.stdout).toContain('4 jobs, 4 ok, 0 failed, 0 pending');
    expect(report.stdout).toMatch(/kws-example\.json\s+c180\s+-\s+4\s+4\s+0\s+0\s+\d/);
    expect(report.stdout).toContain('plots: out-killed/report.html');
    const html = await readFile(path.join(fx.dir, 'out-killed', 'report.html'), 'utf8');
    expect(html.match(/<svg/g)).toHaveLength(2);
    const csv = (await readFile(path.join(fx.dir, 'out-killed', 'report.csv'), 'utf8')).trimEnd().split('\n');
    expect(csv[0]).toMatch(/^model,process,corner,condition,jobs,ok,failed,pending,pass,state_agreement_mean/);
    expect(csv).toHaveLength(2);
  });

  it('reports a bad plan in one line naming the file and the field, exit 2', async () => {
    const plan = await fx.write('bad.yaml', PLAN.replace('seeds: { count: 4 }', 'seeds: { count: 0 }'));
    expectOneErrorLine(await fx.run(['batch', 'run', plan]), 'bad.yaml', "'seeds", '>=1');
  });

  it('reports a corner the process lacks before running anything', async () => {
    const plan = await fx.write('corner.yaml', `${PLAN}corners: [zz]\n`);
    expectOneErrorLine(await fx.run(['batch', 'status', plan]), 'corner.yaml', "'corners.0'", "no corner 'zz'");
  });
});

describe('bmru batch with calibrateSizes', () => {
  it('says which copy it calibrated or reused, and the report and datasheet name the copy per condition', async () => {
    const plan = await fx.write(
      'sizescal.yaml',
      [
        'name: sizescal',
        'process: c180',
        `models: [${EXAMPLE_MODEL}]`,
        `inputs: [{ file: ${EXAMPLE_CLIP}, frames: 2 }]`,
        'sizes: [{ mirrorLengthUm: 8 }, { mirrorLengthUm: 4 }]',
        'calibrateSizes: true',
        'out: out-sizescal',
        '',
      ].join('\n'),
    );
    // The copy's tables already in place (c180's own as a stand-in: measuring them on ngspice is
    // test/circuit/sizes-calibration.test.ts's part), so the run reuses them instead of calibrating.
    const hash8 = createHash('sha256').update(readFileSync(C180)).digest('hex').slice(0, 8);
    const folder = `out-sizescal/calibrations/c180-${hash8}/mirrorLengthUm=4`;
    await writeProcessCopy(C180, { sizing: { mirrorLengthUm: 4 } }, path.join(fx.dir, folder));
    await copyFile(path.join(path.dirname(C180), 'calibration.json'), path.join(fx.dir, folder, 'calibration.json'));

    const run = await fx.run(['batch', 'run', plan, '-j', '1']);
    expect(run.exitCode, run.stderr).toBe(0);
    // One copy: c180's own 8 um entry keeps c180's calibration.json.
    expect(run.stderr).toContain(`reusing the tables of c180 at mirrorLengthUm=4 (1/1): ${folder}/calibration.json`);
    expect(run.stderr).not.toContain('calibrated c180');

    const report = await fx.run(['batch', 'report', 'out-sizescal', '--datasheet']);
    expect(report.stdout).toMatch(/c180 +- +mirrorLengthUm=8 +1/);
    expect(report.stdout).toMatch(/c180 +- +mirrorLengthUm=4 calibrated there +1/);
    const sheet = await readFile(path.join(fx.dir, 'out-sizescal', 'datasheet.md'), 'utf8');
    expect(sheet).toContain(
      `Calibration: conditions marked "calibrated there" with a copy of the process calibrated at their sizes (calibrations/c180-${hash8}/mirrorLengthUm=4/calibration.json, in the output folder); the others with the process's own calibration.json.`,
    );
  }, 300_000);
});

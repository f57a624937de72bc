/**
 * A 5-job plan as a 3-task array on a real single-node Slurm brought up by scripts/slurm-local.sh. Needs root,
 * Debian's slurm-wlm + munge, and ngspice: vitest.config.ts skips this file without them (saying why) and fails
 * the run in CI, where a pass must mean the array ran.
 */
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers.js';
import { cliFixture, type CliFixture } from '../cli/fixture.js';
import { planText } from './slurm-plan.js';

const run = promisify(execFile);
const LOCAL_SLURM = path.join(REPO_ROOT, 'scripts', 'slurm-local.sh');

let fx: CliFixture;
beforeAll(async () => {
  fx = await cliFixture();
});
afterAll(() => fx.cleanUp());

describe('on a real single-node Slurm (scripts/slurm-local.sh)', () => {
  let slurmConf: string | undefined;
  let startedHere = false;

  beforeAll(async () => {
    // vitest.config.ts ran this file only where root and the packages are; a set-up that then does not come
    // up is a failure, never a skip.
    const env = { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/sbin` };
    const { stdout, stderr } = await run(LOCAL_SLURM, ['start'], { env }).catch(
      (e: { stdout?: string; stderr?: string; message: string }) => {
        throw new Error(`scripts/slurm-local.sh start failed: ${e.stderr || e.message}`);
      },
    );
    slurmConf = /^export SLURM_CONF=(.+)$/m.exec(stdout)?.[1];
    if (slurmConf === undefined)
      throw new Error(`scripts/slurm-local.sh start printed no SLURM_CONF: ${stdout} ${stderr}`);
    startedHere = !stderr.includes('already running'); // leave a set-up someone else started as it was
  }, 90_000);

  afterAll(async () => {
    if (startedHere)
      await run(LOCAL_SLURM, ['stop'], { env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/sbin` } });
  }, 90_000);

  it('runs a 5-job plan as 3 array tasks with --wait; every job has exactly one result and report merges them', async () => {
    const env = { SLURM_CONF: slurmConf! };
    const plan = await fx.write('array.yaml', planText('out-array'));
    const out = path.join(fx.dir, 'out-array');

    const r = await fx.run(['batch', 'submit', plan, '--slurm', '--tasks', '3', '--wait'], env);
    expect(r.exitCode, `${r.stderr}\n${r.stdout}`).toBe(0);
    const jobId = /^submitted Slurm job (\d+) \(3 tasks\); waiting for every task to end$/m.exec(r.stderr)?.[1];
    expect(jobId, r.stderr).toBeDefined();
    expect(r.stdout).toContain(`Slurm job ${jobId} ended (sbatch exit 0`);
    expect(r.stdout).toMatch(/ok\s+5\nfailed\s+0\npending\s+0/);

    // One log per task, each having run its own share: 2 + 2 + 1 jobs.
    const logs = (await readdir(path.join(out, 'slurm'))).filter((n) => n.endsWith('.out')).sort();
    expect(logs).toEqual([0, 1, 2].map((i) => `${jobId}_${i}.out`));
    const ran = await Promise.all(
      logs.map(async (n) =>
        Number(
          /^jobs (\d+): 0 had results already, \1 ok/m.exec(await readFile(path.join(out, 'slurm', n), 'utf8'))?.[1],
        ),
      ),
    );
    expect(ran).toEqual([2, 2, 1]);

    const ids = JSON.parse(await readFile(path.join(out, 'jobs.json'), 'utf8'))
      .jobs.map((j: { id: string }) => j.id)
      .sort();
    expect((await readdir(path.join(out, 'results'))).filter((n) => n.endsWith('.json')).sort()).toEqual(
      ids.map((id: string) => `${id}.json`),
    );

    const report = await fx.run(['batch', 'report', 'out-array']);
    expect(report.exitCode, report.stderr).toBe(0);
    expect(report.stdout).toContain('batch slurm: 5 jobs, 5 ok, 0 failed, 0 pending');
    const jsonl = (await readFile(path.join(out, 'results.jsonl'), 'utf8'))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l).id);
    expect(jsonl.sort()).toEqual(ids);
    const csv = (await readFile(path.join(out, 'report.csv'), 'utf8')).trimEnd().split('\n');
    expect(csv).toHaveLength(2); // header + one model x process x corner row

    const again = await fx.run(['batch', 'submit', plan, '--slurm', '--tasks', '3'], env);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout).toContain('nothing to submit: every job has a result');
  });
});

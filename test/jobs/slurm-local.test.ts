/**
 * A 5-job plan as a 3-task array, a partitioned compare as a stage array per wave (against the same compare on
 * the local pool) and `analyze power --scaling --slurm` (against the same on the local pool), on a real single-node Slurm brought up by scripts/slurm-local.sh. Needs root,
 * Debian's slurm-wlm + munge, and ngspice: vitest.config.ts skips this file without them (saying why) and fails
 * the run in CI, where a pass must mean the array ran.
 */
import { execFile } from 'node:child_process';
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers.js';
import { cliFixture, exampleClip, type CliFixture } from '../cli/fixture.js';
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
    // Five ngspice jobs through a real scheduler: the default 120 s ran out in a full run at load ~7.
  }, 240_000);

  it('runs a partitioned compare as a stage array per wave: the same states, candidates and supply as the local run; a rerun resumes, a failed task is named', async () => {
    const env = { SLURM_CONF: slurmConf! };
    const clip = await fx.write('clip3.csv', exampleClip(3));
    const common = ['compare', '-i', clip, '--partitioned', '--partition-by', 'cell', '--timeout', '120'];
    // One deck per partition here too: a Slurm task never cuts its partition in time (--time-windows).
    const local = await fx.run([...common, '--time-windows', '1', '-o', 'local']);
    expect([0, 1], local.stderr).toContain(local.exitCode);

    const r = await fx.run([...common, '--slurm', '--wait', '-o', 'onslurm'], env);
    expect(r.exitCode, `${r.stderr}\n${r.stdout}`).toBe(local.exitCode);
    // The example per cell: 10 waves (docs/partition.md) and the merge.
    expect(r.stderr).toContain('sbatch submissions: 11');
    expect(r.stdout).toMatch(/^ngspice [\d.]+, partitioned \(22 partitions\) on Slurm \(a job array per stage\): /m);

    const out = path.join(fx.dir, 'onslurm');
    const read = async (dir: string) => ({
      report: JSON.parse(await readFile(path.join(fx.dir, dir, 'report.json'), 'utf8')),
      frames: (await readFile(path.join(fx.dir, dir, 'frames.csv'), 'utf8')).trimEnd().split('\n'),
    });
    const a = await read('local');
    const b = await read('onslurm');
    expect(a.report.executor).toBe('local pool (2 workers)');
    expect(b.report.executor).toBe('Slurm (a job array per stage)');
    // The same decks through the same ngspice: every unit-frame's state and candidate, and the supply, identical.
    const cols = (rows: string[], name: string) => {
      const at = rows[0].split(',').indexOf(name);
      return rows.slice(1).map((row) => row.split(',')[at]);
    };
    expect(b.frames).toHaveLength(1 + 3 * 2 * 4);
    expect(cols(b.frames, 'state_circuit')).toEqual(cols(a.frames, 'state_circuit'));
    expect(cols(b.frames, 'candidate_circuit')).toEqual(cols(a.frames, 'candidate_circuit'));
    expect(b.report.supplyMeanA).toEqual(a.report.supplyMeanA);

    // Every stage started after the one before had ended (afterok), its tasks in parallel.
    const submitted = JSON.parse(await readFile(path.join(out, 'slurm', 'submitted.json'), 'utf8'));
    const record = async (k: { pass: number; index: number }) =>
      JSON.parse(await readFile(path.join(out, 'partitions', `p${k.index}.json`), 'utf8'));
    let endedMs = 0;
    for (const stage of submitted.stages) {
      const recs = await Promise.all(stage.tasks.map(record));
      for (const rec of recs) {
        expect(Date.parse(rec.startedAt)).toBeGreaterThanOrEqual(endedMs);
        expect(rec.ranOn.job).toBe(stage.job);
      }
      endedMs = Math.max(...recs.map((rec) => Date.parse(rec.endedAt)));
    }
    expect(submitted.stages.flatMap((s: { tasks: unknown[] }) => s.tasks)).toHaveLength(22);

    // A rerun resubmits no partition, only the merge.
    const again = await fx.run([...common, '--slurm', '--wait', '-o', 'onslurm'], env);
    expect(again.exitCode, again.stderr).toBe(local.exitCode);
    expect(again.stderr).toContain('0 without a result: 0 stage array(s) and the merge');
    expect(again.stderr).toContain('sbatch submissions: 1');

    // Block 0's shared part to rerun, but the front end's rawfile gone: its task fails, the merge is cancelled, and
    // the error names the stage, the task and its log.
    await rm(path.join(out, 'partitions', 'p1.json'));
    await rm(path.join(out, 'partitions', 'p0.raw'));
    const failed = await fx.run([...common, '--slurm', '--wait', '-o', 'onslurm'], env);
    expect(failed.exitCode).toBe(2);
    expect(failed.stderr).toContain('1 without a result: 1 stage array(s) and the merge');
    const job = /^stage 1 \(block 0 shared\): Slurm job (\d+), 1 task\(s\)$/m.exec(failed.stderr)?.[1];
    expect(job, failed.stderr).toBeDefined();
    expect(failed.stderr).toMatch(
      new RegExp(
        `^error: stage 'block 0 shared' left 1 of 1 partitions without a result in .*: task 0 of Slurm job ${job} \\(partition block 0 shared\\): log ${out}/slurm/${job}_0\\.out, last line: error: partition 0 \\(front end, pass 1\\) has a record but no rawfile`,
        'm',
      ),
    );
  }, 240_000);

  it('runs analyze power --scaling per width as stage arrays: the same power per domain as the local pool; a rerun keeps its widths, and submits no partition without them', async () => {
    const env = { SLURM_CONF: slurmConf! };
    const clip = await fx.write('clip2.csv', exampleClip(2));
    const common = ['analyze', 'power', '-i', clip, '--scaling', '--partitioned', '--widths', '2,3', '--frames', '2'];
    // One worker: a stage of one partition is then one deck, as a Slurm task runs it (no time windows).
    const local = await fx.run([...common, '-j', '1', '-o', 'pw-local']);
    expect(local.exitCode, local.stderr).toBe(0);
    const r = await fx.run([...common, '--slurm', '-o', 'pw-slurm'], env);
    expect(r.exitCode, `${r.stderr}\n${r.stdout}`).toBe(0);
    // Width 2: 14 partitions in 9 stages and the merge; width 3: 18 partitions.
    expect(r.stderr).toContain('width 2: sbatch submissions: 10');
    expect(r.stderr).toMatch(/^width 3: sbatch submissions: \d+$/m);

    const rows = async (dir: string) => {
      const [head, ...body] = (await readFile(path.join(fx.dir, dir, 'scaling.csv'), 'utf8'))
        .trim()
        .split('\n')
        .map((l) => l.split(','));
      return body.map((row) => Object.fromEntries(head.map((h, i) => [h, row[i]])));
    };
    const a = await rows('pw-local');
    const b = await rows('pw-slurm');
    expect(b.map((x) => x.simulation)).toEqual([
      'partitioned (14 partitions) on Slurm (a job array per stage)',
      'partitioned (18 partitions) on Slurm (a job array per stage)',
    ]);
    // The same decks through the same ngspice: every domain's power, the states too.
    for (const col of ['cell_w', 'ff_w', 'bias_w', 'in_w', 'core_w', 'state_agreement', 'transistors'])
      expect(
        b.map((x) => x[col]),
        col,
      ).toEqual(a.map((x) => x[col]));
    // Each width's compare wrote its own reports, merged on Slurm.
    const report = JSON.parse(await readFile(path.join(fx.dir, 'pw-slurm', 'slurm-w3', 'report.json'), 'utf8'));
    expect(report.executor).toBe('Slurm (a job array per stage)');

    // A rerun keeps both widths from scaling-points.jsonl and submits nothing.
    const kept = await fx.run([...common, '--slurm', '-o', 'pw-slurm'], env);
    expect(kept.exitCode, kept.stderr).toBe(0);
    expect(kept.stderr).toMatch(
      /scaling: 0 of 2 widths x 2 frames to run, partitioned by cell \(width 2, 3 kept from /,
    );
    expect(kept.stderr).not.toMatch(/^width \d: /m);
    expect((await rows('pw-slurm')).map((x) => x.core_w)).toEqual(a.map((x) => x.core_w));

    // Without that file (lost, or the widths never finished), each width's compare finds its stored partitions.
    await rm(path.join(fx.dir, 'pw-slurm', 'scaling-points.jsonl'));
    const again = await fx.run([...common, '--slurm', '-o', 'pw-slurm'], env);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stderr).toContain('width 2: 14 partitions in 9 stages, 0 without a result');
    expect(again.stderr).toContain('width 3: 18 partitions in');
    expect(again.stderr).not.toMatch(/^width \d: stage \d+/m);
    expect((await rows('pw-slurm')).map((x) => x.core_w)).toEqual(a.map((x) => x.core_w));
  }, 240_000);
});

/**
 * A partitioned compare as Slurm job arrays, without Slurm: the scripts `--slurm --dry-run` writes, run with a fake
 * `sbatch` and a fake `node` that record what they were asked, and the flags' refusals. The run on a real
 * single-node Slurm is in slurm-local.test.ts.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePartitionKey, slurmCompare, slurmScripts } from '../../src/jobs/partition-slurm.js';
import { randomInputs, randomNetwork } from '../../src/model/random.js';
import { loadModel } from '../../src/model/load.js';
import { loadInputs } from '../../src/model/inputs.js';
import type { PartitionContext, PartitionStage } from '../../src/pipeline.js';
import { InputError } from '../../src/errors.js';
import { parseRawfile } from '../../src/spice/rawfile.js';
import { cliFixture, exampleClip, EXIT_ERROR, type CliFixture } from '../cli/fixture.js';

const run = promisify(execFile);

let fx: CliFixture;
beforeAll(async () => {
  fx = await cliFixture();
});
afterAll(() => fx.cleanUp());

/** Writes an executable stand-in for a command into `<fx.dir>/bin`. */
async function fake(name: string, body: string): Promise<void> {
  await run('mkdir', ['-p', path.join(fx.dir, 'bin')]);
  const file = path.join(fx.dir, 'bin', name);
  await writeFile(file, `#!/bin/bash\n${body}\n`);
  await chmod(file, 0o755);
}

// The shipped example (width 4, 2 blocks) per cell: the front end; per block its shared part, its 4 cells side by
// side, the outputs' shared part, its 4 outputs side by side; the classifier (docs/partition.md).
const EXAMPLE_STAGES: [string, number][] = [
  ['front end', 1],
  ['block 0 shared', 1],
  ['block 0 cell 0 .. block 0 cell 3', 4],
  ['block 0 outputs shared', 1],
  ['block 0 output 0 .. block 0 output 3', 4],
  ['block 1 shared', 1],
  ['block 1 cell 0 .. block 1 cell 3', 4],
  ['block 1 outputs shared', 1],
  ['block 1 output 0 .. block 1 output 3', 4],
  ['classifier', 1],
];

describe('bmru compare --partitioned --slurm --dry-run', () => {
  it('writes a stage array per wave and submit.sh, which submits each after the one before and the merge last', async () => {
    const clip = await fx.write('clip3.csv', exampleClip(3));
    const r = await fx.run([
      'compare',
      '-i',
      clip,
      '--partitioned',
      '--partition-by',
      'cell',
      '--slurm',
      '--dry-run',
      '--time',
      '10',
      '-o',
      'dry',
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain('22 partitions in 10 stages, 22 without a result: 10 stage array(s) and the merge');
    const slurm = path.join(fx.dir, 'dry', 'slurm');
    expect((await readdir(slurm)).filter((n) => n.endsWith('.out'))).toEqual([]); // nothing ran

    // A fake sbatch: logs its arguments, answers job ids 101, 102, ... as --parsable does.
    await fake(
      'sbatch',
      `n=$(( $(cat "${fx.dir}/n" 2>/dev/null || echo 100) + 1 )); echo $n > "${fx.dir}/n"; echo "$*" >> "${fx.dir}/sbatch.log"; echo "$n;cluster"`,
    );
    const driver = await run('bash', [path.join(slurm, 'submit.sh')], {
      env: { ...process.env, PATH: `${path.join(fx.dir, 'bin')}:${process.env.PATH}` },
    });
    const calls = (await readFile(path.join(fx.dir, 'sbatch.log'), 'utf8')).trimEnd().split('\n');
    expect(calls).toHaveLength(11); // 10 stages + the merge
    calls.forEach((c, i) => {
      const script = i < 10 ? `stage-0${i}.sbatch` : 'merge.sbatch';
      expect(c.endsWith(path.join(slurm, script)), c).toBe(true);
      // Job ids were 101, 102, ...: each call waits for the one before, and is cancelled if it failed.
      if (i === 0) expect(c).not.toContain('--dependency');
      else expect(c).toContain(`--dependency=afterok:${100 + i} --kill-on-invalid-dep=yes`);
    });
    expect(driver.stdout).toContain('stage 2 (block 0 cell 0 .. block 0 cell 3): job 103, 4 task(s)');

    // Each stage's array has one task per partition of its wave, in dependency order.
    const stages: [string, number][] = [];
    const parts: string[] = [];
    for (let s = 0; s < 10; s++) {
      const text = await readFile(path.join(slurm, `stage-0${s}.sbatch`), 'utf8');
      const label = /stage \d+ of 10 \((.+)\), \d+ partition/.exec(text)![1];
      const array = /^#SBATCH --array=0-(\d+)$/m.exec(text)![1];
      stages.push([label, Number(array) + 1]);
      expect(text).toMatch(/^#SBATCH --time=10$/m);
      expect(text).toMatch(/^#SBATCH --cpus-per-task=1$/m);
      parts.push(.../^PARTS=\((.*)\)$/m.exec(text)![1].split(' '));
    }
    expect(stages).toEqual(EXAMPLE_STAGES);
    expect(parts).toEqual(Array.from({ length: 22 }, (_, i) => `1:${i}`));
  });

  it("has task i of a stage run the stage's partition i with the compare arguments made absolute", async () => {
    const slurm = path.join(fx.dir, 'dry', 'slurm');
    const text = await readFile(path.join(slurm, 'stage-04.sbatch'), 'utf8');
    await fake('node', 'for a in "$@"; do echo "$a"; done');
    const body = path.join(fx.dir, 'stage4.sh');
    await writeFile(body, text.replace(/^cd .*$/m, `cd '${fx.dir}'`));
    const { stdout } = await run('bash', [body], {
      env: { ...process.env, PATH: `${path.join(fx.dir, 'bin')}:${process.env.PATH}`, SLURM_ARRAY_TASK_ID: '2' },
    });
    const args = stdout.trimEnd().split('\n');
    expect(args.slice(-2)).toEqual(['--slurm-part', '1:9']); // stage 4 holds partitions 7-10: task 2 is 9
    expect(args[args.indexOf('-i') + 1]).toBe(path.join(fx.dir, 'clip3.csv'));
    expect(args[args.indexOf('-o') + 1]).toBe(path.join(fx.dir, 'dry'));
    expect(args).toEqual(expect.arrayContaining(['--partitioned', '--partition-by', 'cell']));
    const merge = await readFile(path.join(slurm, 'merge.sbatch'), 'utf8');
    expect(merge).toMatch(/^#SBATCH --array=0-0$/m);
    expect(merge).toMatch(/compare .* --slurm-merge$/m);
  });

  it('refuses --slurm without --partitioned and the Slurm flags without --slurm', async () => {
    const clip = await fx.write('clip2.csv', exampleClip(2));
    const noPart = await fx.run(['compare', '-i', clip, '--slurm', '--dry-run', '-o', 'x']);
    expect(noPart.exitCode).toBe(2);
    expect(noPart.stderr).toContain('--slurm needs --partitioned');
    const noSlurm = await fx.run(['compare', '-i', clip, '--partitioned', '--wait', '-o', 'x']);
    expect(noSlurm.exitCode).toBe(2);
    expect(noSlurm.stderr).toContain('--wait goes with --slurm');
    // A Slurm task runs its partition as one deck: time windows would be silently dropped.
    const windows = await fx.run([
      'compare',
      '-i',
      clip,
      '--partitioned',
      '--slurm',
      '--time-windows',
      '2',
      '--dry-run',
      '-o',
      'x',
    ]);
    expect(windows.exitCode).toBe(2);
    expect(windows.stderr).toContain('--time-windows goes with the local pool');
    const zero = await fx.run(['compare', '-i', clip, '--partitioned', '--time-windows', '0', '-o', 'x']);
    expect(zero.exitCode).toBe(2);
    expect(zero.stderr).toContain('--time-windows must be an integer >= 1, got 0');
  });
});

describe('slurmScripts', () => {
  const stage = (label: string, partitions: number[]): PartitionStage => ({ pass: 1, partitions, label });
  const SETTINGS = { jobName: 'bmru-t', cpusPerTask: 1, projectRoot: '/opt/bmru', bin: '/opt/bmru/bin/bmru.js' };

  it('leaves out stages whose partitions all have results and chains the rest to the last one submitted', () => {
    const s = slurmScripts(
      [
        { stage: stage('front end', [0]), missing: [] },
        { stage: stage('block 0', [1]), missing: [{ pass: 1, index: 1 }] },
        { stage: stage('block 1', [2]), missing: [] },
        { stage: stage('classifier', [3]), missing: [{ pass: 1, index: 3 }] },
      ],
      '/scratch/out',
      ['-o', '/scratch/out'],
      SETTINGS,
    );
    expect(s.stages.map((x) => x.file)).toEqual([
      '/scratch/out/slurm/stage-01.sbatch',
      '/scratch/out/slurm/stage-03.sbatch',
    ]);
    const sbatch = s.driver.text.split('\n').filter((l) => l.includes('sbatch --parsable'));
    expect(sbatch).toEqual([
      "j1=$(sbatch --parsable '/scratch/out/slurm/stage-01.sbatch')",
      'j3=$(sbatch --parsable "--dependency=afterok:${j1%%;*}" "--kill-on-invalid-dep=yes" \'/scratch/out/slurm/stage-03.sbatch\')',
      'jm=$(sbatch --parsable "--dependency=afterok:${j3%%;*}" "--kill-on-invalid-dep=yes" \'/scratch/out/slurm/merge.sbatch\')',
    ]);
  });

  it('submits only the merge, without a dependency, when every partition has a result', () => {
    const s = slurmScripts([{ stage: stage('front end', [0]), missing: [] }], '/o', [], SETTINGS);
    expect(s.stages).toEqual([]);
    expect(s.driver.text).toContain("jm=$(sbatch --parsable '/o/slurm/merge.sbatch')");
  });
});

describe('parsePartitionKey', () => {
  it('reads <pass>:<index> and refuses anything else, naming the flag', () => {
    expect(parsePartitionKey('2:17')).toEqual({ pass: 2, index: 17 });
    for (const bad of ['17', '3:1', '1:-1', '1:x', '']) {
      expect(() => parsePartitionKey(bad)).toThrow(InputError);
      expect(() => parsePartitionKey(bad)).toThrow(
        `'--slurm-part': expected <pass>:<partition index> (e.g. 1:5), got '${bad}'`,
      );
    }
  });
});

describe('a Slurm task run by hand (bmru compare --slurm-part)', () => {
  it('stores a partition that ran as time windows one after another as one rawfile of the whole clip, which the next stage reads', async () => {
    const clip = await fx.write('clip-inturn.csv', exampleClip(3));
    // Block 0's shared part replays the front end's rails: at 10 points per deck they take several decks in turn.
    const common = ['compare', '-i', clip, '--partitioned', '--partition-by', 'cell', '--handoff-points', '10'];
    common.push('-o', 'inturn');
    const dry = await fx.run([...common, '--slurm', '--dry-run']);
    expect(dry.exitCode, dry.stderr).toBe(0);
    // ngspice's work directories go under TMPDIR: a task keeps none of them (without --keep), windows included.
    const tmp = path.join(fx.dir, 'tmp-inturn');
    await mkdir(tmp);
    const env = { TMPDIR: tmp };
    const front = await fx.run([...common, '--slurm-part', '1:0'], env);
    expect(front.exitCode, front.stderr).toBe(0);
    const shared = await fx.run([...common, '--slurm-part', '1:1'], env);
    expect(shared.exitCode, shared.stderr).toBe(0);
    expect(await readdir(tmp)).toEqual([]);
    const dir = path.join(fx.dir, 'inturn', 'partitions');
    const record = JSON.parse(await readFile(path.join(dir, 'p1.json'), 'utf8'));
    expect(record.info.label).toBe('block 0 shared');
    expect(record.info.windowsInTurn).toBeGreaterThan(1);
    expect(record.info.handoffReplay).toBe('file'); // the default where ngspice's code models are found, as here
    const [plot] = parseRawfile(await readFile(path.join(dir, 'p1.raw')), 'p1.raw');
    const time = plot.real[0];
    expect(plot.numPoints).toBe(record.info.points);
    // The whole clip, from 0 to its 3 frames of 10 ms, not the last window's span.
    expect(time[0]).toBe(0);
    expect(time[time.length - 1]).toBeCloseTo(0.03, 9);

    // The next stage reads that record and rawfile: block 0's cell 0 replays the shared part's rails.
    const cell = await fx.run([...common, '--slurm-part', '1:2']);
    expect(cell.exitCode, cell.stderr).toBe(0);
    const next = JSON.parse(await readFile(path.join(dir, 'p2.json'), 'utf8'));
    expect(next.info.label).toBe('block 0 cell 0');

    // The hand-off points decide the time windows, so a task takes the submission's: given another, it is refused.
    const other = ['compare', '-i', clip, '--partitioned', '--partition-by', 'cell', '--handoff-points', '20'];
    const refused = await fx.run([...other, '-o', 'inturn', '--slurm-part', '1:3']);
    expect(refused.exitCode).toBe(EXIT_ERROR);
    expect(refused.stderr).toMatch(/p3\.json: cut from another network or options than this task's/);
    // So does the way hand-offs are replayed (the results differ by where the solver steps).
    const bsource = await fx.run([...common, '--handoff-replay', 'bsource', '--slurm-part', '1:3']);
    expect(bsource.exitCode).toBe(EXIT_ERROR);
    expect(bsource.stderr).toMatch(/p3\.json: cut from another network or options than this task's/);
  });
});

describe('slurmCompare (the executor of analyze power --scaling --slurm)', () => {
  it('writes the network and clip bit for bit, and a compare that fails names the folder, its exit and its last lines', async () => {
    const net = randomNetwork({ inputs: 3, width: 2, blocks: 1, classes: 2, seed: 7 });
    const inputs = randomInputs(2, 3, 7);
    const dir = path.join(fx.dir, 'sc-fail');
    // A budget of one transistor: compare refuses before it submits anything (no Slurm needed).
    const ex = slurmCompare({ dir, net, inputs, compareArgs: ['--max-transistors', '1'] });
    await expect(ex.run({} as PartitionContext)).rejects.toThrow(
      /^bmru compare --slurm in .*sc-fail ended with exit 2: .*above the budget of 1/,
    );
    const back = await loadModel(path.join(dir, 'model.json'));
    expect(Array.from(back.blocks[0].cand.weight.data)).toEqual(Array.from(net.blocks[0].cand.weight.data));
    expect(Array.from((await loadInputs(path.join(dir, 'clip.csv'))).data)).toEqual(Array.from(inputs.data));
  });
});

/**
 * Slurm job arrays: the sbatch script's text (pure), sbatch's answers (a fake sbatch) and the CLI's refusals.
 * A run on a real single-node Slurm is in slurm-local.test.ts.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arrayTasks, DEFAULT_MAX_TASKS, sbatchScript, submitSbatch, type SbatchOptions } from '../../src/jobs/slurm.js';
import { BmruError, InputError } from '../../src/errors.js';
import { cliFixture, expectOneErrorLine, type CliFixture } from '../cli/fixture.js';
import { planText } from './slurm-plan.js';
import { expandPlan, loadPlan, parsePlan } from '../../src/jobs/plan.js';
import { calibrateSizesCopies, missingSizesCalibrations } from '../../src/jobs/run.js';
import { loadCalibration } from '../../src/netlist/calibration.js';
import { calibrationMethod } from '../../src/calibrate/method.js';
import type { Process } from '../../src/netlist/process.js';
import { writeProcessCopy } from '../../src/netlist/process-copy.js';
import { REPO_ROOT } from '../helpers.js';

const run = promisify(execFile);

let dir: string;
let fx: CliFixture;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'bmru-slurm-test-'));
  fx = await cliFixture();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await fx.cleanUp();
});

const BASE: SbatchOptions = {
  planFile: '/data/plans/p.yaml',
  outDir: '/scratch/out',
  jobName: 'bmru-p',
  tasks: 3,
  cpusPerTask: 2,
  projectRoot: '/opt/bmru',
  bin: '/opt/bmru/bin/bmru.js',
};

const directives = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.startsWith('#SBATCH '))
    .map((l) => l.slice('#SBATCH '.length));

/** Writes an executable shell script into the temp dir and returns its path. */
async function script(name: string, body: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, `#!/bin/sh\n${body}\n`);
  await chmod(file, 0o755);
  return file;
}

describe('sbatchScript', () => {
  it('passes a --reference and a --hwaware-model of the submit command on to every task', () => {
    expect(sbatchScript(BASE)).not.toContain('--reference');
    const text = sbatchScript({ ...BASE, reference: 'trained', hwawareModel: '/models/hw aware.json' });
    expect(text).toMatch(/batch run .* --reference 'trained' --hwaware-model '\/models\/hw aware\.json' --slice/);
  });

  it('passes a --unit-current of the submit command on to every task', () => {
    expect(sbatchScript(BASE)).not.toContain('--unit-current');
    expect(sbatchScript({ ...BASE, unitCurrentA: 5e-10 })).toMatch(/batch run .* --unit-current 5e-10 --slice/);
  });

  it('asks for an array of n tasks with the CPUs, job name and a log per task under <out>/slurm/', () => {
    expect(directives(sbatchScript(BASE))).toEqual([
      '--job-name=bmru-p',
      '--array=0-2',
      '--ntasks=1',
      '--cpus-per-task=2',
      '--output="/scratch/out/slurm/%A_%a.out"',
      '--open-mode=append',
    ]);
  });

  it("appends to the task log, so a requeued run (same job id, same log name) keeps the first run's log, and marks each run", async () => {
    const text = sbatchScript({ ...BASE, projectRoot: dir });
    expect(directives(text)).toContain('--open-mode=append');
    // Two runs of the task into one log, as Slurm's append mode does on a requeue.
    await script('node', 'echo "node $*"');
    const log = path.join(dir, 'requeue.log');
    const body = path.join(dir, 'requeue.sh');
    await writeFile(body, `exec >>'${log}' 2>&1\n${text}`);
    for (const restart of ['0', '1']) {
      await run('bash', [body], {
        env: {
          ...process.env,
          PATH: `${dir}:${process.env.PATH}`,
          SLURM_ARRAY_TASK_ID: '1',
          SLURM_RESTART_COUNT: restart,
        },
      });
    }
    const lines = (await readFile(log, 'utf8')).trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^== bmru: array task 1, restart 0, on \S+ at \d{4}-\d\d-\d\dT/);
    expect(lines[2]).toMatch(/^== bmru: array task 1, restart 1, /);
    expect(lines[3]).toContain('node /opt/bmru/bin/bmru.js batch run');
  });

  it('adds time, partition, account and pass-through options only when given', () => {
    const text = sbatchScript({
      ...BASE,
      time: '2:00:00',
      partition: 'cpu',
      account: 'lab42',
      sbatchArgs: ['--mem-per-cpu=2G', '--qos=short'],
    });
    expect(directives(text)).toEqual(
      expect.arrayContaining([
        '--time=2:00:00',
        '--partition=cpu',
        '--account=lab42',
        '--mem-per-cpu=2G',
        '--qos=short',
      ]),
    );
    expect(directives(text)).toHaveLength(11);
  });

  it('runs slice $SLURM_ARRAY_TASK_ID/n of the plan with -j equal to the CPUs, from the project root, after the setup lines', async () => {
    const text = sbatchScript({ ...BASE, setup: ['echo setup-ran'], kit: '/pdk/gf180' });
    const lines = text.split('\n');
    expect(lines.indexOf('echo setup-ran')).toBeLessThan(lines.findIndex((l) => l.startsWith('cd ')));
    // Run the script's body with a stand-in `node` that prints its working directory and arguments.
    await script('node', 'pwd; for a in "$@"; do echo "$a"; done');
    const file = path.join(dir, 'body.sh');
    await writeFile(file, text.replace("cd '/opt/bmru'", `cd '${dir}'`));
    const { stdout } = await run('bash', [file], {
      env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, SLURM_ARRAY_TASK_ID: '2' },
    });
    expect(stdout.trimEnd().split('\n')).toEqual([
      'setup-ran',
      dir,
      '/opt/bmru/bin/bmru.js',
      'batch',
      'run',
      '/data/plans/p.yaml',
      '--out',
      '/scratch/out',
      '--kit',
      '/pdk/gf180',
      '--slice',
      '2/3',
      '-j',
      '2',
      '-q',
    ]);
  });

  it('keeps paths with spaces, quotes and $ as one word each', async () => {
    const odd = "/tmp/it's a $HOME plan.yaml";
    const text = sbatchScript({ ...BASE, planFile: odd, projectRoot: dir });
    const { stdout } = await run('bash', ['-c', text], {
      env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, SLURM_ARRAY_TASK_ID: '0' },
    });
    expect(stdout.split('\n')).toContain(odd);
  });

  it('rejects what sbatch would misread: a bad time, a partition with a space, % in the output folder', () => {
    expect(() => sbatchScript({ ...BASE, time: '2 hours' })).toThrow(
      /'--time': expected minutes, h:mm:ss or d-hh:mm:ss, got '2 hours'/,
    );
    expect(() => sbatchScript({ ...BASE, partition: 'a b' })).toThrow(InputError);
    expect(() => sbatchScript({ ...BASE, outDir: '/scratch/100%' })).toThrow(/cannot contain " %/);
    expect(() => sbatchScript({ ...BASE, sbatchArgs: ['qos=short'] })).toThrow(/'--sbatch-arg'/);
    for (const t of ['90', '30:00', '2:00:00', '1-12', '1-12:30', '1-12:30:00', 'UNLIMITED'])
      expect(() => sbatchScript({ ...BASE, time: t })).not.toThrow();
  });

  it(`uses one task per job up to ${DEFAULT_MAX_TASKS}, never more tasks than jobs`, () => {
    expect(arrayTasks(5)).toBe(5);
    expect(arrayTasks(200)).toBe(DEFAULT_MAX_TASKS);
    expect(arrayTasks(200, 32)).toBe(32);
    expect(arrayTasks(2, 4)).toBe(2);
  });
});

describe('submitSbatch', () => {
  it('returns the job id sbatch --parsable prints, and with --wait its exit code', async () => {
    const fake = await script('sbatch-ok', 'echo "$@" > "$0.args"; echo "4711;cluster"; exit 2');
    const seen: string[] = [];
    const r = await submitSbatch('/x/submit.sbatch', { sbatch: fake, wait: true, onSubmitted: (id) => seen.push(id) });
    expect(r).toEqual({ jobId: '4711', exitCode: 2 });
    expect(seen).toEqual(['4711']);
    expect((await readFile(`${fake}.args`, 'utf8')).trim()).toBe('--parsable --wait /x/submit.sbatch');
  });

  it("fails naming the script and quoting sbatch's stderr when sbatch refuses it", async () => {
    const fake = await script('sbatch-no', 'echo "sbatch: error: invalid partition specified: nosuch" >&2; exit 1');
    const e = await submitSbatch('/x/submit.sbatch', { sbatch: fake }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BmruError);
    expect((e as BmruError).kind).toBe('slurm-submit');
    expect((e as Error).message).toBe(
      'sbatch refused /x/submit.sbatch (exit 1): sbatch: error: invalid partition specified: nosuch',
    );
  });

  it('says where the script is when sbatch is not installed', async () => {
    const e = await submitSbatch('/x/submit.sbatch', { sbatch: path.join(dir, 'no-sbatch') }).catch((x: unknown) => x);
    expect((e as BmruError).kind).toBe('slurm-missing');
    expect((e as Error).message).toContain('submit it there with: sbatch /x/submit.sbatch');
  });
});

describe('bmru batch submit', () => {
  it('refuses to submit without --slurm, naming the only engine', async () => {
    const plan = await fx.write('refuse.yaml', planText('out-refuse'));
    expectOneErrorLine(await fx.run(['batch', 'submit', plan]), 'needs --slurm: Slurm is the only engine');
  });

  it('writes <out>/slurm/submit.sbatch with --dry-run and submits nothing', async () => {
    const plan = await fx.write('dry.yaml', planText('out-dry'));
    const r = await fx.run(['batch', 'submit', plan, '--slurm', '--dry-run', '-c', '2']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe(
      `wrote out-dry/slurm/submit.sbatch (not submitted); submit it with: sbatch ${path.join(fx.dir, 'out-dry', 'slurm', 'submit.sbatch')}\n`,
    );
    const text = await readFile(path.join(fx.dir, 'out-dry', 'slurm', 'submit.sbatch'), 'utf8');
    expect(text).toContain('#SBATCH --array=0-4');
    expect(text).toContain(`--slice "$SLURM_ARRAY_TASK_ID/5" -j 2 -q`);
    expect(existsSync(path.join(fx.dir, 'out-dry', 'jobs.json'))).toBe(true); // status works before any task ran
  });
});

/**
 * A calibrateSizes plan with one sizes entry (mirrors at 4 um; c180's own are 8 um), so one process copy. These tests
 * calibrate nothing: a copy is either absent or planted with c180's own tables (same VDD, so they load), which a
 * reuse must not re-measure. The one real calibration of `batch submit` is in test/circuit/sizes-calibration.test.ts.
 */
describe('bmru batch submit / calibrate / run --slice with calibrateSizes (fake sbatch, nothing measured)', () => {
  const C180 = path.join(REPO_ROOT, 'models', 'c180');
  const sizedPlan = (out: string) =>
    `${planText(out).replace('seeds: { count: 5 }', 'seeds: { count: 2 }')}sizes: [{ mirrorLengthUm: 4 }]\ncalibrateSizes: true\n`;
  /** A fake sbatch on PATH that notes its arguments and prints a job id. */
  const fakeSbatchEnv = async (name: string) => {
    const bin = path.join(dir, `bin-${name}`);
    await rm(bin, { recursive: true, force: true });
    await run('mkdir', ['-p', bin]);
    const sbatch = path.join(bin, 'sbatch');
    await writeFile(sbatch, `#!/bin/sh\necho "$@" > "${bin}/args"\necho 4242\n`);
    await chmod(sbatch, 0o755);
    return { env: { PATH: `${bin}:${process.env.PATH}` }, args: path.join(bin, 'args') };
  };
  /** Exit 2 and an error as the last line (after the plan line these commands print first) naming `mentions`. */
  const expectErrorLast = (r: { exitCode: number | null; stderr: string }, ...mentions: string[]) => {
    expect(r.exitCode, r.stderr).toBe(2);
    const last = r.stderr.trimEnd().split('\n').at(-1)!;
    expect(last).toMatch(/^error: /);
    for (const m of mentions) expect(last).toContain(m);
  };
  /** The copy's folder as the plan names it (jobs.json's `sizesCalibration`), absolute. */
  const copyDir = async (planFile: string) => {
    const e = await expandPlan(await loadPlan(path.join(fx.dir, planFile)));
    const folders = [...new Set(e.jobs.map((j) => j.sizesCalibration))];
    expect(folders).toHaveLength(1);
    return path.join(e.plan.outDir, folders[0]!);
  };

  it('--dry-run writes the script, calibrates nothing and says which command makes the copies', async () => {
    const plan = await fx.write('sized-dry.yaml', sizedPlan('out-sized-dry'));
    const r = await fx.run(['batch', 'submit', plan, '--slurm', '--dry-run']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      `1 calibrated process copies the tasks read are not ready: run bmru batch calibrate ${path.join(fx.dir, plan)} --out ${path.join(fx.dir, 'out-sized-dry')}`,
    );
    expect(existsSync(path.join(fx.dir, 'out-sized-dry', 'calibrations'))).toBe(false);
  });

  it('--no-calibrate with the copy missing: exit 2 naming bmru batch calibrate, sbatch never called', async () => {
    const plan = await fx.write('sized-nocal.yaml', sizedPlan('out-sized-nocal'));
    const sb = await fakeSbatchEnv('nocal');
    const r = await fx.run(['batch', 'submit', plan, '--slurm', '--no-calibrate'], sb.env);
    expectErrorLast(r, 'not submitted: 1 calibrated process copies', 'not made yet', 'bmru batch calibrate');
    expect(existsSync(sb.args)).toBe(false);
  });

  it('a slice without its copy stops before any job, naming the command, and writes no copy and no result', async () => {
    const plan = await fx.write('sized-slice.yaml', sizedPlan('out-sized-slice'));
    const r = await fx.run(['batch', 'run', plan, '--slice', '0/2', '-q']);
    expectErrorLast(r, "'calibrateSizes': 1 calibrated process copies this slice needs", 'bmru batch calibrate');
    const out = path.join(fx.dir, 'out-sized-slice');
    expect(await readdir(path.join(out, 'results'))).toEqual([]);
    expect(existsSync(path.join(await copyDir(plan), 'calibration.json'))).toBe(false);
  });

  it('a planted copy is reused by calibrate and by submit, which then calls sbatch; a stale one stops a slice', async () => {
    const plan = await fx.write('sized-ok.yaml', sizedPlan('out-sized-ok'));
    const copy = await copyDir(plan);
    await writeProcessCopy(path.join(C180, 'process.json'), { sizing: { mirrorLengthUm: 4 } }, copy);
    await copyFile(path.join(C180, 'calibration.json'), path.join(copy, 'calibration.json'));
    const before = await readFile(path.join(copy, 'calibration.json'), 'utf8');

    const cal = await fx.run(['batch', 'calibrate', plan]);
    expect(cal.exitCode, cal.stderr).toBe(0);
    expect(cal.stderr).toContain('reusing the tables of c180 at mirrorLengthUm=4 (1/1)');
    expect(cal.stderr).toMatch(/0 calibrated, 1 reused, 0 failed of 1 copies/);

    const sb = await fakeSbatchEnv('ok');
    const r = await fx.run(['batch', 'submit', plan, '--slurm'], sb.env);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain('reusing the tables of c180 at mirrorLengthUm=4 (1/1)');
    expect(r.stdout).toContain('Slurm job 4242');
    expect((await readFile(sb.args, 'utf8')).trim()).toMatch(/--parsable .*submit\.sbatch$/);
    expect(await readFile(path.join(copy, 'calibration.json'), 'utf8')).toBe(before); // reused, not re-measured

    // Tables of an older calibration method (no fingerprint): a slice stops, says why and names the command.
    const { method: _, ...unmarked } = JSON.parse(before) as { method?: string };
    await writeFile(path.join(copy, 'calibration.json'), JSON.stringify(unmarked, null, 1) + '\n');
    const stale = await fx.run(['batch', 'run', plan, '--slice', '0/2', '-q']);
    expectErrorLast(stale, 'its tables were measured by another calibration method', 'bmru batch calibrate');
    await writeFile(path.join(copy, 'calibration.json'), before);

    // The copy's process.json no longer what the plan makes (as after an edit of c180's): a slice says so, measures nothing.
    const process = JSON.parse(await readFile(path.join(copy, 'process.json'), 'utf8'));
    await writeFile(
      path.join(copy, 'process.json'),
      JSON.stringify({ ...process, vddV: process.vddV + 0.1 }, null, 2) + '\n',
    );
    const slice = await fx.run(['batch', 'run', plan, '--slice', '1/2', '-q']);
    expectErrorLast(slice, 'made from another process.json', 'bmru batch calibrate');
  });

  it('calibrateSizesCopies: each copy measured once at its sizes, then reused; a failed one reported, not thrown', async () => {
    const text = `${sizedPlan('out-lib')}`.replace(
      'sizes: [{ mirrorLengthUm: 4 }]',
      'sizes: [{ mirrorLengthUm: 4 }, { mirrorLengthUm: 16 }]',
    );
    const e = await expandPlan(await parsePlan(text, path.join(fx.dir, 'lib.yaml')));
    expect(e.jobs).toHaveLength(4); // 2 seeds x 2 sizes, each size its own copy
    const own = (await loadCalibration(C180))!;
    const seen: number[] = [];
    // c180's own tables stand in for a measurement (same VDD, so the copy loads them): what is tested is who measures.
    const measure = async (p: Process) => {
      seen.push(p.sizing.mirrorLengthUm);
      return own;
    };
    const first = await calibrateSizesCopies(e, { calibrateSizes: measure, calibrationMethod: calibrationMethod() });
    expect(seen).toEqual([4, 16]);
    expect(first.map((x) => [x.label, x.outcome])).toEqual([
      ['c180 at mirrorLengthUm=4 (1/2)', 'measured'],
      ['c180 at mirrorLengthUm=16 (2/2)', 'measured'],
    ]);
    expect(await missingSizesCalibrations(e, calibrationMethod())).toEqual([]);
    const again = await calibrateSizesCopies(e, { calibrateSizes: measure, calibrationMethod: calibrationMethod() }); // the lock was released
    expect(seen).toHaveLength(2);
    expect(again.map((x) => x.outcome)).toEqual(['reused', 'reused']);

    // The first copy's tables as an older toolkit wrote them (no method fingerprint): missing, then measured again.
    const { method: _, ...unmarked } = JSON.parse(await readFile(first[0].file, 'utf8')) as { method?: string };
    await writeFile(first[0].file, JSON.stringify(unmarked));
    const why =
      /^its tables were measured by another calibration method \(the tables carry no method fingerprint; this toolkit's is [0-9a-f]{12}\)$/;
    expect(await missingSizesCalibrations(e, calibrationMethod())).toEqual([
      { file: first[0].file, why: expect.stringMatching(why) },
    ]);
    const remeasured = await calibrateSizesCopies(e, {
      calibrateSizes: measure,
      calibrationMethod: calibrationMethod(),
    });
    expect(remeasured.map((x) => [x.outcome, x.why])).toEqual([
      ['measured', expect.stringMatching(why)],
      ['reused', undefined],
    ]);
    expect(seen).toEqual([4, 16, 4]);

    await rm(first[1].file);
    expect((await missingSizesCalibrations(e, calibrationMethod())).map((m) => [m.file, m.why])).toEqual([
      [first[1].file, 'no calibration.json (never calibrated, or interrupted)'],
    ]);
    const failed = await calibrateSizesCopies(e, {
      calibrationMethod: calibrationMethod(),
      calibrateSizes: async () => {
        throw new Error('no convergence');
      },
    });
    expect(failed.map((x) => [x.outcome, x.error])).toEqual([
      ['reused', undefined],
      ['failed', 'no convergence'],
    ]);
  });

  it('calibrate on a plan without calibrateSizes has nothing to do', async () => {
    const plan = await fx.write('plain-cal.yaml', planText('out-plain-cal'));
    const r = await fx.run(['batch', 'calibrate', plan]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^plan slurm has no calibrateSizes: nothing to calibrate/);
  });
});

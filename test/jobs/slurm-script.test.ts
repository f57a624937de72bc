/**
 * The sbatch script's text and the option checks of src/jobs/slurm.ts, pure (no sbatch, no bash). Every expected
 * script below is written out by hand from the format the module's comments give and from what sbatch reads: a
 * `#!/bin/bash` line, `# ` comments, one `#SBATCH <option>` line per option before the first command, then the
 * commands, the file ending in a newline. Error texts are InputError's format: `'<field>': <rule>`.
 */
import { describe, expect, it } from 'vitest';
import {
  arrayScript,
  dependencyArgs,
  sbatchScript,
  sbatchScriptPath,
  slurmDir,
  type ArrayScriptOptions,
  type SbatchOptions,
} from '../../src/jobs/slurm.js';
import { InputError } from '../../src/errors.js';

const BASE: SbatchOptions = {
  planFile: '/data/plans/p.yaml',
  outDir: '/scratch/out',
  jobName: 'bmru-p',
  tasks: 3,
  cpusPerTask: 2,
  projectRoot: '/opt/bmru',
  bin: '/opt/bmru/bin/bmru.js',
};

// The per-run header line of every task log: bash expands ${VAR:-default} and $(date ...) when the task starts.
const HEADER =
  'echo "== bmru: array task ${SLURM_ARRAY_TASK_ID:-?}, restart ${SLURM_RESTART_COUNT:-0}, on ${HOSTNAME:-?} at $(date -u +%Y-%m-%dT%H:%M:%SZ)" >&2';

const ARRAY: ArrayScriptOptions = {
  jobName: 'stage-0',
  tasks: 2,
  cpusPerTask: 1,
  projectRoot: '/opt/bmru',
  bin: '/opt/bmru/bin/bmru.js',
  logDir: '/scratch/logs',
  comments: [],
  body: ['exec node run.js'],
};

/** The InputError `f` throws (fails the test when it throws nothing, or something else). */
function refusal(f: () => unknown): InputError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('expected an InputError, nothing was thrown');
}

describe('sbatchScript, the whole text', () => {
  it('is the shebang, four comment lines, the #SBATCH options, set -e, the log header, cd and the exec line', () => {
    // By hand: 3 tasks -> --array=0-2 and --slice ".../3"; 2 CPUs -> --cpus-per-task=2 and -j 2; the results
    // folder <out>/results, the script <out>/slurm/submit.sbatch, the logs <out>/slurm/%A_%a.out (%A the array's job
    // id, %a the task: sbatch's filename patterns); paths single-quoted for bash.
    expect(sbatchScript(BASE)).toBe(
      [
        '#!/bin/bash',
        '# Written by `bmru batch submit --slurm`: plan /data/plans/p.yaml as 3 array tasks of 2 CPU(s).',
        "# Task i runs the plan's jobs with index % 3 == i and publishes each result in /scratch/out/results/<id>.json.",
        '# Submitting this file again (sbatch /scratch/out/slurm/submit.sbatch) runs only the jobs without a result.',
        '# When every task has ended: bmru batch report /scratch/out',
        '#SBATCH --job-name=bmru-p',
        '#SBATCH --array=0-2',
        '#SBATCH --ntasks=1',
        '#SBATCH --cpus-per-task=2',
        '#SBATCH --output="/scratch/out/slurm/%A_%a.out"',
        '#SBATCH --open-mode=append',
        'set -e',
        HEADER,
        "cd '/opt/bmru'",
        '# exec: a time limit or scancel signals node itself, which stops its ngspice processes and keeps finished jobs.',
        "exec node '/opt/bmru/bin/bmru.js' batch run '/data/plans/p.yaml' --out '/scratch/out' --slice \"$SLURM_ARRAY_TASK_ID/3\" -j 2 -q",
        '',
      ].join('\n'),
    );
  });

  it('puts the optional #SBATCH lines in the order time, partition, account, pass-through, after the log options', () => {
    const text = sbatchScript({
      ...BASE,
      tasks: 1,
      cpusPerTask: 4,
      time: '10-12',
      partition: 'cpu,gpu',
      account: 'lab42',
      sbatchArgs: ['-p debug', '--qos=short'],
      setup: ['module load nodejs'],
    });
    const lines = text.split('\n');
    // By hand: 1 task -> --array=0-0 (sbatch's inclusive range), 4 CPUs.
    expect(lines.filter((l) => l.startsWith('#SBATCH '))).toEqual([
      '#SBATCH --job-name=bmru-p',
      '#SBATCH --array=0-0',
      '#SBATCH --ntasks=1',
      '#SBATCH --cpus-per-task=4',
      '#SBATCH --time=10-12',
      '#SBATCH --partition=cpu,gpu',
      '#SBATCH --account=lab42',
      '#SBATCH --output="/scratch/out/slurm/%A_%a.out"',
      '#SBATCH --open-mode=append',
      '#SBATCH -p debug',
      '#SBATCH --qos=short',
    ]);
    // The setup line after the header, before cd.
    expect(lines.slice(16, 20)).toEqual(['set -e', HEADER, 'module load nodejs', "cd '/opt/bmru'"]);
    expect(lines.at(-2)).toMatch(/ --slice "\$SLURM_ARRAY_TASK_ID\/1" -j 4 -q$/);
  });
});

describe('arrayScript', () => {
  it('with no comments and one body line: shebang, #SBATCH lines, set -e, header, cd, the body, a final newline', () => {
    expect(arrayScript(ARRAY)).toBe(
      [
        '#!/bin/bash',
        '#SBATCH --job-name=stage-0',
        '#SBATCH --array=0-1',
        '#SBATCH --ntasks=1',
        '#SBATCH --cpus-per-task=1',
        '#SBATCH --output="/scratch/logs/%A_%a.out"',
        '#SBATCH --open-mode=append',
        'set -e',
        HEADER,
        "cd '/opt/bmru'",
        'exec node run.js',
        '',
      ].join('\n'),
    );
  });

  it('writes each comment as a "# " line right after the shebang', () => {
    const lines = arrayScript({ ...ARRAY, comments: ['first', 'second one'] }).split('\n');
    expect(lines.slice(0, 4)).toEqual(['#!/bin/bash', '# first', '# second one', '#SBATCH --job-name=stage-0']);
  });

  it("names the log folder's option in its refusal: --out by default, else logDirFlag", () => {
    const rule = 'the output folder names the Slurm log files and cannot contain " % \\ or a newline: /scratch/a"b';
    expect(refusal(() => arrayScript({ ...ARRAY, logDir: '/scratch/a"b' })).message).toBe(`'--out': ${rule}`);
    const e = refusal(() => arrayScript({ ...ARRAY, logDir: '/scratch/a"b', logDirFlag: '--logs' }));
    expect([e.field, e.message]).toEqual(['--logs', `'--logs': ${rule}`]);
  });
});

describe('the option checks', () => {
  it('refuses a task count or CPU count that is not an integer >= 1, naming the flag and the value', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      expect(refusal(() => sbatchScript({ ...BASE, tasks: bad })).message).toBe(
        `'--tasks': must be an integer >= 1, got ${bad}`,
      );
      expect(refusal(() => sbatchScript({ ...BASE, cpusPerTask: bad })).message).toBe(
        `'--cpus-per-task': must be an integer >= 1, got ${bad}`,
      );
    }
  });

  it('accepts the Slurm time formats, days of two digits and INFINITE in any case; refuses anything around them', () => {
    // Slurm's --time: minutes, m:s, h:m:s, d-h, d-h:m, d-h:m:s, UNLIMITED/INFINITE.
    for (const t of ['10-12', '10-1:30:00', '123', 'infinite', 'Unlimited'])
      expect(sbatchScript({ ...BASE, time: t })).toContain(`\n#SBATCH --time=${t}\n`);
    // Four fields, or a valid time after other words, is no Slurm time.
    for (const t of ['1:00:00:00', 'about 90', '1-2-3'])
      expect(refusal(() => sbatchScript({ ...BASE, time: t })).message).toBe(
        `'--time': expected minutes, h:mm:ss or d-hh:mm:ss, got '${t}'`,
      );
  });

  it('refuses a partition, an account or a job name with a space, naming the field and the value', () => {
    expect(refusal(() => sbatchScript({ ...BASE, partition: 'a b' })).message).toBe(
      "'--partition': expected a partition name (or a comma list), got 'a b'",
    );
    expect(refusal(() => sbatchScript({ ...BASE, account: 'lab 42' })).message).toBe(
      "'--account': expected an account name, got 'lab 42'",
    );
    expect(refusal(() => sbatchScript({ ...BASE, jobName: 'my job' })).message).toBe(
      "'job name': expected letters, digits and _ . , + - only, got 'my job'",
    );
  });

  it('takes pass-through options that start with - or -- and a letter; refuses an option without its dash', () => {
    // `#SBATCH -p debug` is sbatch's short form of --partition=debug.
    expect(sbatchScript({ ...BASE, sbatchArgs: ['-p debug'] })).toContain('\n#SBATCH -p debug\n');
    for (const a of ['mem-per-cpu=2G', '---qos=short'])
      expect(refusal(() => sbatchScript({ ...BASE, sbatchArgs: [a] })).message).toBe(
        `'--sbatch-arg': expected one sbatch option like --qos=short, got '${a}'`,
      );
  });

  it('refuses a setup entry of two lines', () => {
    expect(refusal(() => sbatchScript({ ...BASE, setup: ['module load a\nmodule load b'] })).message).toBe(
      "'--setup': expected one shell line per --setup",
    );
  });

  it("names --out when the batch's output folder cannot name a log (the logs go to <out>/slurm)", () => {
    expect(refusal(() => sbatchScript({ ...BASE, outDir: '/scratch/100%' })).message).toBe(
      `'--out': the output folder names the Slurm log files and cannot contain " % \\ or a newline: /scratch/100%/slurm`,
    );
  });
});

describe('paths and dependencies', () => {
  it('keeps the script and logs in <out>/slurm/, the script as submit.sbatch', () => {
    expect(slurmDir('/scratch/out')).toBe('/scratch/out/slurm');
    expect(sbatchScriptPath('/scratch/out')).toBe('/scratch/out/slurm/submit.sbatch');
  });

  it('holds a job until the given one ended with exit 0, and cancels it if that one failed', () => {
    // sbatch(1): --dependency=afterok:<id>, --kill-on-invalid-dep=yes.
    expect(dependencyArgs('1234')).toEqual(['--dependency=afterok:1234', '--kill-on-invalid-dep=yes']);
  });
});

/**
 * A batch plan as a Slurm job array: `sbatchScript` writes the script (pure), `submitSbatch` hands it to
 * `sbatch`. Array task i runs `bmru batch run <plan> --slice i/n`, the jobs whose plan index % n == i. Slices
 * only publish per-job records into the shared output folder, so tasks never contend for a file, a requeued
 * or resubmitted task skips what is done, and `bmru batch report <out>` merges the records afterwards.
 *
 * ```ts
 * const text = sbatchScript({ planFile: '/p/plan.yaml', outDir: '/scratch/out', jobName: 'bmru-example', tasks: 3, cpusPerTask: 2,
 *   projectRoot: '/opt/bmru-cosim', bin: '/opt/bmru-cosim/bin/bmru.js' });
 * await writeFile('/scratch/out/slurm/submit.sbatch', text);
 * const { jobId } = await submitSbatch('/scratch/out/slurm/submit.sbatch');
 * ```
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { BmruError, InputError } from '../errors.js';

/** Array tasks when `--tasks` is not given: one per job up to this many (a few dozen jobs per task is fine). */
export const DEFAULT_MAX_TASKS = 8;

/** Slurm settings of every array script (`bmru batch submit`, `bmru compare --slurm`); every path absolute. */
export interface SlurmSettings {
  /** CPUs per task. */
  readonly cpusPerTask: number;
  /** Wall-time limit per task in a Slurm time format (`90`, `2:00:00`, `1-12`); none: the partition's default. */
  readonly time?: string;
  readonly partition?: string;
  readonly account?: string;
  /** More sbatch options, one per `#SBATCH` line (`--mem-per-cpu=2G`, `--qos=short`). */
  readonly sbatchArgs?: readonly string[];
  /** Shell lines run before the work in each task (`module load nodejs ngspice`). */
  readonly setup?: readonly string[];
  /** The toolkit's folder (the task runs there) and its `bin/bmru.js`. */
  readonly projectRoot: string;
  readonly bin: string;
}

/** One job array: its name, size, where its logs go, and what each task runs. */
export interface ArrayScriptOptions extends SlurmSettings {
  /** `--job-name`, e.g. `bmru-<plan name>`. */
  readonly jobName: string;
  /** Array tasks n (`--array=0-(n-1)`). */
  readonly tasks: number;
  /** The folder of the task logs `<jobid>_<task>.out`; on a filesystem every node sees. */
  readonly logDir: string;
  /** `# ` lines after the shebang: what the script is and how to submit it again. */
  readonly comments: readonly string[];
  /** Shell lines after `cd <projectRoot>`, the last one `exec node <bin> ...`; `$SLURM_ARRAY_TASK_ID` is the task. */
  readonly body: readonly string[];
  /** The option that set `logDir`, for the error when its path cannot name a log. */
  readonly logDirFlag?: string;
}

/** What the batch script needs; every path absolute, since the task starts on another machine in another folder. */
export interface SbatchOptions extends SlurmSettings {
  /** The plan file. */
  readonly planFile: string;
  /** The batch's output folder; must be on a filesystem every node sees. */
  readonly outDir: string;
  /** `--job-name`, e.g. `bmru-<plan name>`. */
  readonly jobName: string;
  /** Array tasks n (`--array=0-(n-1)`, `--slice i/n`); each task's ngspice workers (`-j`) are its CPUs. */
  readonly tasks: number;
  /** PDK folder passed on as `--kit`. */
  readonly kit?: string;
  /** The verdict's reference, passed on as `--reference` (absent: the plan's). */
  readonly reference?: string;
  /** A hardware-aware model file (absolute), passed on as `--hwaware-model`. */
  readonly hwawareModel?: string;
  /** I_unit (A) for every model, passed on as `--unit-current` (absent: the models'). */
  readonly unitCurrentA?: number;
}

/** Where `bmru batch submit` keeps the script and the task logs: `<out>/slurm/`. */
export function slurmDir(outDir: string): string {
  return join(outDir, 'slurm');
}

/** The script's path: `<out>/slurm/submit.sbatch`. */
export function sbatchScriptPath(outDir: string): string {
  return join(slurmDir(outDir), 'submit.sbatch');
}

/** The array tasks for `jobs` jobs to run: `requested` if given, never more than the jobs (a task without jobs only costs a slot). */
export function arrayTasks(jobs: number, requested?: number): number {
  return Math.max(1, Math.min(jobs, requested ?? DEFAULT_MAX_TASKS));
}

/** Slurm's time formats: minutes, m:s, h:m:s, d-h, d-h:m, d-h:m:s, or UNLIMITED. */
const SLURM_TIME = /^(?:\d+-\d+(?::\d+){0,2}|\d+(?::\d+){0,2}|UNLIMITED|INFINITE)$/i;
const SLURM_NAME = /^[A-Za-z0-9_.,+-]+$/;

/**
 * The sbatch script of a plan: a job array whose task i runs slice i/n of the plan.
 *
 * @throws InputError for an option sbatch would misread (a bad time, a name with spaces, a path with `%` or `"`)
 */
export function sbatchScript(o: SbatchOptions): string {
  const run = [
    'exec node',
    sh(o.bin),
    'batch run',
    sh(o.planFile),
    '--out',
    sh(o.outDir),
    ...(o.kit === undefined ? [] : ['--kit', sh(o.kit)]),
    ...(o.reference === undefined ? [] : ['--reference', sh(o.reference)]),
    ...(o.hwawareModel === undefined ? [] : ['--hwaware-model', sh(o.hwawareModel)]),
    ...(o.unitCurrentA === undefined ? [] : ['--unit-current', String(o.unitCurrentA)]),
    `--slice "$SLURM_ARRAY_TASK_ID/${o.tasks}"`,
    `-j ${o.cpusPerTask}`,
    '-q',
  ].join(' ');
  return arrayScript({
    ...o,
    logDir: slurmDir(o.outDir),
    logDirFlag: '--out',
    comments: [
      `Written by \`bmru batch submit --slurm\`: plan ${o.planFile} as ${o.tasks} array tasks of ${o.cpusPerTask} CPU(s).`,
      `Task i runs the plan's jobs with index % ${o.tasks} == i and publishes each result in ${join(o.outDir, 'results')}/<id>.json.`,
      `Submitting this file again (sbatch ${sbatchScriptPath(o.outDir)}) runs only the jobs without a result.`,
      `When every task has ended: bmru batch report ${o.outDir}`,
    ],
    body: [
      '# exec: a time limit or scancel signals node itself, which stops its ngspice processes and keeps finished jobs.',
      run,
    ],
  });
}

/**
 * A job array's script: `#SBATCH` lines from the settings, a header line per run of a task in its log, the
 * setup lines, `cd` to the toolkit, then the body.
 *
 * @throws InputError for an option sbatch would misread (a bad time, a name with spaces, a path with `%` or `"`)
 */
export function arrayScript(o: ArrayScriptOptions): string {
  check(Number.isInteger(o.tasks) && o.tasks >= 1, '--tasks', `must be an integer >= 1, got ${o.tasks}`);
  check(
    Number.isInteger(o.cpusPerTask) && o.cpusPerTask >= 1,
    '--cpus-per-task',
    `must be an integer >= 1, got ${o.cpusPerTask}`,
  );
  check(
    o.time === undefined || SLURM_TIME.test(o.time),
    '--time',
    `expected minutes, h:mm:ss or d-hh:mm:ss, got '${o.time}'`,
  );
  check(
    o.partition === undefined || SLURM_NAME.test(o.partition),
    '--partition',
    `expected a partition name (or a comma list), got '${o.partition}'`,
  );
  check(
    o.account === undefined || SLURM_NAME.test(o.account),
    '--account',
    `expected an account name, got '${o.account}'`,
  );
  check(SLURM_NAME.test(o.jobName), 'job name', `expected letters, digits and _ . , + - only, got '${o.jobName}'`);
  for (const a of o.sbatchArgs ?? [])
    check(
      /^--?[A-Za-z]/.test(a) && !/[\n\r]/.test(a),
      '--sbatch-arg',
      `expected one sbatch option like --qos=short, got '${a}'`,
    );
  for (const s of o.setup ?? []) check(!/[\n\r]/.test(s), '--setup', 'expected one shell line per --setup');
  // sbatch reads #SBATCH values with double quotes but expands % patterns in file names: keep both out.
  check(
    !/["%\n\r\\]/.test(o.logDir),
    o.logDirFlag ?? '--out',
    `the output folder names the Slurm log files and cannot contain " % \\ or a newline: ${o.logDir}`,
  );

  const log = join(o.logDir, '%A_%a.out'); // %A: the array's job id, %a: the task index
  const directives = [
    `--job-name=${o.jobName}`,
    `--array=0-${o.tasks - 1}`,
    '--ntasks=1',
    `--cpus-per-task=${o.cpusPerTask}`,
    ...(o.time === undefined ? [] : [`--time=${o.time}`]),
    ...(o.partition === undefined ? [] : [`--partition=${o.partition}`]),
    ...(o.account === undefined ? [] : [`--account=${o.account}`]),
    `--output="${log}"`,
    // A requeued task (preemption, node failure) keeps its job id and so its log name: append, or the rerun
    // truncates the log of the first run, which is the one that says why it ended.
    '--open-mode=append',
    ...(o.sbatchArgs ?? []),
  ];
  return [
    '#!/bin/bash',
    ...o.comments.map((c) => `# ${c}`),
    ...directives.map((d) => `#SBATCH ${d}`),
    'set -e',
    // A header per run of the task (on stderr, which shares the log): the appended log shows where a requeued run starts.
    'echo "== bmru: array task ${SLURM_ARRAY_TASK_ID:-?}, restart ${SLURM_RESTART_COUNT:-0}, on ${HOSTNAME:-?} at $(date -u +%Y-%m-%dT%H:%M:%SZ)" >&2',
    ...(o.setup ?? []),
    `cd ${sh(o.projectRoot)}`,
    ...o.body,
    '',
  ].join('\n');
}

function check(ok: boolean, field: string, rule: string): void {
  if (!ok) throw new InputError(rule, { field });
}

/** A word for bash: single-quoted, so spaces and `$` in paths stay as they are. */
export function sh(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** What sbatch answered. */
export interface SubmitResult {
  /** The array's job id (tasks are `<jobId>_<i>`). */
  readonly jobId: string;
  /** With `wait`: sbatch's exit code, the highest exit code of any task (0 when all tasks ended with 0). */
  readonly exitCode: number | null;
}

export interface SubmitOptions {
  /** Block until every task has ended (`sbatch --wait`). */
  readonly wait?: boolean;
  /** Called with the job id as soon as sbatch prints it (before the wait). */
  readonly onSubmitted?: (jobId: string) => void;
  /** The sbatch binary. Default: `sbatch` on the PATH. */
  readonly sbatch?: string;
  /** More sbatch options before the script, e.g. `dependencyArgs(jobId)`. */
  readonly args?: readonly string[];
}

/**
 * sbatch options that hold a job until job `jobId` (every task of an array) has ended with exit code 0, and cancel
 * it if that job fails: without the cancel, a failed stage would leave the next pending forever (reason
 * DependencyNeverSatisfied) and `sbatch --wait` on the last one would never return.
 */
export function dependencyArgs(jobId: string): string[] {
  return [`--dependency=afterok:${jobId}`, '--kill-on-invalid-dep=yes'];
}

/**
 * Submits a script with `sbatch --parsable` (and `--wait` if asked) and returns the job id.
 *
 * @throws BmruError `slurm-missing` when sbatch is not installed, `slurm-submit` when sbatch refuses the
 *   script (the message names the script and quotes sbatch's stderr)
 */
export function submitSbatch(script: string, opts: SubmitOptions = {}): Promise<SubmitResult> {
  const bin = opts.sbatch ?? 'sbatch';
  const args = ['--parsable', ...(opts.wait ? ['--wait'] : []), ...(opts.args ?? []), script];
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let jobId: string | undefined;
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
      // --parsable prints `<id>` or `<id>;<cluster>` at submission; with --wait the exit comes much later.
      const m = jobId === undefined ? /^(\d+)(?:;\S+)?\r?\n/.exec(stdout) : null;
      if (m) {
        jobId = m[1];
        opts.onSubmitted?.(jobId);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.once('error', (e: NodeJS.ErrnoException) => {
      reject(
        e.code === 'ENOENT'
          ? new BmruError(
              `${bin} not found: run on a Slurm login node (or install Slurm's clients); the script is written, submit it there with: sbatch ${script}`,
              'slurm-missing',
            )
          : new BmruError(`cannot run ${bin} for ${script}: ${e.message}`, 'slurm-submit'),
      );
    });
    child.once('close', (code, signal) => {
      if (jobId !== undefined) return resolve({ jobId, exitCode: opts.wait ? code : 0 });
      const said = stderr.trim().replace(/\s*\n\s*/g, ' | ') || stdout.trim() || '(nothing on stderr)';
      reject(new BmruError(`sbatch refused ${script} (${signal ?? `exit ${code}`}): ${said}`, 'slurm-submit'));
    });
  });
}

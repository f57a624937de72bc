import os from 'node:os';
import { join, relative } from 'node:path';
import type { Argv } from 'yargs';
import { writeToString } from 'fast-csv';
import { expandPlan, loadPlan, parseSlice, type Job } from '../../jobs/plan.js';
import {
  calibrateCommand,
  calibrateSizesCopies,
  jobsFileOf,
  missingSizesCalibrations,
  runBatch,
  type BatchSummary,
} from '../../jobs/run.js';
import type { ExpandedPlan } from '../../jobs/plan.js';
import { outPaths, readAllResults, writeJobsFile, type OutPaths, type ResultRecord } from '../../jobs/store.js';
import {
  arrayTasks,
  DEFAULT_MAX_TASKS,
  sbatchScript,
  sbatchScriptPath,
  slurmDir,
  submitSbatch,
} from '../../jobs/slurm.js';
import { PACKAGE_ROOT } from '../../util/paths.js';
import {
  intAtLeast,
  referenceOptions,
  sizesCalibrationOptions,
  warnStalePlanTables,
  unitCurrentOption,
  type ReferenceArgs,
} from '../common.js';
import { calibrationMethod } from '../../calibrate/method.js';
import { REFERENCE_NAMES, type ReferenceName } from '../../compare/references.js';
import {
  buildDatasheet,
  datasheetExitCode,
  datasheetHtml,
  datasheetMarkdown,
  formatLimit,
  formatValue,
} from '../../jobs/datasheet.js';
import { InputError } from '../../errors.js';
import {
  aggregate,
  batchStatus,
  type OpenedBatch,
  failedRecords,
  openBatch,
  refreshStreams,
  REPORT_HEADER,
  reportCsvRow,
  writeReportPage,
} from '../../jobs/report.js';
import { FAILURE_CLASSES } from '../../jobs/failure.js';
import { batchProgressText, progress } from '../progress.js';
import { interruptible } from '../interrupt.js';
import { batchExitCode, EXIT_BELOW_TOLERANCE, EXIT_ERROR, EXIT_INTERRUPTED } from '../exit.js';
import { pct, table } from '../format.js';
import { makeDir, writeFileAtomic } from '../../util/output.js';
import { tableHwaware } from '../../analysis/hwmodel.js';

export function builder(y: Argv) {
  return y
    .command(runCommand)
    .command(calibrateCommandSpec)
    .command(submitCommand)
    .command(statusCommand)
    .command(reportCommand)
    .demandCommand(1, 'Name a batch command: run, calibrate, submit, status or report.')
    .example('$0 batch run models/example/batch-example.yaml', 'the shipped example plan, one ngspice per core')
    .example(
      '$0 batch submit models/example/batch-example.yaml --slurm',
      'the same plan as a Slurm job array (docs/slurm.md)',
    )
    .example('$0 batch status out/batch-example', 'done / failed / pending counts')
    .example('$0 batch report out/batch-example', 'aggregate table per model and corner, report.csv');
}

export function handler(): void {
  // Only the subcommands do anything.
}

const planOptions = <T>(y: Argv<T>) =>
  y
    .option('out', {
      alias: 'o',
      type: 'string',
      describe: "output folder (overrides the plan's out)",
      defaultDescription: 'plan out, else out/batch-<name>',
    })
    .option('kit', {
      type: 'string',
      describe: "PDK folder for processes whose deck lines use {kit} (overrides the plan's kit)",
    });

/**
 * Plan overrides of run and submit: the kit, the output folder, the verdict's reference, the hardware-aware model
 * and I_unit.
 */
const overrides = (a: { out?: string; kit?: string; unitCurrent?: number } & ReferenceArgs) => ({
  out: a.out,
  kit: a.kit,
  reference: a.reference as ReferenceName | undefined,
  hwawareModel: a.hwawareModel,
  unitCurrentA: a.unitCurrent,
});

const REFERENCE_EPILOGUE =
  'Every job scores the circuit against the trained and the realised model (and the hardware-aware one, given one); its verdict ' +
  "judges one of them: the plan's reference, else the best predictor available for the process (realised today). A --reference " +
  "other than the plan's makes other jobs (a job id includes a chosen reference), so finished results of the other reference stay as they are.";

const runCommand = {
  command: 'run <plan>',
  describe: 'Run every job of a plan that has no result yet; each result is written the moment its job ends',
  builder: (y: Argv) =>
    unitCurrentOption(referenceOptions(planOptions(y)), "each model's")
      .positional('plan', { type: 'string', demandOption: true, describe: 'plan YAML file' })
      .option('workers', {
        alias: 'j',
        type: 'number',
        default: os.availableParallelism(),
        describe: 'ngspice processes at once (each single-threaded)',
      })
      .option('slice', {
        type: 'string',
        describe:
          'run only jobs with index % n == i, as i/n (0-based, e.g. $SLURM_ARRAY_TASK_ID/8); writes per-job results only',
      })
      .option('retries', {
        type: 'number',
        describe: 'extra attempts after a timeout or crash',
        defaultDescription: 'plan retries, else 2',
      })
      .option('timeout', {
        type: 'number',
        describe: 'seconds before one ngspice attempt is killed',
        defaultDescription: 'plan timeoutS, else 1800',
      })
      .option('retry-failed', { type: 'boolean', default: false, describe: 'run jobs whose result says failed again' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no progress line' })
      .check((a) => intAtLeast('workers', a.workers, 1))
      .check(
        (a) =>
          a.retries === undefined ||
          (Number.isInteger(a.retries) && a.retries >= 0) ||
          `--retries must be an integer >= 0, got ${a.retries}`,
      )
      .check(
        (a) =>
          a.timeout === undefined || a.timeout > 0 || `--timeout must be a number of seconds > 0, got ${a.timeout}`,
      )
      .example(
        '$0 batch run plan.yaml -j 2',
        'two ngspice processes at once; rerun the same command to finish an interrupted batch',
      )
      .example(
        '$0 batch run plan.yaml --slice $SLURM_ARRAY_TASK_ID/8 -j 1',
        'one task of an 8-way Slurm array (with calibrateSizes: after bmru batch calibrate plan.yaml)',
      )
      .example('$0 batch run plan.yaml --unit-current 1e-9', 'every model at I_unit = 1 nA (jobs of their own)')
      .epilogue(
        `${REFERENCE_EPILOGUE}\n` +
          'With calibrateSizes the whole plan calibrates the copies it lacks before any job; a --slice only reads them and stops ' +
          '(exit 2, no job run) when one is missing, naming `bmru batch calibrate`.\n' +
          'Exit code: 0 every job ran and passed its tolerances, 1 some job is below tolerance, 2 some job failed ' +
          '(after retries) or the plan is invalid, 130 interrupted (finished jobs are kept; run again to go on).',
      ),
  handler: runHandler,
};

interface RunArgs extends ReferenceArgs {
  plan: string;
  unitCurrent?: number;
  out?: string;
  kit?: string;
  workers: number;
  slice?: string;
  retries?: number;
  timeout?: number;
  retryFailed: boolean;
  quiet: boolean;
}

async function runHandler(a: RunArgs): Promise<void> {
  const slice = a.slice === undefined ? undefined : parseSlice(a.slice);
  const plan = await loadPlan(a.plan, overrides(a));
  const expanded = await expandPlan(plan);
  warnStalePlanTables(expanded);
  const dups = expanded.duplicates > 0 ? ` (${expanded.duplicates} duplicate jobs dropped)` : '';
  const share = slice ? `, slice ${slice.index}/${slice.count}` : '';
  console.error(
    `plan ${plan.name}: ${expanded.jobs.length} jobs${dups}${share}, ${a.workers} workers, verdicts against the ${plan.reference ?? 'best available (default: hwaware where the process has hardware tables, else realised)'} model, results in ${shown(plan.outDir)}`,
  );

  const p = progress(`batch ${plan.name}`, a.quiet);
  const summary = await interruptible(
    (signal) =>
      runBatch(expanded, {
        workers: a.workers,
        processHwaware: tableHwaware,
        ...sizesCalibrationOptions(p, a.workers, signal),
        // A slice is one of many at once (an array task): it reads the copies `batch calibrate` made, never measures one.
        sizesCalibrationsReadOnly: slice !== undefined,
        slice,
        retries: a.retries,
        timeoutS: a.timeout,
        retryFailed: a.retryFailed,
        signal,
        onProgress: (x) => p.update(batchProgressText(x)),
        onRecord: (r) => {
          if (r.status === 'failed') p.note(`failed: ${failureLine(r)}`);
        },
      }),
    (text) => p.note(text),
  ).catch((e: unknown) => {
    p.stop();
    throw e;
  });
  p.done(`${summary.ok} ok, ${summary.failed} failed this run in ${summary.wallS.toFixed(1)} s`);
  console.log(formatRunSummary(summary, slice !== undefined));
  process.exitCode = batchExitCode(summary);
}

function formatRunSummary(s: BatchSummary, sliced: boolean): string {
  const out = [
    `jobs ${s.total}: ${s.skipped} had results already, ${s.ok} ok and ${s.failed} failed in this run, ${s.pending} pending` +
      `${s.interrupted ? ' (interrupted: run the same command again to finish)' : ''}`,
    `wall time ${s.wallS.toFixed(1)} s with ${s.workers} workers` +
      `${s.belowTolerance > 0 ? `; ${s.belowTolerance} ok jobs are below the plan's tolerances (bmru batch report)` : ''}`,
  ];
  if (s.failures.length > 0) {
    out.push('', `failed jobs (${s.failures.length}):`, failureTable(s.failures));
  }
  // A slice publishes records only; the merged streams come from `report` once every slice has run.
  out.push(
    '',
    sliced
      ? `results: ${shown(s.paths.results)}/<id>.json; merge every slice's with: bmru batch report ${shown(s.paths.dir)}`
      : `results: ${shown(s.paths.results)}/<id>.json, ${shown(s.paths.jsonl)}, ${shown(s.paths.csv)}`,
  );
  return out.join('\n');
}

const calibrateCommandSpec = {
  command: 'calibrate <plan>',
  describe:
    'Calibrate every process copy a calibrateSizes plan needs (<out>/calibrations/), once, before its jobs run; stored copies are reused',
  builder: (y: Argv) =>
    planOptions(y)
      .positional('plan', { type: 'string', demandOption: true, describe: 'plan YAML file' })
      .option('workers', {
        alias: 'j',
        type: 'number',
        default: os.availableParallelism(),
        describe: 'ngspice processes at once while calibrating (each single-threaded)',
      })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no progress line' })
      .check((a) => intAtLeast('workers', a.workers, 1))
      .example(
        '$0 batch calibrate models/example/sizes-calibrated-example.yaml -j 2',
        'the example: two copies of c180',
      )
      .epilogue(
        'bmru batch submit runs this step itself (unless --no-calibrate); Slurm array tasks (batch run --slice) only read the copies, ' +
          'so no two tasks measure one copy. One copy at a time, each on -j ngspice processes (about 30 CPU-s per copy on c180). ' +
          'Exit code: 0 every copy calibrated or reused (also for a plan without calibrateSizes), 2 some copy failed, 130 interrupted.',
      ),
  handler: calibrateHandler,
};

async function calibrateHandler(a: { plan: string; out?: string; kit?: string; workers: number; quiet: boolean }) {
  const expanded = await expandPlan(await loadPlan(a.plan, { out: a.out, kit: a.kit }));
  if (!expanded.plan.calibrateSizes) {
    console.log(
      `plan ${expanded.plan.name} has no calibrateSizes: nothing to calibrate (its jobs use the processes' own tables)`,
    );
    return;
  }
  const r = await calibrateCopies(expanded, a.workers, a.quiet);
  process.exitCode = r.interrupted ? EXIT_INTERRUPTED : r.failed.length > 0 ? EXIT_ERROR : 0;
}

/**
 * Calibrates the copies of a calibrateSizes plan with a progress line, one line per copy, then a summary line;
 * returns the copies that failed and whether Ctrl-C stopped it.
 */
async function calibrateCopies(
  expanded: ExpandedPlan,
  workers: number,
  quiet: boolean,
): Promise<{ failed: string[]; interrupted: boolean }> {
  const { plan } = expanded;
  const p = progress(`calibrate ${plan.name}`, quiet);
  let interrupted = false;
  const events = await interruptible(
    (signal) =>
      calibrateSizesCopies(expanded, sizesCalibrationOptions(p, workers, signal)).finally(() => {
        interrupted = signal.aborted;
      }),
    (text) => p.note(text),
  ).catch((e: unknown) => {
    p.stop();
    throw e;
  });
  const count = (o: string) => events.filter((e) => e.outcome === o).length;
  const total = new Set(expanded.jobs.map((j) => j.sizesCalibration).filter((f) => f != null)).size;
  p.done(
    `${count('measured')} calibrated, ${count('reused')} reused, ${count('failed')} failed of ${total} copies` +
      `${interrupted ? ' (interrupted: run the same command again to finish)' : ''}; in ${shown(join(plan.outDir, 'calibrations'))}`,
  );
  return { failed: events.filter((e) => e.outcome === 'failed').map((e) => e.label), interrupted };
}

const submitCommand = {
  command: 'submit <plan>',
  describe:
    'Run a plan as a Slurm job array: writes <out>/slurm/submit.sbatch and submits it; task i runs `batch run --slice i/n`',
  builder: (y: Argv) =>
    unitCurrentOption(referenceOptions(planOptions(y)), "each model's")
      .positional('plan', { type: 'string', demandOption: true, describe: 'plan YAML file' })
      .option('slurm', {
        type: 'boolean',
        default: false,
        describe: 'submit to Slurm with sbatch (the only engine so far; required)',
      })
      .option('tasks', {
        type: 'number',
        describe: 'array tasks; task i runs the jobs with plan index % n == i',
        defaultDescription: `min(jobs, ${DEFAULT_MAX_TASKS})`,
      })
      .option('cpus-per-task', {
        alias: 'c',
        type: 'number',
        default: 1,
        describe: "CPUs per task, each running one single-threaded ngspice (the task's -j)",
      })
      .option('time', {
        type: 'string',
        describe: 'wall-time limit per task, as sbatch --time (90, 2:00:00, 1-12:00:00)',
        defaultDescription: "the partition's default",
      })
      .option('partition', { type: 'string', describe: 'Slurm partition' })
      .option('account', { alias: 'A', type: 'string', describe: 'Slurm account to charge' })
      .option('sbatch-arg', {
        type: 'string',
        describe: 'one more #SBATCH option, e.g. --sbatch-arg=--qos=short (repeatable)',
      })
      .option('setup', {
        type: 'string',
        describe: 'a shell line each task runs first, e.g. "module load nodejs ngspice" (repeatable)',
      })
      .option('wait', {
        type: 'boolean',
        default: false,
        describe: 'block until every task has ended (sbatch --wait), then print the batch status',
      })
      .option('dry-run', { type: 'boolean', default: false, describe: 'write the script, do not submit it' })
      .option('calibrate', {
        type: 'boolean',
        default: true,
        describe:
          'with calibrateSizes: calibrate the process copies the tasks read here, before submitting (--no-calibrate: only check they are there)',
      })
      .option('workers', {
        alias: 'j',
        type: 'number',
        default: os.availableParallelism(),
        describe: 'ngspice processes at once while calibrating here',
      })
      .check((a) => intAtLeast('workers', a.workers, 1))
      .check(
        (a) =>
          a.slurm ||
          'bmru batch submit needs --slurm: Slurm is the only engine it submits to (to run on this machine: bmru batch run <plan>)',
      )
      .check(
        (a) =>
          a.tasks === undefined ||
          (Number.isInteger(a.tasks) && a.tasks >= 1) ||
          `--tasks must be an integer >= 1, got ${a.tasks}`,
      )
      .check(
        (a) =>
          (Number.isInteger(a['cpus-per-task']) && a['cpus-per-task'] >= 1) ||
          `--cpus-per-task must be an integer >= 1, got ${a['cpus-per-task']}`,
      )
      .example(
        '$0 batch submit plan.yaml --slurm',
        `at most ${DEFAULT_MAX_TASKS} tasks of 1 CPU; prints the job id and returns`,
      )
      .example(
        '$0 batch submit plan.yaml --slurm --tasks 16 -c 4 --time 2:00:00 --partition cpu -o /scratch/$USER/plan',
        '16 tasks of 4 ngspice each, 2 h limit, results on a shared filesystem',
      )
      .example(
        '$0 batch submit plan.yaml --slurm --setup "module load nodejs ngspice" --wait',
        'load modules in every task; wait for the array, then print the status',
      )
      .example(
        '$0 batch submit plan.yaml --slurm --dry-run',
        'only write <out>/slurm/submit.sbatch, to read or to sbatch yourself',
      )
      .epilogue(
        'The output folder must be on a filesystem that every node sees, and every node needs node and ngspice (sbatch passes ' +
          'your environment on; --setup lines run before the batch). Each finished job is published as <out>/results/<id>.json, ' +
          'so a task killed by its time limit loses only the jobs it was running: submit again (or sbatch <out>/slurm/submit.sbatch) ' +
          'and only jobs without a result run. When the array has ended, `bmru batch report <out>` merges the records into ' +
          'results.jsonl, results.csv and report.csv. Task logs: <out>/slurm/<jobid>_<task>.out. ' +
          'With calibrateSizes, the process copies are calibrated on this machine first (bmru batch calibrate; --dry-run and ' +
          '--no-calibrate only check them): tasks only read them, and one without its copy stops naming that command. ' +
          'Exit code with --wait: 0 every job ok and within tolerance, 1 some job below tolerance, 2 some job failed or has no result. See docs/slurm.md.',
      ),
  handler: submitHandler,
};

interface SubmitArgs extends ReferenceArgs {
  plan: string;
  unitCurrent?: number;
  out?: string;
  kit?: string;
  tasks?: number;
  cpusPerTask: number;
  time?: string;
  partition?: string;
  account?: string;
  sbatchArg?: string | string[];
  setup?: string | string[];
  wait: boolean;
  dryRun: boolean;
  calibrate: boolean;
  workers: number;
}

async function submitHandler(a: SubmitArgs): Promise<void> {
  const plan = await loadPlan(a.plan, overrides(a));
  const expanded = await expandPlan(plan);
  warnStalePlanTables(expanded);
  const paths = outPaths(plan.outDir);
  const before = await readAllResults(paths);
  const todo = expanded.jobs.filter((j) => !before.has(j.id)).length;
  // Slices are taken over the whole plan and skip finished jobs, so a resubmission needs only as many tasks as jobs left.
  const tasks = arrayTasks(Math.max(todo, 1), a.tasks);
  const script = sbatchScriptPath(plan.outDir);
  const text = sbatchScript({
    planFile: plan.file,
    outDir: plan.outDir,
    jobName: `bmru-${plan.name}`,
    tasks,
    cpusPerTask: a.cpusPerTask,
    time: a.time,
    partition: a.partition,
    account: a.account,
    sbatchArgs: [a.sbatchArg ?? []].flat(),
    setup: [a.setup ?? []].flat(),
    projectRoot: PACKAGE_ROOT,
    bin: join(PACKAGE_ROOT, 'bin', 'bmru.js'),
    kit: plan.kit,
    reference: a.reference,
    hwawareModel: a.hwawareModel === undefined ? undefined : plan.hwawareModel?.file,
    unitCurrentA: plan.unitCurrentA,
  });
  await makeDir(slurmDir(plan.outDir));
  await writeJobsFile(paths, jobsFileOf(expanded)); // `bmru batch status <out>` works before the first task starts
  await writeFileAtomic(script, text, { mode: 0o755 });
  const fewer = a.tasks !== undefined && tasks < a.tasks ? ` (not ${a.tasks}: only ${todo} jobs lack a result)` : '';
  console.error(
    `plan ${plan.name}: ${expanded.jobs.length} jobs, ${todo} without a result; ${tasks} array tasks${fewer} of ${a.cpusPerTask} CPU(s); script ${shown(script)}`,
  );
  const dir = shown(plan.outDir);
  if (a.dryRun) {
    const missing = await missingSizesCalibrations(expanded, calibrationMethod());
    console.log(
      `wrote ${shown(script)} (not submitted); submit it with: sbatch ${script}` +
        (missing.length > 0
          ? `\n${missing.length} calibrated process copies the tasks read are not ready: run ${calibrateCommand(expanded)} first`
          : ''),
    );
    return;
  }
  if (todo === 0) {
    console.log(
      `nothing to submit: every job has a result (failed ones rerun with bmru batch run --retry-failed); merge them with: bmru batch report ${dir}`,
    );
    return;
  }
  if (plan.calibrateSizes && !(await readyCopies(expanded, a))) return;
  const logs = `${shown(slurmDir(plan.outDir))}/<jobid>_<task>.out`;
  const r = await submitSbatch(script, {
    wait: a.wait,
    onSubmitted: (id) =>
      console.error(`submitted Slurm job ${id} (${tasks} tasks)${a.wait ? '; waiting for every task to end' : ''}`),
  });
  if (!a.wait) {
    console.log(
      [
        `Slurm job ${r.jobId}: ${tasks} array tasks; logs ${logs}`,
        `follow it: squeue -j ${r.jobId}; bmru batch status ${dir}`,
        `when it has ended: bmru batch report ${dir}`,
      ].join('\n'),
    );
    return;
  }
  const records = await readAllResults(paths);
  const s = batchStatus(expanded.jobs, records);
  const below = expanded.jobs.filter((j) => records.get(j.id)?.cosim?.pass === false).length;
  const out = [
    `Slurm job ${r.jobId} ended (sbatch exit ${r.exitCode ?? '?'}: the highest exit code of its tasks)`,
    statusText(plan.name, paths, expanded.jobs, records),
  ];
  if (s.pending > 0)
    out.push(
      `${s.pending} jobs have no result: a task ended early (time limit, node failure); see ${logs}, then submit again`,
    );
  if (below > 0) out.push(`${below} ok jobs are below the plan's tolerances`);
  out.push(`merge the results: bmru batch report ${dir}`);
  console.log(out.join('\n'));
  process.exitCode = s.pending > 0 || s.failed > 0 ? EXIT_ERROR : below > 0 ? EXIT_BELOW_TOLERANCE : 0;
}

/**
 * Makes sure the tasks of a calibrateSizes plan find every copy: calibrates them here, or with --no-calibrate only
 * checks. False when Ctrl-C stopped the calibration (exit code set; nothing submitted).
 *
 * @throws InputError naming `bmru batch calibrate` when a copy is missing (--no-calibrate) or failed
 */
async function readyCopies(expanded: ExpandedPlan, a: SubmitArgs): Promise<boolean> {
  const where = { file: expanded.plan.file, field: 'calibrateSizes' };
  if (!a.calibrate) {
    const missing = await missingSizesCalibrations(expanded, calibrationMethod());
    if (missing.length > 0)
      throw new InputError(
        `not submitted: ${missing.length} calibrated process copies the tasks read are not ready (${missing.map((m) => `${m.file}: ${m.why}`).join('; ')}); run ${calibrateCommand(expanded)}, or submit without --no-calibrate`,
        where,
      );
    return true;
  }
  const r = await calibrateCopies(expanded, a.workers, false);
  if (r.interrupted) {
    console.log(
      'not submitted: calibrating was interrupted; submit again to finish it (copies calibrated so far are kept)',
    );
    process.exitCode = EXIT_INTERRUPTED;
    return false;
  }
  if (r.failed.length > 0)
    throw new InputError(
      `not submitted: calibrating ${r.failed.join(', ')} failed (the lines above say why), and the tasks would stop without those copies; fix it and submit again`,
      where,
    );
  return true;
}

const statusCommand = {
  command: 'status <target>',
  describe: 'Done / failed / pending counts of a batch, from its plan or its output folder',
  builder: (y: Argv) =>
    unitCurrentOption(planOptions(y), "each model's; a plan run with --unit-current needs it here too").positional(
      'target',
      {
        type: 'string',
        demandOption: true,
        describe: 'plan YAML file or output folder',
      },
    ),
  handler: statusHandler,
};

interface TargetArgs {
  target: string;
  out?: string;
  kit?: string;
  unitCurrent?: number;
}

async function statusHandler(a: TargetArgs): Promise<void> {
  const { name, paths, jobs } = await openBatch(a.target, { ...a, unitCurrentA: a.unitCurrent });
  console.log(statusText(name, paths, jobs, await readAllResults(paths)));
}

/** The status table and the failed jobs, as `bmru batch status` prints them. */
function statusText(
  name: string,
  paths: OutPaths,
  jobs: readonly Job[],
  records: ReadonlyMap<string, ResultRecord>,
): string {
  const s = batchStatus(jobs, records);
  const classes = FAILURE_CLASSES.filter((c) => s.failedByClass[c] > 0).map((c) => `${c} ${s.failedByClass[c]}`);
  const lines = [
    `batch ${name} (${shown(paths.dir)}): ${s.total} jobs`,
    table(
      ['state', 'jobs'],
      [
        ['ok', s.ok],
        ['failed', `${s.failed}${classes.length > 0 ? ` (${classes.join(', ')})` : ''}`],
        ['pending', s.pending],
      ],
    ),
  ];
  if (s.foreign > 0) lines.push(`${s.foreign} more results belong to jobs this plan no longer lists (ignored)`);
  const failures = failedRecords(jobs, records);
  if (failures.length > 0) lines.push('', failureTable(failures));
  return lines.join('\n');
}

const reportCommand = {
  command: 'report <target>',
  describe:
    'Aggregate table per model, process and corner (state agreement, decision match, pass rate), failed jobs; writes report.csv',
  builder: (y: Argv) =>
    unitCurrentOption(planOptions(y), "each model's; a plan run with --unit-current needs it here too")
      .positional('target', { type: 'string', demandOption: true, describe: 'plan YAML file or output folder' })
      .option('csv', {
        type: 'string',
        describe: 'where to write the aggregate table',
        defaultDescription: '<out>/report.csv',
      })
      .option('datasheet', {
        type: 'boolean',
        default: false,
        describe:
          "also write <out>/datasheet.md and datasheet.html: per spec min/typ/max over the swept conditions, the plan's specs: limits, pass/fail",
      })
      .example(
        '$0 batch report out/batch-datasheet-example --datasheet',
        'the datasheet of a VDD x temperature x I_unit sweep',
      )
      .epilogue(
        "With --datasheet the exit code is that of the datasheet, as the fidelity gate's: 0 every spec with a limit holds at every " +
          'condition, 1 some spec is outside its limit at some condition, 2 some spec with a limit has no value at some condition ' +
          "(a job failed or is pending, or its record lacks the figure). Typical = the process's own VDD, 27 C, the plan's first I_unit " +
          "(the model's own when I_unit is not swept), the model's own frame period and the process's own sizes when those are " +
          "swept, and corner tt when corners are swept. Limits are in the specs' units: " +
          'fractions for agreements (0.99), W for powers, s for delays (docs/batch.md, "Datasheet"). Without --datasheet the exit code is 0.',
      ),
  handler: reportHandler,
};

async function reportHandler(a: TargetArgs & { csv?: string; datasheet: boolean }): Promise<void> {
  const opened = await openBatch(a.target, { ...a, unitCurrentA: a.unitCurrent });
  const { name, paths, jobs, tolerances } = opened;
  const records = await readAllResults(paths);
  const rows = aggregate(jobs, records, tolerances);
  const csvFile = a.csv ?? join(paths.dir, 'report.csv');
  await writeFileAtomic(csvFile, `${await writeToString([REPORT_HEADER, ...rows.map(reportCsvRow)])}\n`);
  const rebuilt = await refreshStreams(paths, jobs, records);
  const s = batchStatus(jobs, records);
  // The sweep column only when the plan sweeps something (I_unit, VDD, temperature, frame period, sizes).
  const swept = rows.some((r) => r.condition !== '-');
  const cond = (r: (typeof rows)[number]) => (swept ? [r.condition] : []);
  const condHead = swept ? ['condition'] : [];
  const out = [
    `batch ${name}: ${s.total} jobs, ${s.ok} ok, ${s.failed} failed, ${s.pending} pending; pass/fail judged with the plan's tolerances against each job's verdict reference`,
    '',
    table(
      [
        'model',
        'process',
        'corner',
        ...condHead,
        'jobs',
        'ok',
        'failed',
        'pending',
        'pass',
        'states mean',
        'states min',
        'votes mean',
        'decision match',
        'ngspice mean',
      ],
      rows.map((r) => [
        r.model,
        r.process,
        r.corner,
        ...cond(r),
        r.jobs,
        r.ok,
        r.failed,
        r.pending,
        r.pass,
        opt(r.stateAgreementMean, pct),
        opt(r.stateAgreementMin, pct),
        opt(r.voteAgreementMean, pct),
        opt(r.decisionMatchRate, (v) => pct(v, 1)),
        opt(r.ngspiceMeanS, (v) => `${v.toFixed(1)} s`),
      ]),
    ),
  ];
  const scored = REFERENCE_NAMES.filter((n) => rows.some((r) => r.references[n] !== undefined));
  if (scored.length > 0) {
    out.push(
      '',
      'the circuit against each reference (mean state agreement / decision match over the ok jobs; "verdict" names the reference the verdicts judged):',
    );
    out.push(
      table(
        ['model', 'process', 'corner', ...condHead, 'verdict', ...scored],
        rows.map((r) => [
          r.model,
          r.process,
          r.corner,
          ...cond(r),
          r.verdictReferences.join(', ') || '-',
          ...scored.map((n) =>
            opt(
              r.references[n]?.stateAgreementMean ?? null,
              (v) => `${pct(v)} / ${pct(r.references[n]!.decisionMatchRate, 1)}`,
            ),
          ),
        ]),
      ),
    );
  }
  const failures = failedRecords(jobs, records);
  if (failures.length > 0) out.push('', `failed jobs (${failures.length}):`, failureTable(failures));
  const page = join(paths.dir, 'report.html');
  const plotted = await writeReportPage(page, name, rows, jobs, records);
  out.push(
    '',
    `aggregate table: ${shown(csvFile)}${plotted ? `, plots: ${shown(page)}` : ''}${rebuilt ? `; per-job results: ${shown(paths.jsonl)}, ${shown(paths.csv)}` : ''}`,
  );
  if (a.datasheet) out.push('', ...(await writeDatasheet(opened, records)));
  console.log(out.join('\n'));
}

/** Writes datasheet.md and datasheet.html, sets the exit code; returns the lines to print. */
async function writeDatasheet(batch: OpenedBatch, records: ReadonlyMap<string, ResultRecord>): Promise<string[]> {
  if (batch.nominalVddV === undefined)
    throw new InputError(
      'this jobs.json was written before datasheets (it lacks nominalVddV): run `bmru batch run <plan>` again (finished jobs are skipped), or give the plan file',
      { file: batch.paths.jobs, field: 'nominalVddV' },
    );
  const sheet = buildDatasheet(batch.name, batch.jobs, records, batch.specs, batch.nominalVddV, {
    modelFrameS: batch.modelFrameS,
    sizing: batch.nominalSizing,
  });
  const mdFile = join(batch.paths.dir, 'datasheet.md');
  const htmlFile = join(batch.paths.dir, 'datasheet.html');
  await writeFileAtomic(mdFile, datasheetMarkdown(sheet));
  await writeFileAtomic(htmlFile, datasheetHtml(sheet));
  process.exitCode = datasheetExitCode(sheet);
  const rows = sheet.sections.flatMap((s) =>
    s.specs.map((r) => [
      `${s.model} ${s.process}`,
      r.name,
      formatValue(r.min, r.unit),
      formatValue(r.typ, r.unit),
      formatValue(r.max, r.unit),
      formatLimit(r.limit, r.unit),
      r.status,
    ]),
  );
  const reasons = sheet.sections.flatMap((s) =>
    s.specs.filter((r) => r.reason !== '').map((r) => `${r.name}: ${r.reason}`),
  );
  const limited = sheet.sections.flatMap((s) => s.specs.filter((r) => r.limit !== null));
  const failing = limited.filter((r) => r.status !== 'pass').length;
  return [
    `datasheet (typical: ${sheet.sections.map((s) => s.typicalRule).join('; ')}):`,
    table(['circuit', 'spec', 'min', 'typ', 'max', 'limit', 'result'], rows),
    ...reasons,
    `${limited.length - failing} of ${limited.length} specs with a limit pass; datasheet: ${shown(mdFile)}, ${shown(htmlFile)}`,
  ];
}

function failureTable(records: readonly ResultRecord[]): string {
  return table(
    ['id', 'job', 'class', 'attempts', 'message'],
    records.map((r) => [
      r.id,
      r.job.label,
      r.failure?.class ?? '?',
      r.attempts.length,
      firstLine(r.failure?.message ?? '', 120),
    ]),
  );
}

function failureLine(r: ResultRecord): string {
  return `${r.id} ${r.job.label}: ${r.failure?.class} after ${r.attempts.length} attempt(s): ${firstLine(r.failure?.message ?? '', 160)}`;
}

function firstLine(text: string, max: number): string {
  const line = text.split('\n')[0];
  return line.length > max ? `${line.slice(0, max - 3)}...` : line;
}

const opt = (v: number | null, f: (v: number) => string) => (v === null ? '-' : f(v));

/** A path as the user would type it from here. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' ? '.' : rel.startsWith('..') ? path : rel;
}

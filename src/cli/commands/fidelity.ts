import { writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Argv } from 'yargs';
import { expandPlan, GENERATOR, loadPlan } from '../../jobs/plan.js';
import { runBatch } from '../../jobs/run.js';
import { outPaths, readAllResults } from '../../jobs/store.js';
import { baselineFrom, checkFidelity, DEFAULT_MAX_DROP, fidelityExitCode, junitXml, loadBaseline, markdownSummary } from '../../jobs/fidelity.js';
import { batchProgressText, progress } from '../progress.js';
import { pct, table } from '../format.js';
import { intAtLeast, numberIn } from '../common.js';

export const command = 'fidelity';
export const describe = 'CI fidelity regression: run a suite (a batch plan) and check it against its tolerances and a stored baseline; JUnit XML + Markdown';

export function builder(y: Argv) {
  return y
    .command(checkCommand)
    .command(baselineCommand)
    .demandCommand(1, 'Name a fidelity command: check or baseline.')
    .example('$0 fidelity check models/example/fidelity-suite.yaml', 'exit 0 pass, 1 regression, 2 error; writes JUnit XML and a Markdown summary')
    .example('$0 fidelity baseline models/example/fidelity-suite.yaml', 'record the current results as the baseline (deliberately, after review)');
}

export function handler(): void {
  // Only the subcommands do anything.
}

interface SuiteArgs {
  suite: string;
  baseline?: string;
  out?: string;
  workers?: number;
}

const suiteOptions = <T>(y: Argv<T>) =>
  y
    .positional('suite', { type: 'string', demandOption: true, describe: 'suite: a batch plan YAML (models x inputs x processes x corners x seeds, tolerances)' })
    .option('baseline', { type: 'string', describe: 'baseline JSON', defaultDescription: '<suite>.baseline.json beside the suite' })
    .option('out', { alias: 'o', type: 'string', describe: 'results folder (a rerun reuses finished jobs)', defaultDescription: 'the plan\'s out, else out/batch-<name>' })
    .option('workers', { alias: 'j', type: 'number', describe: 'ngspice processes at once', defaultDescription: 'all cores' })
    .check((a) => intAtLeast('workers', a.workers, 1));

const baselineFile = (a: SuiteArgs) => a.baseline ?? join(dirname(a.suite), `${basename(a.suite).replace(/\.ya?ml$/, '')}.baseline.json`);

/** Run the suite's jobs that have no result yet; returns the plan, its jobs and every record. */
async function runSuite(a: SuiteArgs) {
  const plan = await loadPlan(a.suite, { out: a.out });
  const expanded = await expandPlan(plan);
  const p = progress(`fidelity ${plan.name}`);
  await runBatch(expanded, { workers: a.workers, onProgress: (x) => p.update(batchProgressText(x)) }).finally(() => p.stop());
  return { plan, jobs: expanded.jobs, records: await readAllResults(outPaths(plan.outDir)) };
}

const checkCommand = {
  command: 'check <suite>',
  describe: 'Run the suite and compare with the baseline and the tolerances',
  builder: (y: Argv) =>
    suiteOptions(y)
      .option('max-drop', { type: 'number', default: DEFAULT_MAX_DROP, describe: 'allowed drop of state agreement below the baseline (fraction)' })
      .option('junit', { type: 'string', describe: 'JUnit XML file', defaultDescription: '<out>/fidelity-junit.xml' })
      .option('markdown', { type: 'string', describe: 'Markdown summary file (e.g. $GITHUB_STEP_SUMMARY)', defaultDescription: '<out>/fidelity-summary.md' })
      // NaN (from --max-drop abc) would make every drop pass: `x < base - NaN` is false.
      .check((a) => numberIn('max-drop', a['max-drop'], 0, 1))
      .epilogue('Exit code: 0 every case passes, 1 a regression (tolerance failed, state agreement dropped, decision lost), 2 error (a case could not be run, no baseline, bad suite).'),
  handler: async (a: SuiteArgs & { maxDrop: number; junit?: string; markdown?: string }) => {
    const baseline = await loadBaseline(baselineFile(a));
    const { plan, jobs, records } = await runSuite(a);
    const cases = checkFidelity(jobs, records, baseline, plan.tolerances, a.maxDrop);
    const junit = a.junit ?? join(plan.outDir, 'fidelity-junit.xml');
    const md = a.markdown ?? join(plan.outDir, 'fidelity-summary.md');
    await writeFile(junit, junitXml(plan.name, cases));
    await writeFile(md, markdownSummary(plan.name, cases, a.maxDrop), { flag: a.markdown ? 'a' : 'w' });
    console.log(table(['case', 'state agreement', 'baseline', 'result', 'why'], cases.map((c) => [c.label, c.stateAgreement === null ? '-' : pct(c.stateAgreement), c.baseline ? pct(c.baseline.stateAgreement) : '-', c.status, c.reasons.join('; ')])));
    const code = fidelityExitCode(cases);
    console.log(`\nfidelity ${plan.name}: ${code === 0 ? 'PASS' : code === 1 ? 'REGRESSION' : 'ERROR'}; JUnit ${junit}, summary ${md}`);
    process.exitCode = code;
  },
};

const baselineCommand = {
  command: 'baseline <suite>',
  describe: 'Run the suite (reusing finished jobs) and write its results as the new baseline',
  builder: (y: Argv) => suiteOptions(y),
  handler: async (a: SuiteArgs) => {
    const { plan, jobs, records } = await runSuite(a);
    const file = baselineFile(a);
    await writeFile(file, JSON.stringify(baselineFrom(plan.name, GENERATOR, jobs, records), null, 1) + '\n');
    console.log(`baseline of ${jobs.length} cases written to ${file}`);
  },
};

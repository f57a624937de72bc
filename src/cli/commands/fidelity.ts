import os from 'node:os';
import { writeFile } from 'node:fs/promises';
import { writeFileAtomic } from '../../util/output.js';
import { basename, dirname, join } from 'node:path';
import type { Argv } from 'yargs';
import { expandPlan, GENERATOR, loadPlan } from '../../jobs/plan.js';
import { runBatch } from '../../jobs/run.js';
import { outPaths, readAllResults } from '../../jobs/store.js';
import {
  baselineFrom,
  checkFidelity,
  DEFAULT_MAX_DROP,
  fidelityExitCode,
  junitXml,
  loadBaseline,
  markdownSummary,
  scoredReferences,
  statusText,
  type FidelityCheck,
} from '../../jobs/fidelity.js';
import type { ReferenceName } from '../../compare/references.js';
import { batchProgressText, progress } from '../progress.js';
import { pct, table } from '../format.js';
import {
  intAtLeast,
  numberIn,
  referenceOptions,
  sizesCalibrationOptions,
  warnStalePlanTables,
  type ReferenceArgs,
} from '../common.js';
import { tableHwaware } from '../../analysis/hwmodel.js';

export function builder(y: Argv) {
  return y
    .command(checkCommand)
    .command(baselineCommand)
    .demandCommand(1, 'Name a fidelity command: check or baseline.')
    .example(
      '$0 fidelity check models/example/fidelity-suite.yaml',
      'exit 0 pass, 1 regression or a case without baseline, 2 error; writes JUnit XML and a Markdown summary',
    )
    .example(
      '$0 fidelity check models/example/fidelity-suite.yaml --kit ~/pdk/gf180mcu',
      'the GF180MCU cases on your kit',
    )
    .example(
      '$0 fidelity baseline models/example/fidelity-suite.yaml',
      'record the current results as the baseline (deliberately, after review)',
    );
}

export function handler(): void {
  // Only the subcommands do anything.
}

interface SuiteArgs extends ReferenceArgs {
  suite: string;
  baseline?: string;
  out?: string;
  kit?: string;
  workers?: number;
}

const suiteOptions = <T>(y: Argv<T>) =>
  referenceOptions(y)
    .positional('suite', {
      type: 'string',
      demandOption: true,
      describe: 'suite: a batch plan YAML (models x inputs x processes x corners x seeds, tolerances)',
    })
    .option('baseline', {
      type: 'string',
      describe: 'baseline JSON',
      defaultDescription: '<suite>.baseline.json beside the suite',
    })
    .option('out', {
      alias: 'o',
      type: 'string',
      describe: 'results folder (a rerun reuses finished jobs)',
      defaultDescription: "the plan's out, else out/batch-<name>",
    })
    .option('kit', {
      type: 'string',
      describe: "PDK folder for processes whose deck lines use {kit} (overrides the suite's kit)",
    })
    .option('workers', {
      alias: 'j',
      type: 'number',
      describe: 'ngspice processes at once',
      defaultDescription: 'all cores',
    })
    .check((a) => intAtLeast('workers', a.workers, 1));

const baselineFile = (a: SuiteArgs) =>
  a.baseline ?? join(dirname(a.suite), `${basename(a.suite).replace(/\.ya?ml$/, '')}.baseline.json`);

/** The suite as a batch plan (validated: a missing or bad suite is named before anything else). */
const loadSuite = (a: SuiteArgs) =>
  loadPlan(a.suite, {
    out: a.out,
    kit: a.kit,
    reference: a.reference as ReferenceName | undefined,
    hwawareModel: a.hwawareModel,
  });

/** Run the suite's jobs that have no result yet; returns the plan, its jobs and every record. */
async function runSuite(a: SuiteArgs, loaded?: Awaited<ReturnType<typeof loadPlan>>) {
  const plan = loaded ?? (await loadSuite(a));
  const expanded = await expandPlan(plan);
  warnStalePlanTables(expanded);
  const p = progress(`fidelity ${plan.name}`);
  await runBatch(expanded, {
    workers: a.workers,
    processHwaware: tableHwaware,
    ...sizesCalibrationOptions(p, a.workers ?? os.availableParallelism()),
    onProgress: (x) => p.update(batchProgressText(x)),
  }).finally(() => p.stop());
  return { plan, jobs: expanded.jobs, records: await readAllResults(outPaths(plan.outDir)) };
}

const checkCommand = {
  command: 'check <suite>',
  describe: 'Run the suite and compare with the baseline and the tolerances',
  builder: (y: Argv) =>
    suiteOptions(y)
      .option('max-drop', {
        type: 'number',
        default: DEFAULT_MAX_DROP,
        describe: 'allowed drop of state agreement below the baseline (fraction)',
      })
      .option('allow-new', {
        type: 'boolean',
        default: false,
        describe: 'let cases without a baseline entry pass (they are still reported as new)',
      })
      .option('junit', { type: 'string', describe: 'JUnit XML file', defaultDescription: '<out>/fidelity-junit.xml' })
      .option('markdown', {
        type: 'string',
        describe: 'Markdown summary file (e.g. $GITHUB_STEP_SUMMARY)',
        defaultDescription: '<out>/fidelity-summary.md',
      })
      // NaN (from --max-drop abc) would make every drop pass: `x < base - NaN` is false.
      .check((a) => numberIn('max-drop', a['max-drop'], 0, 1))
      .epilogue(
        'Cases are matched to the baseline by case key (model|input|process|corner|seed as the suite names them); a case whose content fingerprint changed is still compared with the baseline figures.\n' +
          "Every case scores the circuit against the trained and the realised model (and the hardware-aware one, given one); the gate judges the verdict's reference (the suite's reference or --reference, else realised) against the baseline's figures for that same reference.\n" +
          'Exit code: 0 every case passes or changed within limits, 1 a regression (tolerance failed, state agreement dropped, decision lost) or a case without a baseline entry (unless --allow-new), 2 error (a case could not be run, no or empty baseline, bad suite).',
      ),
  handler: async (a: SuiteArgs & { maxDrop: number; allowNew: boolean; junit?: string; markdown?: string }) => {
    // Read before running: a missing suite, or a missing, old or empty baseline, should fail in a second, not after
    // the suite; the suite first, since the baseline's default name comes from it.
    const suite = await loadSuite(a);
    const file = baselineFile(a);
    const baseline = await loadBaseline(file);
    const { plan, jobs, records } = await runSuite(a, suite);
    const check = checkFidelity(a.suite, jobs, records, baseline, plan.tolerances, {
      maxDrop: a.maxDrop,
      allowNew: a.allowNew,
    });
    const junit = a.junit ?? join(plan.outDir, 'fidelity-junit.xml');
    const md = a.markdown ?? join(plan.outDir, 'fidelity-summary.md');
    await writeFileAtomic(junit, junitXml(plan.name, check));
    await writeFile(md, markdownSummary(plan.name, check), { flag: a.markdown ? 'a' : 'w' });
    const refs = scoredReferences(check);
    const rows = check.cases.map((c) => [
      c.key,
      c.reference ?? '-',
      c.stateAgreement === null ? '-' : pct(c.stateAgreement),
      c.baseline ? pct(c.baseline.stateAgreement) : '-',
      statusText(c, check.allowNew),
      ...refs.map((n) => (c.references[n] === undefined ? '-' : pct(c.references[n]!))),
      c.reasons.join('; '),
    ]);
    console.log(
      table(['case', 'reference', 'state agreement', 'baseline', 'result', ...refs.map((n) => `vs ${n}`), 'why'], rows),
    );
    if (check.stale.length > 0) {
      console.log(
        `\nwarning: ${check.stale.length} stale baseline entries (no longer in the suite; \`bmru fidelity baseline\` drops them): ${check.stale.map((s) => s.key).join(', ')}`,
      );
    }
    const code = fidelityExitCode(check);
    console.log(
      `\nfidelity ${plan.name}: ${code === 0 ? 'PASS' : code === 1 ? 'FAIL' : 'ERROR'} (${statusCounts(check)}); JUnit ${junit}, summary ${md}`,
    );
    process.exitCode = code;
  },
};

/** `4 pass, 2 changed`: how many cases ended how, in a fixed order. */
function statusCounts(check: FidelityCheck): string {
  const words = check.cases.map((c) => statusText(c, check.allowNew));
  const order = ['pass', 'changed', 'new (allowed)', 'regression', 'new (no baseline)', 'error'];
  const parts = order
    .map((w) => [w, words.filter((x) => x === w).length] as const)
    .filter(([, n]) => n > 0)
    .map(([w, n]) => `${n} ${w}`);
  return [...parts, ...(check.stale.length > 0 ? [`${check.stale.length} stale`] : [])].join(', ');
}

const baselineCommand = {
  command: 'baseline <suite>',
  describe: 'Run the suite (reusing finished jobs) and write its results as the new baseline',
  builder: (y: Argv) => suiteOptions(y),
  handler: async (a: SuiteArgs) => {
    const { plan, jobs, records } = await runSuite(a);
    const file = baselineFile(a);
    const baseline = baselineFrom(a.suite, plan.name, GENERATOR, jobs, records);
    await writeFileAtomic(file, JSON.stringify(baseline, null, 1) + '\n');
    // What was written, for the review the baseline is supposed to get.
    const rows = Object.entries(baseline.entries).map(([key, e]) => [
      key,
      e.reference ?? 'realised',
      pct(e.stateAgreement),
      pct(e.voteAgreement),
      e.decisionMatch ? 'yes' : 'NO',
      Object.entries(e.references ?? {})
        .map(([n, f]) => `${n} ${pct(f.stateAgreement)}`)
        .join(', '),
      e.fingerprint,
    ]);
    console.log(
      table(
        [
          'case',
          'reference',
          'state agreement',
          'vote agreement',
          'decision match',
          'every reference (states)',
          'fingerprint',
        ],
        rows,
      ),
    );
    console.log(`\nbaseline of ${jobs.length} cases written to ${file}`);
  },
};

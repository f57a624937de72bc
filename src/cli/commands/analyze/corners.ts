import { join } from 'node:path';
import type { Argv } from 'yargs';
import {
  CornerLineSchema,
  cornerKey,
  cornerPlan,
  runCorners,
  type CornerResult,
  type CornersOptions,
} from '../../../analysis/corners.js';
import { keptNote, openKept } from '../../../jobs/kept.js';
import { writeCsv } from '../../csv.js';
import { BmruError, InputError } from '../../../errors.js';
import { EXIT_ERROR } from '../../exit.js';
import { pct, table, watts } from '../../format.js';
import { progress } from '../../progress.js';
import { htmlPage, lineChart, writePlot } from '../../../plot/index.js';
import {
  intAtLeast,
  modelOptions,
  prepareAnalysis,
  processOptions,
  timeoutOption,
  type AnalysisArgs,
} from '../../common.js';
import { writeFileAtomic } from '../../../util/output.js';

export const command = 'corners';
export const describe =
  'PVT corners: process corners (kit sections or skewed devices), VDD +-10%, -20..85 C; state agreement and decision per corner';

export function builder(y: Argv) {
  return timeoutOption(processOptions(modelOptions(y)), 3600)
    .option('full', {
      type: 'boolean',
      default: false,
      describe:
        'cross every process corner with every VDD and temperature (45 runs for 5 corners) instead of one factor at a time',
    })
    .option('corners', {
      type: 'string',
      describe: 'comma-separated process corners to run',
      defaultDescription: 'all the process offers',
    })
    .option('vdd-temp', {
      type: 'boolean',
      default: true,
      describe: 'also run VDD +-10% and -20 / 85 C at the typical corner',
    })
    .option('workers', { type: 'number', describe: 'ngspice processes at once', defaultDescription: 'all cores' })
    .option('out', {
      alias: 'o',
      type: 'string',
      describe: 'output folder (a rerun keeps the points corners.jsonl holds)',
      defaultDescription: 'out/corners-<model>-<inputs>-<process>',
    })
    .check((a) => intAtLeast('workers', a.workers, 1))
    .example(
      '$0 analyze corners -p gf180mcu',
      "the GF180MCU kit's tt/ff/ss/fs/sf, then VDD and temperature extremes at tt",
    )
    .epilogue(
      [
        'Every corner is scored against the software model of the nominal realised network: calibration is done once, at the typical corner and 27 C.',
        'Each point that ran is written to corners.jsonl as it finishes; the same command again keeps those (same code, model, clip, options and kit files) and runs the rest, failed points included.',
      ].join('\n'),
    );
}

interface Args extends AnalysisArgs {
  full: boolean;
  corners?: string;
  vddTemp: boolean;
  workers?: number;
}

export async function handler(a: Args): Promise<void> {
  const { net, inputs, process: proc, calibration, out } = await prepareAnalysis(a, 'corners');
  let specs;
  try {
    specs = cornerPlan(
      proc,
      a.full,
      a.corners?.split(',').map((c) => c.trim()),
      a.vddTemp,
    );
  } catch (e) {
    throw new InputError(`--corners: ${(e as Error).message}`, {
      file: join(proc.dir, 'process.json'),
      field: 'corners',
    });
  }
  const options: CornersOptions = {
    process: proc,
    calibration,
    maxTransistors: a.maxTransistors,
    specs,
    concurrency: a.workers,
    run: { timeoutMs: a.timeout * 1000 },
  };
  const keys = await Promise.all(specs.map((spec) => cornerKey(net, inputs, options, spec)));
  const keyOf = new Map(specs.map((spec, i) => [spec, keys[i]]));
  // The file holds this run's corners only: those kept, then each new one as it finishes (failed ones run again).
  const store = await openKept(join(out, 'corners.jsonl'), CornerLineSchema, new Set(keys));
  const kept = specs.filter((spec) => store.kept.has(keyOf.get(spec)!));
  const plan = `corners: ${specs.length - kept.length} of ${specs.length} runs of ${inputs.frames} frames on ${proc.name} to run${keptNote('point', kept.map(label), store.file, store.skipped)}`;
  console.error(plan); // also in logs, where the live progress line is sparse
  const p = progress(plan);
  const results = await runCorners(net, inputs, {
    ...options,
    kept: (spec) => store.kept.get(keyOf.get(spec)!),
    onDone: (c) => {
      if (c.result && !c.result.error) store.add(keyOf.get(c.item)!, c.result);
      p.update(`${c.completed}/${c.total} (${label(c.item)} done)`);
    },
  }).finally(async () => {
    p.stop();
    await store.flushed();
  });
  console.log(`PVT corners on ${proc.name} (${inputs.frames} frames; calibration at the typical corner, 27 C):`);
  console.log(
    table(
      ['corner', 'VDD', 'T', 'state agreement', 'votes', 'decision', 'core power', 'ngspice'],
      results.map((r) => [
        r.corner,
        `${(proc.vddV * r.vddScale).toFixed(2)} V`,
        `${r.temperatureC} C`,
        r.error ? `FAILED: ${r.error}` : pct(r.stateAgreement),
        r.error ? '' : pct(r.voteAgreement),
        r.error ? '' : r.decisionMatch ? 'same' : 'DIFFERENT',
        r.error ? '' : watts(r.coreW),
        r.error ? '' : `${r.ngspiceS.toFixed(0)} s`,
      ]),
    ),
  );
  await writeCsv(join(out, 'corners.csv'), [
    [
      'corner',
      'vdd_v',
      'temperature_c',
      'state_agreement',
      'vote_agreement',
      'decision_match',
      'disagreements',
      'core_w',
      'ngspice_s',
      'error',
    ],
    ...results.map((r) => [
      r.corner,
      proc.vddV * r.vddScale,
      r.temperatureC,
      r.stateAgreement,
      r.voteAgreement,
      r.decisionMatch,
      r.disagreements,
      r.coreW,
      r.ngspiceS,
      r.error ?? '',
    ]),
  ]);
  await writeFileAtomic(
    join(out, 'corners.json'),
    JSON.stringify({ model: a.model, process: proc.name, results }, null, 1) + '\n',
  );
  const failed = results.filter((r) => r.error);
  // Nothing to plot when every run failed (e.g. a kit folder without the kit's model files): say why, exit 2.
  if (failed.length === results.length)
    throw new BmruError(
      `every PVT point failed (${out}/corners.csv lists them); the first: ${failed[0].error}`,
      'corners-failed',
    );
  await writePlot(
    join(out, 'corners.html'),
    await cornersHtml(`bmru analyze corners: ${a.model} on ${proc.name}`, results),
  );
  console.log(
    `\nwritten: ${out}/corners.csv, corners.json, corners.html${failed.length > 0 ? ` (${failed.length} of ${results.length} points failed)` : ''}`,
  );
  if (failed.length > 0) process.exitCode = EXIT_ERROR;
}

const label = (r: { corner: string; vddScale: number; temperatureC: number }) =>
  `${r.corner} ${Math.round(r.vddScale * 100)}% VDD ${r.temperatureC} C`;

/** corners.html: the state agreement of each PVT point that ran (failed points leave their index empty). */
export async function cornersHtml(title: string, results: readonly CornerResult[]): Promise<string> {
  return htmlPage(title, [{ heading: 'State agreement per corner', svg: await agreementPlot(results) }]);
}

function agreementPlot(results: readonly CornerResult[]): Promise<string> {
  const ok = results.filter((r) => !r.error);
  return lineChart({
    title: 'State agreement with the nominal model per PVT point',
    x: { label: 'PVT point (index in corners.csv)', integer: true },
    y: { label: 'state agreement (fraction)' },
    series: [
      { name: 'circuit', x: ok.map((r) => results.indexOf(r)), y: ok.map((r) => r.stateAgreement), mark: 'point' },
    ],
  });
}

import os from 'node:os';
import { basename, join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import type { Argv } from 'yargs';
import { readFeatureFile, clipInputs, type FeatureSet } from '../../audio/features.js';
import { SPLITS, type Split } from '../../audio/dataset.js';
import {
  DEFAULT_KWS_CLIPS,
  clipToShow,
  kwsRows,
  namedClip,
  kwsSummary,
  prepareKwsRun,
  selectClips,
  type KwsRow,
  type ClassScores,
  type KwsSummary,
} from '../../analysis/kws.js';
import { CORE_DOMAINS } from '../../analysis/power.js';
import { DEFAULT_TOLERANCES, loadTolerances } from '../../compare/tolerance.js';
import { InputError } from '../../errors.js';
import { expandPlan, loadPlan } from '../../jobs/plan.js';
import { runBatch } from '../../jobs/run.js';
import { readResults } from '../../jobs/store.js';
import { requireCircuitArch } from '../../model/arch.js';
import { loadModel } from '../../model/load.js';
import type { Network } from '../../model/types.js';
import { runNetworkBatch } from '../../model/batch.js';
import { cosimulate, type CosimResult } from '../../pipeline.js';
import {
  histogram,
  htmlPage,
  lineChart,
  rasterChart,
  rasterRuns,
  writePlot,
  type RasterCategory,
  type RasterSpec,
} from '../../plot/index.js';
import { PACKAGE_ROOT, resolveProcessPath } from '../../util/paths.js';
import {
  checkCircuit,
  intAtLeast,
  loadProcessAndCalibration,
  loadReferences,
  numberIn,
  outName,
  processOptions,
  referenceOptions,
  timeoutOption,
  unitCurrentOption,
  withUnitCurrent,
  writeClamps,
  type ReferenceArgs,
} from '../common.js';
import { betterReferences, REFERENCE_NAMES } from '../../compare/references.js';
import { writeCsv } from '../csv.js';
import { confusionTable, pct, table, watts } from '../format.js';
import { batchProgressText, progress, transientProgress } from '../progress.js';
import { interruptible } from '../interrupt.js';
import { EXIT_BELOW_TOLERANCE, EXIT_ERROR, EXIT_INTERRUPTED } from '../exit.js';
import { writeFileAtomic } from '../../util/output.js';
import { confusionHtml } from '../../train/report.js';
import { tableHwaware } from '../../analysis/hwmodel.js';
import { causeTable, formatCosim } from '../report.js';
import { comparePageSpec, type ComparePageOptions } from '../compare-page.js';
import { waveformPage } from '../../plot/waveforms.js';
import { transientPlot } from '../../spice/rawfile.js';

const DEFAULT_MODEL = join(PACKAGE_ROOT, 'models', 'kws', 'kws-w4.json');
const DEFAULT_FEATURES = join('data', 'kws-synth', 'features.safetensors');

export function builder(y: Argv) {
  return (
    unitCurrentOption(referenceOptions(timeoutOption(processOptions(y), 1800)), "the model's (kws-w4: 250 pA)")
      .option('model', {
        alias: 'm',
        type: 'string',
        default: DEFAULT_MODEL,
        describe: 'trained model file (bmru train)',
        defaultDescription: 'shipped models/kws/kws-w4.json',
      })
      .option('features', {
        alias: 'f',
        type: 'string',
        default: DEFAULT_FEATURES,
        describe: 'features file of the clips (bmru kws-data --features "" or bmru features <folder>)',
      })
      .option('split', {
        type: 'string',
        choices: SPLITS as string[],
        default: 'test',
        describe: 'which split the clips come from',
      })
      .option('clips', {
        type: 'string',
        default: String(DEFAULT_KWS_CLIPS),
        describe: 'how many clips (evenly spaced through the split, so each label keeps its share), or "all"',
      })
      .option('workers', {
        alias: 'j',
        type: 'number',
        default: os.availableParallelism(),
        describe: 'ngspice processes at once',
      })
      .option('tolerances', {
        alias: 't',
        type: 'string',
        describe: "tolerance JSON for each clip's comparison",
        defaultDescription: 'as bmru compare',
      })
      .option('show', {
        type: 'string',
        describe: 'clip for the time-series figure (name or data-set path)',
        defaultDescription: 'first clip whose circuit decision differs, else the first "yes"',
      })
      .option('min-agreement', {
        type: 'number',
        default: 0.98,
        describe:
          "exit 1 when the decision agreement of the circuit with the verdict's reference is below this fraction",
      })
      .option('out', {
        alias: 'o',
        type: 'string',
        describe: 'output folder (the batch results live there: a rerun resumes)',
        defaultDescription: 'out/kws-<model>-<process>',
      })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no progress line' })
      .check(
        (a) =>
          a.clips === 'all' ||
          (Number.isInteger(Number(a.clips)) && Number(a.clips) >= 1) ||
          `--clips must be an integer >= 1 or "all", got "${a.clips}"`,
      )
      .check((a) => intAtLeast('workers', a.workers, 1))
      // NaN (from --min-agreement abc) would pass any agreement: `x < NaN` is false.
      .check((a) => numberIn('min-agreement', a['min-agreement'], 0, 1))
      .example(
        '$0 kws-data --features "" && $0 kws',
        'make the synthetic set (~1 min), then 50 test clips through software and circuit (~8 min on 2 cores)',
      )
      .example('$0 kws --clips all -o out/kws-all', 'every test clip (181 in the default set)')
      .example('$0 kws -p gf180mcu --clips 10', 'ten clips on the GF180MCU kit')
      .example('$0 kws --unit-current 1e-9', 'the same network at I_unit = 1 nA: 4x the power')
      .epilogue(
        [
          'Each clip is one job of an ordinary batch (plan.yaml in the output folder): results are written as each clip',
          'finishes, Ctrl-C keeps them, and running the same command again only simulates what is missing. The plan can',
          'also go to Slurm (bmru batch submit <out>/plan.yaml --slurm), then run this command to score.',
          '',
          'Reported: clip accuracy of the trained model, of the software model with the parameters the circuit realises,',
          'and of the circuit; decision agreement (majority vote of per-frame argmax) and per-frame state agreement of the',
          "circuit with each reference (trained, realised, hwaware); --min-agreement and each clip's verdict judge the one",
          '--reference names, by default the best predictor available for the process (hwaware where its calibration has',
          'hardware tables, else realised); mean power per supply domain and energy per inference, from the transient. Written: kws.csv (one',
          'row per clip), kws.json (summary), kws.html (time series of one clip, agreement and power over clips), and',
          "waveforms.html (that clip's node voltages and currents against time, zoomable: bmru compare's report.html).",
          'Exit code: 0 agreement >= --min-agreement, 1 below, 2 error or failed clips, 130 interrupted.',
        ].join('\n'),
      )
  );
}

interface Args extends ReferenceArgs {
  model: string;
  features: string;
  split: string;
  clips: string;
  unitCurrent?: number;
  process: string;
  kit?: string;
  calibrated: boolean;
  maxTransistors: number;
  clamp: boolean;
  timeout: number;
  workers: number;
  tolerances?: string;
  show?: string;
  minAgreement: number;
  out?: string;
  quiet: boolean;
}

export async function handler(a: Args): Promise<void> {
  const trained = await loadModel(a.model);
  requireCircuitArch(trained, a.model);
  const set = await loadFeatures(a.features);
  if (set.features !== trained.inputs)
    throw new InputError(`has ${set.features} features per frame, the model ${a.model} expects ${trained.inputs}`, {
      file: a.features,
    });
  if (set.classes.length !== trained.classes)
    throw new InputError(
      `has ${set.classes.length} classes (${set.classes.join(', ')}), the model ${a.model} has ${trained.classes} outputs`,
      { file: a.features, field: 'target' },
    );
  const asked = withUnitCurrent(trained, a.unitCurrent);
  const { process: proc, calibration } = await loadProcessAndCalibration(a);
  // Before the batch writes a deck: the budget and the process's ranges (clamped values go into model.json).
  const { net, clamps } = checkCircuit(asked.net, proc, calibration, a, asked.source);
  const tolerances = a.tolerances ? await loadTolerances(a.tolerances) : DEFAULT_TOLERANCES;
  const refs = await loadReferences(a, net);
  const split = a.split as Split; // yargs checked it against SPLITS
  const clips = selectClips(set, split, a.clips === 'all' ? 'all' : Number(a.clips), a.features);
  if (a.show !== undefined) namedClip(clips, a.show); // a typo should stop us before the batch, not after it
  const out = resolve(a.out ?? join('out', outName('kws', a.model, proc.name)));
  const processRef = existsSync(join(PACKAGE_ROOT, 'models', a.process, 'process.json'))
    ? a.process
    : resolveProcessPath(a.process);
  const files = await prepareKwsRun(net, set, clips, {
    outDir: out,
    processRef,
    kit: a.kit === undefined ? undefined : resolve(a.kit),
    calibrated: a.calibrated,
    tolerances,
    timeoutS: a.timeout,
    name: 'kws',
    maxTransistors: a.maxTransistors,
    reference: refs.reference,
    hwawareModel: a.hwawareModel === undefined ? undefined : resolve(a.hwawareModel),
  });
  await writeClamps(out, clamps);
  const expanded = await expandPlan(await loadPlan(files.plan));
  const perClass = set.classes.map((name, k) => `${clips.filter((c) => c.target === k).length} '${name}'`);
  console.error(
    `kws: ${clips.length} ${a.split} clips (${set.classes.length === 2 ? perClass[1] : perClass.join(', ')}) of ${a.features}, ${a.model} at I_unit ${net.unitCurrentA} A on ${proc.name}, ${a.workers} workers; results in ${out}`,
  );

  const p = progress('kws', a.quiet);
  const summary = await interruptible(
    (signal) =>
      runBatch(expanded, {
        workers: a.workers,
        retryFailed: true,
        processHwaware: tableHwaware,
        signal,
        onProgress: (x) => p.update(batchProgressText(x)),
      }),
    (text) => p.note(text),
  ).finally(() => p.stop());
  if (summary.interrupted) {
    console.log(
      `interrupted: ${summary.ok + summary.skipped} of ${summary.total} clips done; run the same command again to finish`,
    );
    process.exitCode = EXIT_INTERRUPTED;
    return;
  }

  // Only this plan's jobs: the folder may also hold results of another I_unit or model for the same clips.
  const records = await readResults(
    summary.paths,
    expanded.jobs.map((j) => j.id),
  );
  const rows = kwsRows(trained, set, clips, records.values(), proc.vddV);
  const clipS = set.frames * net.frameS;
  const s = kwsSummary(rows, clipS, set.classes.length);
  console.log(formatKws(s, set, trainedTestAccuracy(trained, set, split), summary.skipped));
  await writeCsv(join(out, 'kws.csv'), kwsCsv(rows));

  const shown = clipToShow(rows, a.show, set.classes);
  // The summary first: it must not depend on the figure's extra transient succeeding.
  await writeFileAtomic(
    join(out, 'kws.json'),
    JSON.stringify(
      {
        model: a.model,
        features: a.features,
        split: a.split,
        process: proc.name,
        unitCurrentA: net.unitCurrentA,
        reference: s.reference,
        summary: s,
        shown: shown.clip.file,
        ...(clamps.length > 0 ? { clamped: clamps.map((c) => c.message) } : {}),
      },
      null,
      1,
    ) + '\n',
  );
  const sp = progress(`figure: ${shown.clip.name} again with waveforms`, a.quiet);
  const detail = await cosimulate(net, clipInputs(set, shown.clip.index), {
    process: proc,
    calibration,
    tolerances,
    ...refs,
    title: `bmru kws figure ${shown.clip.file}`,
    maxTransistors: a.maxTransistors,
    run: { name: 'kws-figure', timeoutMs: a.timeout * 1000, onProgress: transientProgress(sp) },
  })
    .catch((e: Error) => {
      console.error(
        `warning: the figure's run of ${shown.clip.name} failed, kws.html has no time series: ${e.message}`,
      );
      return null;
    })
    .finally(() => sp.stop());
  // The shown clip as a designer reads it: node voltages and currents against time (as `bmru compare` writes them).
  if (detail !== null)
    await writeFileAtomic(
      join(out, 'waveforms.html'),
      kwsWaveformsHtml(detail, {
        title: `bmru kws: ${shown.clip.file}, ${basename(a.model)} on ${proc.name}`,
        summary: formatCosim(detail, proc.vddV),
        vddV: proc.vddV,
      }),
    );
  await writePlot(
    join(out, 'kws.html'),
    await kwsHtml(
      `bmru kws: ${basename(a.model)} on ${proc.name}, ${clips.length} ${a.split} clips`,
      rows,
      s,
      shown,
      detail,
      set,
    ),
  );
  console.log(
    `\nwritten: ${out}/kws.csv (per clip), kws.json, kws.html (figures), ${detail === null ? '' : `waveforms.html (${shown.clip.name}: V(t), I(t)), `}plan.yaml + results/ (the batch)`,
  );
  process.exitCode =
    s.failed > 0 || detail === null ? EXIT_ERROR : s.agreement.accuracy < a.minAgreement ? EXIT_BELOW_TOLERANCE : 0;
}

async function loadFeatures(file: string): Promise<FeatureSet> {
  if (!existsSync(file) && file === DEFAULT_FEATURES) {
    throw new InputError(
      'not found: make the synthetic keyword set and its features first with `bmru kws-data --features ""` (about a minute)',
      { file },
    );
  }
  return readFeatureFile(file);
}

/** The trained model's accuracy over the whole split (software only, fast), for context beside the sample. */
function trainedTestAccuracy(net: Network, set: FeatureSet, split: Split): { correct: number; clips: number } {
  const all = selectClips(set, split, 'all');
  const traces = runNetworkBatch(
    net,
    all.map((c) => clipInputs(set, c.index)),
    { keep: 'states' },
  );
  return { correct: all.filter((c, n) => traces[n].decision === c.target).length, clips: all.length };
}

function formatKws(
  s: KwsSummary,
  set: Pick<FeatureSet, 'keyword' | 'classes'>,
  wholeSplit: { correct: number; clips: number },
  earlier: number,
): string {
  const acc = (x: { correct: number; clips: number; accuracy: number }) =>
    `${x.correct}/${x.clips} = ${pct(x.accuracy, 1)}`;
  const task =
    set.classes.length === 2
      ? `'${set.keyword}' vs others`
      : `${set.classes.length} classes (${set.classes.join(', ')})`;
  const classAcc = (c: ClassScores, k: number) => {
    const n = c.confusion[k].reduce((a, v) => a + v, 0);
    return n === 0 ? '-' : `${c.confusion[k][k]}/${n}`;
  };
  return [
    `clips: ${s.clips} (${s.simulated} simulated${earlier > 0 ? `, ${earlier} of them by an earlier run` : ''}${s.failed > 0 ? `, ${s.failed} failed or missing` : ''}); ${task}, decision = majority vote of per-frame argmax`,
    table(
      ['', 'clip accuracy'],
      [
        ['trained model (software)', acc(s.trained)],
        ['realised parameters (software)', acc(s.software)],
        ['circuit (ngspice)', acc(s.circuit)],
        [
          `trained model, whole split`,
          `${wholeSplit.correct}/${wholeSplit.clips} = ${pct(wholeSplit.correct / wholeSplit.clips, 1)}`,
        ],
      ],
    ),
    '',
    'per class (clips decided as their class / clips of it):',
    table(
      ['class', 'trained', 'realised software', 'circuit'],
      set.classes.map((name, k) => [
        name,
        classAcc(s.byClass.trained, k),
        classAcc(s.byClass.software, k),
        classAcc(s.byClass.circuit, k),
      ]),
    ),
    `circuit confusion (rows: true class, columns: circuit decision):`,
    confusionTable(s.byClass.circuit.confusion, set.classes),
    '',
    'the circuit against each reference (decision = majority vote; states over all unit-frames, each clip weighing the same):',
    table(
      ['reference', 'decisions agree', 'states mean', 'states worst clip'],
      REFERENCE_NAMES.filter((n) => s.references[n] !== undefined).map((n) => {
        const x = s.references[n]!;
        return [
          n === s.reference ? `${n} (verdict)` : n,
          acc(x.agreement),
          pct(x.stateAgreementMean),
          pct(x.stateAgreementMin),
        ];
      }),
    ),
    ...betterNote(s),
    `decision agreement with ${s.reference ?? "the verdict's reference"}, the verdict's reference: ${acc(s.agreement)}; per-frame vote agreement mean ${pct(s.voteAgreementMean)}`,
    '',
    `unit-frames that disagree with ${s.reference ?? "the verdict's reference"}, over all clips, by cause and by margin of the model's candidate to the threshold in question:`,
    causeTable(s.byCause),
    '',
    'mean power over clips (transient, per supply domain):',
    table(
      ['domain', 'mean', 'core'],
      Object.entries(s.powerW).map(([d, w]) => [
        d,
        watts(w),
        (CORE_DOMAINS as readonly string[]).includes(d) ? 'yes' : '',
      ]),
    ),
    `RNN core (${CORE_DOMAINS.join(' + ')}): ${watts(s.coreW)}, total ${watts(s.totalW)}; energy per inference: core ${(s.coreEnergyJ * 1e9).toFixed(1)} nJ, total ${(s.totalEnergyJ * 1e9).toFixed(1)} nJ`,
    `ngspice time over the clips: ${(s.ngspiceS / 60).toFixed(1)} min`,
  ].join('\n');
}

/** A note when another reference predicts the circuit's states better (mean over clips) than the verdict's. */
function betterNote(s: KwsSummary): string[] {
  if (s.reference === null) return [];
  const t = Object.fromEntries(
    Object.entries(s.references).map(([n, x]) => [n, { stateAgreement: x.stateAgreementMean }]),
  );
  const b = betterReferences(t, s.reference)[0];
  return b === undefined
    ? []
    : [
        `note: ${b} predicts the circuit's states better than ${s.reference}, the verdict's reference (mean ${pct(s.references[b]!.stateAgreementMean)} vs ${pct(s.references[s.reference]!.stateAgreementMean)})`,
      ];
}

function kwsCsv(rows: readonly KwsRow[]): (string | number | null)[][] {
  const domains = Object.keys(rows.find((r) => r.powerW)?.powerW ?? {});
  return [
    [
      'clip',
      'file',
      'label',
      'target',
      'trained_decision',
      'software_decision',
      'circuit_decision',
      'state_agreement',
      'vote_agreement',
      ...domains.map((d) => `${d}_w`),
      'ngspice_s',
      'failure',
      'reference',
      ...REFERENCE_NAMES.flatMap((n) => [`decision_${n}`, `state_agreement_${n}`]),
    ],
    ...rows.map((r) => [
      r.clip.name,
      r.clip.file,
      r.clip.label,
      r.clip.target,
      r.trainedDecision,
      r.softwareDecision,
      r.circuitDecision,
      r.stateAgreement,
      r.voteAgreement,
      ...domains.map((d) => r.powerW?.[d] ?? null),
      r.ngspiceS,
      r.failure,
      r.reference,
      ...REFERENCE_NAMES.flatMap((n) => [r.references[n]?.decision ?? null, r.references[n]?.stateAgreement ?? null]),
    ]),
  ];
}

/** waveforms.html: the shown clip's node voltages and currents against time, as `bmru compare` draws them. */
export function kwsWaveformsHtml(detail: CosimResult, opts: ComparePageOptions): string {
  return waveformPage(comparePageSpec(detail, transientPlot(detail.run.plots), opts)).html;
}

/** kws.html: the shown clip's figures (none when its run failed), then agreement, power and decisions over clips. */
export async function kwsHtml(
  title: string,
  rows: readonly KwsRow[],
  s: KwsSummary,
  shown: KwsRow,
  detail: CosimResult | null,
  set: Pick<FeatureSet, 'keyword' | 'classes'>,
): Promise<string> {
  return htmlPage(title, await kwsSections(rows, s, shown, detail, set.keyword, set.classes));
}

/** Figures: the shown clip's logit margin and states over time (software vs circuit), then agreement and power over clips. */
async function kwsSections(
  rows: readonly KwsRow[],
  s: KwsSummary,
  shown: KwsRow,
  r: CosimResult | null,
  keyword: string,
  classes: readonly string[],
) {
  const sections = r === null ? [] : await clipSections(shown, r, keyword);
  const sim = rows.filter((x) => x.stateAgreement !== null);
  if (sim.length > 0) {
    sections.push({
      heading: 'Per-frame state agreement over clips',
      svg: await histogram({
        title: `state agreement per clip (${sim.length} clips)`,
        x: { label: 'state agreement (fraction of unit-frames)' },
        values: sim.map((x) => x.stateAgreement!),
      }),
      caption: `against the ${s.reference} model: mean ${pct(s.stateAgreementMean)}, worst ${pct(s.stateAgreementMin)}; decisions agree on ${s.agreement.correct}/${s.agreement.clips} clips`,
    });
    const core = (x: KwsRow) => CORE_DOMAINS.reduce((sum, d) => sum + (x.powerW![d] ?? 0), 0);
    sections.push({
      heading: 'RNN core power per clip',
      svg: await histogram({
        title: `mean core power per clip (${CORE_DOMAINS.join(' + ')})`,
        x: { label: 'power (W)', format: '.3s' },
        values: sim.map(core),
      }),
      caption: `mean ${watts(s.coreW)} core, ${watts(s.totalW)} total`,
    });
    for (const [source, what] of [
      ['circuit', 'circuit (ngspice)'],
      ['software', 'realised parameters (software)'],
    ] as const)
      sections.push({
        heading: `Decisions per class: ${what}`,
        svg: confusionHtml(s.byClass[source].confusion, classes),
        caption: `${sim.length} simulated clips; rows: true class, columns: decision; the diagonal is correct`,
      });
  }
  return sections;
}

/** Agreement categories of a cell state pair, in legend order: the two agreeing first, then the two that differ. */
export const STATE_CATEGORIES: readonly RasterCategory[] = [
  { name: 'OFF', color: '#e6e6e6' },
  { name: 'ON', color: '#4c78a8' },
  { name: 'circuit ON, software OFF', color: '#e45756' },
  { name: 'circuit OFF, software ON', color: '#f58518' },
];

/** The categories where circuit and software disagree. */
const DIFFERING = new Set(STATE_CATEGORIES.slice(2).map((c) => c.name));

/** One block's states (frame-major, `T` frames) as a raster: a row per unit, a column per frame, coloured by agreement. */
export function stateRaster(
  software: ArrayLike<number>,
  circuit: ArrayLike<number>,
  T: number,
  title: string,
): RasterSpec {
  const S = software.length / T;
  const cells = new Uint8Array(S * T);
  for (let j = 0; j < S; j++)
    for (let t = 0; t < T; t++) {
      const sw = software[t * S + j];
      const ckt = circuit[t * S + j];
      cells[j * T + t] = sw === ckt ? sw : ckt === 1 ? 2 : 3;
    }
  const rows = Array.from({ length: S }, (_, j) => `unit ${j}`);
  return { title, xLabel: 'frame (10 ms)', yLabel: 'cell', rows, columns: T, categories: STATE_CATEGORIES, cells };
}

/** The shown clip's logit margin and cell states over time, software vs circuit. */
async function clipSections(shown: KwsRow, r: CosimResult, keyword: string) {
  const T = r.software.frames;
  const C = r.software.logits.length / T;
  const frames = Array.from({ length: T }, (_, t) => t);
  // Two classes: the decision follows logit(keyword) - logit(other); more classes: plot the keyword class.
  const margin = (l: Float64Array) => frames.map((t) => (C === 2 ? l[t * C + 1] - l[t * C] : l[t * C + C - 1]));
  const sections = [
    {
      heading: `Clip ${shown.clip.file}: logit margin over time`,
      svg: await lineChart({
        title: `logit('${keyword}') - logit(other), software (${r.reference} model) vs circuit`,
        x: { label: 'frame (10 ms)', integer: true },
        y: { label: 'logit margin (units of I_unit)' },
        series: [
          { name: 'software', x: frames, y: margin(r.software.logits), mark: 'step' },
          // Both are read once per frame: held between samples, so both as steps (a slope would be invented).
          { name: 'circuit', x: frames, y: margin(r.circuit.logits), mark: 'dashed-step' },
        ],
      }),
      caption: `label '${shown.clip.label}'; decisions: software ${r.comparison.softwareDecision}, circuit ${r.comparison.circuitDecision}; state agreement ${pct(r.comparison.stateAgreement)}`,
    },
  ];
  for (let k = 0; k < r.software.states.length; k++) {
    const spec = stateRaster(r.software.states[k], r.circuit.states[k], T, `block ${k}: cell states per frame`);
    const differ = rasterRuns(spec).filter((run) => DIFFERING.has(run.category)).length;
    sections.push({
      heading: `Clip ${shown.clip.file}: block ${k} cell states`,
      svg: await rasterChart(spec),
      caption: `states sampled at the end of each frame (DESIGN §4); ${differ} run(s) of frames where the circuit and the software differ (red, orange)`,
    });
  }
  return sections;
}

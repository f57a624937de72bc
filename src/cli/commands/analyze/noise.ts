import { join } from 'node:path';
import type { Argv } from 'yargs';
import { NOISE_LEVELS, type BoundaryNoise } from '../../../analysis/noise.js';
import {
  DEFAULT_NOISE_SAMPLES_PER_FRAME,
  NoiseRunLineSchema,
  noiseRunFromLine,
  noiseRunToLine,
} from '../../../analysis/noise-circuit.js';
import {
  noiseStudy,
  noiseStudyKeys,
  type NoiseStudyOptions,
  type NoiseStudyRow,
} from '../../../analysis/noise-study.js';
import { keptNote, openKept } from '../../../jobs/kept.js';
import { MARGIN_CLASS_NAMES } from '../../../compare/metrics.js';
import { writeCsv } from '../../csv.js';
import { pct, table } from '../../format.js';
import { progress } from '../../progress.js';
import { htmlPage, lineChart, writePlot } from '../../../plot/index.js';
import {
  intAtLeast,
  modelOptions,
  numberIn,
  prepareAnalysis,
  processOptions,
  timeoutOption,
  type AnalysisArgs,
} from '../../common.js';
import { writeFileAtomic } from '../../../util/output.js';

export const command = 'noise';
export const describe =
  'Noise immunity: discrepancy at each cell input vs output (suppression ratio) under noise, software model and circuit, and over depth';

export function builder(y: Argv) {
  return timeoutOption(processOptions(modelOptions(y)), 3600)
    .option('levels', {
      type: 'string',
      default: NOISE_LEVELS.join(','),
      describe:
        'noise levels (fractions); sigma = level / 3 on every parameter (software), on input and bias currents (circuit)',
    })
    .option('draws', { type: 'number', default: 20, describe: 'software-model noise draws per level (pooled)' })
    .option('circuit', {
      type: 'boolean',
      default: true,
      describe: 'also run the transistor-level circuit with transient noise (one clean run + one per level)',
    })
    .option('depths', {
      type: 'string',
      default: '1,2,3,4',
      describe: 'block counts for the depth study (random width-4 networks of the reference shape)',
    })
    .option('depth-frames', { type: 'number', default: 30, describe: 'frames per clip in the depth study' })
    .option('depth-level', {
      type: 'number',
      default: 0.1,
      describe: 'noise level of the circuit depth study (the software study uses every level)',
    })
    .option('seed', { type: 'number', default: 1, describe: 'seed of every noise draw (recorded in noise.json)' })
    .option('workers', { type: 'number', describe: 'ngspice processes at once', defaultDescription: 'all cores' })
    .option('out', {
      alias: 'o',
      type: 'string',
      describe: 'output folder',
      defaultDescription: 'out/noise-<model>-<inputs>-<process>',
    })
    .check(
      (a) =>
        listOk(a.levels, (v) => v > 0 && v < 1) ||
        `--levels must be comma-separated fractions in (0, 1), got "${a.levels}"`,
    )
    .check(
      (a) =>
        listOk(a.depths, (v) => Number.isInteger(v) && v >= 1) ||
        `--depths must be comma-separated integers >= 1, got "${a.depths}"`,
    )
    .check((a) => intAtLeast('draws', a.draws, 1))
    .check((a) => intAtLeast('depth-frames', a['depth-frames'], 1))
    .check((a) => numberIn('depth-level', a['depth-level'], 0, 1, true))
    .check((a) => intAtLeast('seed', a.seed, 0))
    .check((a) => intAtLeast('workers', a.workers, 1))
    .example('$0 analyze noise', 'the shipped example at 5/10/15% noise, software and circuit, plus the depth study')
    .example('$0 analyze noise --no-circuit --draws 100', 'software model only (seconds)')
    .epilogue(
      'Metric: mean absolute discrepancy vs the clean run over unit-frames, in units of I_unit, at the cell input (candidate) and output (state current alpha*s); ratio = input / output. "stable" excludes unit-frames where the clean state switched. Each finished transient is kept in noise-runs.jsonl: a rerun into the same folder with the same model, clip, kit and options runs only the ones missing.',
    );
}

const listOk = (s: string, ok: (v: number) => boolean) => s.split(',').every((v) => v.trim() !== '' && ok(Number(v)));
const list = (s: string) => s.split(',').map(Number);

interface Args extends AnalysisArgs {
  levels: string;
  draws: number;
  circuit: boolean;
  depths: string;
  depthFrames: number;
  depthLevel: number;
  seed: number;
  workers?: number;
}

type Row = NoiseStudyRow;

export async function handler(a: Args): Promise<void> {
  const { net, inputs, process: proc, calibration, out } = await prepareAnalysis(a, 'noise');
  const levels = list(a.levels);
  const options: NoiseStudyOptions = {
    process: proc,
    calibration,
    maxTransistors: a.maxTransistors,
    levels,
    draws: a.draws,
    seed: a.seed,
    circuit: a.circuit,
    depths: list(a.depths),
    depthFrames: a.depthFrames,
    depthLevel: a.depthLevel,
    concurrency: a.workers,
    run: { timeoutMs: a.timeout * 1000 },
  };
  // The file holds this run's transients only: those kept, then each new one as it finishes. A software-only run
  // leaves it as it is.
  const runs = await noiseStudyKeys(net, inputs, options);
  const store = a.circuit
    ? await openKept(join(out, 'noise-runs.jsonl'), NoiseRunLineSchema, new Set(runs.map((r) => r.key)))
    : undefined;
  const kept = runs.filter((r) => store?.kept.has(r.key)).map((r) => r.label);
  const circuitNote = store
    ? `${runs.length - kept.length} of ${runs.length} ngspice runs (clean + noisy) to run${keptNote('runs', kept, store.file, store.skipped)}`
    : 'software only';
  if (store) console.error(`noise: ${circuitNote}`); // also in logs, where the live progress line is sparse
  const p = progress(`noise study (${circuitNote}) on ${proc.name}`);
  const { rows, circuit: circuitRuns } = await noiseStudy(net, inputs, {
    ...options,
    kept: store && {
      get: (key) => {
        const line = store.kept.get(key);
        return line && noiseRunFromLine(line);
      },
      add: (key, run) => store.add(key, noiseRunToLine(run)),
    },
    onCircuitRun: (study, done, total) => p.update(`${study}: ${done}/${total} ngspice runs`),
  }).finally(async () => {
    p.stop();
    await store?.flushed();
  });

  console.log(
    formatRows(
      rows.filter((r) => r.study === 'example'),
      'example: per cell boundary',
    ),
  );
  for (const [name, r] of Object.entries(circuitRuns).filter(([k]) => k === 'example')) {
    console.log(
      `\n${name}: clean circuit vs model ${pct(r.cleanStateAgreement)}; noisy circuit vs model: ${r.levels.map((l) => `${pct(l.level, 0)} ${pct(l.stateAgreement)}${l.decisionMatch ? '' : ' (DECISION DIFFERS)'}`).join(', ')}`,
    );
  }
  console.log('\n' + formatMargins(rows.filter((r) => r.study === 'example')));
  console.log(
    '\n' +
      formatDepth(
        rows.filter((r) => r.study !== 'example'),
        a.depthLevel,
      ),
  );

  await writeCsv(join(out, 'noise.csv'), [
    [
      'study',
      'source',
      'level',
      'block',
      'unit_frames',
      'switching_unit_frames',
      'candidate_mae',
      'state_mae',
      'ratio',
      'candidate_mae_stable',
      'state_mae_stable',
      'ratio_stable',
      'flips',
      'flip_mae',
      'ratio_flips',
      ...MARGIN_CLASS_NAMES.flatMap((m) => [`unit_frames_margin_${m}`, `flips_margin_${m}`]),
    ],
    ...rows.map(({ study, source, level, b }) => [
      study,
      source,
      level,
      b.block,
      b.unitFrames,
      b.switchingUnitFrames,
      b.candidateMAE,
      b.stateMAE,
      finite(b.ratio),
      b.candidateMAEStable,
      b.stateMAEStable,
      finite(b.ratioStable),
      b.flips,
      b.flipMAE,
      finite(b.ratioFlips),
      ...MARGIN_CLASS_NAMES.flatMap((m) => [b.byMargin[m].unitFrames, b.byMargin[m].flips]),
    ]),
  ]);
  await writeFileAtomic(
    join(out, 'noise.json'),
    JSON.stringify(
      {
        model: a.model,
        process: proc.name,
        seed: a.seed,
        draws: a.draws,
        levels,
        noiseSamplesPerFrame: DEFAULT_NOISE_SAMPLES_PER_FRAME,
        rows,
        circuit: circuitRuns,
      },
      (_, v) => (v === Infinity ? 'inf' : v),
      1,
    ) + '\n',
  );
  await writePlot(
    join(out, 'noise.html'),
    await noiseHtml(`bmru analyze noise: ${a.model} on ${proc.name}`, rows, a.depthLevel, Math.max(...list(a.depths))),
  );
  console.log(
    `\nwritten: ${out}/noise.csv, noise.json, noise.html${store ? ', noise-runs.jsonl (the transients, kept for a rerun)' : ''}`,
  );
}

/** Range of the per-cell ratio input / output over a block's cells. */
function cellRange(b: BoundaryNoise): string {
  const r = b.cells.map((c) => (c.stateMAE > 0 ? c.candidateMAE / c.stateMAE : Infinity));
  return `${ratioText(Math.min(...r))}..${ratioText(Math.max(...r))}`;
}

const finite = (v: number) => (Number.isFinite(v) ? v : 'inf');
const ratioText = (v: number) => (Number.isFinite(v) ? `${v.toFixed(1)}x` : 'exact');

function formatRows(rows: Row[], title: string): string {
  return [
    `${title} (discrepancy vs the clean run, I_unit; ratio = input / output):`,
    table(
      [
        'source',
        'level',
        'block',
        'input',
        'output',
        'of it flips',
        'ratio',
        'ratio (flips)',
        'ratio (stable)',
        'per cell (min..max)',
        'flips',
      ],
      rows.map(({ source, level, b }) => [
        source,
        pct(level, 0),
        b.block,
        b.candidateMAE.toFixed(4),
        b.stateMAE.toFixed(4),
        b.flipMAE.toFixed(4),
        ratioText(b.ratio),
        ratioText(b.ratioFlips),
        ratioText(b.ratioStable),
        cellRange(b),
        `${b.flips}/${b.unitFrames}`,
      ]),
    ),
    'output = |alpha~ s~ - alpha s| includes each cell\'s own ON-level noise; "of it flips" is alpha |s~ - s|, the part that input noise caused.',
  ].join('\n');
}

function formatMargins(rows: Row[]): string {
  const classes = MARGIN_CLASS_NAMES;
  return [
    "state flips by the clean candidate's margin to the nearest threshold (flips / unit-frames, all blocks):",
    table(
      ['source', 'level', ...classes],
      [...new Set(rows.map((r) => `${r.source}|${r.level}`))].map((key) => {
        const [source, level] = key.split('|');
        const sel = rows.filter((r) => r.source === source && String(r.level) === level);
        return [
          source,
          pct(Number(level), 0),
          ...classes.map(
            (m) =>
              `${sel.reduce((s, r) => s + r.b.byMargin[m].flips, 0)}/${sel.reduce((s, r) => s + r.b.byMargin[m].unitFrames, 0)}`,
          ),
        ];
      }),
    ),
  ].join('\n');
}

function formatDepth(rows: Row[], circuitLevel: number): string {
  const sel = rows.filter((r) => r.source === 'circuit' || r.level === circuitLevel);
  return [
    `depth study at ${pct(circuitLevel, 0)} noise: output discrepancy (I_unit) per block; it must not grow with depth:`,
    table(
      [
        'study',
        'source',
        ...Array.from({ length: Math.max(...sel.map((r) => r.b.block + 1)) }, (_, k) => `block ${k}`),
      ],
      [...new Set(sel.map((r) => `${r.study}|${r.source}`))].map((key) => {
        const [study, source] = key.split('|');
        return [
          study,
          source,
          ...sel.filter((r) => r.study === study && r.source === source).map((r) => r.b.stateMAE.toFixed(4)),
        ];
      }),
    ),
  ].join('\n');
}

/** noise.html: suppression per cell boundary (the example), then output discrepancy over depth at `depthLevel`. */
export async function noiseHtml(
  title: string,
  rows: readonly Row[],
  depthLevel: number,
  maxDepth: number,
): Promise<string> {
  return htmlPage(title, [
    {
      heading: 'Suppression per cell boundary',
      svg: await ratioPlot(rows.filter((r) => r.study === 'example')),
      caption:
        'input discrepancy / output discrepancy (stable unit-frames); missing points: output exact (ratio unbounded)',
    },
    {
      heading: 'Output discrepancy over depth',
      svg: await depthPlot(
        rows.filter((r) => r.study !== 'example'),
        depthLevel,
      ),
      caption: `state-current discrepancy per block at ${pct(depthLevel, 0)} noise, random width-4 networks with 1..${maxDepth} blocks`,
    },
  ]);
}

function ratioPlot(rows: Row[]): Promise<string> {
  const keys = [...new Set(rows.map((r) => `${r.source} block ${r.b.block}`))];
  return lineChart({
    title: 'Suppression at each cell boundary vs noise level',
    x: { label: 'noise level (3 sigma, fraction)' },
    y: { label: 'input / output discrepancy', log: true },
    series: keys
      .map((name) => {
        const sel = rows.filter(
          (r) => `${r.source} block ${r.b.block}` === name && Number.isFinite(r.b.ratioStable) && r.b.ratioStable > 0,
        );
        return {
          name,
          x: sel.map((r) => r.level),
          y: sel.map((r) => r.b.ratioStable),
          mark: name.startsWith('circuit') ? ('point' as const) : ('line' as const),
        };
      })
      .filter((s) => s.x.length > 0),
  });
}

function depthPlot(rows: Row[], level: number): Promise<string> {
  const sel = rows.filter((r) => r.level === level);
  const keys = [...new Set(sel.map((r) => `${r.source} ${r.study}`))];
  return lineChart({
    title: 'Output discrepancy per block (does error accumulate with depth?)',
    x: { label: 'block index', integer: true },
    y: { label: 'state-current discrepancy (I_unit)' },
    series: keys.map((name) => {
      const s = sel.filter((r) => `${r.source} ${r.study}` === name);
      return {
        name,
        x: s.map((r) => r.b.block),
        y: s.map((r) => r.b.stateMAE),
        mark: name.startsWith('circuit') ? ('dashed' as const) : ('line' as const),
      };
    }),
  });
}

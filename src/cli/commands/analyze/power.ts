import { join, resolve } from 'node:path';
import type { Argv } from 'yargs';
import { cosimulate, DEFAULT_PARTITION_WORKERS } from '../../../pipeline.js';
import {
  CORE_DOMAINS,
  elementBudget,
  frameAverages,
  powerFromPlot,
  type ElementBudget,
  type PowerReport,
} from '../../../analysis/power.js';
import {
  DEFAULT_SCALING_FRAMES,
  DEFAULT_SCALING_WIDTHS,
  fitScaling,
  powerScaling,
  ScalingLineSchema,
  scalingPointKey,
  type ScalingOptions,
  type ScalingPoint,
} from '../../../analysis/scaling.js';
import { keptNote, openKept } from '../../../jobs/kept.js';
import { transientPlot, vector } from '../../../spice/rawfile.js';
import { writeCsv } from '../../csv.js';
import { htmlPage, lineChart, writePlot } from '../../../plot/index.js';
import { pct, table, watts } from '../../format.js';
import { progress, transientProgress } from '../../progress.js';
import {
  circuitArgv,
  intAtLeast,
  modelOptions,
  prepareAnalysis,
  processOptions,
  slurmSubmitArgv,
  slurmSubmitOptions,
  SLURM_SUBMIT_FLAGS,
  timeoutOption,
  type AnalysisArgs,
  type SlurmSubmitArgs,
} from '../../common.js';
import { slurmCompare } from '../../../jobs/partition-slurm.js';
import type { Network } from '../../../model/types.js';
import type { InputSequence } from '../../../model/network.js';
import { writeFileAtomic } from '../../../util/output.js';
import { REFERENCE_MEANING, REFERENCE_NAMES } from '../../../compare/references.js';
import { DEFAULT_CURRENT_FACTORS, DEFAULT_VDD_FACTORS } from '../../../analysis/sweep.js';
import { checkQuantityList, sweepHandler } from './sweep.js';

export const command = 'power';
export const describe =
  'Average and peak power per supply domain (cells, feedforward, bias, input) and energy per inference; --scaling fits power vs width; --sweep trades core power against state agreement over VDD and I_unit';

export function builder(y: Argv) {
  const withSlurm = timeoutOption(processOptions(modelOptions(y)), 3600)
    .option('scaling', {
      type: 'boolean',
      default: false,
      describe:
        'also sweep random networks of the reference shape over --widths and fit power-law exponents; each width is written to scaling-points.jsonl as it finishes, and the same command again keeps the widths it finds there (same code and options) and runs the rest',
    })
    .option('widths', {
      type: 'string',
      default: DEFAULT_SCALING_WIDTHS.join(','),
      describe:
        'comma-separated widths for --scaling (each run costs ~N^2 transistors; monolithic, 32 takes tens of minutes and 64 hours; --partitioned, 64 over 10 frames took 4 min of ngspice on 2 free cores and needs --max-transistors 30000)',
    })
    .option('frames', {
      type: 'number',
      default: DEFAULT_SCALING_FRAMES,
      describe: 'frames per random clip in --scaling',
    })
    .option('partitioned', {
      type: 'boolean',
      default: false,
      describe:
        "--scaling: simulate each width partition by partition (docs/partition.md; supply currents summed over the partitions), one width at a time on -j ngspice processes; the model's own run stays monolithic (its per-element probes are not split)",
    })
    .option('partition-by', {
      choices: ['cell', 'block'] as const,
      default: 'cell' as const,
      describe:
        'with --partitioned: each block split per cell (side by side; from width 16 the front end per output too; the fast one at width 32-64) or a partition per block',
    })
    .option('slurm', {
      type: 'boolean',
      default: false,
      describe:
        "with --scaling --partitioned: each width's partitions as Slurm job arrays (bmru compare --partitioned --slurm --wait on the width's network and clip, written to <out>/slurm-w<N>/, a folder every node sees), the widths submitted at once; power from their merged partitions here. The same command again resubmits only the partitions without a result",
    });
  return slurmSubmitOptions(withSlurm)
    .option('sweep', {
      type: 'boolean',
      default: false,
      describe:
        'instead of one run: the model on its clip at every --vdd x --unit-currents point, core power against state agreement, the Pareto-optimal points marked (sweep.csv, sweep.json, pareto.html)',
    })
    .option('vdd', {
      type: 'string',
      describe:
        "--sweep: supplies (V), comma-separated; each but the process's own runs on a copy of the process calibrated there (~30 s on c180, ~1 min on GF180MCU, kept for reruns)",
      defaultDescription: `the process's vddV x ${DEFAULT_VDD_FACTORS.map((f) => +f.toFixed(2)).join(', ')} to 50 mV (c180: 0.6,0.9,1.2,1.8; gf180mcu: 1,1.5,2,3)`,
    })
    .option('unit-currents', {
      type: 'string',
      describe:
        '--sweep: I_unit values (A), comma-separated, SPICE suffixes allowed (125p,250p,1n); power scales with each',
      defaultDescription: `the model's I_unit x ${DEFAULT_CURRENT_FACTORS.join(', ')} (kws-w4: 125p,250p,500p; the example: 500p,1n,2n)`,
    })
    .option('reference', {
      type: 'string',
      choices: REFERENCE_NAMES as unknown as string[],
      describe: `--sweep: the model whose state agreement the Pareto front weighs (all are reported): ${REFERENCE_NAMES.map((n) => `${n} = ${REFERENCE_MEANING[n]}`).join('; ')}`,
      defaultDescription: 'hwaware where the calibration has hardware tables (both shipped kits), else realised',
    })
    .option('workers', {
      alias: 'j',
      type: 'number',
      describe: `ngspice processes at once for --scaling and --sweep (widths at once; with --partitioned, partitions of one width at once, default ${DEFAULT_PARTITION_WORKERS})`,
      defaultDescription: 'all cores',
    })
    .option('out', {
      alias: 'o',
      type: 'string',
      describe: 'output folder',
      defaultDescription: 'out/power-<model>-<inputs>-<process>',
    })
    .check(
      (a) =>
        (/^\d+(,\d+)+$/.test(a.widths) && a.widths.split(',').every((w) => Number(w) >= 1)) ||
        `--widths must be at least two comma-separated widths >= 1 (a fit needs two points), got "${a.widths}"`,
    )
    .check((a) => intAtLeast('frames', a.frames, 1))
    .check((a) => intAtLeast('workers', a.workers, 1))
    .check((a) => checkQuantityList('vdd', a.vdd, 'V'))
    .check((a) => checkQuantityList('unit-currents', a['unit-currents'], 'A'))
    .check((a) => !(a.sweep && a.scaling) || '--sweep and --scaling are separate runs: give one of them')
    .check(
      (a) =>
        !a.partitioned ||
        a.scaling ||
        "--partitioned goes with --scaling (the model's own run needs per-element supply probes, which are not split yet)",
    )
    .check((a) => !a.slurm || (a.scaling && a.partitioned) || '--slurm goes with --scaling --partitioned')
    .check((a) => {
      const flag = SLURM_SUBMIT_FLAGS.find((f) => a[f] !== undefined);
      return flag === undefined || a.slurm || `--${flag} goes with --slurm`;
    })
    .example('$0 analyze power', 'power split of the shipped example on the embedded 180 nm card')
    .example('$0 analyze power --scaling --widths 2,4,8,16', 'power vs width with fitted exponents')
    .example(
      '$0 analyze power --scaling --partitioned --widths 2,4,8,16,32,64 --frames 3 -j 2',
      'the same through width 64, each width simulated per cell (docs/power.md, "Power vs width")',
    )
    .example(
      '$0 analyze power --scaling --partitioned --slurm --widths 16,32,64,128 --max-transistors 100000 -o /scratch/$USER/scaling',
      'the same through width 128 on a Slurm cluster: a job array per stage of each width (docs/slurm.md)',
    )
    .example(
      '$0 analyze power --sweep -m models/kws/kws-w4.json -i models/kws/clip-yes.csv --vdd 0.6,0.9,1.8 --unit-currents 125p,250p,1n -j 1',
      'the KWS model at 9 operating points; pareto.html plots core power against state agreement',
    )
    .epilogue(
      [
        '--sweep: every (VDD, I_unit) point is one job of an ordinary batch (plan.yaml in the output folder): results are written',
        'as each point finishes, Ctrl-C keeps them, and the same command again only simulates what is missing (a supply already',
        'calibrated there is not measured again). A point the process cannot build (a current outside the calibrated range,',
        'ngspice giving up) is a row with its reason. Agreement is scored against trained, realised and hwaware; the Pareto front',
        'weighs --reference. Exit 0 when any point was simulated, 2 when none was, 130 interrupted.',
      ].join('\n'),
    );
}

interface Args extends AnalysisArgs, SlurmSubmitArgs {
  slurm: boolean;
  scaling: boolean;
  sweep: boolean;
  vdd?: string;
  unitCurrents?: string;
  reference?: string;
  widths: string;
  frames: number;
  workers?: number;
  partitioned: boolean;
  partitionBy: 'cell' | 'block';
}

export async function handler(a: Args): Promise<void> {
  if (a.sweep) return sweepHandler(a);
  const { net, inputs, process: proc, calibration, out } = await prepareAnalysis(a, 'power');
  const p = progress(`ngspice: ${inputs.frames} frames on ${proc.name}`);
  const r = await cosimulate(net, inputs, {
    process: proc,
    calibration,
    maxTransistors: a.maxTransistors,
    supplyProbes: true,
    run: { name: 'power', timeoutMs: a.timeout * 1000, onProgress: transientProgress(p) },
  }).finally(() => p.stop());
  const plot = transientPlot(r.run.plots);
  const power = powerFromPlot(plot, r.generated.probes.supplies, proc.vddV, net.frameS);
  const budget = elementBudget(plot, r.generated.supplyBranches ?? [], power);
  const time = vector(plot, 'time');
  const perFrame = Object.entries(r.generated.probes.supplies).map(
    ([d, name]) =>
      [
        d,
        frameAverages(
          time,
          Float64Array.from(vector(plot, name), (i) => -i * proc.vddV),
          net.frameS,
        ),
      ] as const,
  );
  await writeCsv(join(out, 'power.csv'), [
    ['domain', 'mean_w', 'peak_w', 'peak_frame_w'],
    ...power.domains.map((d) => [d.domain, d.meanW, d.peakW, d.peakFrameW]),
  ]);
  await writeCsv(join(out, 'power-elements.csv'), [
    ['element', 'kind', 'stage', 'domain', 'mean_a', 'mean_w'],
    ...[...budget.elements]
      .sort((x, y) => y.meanW - x.meanW)
      .map((e) => [e.element, e.kind, e.stage, e.domain, e.meanA, e.meanW]),
  ]);
  await writeCsv(join(out, 'power-frames.csv'), [
    ['frame', ...perFrame.map(([d]) => `${d}_w`)],
    ...perFrame[0][1].map((_, t) => [t, ...perFrame.map(([, v]) => v[t])]),
  ]);
  console.log(
    formatPower(
      power,
      `${r.generated.transistors} transistors, ${inputs.frames} frames, state agreement ${pct(r.comparison.stateAgreement)}`,
    ),
  );
  console.log('');
  console.log(formatBudget(budget, power));

  let points: ScalingPoint[] | undefined;
  const pointsFile = join(out, 'scaling-points.jsonl');
  if (a.scaling) {
    const widths = a.widths.split(',').map(Number);
    const scalingOpts: ScalingOptions = {
      process: proc,
      calibration,
      maxTransistors: a.maxTransistors,
      widths,
      frames: a.frames,
      ...(a.partitioned
        ? { partitioned: true, partitionBy: a.partitionBy, workers: a.workers, concurrency: 1 }
        : { concurrency: a.workers }),
      // On Slurm the widths wait on the scheduler, not on this machine: all of them submitted at once.
      ...(a.slurm
        ? {
            concurrency: widths.length,
            partitionExecutorFor: (width: number, n: Network, clip: InputSequence) =>
              slurmCompare({
                dir: resolve(out, `slurm-w${width}`),
                net: n,
                inputs: clip,
                compareArgs: [...circuitArgv(a), '--partition-by', a.partitionBy, ...slurmSubmitArgv(a)],
                // Few lines per width: the submissions and their job ids, to follow with squeue.
                onLine: (line) => sp.note(`width ${width}: ${line}`),
              }),
          }
        : {}),
      run: { timeoutMs: a.timeout * 1000 },
    };
    const keys = new Map(
      await Promise.all(widths.map(async (w) => [w, await scalingPointKey(w, scalingOpts)] as const)),
    );
    // The file holds this run's points only: those kept, then each new one as it finishes.
    const store = await openKept(pointsFile, ScalingLineSchema, new Set(keys.values()));
    const kept = new Map([...store.kept.values()].map((p) => [p.width, p]));
    const plan = `scaling: ${widths.length - kept.size} of ${widths.length} widths x ${a.frames} frames to run${a.partitioned ? `, partitioned by ${a.partitionBy}` : ''}${keptNote('width', widths.filter((w) => kept.has(w)).map(String), pointsFile, store.skipped)}`;
    console.error(plan); // also in logs, where the live progress line is sparse
    const sp = progress(plan);
    points = await powerScaling({
      ...scalingOpts,
      kept,
      onDone: (c) => {
        // Each width as it finishes: at 64 the run takes long enough that a later failure must not lose the rest.
        if (c.result) store.add(keys.get(c.item)!, c.result);
        sp.update(`${c.completed}/${c.total} (width ${c.item} ${c.error ? 'failed' : 'done'})`);
      },
    }).finally(async () => {
      sp.stop();
      await store.flushed(); // the widths that finished, also when a later one failed
    });
    console.log('');
    console.log(formatScaling(points));
    await writeCsv(join(out, 'scaling.csv'), [
      [
        'width',
        'transistors',
        'weights',
        'state_agreement',
        'ngspice_s',
        'simulation',
        ...points[0].power.domains.map((d) => `${d.domain}_w`),
        'core_w',
      ],
      ...points.map((s) => [
        s.width,
        s.transistors,
        s.weights,
        s.stateAgreement,
        s.ngspiceS,
        s.simulation,
        ...s.power.domains.map((d) => d.meanW),
        s.power.coreW,
      ]),
    ]);
  }
  await writePlot(
    join(out, 'power.html'),
    await powerHtml(`bmru analyze power: ${a.model} on ${proc.name}`, perFrame, power, points),
  );
  await writeFileAtomic(
    join(out, 'power.json'),
    JSON.stringify(
      {
        model: a.model,
        process: proc.name,
        power,
        budget: { kinds: budget.kinds, stages: budget.stages, closure: budget.closure },
        scaling: points && { points, fits: fitScaling(points) },
      },
      null,
      1,
    ) + '\n',
  );
  console.log(
    `\nwritten: ${out}/power.csv, power-elements.csv, power-frames.csv${points ? ', scaling.csv, scaling-points.jsonl' : ''}, power.json, power.html`,
  );
}

/** Domain table plus core/total lines. */
export function formatPower(p: PowerReport, context: string): string {
  const core = new Set<string>(CORE_DOMAINS);
  return [
    `power per supply domain (${context}; VDD ${p.vddV} V, ${p.durationS.toFixed(2)} s):`,
    table(
      ['domain', 'mean', 'share of total', 'peak frame', 'peak instant', 'core'],
      p.domains.map((d) => [
        d.domain,
        watts(d.meanW),
        pct(d.meanW / p.totalW, 1),
        watts(d.peakFrameW),
        watts(d.peakW),
        core.has(d.domain) ? 'yes' : '',
      ]),
    ),
    `RNN core (${CORE_DOMAINS.join(' + ')}): ${watts(p.coreW)}, total ${watts(p.totalW)}`,
    `energy per inference (${p.durationS.toFixed(2)} s clip): core ${(p.coreEnergyJ * 1e9).toFixed(2)} nJ, total ${(p.totalEnergyJ * 1e9).toFixed(2)} nJ`,
  ].join('\n');
}

/** Core power ranked by element kind and by stage, and how exactly the probed branches add up to each domain. */
export function formatBudget(b: ElementBudget, p: PowerReport): string {
  const core = new Set<string>(CORE_DOMAINS);
  const rows = (shares: ElementBudget['kinds']) =>
    shares
      .filter((s) => core.has(s.domain))
      .map((s) => [s.key, s.domain, s.branches, watts(s.meanW), pct(s.meanW / p.coreW, 1)]);
  return [
    'RNN core power by element kind (each supply branch probed; largest first):',
    table(['kind', 'domain', 'branches', 'mean', 'share of core'], rows(b.kinds)),
    '',
    'RNN core power by stage (a rail conversion is booked to the stage that needed it):',
    table(['stage', 'domain', 'branches', 'mean', 'share of core'], rows(b.stages)),
    '',
    `probed branches vs supply totals: ${b.closure
      .map((c) => `${c.domain} ${watts(c.branchesW)} / ${watts(c.supplyW)}`)
      .join(', ')}`,
  ].join('\n');
}

/** Scaling points and fitted exponents. */
export function formatScaling(points: readonly ScalingPoint[]): string {
  const fits = fitScaling(points);
  return [
    'power vs width (random networks of the reference shape):',
    table(
      [
        'width',
        'transistors',
        'weights',
        ...points[0].power.domains.map((d) => d.domain),
        'core',
        'agreement',
        'ngspice wall',
        'simulation',
      ],
      points.map((s) => [
        s.width,
        s.transistors,
        s.weights,
        ...s.power.domains.map((d) => watts(d.meanW)),
        watts(s.power.coreW),
        pct(s.stateAgreement),
        `${s.ngspiceS.toFixed(0)} s`,
        s.simulation,
      ]),
    ),
    '',
    'fitted power laws P ~ x^k:',
    table(
      ['domain', 'k vs width N', 'R^2', 'k vs weight count', 'R^2'],
      fits.map((f) => [
        f.domain,
        f.exponentN.toFixed(2),
        f.r2N.toFixed(3),
        f.exponentWeights.toFixed(2),
        f.r2Weights.toFixed(3),
      ]),
    ),
  ].join('\n');
}

/** power.html: per-frame power of each domain, then power against width when the scaling study ran. */
export async function powerHtml(
  title: string,
  perFrame: readonly (readonly [string, number[]])[],
  power: Pick<PowerReport, 'coreW' | 'totalW'>,
  points: readonly ScalingPoint[] | undefined,
): Promise<string> {
  const sections = [
    {
      heading: 'Power per frame',
      svg: await framePlot(perFrame),
      caption: `${watts(power.coreW)} core, ${watts(power.totalW)} total`,
    },
  ];
  if (points)
    sections.push({
      heading: 'Power vs width',
      svg: await scalingPlot(points),
      caption: 'points: measured; dashed: fitted power laws',
    });
  return htmlPage(title, sections);
}

/** Per-frame power of each domain over the clip (log y: domains differ by 40x). */
function framePlot(perFrame: readonly (readonly [string, number[]])[]): Promise<string> {
  return lineChart({
    title: 'Average power per frame and supply domain',
    x: { label: 'frame', integer: true },
    y: { label: 'power (W)', log: true },
    series: perFrame.map(([d, v]) => ({
      name: d,
      x: v.map((_, t) => t),
      y: v.map((w) => Math.max(w, MIN_PLOT_W)),
      mark: 'step' as const,
    })),
  });
}

/** A floor for log plots: a domain can deliver ~0 W for a frame (e.g. idle inputs). */
const MIN_PLOT_W = 1e-12;

/** Measured power per domain vs width, with the fitted power laws dashed. */
function scalingPlot(points: readonly ScalingPoint[]): Promise<string> {
  const widths = points.map((p) => p.width);
  const fits = fitScaling(points);
  const series = fits.flatMap((f) => {
    const y = points.map((p) =>
      f.domain === 'core' ? p.power.coreW : p.power.domains.find((d) => d.domain === f.domain)!.meanW,
    );
    const x0 = widths[0];
    const y0 = Math.exp(
      widths.reduce((s, w, i) => s + Math.log(y[i]) - f.exponentN * Math.log(w / x0), 0) / widths.length,
    );
    return [
      { name: f.domain, x: widths, y: y.map((v) => Math.max(v, MIN_PLOT_W)), mark: 'point' as const },
      {
        name: `${f.domain} fit N^${f.exponentN.toFixed(2)}`,
        x: widths,
        y: widths.map((w) => y0 * (w / x0) ** f.exponentN),
        mark: 'dashed' as const,
      },
    ];
  });
  return lineChart({
    title: 'Power vs width (random networks, reference shape)',
    x: { label: 'width N', log: true },
    y: { label: 'power (W)', log: true },
    series,
  });
}

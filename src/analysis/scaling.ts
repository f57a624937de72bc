/**
 * Power vs network width (issue 3 §2): the same random-network recipe at widths 2..64, each co-simulated on a
 * seeded random clip, with power-law fits per domain. The cell bank should cost ~N (one cell per unit), the
 * feedforward mirrors ~ their weight count (N_in x N per layer: each weight is one mirror copy).
 */
import { cosimulate, simulationWhere, type CosimOptions, type PartitionExecutor } from '../pipeline.js';
import type { InputSequence } from '../model/network.js';
import { randomInputs, randomNetwork } from '../model/random.js';
import type { Network } from '../model/types.js';
import { runMany, type Completion } from '../util/pool.js';
import { transientPlot } from '../spice/rawfile.js';
import type { Domain } from '../netlist/generate.js';
import { checkTransistorBudget, shapeOf } from '../netlist/budget.js';
import { fitPowerLaw, powerFromPlot, type PowerReport } from './power.js';
import { z } from 'zod';
import { DOMAINS } from '../netlist/supplies.js';
import { processKeyFields, resultKey, runnerKeyFields } from '../jobs/kept.js';

/** The reference keyword-spotting shape (DESIGN §1): 13 MFCC inputs, 2 blocks, 2 classes. */
export const SCALING_SHAPE = { inputs: 13, blocks: 2, classes: 2 } as const;
/**
 * Monolithic, 32 takes tens of minutes per 10 frames on one core here and 64 hours: opt in with --widths. Partitioned
 * per cell, 64 took 242 s of ngspice wall for 10 frames on 2 free cores (docs/power.md, 'Power vs width').
 */
export const DEFAULT_SCALING_WIDTHS = [2, 4, 8, 16] as const;
/** Frames per clip: enough for the cells to switch a few times; power is a per-second average. */
export const DEFAULT_SCALING_FRAMES = 10;
/** Seed of the networks and the clip: network seed * 1000 + width, clip seed itself. */
const DEFAULT_SCALING_SEED = 1;

export interface ScalingPoint {
  readonly width: number;
  readonly transistors: number;
  /** Feedforward weights (mirror copies before sign splitting): sum of rows x cols over all layers. */
  readonly weights: number;
  readonly power: PowerReport;
  readonly stateAgreement: number;
  /** Wall seconds of ngspice (partitioned: the whole partitioned run, partitions side by side included). */
  readonly ngspiceS: number;
  /** `monolithic` or `partitioned (N partitions) on <executor>` (`simulationWhere`): which decks the power came from, run where. */
  readonly simulation: string;
}

export interface ScalingFit {
  readonly domain: Domain | 'core';
  /** Against width N. */
  readonly exponentN: number;
  readonly r2N: number;
  /** Against the feedforward weight count (the N_in x N law for mirrors). */
  readonly exponentWeights: number;
  readonly r2Weights: number;
}

export interface ScalingOptions extends Omit<CosimOptions, 'tolerances'> {
  readonly widths?: readonly number[];
  readonly frames?: number;
  readonly seed?: number;
  /** Widths simulated at once. Default: all cores, or 1 when `partitioned` (each run has `workers` of its own). */
  readonly concurrency?: number;
  readonly onDone?: (c: Completion<number, ScalingPoint>) => void;
  /** With `partitioned`: where each width's partitions run (`slurmCompare`); default the local pool. */
  readonly partitionExecutorFor?: (width: number, net: Network, inputs: InputSequence) => PartitionExecutor;
  /** Points of an earlier run, by width (scaling-points.jsonl): those widths are returned as they are, not simulated. */
  readonly kept?: ReadonlyMap<number, ScalingPoint>;
}

/**
 * What decides a width's point, hashed with the toolkit's code (jobs/kept.ts `resultKey`): the width, clip length,
 * seed, the process with its kit files by content, and every option except those that only say how long to wait or how
 * many at once. Where the partitions run
 * stays in (a local pool's time windows differ from a Slurm task's by up to 0.15% in power).
 */
export async function scalingPointKey(width: number, opts: ScalingOptions): Promise<string> {
  const {
    run,
    frames,
    seed,
    onDone: _d,
    concurrency: _c,
    widths: _w,
    maxTransistors: _m,
    kept: _k,
    partitionExecutorFor,
    ...rest
  } = opts;
  return resultKey({
    width,
    frames: frames ?? DEFAULT_SCALING_FRAMES,
    seed: seed ?? DEFAULT_SCALING_SEED,
    options: { ...rest, process: await processKeyFields(opts.process) },
    runner: runnerKeyFields(run),
    executor: partitionExecutorFor ? 'custom' : 'local',
  });
}

const DomainPowerSchema = z.object({
  domain: z.enum(DOMAINS),
  meanW: z.number(),
  peakW: z.number(),
  peakFrameW: z.number(),
});
/** One line of scaling-points.jsonl (jobs/kept.ts): a point and the key of what produced it. */
export const ScalingLineSchema = z.object({
  key: z.string(),
  width: z.number().int().positive(),
  transistors: z.number(),
  weights: z.number(),
  power: z.object({
    vddV: z.number(),
    durationS: z.number(),
    domains: z.array(DomainPowerSchema).min(1),
    coreW: z.number(),
    totalW: z.number(),
    coreEnergyJ: z.number(),
    totalEnergyJ: z.number(),
  }),
  stateAgreement: z.number(),
  ngspiceS: z.number(),
  simulation: z.string(),
});

/** Feedforward weight count of a network (each is one width-coded mirror, twice for signed inputs). */
export function weightCount(net: Network): number {
  const layer = (l: Network['pre']) => l.weight.rows * l.weight.cols;
  return layer(net.pre) + net.blocks.reduce((s, b) => s + layer(b.cand) + layer(b.post), 0) + layer(net.out);
}

/**
 * Co-simulate one random network per width; points come back in width order. With `partitioned`, each width runs
 * partition by partition and its power is read from the merged plot, whose supply currents are the sums over the
 * partitions (pipeline.ts `mergePartitionRuns`): every element sits in exactly one partition, and the gate-load
 * replicas a driving partition adds draw no supply current (V_DS = 0; a second pass's driven replicas have private
 * supplies, netlist/partition.ts `drivenReplicas`), so nothing is counted twice.
 */
export async function powerScaling(opts: ScalingOptions): Promise<ScalingPoint[]> {
  const widths = opts.widths ?? DEFAULT_SCALING_WIDTHS;
  const frames = opts.frames ?? DEFAULT_SCALING_FRAMES;
  const seed = opts.seed ?? DEFAULT_SCALING_SEED;
  const netOf = (width: number) => randomNetwork({ ...SCALING_SHAPE, width, seed: seed * 1000 + width });
  // Every width is checked before the first runs: a refused width 64 must not cost the hour of the widths before it.
  for (const width of widths) checkTransistorBudget(shapeOf(netOf(width)), opts.maxTransistors);
  const kept = opts.kept ?? new Map<number, ScalingPoint>();
  const fresh = await runMany(
    widths.filter((w) => !kept.has(w)),
    async (width) => {
      const net = netOf(width);
      const inputs = randomInputs(frames, SCALING_SHAPE.inputs, seed);
      const r = await cosimulate(net, inputs, {
        ...opts,
        partitionExecutor: opts.partitionExecutorFor?.(width, net, inputs),
        run: { name: `scaling-w${width}`, ...opts.run },
      });
      const plot = transientPlot(r.run.plots);
      return {
        width,
        transistors: r.generated.transistors,
        weights: weightCount(net),
        power: powerFromPlot(plot, r.generated.probes.supplies, opts.process.vddV, net.frameS),
        stateAgreement: r.comparison.stateAgreement,
        ngspiceS: r.run.durationMs / 1000,
        simulation: simulationWhere(r.simulation),
      };
    },
    { concurrency: opts.concurrency ?? (opts.partitioned ? 1 : undefined), onDone: opts.onDone },
  );
  const byWidth = new Map([...kept, ...fresh.map((p) => [p.width, p] as const)]);
  return widths.map((w) => byWidth.get(w)!);
}

/** Power-law exponents per domain (and the core sum) against width and against weight count. */
export function fitScaling(points: readonly ScalingPoint[]): ScalingFit[] {
  const domains = points[0].power.domains.map((d) => d.domain);
  const series = (pick: (p: ScalingPoint) => number) => points.map(pick);
  const fit = (domain: Domain | 'core', y: number[]): ScalingFit => {
    const n = fitPowerLaw(
      series((p) => p.width),
      y,
    );
    const w = fitPowerLaw(
      series((p) => p.weights),
      y,
    );
    return { domain, exponentN: n.exponent, r2N: n.r2, exponentWeights: w.exponent, r2Weights: w.r2 };
  };
  return [
    ...domains.map((d) =>
      fit(
        d,
        series((p) => p.power.domains.find((x) => x.domain === d)!.meanW),
      ),
    ),
    fit(
      'core',
      series((p) => p.power.coreW),
    ),
  ];
}

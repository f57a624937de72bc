/**
 * Power vs network width (issue 3 §2): the same random-network recipe at widths 2..64, each co-simulated on a
 * seeded random clip, with power-law fits per domain. The cell bank should cost ~N (one cell per unit), the
 * feedforward mirrors ~ their weight count (N_in x N per layer: each weight is one mirror copy).
 */
import { cosimulate, type CosimOptions } from '../pipeline.js';
import { randomInputs, randomNetwork } from '../model/random.js';
import type { Network } from '../model/types.js';
import { runMany, type Completion } from '../util/pool.js';
import { transientPlot } from '../spice/rawfile.js';
import type { Domain } from '../netlist/generate.js';
import { fitPowerLaw, powerFromPlot, type PowerReport } from './power.js';

/** The reference keyword-spotting shape (DESIGN §1): 13 MFCC inputs, 2 blocks, 2 classes. */
export const SCALING_SHAPE = { inputs: 13, blocks: 2, classes: 2 } as const;
/** 32 takes tens of minutes per 10 frames on one core here, 64 hours: opt in with --widths. */
export const DEFAULT_SCALING_WIDTHS = [2, 4, 8, 16] as const;
/** Frames per clip: enough for the cells to switch a few times; power is a per-second average. */
export const DEFAULT_SCALING_FRAMES = 10;

export interface ScalingPoint {
  readonly width: number;
  readonly transistors: number;
  /** Feedforward weights (mirror copies before sign splitting): sum of rows x cols over all layers. */
  readonly weights: number;
  readonly power: PowerReport;
  readonly stateAgreement: number;
  readonly ngspiceS: number;
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
  readonly concurrency?: number;
  readonly onDone?: (c: Completion<number, ScalingPoint>) => void;
}

/** Feedforward weight count of a network (each is one width-coded mirror, twice for signed inputs). */
export function weightCount(net: Network): number {
  const layer = (l: Network['pre']) => l.weight.rows * l.weight.cols;
  return layer(net.pre) + net.blocks.reduce((s, b) => s + layer(b.cand) + layer(b.post), 0) + layer(net.out);
}

/** Co-simulate one random network per width; points come back in width order. */
export async function powerScaling(opts: ScalingOptions): Promise<ScalingPoint[]> {
  const widths = opts.widths ?? DEFAULT_SCALING_WIDTHS;
  const frames = opts.frames ?? DEFAULT_SCALING_FRAMES;
  const seed = opts.seed ?? 1;
  return runMany(
    widths,
    async (width) => {
      const net = randomNetwork({ ...SCALING_SHAPE, width, seed: seed * 1000 + width });
      const inputs = randomInputs(frames, SCALING_SHAPE.inputs, seed);
      const r = await cosimulate(net, inputs, { ...opts, run: { name: `scaling-w${width}`, ...opts.run } });
      const plot = transientPlot(r.run.plots);
      return {
        width,
        transistors: r.generated.transistors,
        weights: weightCount(net),
        power: powerFromPlot(plot, r.generated.probes.supplies, opts.process.vddV, net.frameS),
        stateAgreement: r.comparison.stateAgreement,
        ngspiceS: r.run.durationMs / 1000,
      };
    },
    { concurrency: opts.concurrency, onDone: opts.onDone },
  );
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

/**
 * Noise immunity of the transistor-level circuit: one clean transient and one per noise level, with seeded
 * white noise on every input and bias current (src/netlist/noise.ts); each noisy run is scored against the
 * clean one at every cell boundary (noise.ts metric) and against the software model (state agreement).
 */
import { cosimulate, type CosimOptions } from '../pipeline.js';
import type { Network } from '../model/types.js';
import type { InputSequence } from '../model/network.js';
import { runMany, type Completion } from '../util/pool.js';
import { boundaryDiscrepancy, SIGMA_PER_LEVEL, type BoundaryNoise } from './noise.js';

/** Noise samples per frame: the circuit's slow pA nodes (time constants ~0.1-1 ms) see them as a random walk. */
export const DEFAULT_NOISE_SAMPLES_PER_FRAME = 10;

export interface CircuitNoiseLevel {
  readonly level: number;
  readonly boundaries: BoundaryNoise[];
  /** Noisy circuit vs the software model of the realised network. */
  readonly stateAgreement: number;
  readonly decisionMatch: boolean;
  readonly ngspiceS: number;
}

export interface CircuitNoiseResult {
  /** The clean circuit vs the software model, for reference. */
  readonly cleanStateAgreement: number;
  readonly levels: CircuitNoiseLevel[];
}

export interface CircuitNoiseOptions extends Omit<CosimOptions, 'noise' | 'tolerances'> {
  readonly levels: readonly number[];
  readonly seed: number;
  readonly stepS?: number;
  readonly concurrency?: number;
  readonly onDone?: (c: Completion<number, unknown>) => void;
}

/** Clean run plus one noisy run per level (in parallel), each noisy run scored against the clean one. */
export async function circuitNoise(
  net: Network,
  inputs: InputSequence,
  opts: CircuitNoiseOptions,
): Promise<CircuitNoiseResult> {
  const stepS = opts.stepS ?? net.frameS / DEFAULT_NOISE_SAMPLES_PER_FRAME;
  const runs = await runMany(
    [0, ...opts.levels],
    (level) => {
      const sigma = level * SIGMA_PER_LEVEL;
      return cosimulate(net, inputs, {
        ...opts,
        noise: level > 0 ? { inputRel: sigma, biasRel: sigma, stepS, seed: opts.seed } : undefined,
        run: { name: `noise-${level}`, ...opts.run },
      });
    },
    { concurrency: opts.concurrency, onDone: opts.onDone },
  );
  const [clean, ...noisy] = runs;
  return {
    cleanStateAgreement: clean.comparison.stateAgreement,
    levels: noisy.map((r, i) => ({
      level: opts.levels[i],
      boundaries: boundaryDiscrepancy(clean.generated.realised, clean.circuit, r.circuit),
      stateAgreement: r.comparison.stateAgreement,
      decisionMatch: r.comparison.decisionMatch,
      ngspiceS: r.run.durationMs / 1000,
    })),
  };
}

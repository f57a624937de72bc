/**
 * The whole noise-immunity study of `bmru analyze noise` as one library call: the software model at every noise
 * level (parameter noise, pooled draws) and the circuit with transient noise on its input and bias currents, on
 * the given clip, then the same over depth on random width-4 networks of the reference shape (does the output
 * discrepancy grow with the number of blocks?). The CLI only formats and writes what this returns.
 */
import type { InputSequence } from '../model/network.js';
import { randomInputs, randomNetwork } from '../model/random.js';
import type { Network } from '../model/types.js';
import { buildCircuit, type GenerateOptions } from '../netlist/generate.js';
import type { RunOptions } from '../spice/runner.js';
import { circuitNoise, type CircuitNoiseResult } from './noise-circuit.js';
import { softwareNoise, type BoundaryNoise } from './noise.js';
import { SCALING_SHAPE } from './scaling.js';

/** One boundary's discrepancy at one noise level, from one source, in one study. */
export interface NoiseStudyRow {
  readonly study: 'example' | `depth ${number}`;
  readonly source: 'software' | 'circuit';
  readonly level: number;
  readonly b: BoundaryNoise;
}

export interface NoiseStudyOptions extends Pick<GenerateOptions, 'process' | 'calibration' | 'maxTransistors'> {
  /** Noise levels (fractions; sigma = level / 3). */
  readonly levels: readonly number[];
  /** Software draws per level, pooled. */
  readonly draws: number;
  readonly seed: number;
  /** Run the circuit too (one clean transient and one per level); else software only. */
  readonly circuit: boolean;
  /** Block counts of the depth study. */
  readonly depths: readonly number[];
  readonly depthFrames: number;
  /** The one level the circuit's depth study runs at (the software study runs every level). */
  readonly depthLevel: number;
  readonly concurrency?: number;
  readonly run?: Omit<RunOptions, 'netlist' | 'expectTStopS' | 'expectVectors'>;
  /** Called as each circuit run of a study finishes. */
  readonly onCircuitRun?: (study: NoiseStudyRow['study'], done: number, total: number) => void;
}

export interface NoiseStudy {
  readonly rows: NoiseStudyRow[];
  readonly circuit: Record<string, CircuitNoiseResult>;
}

/** Run the study on a network and clip, then the depth study; every seed is derived from `opts.seed`. */
export async function noiseStudy(net: Network, inputs: InputSequence, opts: NoiseStudyOptions): Promise<NoiseStudy> {
  const rows: NoiseStudyRow[] = [];
  const circuit: Record<string, CircuitNoiseResult> = {};
  const study = async (
    name: NoiseStudyRow['study'],
    n: Network,
    x: InputSequence,
    circuitLevels: readonly number[],
  ) => {
    // The model the circuit realises (quantised widths, calibrated biases), so both sides see the same network.
    const realised = buildCircuit(n, x, opts).realised;
    for (const level of opts.levels)
      for (const b of softwareNoise(realised, x, { level, seed: opts.seed, draws: opts.draws }))
        rows.push({ study: name, source: 'software', level, b });
    if (!opts.circuit || circuitLevels.length === 0) return;
    const r = await circuitNoise(n, x, {
      process: opts.process,
      calibration: opts.calibration,
      maxTransistors: opts.maxTransistors,
      levels: circuitLevels,
      seed: opts.seed,
      concurrency: opts.concurrency,
      run: opts.run,
      onDone: (c) => opts.onCircuitRun?.(name, c.completed, c.total),
    });
    circuit[name] = r;
    for (const l of r.levels)
      for (const b of l.boundaries) rows.push({ study: name, source: 'circuit', level: l.level, b });
  };
  await study('example', net, inputs, opts.levels);
  for (const L of opts.depths) {
    // A different network per depth, and per seed: seed x 100 + L keeps them apart for L < 100.
    const n = randomNetwork({ ...SCALING_SHAPE, width: 4, blocks: L, seed: opts.seed * 100 + L });
    await study(`depth ${L}`, n, randomInputs(opts.depthFrames, SCALING_SHAPE.inputs, opts.seed), [opts.depthLevel]);
  }
  return { rows, circuit };
}

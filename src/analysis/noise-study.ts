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
import { circuitNoise, noiseRunKey, type CircuitNoiseResult, type NoiseRunStore } from './noise-circuit.js';
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
  /** Circuit runs kept from an earlier invocation (by `noiseStudyKeys`), and where new ones go. */
  readonly kept?: NoiseRunStore;
}

/** One study: a network, its clip and the noise levels its circuit runs at (beside the clean run). */
interface Study {
  readonly name: NoiseStudyRow['study'];
  readonly net: Network;
  readonly inputs: InputSequence;
  readonly circuitLevels: readonly number[];
}

/** The example study, then one per depth; every seed is derived from `opts.seed`. */
function studies(net: Network, inputs: InputSequence, opts: NoiseStudyOptions): Study[] {
  return [
    { name: 'example', net, inputs, circuitLevels: opts.levels },
    ...opts.depths.map((L): Study => ({
      name: `depth ${L}`,
      // A different network per depth, and per seed: seed x 100 + L keeps them apart for L < 100.
      net: randomNetwork({ ...SCALING_SHAPE, width: 4, blocks: L, seed: opts.seed * 100 + L }),
      inputs: randomInputs(opts.depthFrames, SCALING_SHAPE.inputs, opts.seed),
      circuitLevels: [opts.depthLevel],
    })),
  ];
}

/** The options of one study's circuit runs. */
function circuitOptions(s: Study, opts: NoiseStudyOptions) {
  return {
    process: opts.process,
    calibration: opts.calibration,
    maxTransistors: opts.maxTransistors,
    levels: s.circuitLevels,
    seed: opts.seed,
    concurrency: opts.concurrency,
    run: opts.run,
    kept: opts.kept,
  };
}

/**
 * The key (noise-circuit.ts `noiseRunKey`) and a label (`example clean`, `depth 2 level 0.1`) of every circuit run
 * `noiseStudy` would make with these arguments.
 */
export async function noiseStudyKeys(
  net: Network,
  inputs: InputSequence,
  opts: NoiseStudyOptions,
): Promise<Array<{ key: string; label: string }>> {
  if (!opts.circuit) return [];
  const runs = studies(net, inputs, opts)
    .filter((s) => s.circuitLevels.length > 0)
    .flatMap((s) =>
      [0, ...s.circuitLevels].map(async (level) => ({
        key: await noiseRunKey(s.net, s.inputs, level, circuitOptions(s, opts)),
        label: `${s.name} ${level === 0 ? 'clean' : `level ${level}`}`,
      })),
    );
  return Promise.all(runs);
}

export interface NoiseStudy {
  readonly rows: NoiseStudyRow[];
  readonly circuit: Record<string, CircuitNoiseResult>;
}

/** Run the study on a network and clip, then the depth study; every seed is derived from `opts.seed`. */
export async function noiseStudy(net: Network, inputs: InputSequence, opts: NoiseStudyOptions): Promise<NoiseStudy> {
  const rows: NoiseStudyRow[] = [];
  const circuit: Record<string, CircuitNoiseResult> = {};
  for (const s of studies(net, inputs, opts)) {
    // The model the circuit realises (quantised widths, calibrated biases), so both sides see the same network.
    const realised = buildCircuit(s.net, s.inputs, opts).realised;
    for (const level of opts.levels)
      for (const b of softwareNoise(realised, s.inputs, { level, seed: opts.seed, draws: opts.draws }))
        rows.push({ study: s.name, source: 'software', level, b });
    if (!opts.circuit || s.circuitLevels.length === 0) continue;
    const r = await circuitNoise(s.net, s.inputs, {
      ...circuitOptions(s, opts),
      onDone: (c) => opts.onCircuitRun?.(s.name, c.completed, c.total),
    });
    circuit[s.name] = r;
    for (const l of r.levels)
      for (const b of l.boundaries) rows.push({ study: s.name, source: 'circuit', level: l.level, b });
  }
  return { rows, circuit };
}

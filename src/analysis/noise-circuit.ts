/**
 * Noise immunity of the transistor-level circuit: one clean transient and one per noise level, with seeded
 * white noise on every input and bias current (src/netlist/noise.ts); each noisy run is scored against the
 * clean one at every cell boundary (noise.ts metric) and against the software model (state agreement).
 *
 * Each run can be kept for a rerun (jobs/kept.ts): what it keeps is the run's boundary values, enough to score it
 * against the clean run later, so a run killed after three of five transients repeats only two.
 */
import { z } from 'zod';
import { cosimulate, type CosimOptions } from '../pipeline.js';
import type { Network } from '../model/types.js';
import type { InputSequence } from '../model/network.js';
import { buildCircuit } from '../netlist/generate.js';
import { processKeyFields, resultKey, runnerKeyFields } from '../jobs/kept.js';
import { runMany, type Completion } from '../util/pool.js';
import { boundaryDiscrepancy, SIGMA_PER_LEVEL, type BoundaryFrames, type BoundaryNoise } from './noise.js';

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

/** What one transient (clean: level 0) leaves for scoring: the circuit's boundary values and its comparison. */
export interface NoiseRun {
  readonly level: number;
  readonly circuit: BoundaryFrames;
  readonly stateAgreement: number;
  readonly decisionMatch: boolean;
  readonly ngspiceS: number;
}

/** Runs kept from an earlier invocation, by `noiseRunKey`, and where to put each new one as it finishes. */
export interface NoiseRunStore {
  get(key: string): NoiseRun | undefined;
  add(key: string, run: NoiseRun): void;
}

export interface CircuitNoiseOptions extends Omit<CosimOptions, 'noise' | 'tolerances'> {
  readonly levels: readonly number[];
  readonly seed: number;
  readonly stepS?: number;
  readonly concurrency?: number;
  readonly onDone?: (c: Completion<number, unknown>) => void;
  readonly kept?: NoiseRunStore;
}

/**
 * The key of one transient of `circuitNoise` (jobs/kept.ts): the network, clip, level, seed, noise step, the generator
 * options and the process with its kit files by content; not the other levels, the concurrency or the callbacks.
 */
export async function noiseRunKey(
  net: Network,
  inputs: InputSequence,
  level: number,
  opts: CircuitNoiseOptions,
): Promise<string> {
  const { run, onDone: _d, concurrency: _c, levels: _l, kept: _k, maxTransistors: _m, stepS, ...rest } = opts;
  return resultKey({
    net,
    inputs,
    level,
    stepS: stepS ?? net.frameS / DEFAULT_NOISE_SAMPLES_PER_FRAME,
    options: { ...rest, process: await processKeyFields(opts.process) },
    runner: runnerKeyFields(run),
  });
}

const numbers = z.array(z.number());
/** One line of noise-runs.jsonl: a transient's boundary values per block (`BoundaryFrames`) and its comparison. */
export const NoiseRunLineSchema = z.object({
  key: z.string(),
  level: z.number().min(0),
  circuit: z.object({
    frames: z.number().int().positive(),
    candidates: z.array(numbers),
    stateCurrents: z.array(numbers),
    states: z.array(z.array(z.number().int().min(0).max(1))),
  }),
  stateAgreement: z.number(),
  decisionMatch: z.boolean(),
  ngspiceS: z.number(),
});

/** A kept line back as a run (typed arrays, as the circuit's samples were). */
export function noiseRunFromLine(line: Omit<z.infer<typeof NoiseRunLineSchema>, 'key'>): NoiseRun {
  return {
    ...line,
    circuit: {
      frames: line.circuit.frames,
      candidates: line.circuit.candidates.map((a) => Float64Array.from(a)),
      stateCurrents: line.circuit.stateCurrents.map((a) => Float64Array.from(a)),
      states: line.circuit.states.map((a) => Uint8Array.from(a)),
    },
  };
}

/** A run as a kept line's fields (plain arrays: JSON writes a typed array as an object of indices). */
export function noiseRunToLine(run: NoiseRun): object {
  const plain = (a: readonly (Float64Array | Uint8Array)[]) => a.map((x) => Array.from(x));
  return {
    ...run,
    circuit: {
      frames: run.circuit.frames,
      candidates: plain(run.circuit.candidates),
      stateCurrents: plain(run.circuit.stateCurrents),
      states: plain(run.circuit.states),
    },
  };
}

/** Clean run plus one noisy run per level (in parallel, those `kept` holds skipped), each noisy run scored against the clean one. */
export async function circuitNoise(
  net: Network,
  inputs: InputSequence,
  opts: CircuitNoiseOptions,
): Promise<CircuitNoiseResult> {
  const stepS = opts.stepS ?? net.frameS / DEFAULT_NOISE_SAMPLES_PER_FRAME;
  const all = [0, ...opts.levels];
  const keys = opts.kept ? await Promise.all(all.map((level) => noiseRunKey(net, inputs, level, opts))) : [];
  const kept = all.map((_, i) => (opts.kept ? opts.kept.get(keys[i]) : undefined));
  const fresh = await runMany(
    all.filter((_, i) => kept[i] === undefined),
    async (level): Promise<NoiseRun> => {
      const sigma = level * SIGMA_PER_LEVEL;
      const r = await cosimulate(net, inputs, {
        ...opts,
        noise: level > 0 ? { inputRel: sigma, biasRel: sigma, stepS, seed: opts.seed } : undefined,
        run: { name: `noise-${level}`, ...opts.run },
      });
      const run: NoiseRun = {
        level,
        circuit: r.circuit,
        stateAgreement: r.comparison.stateAgreement,
        decisionMatch: r.comparison.decisionMatch,
        ngspiceS: r.run.durationMs / 1000,
      };
      opts.kept?.add(keys[all.indexOf(level)], run);
      return run;
    },
    { concurrency: opts.concurrency, onDone: opts.onDone },
  );
  let next = 0;
  const [clean, ...noisy] = kept.map((k) => k ?? fresh[next++]);
  // The network the circuit realises (quantised widths, calibrated biases) decides the margins, as in cosimulate.
  const realised = buildCircuit(net, inputs, opts).realised;
  return {
    cleanStateAgreement: clean.stateAgreement,
    levels: noisy.map((r) => ({
      level: r.level,
      boundaries: boundaryDiscrepancy(realised, clean.circuit, r.circuit),
      stateAgreement: r.stateAgreement,
      decisionMatch: r.decisionMatch,
      ngspiceS: r.ngspiceS,
    })),
  };
}

/**
 * PVT corners (issue 3 §4): the circuit at process corners (the kit's own corner sections, or skewed device
 * parameters for cards that have none), supply +-10% and temperature -20..85 C, each scored against the
 * software model of the nominal realised network: the calibration is done once, at the typical corner and
 * 27 C, as a chip would be trimmed once.
 */
import { cosimulate, type CosimOptions } from '../pipeline.js';
import type { Network } from '../model/types.js';
import type { InputSequence } from '../model/network.js';
import { cornerOptions, type CornerSpec } from '../netlist/corners.js';
import { runMany, type Completion } from '../util/pool.js';
import { CORE_DOMAINS } from './power.js';
import { z } from 'zod';
import { processKeyFields, resultKey, runnerKeyFields } from '../jobs/kept.js';

export * from '../netlist/corners.js';

export interface CornerResult extends CornerSpec {
  readonly stateAgreement: number;
  readonly voteAgreement: number;
  readonly decisionMatch: boolean;
  readonly disagreements: number;
  readonly coreW: number;
  readonly ngspiceS: number;
  /** Set when ngspice failed at this corner (the corner is reported, not dropped). */
  readonly error?: string;
}

export interface CornersOptions extends Omit<CosimOptions, 'deckLines' | 'variation' | 'temperatureC' | 'tolerances'> {
  readonly specs: readonly CornerSpec[];
  readonly concurrency?: number;
  readonly onDone?: (c: Completion<CornerSpec, CornerResult>) => void;
  /** A result of an earlier run for a spec (corners.jsonl), returned as it is instead of simulating the spec. */
  readonly kept?: (spec: CornerSpec) => CornerResult | undefined;
}

/** One line of corners.jsonl (jobs/kept.ts): a corner that ran (failed ones run again) and its key. */
export const CornerLineSchema = z.object({
  key: z.string(),
  corner: z.string(),
  vddScale: z.number(),
  temperatureC: z.number(),
  stateAgreement: z.number(),
  voteAgreement: z.number(),
  decisionMatch: z.boolean(),
  disagreements: z.number(),
  coreW: z.number(),
  ngspiceS: z.number(),
});

/**
 * What decides one corner's result, hashed with the toolkit's code (`resultKey`): the network, clip, spec, every
 * option but the runner's waiting and the callbacks, and the content of the files its deck lines include (a kit's
 * model files, which a path alone would not tell apart).
 */
export async function cornerKey(
  net: Network,
  inputs: InputSequence,
  opts: CornersOptions,
  spec: CornerSpec,
): Promise<string> {
  const { run, onDone: _d, concurrency: _c, specs: _s, kept: _k, maxTransistors: _m, ...rest } = opts;
  // processKeyFields hashes the files of every corner's deck, and `spec` names the one this corner includes.
  return resultKey({
    net,
    inputs,
    spec,
    options: { ...rest, process: await processKeyFields(opts.process) },
    runner: runnerKeyFields(run),
  });
}

/** Co-simulate every corner (in parallel) but those `kept` returns; a corner where ngspice fails is reported with its error. */
export async function runCorners(net: Network, inputs: InputSequence, opts: CornersOptions): Promise<CornerResult[]> {
  const kept = opts.specs.map((spec) => opts.kept?.(spec));
  const fresh = await runMany(
    opts.specs.filter((_, i) => kept[i] === undefined),
    async (spec) => {
      try {
        const r = await cosimulate(net, inputs, {
          ...opts,
          ...cornerOptions(opts.process, spec),
          run: { name: `corner-${spec.corner}`, ...opts.run },
        });
        const c = r.comparison;
        const coreW =
          CORE_DOMAINS.reduce((s, d) => s + (r.circuit.supplyMeanA[d] ?? 0), 0) * opts.process.vddV * spec.vddScale;
        return {
          ...spec,
          stateAgreement: c.stateAgreement,
          voteAgreement: c.voteAgreement,
          decisionMatch: c.decisionMatch,
          disagreements: c.disagreements.length,
          coreW,
          ngspiceS: r.run.durationMs / 1000,
        };
      } catch (e) {
        if (e instanceof RangeError) throw e;
        return {
          ...spec,
          stateAgreement: NaN,
          voteAgreement: NaN,
          decisionMatch: false,
          disagreements: NaN,
          coreW: NaN,
          ngspiceS: NaN,
          error: e instanceof Error ? e.message.split('\n')[0] : String(e),
        };
      }
    },
    { concurrency: opts.concurrency, onDone: opts.onDone },
  );
  let next = 0;
  return kept.map((k) => k ?? fresh[next++]);
}

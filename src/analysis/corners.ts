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
}

/** Co-simulate every corner (in parallel); a corner where ngspice fails is reported with its error. */
export async function runCorners(net: Network, inputs: InputSequence, opts: CornersOptions): Promise<CornerResult[]> {
  return runMany(
    opts.specs,
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
}

/**
 * The software models a circuit run is scored against ("references"), and which one a verdict uses.
 *
 * - `trained`: the network as given (the parameters training wrote).
 * - `realised`: the parameters as the circuit realises them: mirror widths on the process's grid, bias currents
 *   through the inverted calibration tables (netlist/generate.ts records them as it places each element).
 * - `hwaware`: a hardware-aware model: the circuit's own simulator at software speed, compiled from the generated
 *   circuit and the process's measured hardware tables (analysis/hwmodel.ts; `HwawareBuilder`), the default where
 *   the calibration has those tables; or a fitted file (`bmru analyze hwaware` writes `hwaware-model.json`), the
 *   realised model with corrections folded into its parameters, scored when given.
 *
 * Every reference is scored on the same circuit run, so a report can say which one predicts the circuit best: a
 * verdict against a reference that predicts the circuit worse than the trained model is worth knowing about.
 */
import { InputError } from '../errors.js';
import type { Network } from '../model/types.js';
import { runNetwork, type InputSequence, type Trace } from '../model/network.js';
import type { GenerateOptions } from '../netlist/generate.js';
import type { Comparison } from './metrics.js';

export const REFERENCE_NAMES = ['trained', 'realised', 'hwaware'] as const;
export type ReferenceName = (typeof REFERENCE_NAMES)[number];

/** One line per reference, for reports and `--help`. */
export const REFERENCE_MEANING: Readonly<Record<ReferenceName, string>> = {
  trained: 'the parameters as trained',
  realised: 'the parameters as the circuit realises them (width quantisation, calibration inversion)',
  hwaware:
    "a hardware-aware model: the circuit's simulator at software speed, from the process calibration's measured hardware tables (or a fitted --hwaware-model file)",
};

/**
 * A software model a circuit is scored against: the network whose thresholds classify a disagreement, and how it
 * runs a clip (`runNetwork` for a plain network; a hardware-aware model has its own simulator).
 */
export interface ReferenceModel {
  readonly net: Network;
  readonly run: (inputs: InputSequence) => Trace;
}

/** A plain network as a reference: it runs as the software model does. */
export function networkReference(net: Network): ReferenceModel {
  return { net, run: (inputs) => runNetwork(net, inputs) };
}

/**
 * A per-process hardware-aware model: the network as the process's circuit is predicted to compute it, or
 * undefined where the process has none.
 */
export type HwawareBuilder = (
  net: Network,
  circuit: Pick<GenerateOptions, 'process' | 'calibration' | 'cellInputCapFPerA'>,
) => ReferenceModel | undefined;

/**
 * Where a hardware-aware model came from: a file the user fitted (`bmru analyze hwaware`), or a builder the
 * toolkit has for the process.
 */
export type HwawareSource =
  | { readonly origin: 'file'; readonly net: Network; readonly source: string }
  | { readonly origin: 'process'; readonly build: HwawareBuilder; readonly source: string };

/**
 * The verdict's reference when none is asked for: the best predictor of the circuit that is available for the
 * process. A hardware-aware model the toolkit builds for the process is that; without one, the realised model.
 * A fitted file is scored beside the others but judges only when asked (`--reference hwaware`): it was fitted on
 * one clip of one model version, and nothing in the file proves it still belongs to the model it is given with.
 */
export function defaultReference(hwaware?: HwawareSource['origin']): ReferenceName {
  return hwaware === 'process' ? 'hwaware' : 'realised';
}

/** What a report says about the circuit against one reference. */
export interface ReferenceFigures {
  /** Fraction of unit-frames whose circuit state equals the reference's. */
  readonly stateAgreement: number;
  /** Fraction of frames whose circuit argmax equals the reference's. */
  readonly voteAgreement: number;
  readonly decisionMatch: boolean;
  /** The reference's clip decision (majority vote). */
  readonly softwareDecision: number;
  readonly circuitDecision: number;
  /** Unit-frames whose states differ. */
  readonly disagreements: number;
  /** Of those, the fresh ones (a run of a wrong state counted once, where it started). */
  readonly freshDisagreements: number;
}

export function referenceFigures(c: Comparison): ReferenceFigures {
  return {
    stateAgreement: c.stateAgreement,
    voteAgreement: c.voteAgreement,
    decisionMatch: c.decisionMatch,
    softwareDecision: c.softwareDecision,
    circuitDecision: c.circuitDecision,
    disagreements: c.disagreements.length,
    freshDisagreements: c.disagreements.filter((d) => !d.carried).length,
  };
}

/** Per reference scored, in REFERENCE_NAMES order. */
export type ReferenceTable = Partial<Record<ReferenceName, ReferenceFigures>>;

/**
 * The references that predict the circuit's states better than the verdict's (higher state agreement), best
 * first: when this is not empty, the verdict's reference is not the best predictor on this run.
 */
export function betterReferences(
  table: Partial<Record<ReferenceName, { readonly stateAgreement: number }>>,
  verdict: ReferenceName,
): ReferenceName[] {
  const own = table[verdict]?.stateAgreement;
  if (own === undefined) return [];
  return REFERENCE_NAMES.filter((n) => n !== verdict && (table[n]?.stateAgreement ?? -1) > own).sort(
    (a, b) => table[b]!.stateAgreement - table[a]!.stateAgreement,
  );
}

/**
 * A hardware-aware model must be a model of the same network: same shape (inputs, width, cells, blocks, classes,
 * skip) and the same I_unit (its corrections, e.g. leakage, are in units of the I_unit it was fitted at).
 *
 * @throws InputError naming `file` and the first field that differs
 */
export function checkHwawareFits(hw: Network, net: Network, file: string): void {
  const fields: [string, number | boolean, number | boolean][] = [
    ['inputs', hw.inputs, net.inputs],
    ['width', hw.width, net.width],
    ['cells', hw.cells, net.cells],
    ['blocks', hw.blocks.length, net.blocks.length],
    ['classes', hw.classes, net.classes],
    ['skip', hw.skip, net.skip],
    ['unitCurrentA', hw.unitCurrentA, net.unitCurrentA],
  ];
  for (const [field, got, want] of fields) {
    if (got !== want) {
      throw new InputError(
        `is not a hardware-aware model of this network: ${field} is ${got}, the model has ${want} (fit one for it with bmru analyze hwaware -m <model>)`,
        { file, field },
      );
    }
  }
}

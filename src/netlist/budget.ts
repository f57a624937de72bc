/**
 * How big a circuit the toolkit builds before asking: the transistor count of a network's netlist, estimated
 * from its shape alone (no netlist is built), and the budget it is held to. ngspice's time grows much faster
 * than the circuit (a dense mirror array's LU fill-in, DESIGN §8), so a model a few times wider than the
 * largest that ran here would not finish in a day; without a limit, `export` of a width-1e5 model ran for
 * minutes at 4.3 GB before it had written anything.
 */
import { InputError } from '../errors.js';
import type { Network } from '../model/types.js';
import { CELL_TRANSISTORS } from './cell.js';

/**
 * Default transistor budget. Measured here (README, power vs width on c180, 10-frame clips, 2 cores): width
 * 16 took 145 s of ngspice, width 32 (8284 transistors) 1482 s, ~10x per doubling of width (~3x of
 * transistors, so time ~ transistors^2.1); width 64 (24 700 transistors) would take ~4 h for 10 frames and
 * was not run (issue 17's lower-power layout builds 8603 at width 32; the estimate at width 64 is 25 344).
 * 10 000 admits width 32 with some room (~40 min for 10 frames at the limit) and refuses 64.
 */
export const DEFAULT_MAX_TRANSISTORS = 10_000;

/** Transistors of one FQ-BMRU cell (cell.ts, the 9-transistor Schmitt trigger) plus its three bias diodes. */
const CELL_WITH_BIAS_TRANSISTORS = CELL_TRANSISTORS + 3;
/** A bias current into a summing node: its copy of a shared reference (netlist/generate.ts `biasInto`). */
const BIAS_TRANSISTORS = 1;

/** Shared bias reference classes are this factor apart (I_unit, I_unit / 4, ...): a copy's ratio spans one factor. */
export const BIAS_CLASS_STEP = 4;
/** Largest copy ratio a bias is given when a smaller reference class exists (the mirror calibration measures to 3). */
export const BIAS_RATIO_MAX = 2;
/**
 * Smallest shared bias reference (A): process notes (models/c180/process.json) give ~20 pA as the least a
 * diode-connected 2u/2u bias device realises (it passes ~5.6 pA at V_GS = 0); 50 pA keeps a margin. Biases
 * smaller than half of it get copy ratios below 0.5.
 */
export const MIN_BIAS_REFERENCE_A = 50e-12;

/** Shared bias reference classes at a unit current: I_unit / BIAS_CLASS_STEP^k for k = 0.. while >= the floor. */
export function biasClasses(unitCurrentA: number): number {
  let k = 1;
  while (unitCurrentA / BIAS_CLASS_STEP ** k >= MIN_BIAS_REFERENCE_A) k++;
  return k;
}
/** Converting a signal to the other rail: a diode and a unity mirror (netlist/generate.ts `rail`). */
const RAIL_TRANSISTORS = 2;

/** I_unit the estimate assumes when a shape does not say (the shipped example's). */
const DEFAULT_UNIT_CURRENT_A = 1e-9;

/** What the estimate needs of a network. */
export interface NetworkShape {
  readonly inputs: number;
  readonly width: number;
  readonly cells: number;
  readonly blocks: number;
  readonly classes: number;
  readonly skip: boolean;
  /** I_unit (A): how many shared bias reference classes there can be (`biasClasses`). Default 1 nA. */
  readonly unitCurrentA?: number;
}

export function shapeOf(net: Network): NetworkShape {
  return {
    inputs: net.inputs,
    width: net.width,
    cells: net.cells,
    blocks: net.blocks.length,
    classes: net.classes,
    skip: net.skip,
    unitCurrentA: net.unitCurrentA,
  };
}

/**
 * Transistors generateNetlist builds for a network of this shape, at most: every weight non-zero (one mirror
 * each), every bias non-zero, every signal that a mirror of the other polarity reads converted once. Exact
 * for a dense network with mixed-sign weights but for the shared bias references (the shipped example: 684 here, 678
 * built: it uses 4 of the 6 reference diodes counted), an upper bound otherwise
 * (zero or dropped weights build fewer). Counted as the generator builds them (issue 17's layout):
 *   inputs       4F            a (pos, neg) pair of currents per feature, each on an n and a p diode
 *   biases       1 per bias    a copy of a shared reference, + 2 diodes per reference class (sourcing, sinking)
 *   pre          H (2F + 2)    ReLU(h): 1 diode, 2F mirrors, 1 bias
 *                + H (2F + 3)  with skip, h's neg half ReLU(h) - h: 1 diode, a copy of ReLU(h), 2F mirrors, 1 bias
 *   per block    2HS + 4H + 16S  candidates S (1 + H + bias), p rails of their H inputs, S cells,
 *                              post sums H (1 + S + bias), n rails of the S cell outputs
 *   skip         H (k + 3)     after block k, h's pos half: 1 diode, copies of ReLU(h0) and of u_0..u_k
 *                + H (2F + k + 5) for each block k but the last  ReLU(h) for block k + 1: 1 diode, 2F mirrors,
 *                              copies of u_0..u_k, 1 bias, and u_k's p rail
 *   classifier   C (3 + 2H) with skip (both halves already on PMOS diodes); without, C (3 + H) and p rails of H u's
 */
export function estimateTransistors(s: NetworkShape): number {
  const { inputs: F, width: H, cells: S, blocks: L, classes: C } = s;
  const inputs = 4 * F;
  const relu0 = H * (1 + 2 * F + BIAS_TRANSISTORS);
  const complement = s.skip ? H * (2 + 2 * F + BIAS_TRANSISTORS) : 0;
  const candidates = S * (1 + H + BIAS_TRANSISTORS) + RAIL_TRANSISTORS * H;
  const post = H * (1 + S + BIAS_TRANSISTORS) + RAIL_TRANSISTORS * S;
  const block = candidates + CELL_WITH_BIAS_TRANSISTORS * S + post;
  let skipPath = 0;
  for (let k = 0; s.skip && k < L; k++) {
    skipPath += H * (k + 3);
    if (k < L - 1) skipPath += H * (1 + 2 * F + (k + 1) + BIAS_TRANSISTORS + RAIL_TRANSISTORS);
  }
  const classifier = C * (2 + BIAS_TRANSISTORS + (s.skip ? 2 * H : H)) + (s.skip ? 0 : RAIL_TRANSISTORS * H);
  // Every class's reference may be used sourcing and sinking: a diode each (their ideal sources are no transistors).
  const sharedReferences = 2 * biasClasses(s.unitCurrentA ?? DEFAULT_UNIT_CURRENT_A);
  return inputs + relu0 + complement + L * block + skipPath + classifier + sharedReferences;
}

/**
 * Refuses a network whose circuit would exceed `maxTransistors` (default DEFAULT_MAX_TRANSISTORS), before
 * anything is built; `file` names the model in the error.
 */
export function checkTransistorBudget(
  net: NetworkShape,
  maxTransistors = DEFAULT_MAX_TRANSISTORS,
  file?: string,
): number {
  const count = estimateTransistors(net);
  if (count > maxTransistors) {
    const shape = `${net.inputs} inputs, width ${net.width}, ${net.blocks} blocks x ${net.cells} cells, ${net.classes} classes`;
    throw new InputError(
      `its circuit would have ~${count} transistors (${shape}), above the budget of ${maxTransistors}: ngspice time grows ~transistors^2 ` +
        `(8284 transistors took 25 min for 10 frames here); raise it with --max-transistors ${count} if you mean it`,
      { file },
    );
  }
  return count;
}

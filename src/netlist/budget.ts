/**
 * How big a circuit the toolkit builds before asking: the transistor count of a network's netlist, estimated
 * from its shape alone (no netlist is built), and the budget it is held to. ngspice's time grows much faster
 * than the circuit (a dense mirror array's LU fill-in, DESIGN §8), so a model a few times wider than the
 * largest that ran here would not finish in a day; without a limit, `export` of a width-1e5 model ran for
 * minutes at 4.3 GB before it had written anything.
 */
import { InputError } from '../errors.js';
import type { Network } from '../model/types.js';

/**
 * Default transistor budget. Measured here (README, power vs width on c180, 10-frame clips, 2 cores): width
 * 16 took 145 s of ngspice, width 32 (8284 transistors) 1482 s, ~10x per doubling of width (~3x of
 * transistors, so time ~ transistors^2.1); width 64 (24 700 transistors) would take ~4 h for 10 frames and
 * was not run. (Issue 17's lower-power layout builds 8828 at width 32 and 25 788 at width 64.) 10 000 admits width 32 with some room (~40 min for 10 frames at the limit) and refuses 64.
 */
export const DEFAULT_MAX_TRANSISTORS = 10_000;

/** Transistors of one FQ-BMRU cell (DESIGN §3: the 9-transistor Schmitt trigger) plus its three bias diodes. */
const CELL_TRANSISTORS = 9 + 3;
/** A bias current into a summing node: a diode for the ideal reference and its unity mirror. */
const BIAS_TRANSISTORS = 2;
/** Converting a signal to the other rail: a diode and a unity mirror (netlist/generate.ts `rail`). */
const RAIL_TRANSISTORS = 2;

/** What the estimate needs of a network. */
export interface NetworkShape {
  readonly inputs: number;
  readonly width: number;
  readonly cells: number;
  readonly blocks: number;
  readonly classes: number;
  readonly skip: boolean;
}

export function shapeOf(net: Network): NetworkShape {
  return {
    inputs: net.inputs,
    width: net.width,
    cells: net.cells,
    blocks: net.blocks.length,
    classes: net.classes,
    skip: net.skip,
  };
}

/**
 * Transistors generateNetlist builds for a network of this shape, at most: every weight non-zero (one mirror
 * each), every bias non-zero, every signal that a mirror of the other polarity reads converted once. Exact
 * for a dense network with mixed-sign weights (the shipped example: 708 here, 704 built), an upper bound otherwise
 * (zero or dropped weights build fewer). Counted as the generator builds them (issue 17's layout):
 *   inputs       4F            a (pos, neg) pair of currents per feature, each on an n and a p diode
 *   pre          H (2F + 3)    ReLU(h): 1 diode, 2F mirrors, 1 bias
 *                + H (2F + 4)  with skip, h's neg half ReLU(h) - h: 1 diode, a copy of ReLU(h), 2F mirrors, 1 bias
 *   per block    2HS + 5H + 17S  candidates S (1 + H + bias), p rails of their H inputs, S cells,
 *                              post sums H (1 + S + bias), n rails of the S cell outputs
 *   skip         H (k + 3)     after block k, h's pos half: 1 diode, copies of ReLU(h0) and of u_0..u_k
 *                + H (2F + k + 6) for each block k but the last  ReLU(h) for block k + 1: 1 diode, 2F mirrors,
 *                              copies of u_0..u_k, 1 bias, and u_k's p rail
 *   classifier   C (4 + 2H) with skip (both halves already on PMOS diodes); without, C (4 + H) and p rails of H u's
 */
export function estimateTransistors(s: NetworkShape): number {
  const { inputs: F, width: H, cells: S, blocks: L, classes: C } = s;
  const inputs = 4 * F;
  const relu0 = H * (1 + 2 * F + BIAS_TRANSISTORS);
  const complement = s.skip ? H * (2 + 2 * F + BIAS_TRANSISTORS) : 0;
  const candidates = S * (1 + H + BIAS_TRANSISTORS) + RAIL_TRANSISTORS * H;
  const post = H * (1 + S + BIAS_TRANSISTORS) + RAIL_TRANSISTORS * S;
  const block = candidates + CELL_TRANSISTORS * S + post;
  let skipPath = 0;
  for (let k = 0; s.skip && k < L; k++) {
    skipPath += H * (k + 3);
    if (k < L - 1) skipPath += H * (1 + 2 * F + (k + 1) + BIAS_TRANSISTORS + RAIL_TRANSISTORS);
  }
  const classifier = C * (2 + BIAS_TRANSISTORS + (s.skip ? 2 * H : H)) + (s.skip ? 0 : RAIL_TRANSISTORS * H);
  return inputs + relu0 + complement + L * block + skipPath + classifier;
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

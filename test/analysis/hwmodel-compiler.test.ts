/**
 * The compiler of the hardware-aware model (`hardwareAwareNetwork`): what it makes of the circuit `buildCircuit`
 * generates for tiny hand-made networks (width 1-2, one or two blocks), checked against what the circuit is by
 * construction. Each rail's polarity, each copy's signed gain (the trained weight, read back through hand-written
 * mirror tables), each bias, each cell's thresholds and grid-table values (interpolated by hand), each rail's gate
 * area and drain width (counted from the devices on it) are worked out here, not taken from the code.
 *
 * A few defensive errors (a circuit the generator does not make) are reached through a stand-in `buildCircuit` that
 * edits the generated element list (`tamper`); everything else is the generator's own circuit.
 */
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { hardwareAwareNetwork, runHardwareAware } from '../../src/analysis/hwmodel.js';
import type { Calibration, Table } from '../../src/netlist/calibration.js';
import { CELL_PORTS } from '../../src/netlist/cell.js';
import type { Element } from '../../src/netlist/elements.js';
import type { HardwareTables } from '../../src/netlist/hardware-tables.js';
import { loadProcess } from '../../src/netlist/process.js';
import type { Network } from '../../src/model/types.js';
import { REPO_ROOT } from '../helpers.js';
import { linear } from '../networks.js';

const edit = vi.hoisted(() => ({ tamper: undefined as undefined | ((elements: Element[]) => Element[]) }));
vi.mock('../../src/netlist/generate.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/netlist/generate.js')>();
  return {
    ...original,
    buildCircuit: (...args: Parameters<typeof original.buildCircuit>) => {
      const built = original.buildCircuit(...args);
      return edit.tamper ? { ...built, elements: edit.tamper([...built.elements]) } : built;
    },
  };
});
afterEach(() => {
  edit.tamper = undefined;
});

const process = await loadProcess(path.join(REPO_ROOT, 'models', 'c180', 'process.json'));
/** 250 pA, as the shipped KWS model. */
const UNIT_A = 250e-12;
const pA = 1e-12;
type Hw = ReturnType<typeof hardwareAwareNetwork>;

const calibrationWith = (hardware: HardwareTables, mirror: Calibration['mirror'] = {}): Calibration => ({
  process: 'c180',
  cell: {},
  mirror,
  hardware,
});

/**
 * Two inputs, width 1, one block of one cell (beta_lo 0.4, beta_hi 0.8, ON level 1), one class:
 * r0_0 = ReLU(x0 - x1), candidate = r0_0 + 0.3, block output = the cell's output, logit = the block output.
 */
function tinyNetwork(): Network {
  return {
    arch: 'fq-bmru',
    inputs: 2,
    width: 1,
    cells: 1,
    classes: 1,
    skip: false,
    unitCurrentA: UNIT_A,
    frameS: 0.01,
    cellParams: 'realised',
    pre: linear(1, 2, [1, -1], [0]),
    blocks: [
      {
        cand: linear(1, 1, [1], [0.3]),
        cell: {
          alpha: Float64Array.of(1),
          beta1: Float64Array.of(0.4),
          delta: Float64Array.of(0.4),
          s0: Float64Array.of(0),
        },
        post: linear(1, 1, [1], [0]),
      },
    ],
    out: linear(1, 1, [1], [0]),
  };
}

/**
 * One input, width 1, two blocks with skip, signed weights and biases: h0 = x - 0.5, candidate 0 = -ReLU(h0) + 0.3,
 * post 0 = -y0 + 0.2, candidate 1 = 2 ReLU(h1), logit = -(block 1's output). Every copy type occurs: PMOS and NMOS
 * copies into diodes of the other type and of their own.
 */
function signedNetwork(): Network {
  const cell = () => ({
    alpha: Float64Array.of(1),
    beta1: Float64Array.of(0.4),
    delta: Float64Array.of(0.4),
    s0: Float64Array.of(1),
  });
  return {
    arch: 'fq-bmru',
    inputs: 1,
    width: 1,
    cells: 1,
    classes: 1,
    skip: true,
    unitCurrentA: UNIT_A,
    frameS: 0.02,
    cellParams: 'realised',
    pre: linear(1, 1, [1], [-0.5]),
    blocks: [
      { cand: linear(1, 1, [-1], [0.3]), cell: cell(), post: linear(1, 1, [-1], [0.2]) },
      { cand: linear(1, 1, [2], [0]), cell: cell(), post: linear(1, 1, [1], [0]) },
    ],
    out: linear(1, 1, [-1], [0]),
  };
}

/**
 * Two inputs, width 2, two blocks of two cells with thresholds of their own. Cell biases (I_thresh = beta_hi x
 * 250 pA, I_width / I_thresh = delta / beta_hi): b0c0 200 pA, 0.5; b0c1 100 pA, 0.75; b1c0 100 pA, 0.5;
 * b1c1 400 pA, 0.75.
 */
function cellsNetwork(): Network {
  const cell = (betaLo: number[], delta: number[], alpha: number[], s0: number[]) => ({
    alpha: Float64Array.from(alpha),
    beta1: Float64Array.from(betaLo),
    delta: Float64Array.from(delta),
    s0: Float64Array.from(s0),
  });
  return {
    arch: 'fq-bmru',
    inputs: 2,
    width: 2,
    cells: 2,
    classes: 1,
    skip: false,
    unitCurrentA: UNIT_A,
    frameS: 0.01,
    cellParams: 'realised',
    pre: linear(2, 2, [1, 0, 0, 1], [0, 0]),
    blocks: [
      {
        cand: linear(2, 2, [1, 0, 0, 1], [0, 0]),
        cell: cell([0.4, 0.1], [0.4, 0.3], [1, 0.5], [0, 1]),
        post: linear(2, 2, [1, 0, 0, 1], [0, 0]),
      },
      {
        cand: linear(2, 2, [1, 0, 0, 1], [0, 0]),
        cell: cell([0.2, 0.4], [0.2, 1.2], [2, 1.5], [1, 0]),
        post: linear(2, 2, [1, 0, 0, 1], [0, 0]),
      },
    ],
    out: linear(1, 2, [1, 1], [0]),
  };
}

/**
 * The rail of a circuit node: the node itself, or, for a node with a 0 V current probe (`m_<node>`), the node the
 * probe joins it to (`<node>_d`); exactly one of the two must be a rail.
 */
function rail(hw: Hw, node: string): number {
  const at = [node, `${node}_d`].map((n) => hw.nodes.indexOf(n)).filter((i) => i >= 0);
  if (at.length !== 1) throw new Error(`test: ${node} is ${at.length} rails of ${hw.nodes.join(' ')}`);
  return at[0];
}

/** The terms of a rail as [source rail, same type as the diode it feeds, signed gain], sorted by source. */
function terms(hw: Hw, p: number): [number, boolean, number][] {
  const out: [number, boolean, number][] = [];
  for (let t = hw.termStart[p]; t < hw.termStart[p + 1]; t++)
    out.push([hw.termSrc[t] >> 1, (hw.termSrc[t] & 1) === 1, hw.termGain[t]]);
  return out.sort((a, b) => a[0] - b[0]);
}

/** Expected terms, written as [source node, same type, signed gain], in the form `terms` gives. */
function expected(hw: Hw, rows: [string, boolean, number][], digits = 12): unknown[] {
  return rows
    .map(([node, same, gain]) => [rail(hw, node), same, gain] as const)
    .sort((a, b) => a[0] - b[0])
    .map(([r, same, gain]) => [r, same, expect.closeTo(gain, digits)]);
}

/** A mirror table of constant gain `slope` (ratio x -> gain slope x). */
const slope = (s: number): Table => ({ x: [0.1, 10], y: [0.1 * s, 10 * s] });

describe('hardwareAwareNetwork: rails', () => {
  it('finds every diode-held node and every cell output, with its polarity, kind, feature and sign', () => {
    const hw = hardwareAwareNetwork(tinyNetwork(), process, calibrationWith({}));
    // 8 input rails (x0, x1; pos and neg; an NMOS and a PMOS diode each), the bias reference and the cell's three
    // bias diodes, r0_0, the candidate's PMOS diode, the cell output, the post node, its PMOS conversion, the logit.
    expect(hw.nodes.length).toBe(18);
    const want: [string, number, number, number, number][] = [
      // node, kind (0 sum, 1 input, 2 cell), polarity (0 NMOS, 1 PMOS), ref, sign
      ['x0p_n', 1, 0, 0, 1],
      ['x0p_p', 1, 1, 0, 1],
      ['x0n_n', 1, 0, 0, -1],
      ['x0n_p', 1, 1, 0, -1],
      ['x1p_n', 1, 0, 1, 1],
      ['x1p_p', 1, 1, 1, 1],
      ['x1n_n', 1, 0, 1, -1],
      ['x1n_p', 1, 1, 1, -1],
      ['bias_n1', 0, 0, -1, 0],
      ['b0c0_thr', 0, 0, -1, 0],
      ['b0c0_wid', 0, 0, -1, 0],
      ['b0c0_gain', 0, 0, -1, 0],
      ['r0_0', 0, 0, -1, 0],
      ['b0c0_in', 0, 1, -1, 0],
      ['b0u0', 0, 0, -1, 0],
      ['b0u0_p', 0, 1, -1, 0],
      ['o0p', 0, 0, -1, 0],
    ];
    for (const [node, kind, polarity, ref, sign] of want) {
      const r = rail(hw, node);
      expect([node, hw.kind[r], hw.polarity[r], hw.ref[r], hw.sign[r]]).toEqual([node, kind, polarity, ref, sign]);
    }
    // The cell's output rail: its M4 is a PMOS diode inside the cell; the 0 V probe m_b0c0 joins b0c0_out to it.
    const out = hw.nodes.findIndex((n) => n === 'b0c0_out' || n === 'b0c0_m3d');
    expect([hw.kind[out], hw.polarity[out], hw.ref[out], hw.sign[out]]).toEqual([2, 1, 0, 0]);
    expect(hw.cellIn[0]).toBe(rail(hw, 'b0c0_in'));
  });

  it('maps each input rail to its feature and sign, for three features', () => {
    const net = tinyNetwork();
    const wide: Network = { ...net, inputs: 3, pre: linear(1, 3, [1, -1, 0.5], [0]) };
    const hw = hardwareAwareNetwork(wide, process, calibrationWith({}));
    for (let f = 0; f < 3; f++)
      for (const [half, sign] of [
        ['p', 1],
        ['n', -1],
      ] as const)
        for (const diode of ['n', 'p']) {
          const r = rail(hw, `x${f}${half}_${diode}`);
          expect([hw.kind[r], hw.ref[r], hw.sign[r]]).toEqual([1, f, sign]);
        }
  });

  it('counts the gate area and drain width on each rail from the devices on it', () => {
    const hw = hardwareAwareNetwork(tinyNetwork(), process, calibrationWith({}));
    const out = hw.nodes.findIndex((n) => n === 'b0c0_out' || n === 'b0c0_m3d');
    // Every device here is a unit 2 um x 8 um (16 um^2) but the candidate's bias copy, 1.2 x the unit: 2.4 um x 8 um.
    const area = (node: string) => hw.gateAreaUm2[rail(hw, node)];
    const width = (node: string) => hw.drainWidthUm[rail(hw, node)];
    expect(area('x0p_p')).toBeCloseTo(16 + 16, 12); // its diode, the pre layer's copy
    expect(width('x0p_p')).toBeCloseTo(2, 12); // its diode (the input source is no device)
    expect(area('bias_n1')).toBeCloseTo(16 + 2.4 * 8, 12); // its diode and the bias copy into the candidate
    expect(area('r0_0')).toBeCloseTo(16 + 16, 12); // its diode, the candidate's copy
    expect(width('r0_0')).toBeCloseTo(2 + 4 * 2, 12); // its diode, four copies of the inputs
    expect(area('b0c0_in')).toBeCloseTo(16 + 16, 12); // its diode, the cell's M1 (unit size)
    expect(width('b0c0_in')).toBeCloseTo(2 + 2 + 2.4, 12); // its diode, the copy of r0_0, the bias copy
    expect(hw.gateAreaUm2[out]).toBeCloseTo(16 + 16, 12); // the cell's M4, the post copy
    expect(hw.drainWidthUm[out]).toBeCloseTo(2 + process.sizing.switchWidthUm, 12); // M4 and the switch M3
    expect(area('b0c0_thr')).toBeCloseTo(16, 12); // its diode only (the cell reads it inside, not modelled)
    expect(area('o0p')).toBeCloseTo(16, 12);
    expect(width('o0p')).toBeCloseTo(2 + 2, 12);
  });
});

describe('hardwareAwareNetwork: copies and biases', () => {
  it('gives each copy its signed gain: + sourcing into an NMOS diode or sinking from a PMOS one, - otherwise', () => {
    const hw = hardwareAwareNetwork(tinyNetwork(), process, calibrationWith({}));
    // r0_0 (NMOS diode) = x0 - x1: x0p via a PMOS copy (sources), x0n via an NMOS copy (sinks), and the reverse for x1.
    expect(terms(hw, rail(hw, 'r0_0'))).toEqual(
      expected(hw, [
        ['x0p_p', false, 1],
        ['x0n_n', true, -1],
        ['x1p_n', true, -1],
        ['x1n_p', false, 1],
      ]),
    );
    // The candidate's PMOS diode: an NMOS copy of r0_0 sinks from it, and the bias 0.3 is a 1.2x NMOS copy of the
    // 0.25-unit reference.
    expect(terms(hw, rail(hw, 'b0c0_in'))).toEqual(
      expected(hw, [
        ['r0_0', false, 1],
        ['bias_n1', false, 1.2],
      ]),
    );
    const out = hw.nodes.findIndex((n) => n === 'b0c0_out' || n === 'b0c0_m3d');
    expect(terms(hw, rail(hw, 'b0u0'))).toEqual([[out, false, 1]]);
    expect(terms(hw, rail(hw, 'b0u0_p'))).toEqual(expected(hw, [['b0u0', false, 1]]));
    expect(terms(hw, rail(hw, 'o0p'))).toEqual(expected(hw, [['b0u0_p', false, 1]]));
    for (const node of ['x0p_n', 'x1n_p', 'bias_n1', 'b0c0_thr']) expect(terms(hw, rail(hw, node))).toEqual([]);
    expect(terms(hw, out)).toEqual([]);
  });

  it("reads each copy's gain off the mirror table of its polarity and load, as the generator inverted it", () => {
    // Each table a constant gain, all different: a copy read through the wrong table is off by 11-50%. The generator
    // widens each copy by 1 / gain of the table it chose, so through the right one each gain is the trained weight
    // (to the width grid, well under 1%).
    const mirror = { n: slope(0.9), p: slope(0.8), nSame: slope(0.7), pSame: slope(0.6) };
    for (const tables of [mirror, { n: mirror.n, p: mirror.p }]) {
      const hw = hardwareAwareNetwork(signedNetwork(), process, calibrationWith({}, tables));
      // r0_0 = ReLU(x - 0.5): x0p by a PMOS copy (p), x0n by an NMOS one (nSame), the bias as -2 x the 0.25 reference.
      expect(terms(hw, rail(hw, 'r0_0'))).toEqual(
        expected(
          hw,
          [
            ['x0p_p', false, 1],
            ['x0n_n', true, -1],
            ['bias_n1', true, -2],
          ],
          2,
        ),
      );
      // h0_0n (PMOS) = ReLU(h0) - h0, the skip path's negative half: pSame for the PMOS copy of x0p.
      expect(terms(hw, rail(hw, 'h0_0n'))).toEqual(
        expected(
          hw,
          [
            ['r0_0', false, 1],
            ['x0p_p', true, -1],
            ['x0n_n', false, 1],
            ['bias_n1', false, 2],
          ],
          2,
        ),
      );
      // Candidate 0 = -ReLU(h0) + 0.3: a PMOS copy of r0_0's PMOS conversion sources into the PMOS diode (pSame).
      expect(terms(hw, rail(hw, 'b0c0_in'))).toEqual(
        expected(
          hw,
          [
            ['r0_0_p', true, -1],
            ['bias_n1', false, 1.2],
          ],
          2,
        ),
      );
      expect(terms(hw, rail(hw, 'r0_0_p'))).toEqual(expected(hw, [['r0_0', false, 1]], 2));
    }
  });

  it('turns bias sources into constant currents by direction, and a source against its rail into constN', () => {
    const plain = hardwareAwareNetwork(signedNetwork(), process, calibrationWith({}));
    // The generator's bias sources all feed their rail: the NMOS reference sourced, the PMOS one (post 0's +0.2 on
    // the NMOS post node) drained; the realised bias is the copy's gain x the reference.
    const ref = (node: string) => plain.constP[rail(plain, node)];
    const gainFrom = (into: string, from: string) =>
      terms(plain, rail(plain, into)).find(([r]) => r === rail(plain, from))![2];
    expect(ref('bias_n1') * gainFrom('r0_0', 'bias_n1')).toBeCloseTo(-0.5, 12);
    expect(ref('bias_p1') * gainFrom('b0u0', 'bias_p1')).toBeCloseTo(0.2, 12);
    expect(plain.polarity[rail(plain, 'bias_p1')]).toBe(1);
    // The cell's bias diodes carry beta_hi, delta and the ON level (no cell calibration: identity).
    expect([ref('b0c0_thr'), ref('b0c0_wid'), ref('b0c0_gain')].map((v) => +v.toFixed(12))).toEqual([0.8, 0.4, 1]);
    expect(Array.from(plain.constN).every((v) => v === 0)).toBe(true);
    expect(plain.constP[rail(plain, 'r0_0')]).toBe(0);
  });

  it('a source against its rail (drained from an NMOS diode, sourced into a PMOS one) is subtracted (constN)', () => {
    // tinyNetwork: candidate = ReLU(x0 - x1) + 0.3. 0.1 units drained from r0_0, 0.05 sourced into the candidate's
    // PMOS diode: with x = (1, 0), r0_0 = 0.9 and the candidate 0.9 + 0.3 - 0.05 = 1.15.
    edit.tamper = (els) => [
      ...els,
      { type: 'isrc', name: 'leak', from: 'r0_0', to: '0', dcA: 0.1 * UNIT_A, role: 'bias' },
      { type: 'isrc', name: 'push', from: 'vdd_ff', to: 'b0c0_in', dcA: 0.05 * UNIT_A, role: 'bias' },
    ];
    const hw = hardwareAwareNetwork(tinyNetwork(), process, calibrationWith({}));
    expect(hw.constN[rail(hw, 'r0_0')]).toBeCloseTo(0.1, 12);
    expect(hw.constN[rail(hw, 'b0c0_in')]).toBeCloseTo(0.05, 12);
    expect(hw.constP[rail(hw, 'r0_0')]).toBe(0);
    expect(hw.constP[rail(hw, 'b0c0_in')]).toBe(0);
    const x = { frames: 1, features: 2, data: Float64Array.of(1, 0) };
    expect(runHardwareAware(hw, x).candidates[0][0]).toBeCloseTo(1.15, 12);
  });
});

describe('hardwareAwareNetwork: cells', () => {
  it('gives each cell (block x cells + unit) its input rail, output rail, realised thresholds, ON level and s0', () => {
    const hw = hardwareAwareNetwork(cellsNetwork(), process, calibrationWith({}));
    // b0c0, b0c1, b1c0, b1c1: beta_lo, beta_hi = beta_lo + delta, ON level, s0 as cellsNetwork gives them.
    expect(Array.from(hw.betaLo).map((v) => +v.toFixed(12))).toEqual([0.4, 0.1, 0.2, 0.4]);
    expect(Array.from(hw.betaHi).map((v) => +v.toFixed(12))).toEqual([0.8, 0.4, 0.4, 1.6]);
    expect(Array.from(hw.alpha).map((v) => +v.toFixed(12))).toEqual([1, 0.5, 2, 1.5]);
    expect(Array.from(hw.s0)).toEqual([0, 1, 1, 0]);
    for (const [id, name] of ['b0c0', 'b0c1', 'b1c0', 'b1c1'].entries()) {
      expect(hw.cellIn[id]).toBe(rail(hw, `${name}_in`));
      const out = hw.nodes.findIndex((n) => n === `${name}_out` || n === `${name}_m3d`);
      expect([hw.kind[out], hw.ref[out]]).toEqual([2, id]);
      expect(hw.candidateRail[id]).toBe(rail(hw, `${name}_in`));
    }
  });

  it('without cell tables: fold at beta_lo, no OFF current, no switching times, committed at once', () => {
    const hw = hardwareAwareNetwork(cellsNetwork(), process, calibrationWith({}));
    expect(Array.from(hw.foldLo)).toEqual(Array.from(hw.betaLo));
    for (let id = 0; id < 4; id++) {
      expect(Array.from(hw.offX[id])).toEqual([0, 1]);
      expect(Array.from(hw.offY[id])).toEqual([0, 0]);
      expect(hw.switchOn[id].length).toBe(0);
      expect(hw.switchOff[id].length).toBe(0);
      expect(Array.from(hw.commitOn[id])).toEqual([1, 1]);
    }
    expect(hw.switchLogOverdrives.length).toBe(0);
    expect(Array.from(hw.commitLogOverdrives)).toEqual([Math.log(0.01), 0]);
    expect(hw.features).toEqual({ knee: false, copy: false, cellOff: false, cellFold: false, dynamics: false });
  });

  // Grid tables on rows I_thresh = 100 pA, 400 pA and columns I_width / I_thresh = 0, 1. At I_thresh 200 pA
  // (log-halfway) and fraction 0.5 each of the four corners weighs 1/4; at 100 pA row 0 alone, at 400 pA row 1 alone,
  // and fraction 0.75 weighs column 1 by 3/4.
  const THRESH = [100 * pA, 400 * pA];
  const FRACTIONS = [0, 1];
  const gridTables = (): HardwareTables => ({
    cellFold: {
      thresh: THRESH,
      fractions: FRACTIONS,
      lo: [
        [0.8, 0.9],
        [0.84, 0.94],
      ],
      hi: [
        [1, 1],
        [1, 1],
      ],
    },
    cellOff: {
      thresh: THRESH,
      fractions: FRACTIONS,
      inputFractions: [0, 0.5],
      offA: [
        [
          [2 * pA, 6 * pA],
          [4 * pA, 10 * pA],
        ],
        [
          [6 * pA, 14 * pA],
          [8 * pA, 18 * pA],
        ],
      ],
    },
    railCharge: {
      n: { gateCPerUm2: 0, drainCPerUm: 0, zeroA: 0 },
      p: { gateCPerUm2: 0, drainCPerUm: 0, zeroA: 0 },
    },
    cellSwitch: {
      on: {
        thresh: THRESH,
        fractions: FRACTIONS,
        overdrives: [0.1, 1],
        timeS: [
          [
            [1e-3, 1e-4],
            [4e-3, 4e-4],
          ],
          [
            [4e-3, 4e-4],
            [16e-3, 16e-4],
          ],
        ],
      },
      off: {
        thresh: THRESH,
        fractions: FRACTIONS,
        overdrives: [0.2, 2],
        timeS: [
          [
            [2e-3, 2e-4],
            [8e-3, 8e-4],
          ],
          [
            [8e-3, 8e-4],
            [32e-3, 32e-4],
          ],
        ],
      },
    },
    cellCommit: {
      thresh: THRESH,
      fractions: FRACTIONS,
      overdrives: [0.05, 0.5],
      ratio: [
        [
          [0.4, 0.5],
          [0.6, 0.7],
        ],
        [
          [0.8, 0.9],
          [0.9, 1],
        ],
      ],
    },
  });

  it("reads the fold, OFF current, switching times and commit point at each cell's own biases", () => {
    const hw = hardwareAwareNetwork(cellsNetwork(), process, calibrationWith(gridTables()));
    // b0c0 (200 pA, 0.5): the mean of the four corners; b0c1 (100 pA, 0.75): row 0, 1/4 col 0 + 3/4 col 1;
    // b1c0 (100 pA, 0.5): row 0, halfway; b1c1 (400 pA, 0.75): row 1, 1/4 col 0 + 3/4 col 1.
    const fold = [(0.8 + 0.9 + 0.84 + 0.94) / 4, 0.8 + 0.75 * 0.1, 0.85, 0.84 + 0.75 * 0.1];
    expect(Array.from(hw.foldLo)).toEqual([0.4, 0.1, 0.2, 0.4].map((lo, id) => expect.closeTo(lo * fold[id], 12)));
    // OFF curves: x = input fraction x beta_hi; y = the grid's OFF current at fractions 0 and 0.5, in units.
    const offPA = [
      [5, 12],
      [3.5, 9],
      [3, 8],
      [7.5, 17],
    ];
    for (const [id, betaHi] of [0.8, 0.4, 0.4, 1.6].entries()) {
      expect(Array.from(hw.offX[id])).toEqual([0, expect.closeTo(0.5 * betaHi, 12)]);
      expect(Array.from(hw.offY[id])).toEqual(offPA[id].map((v) => expect.closeTo((v * pA) / UNIT_A, 12)));
    }
    // Switching times: ln t interpolated; b0c0 at the geometric mean of 1, 4, 4, 16 (x the overdrive's scale) = 4;
    // b0c1 1 x 4^0.75; b1c0 1 x 4^0.5; b1c1 4 x 4^0.75. OFF: twice as long, on its own table.
    const t1 = [4, 4 ** 0.75, 2, 4 * 4 ** 0.75];
    for (let id = 0; id < 4; id++) {
      expect(Array.from(hw.switchOn[id])).toEqual([1e-3, 1e-4].map((s) => expect.closeTo(Math.log(s * t1[id]), 12)));
      expect(Array.from(hw.switchOff[id])).toEqual([2e-3, 2e-4].map((s) => expect.closeTo(Math.log(s * t1[id]), 12)));
    }
    // The overdrives are the ON table's (the stepper reads both directions at them).
    expect(Array.from(hw.switchLogOverdrives)).toEqual([Math.log(0.1), Math.log(1)]);
    // Commit: b0c0 (0.4 + 0.6 + 0.8 + 0.9) / 4 and (0.5 + 0.7 + 0.9 + 1) / 4; b0c1 row 0 at 0.75; ...
    const commit = [
      [0.675, 0.775],
      [0.55, 0.65],
      [0.5, 0.6],
      [0.875, 0.975],
    ];
    for (let id = 0; id < 4; id++)
      expect(Array.from(hw.commitOn[id])).toEqual(commit[id].map((v) => expect.closeTo(v, 12)));
    expect(Array.from(hw.commitLogOverdrives)).toEqual([Math.log(0.05), Math.log(0.5)]);
    expect(hw.features).toEqual({ knee: false, copy: false, cellOff: true, cellFold: true, dynamics: true });
  });
  it('reads them at the bias currents the cell calibration sets (I_thresh = 2 beta_hi), not at the thresholds', () => {
    // A cell grid realising beta_hi = 0.5 I_thresh and delta = 0.5 I_width: b0c0 (beta_hi 0.8 units = 200 pA,
    // delta 100 pA) gets I_thresh 400 pA and I_width 200 pA, fraction 0.5; read at row 1 (400 pA), halfway between
    // the columns. At its beta_hi (200 pA) instead, and I_width / 200 pA = 1, the fold would be 0.5 x 0.9 + 0.5 x 0.94.
    const cal: Calibration = {
      ...calibrationWith(gridTables()),
      cell: { grid: { thresh: [1e-9], fractions: [0, 1], betaHi: [[0.5, 0.5]], delta: [[0, 0.5]] } },
    };
    const hw = hardwareAwareNetwork(cellsNetwork(), process, cal);
    expect(hw.betaHi[0]).toBeCloseTo(0.8, 9);
    expect(hw.betaLo[0]).toBeCloseTo(0.4, 9);
    expect(hw.foldLo[0]).toBeCloseTo(0.4 * ((0.84 + 0.94) / 2), 9);
    expect(Array.from(hw.commitOn[0])).toEqual([(0.8 + 0.9) / 2, (0.9 + 1) / 2].map((v) => expect.closeTo(v, 9)));
  });
  it('reads a cell of zero thresholds (I_thresh = I_width = 0) at row 0, column 0', () => {
    // A pruned unit: beta_lo = delta = 0. Its grid values are the first corner's, not 0 / 0.
    const net = tinyNetwork();
    const pruned: Network = {
      ...net,
      blocks: [
        { ...net.blocks[0], cell: { ...net.blocks[0].cell, beta1: Float64Array.of(0), delta: Float64Array.of(0) } },
      ],
    };
    const hw = hardwareAwareNetwork(pruned, process, calibrationWith(gridTables()));
    expect(Array.from(hw.offX[0])).toEqual([0, 0]);
    expect(Array.from(hw.offY[0])).toEqual([2, 6].map((v) => expect.closeTo((v * pA) / UNIT_A, 12)));
    expect(Array.from(hw.switchOn[0])).toEqual([1e-3, 1e-4].map((t) => expect.closeTo(Math.log(t), 12)));
    expect(Array.from(hw.commitOn[0])).toEqual([0.4, 0.5]);
  });

  it('reads a cell whose threshold bias is no current source at beta_hi x I_unit', () => {
    // Without b0c0_thr's source (its diode left alone), b0c0 is read at 0.8 x 250 pA = 200 pA, as with it.
    const withSource = hardwareAwareNetwork(tinyNetwork(), process, calibrationWith(gridTables()));
    edit.tamper = (els) => els.filter((e) => !(e.type === 'isrc' && e.name === 'b0c0_thr'));
    const without = hardwareAwareNetwork(tinyNetwork(), process, calibrationWith(gridTables()));
    expect(withSource.foldLo[0]).toBeCloseTo(0.4 * ((0.8 + 0.9 + 0.84 + 0.94) / 4), 12);
    expect(without.foldLo[0]).toBeCloseTo(withSource.foldLo[0], 12);
    expect(Array.from(without.commitOn[0])).toEqual([0.675, 0.775].map((v) => expect.closeTo(v, 12)));
  });
});

describe('hardwareAwareNetwork: rail charge', () => {
  // NMOS and PMOS rails hold different charges per um^2 of gate and per um of drain, and start from different zeros.
  const charge = (capQPerF?: number): NonNullable<HardwareTables['railCharge']> => ({
    n: { gateCPerUm2: 3e-15, drainCPerUm: 5e-15, zeroA: 1 * pA },
    p: { gateCPerUm2: 7e-15, drainCPerUm: 11e-15, zeroA: 2 * pA, capQPerF },
  });
  const flat = {
    thresh: [1e-9],
    fractions: [0, 1],
    overdrives: [0.01, 1],
    timeS: [
      [
        [1e-3, 1e-3],
        [1e-3, 1e-3],
      ],
    ],
  };

  it('is Q = (gate C x area + drain C x width) / I_unit per rail, by polarity, once the cells switch in time', () => {
    const hw = hardwareAwareNetwork(
      tinyNetwork(),
      process,
      calibrationWith({ railCharge: charge(), cellSwitch: { on: flat, off: flat } }),
    );
    expect(hw.features.dynamics).toBe(true);
    const q = (node: string) => hw.charge[rail(hw, node)];
    const out = hw.nodes.findIndex((n) => n === 'b0c0_out' || n === 'b0c0_m3d');
    // Areas and widths as counted in "counts the gate area and drain width" above.
    expect(q('r0_0')).toBeCloseTo((3e-15 * 32 + 5e-15 * 10) / UNIT_A, 12); // NMOS
    expect(q('x0p_p')).toBeCloseTo((7e-15 * 32 + 11e-15 * 2) / UNIT_A, 12); // PMOS
    expect(q('b0c0_in')).toBeCloseTo((7e-15 * 32 + 11e-15 * 6.4) / UNIT_A, 12); // PMOS; its filter capacitor not modelled
    expect(hw.charge[out]).toBeCloseTo((7e-15 * 32 + 11e-15 * (2 + process.sizing.switchWidthUm)) / UNIT_A, 12);
    expect(q('bias_n1')).toBeCloseTo((3e-15 * (16 + 19.2) + 5e-15 * 2) / UNIT_A, 12);
    expect(hw.zero[rail(hw, 'r0_0')]).toBeCloseTo(pA / UNIT_A, 15);
    expect(hw.zero[rail(hw, 'x0p_p')]).toBeCloseTo((2 * pA) / UNIT_A, 15);
    expect(hw.zero[out]).toBeCloseTo((2 * pA) / UNIT_A, 15);
    expect(hw.unmodelled).toEqual(['cap f_b0c0']);
  });

  it("adds capQPerF x the cell filter's capacitance on a PMOS candidate rail when the PMOS table has it", () => {
    // The generator sizes the filter at the process's F/A x beta_lo x I_unit (beta_lo 0.4).
    const capF = process.cellInputCapFPerA! * 0.4 * UNIT_A;
    const withCap = hardwareAwareNetwork(
      tinyNetwork(),
      process,
      calibrationWith({ railCharge: charge(0.05), cellSwitch: { on: flat, off: flat } }),
    );
    expect(withCap.charge[rail(withCap, 'b0c0_in')]).toBeCloseTo(
      (7e-15 * 32 + 11e-15 * 6.4 + 0.05 * capF) / UNIT_A,
      12,
    );
    expect(withCap.charge[rail(withCap, 'r0_0')]).toBeCloseTo((3e-15 * 32 + 5e-15 * 10) / UNIT_A, 12);
    expect(withCap.unmodelled).toEqual([]);
    // capQPerF on the NMOS table only: the filter sits on a PMOS rail, so it stays unmodelled.
    const nOnly = charge();
    const onN = hardwareAwareNetwork(
      tinyNetwork(),
      process,
      calibrationWith({
        railCharge: { n: { ...nOnly.n, capQPerF: 0.05 }, p: nOnly.p },
        cellSwitch: { on: flat, off: flat },
      }),
    );
    expect(onN.charge[rail(onN, 'b0c0_in')]).toBeCloseTo((7e-15 * 32 + 11e-15 * 6.4) / UNIT_A, 12);
    expect(onN.unmodelled).toEqual(['cap f_b0c0']);
  });

  it('counts a modelled capacitor by its type and name: a 0.5 V source of the same name is still unmodelled', () => {
    // SPICE tells elements apart by type letter too (Cf_b0c0, Vf_b0c0), so sharing the filter's name makes the
    // source no capacitor: it stays in the list, the filter (on a PMOS rail with capQPerF) does not.
    edit.tamper = (els) => [...els, { type: 'vsrc', name: 'f_b0c0', plus: 'x0p_n', minus: 'x1p_n', dcV: 0.5 }];
    const hw = hardwareAwareNetwork(
      tinyNetwork(),
      process,
      calibrationWith({ railCharge: charge(0.05), cellSwitch: { on: flat, off: flat } }),
    );
    expect(hw.unmodelled).toEqual(['vsrc f_b0c0']);
  });

  it('is 0 without switching tables (no dynamics), whatever the rail tables say', () => {
    const hw = hardwareAwareNetwork(tinyNetwork(), process, calibrationWith({ railCharge: charge(0.05) }));
    expect(Array.from(hw.charge).every((v) => v === 0)).toBe(true);
    expect(hw.features).toEqual({ knee: false, copy: false, cellOff: false, cellFold: false, dynamics: false });
    // The zeros are still the tables'.
    expect(hw.zero[rail(hw, 'o0p')]).toBeCloseTo(pA / UNIT_A, 15);
    const none = hardwareAwareNetwork(tinyNetwork(), process, calibrationWith({ cellSwitch: { on: flat, off: flat } }));
    expect(Array.from(none.charge).every((v) => v === 0)).toBe(true);
    expect(Array.from(none.zero).every((v) => v === 0)).toBe(true);
    expect(none.features.dynamics).toBe(false);
  });
});

describe('hardwareAwareNetwork: evaluation order, readers, read-out', () => {
  it('puts every rail after the rails it copies and each cell output after its input, and lists its readers', () => {
    for (const net of [cellsNetwork(), signedNetwork()]) {
      const hw = hardwareAwareNetwork(net, process, calibrationWith({}));
      const M = hw.nodes.length;
      expect(hw.termStart.length).toBe(M + 1);
      expect(hw.userStart.length).toBe(M + 1);
      const readers: Set<number>[] = Array.from({ length: M }, () => new Set());
      for (let p = 0; p < M; p++)
        for (const [src] of terms(hw, p)) {
          expect(src).toBeLessThan(p);
          readers[src].add(p);
        }
      for (let id = 0; id < hw.cellIn.length; id++) {
        const out = hw.ref.findIndex((r, i) => hw.kind[i] === 2 && r === id);
        expect(hw.cellIn[id]).toBeLessThan(out);
        readers[hw.cellIn[id]].add(out);
      }
      for (let p = 0; p < M; p++) {
        const listed = Array.from(hw.users.subarray(hw.userStart[p], hw.userStart[p + 1]));
        expect([p, listed.sort((a, b) => a - b)]).toEqual([p, [...readers[p]].sort((a, b) => a - b)]);
      }
    }
  });

  it('names each read-out rail: candidates, block outputs (pos, neg), logits (pos, neg), -1 where none', () => {
    const hw = hardwareAwareNetwork(signedNetwork(), process, calibrationWith({}));
    expect(Array.from(hw.candidateRail)).toEqual([rail(hw, 'b0c0_in'), rail(hw, 'b1c0_in')]);
    // With skip, block k's output is h_{k+1} = h_k + u_k, u_k the (rectified) post output: its positive half on
    // h{k+1}_0p (ReLU(h0) + every u so far), its negative half h0's own (ReLU(h0) - h0) for every block.
    expect(Array.from(hw.hPosRail)).toEqual([rail(hw, 'h1_0p'), rail(hw, 'h2_0p')]);
    expect(Array.from(hw.hNegRail)).toEqual([rail(hw, 'h0_0n'), rail(hw, 'h0_0n')]);
    // logit = -(block 1's output): its positive node reads the negative half, its negative node the positive half.
    expect(Array.from(hw.logitPosRail)).toEqual([rail(hw, 'o0p')]);
    expect(Array.from(hw.logitNegRail)).toEqual([rail(hw, 'o0n')]);
    const tiny = hardwareAwareNetwork(tinyNetwork(), process, calibrationWith({}));
    expect(Array.from(tiny.hNegRail)).toEqual([-1]);
    expect(Array.from(tiny.logitNegRail)).toEqual([-1]);
    expect(Array.from(tiny.hPosRail)).toEqual([rail(tiny, 'b0u0')]);
  });

  it("maps each 0 V probe's current vector to its rail, and lists what it does not simulate", () => {
    const hw = hardwareAwareNetwork(signedNetwork(), process, calibrationWith({}));
    const out = (name: string) => hw.nodes.findIndex((n) => n === `${name}_out` || n === `${name}_m3d`);
    expect(hw.probes).toEqual({
      'i(vm_r0_0)': rail(hw, 'r0_0'),
      'i(vm_h0_0n)': rail(hw, 'h0_0n'),
      'i(vm_b0c0_in)': rail(hw, 'b0c0_in'),
      'i(vm_b0c0)': out('b0c0'),
      'i(vm_b0u0)': rail(hw, 'b0u0'),
      'i(vm_h1_0p)': rail(hw, 'h1_0p'),
      'i(vm_r1_0)': rail(hw, 'r1_0'),
      'i(vm_b1c0_in)': rail(hw, 'b1c0_in'),
      'i(vm_b1c0)': out('b1c0'),
      'i(vm_b1u0)': rail(hw, 'b1u0'),
      'i(vm_h2_0p)': rail(hw, 'h2_0p'),
      'i(vm_o0p)': rail(hw, 'o0p'),
      'i(vm_o0n)': rail(hw, 'o0n'),
    });
    // Block 1's reset (its control source and the switch on the cell's V0) and both cell filters (no capQPerF).
    expect([...hw.unmodelled].sort()).toEqual(['cap f_b0c0', 'cap f_b1c0', 'switch b1c0_rst', 'vsrc rst_b1']);
    expect(hw.frameS).toBe(0.02);
    expect(hw.process).toBe('c180');
    expect(Array.from(hw.realised.blocks[0].cand.weight.data)).toEqual([-1]);
  });

  it('joins nodes only across 0 V sources without a waveform: another voltage source is unmodelled', () => {
    // A 0.5 V source between two input rails (no such source in the generator's circuits): they stay two rails.
    const plain = hardwareAwareNetwork(tinyNetwork(), process, calibrationWith({}));
    edit.tamper = (els) => [...els, { type: 'vsrc', name: 'offset', plus: 'x0p_n', minus: 'x1p_n', dcV: 0.5 }];
    const hw = hardwareAwareNetwork(tinyNetwork(), process, calibrationWith({}));
    expect(hw.nodes).toEqual(plain.nodes);
    expect(rail(hw, 'x0p_n')).not.toBe(rail(hw, 'x1p_n'));
    expect(hw.unmodelled).toEqual(['cap f_b0c0', 'vsrc offset']);
    expect(hw.probes).toEqual(plain.probes);
  });

  it("reads a probe's rail off its voltage source only: another element of the same name ahead of it is no probe", () => {
    // A capacitor named m_o0p (SPICE: Cm_o0p, the probe is Vm_o0p) first in the list: the logit's probe is still the
    // 0 V source at o0p, and the capacitor (no capQPerF) is listed as not simulated.
    const plain = hardwareAwareNetwork(tinyNetwork(), process, calibrationWith({}));
    edit.tamper = (els) => [{ type: 'cap', name: 'm_o0p', plus: 'o0p', minus: '0', capacitanceF: 1e-15 }, ...els];
    const hw = hardwareAwareNetwork(tinyNetwork(), process, calibrationWith({}));
    expect(Array.from(hw.logitPosRail)).toEqual([rail(hw, 'o0p')]);
    expect(Array.from(hw.logitPosRail)).toEqual(Array.from(plain.logitPosRail));
    expect(hw.unmodelled).toEqual(['cap m_o0p', 'cap f_b0c0']);
  });

  it('sets each feature flag from its own table', () => {
    const knee = {
      opposingA: [0, 1e-10],
      netA: [-1e-10, 0, 1e-10],
      diodeA: [
        [0, 0, 1e-10],
        [0, 0, 1e-10],
      ],
    };
    const copy = { currentsA: [0, 1e-10], n: [0, 1e-10], p: [0, 1e-10], nSame: [0, 1e-10], pSame: [0, 1e-10] };
    const hw = hardwareAwareNetwork(tinyNetwork(), process, calibrationWith({ knee: { n: knee, p: knee } }));
    expect(hw.features).toEqual({ knee: true, copy: false, cellOff: false, cellFold: false, dynamics: false });
    expect(hw.knee.every((k) => k !== undefined)).toBe(true);
    expect(hw.copy.every((c) => c === undefined)).toBe(true);
    const withCopy = hardwareAwareNetwork(tinyNetwork(), process, calibrationWith({ copy }));
    expect(withCopy.features).toEqual({ knee: false, copy: true, cellOff: false, cellFold: false, dynamics: false });
    expect(withCopy.copy.every((c) => c !== undefined)).toBe(true);
    expect(withCopy.knee.every((k) => k === undefined)).toBe(true);
    const noCalibration = hardwareAwareNetwork(tinyNetwork(), process, undefined);
    expect(noCalibration.features).toEqual({
      knee: false,
      copy: false,
      cellOff: false,
      cellFold: false,
      dynamics: false,
    });
  });
});

describe('hardwareAwareNetwork: a circuit it cannot compile', () => {
  // Circuits the generator does not make, from its own by one edit; each error names the element.
  const compile = (tamper: (elements: Element[]) => Element[]) => {
    edit.tamper = tamper;
    return () => hardwareAwareNetwork(tinyNetwork(), process, calibrationWith({}));
  };
  const replace = (name: string, f: (e: Element) => Element) => (els: Element[]) =>
    els.map((e) => (e.type !== 'comment' && e.name === name ? f(e) : e));
  const stray = (gate: string, drain: string): Element => ({
    type: 'mos',
    name: 'stray',
    polarity: 'n',
    drain,
    gate,
    source: 'vsn',
    bulk: '0',
    widthUm: 2,
    lengthUm: 8,
  });

  it('a subcircuit other than the cell', () => {
    const other = replace('b0c0', (e) => ({ ...e, subckt: 'other_cell' }) as Element);
    expect(compile(other)).toThrow('hardware-aware model: unknown subcircuit other_cell (b0c0)');
  });

  it('a transistor that is neither a diode nor a copy between two rails', () => {
    const message = 'hardware-aware model: stray is neither a diode nor a copy between two rails';
    expect(compile((els) => [...els, stray('nowhere', 'r0_0')])).toThrow(message);
    expect(compile((els) => [...els, stray('r0_0', 'nowhere')])).toThrow(message);
  });

  it('a current source that feeds no rail, and an input that drains its rail', () => {
    const loose: Element = { type: 'isrc', name: 'loose', from: 'nowhere', to: '0', dcA: 1e-10, role: 'bias' };
    expect(compile((els) => [...els, loose])).toThrow('hardware-aware model: current source loose feeds no rail');
    // x0p_n sources into its NMOS diode; turned round it would drain it.
    const drains = replace('x0p_n', (e) => ({ ...e, from: 'x0p_n', to: '0' }) as Element);
    expect(compile(drains)).toThrow('hardware-aware model: input x0p_n drains its rail');
  });

  it('a cell without its state probe, or whose input is not a rail', () => {
    const nodeAt = (port: (typeof CELL_PORTS)[number], node: string) =>
      replace('b0c0', (e) => {
        const inst = e as Extract<Element, { type: 'inst' }>;
        return { ...inst, nodes: inst.nodes.map((n, i) => (i === CELL_PORTS.indexOf(port) ? node : n)) };
      });
    expect(compile(nodeAt('v0', 'elsewhere_v0'))).toThrow('hardware-aware model: cell b0c0 has no state probe');
    expect(compile(nodeAt('in', 'nowhere'))).toThrow('hardware-aware model: cell b0c0 input is not a rail');
  });

  it('a loop of copies outside the cells', () => {
    // b0u0_p is a PMOS copy of b0u0; a PMOS copy of b0u0_p back into b0u0 closes a loop.
    const back: Element = { ...(stray('b0u0_p', 'b0u0') as Extract<Element, { type: 'mos' }>), polarity: 'p' };
    expect(compile((els) => [...els, back])).toThrow('hardware-aware model: the circuit has a loop outside the cells');
  });

  it('a probe the circuit lacks, or one not at a rail', () => {
    const renamed = replace('m_o0p', (e) => ({ ...e, name: 'm_o0p_moved' }) as Element);
    expect(compile(renamed)).toThrow('hardware-aware model: no probe i(vm_o0p)');
    // A 0 V source of the same name ahead of the real one, between two nodes that are no rail.
    const decoy: Element = { type: 'vsrc', name: 'm_o0p', plus: 'nowhere', minus: 'nowhere_d', dcV: 0 };
    expect(compile((els) => [decoy, ...els])).toThrow('hardware-aware model: probe i(vm_o0p) is not at a rail');
  });
});

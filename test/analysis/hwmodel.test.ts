import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hardwareAwareNetwork, railStep, runHardwareAware, tableHwaware } from '../../src/analysis/hwmodel.js';
import { runNetwork, type InputSequence } from '../../src/model/network.js';
import { kneeAt, type HardwareTables } from '../../src/netlist/hardware-tables.js';
import { IDEAL, KNEE_N, UNIT_A, calibrationWith, kneeNetwork as network, pA, units } from './knee-case.js';
import { loadProcess } from '../../src/netlist/process.js';
import { REPO_ROOT } from '../helpers.js';

// Constructed cases on hand-written tables (no ngspice): each effect of the hardware-aware model is checked against
// the number its table gives, and against the same model with that table removed.

const process = await loadProcess(path.join(REPO_ROOT, 'models', 'c180', 'process.json'));
const clip = (frames: [number, number][]): InputSequence => ({
  frames: frames.length,
  features: 2,
  data: Float64Array.from(frames.flat()),
});

describe('summing-node knee', () => {
  it('kneeAt reads the table at its points and interpolates between them (excess over max(h, 0))', () => {
    expect(kneeAt(KNEE_N, 90 * pA, 100 * pA)).toBeCloseTo(4 * pA, 18); // h = -10 pA, N = 100 pA
    expect(kneeAt(KNEE_N, 95 * pA, 100 * pA)).toBeCloseTo(5.5 * pA, 18); // halfway to h = 0
    expect(kneeAt(KNEE_N, 45 * pA, 50 * pA)).toBeCloseTo(0.5 * (0 + 5.5 * pA), 18); // halfway between the rows
    expect(kneeAt(KNEE_N, 500 * pA, 100 * pA)).toBe(400 * pA); // above the table: ideal
    expect(kneeAt(KNEE_N, 0, 0)).toBe(0); // nothing in, nothing opposing
  });

  it('a ReLU node that should be off passes the measured leakage to the candidate; an ideal knee passes 0', () => {
    const net = network(0, 5, 6); // the cell stays OFF: only the candidate is looked at
    // x0 - x1 = -5 pA with 100 pA sunk: the table says 5.5 pA; with 50 pA sunk, halfway to the row with none.
    const x = clip([
      [units(95 * pA), units(100 * pA)],
      [units(45 * pA), units(50 * pA)],
      [units(500 * pA), units(100 * pA)],
    ]);
    const hw = hardwareAwareNetwork(net, process, calibrationWith({ knee: { n: KNEE_N, p: IDEAL } }));
    const c = runHardwareAware(hw, x).candidates[0];
    expect(c[0]).toBeCloseTo(units(5.5 * pA), 12);
    expect(c[1]).toBeCloseTo(units(2.75 * pA), 12);
    expect(c[2]).toBeCloseTo(units(400 * pA), 12); // above the table: ideal
    const ideal = runHardwareAware(hardwareAwareNetwork(net, process, calibrationWith({})), x).candidates[0];
    expect(Array.from(ideal)).toEqual([0, 0, units(400 * pA)].map((v) => expect.closeTo(v, 12)));
  });

  it('differs from the realised network exactly where the leakage crosses a threshold', () => {
    // bias 0.5, beta_lo 0.505, beta_hi 0.51 (2.5 pA above the bias): 4 pA of leakage turns the cell ON.
    const net = network(0.5, 0.505, 0.51);
    const frames: [number, number][] = [
      [2, 0], // h = +500 pA: ON in both
      [0, units(100 * pA)], // h = -100 pA, N = 100 pA: leaks 1 pA, c = 0.504 < beta_lo: OFF in both
      [units(90 * pA), units(100 * pA)], // h = -10 pA: leaks 4 pA, c = 0.516: ON here only
      [0, units(100 * pA)], // OFF in both again
      [units(90 * pA), units(100 * pA)], // ON here only
      [2, 0], // ON in both
    ];
    const x = clip(frames);
    const hw = hardwareAwareNetwork(net, process, calibrationWith({ knee: { n: KNEE_N, p: IDEAL } }));
    const aware = runHardwareAware(hw, x).states[0];
    const realised = runNetwork(hw.realised, x).states[0];
    expect(Array.from(realised)).toEqual([1, 0, 0, 0, 0, 1]);
    expect(Array.from(aware)).toEqual([1, 0, 1, 0, 1, 1]);
    // Without the knee table the model is the realised network again.
    const noKnee = runHardwareAware(hardwareAwareNetwork(net, process, calibrationWith({})), x).states[0];
    expect(Array.from(noKnee)).toEqual(Array.from(realised));
  });
});

describe('cell OFF leakage', () => {
  // OFF state current 2 pA with no input, 6 pA at 0.9 beta_hi, on every cell of a one-row grid.
  const cellOff: NonNullable<HardwareTables['cellOff']> = {
    thresh: [1e-9],
    fractions: [0, 1],
    inputFractions: [0, 0.9],
    offA: [
      [
        [2 * pA, 6 * pA],
        [2 * pA, 6 * pA],
      ],
    ],
  };

  it('an OFF cell drives the post layer with its measured state current, interpolated in its input', () => {
    const net = network(0, 0.5, 1); // beta_hi 1: inputs below stay OFF
    const x = clip([
      [0, 0],
      [0.45, 0],
      [0.9, 0],
      [2, 0],
    ]);
    const hw = hardwareAwareNetwork(net, process, calibrationWith({ cellOff }));
    const tr = runHardwareAware(hw, x);
    expect(Array.from(tr.states[0])).toEqual([0, 0, 0, 1]);
    // The block output is the post copy of the cell's output: 2 pA, 4 pA (halfway), 6 pA, then the ON level.
    expect(Array.from(tr.blockOutputs[0])).toEqual(
      [units(2 * pA), units(4 * pA), units(6 * pA), 1].map((v) => expect.closeTo(v, 12)),
    );
    expect(tr.logits[0]).toBeCloseTo(units(2 * pA), 12);
    const none = runHardwareAware(hardwareAwareNetwork(net, process, calibrationWith({})), x);
    expect(Array.from(none.blockOutputs[0])).toEqual([0, 0, 0, 1]);
  });
});

describe('cell timing', () => {
  // Switching takes 15 ms at any overdrive: longer than a 10 ms frame.
  const slow = {
    thresh: [1e-9],
    fractions: [0, 1],
    overdrives: [0.01, 1],
    timeS: [
      [
        [15e-3, 15e-3],
        [15e-3, 15e-3],
      ],
    ],
  };
  const timing: HardwareTables = {
    railCharge: { n: { gateCPerUm2: 0, drainCPerUm: 0, zeroA: 0 }, p: { gateCPerUm2: 0, drainCPerUm: 0, zeroA: 0 } },
    cellSwitch: { on: slow, off: slow },
  };

  it('a switch slower than a frame shows one frame late (the steady model switches at once)', () => {
    const net = network(0, 0.5, 1);
    const x = clip([
      [0, 0],
      [2, 0],
      [2, 0],
      [0, 0],
      [0, 0],
    ]);
    const hw = hardwareAwareNetwork(net, process, calibrationWith(timing));
    expect(Array.from(runHardwareAware(hw, x).states[0])).toEqual([0, 0, 1, 1, 0]);
    expect(Array.from(runHardwareAware(hw, x, { dynamics: false }).states[0])).toEqual([0, 1, 1, 0, 0]);
  });

  it('an ON cell whose input dips below beta_lo but not past its fold reads OFF and comes back ON', () => {
    // The ON branch ends at 0.9 beta_lo: 0.48 reads OFF (V0 below VDD/2), and 0.7 (in the band) reads ON again.
    const fold = { thresh: [1e-9], fractions: [0, 1], lo: [[0.9, 0.9]], hi: [[1, 1]] };
    const net = network(0, 0.5, 1);
    const x = clip([
      [2, 0],
      [0.48, 0],
      [0.7, 0],
      [0.4, 0],
      [0.7, 0],
    ]);
    const hw = hardwareAwareNetwork(net, process, calibrationWith({ cellFold: fold }));
    expect(Array.from(runHardwareAware(hw, x).states[0])).toEqual([1, 0, 1, 0, 0]);
    expect(Array.from(runNetwork(hw.realised, x).states[0])).toEqual([1, 0, 0, 0, 0]);
  });

  it("the cell input filter's capacitor adds capQPerF x C to its rail's charge; without capQPerF it is listed unmodelled", () => {
    const net = network(0, 0.5, 1);
    // The generator sizes it at the process's F/A times beta_lo * I_unit: in units of charge, k x beta_lo x capQPerF.
    const k = process.cellInputCapFPerA!;
    const rail = (capQPerF?: number) => ({ gateCPerUm2: 0, drainCPerUm: 0, zeroA: 0.01 * UNIT_A, capQPerF });
    const withCap = (q?: number) =>
      hardwareAwareNetwork(net, process, calibrationWith({ ...timing, railCharge: { n: rail(q), p: rail(q) } }));
    const modelled = withCap(0.04);
    expect(modelled.charge[modelled.cellIn[0]]).toBeCloseTo(0.04 * k * 0.5, 12);
    expect(modelled.unmodelled).not.toContain('cap f_b0c0');
    const old = withCap(undefined);
    expect(old.charge[old.cellIn[0]]).toBe(0);
    expect(old.unmodelled).toContain('cap f_b0c0');
    // A charge large enough to matter (given as Q itself, whatever the shipped F/A): with Q = 7.56e-3 unit s the rail rises from 0.01 towards 2
    // and crosses beta_hi = 1 after (Q / 2) ln(199) = 20 ms (railStep's law), i.e. at 30 ms; with the 15 ms switch
    // the cell reads ON at 45 ms, in frame 4 (sampled at 49.8 ms), two frames after the model without it.
    const x = clip([
      [0, 0],
      [2, 0],
      [2, 0],
      [2, 0],
      [2, 0],
      [2, 0],
    ]);
    const withCharge = (qUnitS: number) => withCap(qUnitS / (k * 0.5));
    const fast = Array.from(runHardwareAware(withCharge(2.4e-4), x).states[0]);
    const slow = Array.from(runHardwareAware(withCharge(7.56e-3), x).states[0]);
    expect(fast.indexOf(1)).toBe(2); // the 15 ms switch of the timing tables: one frame late
    expect(slow.indexOf(1)).toBe(4);
  });

  it('railStep solves Q dr/dt = r (h - r) exactly (against fine Euler steps)', () => {
    for (const [r0, h] of [
      [0.01, 1],
      [1, 0.01],
      [0.5, -0.3],
      [0.2, 0],
    ]) {
      let r = r0;
      const n = 200000;
      for (let i = 0; i < n; i++) r += (r * (h - r)) / n; // x = dt / Q = 1 in n steps
      expect(railStep(r0, h, 1)).toBeCloseTo(r, 4);
    }
  });
});

describe('tableHwaware (the per-process reference of compare/references.ts)', () => {
  const x = clip([[units(95 * pA), units(100 * pA)]]);

  it('is undefined without a calibration or without its hardware tables', () => {
    const net = network(0, 5, 6);
    expect(tableHwaware(net, { process, calibration: undefined })).toBeUndefined();
    expect(
      tableHwaware(net, { process, calibration: { ...calibrationWith({}), hardware: undefined } }),
    ).toBeUndefined();
  });

  it("runs the model the tables give: the knee table's 5.5 pA of leakage reaches the candidate", () => {
    const net = network(0, 5, 6);
    const ref = tableHwaware(net, { process, calibration: calibrationWith({ knee: { n: KNEE_N, p: IDEAL } }) });
    expect(ref).toBeDefined();
    expect(ref!.run(x).candidates[0][0]).toBeCloseTo(units(5.5 * pA), 12);
    // Its network is the realised one the model runs on: the candidate bias as the circuit builds it.
    expect(ref!.net.blocks[0].cand.bias).toEqual(
      hardwareAwareNetwork(net, process, calibrationWith({})).realised.blocks[0].cand.bias,
    );
  });
});

describe('runHardwareAware input checks', () => {
  it('refuses a clip whose feature count is not the network input count, naming both', () => {
    const hw = hardwareAwareNetwork(network(0, 5, 6), process, calibrationWith({}));
    const three: InputSequence = { frames: 1, features: 3, data: new Float64Array(3) };
    expect(() => runHardwareAware(hw, three)).toThrow(
      new RangeError('input has 3 features per frame, the model expects 2'),
    );
  });
});

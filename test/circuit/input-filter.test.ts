import { describe, expect, it } from 'vitest';
import type { Network } from '../../src/model/types.js';
import { cosimulate } from '../../src/pipeline.js';
import { loadKit } from './kits.js';

// A constructed edge glitch (c180, 46 transistors, 2 frames, about a second of ngspice per run). One cell, candidate
// c = relu(x0) - relu(x1), hysteresis band [0.3, 0.5). Frame 0: x = (0.85, 0.40), c = 0.45, OFF (s0). Frame 1:
// x = (3.85, 3.40), c = 0.45 again, so the model holds OFF. In the circuit the positive term reaches the candidate
// node through one mirror (an NMOS copy of relu(x0)'s diode) and the negative one through two (relu(x1) converted
// to a PMOS rail first): for tens of us after the edge the candidate overshoots above beta_hi, and the cell
// latches ON. The cell input low-pass holds the excursion below beta_hi. (A 1 nA step, x1 = 1.85, no longer
// latches the bare cell since the c180 switches became 0.22u/16u: their gate capacitance slows V0; a 3 nA step does.)
const F = (a: number[]) => Float64Array.from(a);
const net: Network = {
  arch: 'fq-bmru',
  inputs: 2,
  width: 2,
  cells: 1,
  classes: 1,
  skip: false,
  unitCurrentA: 1e-9,
  frameS: 0.01,
  cellParams: 'realised',
  pre: { weight: { rows: 2, cols: 2, data: F([1, 0, 0, 1]) }, bias: F([0, 0]) },
  blocks: [
    {
      cand: { weight: { rows: 1, cols: 2, data: F([1, -1]) }, bias: F([0]) },
      cell: { alpha: F([0.5]), beta1: F([0.3]), delta: F([0.2]), s0: F([0]) },
      post: { weight: { rows: 2, cols: 1, data: F([1, 0]) }, bias: F([0, 0]) },
    },
  ],
  out: { weight: { rows: 1, cols: 2, data: F([1, 0]) }, bias: F([0]) },
};
const inputs = { frames: 2, features: 2, data: F([0.85, 0.4, 3.85, 3.4]) };

describe('cell input low-pass (c180)', () => {
  it('keeps a cell from latching the candidate overshoot that mirror chains of different depth make at a frame edge', async () => {
    const { process, calibration } = await loadKit('c180');
    expect(process.cellInputCapFPerA).toBeGreaterThan(0); // the shipped default places the filter
    const bare = await cosimulate(net, inputs, { process, calibration, cellInputCapFPerA: 0 });
    const filtered = await cosimulate(net, inputs, { process, calibration });
    const betaHi = 0.5;
    // Without the capacitor: the overshoot crosses beta_hi and the cell latches it; the comparator calls it a glitch.
    expect(bare.software.states[0][1]).toBe(0);
    expect(bare.circuit.candidateMax[0][1]).toBeGreaterThan(1.4 * betaHi);
    expect(bare.circuit.states[0][1]).toBe(1);
    expect(bare.comparison.disagreements.map((d) => d.cause)).toEqual(['glitch']);
    // With it: the same settled candidate, an excursion that stays below beta_hi, the model's state.
    expect(filtered.circuit.candidates[0][1]).toBeCloseTo(bare.circuit.candidates[0][1], 2);
    expect(filtered.circuit.candidateMax[0][1]).toBeLessThan(betaHi);
    expect(filtered.circuit.states[0][1]).toBe(0);
    expect(filtered.comparison.stateAgreement).toBe(1);
    expect(filtered.generated.deck).toMatch(/^Cf_b0c0 b0c0_in vdd_ff /m);
  }, 60_000);
});

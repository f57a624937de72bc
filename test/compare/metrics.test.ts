import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  compareRun,
  firstCrossing,
  judge,
  loadTolerances,
  timeAverage,
  valueAt,
  type CircuitFrames,
} from '../../src/compare/index.js';
import { randomInputs, randomNetwork, runNetwork, cellThresholds } from '../../src/model/index.js';
import { linear, oneCellNetwork } from '../networks.js';
import { scratchDir } from '../helpers.js';

/** Circuit frames that reproduce a software trace exactly (the starting point for injected faults). */
function mirrorOf(tr: ReturnType<typeof runNetwork>, alpha: Float64Array[]): CircuitFrames {
  return {
    frames: tr.frames,
    candidates: tr.candidates.map((c) => Float64Array.from(c)),
    candidateMax: tr.candidates.map((c) => Float64Array.from(c)),
    candidateMin: tr.candidates.map((c) => Float64Array.from(c)),
    stateCurrents: tr.states.map((s, k) => Float64Array.from(s, (v, i) => v * alpha[k][i % alpha[k].length])),
    states: tr.states.map((s) => Uint8Array.from(s)),
    logits: Float64Array.from(tr.logits),
    switchDelaysS: tr.states.map((_, k) => Array.from({ length: alpha[k].length }, () => [1e-4])),
    supplyMeanA: {},
  };
}

describe('comparator', () => {
  const net = randomNetwork({ inputs: 3, width: 3, blocks: 2, classes: 2, seed: 5 });
  // Run in each test, not while vitest collects the file: Stryker then sees which tests cover the model.
  const trace = () => runNetwork(net, randomInputs(40, 3, 9));
  const alpha = net.blocks.map((b) => cellThresholds(b.cell).alpha);

  it('scores a perfect circuit as full agreement and passes the default tolerances', () => {
    const tr = trace();
    const c = compareRun(net, tr, mirrorOf(tr, alpha));
    expect(c.stateAgreement).toBe(1);
    expect(c.firstDivergence).toBeNull();
    expect(c.decisionMatch).toBe(true);
    expect(judge(c).pass).toBe(true);
  });

  it('reports a flipped state with its margin class and first divergence, and fails a 100% agreement rule', () => {
    const tr = trace();
    const circ = mirrorOf(tr, alpha);
    const th = cellThresholds(net.blocks[1].cell);
    const i = 17 * net.cells + 2;
    circ.states[1][i] ^= 1;
    const c = compareRun(net, tr, circ);
    expect(c.disagreements).toHaveLength(1);
    const d = c.disagreements[0];
    expect([d.block, d.frame, d.unit]).toEqual([1, 17, 2]);
    const cand = tr.candidates[1][i];
    const inBand = cand >= th.betaLo[2] && cand < th.betaHi[2];
    const margin = inBand
      ? Math.abs(cand - (circ.states[1][i] ? th.betaHi[2] : th.betaLo[2]))
      : Math.min(Math.abs(cand - th.betaHi[2]), Math.abs(cand - th.betaLo[2]));
    expect(d.margin).toBeCloseTo(margin, 12);
    expect(c.firstDivergence).toEqual({ block: 1, frame: 17, unit: 2 });
    expect(c.stateAgreement).toBeCloseTo(1 - 1 / (2 * 40 * net.cells), 12);
    expect(judge(c, { ...DEFAULT, minStateAgreement: 1 }).pass).toBe(false);
  });

  it('measures suppression as candidate error over state error on agreeing frames', () => {
    const tr = trace();
    const circ = mirrorOf(tr, alpha);
    circ.candidates[0].forEach((v, i) => (circ.candidates[0][i] = v * 1.1)); // 10% at the cell input
    circ.stateCurrents[0].forEach((v, i) => (circ.stateCurrents[0][i] = v * 1.002)); // 0.2% at its output
    const b = compareRun(net, tr, circ).boundaries[0];
    expect(b.candidateRelError).toBeCloseTo(0.1, 9);
    const S = net.cells;
    const meanAlpha = alpha[0].reduce((a, v) => a + v, 0) / S;
    const outErr =
      tr.states[0].reduce((a, s, i) => a + 0.002 * alpha[0][i % S] * s, 0) / tr.states[0].length / meanAlpha;
    expect(b.stateRelErrorAgreeing).toBeCloseTo(outErr, 12);
    expect(b.suppression).toBeCloseTo(0.1 / outErr, 6);
  });

  it('flags a different majority decision', () => {
    const tr = trace();
    const circ = mirrorOf(tr, alpha);
    for (let t = 0; t < tr.frames; t++) {
      circ.logits[t * 2 + tr.decision] = -10;
      circ.logits[t * 2 + (1 - tr.decision)] = 10;
    }
    const c = compareRun(net, tr, circ);
    expect(c.decisionMatch).toBe(false);
    expect(judge(c).checks.find((k) => k.name === 'decision match')?.pass).toBe(false);
  });
});

const DEFAULT = {
  minStateAgreement: 0.995,
  requireDecisionMatch: true,
  minVoteAgreement: 0.95,
  maxDisagreements: {},
  maxUnexplained: {},
};

describe('waveform helpers', () => {
  const t = Float64Array.of(0, 1, 2, 3);
  const y = Float64Array.of(0, 2, 2, 0);
  it('interpolates linearly and clamps at the ends', () => {
    expect(valueAt(t, y, 0.5)).toBe(1);
    expect(valueAt(t, y, 5)).toBe(0);
  });
  it('finds the first crossing in a window', () => {
    expect(firstCrossing(t, y, 1, 0, 3)).toBeCloseTo(0.5, 12);
    expect(firstCrossing(t, y, 1, 1.5, 3)).toBeCloseTo(2.5, 12);
    expect(firstCrossing(t, y, 5, 0, 3)).toBeUndefined();
  });
  it('averages over time with the trapezoid rule', () => {
    expect(timeAverage(t, y)).toBeCloseTo(4 / 3, 12);
  });
});

describe('tolerance files', () => {
  const dir = scratchDir('bmru-tol-');
  it('fills absent keys with defaults', async () => {
    writeFileSync(join(dir, 't.json'), '{"minStateAgreement": 0.9}');
    const t = await loadTolerances(join(dir, 't.json'));
    expect(t.minStateAgreement).toBe(0.9);
    expect(t.requireDecisionMatch).toBe(true);
  });
  it('names the file and field of a bad value', async () => {
    writeFileSync(join(dir, 'bad.json'), '{"minStateAgreement": 1.5}');
    await expect(loadTolerances(join(dir, 'bad.json'))).rejects.toThrow(/bad\.json 'minStateAgreement'/);
  });
});

describe('transition latching', () => {
  // One cell fed c = relu(1.3 - relu(x0) - relu(x1)): from x = (1, -1) to (-1, 1) the candidate sits at 0.3 in
  // the hold band at both frames, but passes 1.3 (above beta_hi = 0.5) half-way along a continuous path.
  const lin = (rows: number, cols: number, w: number[], b: number[]) => ({
    weight: { rows, cols, data: Float64Array.from(w) },
    bias: Float64Array.from(b),
  });
  const net = {
    arch: 'fq-bmru' as const,
    inputs: 2,
    width: 2,
    cells: 1,
    classes: 2,
    skip: false,
    unitCurrentA: 1e-9,
    frameS: 0.01,
    cellParams: 'realised' as const,
    pre: lin(2, 2, [1, 0, 0, 1], [0, 0]),
    blocks: [
      {
        cand: lin(1, 2, [-1, -1], [1.3]),
        cell: {
          alpha: Float64Array.of(1),
          beta1: Float64Array.of(0.2),
          delta: Float64Array.of(0.3),
          s0: Float64Array.of(0),
        },
        post: lin(2, 1, [1, -1], [0, 0]),
      },
    ],
    out: lin(2, 2, [1, 0, 0, 1], [0, 0]),
  };
  const inputs = { frames: 2, features: 2, data: Float64Array.of(1, -1, -1, 1) };
  const trace = () => runNetwork(net, inputs);

  it('marks a circuit that latched on the way between frames as a transition disagreement', () => {
    const tr = trace();
    expect(Array.from(tr.states[0])).toEqual([0, 0]);
    const circ = mirrorOf(tr, [Float64Array.of(1)]);
    circ.states[0][1] = 1;
    const c = compareRun(net, tr, circ, inputs);
    expect(c.disagreements).toHaveLength(1);
    expect(c.disagreements[0].transition).toBe(true);
    expect(c.transitionDisagreements).toBe(1);
  });

  it('does not excuse a flip that no path between the frames explains', () => {
    const still = { frames: 2, features: 2, data: Float64Array.of(1, -1, 1, -1) };
    const tr2 = runNetwork(net, still);
    const circ = mirrorOf(tr2, [Float64Array.of(1)]);
    circ.states[0][1] = 1;
    expect(compareRun(net, tr2, circ, still).disagreements[0].transition).toBe(false);
  });
});

const lin1 = linear;
/** One cell with band [0.9, 1.0], starting ON. */
const net0 = oneCellNetwork({ betaLo: 0.9, delta: 0.1, s0: 1, out: { weight: [1, -1], bias: [0, 0] } });
const tr0 = () => runNetwork(net0, { frames: 1, features: 1, data: Float64Array.of(0.995) });

describe('margin of a disagreement inside the hysteresis band', () => {
  it('is measured to the threshold the circuit must have crossed, not the nearest one', () => {
    // Band [0.9, 1.0], candidate 0.995: the model holds ON; a circuit reading OFF must have seen < 0.9 (10% off).
    const lin = lin1;
    const net = {
      arch: 'fq-bmru' as const,
      inputs: 1,
      width: 1,
      cells: 1,
      classes: 2,
      skip: false,
      unitCurrentA: 1e-9,
      frameS: 0.01,
      cellParams: 'realised' as const,
      pre: lin(1, 1, [1], [0]),
      blocks: [
        {
          cand: lin(1, 1, [1], [0]),
          cell: {
            alpha: Float64Array.of(1),
            beta1: Float64Array.of(0.9),
            delta: Float64Array.of(0.1),
            s0: Float64Array.of(1),
          },
          post: lin(1, 1, [1], [0]),
        },
      ],
      out: lin(2, 1, [1, -1], [0, 0]),
    };
    const tr = runNetwork(net, { frames: 1, features: 1, data: Float64Array.of(0.995) });
    expect(tr.states[0][0]).toBe(1);
    const circ = mirrorOf(tr, [Float64Array.of(1)]);
    circ.states[0][0] = 0;
    const d = compareRun(net, tr, circ).disagreements[0];
    expect(d.margin).toBeCloseTo(0.095, 12);
    expect(d.marginClass).toBe('5-20%');
    expect(d.glitch).toBe(false);
  });

  it('marks an edge glitch when the circuit candidate dipped below beta_lo within the frame', () => {
    const circ2 = mirrorOf(tr0(), [Float64Array.of(1)]);
    circ2.states[0][0] = 0;
    circ2.candidateMin[0][0] = 0.85;
    expect(compareRun(net0, tr0(), circ2).disagreements[0].glitch).toBe(true);
  });
});

describe('switching delay', () => {
  it('keeps a switch that crosses after the sample point, charged to the frame that caused it', async () => {
    const { sampleCircuit } = await import('../../src/compare/sample.js');
    // V0 of one cell rises 9.9 ms after the edge at 10 ms: after the 98% sample of frame 1, before frame 2's.
    const time = Float64Array.of(0, 0.0199, 0.02, 0.03);
    const v0 = Float64Array.of(0, 0, 1.8, 1.8);
    const zero = new Float64Array(4);
    const plot = {
      title: '',
      date: '',
      plotname: 'Transient Analysis',
      complex: false,
      numPoints: 4,
      vectors: ['time', 'v(c)', 'i(a)', 'i(s)'].map((name) => ({ name, type: 'x' })),
      real: [time, v0, zero, zero],
    };
    const probes = {
      candidates: [['i(a)']],
      stateCurrents: [['i(a)']],
      cellNodes: [['v(c)']],
      hPos: [],
      hNeg: [],
      logitPos: [],
      logitNeg: [],
      supplies: { cell: 'i(s)', ff: 'i(s)', bias: 'i(s)', in: 'i(s)' },
    };
    const c = sampleCircuit(plot, probes, { frames: 3, frameS: 0.01, unitA: 1e-9, vddV: 1.8 });
    expect(Array.from(c.states[0])).toEqual([0, 0, 1]);
    expect(c.switchDelaysS[0][0]).toHaveLength(1);
    expect(c.switchDelaysS[0][0][0]).toBeCloseTo(0.00995, 6);
  });

  it('counts a first-frame switch of a held block from its reset release, not from t = 0', async () => {
    const { sampleCircuit } = await import('../../src/compare/sample.js');
    // Both blocks' cells rise 0.5 ms after they may: block 0 at t = 0, block 1 released at 3.3 ms.
    const time = Float64Array.of(0, 0.0005, 0.0006, 0.0038, 0.0039, 0.01, 0.02);
    const v0 = Float64Array.of(0, 0, 1.8, 1.8, 1.8, 1.8, 1.8);
    const v1 = Float64Array.of(0, 0, 0, 0, 1.8, 1.8, 1.8);
    const zero = new Float64Array(7);
    const plot = {
      title: '',
      date: '',
      plotname: 'Transient Analysis',
      complex: false,
      numPoints: 7,
      vectors: ['time', 'v(c0)', 'v(c1)', 'i(a)', 'i(s)'].map((name) => ({ name, type: 'x' })),
      real: [time, v0, v1, zero, zero],
    };
    const base = {
      candidates: [['i(a)'], ['i(a)']],
      stateCurrents: [['i(a)'], ['i(a)']],
      cellNodes: [['v(c0)'], ['v(c1)']],
      hPos: [],
      hNeg: [],
      logitPos: [],
      logitNeg: [],
      supplies: { cell: 'i(s)', ff: 'i(s)', bias: 'i(s)', in: 'i(s)' },
    };
    const opts = { frames: 2, frameS: 0.01, unitA: 1e-9, vddV: 1.8 };
    const held = sampleCircuit(plot, { ...base, releaseS: [0, 0.0033] }, opts);
    expect(held.switchDelaysS[0][0][0]).toBeCloseTo(0.00055, 6);
    expect(held.switchDelaysS[1][0][0]).toBeCloseTo(0.00385 - 0.0033, 6);
    // without release times every block counts from t = 0
    expect(sampleCircuit(plot, base, opts).switchDelaysS[1][0][0]).toBeCloseTo(0.00385, 6);
  });
});

/** One cell fed the input unchanged, band [beta_lo, beta_lo + delta], starting OFF. */
const oneCell = (betaLo: number, delta: number) => ({
  arch: 'fq-bmru' as const,
  inputs: 1,
  width: 1,
  cells: 1,
  classes: 2,
  skip: false,
  unitCurrentA: 1e-9,
  frameS: 0.01,
  cellParams: 'realised' as const,
  pre: lin1(1, 1, [1], [0]),
  blocks: [
    {
      cand: lin1(1, 1, [1], [0]),
      cell: {
        alpha: Float64Array.of(1),
        beta1: Float64Array.of(betaLo),
        delta: Float64Array.of(delta),
        s0: Float64Array.of(0),
      },
      post: lin1(1, 1, [1], [0]),
    },
  ],
  out: lin1(2, 1, [1, -1], [0, 0]),
});
const seq = (...x: number[]) => ({ frames: x.length, features: 1, data: Float64Array.from(x) });

describe('carried disagreements', () => {
  // Band [0.5, 1.0]. The circuit turns ON at frame 1 (candidate 0.98, 2% under beta_hi) while the model holds OFF.
  // At frame 2 (0.6) the model still holds: the circuit merely keeps its wrong state, although measured against
  // beta_hi that frame looks 40% off. At frame 3 (0.3 < beta_lo) the model is forced OFF and the circuit stays ON:
  // a fresh miss of beta_lo by 40%.
  const net = oneCell(0.5, 0.5);
  const compared = () => {
    const tr = runNetwork(net, seq(0.2, 0.98, 0.6, 0.3));
    const circ = mirrorOf(tr, [Float64Array.of(1)]);
    circ.states[0].set([0, 1, 1, 1]);
    return { tr, c: compareRun(net, tr, circ) };
  };

  it('attributes a held wrong state to the frame where it started', () => {
    const { tr, c } = compared();
    expect(Array.from(tr.states[0])).toEqual([0, 0, 0, 0]);
    expect(c.disagreements.map((d) => [d.frame, d.carried, d.sinceFrame, d.marginClass, d.cause])).toEqual([
      [1, false, 1, '1-5%', 'unexplained'],
      [2, true, 1, '1-5%', 'carried'],
      [3, false, 3, '>=20%', 'unexplained'],
    ]);
  });

  it('counts only fresh disagreements by margin and in the tolerance rules, every unit-frame in state agreement', () => {
    const { c } = compared();
    expect(c.stateAgreement).toBe(1 / 4);
    expect(c.disagreementsByMargin).toEqual({ '<1%': 0, '1-5%': 1, '5-20%': 0, '>=20%': 1 });
    expect(c.disagreementsByCause.carried).toEqual({ '<1%': 0, '1-5%': 1, '5-20%': 0, '>=20%': 0 });
    expect(c.disagreementsByCause.unexplained).toEqual({ '<1%': 0, '1-5%': 1, '5-20%': 0, '>=20%': 1 });
    const checks = judge(c, {
      ...DEFAULT,
      maxDisagreements: { '1-5%': 1 },
      maxUnexplained: { '1-5%': 1, '>=20%': 1 },
    }).checks;
    expect(checks.find((k) => k.name === 'fresh disagreements at margin 1-5%')?.measured).toBe(1);
    expect(checks.find((k) => k.name === 'unexplained disagreements at margin 1-5%')?.measured).toBe(1);
    expect(checks.find((k) => k.name === 'unexplained disagreements at margin >=20%')?.measured).toBe(1);
  });
});

describe('edge glitch label', () => {
  // Band [0.9, 1.0], starting OFF.
  const net = oneCell(0.9, 0.1);

  it('needs the circuit candidate back on the model side of the threshold at the sample point', () => {
    // The model holds OFF at 0.95; the circuit turned ON after its candidate rose to 1.05.
    const tr = runNetwork(net, seq(0.5, 0.95));
    const circ = mirrorOf(tr, [Float64Array.of(1)]);
    circ.states[0][1] = 1;
    circ.candidateMax[0][1] = 1.05;
    expect(compareRun(net, tr, circ).disagreements[0].glitch).toBe(true); // settled back at 0.95: a glitch
    circ.candidates[0][1] = 1.02; // settled above beta_hi: the circuit computes another candidate
    const d = compareRun(net, tr, circ).disagreements[0];
    expect(d.glitch).toBe(false);
    expect(d.cause).toBe('unexplained');
  });

  it('is not given to a circuit that kept its state (it latched nothing)', () => {
    // The model turns ON at 1.02; the circuit stays OFF with its candidate at 0.98. Its frame minimum (0.5) is the
    // previous frame's value, still on the inputs at the frame start.
    const tr = runNetwork(net, seq(0.5, 1.02));
    expect(Array.from(tr.states[0])).toEqual([0, 1]);
    const circ = mirrorOf(tr, [Float64Array.of(1)]);
    circ.states[0][1] = 0;
    circ.candidates[0][1] = 0.98;
    circ.candidateMin[0][1] = 0.5;
    const d = compareRun(net, tr, circ).disagreements[0];
    expect(d.glitch).toBe(false);
    expect(d.cause).toBe('unexplained');
  });
});

describe('candidate extremes per frame', () => {
  it('start after the input edge (frame 0: after the reset release), not at the sample still holding the previous frame', async () => {
    const { sampleCircuit } = await import('../../src/compare/sample.js');
    // A candidate at 1.05 nA through frame 0 steps to 0.95 nA over the 1 us input edge at 10 ms; in frame 0 a spike to
    // 2 nA at 1 ms comes before the block's reset lets go at 2 ms.
    const time = Float64Array.of(0, 0.001, 0.0011, 0.002, 0.01, 0.010001, 0.015, 0.02);
    const cand = Float64Array.of(1.05e-9, 2e-9, 1.05e-9, 1.05e-9, 1.05e-9, 0.95e-9, 0.95e-9, 0.95e-9);
    const zero = new Float64Array(time.length);
    const plot = {
      title: '',
      date: '',
      plotname: 'Transient Analysis',
      complex: false,
      numPoints: time.length,
      vectors: ['time', 'i(c)', 'v(c)', 'i(s)'].map((name) => ({ name, type: 'x' })),
      real: [time, cand, zero, zero],
    };
    const probes = {
      candidates: [['i(c)']],
      stateCurrents: [['i(c)']],
      cellNodes: [['v(c)']],
      hPos: [],
      hNeg: [],
      logitPos: [],
      logitNeg: [],
      supplies: { cell: 'i(s)', ff: 'i(s)', bias: 'i(s)', in: 'i(s)' },
      releaseS: [0.002],
    };
    const c = sampleCircuit(plot, probes, { frames: 2, frameS: 0.01, unitA: 1e-9, vddV: 1.8, inputEdgeS: 1e-6 });
    expect(c.candidateMax[0][0]).toBeCloseTo(1.05, 9);
    expect(c.candidateMax[0][1]).toBeCloseTo(0.95, 9);
    expect(c.candidateMin[0][1]).toBeCloseTo(0.95, 9);
  });
});

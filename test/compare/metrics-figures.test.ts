/**
 * compareRun's figures on hand-written traces (no model run: every candidate, state and logit is given, and each
 * expected figure is worked out in the comments), the helpers at their boundaries, and the model on a linear input
 * path (pathStates) on a network whose path crosses a threshold that neither end does.
 */
import { describe, expect, it } from 'vitest';
import {
  causeOf,
  compareRun,
  latchedGlitch,
  marginClass,
  pathStates,
  thresholdInQuestion,
  traceStateAgreement,
} from '../../src/compare/metrics.js';
import type { CircuitFrames } from '../../src/compare/sample.js';
import type { Trace } from '../../src/model/network.js';
import type { Network } from '../../src/model/types.js';
import { linear } from '../networks.js';

const f64 = (...x: number[]) => Float64Array.from(x);
const u8 = (...x: number[]) => Uint8Array.from(x);

/** A network of `blocks` blocks of S cells, band [0.5, 1.0] everywhere, ON levels `alpha`; layers never run here. */
function bandNetwork(S: number, blocks: number, classes: number, alpha: number[], s0 = new Array(S).fill(0)): Network {
  const zeros = (r: number, c: number) => linear(r, c, new Array(r * c).fill(0), new Array(r).fill(0));
  return {
    arch: 'fq-bmru',
    inputs: 1,
    width: S,
    cells: S,
    classes,
    skip: false,
    unitCurrentA: 1e-9,
    frameS: 0.01,
    cellParams: 'realised',
    pre: zeros(S, 1),
    blocks: Array.from({ length: blocks }, () => ({
      cand: zeros(S, S),
      cell: {
        alpha: Float64Array.from(alpha),
        beta1: new Float64Array(S).fill(0.5),
        delta: new Float64Array(S).fill(0.5),
        s0: Float64Array.from(s0),
      },
      post: zeros(S, S),
    })),
    out: zeros(classes, S),
  };
}

/** A software trace as given (only the fields compareRun reads). */
function trace(t: {
  frames: number;
  candidates: Float64Array[];
  states: Uint8Array[];
  logits?: Float64Array;
  votes?: number[];
  decision?: number;
}): Trace {
  return {
    frames: t.frames,
    candidates: t.candidates,
    states: t.states,
    blockOutputs: [],
    logits: t.logits ?? new Float64Array(0),
    votes: Int32Array.from(t.votes ?? new Array(t.frames).fill(0)),
    decision: t.decision ?? 0,
  };
}

/** Circuit frames; extremes default to the sampled candidates (no excursion within any frame). */
function circuit(c: {
  frames: number;
  candidates: Float64Array[];
  states: Uint8Array[];
  stateCurrents?: Float64Array[];
  candidateMax?: Float64Array[];
  logits?: Float64Array;
  switchDelaysS?: number[][][];
}): CircuitFrames {
  return {
    frames: c.frames,
    candidates: c.candidates,
    candidateMax: c.candidateMax ?? c.candidates,
    candidateMin: c.candidates,
    stateCurrents: c.stateCurrents ?? c.candidates.map((x) => new Float64Array(x.length)),
    states: c.states,
    logits: c.logits ?? new Float64Array(0),
    switchDelaysS: c.switchDelaysS ?? [],
    supplyMeanA: {},
  };
}

describe('margin classes and the threshold in question, at their edges', () => {
  it('puts each class bound in the class above it (1%, 5%, 20% are upper bounds, excluded)', () => {
    expect([0, 0.0099, 0.01, 0.0499, 0.05, 0.1999, 0.2, 3].map(marginClass)).toEqual([
      '<1%',
      '<1%',
      '1-5%',
      '1-5%',
      '5-20%',
      '5-20%',
      '>=20%',
      '>=20%',
    ]);
  });

  it('reads a candidate at beta_lo as inside the band and one at beta_hi as above it', () => {
    // Band [0.5, 1.0]: inside, the threshold of the circuit's state; at or above 1.0, beta_hi whatever the circuit.
    expect(thresholdInQuestion(0.5, 0.5, 1, 1)).toBe(1);
    expect(thresholdInQuestion(0.5, 0.5, 1, 0)).toBe(0.5);
    expect(thresholdInQuestion(0.4999, 0.5, 1, 1)).toBe(0.5);
    expect(thresholdInQuestion(1, 0.5, 1, 0)).toBe(1);
    expect(thresholdInQuestion(1.7, 0.5, 1, 0)).toBe(1);
  });

  it('latchedGlitch: turning ON needs the maximum at or above beta_hi and the sample below it', () => {
    expect(latchedGlitch(1, 0, 0.9, 1, 0.9, 0.5, 1)).toBe(true); // max exactly beta_hi
    expect(latchedGlitch(1, 0, 1, 1.2, 0.9, 0.5, 1)).toBe(false); // sampled at beta_hi: settled ON, no glitch
    expect(latchedGlitch(1, 1, 0.9, 1.2, 0.9, 0.5, 1)).toBe(false); // kept its state: latched nothing
  });

  it('latchedGlitch: turning OFF needs the minimum below beta_lo and the sample at or above it', () => {
    expect(latchedGlitch(0, 1, 0.5, 0.6, 0.4, 0.5, 1)).toBe(true); // sampled exactly at beta_lo: back in the band
    expect(latchedGlitch(0, 1, 0.6, 0.6, 0.5, 0.5, 1)).toBe(false); // minimum exactly beta_lo: never below it
    expect(latchedGlitch(0, 1, 0.45, 0.6, 0.4, 0.5, 1)).toBe(false); // settled below beta_lo
  });

  it('causeOf takes the first cause that holds: transition before glitch, glitch before upstream', () => {
    expect(causeOf({ carried: false, transition: true, glitch: true, upstream: true })).toBe('transition');
    expect(causeOf({ carried: false, transition: false, glitch: true, upstream: true })).toBe('glitch');
    expect(causeOf({ carried: false, transition: false, glitch: false, upstream: true })).toBe('upstream');
  });

  it('traceStateAgreement counts unit-frames over every block, and is 1 for traces with none', () => {
    const a = trace({ frames: 2, candidates: [], states: [u8(0, 1), u8(1, 1)] });
    const b = trace({ frames: 2, candidates: [], states: [u8(0, 0), u8(1, 1)] });
    expect(traceStateAgreement(a, b)).toBe(3 / 4);
    const empty = trace({ frames: 0, candidates: [], states: [] });
    expect(traceStateAgreement(empty, empty)).toBe(1);
  });
});

describe('compareRun figures', () => {
  // One block, 2 cells (ON levels 1 and 3, mean 2), band [0.5, 1.0], 2 frames, 3 classes.
  const net = bandNetwork(2, 1, 3, [1, 3]);
  // Model: cell 0 OFF (0.2, 0.3 < beta_lo), cell 1 ON (1.25, 1.5 >= beta_hi).
  const sw = trace({
    frames: 2,
    candidates: [f64(0.2, 1.25, 0.3, 1.5)],
    states: [u8(0, 1, 0, 1)],
    logits: f64(2, 2, 1, 1, 2.5, 2),
    votes: [0, 1],
    decision: 0,
  });
  // Circuit: cell 1 OFF in frame 0 (candidate 1.0, it kept its initial OFF: no glitch); cell 0 ON in frame 1 with its
  // candidate at 0.3 at the sample after a peak of 1.1 (a latched glitch).
  const circ = circuit({
    frames: 2,
    candidates: [f64(0.25, 1.0, 0.3, 1.5)],
    candidateMax: [f64(0.25, 1.0, 1.1, 1.5)],
    states: [u8(0, 0, 1, 1)],
    stateCurrents: [f64(0.1, 2.7, 0, 3.3)],
    // frame 0 votes class 0; frame 1: 2 > 1 and 1.8 < 2, class 1
    logits: f64(2.5, 2, 1, 1, 2, 1.8),
    switchDelaysS: [[[3e-4, 1e-4, 2e-4], []]],
  });
  // Run inside each test (not at collection), so that Stryker attributes its coverage to the tests that read it.
  const run = () => compareRun(net, sw, circ);

  it('scores states over unit-frames and lists each disagreement with its margin and cause', () => {
    const c = run();
    expect(c.stateAgreement).toBe(0.5);
    expect(c.firstDivergence).toEqual({ block: 0, frame: 0, unit: 1 });
    expect(
      c.disagreements.map((d) => [d.frame, d.unit, d.margin, d.relMargin, d.marginClass, d.glitch, d.cause]),
    ).toEqual([
      // |1.25 - beta_hi 1.0| = 0.25, 25% of it
      [0, 1, expect.closeTo(0.25, 12), expect.closeTo(0.25, 12), '>=20%', false, 'unexplained'],
      // |0.3 - beta_lo 0.5| = 0.2, 40% of it
      [1, 0, expect.closeTo(0.2, 12), expect.closeTo(0.4, 12), '>=20%', true, 'glitch'],
    ]);
    expect(c.glitchDisagreements).toBe(1);
    expect(c.transitionDisagreements).toBe(0);
  });

  it('measures the boundary: candidate error, state current error over all and over agreeing unit-frames', () => {
    const c = run();
    // candidate: (0.05 + 0.25 + 0 + 0) / (0.2 + 1.25 + 0.3 + 1.5) = 0.3 / 3.25
    // state current vs alpha * s = (0, 3, 0, 3): |0.1| + |2.7 - 3| + |0 - 0| + |3.3 - 3| = 0.7, over 4 unit-frames and
    // mean alpha 2: 0.0875; agreeing unit-frames (frame 0 cell 0, frame 1 cell 1): 0.4 / 2 / 2 = 0.1
    const b = c.boundaries[0];
    expect(b.block).toBe(0);
    expect(b.candidateRelError).toBeCloseTo(0.3 / 3.25, 12);
    expect(b.stateRelError).toBeCloseTo(0.0875, 12);
    expect(b.stateRelErrorAgreeing).toBeCloseTo(0.1, 12);
    expect(b.suppression).toBeCloseTo(0.3 / 3.25 / 0.1, 12);
  });

  it('scores votes by the circuit argmax and logits by their mean absolute error', () => {
    const c = run();
    expect(c.voteAgreement).toBe(1);
    // |2.5 - 2| + |2 - 2| + |1 - 1| + |1 - 1| + |2 - 2.5| + |1.8 - 2| = 1.2 over 6 logits
    expect(c.logitMeanAbsError).toBeCloseTo(0.2, 12);
    expect(c.circuitDecision).toBe(0); // votes 0 and 1: a tie goes to the first class
    expect(c.decisionMatch).toBe(true);
  });

  it('summarises each unit switching: count, median and largest delay, null for a unit that never switched', () => {
    const c = run();
    expect(c.switching).toEqual([
      { block: 0, unit: 0, switches: 3, medianDelayS: 2e-4, maxDelayS: 3e-4 },
      { block: 0, unit: 1, switches: 0, medianDelayS: null, maxDelayS: null },
    ]);
  });
});

describe('compareRun edge cases', () => {
  it('gives a tie of circuit logits to the first class, as the model votes', () => {
    const net = bandNetwork(1, 1, 2, [1]);
    const sw = trace({ frames: 1, candidates: [f64(0)], states: [u8(0)], logits: f64(3, 3), votes: [0] });
    const circ = circuit({ frames: 1, candidates: [f64(0)], states: [u8(0)], logits: f64(3, 3) });
    expect(compareRun(net, sw, circ).voteAgreement).toBe(1);
  });

  it('reports an empty run as full agreement with no error', () => {
    const net = bandNetwork(1, 1, 2, [1]);
    const sw = trace({ frames: 0, candidates: [f64()], states: [u8()] });
    const c = compareRun(net, sw, circuit({ frames: 0, candidates: [f64()], states: [u8()] }));
    expect(c.stateAgreement).toBe(1);
    expect(c.voteAgreement).toBe(1);
    expect(c.logitMeanAbsError).toBe(0);
  });

  it('reports zero state error, not NaN, for cells whose ON level is 0, and an unbounded suppression', () => {
    const net = bandNetwork(1, 1, 2, [0]);
    const sw = trace({ frames: 1, candidates: [f64(0.2)], states: [u8(0)] });
    const b = compareRun(net, sw, circuit({ frames: 1, candidates: [f64(0.3)], states: [u8(0)] })).boundaries[0];
    expect(b.stateRelError).toBe(0);
    expect(b.stateRelErrorAgreeing).toBe(0);
    expect(b.suppression).toBe(Number.MAX_VALUE);
  });

  it('reports no agreeing-frame error when no unit-frame agrees', () => {
    const net = bandNetwork(1, 1, 2, [1]);
    const sw = trace({ frames: 1, candidates: [f64(1.2)], states: [u8(1)] });
    const b = compareRun(net, sw, circuit({ frames: 1, candidates: [f64(1.2)], states: [u8(0)] })).boundaries[0];
    expect(b.stateRelError).toBe(1); // |0 - 1 x 1| over one unit-frame and alpha 1
    expect(b.stateRelErrorAgreeing).toBe(0);
    expect(b.suppression).toBe(Number.MAX_VALUE);
  });

  it('carries a wrong state through a frame whose candidate sits at beta_lo, not through one at beta_hi', () => {
    const net = bandNetwork(1, 1, 2, [1], [1]);
    // The model is ON throughout (1.2, then 0.5 or 1.0: held or forced); the circuit is OFF throughout.
    for (const [second, carried] of [
      [0.5, true],
      [1.0, false],
    ] as const) {
      const sw = trace({ frames: 2, candidates: [f64(1.2, second)], states: [u8(1, 1)] });
      const d = compareRun(net, sw, circuit({ frames: 2, candidates: [f64(1.2, second)], states: [u8(0, 0)] }))
        .disagreements[1];
      expect(d.carried, String(second)).toBe(carried);
    }
  });

  it('takes the margin itself as the relative margin when the threshold in question is 0', () => {
    // beta_lo = 0: a circuit ON while the model is forced OFF at candidate 0 misses beta_lo by 0 units.
    const net = bandNetwork(1, 1, 2, [1]);
    net.blocks[0].cell.beta1[0] = 0;
    const sw = trace({ frames: 1, candidates: [f64(-0.3)], states: [u8(0)] });
    const d = compareRun(net, sw, circuit({ frames: 1, candidates: [f64(-0.3)], states: [u8(1)] })).disagreements[0];
    expect(d.margin).toBeCloseTo(0.3, 12);
    expect(d.relMargin).toBeCloseTo(0.3, 12);
  });

  it("compares frame 0 with the initial state and later frames with the circuit's previous state", () => {
    // Band [0.5, 1.0]; the circuit is ON in frames 0 and 1 with a candidate peak of 1.2 and a sample of 0.7 in each,
    // while the model stays OFF. From s0 = 0, frame 0 is a latched glitch; frame 1 kept the state: no glitch.
    const sw = trace({ frames: 2, candidates: [f64(0.7, 0.7)], states: [u8(0, 0)] });
    const circ = circuit({
      frames: 2,
      candidates: [f64(0.7, 0.7)],
      candidateMax: [f64(1.2, 1.2)],
      states: [u8(1, 1)],
    });
    const off = compareRun(bandNetwork(1, 1, 2, [1], [0]), sw, circ).disagreements;
    expect(off.map((d) => d.glitch)).toEqual([true, false]);
    // From s0 = 1 the circuit kept its initial state in frame 0: no glitch there either.
    const on = compareRun(bandNetwork(1, 1, 2, [1], [1]), sw, circ).disagreements;
    expect(on.map((d) => d.glitch)).toEqual([false, false]);
  });

  it('labels no glitch when the circuit frames carry no candidate extremes', () => {
    const net = bandNetwork(1, 1, 2, [1]);
    const sw = trace({ frames: 1, candidates: [f64(0.7)], states: [u8(0)] });
    // Circuit frames without the optional extremes
    const {
      candidateMax: _max,
      candidateMin: _min,
      ...bare
    } = circuit({
      frames: 1,
      candidates: [f64(0.7)],
      states: [u8(1)],
    });
    expect(compareRun(net, sw, bare as CircuitFrames).disagreements[0].glitch).toBe(false);
  });

  it('lists disagreements by frame, then block, then unit, and marks those downstream of a block that disagreed', () => {
    // Two blocks of 2 cells. Block 0 disagrees at frame 1 (both units); block 1 at frame 0 (unit 1) and 1 (unit 0).
    const net = bandNetwork(2, 2, 2, [1, 1]);
    const sw = trace({
      frames: 2,
      candidates: [f64(0.7, 0.7, 0.7, 0.7), f64(0.7, 0.7, 0.7, 0.7)],
      states: [u8(0, 0, 0, 0), u8(0, 0, 0, 0)],
    });
    const circ = circuit({
      frames: 2,
      candidates: sw.candidates,
      states: [u8(0, 0, 1, 1), u8(0, 1, 1, 0)],
    });
    const c = compareRun(net, sw, circ);
    expect(c.disagreements.map((d) => [d.frame, d.block, d.unit, d.upstream])).toEqual([
      [0, 1, 1, false],
      [1, 0, 0, false],
      [1, 0, 1, false],
      [1, 1, 0, true],
    ]);
    expect(c.firstDivergence).toEqual({ block: 1, frame: 0, unit: 1 });
  });
});

describe('transition latching in frame 0', () => {
  it('is never the explanation in frame 0: there is no previous frame to move from', async () => {
    const { oneCellNetwork } = await import('../networks.js');
    // Band [0.5, 1.0], input 1.2: the model turns ON in frame 0; the circuit stays OFF.
    const net = oneCellNetwork({ betaLo: 0.5, delta: 0.5 });
    const inputs = { frames: 1, features: 1, data: f64(1.2) };
    const sw = trace({ frames: 1, candidates: [f64(1.2)], states: [u8(1)], logits: f64(0.5, -0.5), votes: [0] });
    const circ = circuit({ frames: 1, candidates: [f64(1.2)], states: [u8(0)], logits: f64(0.5, -0.5) });
    const d = compareRun(net, sw, circ, inputs).disagreements[0];
    expect(d.transition).toBe(false);
    expect(d.cause).toBe('unexplained');
  });
});

describe('pathStates', () => {
  // Inputs x = (x0, x1) >= 0; pre: h = (x0 - x1, x1 - x0, x1); one block of 3 cells, band [0.5, 1.0]:
  //   cell 0: c = relu(h0) + relu(h1) = |x0 - x1|, cell 1: c = 0.7 (always inside the band: keeps its start state),
  //   cell 2: c = 1.5 x1.
  const net: Network = {
    arch: 'fq-bmru',
    inputs: 2,
    width: 3,
    cells: 3,
    classes: 2,
    skip: false,
    unitCurrentA: 1e-9,
    frameS: 0.01,
    cellParams: 'realised',
    pre: linear(3, 2, [1, -1, -1, 1, 0, 1], [0, 0, 0]),
    blocks: [
      {
        cand: linear(3, 3, [1, 1, 0, 0, 0, 0, 0, 0, 1.5], [0, 0.7, 0]),
        cell: { alpha: f64(1, 1, 1), beta1: f64(0.5, 0.5, 0.5), delta: f64(0.5, 0.5, 0.5), s0: f64(0, 0, 0) },
        post: linear(3, 3, [1, 0, 0, 0, 1, 0, 0, 0, 1], [0, 0, 0]),
      },
    ],
    out: linear(2, 3, [0, 0, 0, 0, 0, 0], [0, 0]),
  };
  // Frames: x = (0, 0), (1, 0), (0, 0.8), (0, 0).
  const inputs = { frames: 4, features: 2, data: f64(0, 0, 1, 0, 0, 0.8, 0, 0) };
  // The model's states as given (not run): frame 1 is (ON, ON, OFF); frames 0 and 3 differ from it in cell 1.
  const sw = trace({ frames: 4, candidates: [new Float64Array(12)], states: [u8(0, 0, 0, 1, 1, 0, 1, 1, 1, 0, 0, 0)] });

  it('starts from the states of frame t-1 and moves the inputs linearly to frame t', () => {
    // Frame 1 -> 2: cell 0 starts ON at |1 - 0| = 1, passes |1 - 1.8 tau| = 0 at tau = 5/9 (OFF) and ends at 0.8,
    // inside the band: OFF (the jump from 1 to 0.8 would hold it ON). Cell 1 keeps frame 1's ON. Cell 2 ends at
    // 1.5 x 0.8 = 1.2 >= beta_hi: ON.
    const [states] = pathStates(net, inputs, sw, 2);
    expect(Array.from(states)).toEqual([0, 1, 1]);
  });

  it('takes the final point of the path, the same with fewer steps', () => {
    expect(Array.from(pathStates(net, inputs, sw, 2, 9)[0])).toEqual([0, 1, 1]);
  });
});

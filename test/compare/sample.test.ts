/**
 * Circuit waveforms -> per-frame values, on hand-made transient plots whose every expected figure is worked out in
 * the comments (piecewise-linear waveforms: a crossing sits where the line between two points meets the level).
 */
import { describe, expect, it } from 'vitest';
import {
  firstCrossing,
  frameExtreme,
  nonFiniteVectors,
  probedVectors,
  sampleCircuit,
  timeAverage,
  valueAt,
} from '../../src/compare/sample.js';
import type { Probes } from '../../src/netlist/generate.js';
import type { RawPlot } from '../../src/spice/rawfile.js';

const f64 = (...x: number[]) => Float64Array.from(x);

/** A transient plot of the vectors given (time first), as the rawfile reader returns one. */
function plotOf(vectors: Record<string, Float64Array>): RawPlot {
  const names = Object.keys(vectors);
  return {
    title: 'hand-made',
    date: '',
    plotname: 'Transient Analysis',
    complex: false,
    numPoints: vectors.time.length,
    vectors: names.map((name) => ({ name, type: name === 'time' ? 'time' : 'x' })),
    real: names.map((n) => vectors[n]),
  };
}

/** Probes of one block reading the given cell nodes; candidates and state currents from `cand` unless given. */
function probesOf(over: Partial<Probes> & { cellNodes: string[][] }): Probes {
  return {
    candidates: over.cellNodes.map((b) => b.map(() => 'i(z)')),
    stateCurrents: over.cellNodes.map((b) => b.map(() => 'i(z)')),
    hPos: [],
    hNeg: [],
    logitPos: [],
    logitNeg: [],
    supplies: { cell: 'i(z)', ff: 'i(z)', bias: 'i(z)', in: 'i(z)' },
    ...over,
  };
}

describe('valueAt', () => {
  it('interpolates linearly between the samples around t, on a non-uniform grid', () => {
    // Between (1, 10) and (3, 30): at t = 2, halfway, 20; at t = 1.5, a quarter of the way, 15.
    const time = f64(0, 1, 3);
    const y = f64(0, 10, 30);
    expect(valueAt(time, y, 2)).toBeCloseTo(20, 12);
    expect(valueAt(time, y, 1.5)).toBeCloseTo(15, 12);
  });

  it('holds the end values outside the waveform instead of extrapolating', () => {
    const time = f64(1, 2);
    const y = f64(4, 6);
    expect(valueAt(time, y, 0)).toBe(4);
    expect(valueAt(time, y, 5)).toBe(6);
  });

  it('returns a sample exactly at its own time, with no rounding from interpolating towards it', () => {
    // 0.7 + (0.1 - 0.7) is 0.09999999999999998 in float64, and 1.1 + (0.3 - 1.1) is 0.30000000000000004: reading a
    // sample through the interval that ends at it would give those.
    const time = f64(0, 1, 2, 3, 4);
    const y = f64(5, 0.7, 0.1, 1.1, 0.3);
    expect(valueAt(time, y, 2)).toBe(0.1);
    expect(valueAt(time, y, 4)).toBe(0.3);
  });
});

describe('firstCrossing', () => {
  const time = f64(0, 1, 2, 3, 4);

  it('finds where the line between two samples meets the level, in either direction', () => {
    // Rising 0 -> 2 between t = 1 and 2 meets 1 at 1.5; falling 2 -> 0 between 3 and 4 at 3.5.
    const y = f64(0, 0, 2, 2, 0);
    expect(firstCrossing(time, y, 1, 0, 4)).toBeCloseTo(1.5, 12);
    expect(firstCrossing(time, y, 1, 2, 4)).toBeCloseTo(3.5, 12);
  });

  it('ignores a crossing before t0 or after t1, even one just past t1 in the interval starting at it', () => {
    const y = f64(0, 0, 2, 2, 0);
    expect(firstCrossing(time, y, 1, 2.5, 3)).toBeUndefined(); // the rise at 1.5 is before the window
    expect(firstCrossing(time, y, 1, 0, 1)).toBeUndefined(); // the rise at 1.5 is after it
    // flat above the level to the end: nothing, however far t1 reaches past the last sample
    expect(firstCrossing(f64(0, 1), f64(2, 2), 1, 0, 5)).toBeUndefined();
  });

  it('counts a value equal to the level as above it (as states do: V0 >= VDD/2 is ON)', () => {
    // Starting at the level and rising: no crossing. Rising from below to exactly the level: a crossing there.
    expect(firstCrossing(f64(0, 1, 2), f64(0, 1, 2), 1, 1, 2)).toBeUndefined();
    expect(firstCrossing(f64(0, 1, 2), f64(0, 1, 1), 1, 0, 2)).toBe(1);
  });
});

describe('timeAverage', () => {
  it('is the trapezoidal area over the span, for a span that does not start at 0', () => {
    // (1, 2) -> (3, 4): area 6 over a span of 2.
    expect(timeAverage(f64(1, 3), f64(2, 4))).toBeCloseTo(3, 12);
    // (1, 0) -> (2, 2) -> (4, 2): area 1 + 4 over 3.
    expect(timeAverage(f64(1, 2, 4), f64(0, 2, 2))).toBeCloseTo(5 / 3, 12);
  });

  it('is the single value of a one-point waveform', () => {
    expect(timeAverage(f64(0.5), f64(7))).toBe(7);
  });
});

describe('probedVectors', () => {
  it('lists time first, then every probe once, without absent or empty names', () => {
    const names = probedVectors(
      probesOf({
        cellNodes: [['v(a)', 'v(b)']],
        candidates: [['i(c1)', 'i(c2)']],
        stateCurrents: [['i(c1)', 'i(s2)']],
        hPos: [['i(hp)']],
        hNeg: [[undefined]],
        logitPos: ['i(lp)'],
        logitNeg: [''],
      }),
    );
    expect(names).toEqual(['time', 'i(c1)', 'i(c2)', 'i(s2)', 'v(a)', 'v(b)', 'i(hp)', 'i(lp)', 'i(z)']);
  });
});

describe('nonFiniteVectors', () => {
  it('names each probed vector holding NaN or an infinity (in probe order), with its first bad point, even at point 0', () => {
    const plot = plotOf({
      time: f64(0, 1, 2),
      'v(a)': f64(NaN, 1, NaN),
      'v(b)': f64(0, 0, 0),
      'i(z)': f64(0, 1, -Infinity),
    });
    expect(nonFiniteVectors(plot, probesOf({ cellNodes: [['v(a)', 'v(b)']] }))).toEqual([
      { name: 'i(z)', point: 2, timeS: 2, value: -Infinity },
      { name: 'v(a)', point: 0, timeS: 0, value: NaN },
    ]);
  });
});

describe('frameExtreme', () => {
  // Frames of 10 s read at 0.9 (t = 9, 19), input edges 1 s long, frame 0 released at 2 s.
  const w = { frames: 2, frameS: 10, frac: 0.9, edgeS: 1, releaseS: 2 };
  // Spikes: 8 at 1 (before the release: out), 5 at 2 (at the release: in), 9 at 9.5 (after frame 0's sample: out),
  // 7 at 10.5 (inside frame 1's edge: out), 6 at 11 (the edge's end: in), 9 at 19.5 (after frame 1's sample: out).
  const time = f64(0, 1, 1.5, 2, 3, 9, 9.5, 10, 10.5, 11, 12, 19, 19.5, 20);
  const y = f64(1, 8, 1, 5, 1, 1, 9, 1, 7, 6, 2, 2, 9, 2);

  it('takes the largest and smallest value between the edge (frame 0: the release) and the sample point', () => {
    expect(Array.from(frameExtreme(time, y, w, Math.max))).toEqual([5, 6]);
    expect(Array.from(frameExtreme(time, y, w, Math.min))).toEqual([1, 2]);
  });

  it('includes the value at the sample point when no sample falls inside the window', () => {
    // Straight line from (0, 0) to (20, 20): frame 0 read at 9 sees at most 9; frame 1 from 11 to 19, at most 19.
    expect(Array.from(frameExtreme(f64(0, 20), f64(0, 20), w, Math.max))).toEqual([9, 19]);
    expect(Array.from(frameExtreme(f64(0, 20), f64(0, 20), w, Math.min))).toEqual([9, 19]);
  });
});

describe('sampleCircuit', () => {
  // VDD 1.8 V (ON at V0 >= 0.9), frames of 10 ms read at 98% (9.8, 19.8 and 29.8 ms), I_unit 1 nA.
  const opts = { frames: 3, frameS: 0.01, unitA: 1e-9, vddV: 1.8 };
  const ms = (...t: number[]) => Float64Array.from(t, (x) => x / 1000);
  const time = ms(0, 0.3, 0.5, 9.8, 10.1, 10.3, 10.5, 19.8, 20.2, 20.4, 20.6, 29.8, 35, 40);

  it('reads each quantity at the sample point, in software units, cells interleaved per frame', () => {
    const plot = plotOf({
      time,
      // Two candidates, constant within each frame: 1, 2, 3 nA and 4, 5, 6 nA.
      'i(c0)': f64(1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3).map((x) => x * 1e-9),
      'i(c1)': f64(4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6).map((x) => x * 1e-9),
      // V0 exactly at VDD/2 in frame 0 (ON), 0 after.
      'v(a)': f64(0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9),
      'v(b)': new Float64Array(14),
      // Two classes: 7 nA - 2 nA, and 3 nA with no negative side.
      'i(lp0)': new Float64Array(14).fill(7e-9),
      'i(ln0)': new Float64Array(14).fill(2e-9),
      'i(lp1)': new Float64Array(14).fill(3e-9),
      'i(z)': new Float64Array(14),
    });
    const c = sampleCircuit(
      plot,
      probesOf({
        cellNodes: [['v(a)', 'v(b)']],
        candidates: [['i(c0)', 'i(c1)']],
        stateCurrents: [['i(c1)', 'i(c0)']],
        logitPos: ['i(lp0)', 'i(lp1)'],
        logitNeg: ['i(ln0)', undefined],
      }),
      opts,
    );
    expect(c.frames).toBe(3);
    expect(Array.from(c.candidates[0])).toEqual([1, 4, 2, 5, 3, 6].map((x) => expect.closeTo(x, 9)));
    expect(Array.from(c.stateCurrents[0])).toEqual([4, 1, 5, 2, 6, 3].map((x) => expect.closeTo(x, 9)));
    expect(Array.from(c.states[0])).toEqual([1, 0, 1, 0, 1, 0]);
    expect(Array.from(c.logits)).toEqual([5, 3, 5, 3, 5, 3].map((x) => expect.closeTo(x, 9)));
  });

  it('gives no logits for a network without output probes', () => {
    const plot = plotOf({ time, 'v(a)': new Float64Array(14), 'i(z)': new Float64Array(14) });
    expect(sampleCircuit(plot, probesOf({ cellNodes: [['v(a)']] }), opts).logits).toHaveLength(0);
  });

  it('times every state change from the input edge before its crossing of VDD/2, including changes back', () => {
    // Cell a: OFF, rises through 0.9 V at 10.3 ms (ON at 19.8), falls through it at 20.4 ms: delays 0.3 and 0.4 ms.
    // Cell b: starts ON, ON at 9.8 ms, falls at 10.3 ms, rises at 20.4 ms: delays 0.3, 0.4 ms.
    // Cell c: starts exactly at VDD/2 (ON), falls at 0.3 ms (from 0.9 V at 0.3 to 0 at 0.5): delay 0.3 ms; then OFF.
    // Cell d: ON through the three frames, falls at 35 ms, after the last sample: no delay (it is not a frame's).
    const plot = plotOf({
      time,
      'v(a)': f64(0, 0, 0, 0, 0, 0.9, 1.8, 1.8, 1.8, 0.9, 0, 0, 0, 0),
      'v(b)': f64(1.8, 1.8, 1.8, 1.8, 1.8, 0.9, 0, 0, 0, 0.9, 1.8, 1.8, 1.8, 1.8),
      'v(c)': f64(0.9, 0.9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
      'v(d)': f64(1.8, 1.8, 1.8, 1.8, 1.8, 1.8, 1.8, 1.8, 1.8, 1.8, 1.8, 1.8, 0, 0),
      'i(z)': new Float64Array(14),
    });
    const c = sampleCircuit(plot, probesOf({ cellNodes: [['v(a)', 'v(b)', 'v(c)', 'v(d)']] }), opts);
    expect(Array.from(c.states[0])).toEqual([0, 1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 1]);
    const delays = c.switchDelaysS[0].map((d) => d.map((s) => s * 1000));
    expect(delays).toEqual([
      [expect.closeTo(0.3, 9), expect.closeTo(0.4, 9)],
      [expect.closeTo(0.3, 9), expect.closeTo(0.4, 9)],
      [expect.closeTo(0.3, 9)],
      [],
    ]);
  });

  it('times no switch in a frame whose V0 crosses VDD/2 and comes back before the sample point', () => {
    // V0 rises through 0.9 V at 10.3 ms and falls back through it at 10.5 ms: OFF at every sample, no state change.
    const t = ms(0, 10.2, 10.4, 10.6, 30);
    const plot = plotOf({ time: t, 'v(a)': f64(0, 0, 1.8, 0, 0), 'i(z)': new Float64Array(5) });
    const c = sampleCircuit(plot, probesOf({ cellNodes: [['v(a)']] }), opts);
    expect(Array.from(c.states[0])).toEqual([0, 0, 0]);
    expect(c.switchDelaysS).toEqual([[[]]]);
  });

  it('charges a crossing exactly at an input edge to that edge (delay 0), not to the frame before', () => {
    // V0 rises from 0 at 9.9 ms to 1.8 V at 10.1 ms: it crosses 0.9 V at 10 ms, the edge of frame 1.
    const t = ms(0, 9.9, 10.1, 30);
    const plot = plotOf({ time: t, 'v(a)': f64(0, 0, 1.8, 1.8), 'i(z)': new Float64Array(4) });
    const c = sampleCircuit(plot, probesOf({ cellNodes: [['v(a)']] }), opts);
    expect(Array.from(c.states[0])).toEqual([0, 1, 1]);
    expect(c.switchDelaysS[0][0]).toHaveLength(1);
    expect(c.switchDelaysS[0][0][0]).toBeCloseTo(0, 12);
  });
});

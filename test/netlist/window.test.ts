import { describe, expect, it } from 'vitest';
import {
  forgets,
  frameWindows,
  sliceShared,
  sliceWaveform,
  waveformAt,
  windowElements,
  type Waveform,
} from '../../src/netlist/window.js';
import { stitchTransientPlots } from '../../src/spice/merge.js';
import { vector, type RawPlot } from '../../src/spice/rawfile.js';
import type { Element } from '../../src/netlist/elements.js';
import { tranPlot } from '../helpers.js';
import { num } from '../../src/netlist/elements.js';

describe('waveformAt', () => {
  const w: Waveform = [
    [1, 10],
    [3, 30],
    [3, 0],
    [5, 4],
  ];
  it('reads linearly between points, holds the end values outside, takes the later point of a step', () => {
    expect(waveformAt(w, 0)).toBe(10);
    expect(waveformAt(w, 2)).toBe(20);
    expect(waveformAt(w, 3)).toBe(0);
    expect(waveformAt(w, 4)).toBe(2);
    expect(waveformAt(w, 9)).toBe(4);
  });
  it('takes the later point of a step at the first time too', () =>
    expect(
      waveformAt(
        [
          [1, 10],
          [1, 20],
          [2, 20],
        ],
        1,
      ),
    ).toBe(20));
  it('refuses an empty waveform', () => expect(() => waveformAt([], 1)).toThrow(/at least one point/));
});

describe('sliceWaveform', () => {
  it('starts at t = 0 with the value at the window start and ends with the value at its end', () => {
    // A 10 ms hold waveform with 1 us edges, cut from 15 ms to 30 ms: the edge at 20 ms shifted to 5 ms.
    const hold: Waveform = [
      [0, 1],
      [0.01, 1],
      [0.010001, 2],
      [0.02, 2],
      [0.020001, 3],
      [0.03, 3],
    ];
    const s = sliceWaveform(hold, 0.015, 0.03);
    expect(s.map(([t]) => t)).toEqual([0, 0.02 - 0.015, 0.020001 - 0.015, 0.03 - 0.015]);
    expect(s.map(([, y]) => y)).toEqual([2, 2, 3, 3]);
  });
  it('holds before the first point and after the last', () => {
    expect(sliceWaveform([[3, 5]], 0, 2)).toEqual([
      [0, 5],
      [2, 5],
    ]);
  });
  it('does not repeat a point that lies on the window start', () =>
    expect(
      sliceWaveform(
        [
          [0, 0],
          [1, 1],
          [2, 2],
        ],
        1,
        2,
      ),
    ).toEqual([
      [0, 1],
      [1, 2],
    ]));
  it('drops a point a rounding inside an end, which a deck would print as the end itself', () => {
    // A stitched plot's last point lands on tstop to rounding: shifted, it differs from the end only past 12 digits.
    const justUnder = 0.39999999999999997;
    expect(num(justUnder - 0.19)).toBe(num(0.4 - 0.19));
    const s = sliceWaveform(
      [
        [0.19 + 1e-13, 0],
        [0.3, 1],
        [justUnder, 2],
        [0.4, 2],
      ],
      0.19,
      0.4,
    );
    expect(s).toEqual([
      [0, 0],
      [0.3 - 0.19, 1],
      [0.4 - 0.19, 2],
    ]);
  });
  it('refuses an empty span', () =>
    expect(() => sliceWaveform([[0, 1]], 1, 1)).toThrow('expected a window end after its start, got [1, 1]'));
  it('keeps the points inside a window that starts deep in a long waveform, and a step at its start', () => {
    // 0, 1, 2, ... 99 at t = 0..99 s, with a step at t = 60 (two points there: 60 then -60). Cut [60, 63]: the value
    // at the start is the step's later point (-60), then 61 and 62 strictly inside, then 63 at the end.
    const ramp: [number, number][] = Array.from({ length: 100 }, (_, k) => [k, k]);
    ramp.splice(61, 0, [60, -60]);
    expect(sliceWaveform(ramp, 60, 63)).toEqual([
      [0, -60],
      [1, 61],
      [2, 62],
      [3, 63],
    ]);
    // A window past the last point holds the last value.
    expect(sliceWaveform(ramp, 120, 121)).toEqual([
      [0, 99],
      [1, 99],
    ]);
  });
});

describe('sliceShared', () => {
  const w: Waveform = [
    [0, 0],
    [1, 1],
    [2, 0],
    [3, 1],
  ];
  it('gives every reader of one waveform and window the same array, as sliceWaveform computes it', () => {
    const a = sliceShared(w, 0.5, 2.5);
    expect(a).toEqual([
      [0, 0.5],
      [0.5, 1],
      [1.5, 0],
      [2, 0.5],
    ]);
    expect(sliceShared(w, 0.5, 2.5)).toBe(a);
  });
  it('keeps windows and waveforms apart', () => {
    const a = sliceShared(w, 0.5, 2.5);
    expect(sliceShared(w, 0.5, 2)).not.toBe(a);
    expect(sliceShared(w, 0.5, 2)).toEqual([
      [0, 0.5],
      [0.5, 1],
      [1.5, 0],
    ]);
    const copy: Waveform = w.map(([t, y]) => [t, y]);
    expect(sliceShared(copy, 0.5, 2.5)).not.toBe(a);
  });
});

describe('windowElements', () => {
  const els: Element[] = [
    {
      type: 'isrc',
      name: 'x0',
      from: 'vin',
      to: 'a',
      pwl: [
        [0, 0],
        [2, 2],
      ],
    },
    { type: 'isrc', name: 'b0', from: 'vdd', to: 'b', dcA: 1e-9 },
    {
      type: 'vsrc',
      name: 'r',
      plus: 'r',
      minus: '0',
      dcV: 1,
      pwl: [
        [0, 1],
        [1, 1],
        [1.5, 0],
      ],
    },
    {
      type: 'recorded',
      name: 'h',
      plus: 'h',
      minus: '0',
      pwl: [
        [0, 0.5],
        [4, 0.7],
      ],
    },
    { type: 'cap', name: 'c', plus: 'a', minus: '0', capacitanceF: 1e-12 },
  ];
  it('slices every PWL to the window from t = 0, a PWL voltage source starting at its window-start value', () => {
    const w = windowElements(els, 1.25, 2);
    expect(w[0]).toMatchObject({
      pwl: [
        [0, 1.25],
        [0.75, 2],
      ],
    });
    expect(w[1]).toBe(els[1]);
    expect(w[2]).toMatchObject({
      dcV: 0.5,
      pwl: [
        [0, 0.5],
        [0.25, 0],
        [0.75, 0],
      ],
    });
    expect(w[3]).toMatchObject({
      pwl: [
        [0, 0.5625],
        [0.75, 0.6],
      ],
    });
    expect(w[4]).toBe(els[4]);
  });
  it('refuses an empty span, with or without a PWL among the elements', () => {
    expect(() => windowElements(els, 2, 2)).toThrow('expected a window end after its start, got [2, 2]');
    expect(() => windowElements([els[1], els[4]], 2, 2)).toThrow('expected a window end after its start, got [2, 2]');
  });
});

describe('frameWindows', () => {
  it('cuts frames evenly, each window starting its warm-up frames early and ending where the next keeps from', () => {
    const ws = frameWindows(10, 3, 0.01, 0.1, 1);
    expect(ws.map((w) => [w.firstFrame, w.endFrame])).toEqual([
      [0, 3],
      [3, 6],
      [6, 10],
    ]);
    expect(ws.map((w) => w.startS)).toEqual([0, 0.02, 0.05]);
    expect(ws.map((w) => w.keepFromS)).toEqual([0, 0.03, 0.06]);
    expect(ws.map((w) => w.stopS)).toEqual([0.03, 0.06, 0.1]);
  });
  it('gives no more windows than frames, and no warm-up before the clip', () => {
    const ws = frameWindows(2, 4, 0.01, 0.02, 3);
    expect(ws.map((w) => [w.firstFrame, w.endFrame, w.startS])).toEqual([
      [0, 1, 0],
      [1, 2, 0],
    ]);
  });
  it('accepts one window and no warm-up, and stops the last window at the clip end', () => {
    expect(frameWindows(3, 1, 0.01, 0.035, 0)).toEqual([
      { firstFrame: 0, endFrame: 3, startS: 0, stopS: 0.035, keepFromS: 0 },
    ]);
    expect(frameWindows(4, 2, 0.01, 0.045, 0).map((w) => [w.startS, w.stopS])).toEqual([
      [0, 0.02],
      [0.02, 0.045],
    ]);
  });
  it('refuses counts that are not whole', () => {
    expect(() => frameWindows(10, 0, 0.01, 0.1, 1)).toThrow(/windows/);
    expect(() => frameWindows(10, 2, 0.01, 0.1, -1)).toThrow(/warmUpFrames/);
    expect(() => frameWindows(1.5, 2, 0.01, 0.1, 1)).toThrow(/frames/);
  });
});

describe('forgets', () => {
  const mos: Element = {
    type: 'mos',
    name: 'm',
    drain: 'a',
    gate: 'a',
    source: 'vdd',
    bulk: 'vdd',
    polarity: 'p',
    widthUm: 1,
    lengthUm: 1,
  };
  const base = { initialConditions: [], own: [mos], copies: [] };
  it('is true for mirrors and sources only', () => expect(forgets(base)).toBe(true));
  it('is false for anything that holds a state or may', () => {
    expect(forgets({ ...base, initialConditions: [{ node: 'q', voltageV: 0 }] })).toBe(false);
    expect(forgets({ ...base, own: [mos, { type: 'inst', name: 'x', nodes: [], subckt: 'bmru_cell' }] })).toBe(false);
    expect(forgets({ ...base, own: [{ type: 'cap', name: 'c', plus: 'a', minus: '0', capacitanceF: 1e-12 }] })).toBe(
      false,
    );
    expect(
      forgets({
        ...base,
        own: [{ type: 'switch', name: 's', plus: 'a', minus: '0', ctrlPlus: 'r', ctrlMinus: '0', model: 'sw' }],
      }),
    ).toBe(false);
    expect(forgets({ ...base, copies: [{ type: 'vsrc', name: 'r', plus: 'r', minus: '0', dcV: 1 }] })).toBe(false);
  });
});

describe('stitchTransientPlots', () => {
  const plot = (time: number[], a: number[]): RawPlot => tranPlot(time, { 'v(a)': a });
  it('keeps the first window whole and each later one after its keep point, on clip time', () => {
    // Window 1 simulates clip time 1..4 from its t = 0 and keeps from clip time 2, where window 0 stopped.
    const m = stitchTransientPlots([
      { plot: plot([0, 1, 2], [0, 1, 2]), offsetS: 0, keepFromS: 0 },
      { plot: plot([0, 0.5, 1, 1.5, 3], [7, 7, 2, 2.5, 5]), offsetS: 1, keepFromS: 2 },
    ]);
    expect([...vector(m, 'time')]).toEqual([0, 1, 2, 2.5, 4]);
    expect([...vector(m, 'v(a)')]).toEqual([0, 1, 2, 2.5, 5]);
    expect(m.numPoints).toBe(5);
    expect(m.complex).toBe(false);
  });
  it('refuses no windows, a plot that is not a transient, and windows with more vectors than the first', () => {
    expect(() => stitchTransientPlots([])).toThrow(/at least one window/);
    const op: RawPlot = {
      ...plot([0], [1]),
      plotname: 'Operating Point',
      vectors: [
        { name: 'v(a)', type: 'voltage' },
        { name: 'v(b)', type: 'voltage' },
      ],
    };
    expect(() => stitchTransientPlots([{ plot: op, offsetS: 0, keepFromS: 0 }])).toThrow(/transient/);
    const empty: RawPlot = { ...plot([], []), vectors: [], real: [] };
    expect(() => stitchTransientPlots([{ plot: empty, offsetS: 0, keepFromS: 0 }])).toThrow(RangeError);
    const fewer = tranPlot([0, 1], {});
    expect(() =>
      stitchTransientPlots([
        { plot: plot([0, 1], [0, 1]), offsetS: 0, keepFromS: 0 },
        { plot: fewer, offsetS: 0, keepFromS: 1 },
      ]),
    ).toThrow(/same vectors/);
    const more = tranPlot([0, 1], { 'v(a)': [0, 1], 'v(b)': [0, 1] });
    expect(() =>
      stitchTransientPlots([
        { plot: plot([0, 1], [0, 1]), offsetS: 0, keepFromS: 0 },
        { plot: more, offsetS: 0, keepFromS: 1 },
      ]),
    ).toThrow(/same vectors/);
  });
  it('refuses windows whose vectors differ', () => {
    const other: RawPlot = {
      ...plot([0, 1], [0, 1]),
      vectors: [
        { name: 'time', type: 'time' },
        { name: 'v(b)', type: 'voltage' },
      ],
    };
    expect(() =>
      stitchTransientPlots([
        { plot: plot([0, 1], [0, 1]), offsetS: 0, keepFromS: 0 },
        { plot: other, offsetS: 0, keepFromS: 1 },
      ]),
    ).toThrow(/same vectors/);
  });
});

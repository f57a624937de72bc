import { describe, expect, it } from 'vitest';
import {
  carriedConditions,
  carriedNodes,
  chainedWindows,
  HANDOFF_POINTS_PER_DECK,
  longestPwl,
  partitionSetup,
  runWindowsInTurn,
  withoutVectors,
} from '../../src/pipeline.js';
import { frameWindows } from '../../src/netlist/window.js';
import type { Element } from '../../src/netlist/elements.js';
import type { RunResult } from '../../src/spice/runner.js';
import { tranPlot } from '../helpers.js';

// Pure parts of the time windows a partition with long hand-offs runs as in turn (issue 13): how many, which nodes
// carry on from one to the next and at what voltages. The ngspice run is in test/circuit/partition.test.ts.

describe('longestPwl', () => {
  it('gives the most points of any waveform, 0 for none', () => {
    expect(longestPwl([])).toBe(0);
    expect(
      longestPwl([
        [[0, 1]],
        [
          [0, 1],
          [1, 2],
          [2, 3],
        ],
        [
          [0, 0],
          [1, 1],
        ],
      ]),
    ).toBe(3);
  });
});

describe('chainedWindows', () => {
  const frameS = 0.01;
  it('cuts none while the longest hand-off fits one deck, or when turned off', () => {
    expect(chainedWindows(2000, 2000, frameS, 0.1)).toEqual([]);
    expect(chainedWindows(1e6, 0, frameS, 0.1)).toEqual([]);
  });
  it('cuts enough windows that each holds about the points asked, each starting where the one before stops', () => {
    // 5000 points at 2000 a deck: ceil(2.5) = 3 windows over 10 frames, cut at frames 3 and 6.
    const w = chainedWindows(5000, 2000, frameS, 0.1);
    expect(w.map((x) => [x.firstFrame, x.endFrame])).toEqual([
      [0, 3],
      [3, 6],
      [6, 10],
    ]);
    expect(w[1].startS).toBeCloseTo(0.03, 12);
    expect(w[1].startS).toBe(w[1].keepFromS);
    expect(w[0].stopS).toBe(w[1].startS);
    expect(w[2].stopS).toBe(0.1);
  });
  it('never cuts more windows than frames', () => {
    expect(chainedWindows(1e6, 10, frameS, 0.03)).toHaveLength(3);
    expect(chainedWindows(1e6, 10, frameS, 0.01)).toEqual([]);
  });
  it('keeps the default where the parse is still cheap (docs/partition.md: 8k points took 0.09 CPU-s a line)', () => {
    expect(HANDOFF_POINTS_PER_DECK).toBeGreaterThan(0);
    expect(HANDOFF_POINTS_PER_DECK).toBeLessThan(8000);
  });
});

describe('carriedConditions', () => {
  const before = tranPlot([0, 1, 2], { 'v(b0c0_v0)': [0, 0.9, 0.9], 'v(b0c1_v0)': [0.9, 0.5, 0.1] });
  it('starts each node at its voltage in the window before, read between time points', () =>
    expect(carriedConditions(['b0c0_v0', 'b0c1_v0'], before, 1.5)).toEqual([
      { node: 'b0c0_v0', voltageV: 0.9 },
      { node: 'b0c1_v0', voltageV: 0.3 },
    ]));
  it('refuses a node the window before did not save', () =>
    expect(() => carriedConditions(['b1c0_v0'], before, 1)).toThrow(/b1c0_v0/));
});

describe('carriedNodes', () => {
  const mos = (name: string, drain: string, gate: string, source: string): Element => ({
    type: 'mos',
    name,
    polarity: 'n',
    drain,
    gate,
    source,
    bulk: '0',
    widthUm: 1,
    lengthUm: 1,
  });
  it('carries every node a device touches but ground, supplies and what a source drives from them', () => {
    const elements: Element[] = [
      { type: 'comment', text: 'x' },
      // A hand-off onto a gate rail (driven), and a 0 V current probe between two free nodes (both carried).
      { type: 'recorded', name: 'ho_r', plus: 'rail', minus: '0', pwl: [[0, 0.5]] },
      { type: 'vsrc', name: 'm_c', plus: 'sum', minus: 'diode', dcV: 0 },
      mos('1', 'sum', 'rail', '0'),
      mos('2', 'diode', 'diode', 'vdd_ff'),
      { type: 'cap', name: 'f', plus: 'diode', minus: 'vdd_ff', capacitanceF: 1e-12 },
      { type: 'inst', name: 'c', nodes: ['vdd_cell', '0', 'diode', 'v0'], subckt: 'cell' },
    ] as Element[];
    expect(carriedNodes(elements)).toEqual(['diode', 'sum', 'v0']);
  });
  it('follows a chain of sources from a driven node', () => {
    const elements = [
      { type: 'vsrc', name: 'a', plus: 'x', minus: 'y', dcV: 0 },
      { type: 'vsrc', name: 'b', plus: 'y', minus: '0', dcV: 0.2 },
      mos('1', 'x', 'y', 'z'),
    ] as Element[];
    expect(carriedNodes(elements)).toEqual(['z']);
  });
});

describe('runWindowsInTurn', () => {
  // Three windows over 6 frames of 1 s, each starting where the one before stops.
  const windows = frameWindows(6, 3, 1, 6, 0);
  const ics = [{ node: 'v0', voltageV: 0 }];
  /** A run whose plot holds v(v0) and v(sum) at the given local times. */
  const runOf = (time: number[], v0: number[], sum: number[]): RunResult =>
    ({
      plots: [tranPlot(time, { 'v(v0)': v0, 'v(sum)': sum })],
      exitCode: 0,
      durationMs: 1,
      ngspiceVersion: '39',
      messages: [],
      stdoutTail: '',
      stderrTail: '',
    }) as RunResult;

  it('starts the first window from the partition own .ic, each later one from where the one before stopped', async () => {
    expect(windows.map((w) => w.startS)).toEqual([0, 2, 4]);
    const given: Parameters<Parameters<typeof runWindowsInTurn>[3]>[2][] = [];
    const pieces = await runWindowsInTurn(windows, ics, ['sum', 'v0'], async (_w, k, start) => {
      given.push(start);
      // Each window: v0 switches on halfway, sum ramps from 0.1 k to 0.1 k + 0.05 over the window's 2 s.
      return runOf([0, 1, 2], [0, 0.9, 0.9], [0.1 * k, 0.1 * k + 0.025, 0.1 * k + 0.05]);
    });
    expect(pieces).toHaveLength(3);
    expect(given[0]).toBe(ics);
    // Window 1 starts at its local t = 2 of window 0's plot, window 2 at window 1's.
    expect(given[1]).toEqual([
      { node: 'sum', voltageV: 0.05 },
      { node: 'v0', voltageV: 0.9 },
    ]);
    expect(given[2][0]).toEqual({ node: 'sum', voltageV: 0.1 + 0.05 });
  });

  it('reads the window before at its own time: the span between two window starts', async () => {
    // Windows of unequal length: [0, 1), [1, 3), [3, 6) frames; window 2 reads window 1's plot at 3 - 1 = 2.
    const uneven = [
      { firstFrame: 0, endFrame: 1, startS: 0, stopS: 1, keepFromS: 0 },
      { firstFrame: 1, endFrame: 3, startS: 1, stopS: 3, keepFromS: 1 },
      { firstFrame: 3, endFrame: 6, startS: 3, stopS: 6, keepFromS: 3 },
    ];
    const seen: number[] = [];
    await runWindowsInTurn(uneven, ics, ['sum'], async (_w, _k, start) => {
      seen.push(start[0].voltageV);
      return runOf([0, 1, 2, 3], [0, 0, 0, 0], [0.1, 0.2, 0.3, 0.4]);
    });
    expect(seen).toEqual([0, 0.2, 0.3]);
  });
});

describe('withoutVectors', () => {
  it('drops the vectors named, in any spelling, and keeps time and the rest in order', () => {
    const plot = tranPlot([0, 1], { 'v(a)': [1, 2], 'v(b)': [3, 4], 'v(c)': [5, 6] });
    const out = withoutVectors(plot, ['V(B)', 'x']);
    expect(out.vectors.map((v) => v.name)).toEqual(['time', 'v(a)', 'v(c)']);
    expect(Array.from(out.real[2])).toEqual([5, 6]);
    expect(out.numPoints).toBe(2);
    expect(withoutVectors(plot, ['time']).vectors).toHaveLength(4); // time stays
  });
  it("keeps each kept vector's own time grid (a merged plot's timeOf) beside it", () => {
    const gridA = Float64Array.of(0, 0.5, 1);
    const gridC = Float64Array.of(0, 1);
    const merged = { ...tranPlot([0, 1], { 'v(a)': [1, 2], 'v(b)': [3, 4], 'v(c)': [5, 6] }) };
    merged.timeOf = [undefined, gridA, Float64Array.of(0, 0.25, 1), gridC];
    // v(b), index 2, is dropped: time's entry (none), v(a)'s and v(c)'s grids stay, in that order.
    expect(withoutVectors(merged, ['v(b)']).timeOf).toEqual([undefined, gridA, gridC]);
  });
});

describe('partitionSetup hand-off points per deck', () => {
  it('refuses a count that is not a whole number >= 0, naming the field', () => {
    const bad = () =>
      partitionSetup(
        { elements: [], sections: [], saves: [], initialConditions: [], flatCells: false } as never,
        { frameS: 0.01 } as never,
        {} as never,
        0.1,
        {},
        undefined,
        { handoffPointsPerDeck: 1.5 },
      );
    expect(bad).toThrow(/hand-off points per deck.*integer >= 0, got 1.5/);
  });
});

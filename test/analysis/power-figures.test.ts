/**
 * The arithmetic behind the power figures (analysis/power.ts) on waveforms written by hand, so that it runs without
 * ngspice (power.test.ts, which needs it, is left out of the mutation run) and every expectation is worked out on
 * paper: trapezoids of piecewise-linear currents, and log-log fits of points from a known exponent.
 */
import { describe, expect, it } from 'vitest';
import {
  elementBudget,
  fitPowerLaw,
  frameAverages,
  powerFromPlot,
  type PowerReport,
} from '../../src/analysis/power.js';
import type { SupplyBranch } from '../../src/netlist/supplies.js';
import type { RawPlot } from '../../src/spice/rawfile.js';
import { close } from '../helpers.js';

/** A transient plot of `time` and the named current vectors. */
function plotOf(time: readonly number[], currents: Record<string, readonly number[]>): RawPlot {
  const names = Object.keys(currents);
  return {
    title: 'hand-written',
    date: '',
    plotname: 'Transient Analysis',
    complex: false,
    vectors: [{ name: 'time', type: 'time' }, ...names.map((name) => ({ name, type: 'current' }))],
    numPoints: time.length,
    real: [Float64Array.from(time), ...names.map((n) => Float64Array.from(currents[n]))],
  };
}

describe('fitPowerLaw', () => {
  it('recovers the exponent and coefficient of an exact power law', () => {
    const x = [2, 4, 8, 16];
    const f = fitPowerLaw(
      x,
      x.map((n) => 3e-9 * n ** 1.7),
    );
    expect(f.exponent).toBeCloseTo(1.7, 12);
    expect(close(f.coefficient, 3e-9, 1e-12)).toBe(true);
    expect(f.r2).toBeCloseTo(1, 12);
  });

  it('fits two points exactly: y = 2 x^1.5 through (1, 2) and (4, 16)', () => {
    const f = fitPowerLaw([1, 4], [2, 16]);
    expect(f.exponent).toBeCloseTo(1.5, 12);
    expect(f.coefficient).toBeCloseTo(2, 12);
    expect(f.r2).toBeCloseTo(1, 12);
  });

  it('gives R^2 = 3/4 for log points (0, 0), (1, 2), (2, 2)', () => {
    // ln x = 0, 1, 2 and ln y = 0, 2, 2: means 1 and 4/3; Sxy = 4/3 + 0 + 2/3 = 2, Sxx = 2, Syy = 16/9 + 4/9 + 4/9 = 8/3.
    // Slope Sxy / Sxx = 1; R^2 = Sxy^2 / (Sxx Syy) = 4 / (16/3) = 3/4; ln c = 4/3 - 1 x 1 = 1/3.
    const f = fitPowerLaw([1, Math.E, Math.E ** 2], [1, Math.E ** 2, Math.E ** 2]);
    expect(f.exponent).toBeCloseTo(1, 12);
    expect(f.r2).toBeCloseTo(0.75, 12);
    expect(f.coefficient).toBeCloseTo(Math.exp(1 / 3), 12);
  });

  it('a flat y is exponent 0 with R^2 = 1 (no variance to explain), not 0/0', () => {
    const f = fitPowerLaw([1, 2, 5], [3, 3, 3]);
    expect(f.exponent).toBeCloseTo(0, 12);
    expect(f.coefficient).toBeCloseTo(3, 12);
    expect(f.r2).toBe(1);
  });

  it('refuses fewer than 2 pairs and unequal lengths, with both lengths', () => {
    expect(() => fitPowerLaw([1], [1])).toThrow('a power-law fit needs >= 2 (x, y) pairs of equal length, got 1 and 1');
    expect(() => fitPowerLaw([1, 2, 3], [1, 2])).toThrow('got 3 and 2');
  });

  it('names the first value that is not positive: its index and whether it is in x or y', () => {
    expect(() => fitPowerLaw([1, 2], [1, 0])).toThrow('a power-law fit needs positive values; value #1 of y is 0');
    expect(() => fitPowerLaw([0, 2], [1, 2])).toThrow('value #0 of x is 0');
    expect(() => fitPowerLaw([1, 2], [-1, 2])).toThrow('value #0 of y is -1');
    expect(() => fitPowerLaw([1, NaN], [1, 2])).toThrow('value #1 of x is NaN');
  });
});

describe('frameAverages', () => {
  it('averages a waveform that ramps across a frame edge (trapezoids, the ramp booked to its frame)', () => {
    const time = Float64Array.from({ length: 201 }, (_, i) => i * 0.0001); // 20 ms, 0.1 ms steps
    const y = Float64Array.from(time, (_, i) => (i < 100 ? 1 : 3)); // ramps 1 -> 3 during the step ending at 10 ms
    const f = frameAverages(time, y, 0.01);
    expect(f).toHaveLength(2);
    expect(f[0]).toBeCloseTo((99 * 1 + 2) / 100, 9);
    expect(f[1]).toBeCloseTo(3, 6);
  });

  // 24 ms in 2 ms steps is 2.4 frames of 10 ms: 2 frames, the last 4 ms booked to the second.
  // Samples are 1 up to 20 ms and 3 after, so frame 1 holds five steps of 1, one of (1 + 3) / 2 and one of 3:
  // (5 x 1 + 2 + 3) / 7 = 10/7.
  const tail = (t0S: number) => ({
    time: Float64Array.from({ length: 13 }, (_, i) => t0S + i * 0.002),
    y: Float64Array.from({ length: 13 }, (_, i) => (i <= 10 ? 1 : 3)),
  });

  it('books the steps past the last whole frame to the last frame', () => {
    const { time, y } = tail(0);
    const f = frameAverages(time, y, 0.01);
    expect(f).toHaveLength(2);
    expect(f[0]).toBeCloseTo(1, 12);
    expect(f[1]).toBeCloseTo(10 / 7, 12);
  });

  it('counts frames from the first sample, not from t = 0', () => {
    const { time, y } = tail(0.5);
    const f = frameAverages(time, y, 0.01);
    expect(f).toHaveLength(2);
    expect(f[0]).toBeCloseTo(1, 9);
    expect(f[1]).toBeCloseTo(10 / 7, 9);
  });

  it('gives 0, not 0/0, for a frame no step falls in', () => {
    // 30 ms is 3 frames; the step 0 -> 1 ms (midpoint 0.5 ms) is frame 0's, the step 1 -> 30 ms (midpoint 15.5 ms)
    // frame 1's, and frame 2 gets nothing.
    const f = frameAverages(Float64Array.of(0, 0.001, 0.03), Float64Array.of(1, 3, 5), 0.01);
    expect(f).toHaveLength(3);
    expect(f[0]).toBeCloseTo(2, 12);
    expect(f[1]).toBeCloseTo(4, 12);
    expect(f[2]).toBe(0);
  });
});

describe('powerFromPlot on hand-written supply currents', () => {
  // 10 ms to 30 ms in 1 ms steps: two 10 ms frames, starting at 10 ms. Supplies deliver negative branch currents.
  const time = Array.from({ length: 21 }, (_, i) => 0.01 + i * 0.001);
  const plot = plotOf(time, {
    'i(vvdd_cell)': time.map(() => -1e-9), // 1 nA throughout: 1.8 nW
    'i(vvdd_ff)': time.map((t) => -(2e-9 + 1e-7 * (t - 0.01))), // 2 -> 4 nA, linear: mean 3 nA; frames 2.5 and 3.5 nA
    // 1 nA with a 10 nA spike at 15 ms: a triangle of 9 nA x 2 ms / 2 = 9 pC on top, all in frame 0.
    'i(vvdd_bias)': time.map((_, i) => (i === 5 ? -10e-9 : -1e-9)),
    'i(vvdd_in)': time.map(() => -0.5e-9), // 0.5 nA: 0.9 nW, not core
  });
  const supplies = { cell: 'i(vvdd_cell)', ff: 'i(vvdd_ff)', bias: 'i(vvdd_bias)', in: 'i(vvdd_in)' } as const;

  it('gives each domain its mean, peak and peak-frame power, and the core and total sums over the run', () => {
    const p = powerFromPlot(plot, supplies, 1.8, 0.01);
    const d = Object.fromEntries(p.domains.map((x) => [x.domain, x]));
    const nW = 1e-9;
    expect(p.vddV).toBe(1.8);
    expect(p.durationS).toBeCloseTo(0.02, 15);
    expect(d.cell.meanW / nW).toBeCloseTo(1.8, 9);
    expect(d.ff.meanW / nW).toBeCloseTo(3 * 1.8, 9);
    expect(d.ff.peakFrameW / nW).toBeCloseTo(3.5 * 1.8, 9); // the later frame
    expect(d.ff.peakW / nW).toBeCloseTo(4 * 1.8, 9);
    // bias: 1 nA + 9 pC / 20 ms = 1.45 nA over the run; frame 0 holds the spike: 1 nA + 9 pC / 10 ms = 1.9 nA.
    expect(d.bias.meanW / nW).toBeCloseTo(1.45 * 1.8, 9);
    expect(d.bias.peakW / nW).toBeCloseTo(10 * 1.8, 9); // the spike, mid-run
    expect(d.bias.peakFrameW / nW).toBeCloseTo(1.9 * 1.8, 9); // the earlier frame
    expect(d.in.meanW / nW).toBeCloseTo(0.9, 9);
    const coreNW = 1.8 + 5.4 + 2.61;
    expect(p.coreW / nW).toBeCloseTo(coreNW, 9);
    expect(p.totalW / nW).toBeCloseTo(coreNW + 0.9, 9);
    expect(p.coreEnergyJ / nW).toBeCloseTo(coreNW * 0.02, 9);
    expect(p.totalEnergyJ / nW).toBeCloseTo((coreNW + 0.9) * 0.02, 9);
  });
});

describe('elementBudget on hand-written branch currents', () => {
  const branch = (
    element: string,
    domain: SupplyBranch['domain'],
    kind: SupplyBranch['kind'],
    stage: SupplyBranch['stage'],
  ) => ({ element, domain, kind, stage, probe: `i(vs_${element})` }) as const;
  // In probe order the kinds come smallest first, so the sort has work to do.
  const branches: SupplyBranch[] = [
    branch('n1', 'ff', 'node diode', 'pre'), // 1 nA
    branch('w1', 'ff', 'weight copy', 'pre'), // 2 nA
    branch('w2', 'ff', 'weight copy', 'post'), // 1 -> 3 nA, linear: mean 2 nA
    branch('c1', 'cell', 'cell', 'cell'), // 5 nA
    branch('r1', 'cell', 'reset switch', 'cell'), // -0.5 nA: returns charge to the supply
  ];
  const time = [0, 0.005, 0.01];
  const plot = plotOf(time, {
    'i(vs_n1)': [1e-9, 1e-9, 1e-9],
    'i(vs_w1)': [2e-9, 2e-9, 2e-9],
    'i(vs_w2)': [1e-9, 2e-9, 3e-9],
    'i(vs_c1)': [5e-9, 5e-9, 5e-9],
    'i(vs_r1)': [-0.5e-9, -0.5e-9, -0.5e-9],
  });
  const domain = (d: SupplyBranch['domain'], meanW: number) => ({ domain: d, meanW, peakW: meanW, peakFrameW: meanW });
  const report: PowerReport = {
    vddV: 2,
    durationS: 0.01,
    domains: [domain('ff', 10.5e-9), domain('cell', 9e-9)],
    coreW: 19.5e-9,
    totalW: 19.5e-9,
    coreEnergyJ: 0,
    totalEnergyJ: 0,
  };

  it('books each branch at VDD x its mean current, and sums kinds and stages largest first with their branch counts', () => {
    const b = elementBudget(plot, branches, report);
    expect(b.elements.map((e) => [e.element, e.meanA / 1e-9, e.meanW / 1e-9])).toEqual([
      ['n1', expect.closeTo(1, 9), expect.closeTo(2, 9)],
      ['w1', expect.closeTo(2, 9), expect.closeTo(4, 9)],
      ['w2', expect.closeTo(2, 9), expect.closeTo(4, 9)],
      ['c1', expect.closeTo(5, 9), expect.closeTo(10, 9)],
      ['r1', expect.closeTo(-0.5, 9), expect.closeTo(-1, 9)],
    ]);
    const shares = (s: typeof b.kinds) => s.map((x) => [x.key, x.domain, x.branches, x.meanW / 1e-9]);
    expect(shares(b.kinds)).toEqual([
      ['cell', 'cell', 1, expect.closeTo(10, 9)],
      ['weight copy', 'ff', 2, expect.closeTo(8, 9)],
      ['node diode', 'ff', 1, expect.closeTo(2, 9)],
      ['reset switch', 'cell', 1, expect.closeTo(-1, 9)],
    ]);
    // Stage 'cell' holds the cell and its reset switch: 10 - 1 = 9 nW; 'pre' the node diode and w1: 2 + 4 = 6 nW.
    expect(shares(b.stages)).toEqual([
      ['cell', 'cell', 2, expect.closeTo(9, 9)],
      ['pre', 'ff', 2, expect.closeTo(6, 9)],
      ['post', 'ff', 1, expect.closeTo(4, 9)],
    ]);
    // ff: 2 + 4 + 4 = 10 nW of branches against the supply's 10.5 (a 0.5 nW gap: an unprobed branch); cell: 9 and 9.
    expect(b.closure.map((c) => [c.domain, c.branchesW / 1e-9, c.supplyW / 1e-9])).toEqual([
      ['ff', expect.closeTo(10, 9), expect.closeTo(10.5, 9)],
      ['cell', expect.closeTo(9, 9), expect.closeTo(9, 9)],
    ]);
  });
});

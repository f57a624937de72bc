/**
 * The cell calibration grid between its I_thresh rows: rows are decades apart (0.05-2.8 nA), and the grid is
 * read linearly in log I_thresh. A grid whose rows differ by a known amount gives the expected values by hand.
 */
import { describe, expect, it } from 'vitest';
import { cellForward, cellInverse, type CellGrid } from '../../src/netlist/calibration.js';

/**
 * Rows at 0.1 nA and 10 nA (two decades). Normalised beta_hi: 1.0 on the lower row, 0.8 on the upper, at every
 * width fraction; normalised delta: linear in the fraction, 0.5 x fraction on the lower row, 0.3 x on the upper.
 */
const GRID: CellGrid = {
  thresh: [1e-10, 1e-8],
  fractions: [0, 1],
  betaHi: [
    [1, 1],
    [0.8, 0.8],
  ],
  delta: [
    [0, 0.5],
    [0, 0.3],
  ],
};

describe('cellForward between grid rows', () => {
  it('weights the rows by log I_thresh: at 1 nA (one decade of two) half each, beta_hi = 0.9 x 1 nA', () => {
    // Linear in I_thresh the upper row's weight would be (1 - 0.1) / (10 - 0.1) = 0.09, giving 0.982 nA.
    const r = cellForward(GRID, 1e-9, 0.5e-9);
    expect(r.betaHiA).toBeCloseTo(0.9e-9, 20);
    // delta at fraction 0.5: 0.25 on the lower row, 0.15 on the upper, half each: 0.2 x 1 nA.
    expect(r.deltaA).toBeCloseTo(0.2e-9, 20);
  });

  it('at a quarter of the log span (10^-9.5 A) weights the upper row 1/4: beta_hi = 0.95 x I_thresh', () => {
    const t = 10 ** -9.5;
    expect(cellForward(GRID, t, 0).betaHiA / t).toBeCloseTo(0.95, 12);
    expect(cellForward(GRID, t, 0).deltaA).toBe(0);
  });

  it('uses the rows themselves at the rows, and the nearest row beyond them', () => {
    expect(cellForward(GRID, 1e-10, 1e-10).betaHiA).toBeCloseTo(1e-10, 22);
    expect(cellForward(GRID, 1e-8, 1e-8).deltaA).toBeCloseTo(0.3e-8, 20);
    expect(cellForward(GRID, 1e-7, 0).betaHiA).toBeCloseTo(0.8e-7, 19);
    expect(cellForward(GRID, 1e-11, 0).betaHiA).toBeCloseTo(1e-11, 23);
  });
});

describe('cellInverse between grid rows', () => {
  it('finds the biases that realise beta_hi 0.9 nA and delta 0.2 nA: I_thresh 1 nA and I_width 0.5 nA', () => {
    const r = cellInverse(GRID, 0.9e-9, 0.2e-9);
    expect(r.threshA / 1e-9).toBeCloseTo(1, 6);
    expect(r.widthA / 0.5e-9).toBeCloseTo(1, 6);
  });

  it('finds I_thresh 10^-9.5 A for beta_hi 0.95 x 10^-9.5 A', () => {
    const t = 10 ** -9.5;
    expect(cellInverse(GRID, 0.95 * t, 0).threshA / t).toBeCloseTo(1, 6);
  });
});

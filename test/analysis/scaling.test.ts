import { describe, expect, it } from 'vitest';
import { fitScaling, weightCount, type ScalingPoint } from '../../src/analysis/scaling.js';
import type { PowerReport } from '../../src/analysis/power.js';
import type { Network } from '../../src/model/types.js';

// Only the weight matrices' shapes matter to weightCount; every layer has a different one, so a layer left out,
// counted twice or combined with another operation changes the sum.
const linear = (rows: number, cols: number) => ({ weight: { rows, cols } });

describe('weightCount', () => {
  it('sums rows x cols over the pre-projection, each block (candidate and post) and the output layer', () => {
    const net = {
      pre: linear(3, 5),
      blocks: [
        { cand: linear(2, 7), post: linear(4, 6) },
        { cand: linear(1, 9), post: linear(8, 3) },
      ],
      out: linear(2, 11),
    } as unknown as Network;
    // 15 + (14 + 24) + (9 + 24) + 22
    expect(weightCount(net)).toBe(108);
    expect(weightCount({ ...net, blocks: [] } as Network)).toBe(15 + 22);
  });
});

describe('fitScaling', () => {
  // Exact power laws: cell power 3e-9 N, ff power 5e-10 N^2, core 2e-11 N^3; weights = N^2 / 2, so against weights
  // the exponents are half those against N. A later point lists its domains in another order.
  const point = (width: number, reversed = false): ScalingPoint => {
    const domains = [
      { domain: 'cell' as const, meanW: 3e-9 * width, peakW: 1, peakFrameW: 1 },
      { domain: 'ff' as const, meanW: 5e-10 * width ** 2, peakW: 1, peakFrameW: 1 },
    ];
    return {
      width,
      transistors: 0,
      weights: width ** 2 / 2,
      power: { domains: reversed ? domains.reverse() : domains, coreW: 2e-11 * width ** 3 } as unknown as PowerReport,
      stateAgreement: 1,
      ngspiceS: 0,
      simulation: 'monolithic',
    };
  };

  it('fits each domain of the first point, then the core, against width and against weight count', () => {
    const fits = fitScaling([point(2), point(4, true), point(8), point(16, true)]);
    expect(fits.map((f) => f.domain)).toEqual(['cell', 'ff', 'core']);
    const expected: [number, number][] = [
      [1, 0.5],
      [2, 1],
      [3, 1.5],
    ];
    fits.forEach((f, i) => {
      expect(f.exponentN).toBeCloseTo(expected[i][0], 12);
      expect(f.exponentWeights).toBeCloseTo(expected[i][1], 12);
      expect(f.r2N).toBeCloseTo(1, 12);
      expect(f.r2Weights).toBeCloseTo(1, 12);
    });
  });

  it('gives each fit its own r^2: against width and against weight count differ when the weights do not follow a power of N', () => {
    // Weights 1, 2, 4, 3 (not monotone in N = 1, 2, 4, 8); cell power = N exactly: r^2 = 1 against N only.
    const pts = [1, 2, 4, 8].map((width, i) => ({
      ...point(width),
      weights: [1, 2, 4, 3][i],
      power: {
        domains: [{ domain: 'cell', meanW: width, peakW: 1, peakFrameW: 1 }],
        coreW: width,
      } as unknown as PowerReport,
    }));
    const [cell, core] = fitScaling(pts);
    expect(cell.exponentN).toBeCloseTo(1, 12);
    expect(cell.r2N).toBeCloseTo(1, 12);
    // ln P = ln N = 0, ln 2, 2 ln 2, 3 ln 2 against ln w = 0, ln 2, 2 ln 2, ln 3: least squares worked out apart
    // (Python, the textbook formulas): slope 1.2751, r^2 0.73381.
    expect(cell.exponentWeights).toBeCloseTo(1.275103, 5);
    expect(cell.r2Weights).toBeCloseTo(0.733808, 5);
    expect(core).toEqual({ ...cell, domain: 'core' });
  });
});

import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SCALING_FRAMES,
  fitScaling,
  powerScaling,
  ScalingLineSchema,
  scalingPointKey,
  weightCount,
  type ScalingOptions,
  type ScalingPoint,
} from '../../src/analysis/scaling.js';
import path from 'node:path';
import { loadProcess, type Process } from '../../src/netlist/process.js';
import { REPO_ROOT } from '../helpers.js';
import { keptItems, keptLine } from '../../src/jobs/kept.js';
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

describe('scalingPointKey', () => {
  const c180 = loadProcess(path.join(REPO_ROOT, 'models', 'c180', 'process.json'));
  const opts = async (extra: Partial<ScalingOptions> = {}) =>
    ({ process: await c180, frames: 10, ...extra }) as ScalingOptions;
  const key = async (extra: Partial<ScalingOptions> = {}, width = 8) => scalingPointKey(width, await opts(extra));

  it('changes with the width, clip length, seed, a process value, the partitioning and where it runs', async () => {
    const base = await key();
    const others = await Promise.all([
      key({}, 16),
      key({ frames: 11 }),
      key({ seed: 2 }),
      key({ process: { ...(await c180), vddV: 1.0 } }),
      key({ partitioned: true }),
      key({ partitioned: true, partitionBy: 'cell' }),
      key({ run: { threads: 2 } }),
      key({ partitionExecutorFor: () => ({}) as never }),
    ]);
    expect(new Set([base, ...others]).size).toBe(1 + others.length);
  });

  it('ignores how long to wait, how many at once, the budget and the callbacks; defaults equal their values', async () => {
    expect(
      await key({
        concurrency: 2,
        maxTransistors: 99,
        widths: [2, 4],
        run: { timeoutMs: 5, name: 'x', onProgress: () => {} },
        onDone: () => {},
        kept: new Map(),
      }),
    ).toBe(await key());
    expect(await key({ seed: 1 })).toBe(await key());
    expect(await key({ frames: undefined })).toBe(await key({ frames: DEFAULT_SCALING_FRAMES }));
  });
});

describe('scaling-points.jsonl lines', () => {
  const power: PowerReport = {
    vddV: 0.9,
    durationS: 0.1,
    domains: [{ domain: 'cell', meanW: 1e-9, peakW: 2e-9, peakFrameW: 1.5e-9 }],
    coreW: 1e-9,
    totalW: 1e-9,
    coreEnergyJ: 1e-10,
    totalEnergyJ: 1e-10,
  };
  const pt = (width: number): ScalingPoint => ({
    width,
    transistors: 10 * width,
    weights: width ** 2,
    power,
    stateAgreement: 1,
    ngspiceS: width / 10,
    simulation: 'monolithic',
  });

  it('read back every field of a point, and refuse a line that lacks one', () => {
    const { kept, skipped } = keptItems(
      keptLine('k4', pt(4)) + keptLine('k8', { ...pt(8), power: { ...power, coreW: undefined } }),
      ScalingLineSchema,
      new Set(['k4', 'k8']),
    );
    expect([...kept.values()]).toEqual([pt(4)]);
    expect(skipped).toBe(1);
  });

  it('powerScaling returns kept widths as they are, in the order asked, without simulating them', async () => {
    // Every width kept: nothing reaches cosimulate, whose process here could not build a deck.
    const kept = new Map([
      [4, pt(4)],
      [2, pt(2)],
    ]);
    const points = await powerScaling({ process: {} as Process, widths: [2, 4], kept });
    expect(points).toEqual([pt(2), pt(4)]);
  });
});

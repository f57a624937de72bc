import { describe, expect, it } from 'vitest';
import { decimate, windowExtremes } from '../../src/plot/decimate.js';

/** Linear interpolation of the kept samples at time t. */
function drawnAt(tS: number[], y: number[], kept: number[], t: number): number {
  let k = 1;
  while (k < kept.length - 1 && tS[kept[k]] < t) k++;
  const [a, b] = [kept[k - 1], kept[k]];
  const f = tS[b] > tS[a] ? (t - tS[a]) / (tS[b] - tS[a]) : 0;
  return y[a] + f * (y[b] - y[a]);
}

describe('decimate', () => {
  // A noisy slow ramp with a one-sample glitch: the shape a cell's node has around a frame edge.
  const n = 5000;
  const tS = Array.from({ length: n }, (_, i) => i * 1e-6);
  const y = tS.map((t, i) => 0.9 + 0.3 * Math.sin(t * 2e3) + 1e-4 * Math.sin(i * 1.7) + (i === 3210 ? 0.5 : 0));

  it('keeps the first, the last, every window extreme and the glitch, and draws within the tolerance of every sample', () => {
    const kept = decimate(tS, y, { windowS: 1e-3, toleranceY: 1e-3 });
    expect(kept.length).toBeLessThan(n / 10);
    expect(kept[0]).toBe(0);
    expect(kept.at(-1)).toBe(n - 1);
    expect(kept).toContain(3210);
    for (const i of windowExtremes(tS, y, 1e-3)) expect(kept).toContain(i);
    const worst = Math.max(...tS.map((t, i) => Math.abs(y[i] - drawnAt(tS, y, kept, t))));
    expect(worst).toBeLessThanOrEqual(1e-3);
    expect([...kept].sort((a, b) => a - b)).toEqual(kept);
  });

  it('keeps every sample at zero tolerance where none is on a line, and two of a straight line', () => {
    const wiggly = tS.map((_, i) => (i % 2 === 0 ? 0 : 1));
    expect(decimate(tS, wiggly, { windowS: 1, toleranceY: 0 })).toHaveLength(n);
    const line = tS.map((t) => 3 * t);
    expect(decimate(tS, line, { windowS: 1, toleranceY: 1e-12 }).length).toBeLessThanOrEqual(4);
  });

  it('gives each window its lowest and highest sample', () => {
    expect(windowExtremes([0, 1, 2, 3, 4, 5], [5, 1, 9, 2, 2, 7], 3)).toEqual([1, 2, 3, 5]);
  });

  it('refuses mismatched arrays and a window of zero', () => {
    expect(() => decimate([0, 1], [0], { windowS: 1, toleranceY: 0 })).toThrow(RangeError);
    expect(() => decimate([0, 1], [0, 1], { windowS: 0, toleranceY: 0 })).toThrow(RangeError);
  });
});

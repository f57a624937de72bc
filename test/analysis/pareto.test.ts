import { describe, expect, it } from 'vitest';
import { paretoFront, type Tradeoff } from '../../src/analysis/pareto.js';

const pts = (...xs: [number, number][]): Tradeoff[] => xs.map(([cost, value]) => ({ cost, value }));

describe('paretoFront', () => {
  it('keeps the points no other beats on cost without losing value, cheapest first (worked by hand)', () => {
    // 0 (10, 0.95) and 3 (40, 0.99) and 4 (5, 0.90) are non-dominated; 1 (20, 0.95) costs more than 0 for the
    // same value, 2 (30, 0.94) is beaten by 0 on both, 5 (50, 0.99) costs more than 3 for the same value.
    const p = pts([10, 0.95], [20, 0.95], [30, 0.94], [40, 0.99], [5, 0.9], [50, 0.99]);
    expect(paretoFront(p)).toEqual([4, 0, 3]);
  });

  it('a single point is its own front; no points, no front', () => {
    expect(paretoFront(pts([3, 0.5]))).toEqual([0]);
    expect(paretoFront([])).toEqual([]);
  });

  it('equal points are both on the front (neither dominates the other), in input order', () => {
    expect(paretoFront(pts([2, 0.9], [1, 0.8], [2, 0.9]))).toEqual([1, 0, 2]);
  });

  it('at one cost only the most valuable stays; at one value only the cheapest', () => {
    expect(paretoFront(pts([1, 0.8], [1, 0.9], [1, 0.85]))).toEqual([1]);
    expect(paretoFront(pts([3, 0.9], [1, 0.9], [2, 0.9]))).toEqual([1]);
  });

  it('a point that is best on both leaves only itself (and its equals)', () => {
    expect(paretoFront(pts([5, 0.5], [1, 1], [3, 0.7], [1, 1]))).toEqual([1, 3]);
  });

  it('a strictly increasing trade-off keeps every point', () => {
    expect(paretoFront(pts([4, 0.99], [1, 0.9], [2, 0.95], [3, 0.97]))).toEqual([1, 2, 3, 0]);
  });

  it('refuses a NaN or infinite figure, naming the point', () => {
    expect(() => paretoFront(pts([1, 0.9], [Number.NaN, 0.8]))).toThrow(/point 1: cost NaN/);
    expect(() => paretoFront(pts([1, Number.POSITIVE_INFINITY]))).toThrow(RangeError);
  });
});

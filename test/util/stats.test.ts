import { describe, expect, it } from 'vitest';
import { median } from '../../src/util/stats.js';

describe('median', () => {
  it('takes the middle value of an odd count and the mean of the two middle values of an even count, whatever the order', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([-1e-9, 5e-10])).toBeCloseTo(-2.5e-10, 20);
    expect(median([7])).toBe(7);
  });
  it('sorts numerically, not as text', () => {
    expect(median([10, 9, 100])).toBe(10);
  });
  it('refuses an empty list', () => {
    expect(() => median([])).toThrow(RangeError);
  });
});

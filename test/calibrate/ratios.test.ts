import { describe, expect, it } from 'vitest';
import { DEFAULT_PLAN, mirrorRatiosFor } from '../../src/calibrate/calibrate.js';
import { snappedWidthUm } from '../../src/calibrate/decks.js';
import { loadKit } from '../circuit/kits.js';

describe('mirrorRatiosFor', () => {
  it.each(['c180', 'gf180mcu'] as const)(
    'starts at the narrowest device of %s and keeps every plan ratio, one per device width',
    async (name) => {
      const { process } = await loadKit(name);
      const ratios = mirrorRatiosFor(process, DEFAULT_PLAN);
      expect(snappedWidthUm(process, ratios[0])).toBe(process.minWidthUm);
      expect(ratios.slice(-DEFAULT_PLAN.mirrorRatios.length)).toEqual(DEFAULT_PLAN.mirrorRatios);
      const widths = ratios.map((r) => snappedWidthUm(process, r));
      expect(widths).toEqual([...widths].sort((a, b) => a - b));
      expect(new Set(widths).size).toBe(widths.length);
    },
  );

  it('adds no ladder when the narrowest device is wider than the plan asks, and keeps one ratio per width', async () => {
    const { process } = await loadKit('c180');
    const wide = { ...process, sizing: { ...process.sizing, unitWidthUm: 0.5 } }; // 0.22 um is ratio 0.44
    // 0.2, 0.25 and 0.35 all snap to the 0.22 um device: only the first stays
    expect(mirrorRatiosFor(wide, DEFAULT_PLAN)).toEqual([0.2, ...DEFAULT_PLAN.mirrorRatios.filter((r) => r >= 0.5)]);
  });
});

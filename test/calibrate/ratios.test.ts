import { describe, expect, it } from 'vitest';
import { DEFAULT_PLAN, mirrorRatiosFor } from '../../src/calibrate/calibrate.js';
import { minMirrorRatio, mirrorGeometry } from '../../src/netlist/geometry.js';
import { loadKit } from '../circuit/kits.js';

describe('mirrorRatiosFor', () => {
  it.each(['c180', 'gf180mcu'] as const)(
    'starts at the smallest copy of %s and keeps every plan ratio, one per device size',
    async (name) => {
      const { process } = await loadKit(name);
      const ratios = mirrorRatiosFor(process, DEFAULT_PLAN);
      expect(ratios[0]).toBe(minMirrorRatio(process));
      expect(mirrorGeometry(process, ratios[0]).widthUm).toBe(process.minWidthUm);
      expect(ratios.slice(-DEFAULT_PLAN.mirrorRatios.length)).toEqual(DEFAULT_PLAN.mirrorRatios);
      const realised = ratios.map((r) => mirrorGeometry(process, r).ratio);
      expect(realised).toEqual([...realised].sort((a, b) => a - b));
      expect(new Set(realised).size).toBe(realised.length);
    },
  );

  it('adds no ladder when the smallest copy is larger than the plan asks, and keeps one ratio per device', async () => {
    const { process } = await loadKit('c180');
    // A unit of 0.05u x 8u with no room to stretch: the 0.22u x 8u device is ratio 4.4 and realises every plan ratio
    // up to 4.4 (only 0.2 stays); 4.5 asks for 0.225u, drawn 0.23u (ratio 4.6)
    const wide = { ...process, maxLengthUm: 8, sizing: { ...process.sizing, unitWidthUm: 0.05 } };
    expect(mirrorRatiosFor(wide, DEFAULT_PLAN)).toEqual([0.2, 4.5]);
  });
});

import { describe, expect, it } from 'vitest';
import { dropsGain, drawnRatio, minMirrorRatio, mirrorGeometry, mirrorRatio } from '../../src/netlist/geometry.js';
import { loadKit } from '../circuit/kits.js';

// Expected sizes worked by hand from the process files: c180 unit 2u x 8u, narrowest 0.22u, grid 0.01u, no length
// limit of its own (8 x 8u = 64u); GF180MCU unit 6u x 8u, narrowest 0.22u, grid 0.005u, model bins end at 50u.
describe('mirrorGeometry', async () => {
  const { process: c180 } = await loadKit('c180');
  const { process: gf } = await loadKit('gf180mcu');

  it.each([
    // ratio, width, length: W = ceil(r x 2u) on the grid, L = 8u x W / (r x 2u) on the grid
    [1, 2, 8],
    [0.25, 0.5, 8],
    [1 / 3, 0.67, 8.04], // 0.6667u -> 0.67u; 8 x 0.67 / 0.6667 = 8.04
    [0.1014, 0.22, 8.68], // 0.2028u is below 0.22u: 8 x 0.22 / 0.2028 = 8.678
    [0.0767, 0.22, 11.47], // 8 x 0.22 / 0.1534 = 11.473
    [0.02, 0.22, 44],
    [0.005, 0.22, 64], // below the smallest copy: the longest one
  ])('c180 ratio %d -> %du x %du', (ratio, w, l) => {
    const g = mirrorGeometry(c180, ratio);
    expect([g.widthUm, g.lengthUm]).toEqual([w, l]);
    expect(g.ratio).toBeCloseTo(w / l / 0.25, 12);
    if (ratio > 0.01) expect(Math.abs(g.ratio / ratio - 1)).toBeLessThan(0.005 / 8); // half a length step
  });

  it('never draws a copy shorter than the unit or longer than the process allows', () => {
    for (let r = 0.001; r < 5; r *= 1.07) {
      for (const p of [c180, gf]) {
        const g = mirrorGeometry(p, r);
        expect(g.lengthUm).toBeGreaterThanOrEqual(8);
        expect(g.lengthUm).toBeLessThanOrEqual(p === gf ? 50 : 64);
        expect(g.widthUm).toBeGreaterThanOrEqual(0.22);
      }
    }
  });

  it('takes the length limit from the kit', () => {
    expect(minMirrorRatio(c180)).toBeCloseTo(0.22 / 64 / 0.25, 12);
    expect(minMirrorRatio(gf)).toBeCloseTo(0.22 / 50 / 0.75, 12);
    expect(mirrorGeometry(gf, 0.001)).toEqual({ widthUm: 0.22, lengthUm: 50, ratio: mirrorRatio(gf, 0.22, 50) });
    expect(mirrorGeometry(gf, 0.5)).toMatchObject({ widthUm: 3, lengthUm: 8 });
  });

  it('refuses a ratio that is not positive', () => {
    expect(() => mirrorGeometry(c180, 0)).toThrow(/positive/);
    expect(() => mirrorGeometry(c180, Number.NaN)).toThrow(/positive/);
  });
});

describe('drawnRatio', async () => {
  const { process: c180 } = await loadKit('c180');
  // c180's smallest copy is 0.22u x 64u: ratio 0.22 / 64 / 0.25 = 0.01375; half of it 0.006875.
  it.each([
    [0, 0],
    [0.0068, 0], // below half the smallest copy: left out
    [0.007, 0.01375], // above half: the smallest copy
    [0.25, 0.25], // 0.5u x 8u
    [1, 1],
    [1 / 3, 0.67 / 8.04 / 0.25], // the grid-snapped copy of the table above
  ])('c180 ratio %d is drawn as %d', (ratio, drawn) => {
    expect(drawnRatio(c180, ratio)).toBeCloseTo(drawn, 12);
    expect(dropsGain(c180, ratio)).toBe(drawn === 0);
  });
});

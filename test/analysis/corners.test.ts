import { describe, expect, it } from 'vitest';
import { cornerOptions, cornerPlan } from '../../src/analysis/corners.js';
import { sampleSeed, mirrorGainSigma, mirrorSigmas } from '../../src/analysis/montecarlo.js';
import { loadKit } from '../circuit/kits.js';

describe('corner plans', () => {
  it('runs each process corner, then VDD and temperature extremes at tt; --full crosses them', async () => {
    const { process } = await loadKit('c180');
    const plan = cornerPlan(process);
    expect(plan.map((s) => s.corner)).toEqual(['tt', 'ff', 'ss', 'fs', 'sf', 'tt', 'tt', 'tt', 'tt']);
    expect(plan.slice(5).map((s) => [s.vddScale, s.temperatureC])).toEqual([
      [0.9, 27],
      [1.1, 27],
      [1, -20],
      [1, 85],
    ]);
    expect(cornerPlan(process, true)).toHaveLength(5 * 3 * 3);
    expect(cornerPlan(process, false, ['ss'], false)).toEqual([{ corner: 'ss', vddScale: 1, temperatureC: 27 }]);
    expect(() => cornerPlan(process, false, ['xx'])).toThrow(/no corner "xx" \(it has: tt, ff, ss, fs, sf\)/);
  });

  it('realises a skew corner as device variation and a kit corner as its library section', async () => {
    const c180 = (await loadKit('c180')).process;
    expect(cornerOptions(c180, { corner: 'fs', vddScale: 1.1, temperatureC: 85 })).toMatchObject({
      variation: { skew: { n: { dVthMv: -40 }, p: { dVthMv: 40 } } },
      temperatureC: 85,
      process: { vddV: expect.closeTo(c180.vddV * 1.1, 9) },
    });
    expect(cornerOptions(c180, { corner: 'tt', vddScale: 1, temperatureC: 27 }).variation).toBeUndefined();
    const gf = (await loadKit('gf180mcu')).process;
    expect(cornerOptions(gf, { corner: 'ss', vddScale: 1, temperatureC: 27 }).deckLines?.join('\n')).toMatch(
      /sm141064\.ngspice ss$/m,
    );
  });
});

describe('Monte Carlo seeds and sigmas', () => {
  it('derives distinct, repeatable per-sample seeds', () => {
    const seeds = Array.from({ length: 1000 }, (_, i) => sampleSeed(1, i));
    expect(new Set(seeds).size).toBe(1000);
    expect(sampleSeed(1, 5)).toBe(seeds[5]);
    expect(sampleSeed(2, 5)).not.toBe(seeds[5]);
  });
  it('mirror gain sigma follows Pelgrom: 4x the area halves it', async () => {
    const { process } = await loadKit('gf180mcu');
    const a = mirrorGainSigma(process, 'n', 2, 2, 8);
    expect(mirrorGainSigma(process, 'n', 8, 8, 8) / a).toBeCloseTo(0.5, 12);
    // 2u x 8u NMOS: 5.054 mV um / 4 um = 1.26 mV per device -> 1.26 / (1.45 * 25.85) = 3.4% (+ 0.12% beta), x sqrt(2)
    expect(a).toBeGreaterThan(0.045);
    expect(a).toBeLessThan(0.05);
  });
  it('sigmas per parameter kind on c180 (A_VT 4.1 mV um, A_beta 1 %um both polarities), worked by hand', async () => {
    const { process } = await loadKit('c180');
    const s = mirrorSigmas(process);
    // Unit device 2u x 8u (sqrt area 4 um): 1.025 mV / (1.45 x 25.85 mV) = 2.7346%, beta 0.25% -> 2.7460% per device.
    const unitDevice = Math.hypot(1.025 / (1.45 * 25.85), 0.0025);
    expect(s.unity).toBeCloseTo(Math.SQRT2 * unitDevice, 6);
    expect(s.threshold).toBeCloseTo(2 * unitDevice, 6); // two unity mirrors
    // |w| = 0.25: a 0.5u x 8u copy (sqrt area 2 um): 2.05 mV -> 5.4692%, beta 0.5%.
    expect(s.weight(0.25)).toBeCloseTo(Math.hypot(unitDevice, Math.hypot(2.05 / (1.45 * 25.85), 0.005)), 6);
    // Below the smallest copy every weight is that copy (0.22u x 64u).
    expect(s.weight(0.001)).toBe(s.weight(0.01375));
  });
});

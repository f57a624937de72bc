import { describe, expect, it } from 'vitest';
import { fitPowerLaw, frameAverages, powerFromPlot } from '../../src/analysis/power.js';
import { runNgspice } from '../../src/spice/runner.js';
import { close } from '../helpers.js';

describe('fitPowerLaw', () => {
  it('recovers the exponent and coefficient of an exact power law', () => {
    const x = [2, 4, 8, 16];
    const f = fitPowerLaw(
      x,
      x.map((n) => 3e-9 * n ** 1.7),
    );
    expect(f.exponent).toBeCloseTo(1.7, 12);
    expect(close(f.coefficient, 3e-9, 1e-12)).toBe(true);
    expect(f.r2).toBeCloseTo(1, 12);
  });
  it('names the bad value', () => {
    expect(() => fitPowerLaw([1, 2], [1, 0])).toThrow(/value #1 of y is 0/);
    expect(() => fitPowerLaw([1], [1])).toThrow(/>= 2/);
  });
});

describe('frameAverages', () => {
  it('averages a waveform that ramps across a frame edge (trapezoids, the ramp booked to its frame)', () => {
    const time = Float64Array.from({ length: 201 }, (_, i) => i * 0.0001); // 20 ms, 0.1 ms steps
    const y = Float64Array.from(time, (_, i) => (i < 100 ? 1 : 3)); // ramps 1 -> 3 during the step ending at 10 ms
    const f = frameAverages(time, y, 0.01);
    expect(f).toHaveLength(2);
    expect(f[0]).toBeCloseTo((99 * 1 + 2) / 100, 9);
    expect(f[1]).toBeCloseTo(3, 6);
  });
});

// Real ngspice on a deck whose supply currents are known: resistors and a pulsed source from each domain.
describe('powerFromPlot on an ngspice transient', () => {
  it('splits power per supply and finds the peak frame', async () => {
    const deck = [
      '* four supplies, known loads',
      'Vvdd_cell vdd_cell 0 dc 1.8',
      'Vvdd_ff vdd_ff 0 dc 1.8',
      'Vvdd_bias vdd_bias 0 dc 1.8',
      'Vvdd_in vdd_in 0 dc 1.8',
      'Rcell vdd_cell 0 1.8e9', // 1 nA -> 1.8 nW
      'Rff vdd_ff 0 1.8e8', // 10 nA -> 18 nW
      'Ibias vdd_bias 0 pwl(0 1e-9 10m 1e-9 10.001m 3e-9 20m 3e-9)', // 1 nA then 3 nA: 1.8 / 5.4 nW
      'Rin vdd_in 0 1e12',
      '.save i(vvdd_cell) i(vvdd_ff) i(vvdd_bias) i(vvdd_in)',
      '.tran 10u 20m 0 100u',
      '.end',
    ].join('\n');
    const run = await runNgspice({ netlist: deck, expectTStopS: 0.02 });
    const p = powerFromPlot(
      run.plots[0],
      { cell: 'i(vvdd_cell)', ff: 'i(vvdd_ff)', bias: 'i(vvdd_bias)', in: 'i(vvdd_in)' },
      1.8,
      0.01,
    );
    const d = Object.fromEntries(p.domains.map((x) => [x.domain, x]));
    expect(close(d.cell.meanW, 1.8e-9, 1e-6)).toBe(true);
    expect(close(d.ff.meanW, 18e-9, 1e-6)).toBe(true);
    expect(close(d.bias.meanW, 3.6e-9, 1e-3)).toBe(true);
    expect(close(d.bias.peakFrameW, 5.4e-9, 1e-3)).toBe(true);
    expect(close(d.bias.peakW, 5.4e-9, 1e-6)).toBe(true);
    expect(close(p.coreW, 1.8e-9 + 18e-9 + 3.6e-9, 1e-3)).toBe(true);
    expect(close(p.totalW - p.coreW, 1.8 * 1.8e-12, 1e-3)).toBe(true);
    expect(close(p.coreEnergyJ, p.coreW * 0.02, 1e-9)).toBe(true);
  });
});

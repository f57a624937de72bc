import { describe, expect, it } from 'vitest';
import { powerFromPlot } from '../../src/analysis/power.js';
import { runNgspice } from '../../src/spice/runner.js';
import { close } from '../helpers.js';

// fitPowerLaw and frameAverages are in power-figures.test.ts, which needs no ngspice (and so runs under Stryker).

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

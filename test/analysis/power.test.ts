import { describe, expect, it } from 'vitest';
import { elementBudget, powerFromPlot } from '../../src/analysis/power.js';
import { cosimulate } from '../../src/pipeline.js';
import { runNgspice } from '../../src/spice/runner.js';
import { transientPlot } from '../../src/spice/rawfile.js';
import { close } from '../helpers.js';
import { oneCellNetwork } from '../networks.js';
import { loadKit } from '../circuit/kits.js';

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

// Real ngspice: the one-cell network over frames that switch its cell ON, hold, and OFF (c180, ~50 transistors).
describe('element power budget on an ngspice transient (c180)', () => {
  it('adds up to each supply domain, and books the ideal bias sources exactly', async () => {
    const { process, calibration } = await loadKit('c180');
    const net = oneCellNetwork({ betaLo: 1, delta: 0.5 });
    const inputs = { frames: 4, features: 1, data: Float64Array.of(2, 1.2, 0, 0.5) };
    const r = await cosimulate(net, inputs, { process, calibration, supplyProbes: true });
    const plot = transientPlot(r.run.plots);
    const report = powerFromPlot(plot, r.generated.probes.supplies, process.vddV, net.frameS);
    const budget = elementBudget(plot, r.generated.supplyBranches!, report);
    // KCL at each supply node: the branches are the domain's whole current. Tolerance: the solver's reltol (1e-4)
    // on each branch, plus 1 fW for the femtoampere leaks abstol allows.
    for (const c of budget.closure) expect(close(c.branchesW, c.supplyW, 1e-4, 1e-15), c.domain).toBe(true);
    const kind = (k: string) => budget.kinds.filter((s) => s.key === k).reduce((s, x) => s + x.meanW, 0);
    // The cell's three references are ideal sources into diodes: their branches draw exactly what they are set to.
    const cellBiasA = r.generated.mapping
      .filter((m) => m.realisation.startsWith('cell bias'))
      .reduce((s, m) => s + Number(m.setting.slice(2)), 0);
    expect(cellBiasA).toBeGreaterThan(0);
    expect(close(kind('cell bias reference'), cellBiasA * process.vddV, 1e-6)).toBe(true);
    for (const k of ['weight copy', 'node diode', 'cell', 'bias reference', 'input front end'])
      expect(kind(k), k).toBeGreaterThan(0);
  });
});

import { describe, expect, it } from 'vitest';
import { elementBudget, powerFromPlot } from '../../src/analysis/power.js';
import { cosimulate } from '../../src/pipeline.js';
import { generateNetlist } from '../../src/netlist/generate.js';
import { SUPPLY, withSupplyProbes } from '../../src/netlist/supplies.js';
import type { Element } from '../../src/netlist/elements.js';
import { transientPlot } from '../../src/spice/rawfile.js';
import { close } from '../helpers.js';
import { oneCellNetwork } from '../networks.js';
import { loadKit } from '../circuit/kits.js';

describe('withSupplyProbes', () => {
  it('puts a 0 V source between each supply and every element on it, and leaves the others alone', () => {
    const elements: Element[] = [
      { type: 'comment', text: 'x' },
      {
        type: 'mos',
        name: 'wp',
        polarity: 'p',
        drain: 'a',
        gate: 'g',
        source: SUPPLY.ff,
        bulk: SUPPLY.ff,
        widthUm: 2,
        lengthUm: 4,
      },
      {
        type: 'mos',
        name: 'wn',
        polarity: 'n',
        drain: 'a',
        gate: 'g',
        source: '0',
        bulk: '0',
        widthUm: 2,
        lengthUm: 4,
      },
      { type: 'isrc', name: 'ref', from: SUPPLY.bias, to: 'r', dcA: 1e-9 },
      { type: 'inst', name: 'c0', nodes: [SUPPLY.cell, '0', 'in'], subckt: 'cell' },
    ];
    const roles = new Map([['wp', { kind: 'weight copy' as const, stage: 'pre' as const }]]);
    const { elements: out, branches } = withSupplyProbes(elements, (n) => roles.get(n));
    expect(out.find((e) => e.type === 'mos' && e.name === 'wn')).toBe(elements[2]);
    const wp = out.find((e) => e.type === 'mos' && e.name === 'wp');
    expect(wp).toMatchObject({ source: 'vdd_ff__wp', bulk: 'vdd_ff__wp', drain: 'a', gate: 'g' });
    expect(out).toContainEqual({ type: 'vsrc', name: 's_wp', plus: 'vdd_ff', minus: 'vdd_ff__wp', dcV: 0 });
    expect(out.find((e) => e.type === 'isrc')).toMatchObject({ from: 'vdd_bias__ref', to: 'r' });
    expect(out.find((e) => e.type === 'inst')).toMatchObject({ nodes: ['vdd_cell__c0', '0', 'in'] });
    expect(branches).toEqual([
      { element: 'wp', domain: 'ff', kind: 'weight copy', stage: 'pre', probe: 'i(vs_wp)' },
      { element: 'ref', domain: 'bias', kind: 'other', stage: 'input', probe: 'i(vs_ref)' },
      { element: 'c0', domain: 'cell', kind: 'other', stage: 'input', probe: 'i(vs_c0)' },
    ]);
  });

  it('is off by default: a deck without it has no branch probes', async () => {
    const { process, calibration } = await loadKit('c180');
    const net = oneCellNetwork({ betaLo: 1, delta: 0.5 });
    const inputs = { frames: 1, features: 1, data: Float64Array.of(1) };
    expect(generateNetlist(net, inputs, { process, calibration }).deck).not.toMatch(/^Vs_/m);
    expect(generateNetlist(net, inputs, { process, calibration, supplyProbes: true }).deck).toMatch(/^Vs_/m);
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

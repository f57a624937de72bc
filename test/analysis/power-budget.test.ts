import { describe, expect, it } from 'vitest';
import { generateNetlist } from '../../src/netlist/generate.js';
import { SUPPLY, withSupplyProbes } from '../../src/netlist/supplies.js';
import type { Element } from '../../src/netlist/elements.js';
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

// The element budget on a real ngspice run is in power.test.ts, which the ngspice gate (vitest.config.ts) covers.

/**
 * Power from supply currents on a hand-made transient: supply branch currents whose averages are worked out by
 * hand give known amperes (sampleCircuit) and known watts at VDD = 1.8 V (powerFromPlot). Applying VDD twice
 * would read 1.8x; reporting amperes as watts 1.8x less.
 */
import { describe, expect, it } from 'vitest';
import { sampleCircuit } from '../../src/compare/sample.js';
import { powerFromPlot } from '../../src/analysis/power.js';
import type { Probes } from '../../src/netlist/generate.js';
import type { RawPlot } from '../../src/spice/rawfile.js';

const VDD = 1.8;
const FRAME_S = 0.01;
const SUPPLIES = { cell: 'i(vdd_cell)', ff: 'i(vdd_ff)', bias: 'i(vdd_bias)', in: 'i(vdd_in)' } as const;

/**
 * Two frames sampled at 0, 5, 10, 15, 20 ms. A source that delivers current has a negative branch current.
 * cell: -2 nA throughout (mean 2 nA delivered); ff: -1 nA in frame 0, -3 nA from 10 ms on, with the step
 * between the 5 and 10 ms points (trapezoids of 5 ms at -1, -2, -3 and -3 nA: -45 nA ms over 20 ms, 2.25 nA
 * delivered); bias: 0; in: a ramp from 0 to -8 nA (mean 4 nA delivered).
 */
function plot(): RawPlot {
  const time = [0, 5e-3, 10e-3, 15e-3, 20e-3];
  const cols: [string, number[]][] = [
    ['time', time],
    [SUPPLIES.cell, [-2e-9, -2e-9, -2e-9, -2e-9, -2e-9]],
    [SUPPLIES.ff, [-1e-9, -1e-9, -3e-9, -3e-9, -3e-9]],
    [SUPPLIES.bias, [0, 0, 0, 0, 0]],
    [SUPPLIES.in, [0, -2e-9, -4e-9, -6e-9, -8e-9]],
  ];
  return {
    title: 'hand-made',
    date: '',
    plotname: 'Transient Analysis',
    complex: false,
    numPoints: time.length,
    vectors: cols.map(([name], i) => ({ name, type: i === 0 ? 'time' : 'current' })),
    real: cols.map(([, v]) => Float64Array.from(v)),
  };
}

const NO_NETWORK: Probes = {
  candidates: [],
  stateCurrents: [],
  cellNodes: [],
  hPos: [],
  hNeg: [],
  logitPos: [],
  logitNeg: [],
  supplies: SUPPLIES,
};

describe('supply currents and power from a hand-made transient', () => {
  it('sampleCircuit reports the delivered mean current per domain, in amperes', () => {
    const c = sampleCircuit(plot(), NO_NETWORK, { frames: 2, frameS: FRAME_S, unitA: 1e-9, vddV: VDD });
    expect(Object.keys(c.supplyMeanA).sort()).toEqual(['bias', 'cell', 'ff', 'in']);
    expect(c.supplyMeanA.cell).toBeCloseTo(2e-9, 21);
    expect(c.supplyMeanA.ff).toBeCloseTo(2.25e-9, 21);
    expect(c.supplyMeanA.bias).toBeCloseTo(0, 21);
    expect(c.supplyMeanA.in).toBeCloseTo(4e-9, 21);
  });

  it('powerFromPlot gives watts = delivered amperes x 1.8 V, core = cell + ff + bias', () => {
    const p = powerFromPlot(plot(), SUPPLIES, VDD, FRAME_S);
    const w = Object.fromEntries(p.domains.map((d) => [d.domain, d]));
    expect(w.cell.meanW).toBeCloseTo(3.6e-9, 21);
    expect(w.ff.meanW).toBeCloseTo(4.05e-9, 21);
    expect(w.in.meanW).toBeCloseTo(7.2e-9, 21);
    expect(p.coreW).toBeCloseTo(7.65e-9, 21);
    expect(p.totalW).toBeCloseTo(14.85e-9, 21);
    // Peaks: ff at 3 nA x 1.8 V; per frame, ff's second frame (3 nA throughout); in's last point (8 nA).
    expect(w.ff.peakW).toBeCloseTo(5.4e-9, 21);
    expect(w.ff.peakFrameW).toBeCloseTo(5.4e-9, 21);
    expect(w.in.peakW).toBeCloseTo(14.4e-9, 21);
    expect(p.durationS).toBe(0.02);
    expect(p.coreEnergyJ).toBeCloseTo(7.65e-9 * 0.02, 24);
  });
});

import { describe, expect, it } from 'vitest';
import { applyVariation } from '../../src/netlist/variation.js';
import { toSpice, type Element } from '../../src/netlist/elements.js';
import { runNgspice } from '../../src/spice/runner.js';
import { vector } from '../../src/spice/rawfile.js';
import { DEFAULT_SPICE_OPTIONS } from '../../src/netlist/generate.js';
import { loadKit } from './kits.js';

// A diode-connected device fed 1 nA: raising its |V_th| by dVth raises |V_GS| by the same amount, on both kits
// (c180: delvto on M instances; GF180MCU: a gate-series source in front of the kit's X wrapper).
const DVTH_V = 0.01;
const IBIAS_A = 1e-9;

async function diodeVgs(kit: 'c180' | 'gf180mcu', polarity: 'n' | 'p', dVthV: number): Promise<number> {
  const { process } = await loadKit(kit);
  const dev: Element =
    polarity === 'n'
      ? { type: 'mos', name: 'd1', polarity, drain: 'g', gate: 'g', source: '0', bulk: '0', widthUm: 2, lengthUm: 8 }
      : {
          type: 'mos',
          name: 'd1',
          polarity,
          drain: 'g',
          gate: 'g',
          source: 'vdd',
          bulk: 'vdd',
          widthUm: 2,
          lengthUm: 8,
        };
  const { elements } = applyVariation([dev], process, { skew: { [polarity]: { dVthMv: dVthV * 1e3, dBetaPct: 0 } } });
  const deck = [
    `* diode ${polarity} on ${kit}`,
    ...process.deckLines,
    `.options ${Object.entries(DEFAULT_SPICE_OPTIONS)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
    `Vdd vdd 0 dc ${process.vddV}`,
    polarity === 'n' ? `I1 vdd g dc ${IBIAS_A}` : `I1 g 0 dc ${IBIAS_A}`,
    ...elements.map((e) => toSpice(e, process)),
    '.op',
    '.end',
  ].join('\n');
  const run = await runNgspice({ netlist: deck, extraArgs: [...process.ngspiceArgs] });
  const vg = vector(run.plots[0], 'v(g)')[0];
  return polarity === 'n' ? vg : process.vddV - vg;
}

describe('device variation on real models', () => {
  for (const kit of ['c180', 'gf180mcu'] as const) {
    for (const polarity of ['n', 'p'] as const) {
      it(`${kit} ${polarity}mos: +${DVTH_V * 1e3} mV |V_th| raises |V_GS| at 1 nA by that much`, async () => {
        const shift = (await diodeVgs(kit, polarity, DVTH_V)) - (await diodeVgs(kit, polarity, 0));
        expect(shift).toBeGreaterThan(0.9 * DVTH_V);
        expect(shift).toBeLessThan(1.1 * DVTH_V);
      });
    }
  }
});

describe('applyVariation (mismatch draws)', () => {
  it('is reproducible from the seed, scales sigma with 1/sqrt(WL), and records every device', async () => {
    const { process } = await loadKit('c180');
    const mk = (i: number, w: number): Element => ({
      type: 'mos',
      name: `m${i}`,
      polarity: 'n',
      drain: 'd',
      gate: 'g',
      source: '0',
      bulk: '0',
      widthUm: w,
      lengthUm: 4,
    });
    const small = Array.from({ length: 2000 }, (_, i) => mk(i, 1));
    const a = applyVariation(small, process, { mismatchSeed: 11 });
    expect(applyVariation(small, process, { mismatchSeed: 11 })).toEqual(a);
    expect(applyVariation(small, process, { mismatchSeed: 12 }).devices[0]).not.toEqual(a.devices[0]);
    const sd = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0) / v.length);
    const expected = (process.mismatch!.n.avtMvUm * 1e-3) / Math.sqrt(1 * 4);
    expect(sd(a.devices.map((d) => d.dVthV)) / expected).toBeGreaterThan(0.93);
    expect(sd(a.devices.map((d) => d.dVthV)) / expected).toBeLessThan(1.07);
    const big = applyVariation(
      Array.from({ length: 2000 }, (_, i) => mk(i, 16)),
      process,
      { mismatchSeed: 11 },
    );
    expect(sd(big.devices.map((d) => d.dVthV)) / sd(a.devices.map((d) => d.dVthV))).toBeCloseTo(0.25, 6); // same normals, 4x sqrt(area)
    expect(toSpice(a.elements[0], process)).toMatch(/ delvto=-?[\d.e-]+$/);
  });
});

import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  expectedTensorNames,
  loadInputs,
  loadModel,
  networkTensors,
  randomInputs,
  randomNetwork,
} from '../../src/model/index.js';
import {
  buildCircuit,
  cellForward,
  cellInverse,
  generateNetlist,
  holdWaveform,
  loadCalibration,
  loadProcess,
  mappingSummary,
  minMirrorRatio,
  num,
  resetReleaseS,
} from '../../src/netlist/index.js';
import { cellThresholds } from '../../src/model/types.js';
import type { Element } from '../../src/netlist/elements.js';
import { REPO_ROOT } from '../helpers.js';

const c180 = await loadProcess(resolve(REPO_ROOT, 'models/c180/process.json'));

describe('netlist generator', () => {
  const net = randomNetwork({ inputs: 3, width: 4, blocks: 2, classes: 2, seed: 11 });
  const x = randomInputs(6, 3, 2);
  const g = generateNetlist(net, x, { process: c180 });
  const built = buildCircuit(net, x, { process: c180 });
  /** The elements of a type, as the generator placed them (tests assert on these, not on deck text). */
  const ofType = <T extends Element['type']>(els: readonly Element[], type: T) =>
    els.filter((e): e is Extract<Element, { type: T }> => e.type === type);

  it('maps every non-zero trained parameter to at least one element', () => {
    const mapped = new Set(g.mapping.map((r) => r.parameter));
    for (const name of expectedTensorNames(net.blocks.length)) {
      const t = networkTensors(net).get(name)!;
      t.data.forEach((v, i) => {
        if (v === 0 || name.endsWith('.s0') || name.includes('.cell.')) return;
        const idx = t.shape.length === 2 ? `[${Math.floor(i / t.shape[1])},${i % t.shape[1]}]` : `[${i}]`;
        expect(mapped.has(`${name}${idx}`), `${name}${idx}`).toBe(true);
      });
    }
    for (let k = 0; k < net.blocks.length; k++) {
      for (let j = 0; j < net.cells; j++) {
        for (const p of ['beta_hi', 'delta', 'alpha', 's0'])
          expect(mapped.has(`blocks.${k}.cell.${p}[${j}]`)).toBe(true);
      }
    }
  });

  it('realises weights as W/L ratios to the length grid and reports the realisation error', () => {
    const rows = g.mapping.filter((m) => m.realisation.includes('mirror W/L'));
    expect(rows.length).toBeGreaterThan(50);
    for (const r of rows) {
      const [, w, l] = /w=([\d.e+-]+)u l=([\d.e+-]+)u/.exec(r.setting)!.map(Number);
      // (W/L) / (W_unit/L_unit) with the c180 unit 2u/8u, computed here, not by the generator's function
      expect(Math.abs(r.realised)).toBeCloseTo(w / l / (2 / 8), 9);
      expect(r.error).toBeCloseTo(r.realised - r.target, 12);
      // Half a 0.01 um length step on a copy of >= 8 um: 0.0625% of the target; width coding alone left up to
      // 0.0025 absolute (half a 0.01 um width step of the 2 um unit), 2.3% at a weight of 0.11.
      if (Math.abs(r.target) >= minMirrorRatio(c180))
        expect(Math.abs(r.error)).toBeLessThanOrEqual(Math.abs(r.target) * (0.005 / 8) + 1e-12);
    }
  });

  it('rounds a weight below the smallest copy to the nearer of 0 (no device) and the smallest copy', () => {
    const minRatio = 0.22 / 64 / (2 / 8); // the narrowest c180 device at 8 unit lengths
    expect(minMirrorRatio(c180)).toBeCloseTo(minRatio, 12);
    const small = structuredClone(net);
    small.pre.weight.data[0] = 0.4 * minRatio; // nearer 0
    small.pre.weight.data[1] = 0.6 * minRatio; // nearer the narrowest device
    const s = generateNetlist(small, x, { process: c180 });
    const rows = (i: number) => s.mapping.filter((r) => r.parameter === `pre.weight[0,${i}]`);
    for (const r of rows(0)) expect(r).toMatchObject({ element: '(none)', realised: 0, setting: 'w=0' });
    for (const r of rows(1)) expect(Math.abs(r.realised)).toBeCloseTo(minRatio, 9);
    expect(s.realised.pre.weight.data[0]).toBe(0);
    const feature0IntoH00 = (els: readonly Element[]) =>
      ofType(els, 'mos').filter((e) => /^w_h0_0[pn]_x0[pn]$/.test(e.name));
    expect(feature0IntoH00(built.elements).length).toBeGreaterThan(0);
    expect(feature0IntoH00(buildCircuit(small, x, { process: c180 }).elements)).toEqual([]); // no device carries feature 0 into h0_0 any more
    expect(s.transistors).toBeLessThan(g.transistors);
    expect(mappingSummary(s.mapping, small.unitCurrentA).worstGain?.row.element).not.toBe('(none)'); // a dropped weight is not an element error
  });

  it("drops or keeps every copy of a small weight together, whatever each copy polarity's calibration says", async () => {
    const cal = await loadCalibration(c180.dir);
    const minRatio = minMirrorRatio(c180);
    for (let f = 0.46; f <= 0.54; f += 0.01) {
      const small = structuredClone(net);
      small.pre.weight.data[0] = -f * minRatio; // copies: sourcing into h0_0n, sinking from the ReLU node r0_0, ...
      const rows = generateNetlist(small, x, { process: c180, calibration: cal }).mapping.filter(
        (r) => r.parameter === 'pre.weight[0,0]',
      );
      expect(rows.length).toBeGreaterThan(1);
      expect(new Set(rows.map((r) => r.element === '(none)')).size, `f = ${f.toFixed(2)}`).toBe(1);
    }
  });

  it('holds every cell of blocks >= 1 in its initial state until the block before has settled (reset switches)', () => {
    const L = net.blocks.length;
    const s0 = net.blocks.map((b) => cellThresholds(b.cell).s0);
    expect(g.deck).toMatch(/^\.model bmru_reset sw /m);
    const switches = ofType(built.elements, 'switch');
    expect(switches.filter((e) => e.name.startsWith('b0c'))).toEqual([]); // block 0 takes its frame-0 inputs at once, as the model does
    for (let k = 1; k < L; k++) {
      const releaseS = resetReleaseS(k, L, net.frameS);
      expect(releaseS).toBeGreaterThan(0);
      expect(releaseS).toBeLessThan(net.frameS);
      const control = ofType(built.elements, 'vsrc').find((e) => e.name === `rst_b${k}`);
      expect(control?.pwl?.slice(0, 2)).toEqual([
        [0, 1],
        [releaseS, 1],
      ]);
      expect(control?.pwl?.[2][1]).toBe(0);
      for (let j = 0; j < net.cells; j++) {
        expect(switches.find((e) => e.name === `b${k}c${j}_rst`)).toMatchObject({
          plus: `b${k}c${j}_v0`,
          minus: s0[k][j] ? 'vdd_cell' : '0',
          ctrlPlus: `rst_b${k}`,
          ctrlMinus: '0',
          model: 'bmru_reset',
        });
      }
    }
  });

  it('writes a batch deck: models, options for pA currents, initial states, saves, transient to the last frame', () => {
    expect(g.deck).toMatch(/^\.include .*c180\.lib$/m);
    expect(g.deck).toMatch(/^\.options .*abstol=1e-15 .*gmin=1e-15/m);
    expect(g.deck).toMatch(new RegExp(`^\\.tran \\S+ ${g.tStopS} 0 \\S+$`, 'm'));
    expect(g.deck.trimEnd().endsWith('.end')).toBe(true);
    expect(g.deck).not.toMatch(/^\.control/m);
    const on = net.blocks.flatMap((b, k) => Array.from(b.cell.s0, (s, j) => [k, j, Math.abs(s) > 0.5] as const));
    for (const [k, j, isOn] of on)
      expect(built.initialConditions).toContainEqual({ node: `b${k}c${j}_v0`, voltageV: isOn ? c180.vddV : 0 });
    expect(g.deck).toContain(`.ic ${built.initialConditions.map((c) => `v(${c.node})=${num(c.voltageV)}`).join(' ')}`);
  });

  it('releases block k at k x 0.98 / L of the first frame: every block as long to settle before the 98% sample point', () => {
    expect(resetReleaseS(1, 2, 0.01)).toBeCloseTo(0.0049, 15); // 4.9 ms: block 0 and block 1 get 4.9 ms each
    expect(resetReleaseS(2, 3, 0.01)).toBeCloseTo((2 * 0.0098) / 3, 15);
    expect(resetReleaseS(2, 4, 0.01) - resetReleaseS(1, 4, 0.01)).toBeCloseTo(resetReleaseS(1, 4, 0.01), 15);
    // The last block is let go one window before the sample point.
    expect(0.0098 - resetReleaseS(3, 4, 0.01)).toBeCloseTo(resetReleaseS(1, 4, 0.01), 15);
  });

  it('puts every NMOS mirror device on vsn = nmosSourceV and leaves the cells and their bias diodes on ground', () => {
    expect(c180.nmosSourceV).toBe(0.1);
    const nmos = ofType(built.elements, 'mos').filter((e) => e.polarity === 'n');
    const cellBias = nmos.filter((e) => /^d_b\d+c\d+_(thr|wid|gain)$/.test(e.name));
    expect(cellBias.length).toBe(3 * net.blocks.length * net.cells);
    for (const e of cellBias) expect(e.source, e.name).toBe('0');
    const mirror = nmos.filter((e) => !cellBias.includes(e));
    expect(mirror.length).toBeGreaterThan(20);
    for (const e of mirror) expect([e.name, e.source, e.bulk]).toEqual([e.name, 'vsn', '0']);
    expect(g.deck).toMatch(/^Vsn vsn 0 dc 0\.1$/m);
    // Without the field nothing is lifted and no vsn source is written.
    const grounded = { ...c180, nmosSourceV: undefined };
    const gg = generateNetlist(net, x, { process: grounded });
    expect(gg.deck).not.toMatch(/\bvsn\b/);
    expect(
      ofType(buildCircuit(net, x, { process: grounded }).elements, 'mos').filter((e) => e.source === 'vsn'),
    ).toEqual([]);
  });

  it('counts 9 transistors per cell inside the total', () => {
    const cellInstances = ofType(built.elements, 'inst').filter((e) => e.subckt === 'bmru_cell').length;
    expect(cellInstances).toBe(net.blocks.length * net.cells);
    expect(g.transistors).toBe(ofType(built.elements, 'mos').length + 9 * cellInstances);
  });

  it('the shipped example has the reference shape', async () => {
    const ex = await loadModel(resolve(REPO_ROOT, 'models/example/kws-example.json'));
    const clip = await loadInputs(resolve(REPO_ROOT, 'models/example/clip-101.csv'));
    expect([ex.inputs, ex.width, ex.blocks.length, ex.classes, clip.frames]).toEqual([13, 4, 2, 2, 101]);
  });
});

describe('netlist helpers', () => {
  it('holds each frame value with a short edge at frame boundaries and skips unchanged frames', () => {
    expect(holdWaveform([1, 1, 2], 0.01, 1e-6)).toEqual([
      [0, 1],
      [0.02, 1],
      [0.02 + 1e-6, 2],
      [0.03, 2],
    ]);
  });

  it('prints numbers that ngspice reads back unchanged to 12 digits', () => {
    for (const v of [8.23890555014e-10, 1e-15, 0.5, 2, 1.8, 3.3e-12])
      expect(Number(num(v))).toBe(Number(v.toPrecision(12)));
    expect(num(8.2389e-10)).toBe('8.2389e-10');
  });

  it('cell inverse undoes cell forward on a calibration grid', () => {
    const grid = {
      thresh: [1e-10, 1e-9],
      fractions: [0, 0.5, 1],
      betaHi: [
        [0.95, 0.9, 0.85],
        [0.97, 0.93, 0.9],
      ],
      delta: [
        [0, 0.4, 0.85],
        [0, 0.45, 0.9],
      ],
    };
    const { threshA, widthA } = cellInverse(grid, 5e-10, 2e-10);
    const f = cellForward(grid, threshA, widthA);
    expect(f.betaHiA).toBeCloseTo(5e-10, 16);
    expect(f.deltaA).toBeCloseTo(2e-10, 16);
  });

  it('does not extrapolate the hysteresis beyond the widest measured I_width / I_thresh, and says what it realises', () => {
    const grid = {
      thresh: [1e-10, 1e-9],
      fractions: [0, 0.5, 0.85],
      betaHi: [
        [0.95, 0.9, 0.85],
        [0.97, 0.93, 0.9],
      ],
      delta: [
        [0, 0.4, 0.7],
        [0, 0.45, 0.75],
      ],
    };
    const { threshA, widthA } = cellInverse(grid, 5e-10, 4.7e-10); // beta_lo at 6% of beta_hi: never measured
    expect(widthA).toBeLessThanOrEqual(0.85 * threshA * (1 + 1e-12));
    const f = cellForward(grid, threshA, widthA);
    expect(f.betaHiA).toBeCloseTo(5e-10, 15);
    expect(f.deltaA).toBeLessThan(0.9 * 4.7e-10); // the realised (narrower) width, which the realised model uses
  });

  it('never realises a negative hysteresis width or a NaN threshold', () => {
    const grid = {
      thresh: [1e-10, 1e-9],
      fractions: [0, 0.05, 0.5],
      betaHi: [
        [0.95, 0.94, 0.9],
        [0.97, 0.96, 0.93],
      ],
      delta: [
        [0, -0.001, 0.4],
        [0, -0.0005, 0.45],
      ],
    };
    expect(cellForward(grid, 5e-10, 1e-12).deltaA).toBe(0);
    const zero = cellInverse(grid, 0, 0);
    expect([zero.threshA, zero.widthA]).toEqual([0, 0]);
    expect(cellForward(grid, 0, 0)).toEqual({ betaHiA: 0, deltaA: 0 });
  });
});

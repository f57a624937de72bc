import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cellThresholds, randomInputs, randomNetwork } from '../../src/model/index.js';
import {
  buildCircuit,
  cardName,
  cellSubcircuit,
  junctionFromDiffusion,
  loadProcess,
  toSpice,
  type Capacitor,
  type Element,
  type Mosfet,
  type Process,
} from '../../src/netlist/index.js';
import { REPO_ROOT } from '../helpers.js';

const c180 = await loadProcess(resolve(REPO_ROOT, 'models/c180/process.json'));
const net = randomNetwork({ inputs: 3, width: 4, blocks: 2, classes: 2, seed: 11 });
const x = randomInputs(4, 3, 2);
const devices = (els: readonly Element[]): Mosfet[] => els.filter((e): e is Mosfet => e.type === 'mos');

describe('junctions from the process diffusion rule', () => {
  it('are declared for both shipped kits, with where the figure comes from', async () => {
    const gf = await loadProcess(resolve(REPO_ROOT, 'models/gf180mcu/process.json'));
    expect(c180.junctions?.diffusionLengthUm).toBe(0.48);
    expect(gf.junctions?.diffusionLengthUm).toBe(0.44);
    for (const p of [c180, gf]) expect(p.junctions?.source.length).toBeGreaterThan(20);
  });

  it('give every transistor of the circuit AD = AS = W * L_diff and PD = PS = 2 (W + L_diff) at its drawn width', () => {
    const L = c180.junctions!.diffusionLengthUm;
    const mos = devices(buildCircuit(net, x, { process: c180 }).elements);
    expect(mos.length).toBeGreaterThan(100);
    for (const m of mos) {
      expect(m.junction, m.name).toEqual({
        drainAreaUm2: m.widthUm * L,
        sourceAreaUm2: m.widthUm * L,
        drainPerimeterUm: 2 * (m.widthUm + L),
        sourcePerimeterUm: 2 * (m.widthUm + L),
      });
    }
    for (const m of devices(cellSubcircuit(c180, L).elements))
      expect(m.junction).toEqual(junctionFromDiffusion(m.widthUm, L));
  });

  it('are left out when asked (junctions: false) and where the process declares no rule', () => {
    const bare: Process = { ...c180, junctions: undefined };
    for (const els of [
      buildCircuit(net, x, { process: c180, junctions: false }).elements,
      buildCircuit(net, x, { process: bare }).elements,
      cellSubcircuit(c180).elements,
    ]) {
      for (const m of devices(els)) expect(m.junction).toBeUndefined();
    }
  });

  it('print as ad/as in um^2 (p) and pd/ps in um (u), on M cards and on kit wrapper instances (X)', () => {
    const m: Mosfet = {
      type: 'mos',
      name: 'w1',
      polarity: 'n',
      drain: 'd',
      gate: 'g',
      source: '0',
      bulk: '0',
      widthUm: 2,
      lengthUm: 8,
      junction: junctionFromDiffusion(2, 0.48),
    };
    expect(toSpice(m, c180)).toBe('Mw1 d g 0 0 nch_c180 w=2u l=8u ad=0.96p as=0.96p pd=4.96u ps=4.96u');
    const gfLike: Process = { ...c180, instance: 'X', nmos: 'nmos_3p3' };
    expect(toSpice({ ...m, junction: junctionFromDiffusion(6, 0.44) }, gfLike)).toBe(
      'Xw1 d g 0 0 nmos_3p3 w=2u l=8u ad=2.64p as=2.64p pd=12.88u ps=12.88u',
    );
    expect(toSpice({ ...m, junction: undefined }, c180)).toBe('Mw1 d g 0 0 nch_c180 w=2u l=8u');
  });
});

describe('the capacitor element', () => {
  it('prints as an ngspice C card: name, nodes, capacitance in F', () => {
    expect(toSpice({ type: 'cap', name: 'f_b0c1', plus: 'b0c1_in', minus: 'vdd_ff', capacitanceF: 2e-12 }, c180)).toBe(
      'Cf_b0c1 b0c1_in vdd_ff 2e-12',
    );
    expect(toSpice({ type: 'cap', name: 'x', plus: 'a', minus: '0', capacitanceF: 1.5e-13 }, c180)).toBe(
      'Cx a 0 1.5e-13',
    );
  });
});

describe('the cell input low-pass', () => {
  const caps = (els: readonly Element[]): Capacitor[] => els.filter((e): e is Capacitor => e.type === 'cap');

  it('puts one capacitor per cell from its input node to the supply, C = F/A x beta_lo x I_unit, listed in the mapping table', () => {
    const perA = 12e-3;
    const built = buildCircuit(net, x, { process: c180, cellInputCapFPerA: perA });
    const placed = caps(built.elements);
    expect(placed).toHaveLength(net.blocks.length * net.cells);
    net.blocks.forEach((block, k) => {
      const th = cellThresholds(block.cell);
      for (let j = 0; j < net.cells; j++) {
        const cap = placed.find((c) => c.name === `f_b${k}c${j}`)!;
        expect(cap).toMatchObject({ plus: `b${k}c${j}_in`, minus: 'vdd_ff' });
        expect(cap.capacitanceF).toBeCloseTo(perA * th.betaLo[j] * net.unitCurrentA, 20);
        const row = built.mapping.find((r) => r.element === cardName(cap, c180))!;
        expect(row).toMatchObject({ parameter: `(cell input filter) blocks.${k}.cell[${j}]`, target: 0, realised: 0 });
      }
    });
    // The node is the one the cell's M1 mirrors (the cell instance's `in` port).
    const cell = built.elements.find((e) => e.type === 'inst' && e.name === 'b0c0');
    expect(cell?.type === 'inst' && cell.nodes[2]).toBe('b0c0_in');
  });

  it('takes the process default, and places nothing at 0 F/A or where the process declares none', () => {
    expect(caps(buildCircuit(net, x, { process: { ...c180, cellInputCapFPerA: 5e-3 } }).elements)).toHaveLength(
      net.blocks.length * net.cells,
    );
    expect(caps(buildCircuit(net, x, { process: c180, cellInputCapFPerA: 0 }).elements)).toHaveLength(0);
    expect(caps(buildCircuit(net, x, { process: { ...c180, cellInputCapFPerA: undefined } }).elements)).toHaveLength(0);
    expect(() => buildCircuit(net, x, { process: c180, cellInputCapFPerA: -1 })).toThrow(RangeError);
  });
});

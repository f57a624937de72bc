import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadInputs, loadModel, randomInputs, randomNetwork } from '../../src/model/index.js';
import {
  buildCircuit,
  compressPwl,
  DEFAULT_SPICE_OPTIONS,
  GLOBAL_NODES,
  keptPoints,
  loadCalibration,
  mergeReplicas,
  FRONT_END_CUT_FROM_WIDTH,
  MAX_MERGED_REPLICA_WIDTH_UM,
  drivenReplicas,
  DRIVEN_DRAIN_TAU_S,
  loadProcess,
  partitionCircuit,
  partitionElements,
  partitionWaves,
  terminals,
  writeDeck,
  networkDeck,
  type Element,
  type Mosfet,
  type Partition,
} from '../../src/netlist/index.js';
import { mergeTransientPlots, sumOnGrid, unionGrid } from '../../src/spice/merge.js';
import { PARTITION_RELTOL_FACTOR, handoffWaveforms, partitionReltol } from '../../src/pipeline.js';
import { toSpice } from '../../src/netlist/elements.js';
import { FRAME_EDGES_SOURCE, frameEdgeBreakpoints } from '../../src/netlist/partition.js';
import { series, vector, type RawPlot } from '../../src/spice/rawfile.js';
import { REPO_ROOT, tranPlot } from '../helpers.js';

const c180 = await loadProcess(resolve(REPO_ROOT, 'models/c180/process.json'));
const calibration = await loadCalibration(c180.dir);
const example = await loadModel(resolve(REPO_ROOT, 'models/example/kws-example.json'));
const clip = await loadInputs(resolve(REPO_ROOT, 'models/example/clip-101.csv'));

const cases = [
  { name: 'the example (width 4, skip)', net: example, inputs: clip },
  {
    name: 'a random width-8 network',
    net: randomNetwork({ inputs: 13, width: 8, blocks: 2, classes: 2, seed: 1 }),
    inputs: randomInputs(4, 13, 1),
  },
  {
    name: 'a random network without skip, 3 blocks',
    net: { ...randomNetwork({ inputs: 5, width: 3, blocks: 3, classes: 3, seed: 7 }), skip: false },
    inputs: randomInputs(4, 5, 2),
  },
];

/** Element identity within one circuit: type and name (names are unique per card letter). */
const key = (e: Element): string => (e.type === 'comment' ? `comment:${e.text}` : `${e.type}:${e.name}`);

describe('partitionCircuit', () => {
  for (const c of cases) {
    describe(c.name, () => {
      const built = buildCircuit(c.net, c.inputs, { process: c180, calibration });
      const plan = partitionCircuit(built);
      const L = c.net.blocks.length;

      it('has one partition per section, in dependency order: front end, each block, classifier', () => {
        expect(plan.partitions.map((p) => p.label)).toEqual([
          'front end',
          ...c.net.blocks.map((_, k) => `block ${k}`),
          'classifier',
        ]);
        for (const p of plan.partitions) for (const h of p.handoffs) expect(h.from).toBeLessThan(p.index);
      });

      it('places every element of the circuit in exactly one partition, in the generator order', () => {
        const placed = plan.partitions.flatMap((p) => p.own.map(key));
        expect(placed).toEqual(built.elements.map(key));
        expect(plan.partitions.reduce((n, p) => n + p.transistors, 0)).toBe(built.transistors);
      });

      it('keeps each block together: candidates, cells with their reset switches and control, post-projection', () => {
        for (let k = 0; k < L; k++) {
          const names = new Set(plan.partitions[k + 1].own.map(key));
          for (let j = 0; j < c.net.cells; j++) {
            expect(names, `b${k}c${j}`).toContain(`inst:b${k}c${j}`);
            expect(names).toContain(`vsrc:m_b${k}c${j}_in`);
            if (k > 0) expect(names).toContain(`switch:b${k}c${j}_rst`);
          }
          if (k > 0) expect(names).toContain(`vsrc:rst_b${k}`);
        }
      });

      it('writes each partition as a deck with its hand-offs as B sources (no breakpoints)', () => {
        const p = plan.partitions[1];
        const deck = writeDeck(
          networkDeck(
            { ...built, saves: p.saves, initialConditions: p.initialConditions },
            partitionElements(p, () => [
              [0, 0.4],
              [0.01, 0.45],
              [0.02, 0.41],
            ]),
            { process: c180 },
            c.net,
            0.02,
          ),
          c180,
        );
        expect(deck).toContain(
          `Bho_${p.handoffs[0].node} ${p.handoffs[0].node} 0 V = pwl(time,\n+ 0, 0.4, 0.01, 0.45, 0.02, 0.41 )`,
        );
      });
      for (const by of ['block', 'cell'] as const)
        describe(`split by ${by}`, () => invariants(built, partitionCircuit(built, { by })));
    });
  }

  function invariants(built: ReturnType<typeof buildCircuit>, plan: ReturnType<typeof partitionCircuit>): void {
    {
      it("cuts only mirror gates: every node of a partition deck is global, its own, a copy's, or replayed by a hand-off", () => {
        const wholeTouches = new Map<string, number>();
        for (const e of built.elements)
          for (const t of terminals(e)) wholeTouches.set(t.node, (wholeTouches.get(t.node) ?? 0) + 1);
        for (const p of plan.partitions) {
          const elements = partitionElements(p, () => [
            [0, 0.5],
            [1, 0.5],
          ]);
          const own = new Set([...p.own, ...p.copies].flatMap((e) => terminals(e).map((t) => t.node)));
          const handed = new Set(p.handoffs.map((h) => h.node));
          // A hand-off node is read only by gates in this partition and driven by exactly one source.
          for (const e of p.own)
            for (const t of terminals(e)) if (handed.has(t.node)) expect(t.gate, `${key(e)} on ${t.node}`).toBe(true);
          const touches = new Map<string, number>();
          for (const e of elements) for (const t of terminals(e)) touches.set(t.node, (touches.get(t.node) ?? 0) + 1);
          for (const [node, n] of touches) {
            if (GLOBAL_NODES.has(node)) continue;
            // No dangling node: a node touched once here is one the whole circuit touches once (a cell's probed V0).
            if (n < 2) expect(wholeTouches.get(node), `${p.label}: ${node}`).toBe(1);
            expect(own.has(node) || handed.has(node), `${p.label}: ${node}`).toBe(true);
          }
          // A node the earlier partition owns is never also owned here (the cut is at gates only).
          for (const h of p.handoffs) {
            const home = plan.partitions[h.from].own.flatMap((e) => terminals(e).map((t) => t.node));
            expect(home).toContain(h.node);
          }
        }
      });

      it('gives every cut copy a gate-load replica on its rail in the partition that computes the rail', () => {
        const cut = plan.partitions.flatMap((p) =>
          p.own.filter(
            (e): e is Extract<Element, { type: 'mos' }> =>
              e.type === 'mos' && p.handoffs.some((h) => h.node === e.gate),
          ),
        );
        expect(cut.length).toBeGreaterThan(0);
        const replicas = new Map(plan.partitions.flatMap((p) => p.replicas.map((r) => [r.name, { r, p }] as const)));
        expect(replicas.size).toBe(cut.length);
        for (const m of cut) {
          const got = replicas.get(`rep_${m.name}`);
          expect(got, m.name).toBeDefined();
          const { r, p } = got!;
          expect(p.handoffs.some((h) => h.node === m.gate)).toBe(false);
          expect(p.own.some((e) => terminals(e).some((t) => t.node === m.gate))).toBe(true);
          expect([r.gate, r.widthUm, r.lengthUm, r.polarity, r.source]).toEqual([
            m.gate,
            m.widthUm,
            m.lengthUm,
            m.polarity,
            m.source,
          ]);
          // V_DS = 0 on a supply: the replica draws no supply current.
          expect(r.drain).toBe(r.source);
          expect(GLOBAL_NODES.has(r.source)).toBe(true);
        }
      });

      it("records each replica's copy drain, which the copy's partition saves for a second pass", () => {
        for (const p of plan.partitions) {
          expect(p.replicaDrains.length).toBe(p.replicas.length);
          p.replicas.forEach((r, i) => {
            const d = p.replicaDrains[i];
            const copy = plan.partitions[d.from].own.find((e) => e.type === 'mos' && `rep_${e.name}` === r.name);
            expect(copy?.type === 'mos' && copy.drain, r.name).toBe(d.node);
            const q = plan.partitions[d.from];
            if (!GLOBAL_NODES.has(d.node)) expect([...q.saves, ...q.copyDrainSaves]).toContain(`v(${d.node})`);
          });
          // Not saved twice, and not in a one-pass run's saves unless probed or handed on anyway.
          expect(p.copyDrainSaves.filter((v) => p.saves.includes(v))).toEqual([]);
        }
      });

      it('saves each probe in the partition that holds it, and the rails later partitions read', () => {
        const saved = plan.partitions.flatMap((p) => p.saves);
        for (const v of built.saves) expect(saved).toContain(v);
        for (const p of plan.partitions)
          for (const h of p.handoffs) expect(plan.partitions[h.from].saves).toContain(`v(${h.node})`);
        const ics = plan.partitions.flatMap((p) => p.initialConditions);
        expect(ics).toHaveLength(built.initialConditions.length);
      });

      it('reads only partitions before it, and lists them as the partitions it waits for', () => {
        for (const p of plan.partitions) {
          for (const h of p.handoffs) expect(h.from).toBeLessThan(p.index);
          expect(p.after).toEqual([...new Set(p.handoffs.map((h) => h.from))].sort((a, b) => a - b));
        }
        const waves = partitionWaves(plan);
        expect(waves.flat().sort((a, b) => a - b)).toEqual(plan.partitions.map((p) => p.index));
        const waveOf = new Map(waves.flatMap((w, i) => w.map((p) => [p, i] as const)));
        for (const p of plan.partitions)
          for (const d of p.after) expect(waveOf.get(d)).toBeLessThan(waveOf.get(p.index)!);
      });
    }
  }

  for (const c of cases) {
    describe(`${c.name}, split by block`, () => {
      const built = buildCircuit(c.net, c.inputs, { process: c180, calibration });
      const plan = partitionCircuit(built, { by: 'block' });
      it("holds no copies: every element is its section's own", () => {
        for (const p of plan.partitions) expect(p.copies).toEqual([]);
      });
    });

    describe(`${c.name}, split by cell`, () => {
      const built = buildCircuit(c.net, c.inputs, { process: c180, calibration });
      // The front end cut too, as from FRONT_END_CUT_FROM_WIDTH on (these networks are narrower).
      const plan = partitionCircuit(built, { by: 'cell', frontEndCutFromWidth: 0 });
      const L = c.net.blocks.length;
      const ofBlock = (k: number) => plan.partitions.filter((p) => p.label.startsWith(`block ${k} `));
      const cellsOf = (k: number) => ofBlock(k).filter((p) => / cell \d+$/.test(p.label));

      it('has the front end, per block its shared part (when any), one partition per cell, then one per output', () => {
        const labels = plan.partitions.map((p) => p.label);
        const outputs = (prefix: string) => Array.from({ length: c.net.width }, (_, i) => `${prefix} output ${i}`);
        const noShared = (l: string) => !/ (outputs )?shared$/.test(l);
        expect(labels[0]).toBe('front end shared');
        expect(labels[labels.length - 1]).toBe('classifier');
        const front = labels.filter((l) => l.startsWith('front end '));
        expect(front.filter(noShared)).toEqual(outputs('front end'));
        expect(labels.slice(0, front.length)).toEqual(front);
        for (let k = 0; k < L; k++) {
          const cells = Array.from({ length: c.net.cells }, (_, j) => `block ${k} cell ${j}`);
          const got = ofBlock(k).map((p) => p.label);
          expect(got.filter(noShared)).toEqual([...cells, ...outputs(`block ${k}`)]);
          // Shared parts come before what reads them: the cells' before the cells, the outputs' before the outputs.
          const at = (l: string) => got.indexOf(l);
          if (at(`block ${k} shared`) >= 0) expect(at(`block ${k} shared`)).toBe(0);
          if (at(`block ${k} outputs shared`) >= 0)
            expect(at(`block ${k} outputs shared`)).toBe(c.net.cells + (at(`block ${k} shared`) >= 0 ? 1 : 0));
        }
        for (const p of plan.partitions)
          expect(p.kind, p.label).toBe(
            / shared$/.test(p.label)
              ? 'shared'
              : / cell \d+$/.test(p.label)
                ? 'cell'
                : / output \d+$/.test(p.label)
                  ? 'output'
                  : 'section',
          );
        // The candidates need rail conversions of ReLU(h) (negative weights) in the random networks at least.
        expect(labels.some((l) => / \d+ shared$/.test(l))).toBe(true);
      });

      it('cuts the front end into its inputs and one partition per pre-projection output, which reads only the inputs', () => {
        const front = plan.partitions.filter((p) => p.label.startsWith('front end '));
        const shared = front.filter((p) => p.kind === 'shared').map((p) => p.index);
        const outs = front.filter((p) => p.kind === 'output');
        expect(outs).toHaveLength(c.net.width);
        // The inputs' sources are all in the front end's first partition, which reads nothing.
        expect(front[0].own.filter((e) => e.type === 'isrc' && e.role === 'input')).toHaveLength(4 * c.net.inputs);
        expect(front[0].after).toEqual([]);
        outs.forEach((p, i) => {
          expect(p.label).toBe(`front end output ${i}`);
          expect(new Set(p.own.map(key))).toContain(`vsrc:m_r0_${i}`);
          expect(p.after.length).toBeGreaterThan(0);
          for (const d of p.after) expect(shared).toContain(d);
        });
      });

      it(`keeps the front end whole below ${FRONT_END_CUT_FROM_WIDTH} outputs, and cuts it from its width on`, () => {
        const whole = partitionCircuit(built, { by: 'cell' });
        expect(c.net.width).toBeLessThan(FRONT_END_CUT_FROM_WIDTH);
        expect(whole.partitions.filter((p) => p.label.startsWith('front end'))).toEqual([
          expect.objectContaining({ index: 0, label: 'front end', kind: 'section' }),
        ]);
        // The rest is cut as before; the front end's outputs' elements are the one front-end partition's.
        expect(whole.partitions.length).toBe(plan.partitions.length - c.net.width);
        const front = plan.partitions.filter((p) => p.label.startsWith('front end '));
        expect(whole.partitions[0].own.map(key).sort()).toEqual(front.flatMap((p) => p.own.map(key)).sort());
        const at = (w: number) => partitionCircuit(built, { by: 'cell', frontEndCutFromWidth: w }).partitions.length;
        expect(at(c.net.width)).toBe(plan.partitions.length);
        expect(at(c.net.width + 1)).toBe(whole.partitions.length);
      });

      it("keeps each output with its post-projection node, skip node and the next block's ReLU, which read no other output", () => {
        for (let k = 0; k < L; k++) {
          const outs = ofBlock(k).filter((p) => p.kind === 'output');
          expect(outs).toHaveLength(c.net.width);
          outs.forEach((p, i) => {
            const names = new Set(p.own.map(key));
            expect(names).toContain(`vsrc:m_b${k}u${i}`);
            if (c.net.skip) expect(names).toContain(`vsrc:m_h${k + 1}_${i}p`);
            if (c.net.skip && k < L - 1) expect(names).toContain(`vsrc:m_r${k + 1}_${i}`);
            for (const d of p.after) expect(outs.map((o) => o.index)).not.toContain(d);
          });
        }
      });

      it("groups a block's outputs by outputsPerPartition, in order, the last group taking what is left", () => {
        const grouped = partitionCircuit(built, { by: 'cell', outputsPerPartition: 3 });
        const W = c.net.width;
        const expected = Array.from({ length: Math.ceil(W / 3) }, (_, g) =>
          Math.min(3 * g + 2, W - 1) === 3 * g
            ? `block 0 output ${3 * g}`
            : `block 0 outputs ${3 * g}-${Math.min(3 * g + 2, W - 1)}`,
        );
        expect(
          grouped.partitions.filter((p) => p.label.startsWith('block 0 ') && p.kind === 'output').map((p) => p.label),
        ).toEqual(expected);
        const placed = grouped.partitions.flatMap((p) => p.own.map(key)).sort();
        expect(placed).toEqual(plan.partitions.flatMap((p) => p.own.map(key)).sort());
        expect(() => partitionCircuit(built, { by: 'cell', outputsPerPartition: 0 })).toThrow(/outputsPerPartition/);
      });

      it('places every element in exactly one partition, except the reset controls, copied into each cell of their block', () => {
        const placed = plan.partitions.flatMap((p) => p.own.map(key)).sort();
        const copied = new Set(plan.partitions.flatMap((p) => p.copies.map(key)));
        expect(placed).toEqual(
          built.elements
            .map(key)
            .filter((k) => !copied.has(k))
            .sort(),
        );
        for (const name of copied) expect(name).toMatch(/^vsrc:rst_b\d+$/);
        for (let k = 1; k < L; k++)
          for (const p of ofBlock(k))
            expect(p.copies.map(key)).toEqual(/ cell \d+$/.test(p.label) ? [`vsrc:rst_b${k}`] : []);
        expect(plan.partitions.reduce((n, p) => n + p.transistors, 0)).toBe(built.transistors);
      });

      it("keeps each cell with its candidate's summing node, bias references, probes and reset switch", () => {
        for (let k = 0; k < L; k++)
          cellsOf(k).forEach((p, j) => {
            const names = new Set(p.own.map(key));
            expect(names).toContain(`inst:b${k}c${j}`);
            expect(names).toContain(`vsrc:m_b${k}c${j}_in`);
            expect(names).toContain(`vsrc:m_b${k}c${j}`);
            for (const bias of ['thr', 'wid', 'gain']) expect(names).toContain(`isrc:b${k}c${j}_${bias}`);
            if (k > 0) expect(names).toContain(`switch:b${k}c${j}_rst`);
            expect(p.initialConditions.map((ic) => ic.node)).toEqual([`b${k}c${j}_v0`]);
          });
      });

      it('makes the cells of a block independent: none reads another, so they run in one wave', () => {
        const waves = partitionWaves(plan);
        for (let k = 0; k < L; k++) {
          const cells = cellsOf(k).map((p) => p.index);
          for (const p of cellsOf(k)) for (const d of p.after) expect(cells).not.toContain(d);
          expect(waves.some((w) => cells.every((i) => w.includes(i)))).toBe(true);
        }
      });

      it("puts shared rail conversions and bias references in the shared parts: the cells' reads no cell, the outputs' no output", () => {
        for (const p of plan.partitions.filter((q) => q.label.endsWith(' shared'))) {
          for (const e of p.own)
            if (e.type === 'mos') expect(e.name, p.label).toMatch(/^(d_.*_[np]|cv_.*|d_bias_[np]\d+)$/);
          for (const d of p.after)
            expect(plan.partitions[d].label).not.toMatch(
              p.label.endsWith('outputs shared') ? / output \d+$/ : / cell \d+$/,
            );
        }
      });
    });
  }

  it('refuses, split by cell, a cell (an output) that reads another cell (output) of its block (even through a gate)', () => {
    const mos = (name: string, drain: string, gate: string): Element => ({
      type: 'mos',
      name,
      polarity: 'n',
      drain,
      gate,
      source: '0',
      bulk: '0',
      widthUm: 1,
      lengthUm: 1,
    });
    const elements: Element[] = [
      { type: 'comment', text: 'front end' },
      mos('d_a', 'a', 'a'),
      mos('w_b', 'b', 'a'),
      mos('d_b', 'b', 'b'),
      { type: 'comment', text: 'classifier' },
    ];
    const built = { elements, sections: [0, 1, 1, 1, 2], saves: [], initialConditions: [] };
    expect(() => partitionCircuit({ ...built, cellGroups: ['rest', 0, 1, 1, 'rest'] }, { by: 'cell' })).toThrow(
      /does not run before it/,
    );
    // The same read from the block's shared part is a hand-off.
    const plan = partitionCircuit({ ...built, cellGroups: ['rest', 'shared', 1, 1, 'rest'] }, { by: 'cell' });
    // Outputs of a block run side by side too: one reading another is refused the same way.
    expect(() =>
      partitionCircuit({ ...built, cellGroups: ['rest', 'out 0', 'out 1', 'out 1', 'rest'] }, { by: 'cell' }),
    ).toThrow(/block 0 output 1 reads "a" of block 0 output 0, which does not run before it/);
    // A block's rest that is only comments goes with its last unit.
    expect(plan.partitions.map((p) => [p.label, p.after, p.own.length])).toEqual([
      ['front end', [], 1],
      ['block 0 shared', [], 1],
      ['block 0 cell 1', [1], 2],
      ['classifier', [], 1],
    ]);
  });

  it('refuses a circuit where a later section touches an earlier node other than through a gate', () => {
    const elements: Element[] = [
      { type: 'isrc', name: 'a', from: 'vdd_ff', to: 'n1', dcA: 1e-9 },
      { type: 'isrc', name: 'b', from: 'n1', to: '0', dcA: 1e-9 },
    ];
    expect(() => partitionCircuit({ elements, sections: [0, 1], saves: [], initialConditions: [] })).toThrow(
      /other than through a gate/,
    );
  });
});

describe('mergeReplicas', () => {
  const rep = (name: string, gate: string, widthUm: number, lengthUm = 2): Mosfet => ({
    type: 'mos',
    name,
    polarity: 'p',
    drain: 'vdd_ff',
    gate,
    source: 'vdd_ff',
    bulk: 'vdd_ff',
    widthUm,
    lengthUm,
    junction: { drainAreaUm2: widthUm, sourceAreaUm2: widthUm, drainPerimeterUm: 1, sourcePerimeterUm: 1 },
  });

  it('merges the replicas on one rail with the same polarity, length, source and bulk into one of their total width', () => {
    const merged = mergeReplicas([rep('a', 'r1', 1), rep('b', 'r2', 3), rep('c', 'r1', 2.5), rep('d', 'r1', 4, 3)]);
    expect(merged.map((m) => [m.name, m.gate, m.widthUm, m.lengthUm])).toEqual([
      ['a', 'r1', 3.5, 2],
      ['b', 'r2', 3, 2],
      ['d', 'r1', 4, 3],
    ]);
    expect(merged[0].junction).toEqual({
      drainAreaUm2: 3.5,
      sourceAreaUm2: 3.5,
      drainPerimeterUm: 2,
      sourcePerimeterUm: 2,
    });
    expect(merged[0].drain).toBe(merged[0].source);
  });

  it(`begins another device where the sum would pass ${MAX_MERGED_REPLICA_WIDTH_UM} um, as a binned kit's last bin ends`, () => {
    const wide = MAX_MERGED_REPLICA_WIDTH_UM / 2 - 5;
    const merged = mergeReplicas([rep('a', 'r1', wide), rep('b', 'r1', wide), rep('c', 'r1', 11), rep('d', 'r1', 1)]);
    expect(merged.map((m) => [m.name, m.widthUm])).toEqual([
      ['a', 2 * wide],
      ['c', 12],
    ]);
    const at = mergeReplicas([rep('a', 'r1', wide), rep('b', 'r1', MAX_MERGED_REPLICA_WIDTH_UM - wide)]);
    expect(at.map((m) => m.widthUm)).toEqual([MAX_MERGED_REPLICA_WIDTH_UM]);
  });
});

describe('drivenReplicas (second pass)', () => {
  const rep = (name: string, gate: string, widthUm: number): Mosfet => ({
    type: 'mos',
    name,
    polarity: 'p',
    drain: 'vdd_ff',
    gate,
    source: 'vdd_ff',
    bulk: 'vdd_ff',
    widthUm,
    lengthUm: 8,
  });
  const part: Partition = {
    index: 0,
    label: 'front end',
    kind: 'section',
    own: [],
    copies: [],
    after: [],
    replicas: [rep('a', 'r1', 1), rep('b', 'r1', 3), rep('c', 'r2', 2)],
    replicaDrains: [
      { node: 'x', from: 1 },
      { node: 'y', from: 2 },
      { node: 'z', from: 2 },
    ],
    handoffs: [],
    initialConditions: [],
    saves: [],
    copyDrainSaves: [],
    transistors: 0,
  };
  const waves: Record<string, [number, number][] | undefined> = {
    x: [
      [0, 1.0],
      [1, 1.4],
    ],
    y: [
      [0, 1.4],
      [0.5, 1.0],
      [1, 1.0],
    ],
  };
  const elements = drivenReplicas(part, { tolV: 1e-9, globalV: () => 1.8, waveform: (d) => waves[d.node] });

  it("merges a rail's replicas into one whose drain follows the width-weighted mean of their copies' drains", () => {
    const r1 = elements.find((e): e is Mosfet => e.type === 'mos' && e.gate === 'r1')!;
    expect(r1.widthUm).toBe(4);
    const drain = elements.find((e) => e.type === 'recorded' && e.plus === `${r1.drain}_w`);
    // 1/4 of x plus 3/4 of y at the union of their points (x at 0.5 s interpolated: 1.2 V).
    const want = [
      [0, 0.25 * 1.0 + 0.75 * 1.4],
      [0.5, 0.25 * 1.2 + 0.75 * 1.0],
      [1, 0.25 * 1.4 + 0.75 * 1.0],
    ];
    const pwl = drain?.type === 'recorded' ? drain.pwl : [];
    expect(pwl.map(([t]) => t)).toEqual(want.map(([t]) => t));
    pwl.forEach(([, v], k) => expect(v).toBeCloseTo(want[k][1], 12));
  });

  it('drives every device of a group wider than one merged replica from the same drain', () => {
    const wide = { ...part, replicas: [rep('a', 'r1', 70), rep('b', 'r1', 60)] };
    const els = drivenReplicas(wide, { tolV: 1e-9, globalV: () => 1.8, waveform: (d) => waves[d.node] });
    const devices = els.filter((e): e is Mosfet => e.type === 'mos');
    expect(devices.map((m) => [m.widthUm, m.drain])).toEqual([
      [70, devices[0].drain],
      [60, devices[0].drain],
    ]);
    expect(new Set(devices.map((m) => m.name)).size).toBe(2);
    expect(els.filter((e) => e.type === 'recorded')).toHaveLength(1);
  });

  it('reaches each driven drain through an RC low-pass of DRIVEN_DRAIN_TAU_S from its recorded waveform', () => {
    const drains = elements
      .filter((e): e is Mosfet => e.type === 'mos' && e.drain.startsWith('rd'))
      .map((m) => m.drain);
    expect(drains).toHaveLength(1); // r2's replica has no waveform: undriven
    for (const d of drains) {
      // A conductance: a G between the recorded node and the drain, controlled by the same two nodes.
      const g = elements.filter((e) => e.type === 'vccs' && e.minus === d);
      expect(g).toEqual([expect.objectContaining({ plus: `${d}_w`, ctrlPlus: `${d}_w`, ctrlMinus: d })]);
      const c = elements.filter((e) => e.type === 'cap' && e.plus === d);
      expect(c).toEqual([expect.objectContaining({ minus: '0' })]);
      const [gS, cF] = [g[0].type === 'vccs' ? g[0].gainAPerV : NaN, c[0].type === 'cap' ? c[0].capacitanceF : NaN];
      expect(cF / gS).toBeCloseTo(DRIVEN_DRAIN_TAU_S, 15);
      // The replica's nA through the conductance must not move its drain by more than a few microvolts.
      expect(1e-9 / gS).toBeLessThan(1e-5);
    }
    expect(DRIVEN_DRAIN_TAU_S).toBeGreaterThan(0);
  });

  it('puts a driven replica on a private supply (its current stays out of the probes), an undriven one at V_DS = 0', () => {
    const r1 = elements.find((e): e is Mosfet => e.type === 'mos' && e.gate === 'r1')!;
    expect([r1.source, r1.bulk]).toEqual(['vdd_ff_rep', 'vdd_ff_rep']);
    expect(elements).toContainEqual({ type: 'vsrc', name: 'rs_vdd_ff', plus: 'vdd_ff_rep', minus: '0', dcV: 1.8 });
    const r2 = elements.find((e): e is Mosfet => e.type === 'mos' && e.gate === 'r2')!;
    expect([r2.drain, r2.source, r2.widthUm]).toEqual(['vdd_ff', 'vdd_ff', 2]);
    const onSupply = elements.filter((e) => terminals(e).some((t) => t.node === 'vdd_ff'));
    expect(onSupply).toEqual([r2]);
  });
});

describe('keptPoints / compressPwl', () => {
  const time = Float64Array.from({ length: 2001 }, (_, i) => i * 1e-6);
  const a = time.map((t) => 0.4 + 0.05 * Math.exp(-t / 2e-4));
  const b = time.map((t) => (t < 1e-3 ? 0.3 : 0.35));

  it('restores every dropped point within the tolerance by linear interpolation', () => {
    for (const tol of [1e-6, 2e-5, 1e-3]) {
      const kept = keptPoints(time, [a, b], tol);
      for (const y of [a, b]) {
        let j = 0;
        for (let i = 0; i < time.length; i++) {
          while (kept[j + 1] !== undefined && kept[j + 1] <= i) j++;
          if (kept[j] === i) continue;
          const [i0, i1] = [kept[j], kept[j + 1]];
          const f = (time[i] - time[i0]) / (time[i1] - time[i0]);
          expect(Math.abs(y[i0] + f * (y[i1] - y[i0]) - y[i])).toBeLessThanOrEqual(tol * (1 + 1e-9));
        }
      }
    }
  });

  it('keeps the ends, drops the flat stretches, and shares one set of points between waveforms', () => {
    const one = compressPwl(time, b, 2e-5);
    expect(one[0]).toEqual([0, 0.3]);
    expect(one[one.length - 1]).toEqual([time[2000], 0.35]);
    expect(one.length).toBeLessThanOrEqual(4);
    const both = keptPoints(time, [a, b], 2e-5);
    expect(both.length).toBeLessThan(time.length / 10);
    expect(both.length).toBeGreaterThanOrEqual(keptPoints(time, [a], 2e-5).length);
  });

  it('skips points at repeated times', () => {
    expect(compressPwl([0, 1, 1, 2], [0, 1, 5, 0], 1e-9)).toEqual([
      [0, 0],
      [1, 1],
      [2, 0],
    ]);
  });
});

describe('mergeTransientPlots', () => {
  const plot = tranPlot;

  it('keeps each vector on its own grid, sums the named ones on the union grid, takes the rest from the first plot', () => {
    const p0 = plot([0, 2, 4], { 'i(vvdd_ff)': [-1, -3, -5], 'v(a)': [0, 2, 4] });
    const p1 = plot([0, 1, 4], { 'vvdd_ff#branch': [-10, -10, -10], 'v(a)': [9, 9, 9], 'v(b)': [1, 2, 2] });
    const m = mergeTransientPlots([p0, p1], ['i(vvdd_ff)']);
    expect([...vector(m, 'time')]).toEqual([0, 1, 2, 4]);
    // On the union grid, p0's supply read between its points at t = 1: -2; plus p1's -10.
    expect([...vector(m, 'i(vvdd_ff)')]).toEqual([-11, -12, -13, -15]);
    expect(series(m, 'i(vvdd_ff)').timeS).toBe(vector(m, 'time'));
    const a = series(m, 'v(a)');
    expect([...a.timeS, ...a.y]).toEqual([0, 2, 4, 0, 2, 4]);
    const b = series(m, 'v(b)');
    expect([...b.timeS, ...b.y]).toEqual([0, 1, 4, 1, 2, 2]);
    // Paired with the union grid, v(b)'s three points would be read at the wrong times: vector() refuses.
    expect(() => vector(m, 'v(b)')).toThrow(/own time grid: read it with series\(\)/);
    // Nothing is copied: the merged plot holds the partition's own arrays.
    expect(b.y).toBe(p1.real[3]);
  });

  it('sums on the union grid as reading each waveform there and adding would, for random grids with repeated times', () => {
    // The obvious way, written out here: each waveform read at every grid point (held outside its span; at a
    // repeated time the later value), then added up.
    const readAt = (t: number[], y: number[], at: number): number => {
      if (at <= t[0]) return at === t[0] ? y[t.lastIndexOf(t[0])] : y[0];
      if (at >= t[t.length - 1]) return y[t.length - 1];
      let j = 0;
      while (t[j + 1] <= at) j++;
      return t[j] === at ? y[j] : y[j] + ((at - t[j]) / (t[j + 1] - t[j])) * (y[j + 1] - y[j]);
    };
    let seed = 7;
    const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    for (let trial = 0; trial < 20; trial++) {
      const parts = Array.from({ length: 1 + (trial % 5) }, () => {
        const t = [Math.floor(rand() * 3)];
        // Steps of 0 (a repeated time, a jump) to 3, on integers so the expected sums are exact enough to compare.
        while (t.length < 4 + Math.floor(rand() * 12)) t.push(t[t.length - 1] + Math.floor(rand() * 4));
        while (t[t.length - 1] === t[t.length - 2]) t.push(t[t.length - 1] + 1);
        return { t, y: t.map(() => Math.round(rand() * 200 - 100)) };
      });
      const grid = unionGrid(parts.map((p) => Float64Array.from(p.t)));
      const got = sumOnGrid(
        parts.map((p) => ({ timeS: Float64Array.from(p.t), y: Float64Array.from(p.y) })),
        grid,
      );
      const want = [...grid].map((g) => parts.reduce((s, p) => s + readAt(p.t, p.y, g), 0));
      [...got].forEach((v, k) => expect(v).toBeCloseTo(want[k], 9));
    }
  });

  it('unionGrid sorts and keeps equal times once', () => {
    expect([...unionGrid([Float64Array.from([0, 1, 3]), Float64Array.from([0, 2, 3])])]).toEqual([0, 1, 2, 3]);
  });
});

describe('handoffWaveforms and the deck text of recorded rails', () => {
  const time = [0, 1, 2, 3, 4];
  const plot: RawPlot = {
    title: 't',
    date: '',
    plotname: 'Transient Analysis',
    complex: false,
    vectors: [
      { name: 'time', type: 'time' },
      { name: 'v(r1)', type: 'voltage' },
      { name: 'v(r2)', type: 'voltage' },
    ],
    numPoints: time.length,
    // r1 is straight (its middle points are not needed), r2 bends at t = 2.
    real: [Float64Array.from(time), Float64Array.from([0, 1, 2, 3, 4]), Float64Array.from([0, 0, 1, 1, 1])],
  };
  const rails = (nodes: string[]) => nodes.map((node) => ({ node, from: 0, source: `h_${node}` }));

  it('gives every partition that reads the same rails the same arrays, and another rail set its own points', () => {
    const a = handoffWaveforms(rails(['r1', 'r2']), [plot], 1e-6);
    const b = handoffWaveforms(rails(['r1', 'r2']), [plot], 1e-6);
    expect(b.get('r1')).toBe(a.get('r1'));
    // Kept points are shared by the rails of one source: r2's bends at 1 and 2 keep them for r1 too.
    expect(a.get('r1')).toEqual([
      [0, 0],
      [1, 1],
      [2, 2],
      [4, 4],
    ]);
    // Alone, r1 is a straight line: two points, a different array.
    const alone = handoffWaveforms(rails(['r1']), [plot], 1e-6);
    expect(alone.get('r1')).toEqual([
      [0, 0],
      [4, 4],
    ]);
    expect(handoffWaveforms(rails(['r1', 'r2']), [plot], 0.5).get('r1')).not.toBe(a.get('r1'));
    // Told that another partition reads r2 from the same plot, a partition reading r1 alone gets the pair's waveform.
    const told = handoffWaveforms(rails(['r1']), [plot], 1e-6, () => ['r2', 'r1']);
    expect(told.get('r1')).toBe(a.get('r1'));
    expect([...told.keys()]).toEqual(['r1']);
  });

  it('prints a shared recorded rail the same in every deck', () => {
    const pwl = handoffWaveforms(rails(['r1', 'r2']), [plot], 1e-6).get('r2')!;
    const kit = { instance: 'M' } as unknown as Parameters<typeof toSpice>[1];
    const line = (name: string) => toSpice({ type: 'recorded', name, plus: 'r2', minus: '0', pwl }, kit);
    expect(line('h1')).toBe('Bh1 r2 0 V = pwl(time,\n+ 0, 0, 1, 0, 2, 1, 4, 1 )');
    expect(line('h2')).toBe('Bh2 r2 0 V = pwl(time,\n+ 0, 0, 1, 0, 2, 1, 4, 1 )');
  });
});

describe('partitionReltol', () => {
  it("runs partitions at a fifth of the deck's reltol, given or default, and refuses a reltol that is not > 0", () => {
    expect(partitionReltol(undefined)).toBeCloseTo(
      (DEFAULT_SPICE_OPTIONS.reltol as number) * PARTITION_RELTOL_FACTOR,
      15,
    );
    expect(partitionReltol({ reltol: 1e-3 })).toBeCloseTo(2e-4, 15);
    expect(partitionReltol({ reltol: '5e-4' })).toBeCloseTo(1e-4, 15);
    expect(() => partitionReltol({ reltol: 0 })).toThrow(/reltol > 0/);
  });
});

describe('frameEdgeBreakpoints', () => {
  it('puts a corner at every frame edge from 0 to the stop, at 0 V', () => {
    const s = frameEdgeBreakpoints(0.01, 0.03);
    expect(s).toMatchObject({ type: 'vsrc', name: FRAME_EDGES_SOURCE, plus: FRAME_EDGES_SOURCE, minus: '0', dcV: 0 });
    // 3 frames: edges at 0, 10 and 20 ms, then the stop; no second corner at 30 ms from rounding.
    expect(s.pwl).toEqual([
      [0, 0],
      [0.01, 0],
      [0.02, 0],
      [0.03, 0],
    ]);
  });

  it('ends at a stop inside a frame (a time window) without a corner past it', () => {
    expect(frameEdgeBreakpoints(0.01, 0.025).pwl).toEqual([
      [0, 0],
      [0.01, 0],
      [0.02, 0],
      [0.025, 0],
    ]);
  });

  it('is written as a V source, whose PWL corners ngspice steps onto (a B source sets none)', () => {
    const kit = { instance: 'M' } as unknown as Parameters<typeof toSpice>[1];
    expect(toSpice(frameEdgeBreakpoints(0.01, 0.02), kit)).toBe('Vframe_edges frame_edges 0 pwl(0 0 0.01 0 0.02 0)');
    expect(() => frameEdgeBreakpoints(0, 1)).toThrow(RangeError);
  });
});

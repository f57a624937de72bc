/**
 * Partitioned simulation (issue 13, DESIGN §8): the network's circuit cut into sections that ngspice runs one after
 * another, so that no deck holds the whole dense mirror array (LU fill-in grows ~10x per width doubling).
 *
 * The cut follows the element data, not the network: `buildCircuit` records the section each element was placed in
 * (front end, block 0..L-1, classifier), and a section only reads earlier sections' rails, through the gates of
 * mirror copies. A copy whose gate rail lives in an earlier partition P is the boundary:
 *
 * - in its own partition Q the copy stays as it is, and a voltage source replays V(rail)(t) from P's rawfile onto its
 *   gate (a hand-off). The copy's current is a function of its gate, source and drain voltages only, so the voltage
 *   hand-off is exact for its I-V; nothing but the rail's loading differs.
 * - in P a replica of the copy (same device, gate on the rail) keeps the rail's gate load. Its drain sits on its own
 *   source (V_DS = 0): it loads the rail with about the same gate capacitance and draws no supply current, so the
 *   supply power of a partitioned run is the plain sum over partitions (replica junctions are at zero bias too).
 *   What V_DS = 0 misses is the copy's gate-drain coupling as its drain swings; a second pass (`drivenReplicas`,
 *   pipeline.ts `PartitionPasses`) puts the replicas' drains on the first pass's copies' drains.
 *
 * Supplies, ground and the lifted NMOS source are global: every deck has its own ideal sources for them. Bias
 * references are rails like any other: the section that first needs one builds it and later ones get it handed off.
 *
 * Split by cell (`{ by: 'cell' }`), each block is cut further along `BuiltCircuit.cellGroups`: its shared part (the
 * rail conversions and bias references its candidates need), then one partition per cell (the candidate's summing
 * node and the cell, which reads it through the instance's input port), then the outputs' shared part and one
 * partition per output i (u_i, skip h'_i, the next block's ReLU(h'_i); `outputsPerPartition` groups them). The cells
 * of a block read only earlier partitions, never each other, and so do its outputs, so each can run at once; the
 * reset control, which every cell reads through a switch's control (not a gate), is copied into each cell.
 * From `FRONT_END_CUT_FROM_WIDTH` outputs on, the front end is cut the same way: its shared part (the input currents
 * and their diodes, the bias references), then one partition per pre-projection output i (ReLU(h_i) for block 0 and
 * the skip pair of h_i), each reading the input rails handed off; whole, at width 64 it was one 4,800-transistor deck
 * whose dense mirror array cost more CPU than block 0's 64 cells together (docs/partition.md, session 27).
 *
 * @example
 * const built = buildCircuit(net, inputs, { process });
 * const plan = partitionCircuit(built);
 * // run plan.partitions[0] (no hand-offs), read v(node) of each later hand-off from its rawfile, then
 * const elements = partitionElements(plan.partitions[1], (node) => recordedPwl.get(node)!);
 */
import { terminals, type Element, type Mosfet, type RecordedVoltage, type VoltageSource } from './elements.js';
import { CELL_TRANSISTORS } from './cell.js';
import { outputIndex, type BuiltCircuit, type CellGroup } from './generate.js';
import { canonicalVectorName } from '../spice/rawfile.js';
import { voltageProbe } from './deck.js';
import { NMOS_SOURCE_NODE, SUPPLY } from './supplies.js';

/** Nodes every partition deck drives itself: ground, the supply domains, the lifted NMOS source. */
export const GLOBAL_NODES: ReadonlySet<string> = new Set(['0', ...Object.values(SUPPLY), NMOS_SOURCE_NODE]);

/** A rail one partition reads from an earlier one: its voltage, replayed by a source in the reading partition. */
export interface Handoff {
  /** The rail node (the gate of the copies that read it). */
  readonly node: string;
  /** Index of the partition that computes it (whose rawfile holds `v(node)`). */
  readonly from: number;
  /** Name of the recorded-voltage source that replays it (`B<source>` in the deck). */
  readonly source: string;
}

/** One deck's worth of the circuit. */
export interface Partition {
  readonly index: number;
  /**
   * `front end`, `block k`, `classifier`; split by cell `block k shared`, `block k cell j`, `block k outputs shared`,
   * `block k output i` (or `outputs i-j`), and `block k rest` when anything untagged is left.
   */
  readonly label: string;
  /** A whole section, or (split by cell) a block's shared part, one of its cells, one (group) of its outputs, rest. */
  readonly kind: 'section' | 'shared' | 'cell' | 'output' | 'rest';
  /** The circuit's elements placed in this section, in the generator's order (comments included). */
  readonly own: readonly Element[];
  /** Ideal sources other cells' partitions hold too (the block's reset control, group `each`); no transistors. */
  readonly copies: readonly Element[];
  /** Partitions whose rawfiles this one reads (its hand-offs' `from`), ascending: it can start when they are done. */
  readonly after: readonly number[];
  /** Gate-load replicas of the copies later partitions make of this partition's rails (V_DS = 0, see above). */
  readonly replicas: readonly Mosfet[];
  /** Per replica (same index), the drain of the copy it stands for and the partition holding that copy. */
  readonly replicaDrains: readonly ReplicaDrain[];
  /** `v(node)` of the drains of this partition's cut copies not in `saves`: what a second pass reads. */
  readonly copyDrainSaves: readonly string[];
  /** Rails this partition reads from earlier ones, each replayed by a voltage source. */
  readonly handoffs: readonly Handoff[];
  /** The circuit's `.ic` entries for nodes of this partition. */
  readonly initialConditions: readonly { readonly node: string; readonly voltageV: number }[];
  /** Vectors to save: the circuit's probes that live here and the rails later partitions read. */
  readonly saves: readonly string[];
  /** Transistors of `own` (a cell instance counts 9), replicas not included. */
  readonly transistors: number;
}

/** Where the copy a replica stands for has its drain: `node` in partition `from` (which saves `v(node)`). */
export interface ReplicaDrain {
  readonly node: string;
  readonly from: number;
}

export interface PartitionPlan {
  /** In dependency order: a partition's hand-offs all come from partitions before it. */
  readonly partitions: readonly Partition[];
}

/**
 * Front-end outputs (the network's width) from which a run split by cell cuts the front end per output too. Measured
 * per cell on 2 workers, 22 frames, front end whole against cut (`BENCH_FRONT_END_CUT=1000` / `=0 BENCH_WINDOWS=2
 * node bench/partition-wide.mjs <width> 22`, session 28): wall 4.5 / 5.1 s at width 4, 11.6 / 10.9 s at 8,
 * 37.3 / 31.9 s at 16, 117.7 / 85.0 s at 32 (at 64, session 27: 392.9 / 293.6 s). Below 16 the cut buys nothing and
 * its hand-offs cost accuracy (the example's whole clip, worst candidate against the monolithic run: 0.195% whole,
 * 0.699% cut on c180; docs/partition.md).
 */
export const FRONT_END_CUT_FROM_WIDTH = 16;

/** How finely `partitionCircuit` cuts: a partition per section, or each block further per cell. */
export type PartitionBy = 'block' | 'cell';

const sectionLabel = (s: number, last: number): string =>
  s === 0 ? 'front end' : s === last ? 'classifier' : `block ${s - 1}`;

/**
 * Split a built circuit at its section boundaries (`BuiltCircuit.sections`). A node belongs to the first section
 * that touches it (the one that builds its diode); a later section may reach it only through a MOSFET gate.
 *
 * @throws Error (internal) when a later section touches an earlier node other than through a gate (a current would
 *   cross the cut), or when a boundary copy's source is not a global node (its replica could not sit at V_DS = 0)
 */
export function partitionCircuit(
  built: Pick<BuiltCircuit, 'elements' | 'sections' | 'saves' | 'initialConditions'> &
    Partial<Pick<BuiltCircuit, 'cellGroups'>>,
  options: {
    readonly by?: PartitionBy;
    readonly outputsPerPartition?: number;
    /** Split by cell: cut the front end per output once it has at least this many (`FRONT_END_CUT_FROM_WIDTH`). */
    readonly frontEndCutFromWidth?: number;
  } = {},
): PartitionPlan {
  const { elements, sections } = built;
  const by = options.by ?? 'block';
  if (sections.length !== elements.length)
    throw new Error(`internal: ${sections.length} section tags for ${elements.length} elements`);
  const groups = built.cellGroups;
  if (by === 'cell' && groups?.length !== elements.length)
    throw new Error(`internal: ${groups?.length ?? 0} cell groups for ${elements.length} elements`);
  const last = Math.max(0, ...sections);
  const perGroup = options.outputsPerPartition ?? 1;
  if (!Number.isInteger(perGroup) || perGroup < 1)
    throw new Error(`internal: outputsPerPartition ${perGroup}, expected an integer >= 1`);
  // The units, in dependency order: per section, or per block shared, cell 0..C-1, outputs shared, outputs, rest.
  // `peers` names units of a block that run side by side (its cells, its outputs) and so must not read each other.
  const units: { label: string; section: number; kind: Partition['kind']; cell?: number; peers?: string }[] = [];
  const unitOf = new Map<string, number>();
  // By cell, every block is cut; the front end too (into its shared part and outputs) once it is wide enough. Its
  // outputs are the network's width, as every block's are: the output groups there are.
  const width = new Set((groups ?? []).filter((g) => outputIndex(g) !== undefined)).size;
  const cutFrontEnd = width >= (options.frontEndCutFromWidth ?? FRONT_END_CUT_FROM_WIDTH);
  const split = (s: number) => by === 'cell' && s < last && (s > 0 || cutFrontEnd);
  const keyOf = (s: number, g: CellGroup) => {
    if (!split(s)) return `${s}`;
    const o = outputIndex(g);
    return o === undefined ? `${s}:${g}` : `${s}:out ${Math.floor(o / perGroup)}`;
  };
  for (let s = 0; s <= last; s++) {
    const inSection = elements.flatMap((e, i) => (sections[i] === s ? [{ g: groups?.[i] ?? 'rest', e }] : []));
    if (!split(s)) {
      unitOf.set(`${s}`, units.length);
      units.push({ label: sectionLabel(s, last), section: s, kind: 'section' });
      continue;
    }
    const cells = [...new Set(inSection.flatMap(({ g }) => (typeof g === 'number' ? [g] : [])))].sort((a, b) => a - b);
    const outputs = [...new Set(inSection.flatMap(({ g }) => (outputIndex(g) === undefined ? [] : [outputIndex(g)!])))];
    const outs = new Map<number, number[]>();
    for (const o of outputs.sort((a, b) => a - b)) {
      const key = Math.floor(o / perGroup);
      outs.set(key, [...(outs.get(key) ?? []), o]);
    }
    const add = (
      key: string,
      label: string,
      kind: Partition['kind'],
      extra: { cell?: number; peers?: string } = {},
    ) => {
      unitOf.set(`${s}:${key}`, units.length);
      units.push({ label: `${sectionLabel(s, last)} ${label}`, section: s, kind, ...extra });
    };
    const has = (g: CellGroup) => inSection.some((x) => x.g === g);
    const restUsed = inSection.some(({ g, e }) => g === 'rest' && e.type !== 'comment');
    if (has('shared')) add('shared', 'shared', 'shared');
    for (const j of cells) add(`${j}`, `cell ${j}`, 'cell', { cell: j, peers: 'cell' });
    if (has('outShared')) add('outShared', 'outputs shared', 'shared');
    for (const [o, members] of outs) {
      const label = members.length === 1 ? `output ${members[0]}` : `outputs ${members[0]}-${members.at(-1)}`;
      add(`out ${o}`, label, 'output', { peers: 'output' });
    }
    // A section's rest: whatever is left untagged; when that is only comments, they go with the section's last unit;
    // a section with nothing but its rest stays whole, as unsplit.
    if (units.at(-1)?.section !== s) {
      unitOf.set(`${s}:rest`, units.length);
      units.push({ label: sectionLabel(s, last), section: s, kind: 'section' });
    } else if (restUsed) add('rest', 'rest', 'rest');
    else unitOf.set(`${s}:rest`, units.length - 1);
  }
  const count = units.length;
  const unitAt = elements.map((_, i) => {
    const g = groups?.[i] ?? 'rest';
    return g === 'each' && split(sections[i]) ? -1 : unitOf.get(keyOf(sections[i], g))!;
  });
  // Nodes of the copied sources: local to every cell partition of their block.
  const copiedNodes = new Map<string, number>();
  elements.forEach((e, i) => {
    if (unitAt[i] >= 0) return;
    for (const { node } of terminals(e)) if (!GLOBAL_NODES.has(node)) copiedNodes.set(node, sections[i]);
  });
  const home = new Map<string, number>();
  elements.forEach((e, i) => {
    if (unitAt[i] < 0) return;
    for (const { node } of terminals(e))
      if (!GLOBAL_NODES.has(node) && !copiedNodes.has(node) && !home.has(node)) home.set(node, unitAt[i]);
  });
  const own: Element[][] = Array.from({ length: count }, () => []);
  const copies: Element[][] = Array.from({ length: count }, () => []);
  const replicas: Mosfet[][] = Array.from({ length: count }, () => []);
  const replicaDrains: ReplicaDrain[][] = Array.from({ length: count }, () => []);
  const copyDrains = Array.from({ length: count }, () => new Set<string>());
  const handoffs: Map<string, Handoff>[] = Array.from({ length: count }, () => new Map());
  const handedOff = Array.from({ length: count }, () => new Set<string>());
  const unitOfSource = new Map<string, number>();
  elements.forEach((e, i) => {
    const q = unitAt[i];
    if (q < 0) {
      units.forEach((u, c) => {
        if (u.section === sections[i] && u.cell !== undefined) copies[c].push(e);
      });
      return;
    }
    own[q].push(e);
    if (e.type === 'comment') return;
    if (e.type === 'vsrc') unitOfSource.set(e.name, q);
    for (const { node, gate } of terminals(e)) {
      const copied = copiedNodes.get(node);
      if (copied !== undefined) {
        if (units[q].section !== copied || units[q].cell === undefined)
          throw new Error(
            `internal: element ${JSON.stringify(e.name)} of ${units[q].label} reads ${JSON.stringify(node)}, which only the cells' copies drive`,
          );
        continue;
      }
      const p = home.get(node);
      if (p === undefined || p === q) continue;
      if (!gate || e.type !== 'mos')
        throw new Error(
          `internal: element ${JSON.stringify(e.name)} of ${units[q].label} connects to node ${JSON.stringify(node)} of ${units[p].label} other than through a gate`,
        );
      if (
        p > q ||
        (units[p].peers !== undefined && units[p].peers === units[q].peers && units[p].section === units[q].section)
      )
        throw new Error(
          `internal: element ${JSON.stringify(e.name)} of ${units[q].label} reads ${JSON.stringify(node)} of ${units[p].label}, which does not run before it`,
        );
      if (!GLOBAL_NODES.has(e.source))
        throw new Error(
          `internal: boundary copy ${JSON.stringify(e.name)} has its source on ${JSON.stringify(e.source)}, not a supply`,
        );
      replicas[p].push({ ...e, name: `rep_${e.name}`, drain: e.source });
      replicaDrains[p].push({ node: e.drain, from: q });
      if (!GLOBAL_NODES.has(e.drain)) copyDrains[q].add(e.drain);
      if (!handoffs[q].has(node)) handoffs[q].set(node, { node, from: p, source: `ho_${node}` });
      handedOff[p].add(node);
    }
  });
  const savesOf: string[][] = Array.from({ length: count }, () => []);
  for (const v of built.saves) {
    const c = canonicalVectorName(v);
    const branch = /^v(.+)#branch$/.exec(c);
    const s = branch ? unitOfSource.get(branch[1]) : home.get(c);
    if (s === undefined) throw new Error(`internal: saved vector ${JSON.stringify(v)} is on no element`);
    savesOf[s].push(v);
  }
  const partitions = own.map((elems, s): Partition => {
    const ho = [...handoffs[s].values()];
    return {
      index: s,
      label: units[s].label,
      kind: units[s].kind,
      own: elems,
      copies: copies[s],
      after: [...new Set(ho.map((h) => h.from))].sort((a, b) => a - b),
      replicas: replicas[s],
      replicaDrains: replicaDrains[s],
      handoffs: ho,
      initialConditions: built.initialConditions.filter((ic) => home.get(ic.node) === s),
      saves: [...savesOf[s], ...[...handedOff[s]].map(voltageProbe)],
      copyDrainSaves: newVectors(
        [...savesOf[s], ...[...handedOff[s]].map(voltageProbe)],
        [...copyDrains[s]].map(voltageProbe),
      ),
      transistors: elems.reduce((n, e) => n + (e.type === 'mos' ? 1 : e.type === 'inst' ? CELL_TRANSISTORS : 0), 0),
    };
  });
  return { partitions };
}

/** The vectors of `more` not in `have` (by canonical spelling: a copy's drain may be a probed or handed-off node). */
function newVectors(have: readonly string[], more: readonly string[]): string[] {
  const seen = new Set(have.map(canonicalVectorName));
  return more.filter((n) => !seen.has(canonicalVectorName(n)));
}

/**
 * The partitions in waves that can run at once: each wave holds the partitions whose `after` are all in earlier
 * waves (a partition's wave is one past the latest of its dependencies'). Indices into `plan.partitions`.
 */
export function partitionWaves(plan: PartitionPlan): number[][] {
  const wave: number[] = [];
  const waves: number[][] = [];
  for (const p of plan.partitions) {
    const w = Math.max(-1, ...p.after.map((d) => wave[d])) + 1;
    wave[p.index] = w;
    (waves[w] ??= []).push(p.index);
  }
  return waves;
}

/**
 * Widest merged replica (um): GF180MCU's binned 3.3 V cards end at W = 100 um (sm141064.ngspice, `wmax =
 * 0.000100001`), and a device past its kit's last bin has no model ("could not find a valid modelname"). With the
 * front end cut per output (session 27), an input rail's replicas at width 8 summed to 109 um.
 */
export const MAX_MERGED_REPLICA_WIDTH_UM = 100;

/**
 * The replicas on one rail as few devices: those of the same polarity, length, source and bulk merged into one whose
 * width (and junction geometry) is their sum, a new one begun where the sum would pass `MAX_MERGED_REPLICA_WIDTH_UM`.
 * At V_DS = 0 a replica is only gate capacitance, ~linear in W at fixed L; one device instead of many is what keeps a
 * partition that hands its rails to many readers cheap (width 8, per cell: the front end's input rails carried 624
 * replicas, 2.3 CPU-s of that partition's 2.4).
 */
export function mergeReplicas(replicas: readonly Mosfet[]): Mosfet[] {
  const merged = new Map<string, Mosfet>();
  const done: Mosfet[] = [];
  for (const r of replicas) {
    const key = [r.gate, r.polarity, r.source, r.bulk, r.lengthUm].join('|');
    const have = merged.get(key);
    if (!have || have.widthUm + r.widthUm > MAX_MERGED_REPLICA_WIDTH_UM) {
      if (have) done.push(have);
      merged.set(key, r);
      continue;
    }
    const a = have.junction;
    const b = r.junction;
    merged.set(key, {
      ...have,
      widthUm: have.widthUm + r.widthUm,
      ...(a && b
        ? {
            junction: {
              drainAreaUm2: a.drainAreaUm2 + b.drainAreaUm2,
              sourceAreaUm2: a.sourceAreaUm2 + b.sourceAreaUm2,
              drainPerimeterUm: a.drainPerimeterUm + b.drainPerimeterUm,
              sourcePerimeterUm: a.sourcePerimeterUm + b.sourcePerimeterUm,
            },
          }
        : {}),
    });
  }
  return [...done, ...merged.values()];
}

/** A piecewise-linear waveform: (time s, value) points, time strictly increasing. */
export type Pwl = readonly (readonly [number, number])[];

/** How replicas' drains are driven: per replica a waveform for its drain, or undefined to keep it at V_DS = 0. */
export interface ReplicaDrive {
  /** The drain waveform of the replica standing for the copy whose drain is `d`. */
  readonly waveform: (d: ReplicaDrain, replica: Mosfet) => Pwl | undefined;
  /** The voltage of a global node (a supply, the lifted NMOS source): a driven replica's private source. */
  readonly globalV: (node: string) => number;
  /** Thinning tolerance (V) of a merged drain waveform (`keptPoints`). */
  readonly tolV: number;
}

/**
 * Replicas with driven drains: those on one rail (same polarity, length, source, bulk) merged into one device whose
 * width is their sum and whose drain follows the width-weighted mean of their drain waveforms, which gives the same
 * gate-drain coupling onto the rail as the copies (C_gd ~ W at fixed L) and the same operating region. Each merged
 * device's source is a private copy of its supply, so its current stays out of the supply probes. Replicas the drive
 * leaves undriven stay at V_DS = 0 (`mergeReplicas`).
 */
export function drivenReplicas(p: Partition, drive: ReplicaDrive): Element[] {
  const groups = new Map<string, { r: Mosfet; w: Pwl }[]>();
  const idle: Mosfet[] = [];
  p.replicas.forEach((r, i) => {
    const w = drive.waveform(p.replicaDrains[i], r);
    if (w === undefined || w.length === 0) {
      idle.push(r);
      return;
    }
    const key = [r.gate, r.polarity, r.source, r.bulk, r.lengthUm].join('|');
    groups.set(key, [...(groups.get(key) ?? []), { r, w }]);
  });
  const out: Element[] = [...mergeReplicas(idle)];
  const privateSupplies = new Map<string, string>();
  let n = 0;
  for (const members of groups.values()) {
    // One group may merge into more than one device (`MAX_MERGED_REPLICA_WIDTH_UM`): all share its drain.
    const devices = mergeReplicas(members.map((m) => m.r));
    let source = devices[0].source;
    if (source !== '0') {
      if (!privateSupplies.has(source)) {
        privateSupplies.set(source, `${source}_rep`);
        out.push({ type: 'vsrc', name: `rs_${source}`, plus: `${source}_rep`, minus: '0', dcV: drive.globalV(source) });
      }
      source = privateSupplies.get(source)!;
    }
    const drain = `rd${n++}_${devices[0].gate}`;
    out.push(
      { type: 'recorded', name: drain, plus: `${drain}_w`, minus: '0', pwl: weightedMean(members, drive.tolV) },
      ...drainLowPass(`${drain}_w`, drain),
    );
    devices.forEach((merged, k) =>
      out.push({
        ...merged,
        name: k === 0 ? `rep_${drain}` : `rep_${drain}_${k}`,
        drain,
        source,
        bulk: merged.bulk === merged.source ? source : merged.bulk,
      }),
    );
  }
  return out;
}

/**
 * Time constant of the low-pass between a driven replica's recorded drain waveform and its drain. A recorded
 * waveform is piecewise linear, and each corner is a jump in dV/dt and so in the replica's charge current, which
 * ngspice's truncation-error control meets with a rejected step and a shorter one: the width-8 front end's second
 * pass took 1473 accepted and 606 rejected time points, where one pass took 519 and 82 (its drains held at their
 * mean: 514 and 77). Through 10 us of RC the corners are rounded, and what couples onto the rail (C_gd times the
 * swing) is the same, 10 us later: a frame is 10 ms and a drain settles over milliseconds (docs/partition.md).
 */
export const DRIVEN_DRAIN_TAU_S = 10e-6;
/**
 * The low-pass's conductance (S); its capacitor is tau times this. The replica's own current (nA) flows through it:
 * at 1 mS that moves the drain by microvolts, where 1 uS would have moved it by millivolts as the current changed.
 */
const DRIVEN_DRAIN_G_S = 1e-3;

/** An RC low-pass from `from` (a driven node) to `to`: a conductance (a `G` on its own voltage) and a capacitor. */
function drainLowPass(from: string, to: string): Element[] {
  return [
    {
      type: 'vccs',
      name: `lp_${to}`,
      plus: from,
      minus: to,
      ctrlPlus: from,
      ctrlMinus: to,
      gainAPerV: DRIVEN_DRAIN_G_S,
    },
    { type: 'cap', name: `lp_${to}`, plus: to, minus: '0', capacitanceF: DRIVEN_DRAIN_TAU_S * DRIVEN_DRAIN_G_S },
  ];
}

/** The width-weighted mean of the members' drain waveforms on the union of their points, thinned within tolV. */
function weightedMean(members: readonly { r: Mosfet; w: Pwl }[], tolV: number): Pwl {
  if (members.length === 1)
    return compressPwl(
      members[0].w.map((x) => x[0]),
      members[0].w.map((x) => x[1]),
      tolV,
    );
  const grid = [...new Set(members.flatMap((m) => m.w.map((x) => x[0])))].sort((a, b) => a - b);
  const total = members.reduce((s, m) => s + m.r.widthUm, 0);
  const mean = new Float64Array(grid.length);
  for (const { r, w } of members) {
    let j = 0;
    grid.forEach((t, k) => {
      while (j < w.length - 1 && w[j + 1][0] <= t) j++;
      const v =
        t <= w[0][0]
          ? w[0][1]
          : j >= w.length - 1
            ? w[w.length - 1][1]
            : w[j][1] + ((t - w[j][0]) / (w[j + 1][0] - w[j][0])) * (w[j + 1][1] - w[j][1]);
      mean[k] += (r.widthUm / total) * v;
    });
  }
  return compressPwl(grid, mean, tolV);
}

/**
 * The elements of one partition's deck: its own, its replicas, and a voltage source per hand-off replaying the rail
 * as `waveform(node)` gives it (from the partition that computes it; see `compressPwl`). With `drive` (a second
 * pass), the replicas' drains follow their copies' drains (`drivenReplicas`); without, they sit at V_DS = 0.
 */
export function partitionElements(p: Partition, waveform: (h: Handoff) => Pwl, drive?: ReplicaDrive): Element[] {
  const sources = p.handoffs.map((h): RecordedVoltage => {
    const pwl = waveform(h);
    if (pwl.length === 0) throw new Error(`internal: empty hand-off waveform for ${h.node}`);
    return { type: 'recorded', name: h.source, plus: h.node, minus: '0', pwl };
  });
  return [
    ...p.own,
    ...(p.copies.length > 0
      ? [{ type: 'comment', text: 'copies: sources every cell partition of the block holds' } as const, ...p.copies]
      : []),
    ...(p.replicas.length > 0
      ? [
          {
            type: 'comment',
            text: drive
              ? 'replicas: loads of copies in later partitions (drains following the copies drains)'
              : 'replicas: gate loads of copies in later partitions (V_DS = 0)',
          } as const,
        ]
      : []),
    ...(drive ? drivenReplicas(p, drive) : mergeReplicas(p.replicas)),
    ...(sources.length > 0
      ? [{ type: 'comment', text: 'hand-offs: rails of earlier partitions, replayed from their rawfiles' } as const]
      : []),
    ...sources,
  ];
}

/** Name (and node) of the source that puts a breakpoint at each frame edge of a partition's deck. */
export const FRAME_EDGES_SOURCE = 'frame_edges';

/**
 * A 0 V source whose piecewise-linear corners sit at every frame edge of [0, tStopS]: ngspice steps onto each corner
 * of a `V` source's PWL (a breakpoint), never over it. The monolithic deck gets these from its input sources; a
 * partition's hand-offs are `B` sources, which set none (`RecordedVoltage`), so its solver may step from before an
 * edge to after it and interpolate a rail that is flat until the edge as if it rose from the last point before it.
 * Measured on the example's first 10 frames with every partition at reltol 1e-4: a block-0 candidate 0.74% off the
 * monolithic run at frame 0's sample point, because the shared partition's rail had points at 9.80 and 10.00 ms
 * only and the cell's deck read it rising from 9.80 ms.
 */
export function frameEdgeBreakpoints(frameS: number, tStopS: number): VoltageSource {
  if (!(frameS > 0 && tStopS > 0)) throw new RangeError(`expected frameS, tStopS > 0, got ${frameS}, ${tStopS}`);
  const pwl: [number, number][] = [];
  // A corner at t = 0 and at every whole frame before the stop, then one at the stop (a window may end mid-frame).
  for (let k = 0; k * frameS < tStopS * (1 - 1e-12); k++) pwl.push([k * frameS, 0]);
  pwl.push([tStopS, 0]);
  return { type: 'vsrc', name: FRAME_EDGES_SOURCE, plus: FRAME_EDGES_SOURCE, minus: '0', dcV: 0, pwl };
}

/**
 * Tolerance of a hand-off's PWL against the recorded rail (V): 10 uV is 0.03% of a subthreshold copy's current
 * (n U_T ~ 36 mV per e-fold). 20 uV (0.05%, a tenth of the 0.5% the partitioned run must hold candidates to) left the
 * width-16 bench network on GF180MCU 0.547% off the monolithic run (a 0.034 I_unit candidate of block 1); 10 uV
 * 0.229%, 5 uV 0.228%, at the same ngspice CPU (`BENCH_PROCESS=gf180mcu BENCH_MODES=block node bench/partition.mjs
 * 16:3`, session 26; docs/partition.md).
 */
export const HANDOFF_TOLERANCE_V = 10e-6;

/**
 * The hand-off tolerance split by cell (V). A block's candidates then reach the next block through more hand-offs
 * (front end -> shared -> cell -> rest -> next cells), and a small candidate is the difference of terms of ~I_unit
 * each, so their errors add up, magnified: on the width-16 bench network a 0.1 I_unit candidate (block 1, frame 0)
 * came out 1.9% off the monolithic run at 20 uV, 0.44% at 5 uV and 0.2% at 2 uV (against the per-block run).
 */
export const CELL_HANDOFF_TOLERANCE_V = 2e-6;

/**
 * The points of recorded waveforms on one time grid to keep so that linear interpolation between kept points
 * restores every waveform within `tol` at every dropped point ("swing door": one pass keeping, per waveform, the
 * range of slopes from the last kept point that passes every point since within tol; a point is kept when the
 * next one falls outside any waveform's range). Each point of a PWL source is a breakpoint ngspice steps on, and
 * the hand-offs of one partition all come from few grids: choosing their points together makes their
 * breakpoints shared (measured on width 8: the rails' own choices made the reading partition take 3.4x the
 * points of the monolithic run). Points at non-increasing times are dropped. Returns indices into `time`.
 */
export function keptPoints(time: ArrayLike<number>, ys: readonly ArrayLike<number>[], tol: number): number[] {
  const n = time.length;
  if (n === 0) return [];
  const m = ys.length;
  const kept = [0];
  let a = 0; // the last kept point
  const lo = new Float64Array(m).fill(-Infinity);
  const hi = new Float64Array(m).fill(Infinity);
  let prev = 0; // the last point accepted (strictly increasing time)
  for (let i = 1; i < n; i++) {
    if (!(time[i] > time[prev])) continue;
    let out = false;
    for (let w = 0; w < m && !out; w++) {
      const s = (ys[w][i] - ys[w][a]) / (time[i] - time[a]);
      out = s < lo[w] || s > hi[w];
    }
    if (out) {
      // The point before this one ends the segment; the slope windows restart from it.
      kept.push(prev);
      a = prev;
      lo.fill(-Infinity);
      hi.fill(Infinity);
    }
    const d = time[i] - time[a];
    for (let w = 0; w < m; w++) {
      lo[w] = Math.max(lo[w], (ys[w][i] - tol - ys[w][a]) / d);
      hi[w] = Math.min(hi[w], (ys[w][i] + tol - ys[w][a]) / d);
    }
    prev = i;
  }
  if (kept[kept.length - 1] !== prev) kept.push(prev);
  return kept;
}

/** One recorded waveform as a PWL within `tol` of it (`keptPoints` for one waveform). */
export function compressPwl(time: ArrayLike<number>, y: ArrayLike<number>, tol: number): [number, number][] {
  return keptPoints(time, [y], tol).map((i) => [time[i], y[i]]);
}

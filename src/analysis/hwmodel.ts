/**
 * The hardware-aware software model: the circuit's own current-mode simulator, per process, from measured tables
 * only (nothing fitted on a clip). It runs the circuit the generator builds, element for element, with each
 * building block as `bmru calibrate` measured it (`calibration.json` key `hardware`, netlist/hardware-tables.ts):
 *
 * - every mirror copy at its own gain (width ratio -> gain by polarity and load, the calibration's mirror tables),
 *   the unity copies that convert a rail included, and the sourcing and sinking copies of one signed weight apart
 *   (the realised network averages them into one number);
 * - every summing node as its diode does it (`knee`): a node that should be off (net current h <= 0) still passes
 *   pA, more the harder nothing pulls it down; and every copy as it copies (`copy`): a rail at zero still passes its
 *   copies' floor (c180: 2 pA per unit NMOS copy);
 * - every cell with the realised thresholds and ON level, its OFF state current against its input (`cellOff`), and
 *   its ON branch's real end below the beta_lo where V0 crosses VDD/2 (`cellFold`): an input just below beta_lo
 *   reads OFF but the cell comes back ON;
 * - time, within each frame (`railCharge`, `cellSwitch`): a rail of diode current r fed I moves as
 *   Q dr/dt = r (I - r) (weak inversion, Q = n U_T C from the gates and drains on it), so a rail rises from near zero
 *   slowly and falls fast when pulled, and chains of different speed meeting at a summing node make its current
 *   overshoot after an input edge; a cell latches when its input stays past a threshold for the measured switching
 *   time at that overdrive. The frame is stepped on a geometric grid after each edge (4.8 us .. 9.8 ms) and read at
 *   98% of the frame, as the comparator reads the circuit; only rails that are still moving are evaluated.
 *
 * The circuit is read from `buildCircuit`'s elements, not re-derived from the network, so a generator choice (a
 * rail conversion, a dropped weight, a bias mirror) is simulated as built. `hardwareAwareNetwork` compiles once;
 * `runHardwareAware` is a pure function of the compiled model and the inputs with the same `Trace` as `runNetwork`.
 * Without the `hardware` tables (an older calibration.json) it is the realised network with per-copy gains.
 *
 * @example
 * const hw = hardwareAwareNetwork(net, process, calibration);
 * const trace = runHardwareAware(hw, inputs); // candidates, states, block outputs, logits, decision
 */
import type { Network } from '../model/types.js';
import { cellThresholds } from '../model/types.js';
import { argmax, majority, type InputSequence, type Trace } from '../model/network.js';
import { buildCircuit, type GenerateOptions } from '../netlist/generate.js';
import type { HwawareBuilder } from '../compare/references.js';
import { forward, type Calibration } from '../netlist/calibration.js';
import { CELL_PORTS, CELL_SUBCKT } from '../netlist/cell.js';
import { currentProbe, voltageProbe } from '../netlist/deck.js';
import type { Element, Mosfet } from '../netlist/elements.js';
import type { Process } from '../netlist/process.js';
import { mirrorRatio } from '../netlist/geometry.js';
import type { HardwareTables, SwitchTimes } from '../netlist/hardware-tables.js';
import { onGrid } from '../netlist/hardware-tables.js';
import {
  commitAt,
  copyAt,
  curveAt,
  kneeAt,
  packCopy,
  packKnee,
  railStep,
  switchTime,
  type PackedCopy,
  type PackedKnee,
} from './hwmodel-lookups.js';

export { railStep };

const KIND_SUM = 0;
const KIND_INPUT = 1;
const KIND_CELL = 2;

/** What `runHardwareAware` executes: the circuit's rails in evaluation order, as flat arrays (software units). */
export interface HardwareAwareModel {
  /** The network the circuit realises (calibration-inverted, quantised): what `runNetwork` would be fed. */
  readonly realised: Network;
  readonly process: string;
  /** Which measured effects are in (the tables the calibration has). */
  readonly features: {
    readonly knee: boolean;
    readonly copy: boolean;
    readonly cellOff: boolean;
    readonly cellFold: boolean;
    readonly dynamics: boolean;
  };
  /** Frame period (s). */
  readonly frameS: number;
  /** Rails (nodes held by a diode, or a cell's output), in evaluation order. */
  readonly nodes: readonly string[];
  /** Per rail: 0 summing node, 1 input, 2 cell output. */
  readonly kind: Uint8Array;
  /** Per rail: 0 NMOS diode, 1 PMOS diode. */
  readonly polarity: Uint8Array;
  /** Per rail: input -> feature index, cell output -> cell index (block * cells + unit). */
  readonly ref: Int32Array;
  /** Per input rail: +1 carries max(x, 0), -1 carries max(-x, 0). */
  readonly sign: Int8Array;
  /** Gate area on the rail (um^2: its diode, the copies reading it, a cell's M1 or M4) and drain width into it (um). */
  readonly gateAreaUm2: Float64Array;
  readonly drainWidthUm: Float64Array;
  /** Per rail: charge per e-fold of its current (units x s; 0: no dynamics) and the current it charges from at zero (units). */
  readonly charge: Float64Array;
  readonly zero: Float64Array;
  /** Constant currents into the rail from bias sources, split by direction (units). */
  readonly constP: Float64Array;
  readonly constN: Float64Array;
  /**
   * Terms of rail i: termStart[i]..termStart[i+1]; each a source and a gain, negative when it opposes. The source
   * is 2 * rail + 1 for a copy into a diode of its own type, 2 * rail into one of the other type.
   */
  readonly termStart: Int32Array;
  readonly termSrc: Int32Array;
  readonly termGain: Float64Array;
  /** Rails that read rail i: userStart[i]..userStart[i+1] into users. */
  readonly userStart: Int32Array;
  readonly users: Int32Array;
  /**
   * Per cell (block * cells + unit): its input rail; beta_lo and beta_hi where V0 crosses VDD/2 (the realised ones,
   * what the state reads), the ON branch's end foldLo (<= beta_lo); ON level; s0; OFF curve (x input, y current).
   */
  readonly cellIn: Int32Array;
  readonly betaLo: Float64Array;
  readonly betaHi: Float64Array;
  readonly foldLo: Float64Array;
  readonly alpha: Float64Array;
  readonly s0: Uint8Array;
  readonly offX: readonly Float64Array[];
  readonly offY: readonly Float64Array[];
  /** Per cell: ln(switching time / s) at `switchLogOverdrives`, turning ON (at beta_hi) and OFF (at the fold). */
  readonly switchOn: readonly Float64Array[];
  readonly switchOff: readonly Float64Array[];
  readonly switchLogOverdrives: Float64Array;
  /** Per cell: where a cell turning ON is committed, as a fraction of the switching time, at `commitLogOverdrives`. */
  readonly commitOn: readonly Float64Array[];
  readonly commitLogOverdrives: Float64Array;
  /** Rails read out: candidates [block][unit], block outputs pos/neg [block][row], logits pos/neg [class] (-1: none). */
  readonly candidateRail: Int32Array;
  readonly hPosRail: Int32Array;
  readonly hNegRail: Int32Array;
  readonly logitPosRail: Int32Array;
  readonly logitNegRail: Int32Array;
  readonly knee: readonly [PackedKnee | undefined, PackedKnee | undefined];
  /** Copy curves for rails of NMOS / PMOS diodes; absent: a copy passes its rail's current times its gain. */
  readonly copy: readonly [PackedCopy | undefined, PackedCopy | undefined];
  /** Current probe vector (`i(vm_...)`, as the circuit's rawfile names it) -> the rail whose diode it reads. */
  readonly probes: Readonly<Record<string, number>>;
  /**
   * Elements of the circuit the model does not simulate, by card name: the reset switches and their controls
   * (the model starts each block in s0 itself), the cell input filter's capacitors when the tables lack
   * `railCharge.capQPerF` (older calibrations), and anything a newer generator adds that it does not know.
   */
  readonly unmodelled: readonly string[];
}

/** Union-find over node names (0 V probes join a node to its diode's drain). */
class Nodes {
  private readonly parent = new Map<string, string>();
  find(n: string): string {
    let p = this.parent.get(n) ?? n;
    if (p !== n) {
      p = this.find(p);
      this.parent.set(n, p);
    }
    return p;
  }
  join(a: string, b: string): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent.set(ra, rb);
  }
}

/**
 * A probe clip of two frames: frame 0 drives feature f at +(f + 1), frame 1 at -(f + 1). Each input source's
 * waveform then says which feature and which rail (pos / neg) it carries, whatever the generator calls it.
 */
function probeInputs(features: number): InputSequence {
  const data = new Float64Array(2 * features);
  for (let f = 0; f < features; f++) {
    data[f] = f + 1;
    data[features + f] = -(f + 1);
  }
  return { frames: 2, features, data };
}

/** ln(switching time) of one direction for a cell of bias I_thresh `threshA`, I_width / I_thresh `fraction`, per overdrive. */
function switchRow(t: SwitchTimes, threshA: number, fraction: number): Float64Array {
  return Float64Array.from(t.overdrives, (_, o) =>
    onGrid(t.thresh, t.fractions, threshA, fraction, (r, c) => Math.log(t.timeS[r][c][o])),
  );
}

/**
 * Compile the circuit of `net` on `process` (with `calibration`'s inversion, as `bmru compare` builds it) into a
 * hardware-aware model.
 */
export function hardwareAwareNetwork(
  net: Network,
  process: Process,
  calibration: Calibration | undefined,
  circuit: Pick<GenerateOptions, 'cellInputCapFPerA'> = {},
): HardwareAwareModel {
  const built = buildCircuit(net, probeInputs(net.inputs), { ...circuit, process, calibration });
  const u = net.unitCurrentA;
  const hw: HardwareTables | undefined = calibration?.hardware;
  const { unitWidthUm: unitW, mirrorLengthUm: unitL, switchWidthUm } = process.sizing;
  const nodes = new Nodes();
  const elements = built.elements.filter((e): e is Exclude<Element, { type: 'comment' }> => e.type !== 'comment');
  for (const e of elements) if (e.type === 'vsrc' && e.dcV === 0 && !e.pwl) nodes.join(e.plus, e.minus);

  // Rails: every diode-connected device's node, and every cell's output (its diode M4 is inside the cell).
  const railPol = new Map<string, 0 | 1>();
  const copies: Mosfet[] = [];
  for (const e of elements) {
    if (e.type !== 'mos') continue;
    if (nodes.find(e.gate) === nodes.find(e.drain)) railPol.set(nodes.find(e.gate), e.polarity === 'n' ? 0 : 1);
    else copies.push(e);
  }
  const cellInsts = elements.filter((e) => e.type === 'inst');
  const portOf = (nodesOfInst: readonly string[], port: (typeof CELL_PORTS)[number]) =>
    nodes.find(nodesOfInst[CELL_PORTS.indexOf(port)]);
  for (const c of cellInsts) {
    if (c.subckt !== CELL_SUBCKT)
      throw new RangeError(`hardware-aware model: unknown subcircuit ${c.subckt} (${c.name})`);
    railPol.set(portOf(c.nodes, 'out'), 1);
  }

  const names = [...railPol.keys()];
  const index = new Map(names.map((n, i) => [n, i]));
  const M = names.length;
  const kind = new Uint8Array(M);
  const ref = new Int32Array(M).fill(-1);
  const sign = new Int8Array(M);
  const constP = new Float64Array(M);
  const constN = new Float64Array(M);
  const terms: { src: number; gain: number }[][] = Array.from({ length: M }, () => []);
  const deps: number[][] = Array.from({ length: M }, () => []);
  const gateArea = new Float64Array(M);
  const drainWidth = new Float64Array(M);
  for (const e of elements) {
    if (e.type !== 'mos') continue;
    const g = index.get(nodes.find(e.gate));
    const d = index.get(nodes.find(e.drain));
    if (g !== undefined) gateArea[g] += e.widthUm * e.lengthUm;
    if (d !== undefined) drainWidth[d] += e.widthUm;
  }
  // A cell's M1 reads its input rail; its M4 is its output rail's diode (M3 drains into it).
  for (const c of cellInsts) {
    gateArea[index.get(portOf(c.nodes, 'in'))!] += unitW * unitL;
    gateArea[index.get(portOf(c.nodes, 'out'))!] += unitW * unitL;
    drainWidth[index.get(portOf(c.nodes, 'out'))!] += unitW + switchWidthUm;
  }

  const m = calibration?.mirror;
  for (const d of copies) {
    const src = index.get(nodes.find(d.gate));
    const dst = index.get(nodes.find(d.drain));
    if (src === undefined || dst === undefined)
      throw new RangeError(`hardware-aware model: ${d.name} is neither a diode nor a copy between two rails`);
    const load = railPol.get(names[dst])!;
    const same = (d.polarity === 'n' ? 0 : 1) === load;
    const table = same ? ((d.polarity === 'n' ? m?.nSame : m?.pSame) ?? m?.[d.polarity]) : m?.[d.polarity];
    const gain = forward(table, mirrorRatio(process, d.widthUm, d.lengthUm));
    // An NMOS diode's value is the current sourced into it (PMOS copies add), a PMOS diode's the current sunk from it.
    const adds = (d.polarity === 'p') === (load === 0);
    terms[dst].push({ src: 2 * src + (same ? 1 : 0), gain: adds ? gain : -gain });
    deps[dst].push(src);
  }

  const biasA = new Map<string, number>();
  for (const e of elements) {
    if (e.type !== 'isrc') continue;
    const into = index.get(nodes.find(e.to));
    const outOf = index.get(nodes.find(e.from));
    const rail = into ?? outOf;
    if (rail === undefined) throw new RangeError(`hardware-aware model: current source ${e.name} feeds no rail`);
    const adds = into !== undefined ? railPol.get(names[rail]) === 0 : railPol.get(names[rail]) === 1;
    if (e.pwl) {
      // Input front end: the probe clip's frame 0 is +(f+1) units, frame 1 -(f+1).
      const first = e.pwl[0][1] / u;
      const last = e.pwl[e.pwl.length - 1][1] / u;
      kind[rail] = KIND_INPUT;
      sign[rail] = first > 0 ? 1 : -1;
      ref[rail] = Math.round(Math.max(first, last)) - 1;
      if (!adds) throw new RangeError(`hardware-aware model: input ${e.name} drains its rail`);
    } else {
      if (adds) constP[rail] += (e.dcA ?? 0) / u;
      else constN[rail] += (e.dcA ?? 0) / u;
      biasA.set(names[rail], e.dcA ?? 0);
    }
  }

  // Cells: input rail, thresholds and ON level as realised, OFF curve and fold at the cell's biases.
  const S = net.cells;
  const L = net.blocks.length;
  const cellIn = new Int32Array(L * S);
  const betaLo = new Float64Array(L * S);
  const betaHi = new Float64Array(L * S);
  const foldLo = new Float64Array(L * S);
  const alpha = new Float64Array(L * S);
  const s0 = new Uint8Array(L * S);
  const offX: Float64Array[] = [];
  const offY: Float64Array[] = [];
  const switchOn: Float64Array[] = [];
  const switchOff: Float64Array[] = [];
  const commitOn: Float64Array[] = [];
  const cellAt = new Map(
    built.probes.cellNodes.flatMap((block, k) => block.map((probe, j) => [probe, k * S + j] as const)),
  );
  const ths = built.realised.blocks.map((b) => cellThresholds(b.cell));
  for (const c of cellInsts) {
    const id = cellAt.get(voltageProbe(c.nodes[CELL_PORTS.indexOf('v0')]));
    if (id === undefined) throw new RangeError(`hardware-aware model: cell ${c.name} has no state probe`);
    const k = Math.floor(id / S);
    const j = id % S;
    const out = index.get(portOf(c.nodes, 'out'))!;
    const input = index.get(portOf(c.nodes, 'in'));
    if (input === undefined) throw new RangeError(`hardware-aware model: cell ${c.name} input is not a rail`);
    kind[out] = KIND_CELL;
    ref[out] = id;
    cellIn[id] = input;
    deps[out].push(input);
    betaLo[id] = ths[k].betaLo[j];
    betaHi[id] = ths[k].betaHi[j];
    alpha[id] = ths[k].alpha[j];
    s0[id] = ths[k].s0[j];
    const threshA = biasA.get(portOf(c.nodes, 'vthr')) ?? betaHi[id] * u;
    const fraction = threshA > 0 ? (biasA.get(portOf(c.nodes, 'vwid')) ?? 0) / threshA : 0;
    const fold = hw?.cellFold;
    foldLo[id] =
      betaLo[id] * (fold ? onGrid(fold.thresh, fold.fractions, threshA, fraction, (r, col) => fold.lo[r][col]) : 1);
    const off = hw?.cellOff;
    offX[id] = off ? Float64Array.from(off.inputFractions, (f) => f * betaHi[id]) : Float64Array.of(0, 1);
    offY[id] = off
      ? Float64Array.from(
          off.inputFractions,
          (_, x) => onGrid(off.thresh, off.fractions, threshA, fraction, (r, col) => off.offA[r][col][x]) / u,
        )
      : Float64Array.of(0, 0);
    switchOn[id] = hw?.cellSwitch ? switchRow(hw.cellSwitch.on, threshA, fraction) : new Float64Array(0);
    switchOff[id] = hw?.cellSwitch ? switchRow(hw.cellSwitch.off, threshA, fraction) : new Float64Array(0);
    const commit = hw?.cellCommit;
    commitOn[id] = commit
      ? Float64Array.from(commit.overdrives, (_, o) =>
          onGrid(commit.thresh, commit.fractions, threshA, fraction, (r, col) => commit.ratio[r][col][o]),
        )
      : Float64Array.of(1, 1);
  }

  // Evaluation order: every rail after the rails it copies (Kahn); within a frame the circuit is a feedforward graph.
  const userLists: number[][] = Array.from({ length: M }, () => []);
  const pending = deps.map((d) => d.length);
  deps.forEach((d, i) => d.forEach((s) => userLists[s].push(i)));
  const order: number[] = [];
  const ready = pending.flatMap((p, i) => (p === 0 ? [i] : []));
  for (let head = 0; head < ready.length; head++) {
    const i = ready[head];
    order.push(i);
    for (const v of userLists[i]) if (--pending[v] === 0) ready.push(v);
  }
  if (order.length !== M) throw new RangeError('hardware-aware model: the circuit has a loop outside the cells');
  const pos = new Int32Array(M);
  order.forEach((i, p) => (pos[i] = p));

  const flat = order.map((i) => terms[i].map((t) => ({ src: 2 * pos[t.src >> 1] + (t.src & 1), gain: t.gain })));
  const termStart = new Int32Array(M + 1);
  flat.forEach((ts, p) => (termStart[p + 1] = termStart[p] + ts.length));
  const userFlat = order.map((i) => [...new Set(userLists[i].map((v) => pos[v]))]);
  const userStart = new Int32Array(M + 1);
  userFlat.forEach((us, p) => (userStart[p + 1] = userStart[p] + us.length));

  const rc = hw?.railCharge;
  // Capacitors on a rail (the cell input filter), when the tables say what a farad there holds per e-fold.
  const capF = new Float64Array(M);
  const modelledCaps = new Set<string>();
  for (const e of elements) {
    if (e.type !== 'cap') continue;
    const r = index.get(nodes.find(e.plus)) ?? index.get(nodes.find(e.minus));
    if (r === undefined || rc?.[railPol.get(names[r]) ? 'p' : 'n'].capQPerF === undefined) continue;
    capF[r] += e.capacitanceF;
    modelledCaps.add(e.name);
  }
  const charge = Float64Array.from(order, (i) => {
    const c = rc?.[railPol.get(names[i]) ? 'p' : 'n'];
    return c && hw?.cellSwitch
      ? (c.gateCPerUm2 * gateArea[i] + c.drainCPerUm * drainWidth[i] + (c.capQPerF ?? 0) * capF[i]) / u
      : 0;
  });
  const zero = Float64Array.from(order, (i) => (rc?.[railPol.get(names[i]) ? 'p' : 'n'].zeroA ?? 0) / u);
  const probeRail = (probe: string | undefined): number => {
    if (!probe) return -1;
    const v = elements.find((e) => e.type === 'vsrc' && currentProbe(e.name) === probe);
    if (!v || v.type !== 'vsrc') throw new RangeError(`hardware-aware model: no probe ${probe}`);
    const r = index.get(nodes.find(v.plus));
    if (r === undefined) throw new RangeError(`hardware-aware model: probe ${probe} is not at a rail`);
    return pos[r];
  };
  return {
    realised: built.realised,
    process: process.name,
    features: {
      knee: Boolean(hw?.knee),
      copy: Boolean(hw?.copy),
      cellOff: Boolean(hw?.cellOff),
      cellFold: Boolean(hw?.cellFold),
      dynamics: Boolean(hw?.railCharge && hw?.cellSwitch),
    },
    frameS: net.frameS,
    nodes: order.map((i) => names[i]),
    kind: Uint8Array.from(order, (i) => kind[i]),
    polarity: Uint8Array.from(order, (i) => railPol.get(names[i])!),
    ref: Int32Array.from(order, (i) => ref[i]),
    sign: Int8Array.from(order, (i) => sign[i]),
    gateAreaUm2: Float64Array.from(order, (i) => gateArea[i]),
    drainWidthUm: Float64Array.from(order, (i) => drainWidth[i]),
    charge,
    zero,
    constP: Float64Array.from(order, (i) => constP[i]),
    constN: Float64Array.from(order, (i) => constN[i]),
    termStart,
    termSrc: Int32Array.from(flat.flat(), (t) => t.src),
    termGain: Float64Array.from(flat.flat(), (t) => t.gain),
    userStart,
    users: Int32Array.from(userFlat.flat()),
    cellIn: Int32Array.from(cellIn, (r) => pos[r]),
    betaLo,
    betaHi,
    foldLo,
    alpha,
    s0,
    offX,
    offY,
    switchOn,
    switchOff,
    switchLogOverdrives: Float64Array.from(hw?.cellSwitch?.on.overdrives ?? [], Math.log),
    commitOn,
    commitLogOverdrives: Float64Array.from(hw?.cellCommit?.overdrives ?? [0.01, 1], Math.log),
    candidateRail: Int32Array.from(built.probes.candidates.flat(), probeRail),
    hPosRail: Int32Array.from(built.probes.hPos.flat(), probeRail),
    hNegRail: Int32Array.from(built.probes.hNeg.flat(), probeRail),
    logitPosRail: Int32Array.from(built.probes.logitPos, probeRail),
    logitNegRail: Int32Array.from(built.probes.logitNeg, probeRail),
    knee: [packKnee(hw?.knee?.n, u), packKnee(hw?.knee?.p, u)],
    copy: [packCopy(hw?.copy, 'n', u), packCopy(hw?.copy, 'p', u)],
    unmodelled: elements
      .filter(
        (e) =>
          !(
            e.type === 'mos' ||
            e.type === 'isrc' ||
            e.type === 'inst' ||
            (e.type === 'vsrc' && e.dcV === 0 && !e.pwl) ||
            (e.type === 'cap' && modelledCaps.has(e.name))
          ),
      )
      .map((e) => `${e.type} ${e.name}`),
    probes: Object.fromEntries(
      elements.flatMap((e) => {
        const r = e.type === 'vsrc' && e.dcV === 0 && !e.pwl ? index.get(nodes.find(e.plus)) : undefined;
        return r === undefined ? [] : [[currentProbe(e.name), pos[r]]];
      }),
    ),
  };
}

/** Steps of the frame after each edge: a geometric grid from 2^-11 of the sample point (4.8 us of 10 ms) up to it. */
const DEFAULT_STEPS_PER_FRAME = 44;
const GRID_SPAN_OCTAVES = 11;
/** Where in the frame the state is read (compare/sample.ts DEFAULT_SAMPLE_FRACTION). */
const SAMPLE_FRACTION = 0.98;
/** A cell switch taking longer than this fraction of a frame is stepped in time (a faster one ends as the steady state). */
const SLOW_SWITCH_FRACTION = 0.25;
/** A rail within this of its target (relative, and absolute in units) has settled and is snapped to it. */
const SETTLED_REL = 1e-3;
const SETTLED_ABS = 1e-4;

export interface HardwareRunOptions {
  /** Step time within each frame (default: when the calibration has railCharge and cellSwitch). false: steady state per frame. */
  readonly dynamics?: boolean;
  /** If given ([frames x rails]), receives every rail's diode current at each frame's sample point (see `model.probes`). */
  readonly rails?: Float64Array;
  /** Steps from each input edge to the sample point (default 22: ratio sqrt(2)). */
  readonly stepsPerFrame?: number;
  /** Called after every step with the frame, the time after its edge (s), the rails' diode currents and the cells' readings. */
  readonly onStep?: (frame: number, afterEdgeS: number, diode: Float64Array, reading: Uint8Array) => void;
}

/**
 * Run the hardware-aware model on an input sequence. Pure (nothing kept between calls); the same `Trace` as
 * `runNetwork`, candidates and block outputs being the circuit's probed currents (units) and states what V0 reads
 * at 98% of each frame.
 */
export function runHardwareAware(
  model: HardwareAwareModel,
  inputs: InputSequence,
  options: HardwareRunOptions = {},
): Trace {
  const net = model.realised;
  if (inputs.features !== net.inputs)
    throw new RangeError(`input has ${inputs.features} features per frame, the model expects ${net.inputs}`);
  const dynamics = (options.dynamics ?? model.features.dynamics) && model.features.dynamics;
  const T = inputs.frames;
  const F = inputs.features;
  const { cells: S, width: H, classes: C } = net;
  const L = net.blocks.length;
  const M = model.nodes.length;
  const { kind, polarity, ref, sign, constP, constN, termStart, termSrc, termGain, userStart, users, charge, zero } =
    model;
  const {
    cellIn,
    betaLo,
    betaHi,
    foldLo,
    alpha,
    offX,
    offY,
    switchOn,
    switchOff,
    switchLogOverdrives: logOd,
    commitOn,
    commitLogOverdrives,
  } = model;
  const [kneeN, kneeP] = model.knee;
  const [copyN, copyP] = model.copy;
  const diode = new Float64Array(M);
  const pass = new Float64Array(2 * M);
  // Every rail starts at zero, and a rail at zero still passes its copies' floor: set here, since `advance` sets a
  // rail's copies only when its current changes (a rail at zero from the start would otherwise pass nothing).
  for (let p = 0; p < M; p++) copyAt(polarity[p] === 0 ? copyN : copyP, 0, p, pass);
  // The rails at the start of the step: a rail's inputs over a step are taken at its middle (the mean of start and end).
  const diodeStart = new Float64Array(M);
  const passStart = new Float64Array(2 * M);
  // Rails to evaluate in this step (set by a change upstream, earlier in the same pass), and in the next one: a rail
  // still moving, a pending cell switch, and the readers of a rail that moved (their inputs are taken at mid-step).
  const active = new Uint8Array(M).fill(1);
  const next = new Uint8Array(M);
  // Cells: committed memory, what V0 reads, and the progress (fraction of the switching time) of a pending switch.
  const memory = Uint8Array.from(model.s0);
  const reading = Uint8Array.from(model.s0);
  const progress = new Float64Array(L * S);
  const readProgress = new Float64Array(L * S);
  // A cell turning ON past its point of no return: the rate (1/s) at which V0 goes on towards VDD/2, 0 otherwise.
  const rising = new Float64Array(L * S);
  const candidates = Array.from({ length: L }, () => new Float64Array(T * S));
  const states = Array.from({ length: L }, () => new Uint8Array(T * S));
  const blockOutputs = Array.from({ length: L }, () => new Float64Array(T * H));
  const logits = new Float64Array(T * C);
  const lastInput = new Float64Array(M).fill(Number.NaN);
  // Step ends within a frame (s after its edge): the geometric grid, then the rest of the frame after the sample.
  const K = options.stepsPerFrame ?? DEFAULT_STEPS_PER_FRAME;
  const ends = Array.from(
    { length: K + 1 },
    (_, k) => SAMPLE_FRACTION * model.frameS * 2 ** ((GRID_SPAN_OCTAVES * (k - K)) / K),
  );
  ends.push(model.frameS);

  /**
   * One pass over the rails that may move: each gets its target (steady current for its present inputs) and moves
   * towards it for dt (s); dt = Infinity is the steady state. Cells advance their pending switches over dt.
   */
  const advance = (t: number, dt: number): void => {
    const mid = dt !== Infinity;
    if (mid) {
      diodeStart.set(diode);
      passStart.set(pass);
    }
    for (let p = 0; p < M; p++) active[p] |= next[p];
    next.fill(0);
    for (let p = 0; p < M; p++) {
      if (active[p] === 0) continue;
      active[p] = 0;
      const kd = kind[p];
      let target: number;
      let h: number;
      if (kd === KIND_SUM) {
        let P = constP[p];
        let N = constN[p];
        const q1 = termStart[p + 1];
        if (mid) {
          for (let q = termStart[p]; q < q1; q++) {
            const g = termGain[q];
            const v = 0.5 * g * (pass[termSrc[q]] + passStart[termSrc[q]]);
            if (g > 0) P += v;
            else N -= v;
          }
        } else {
          for (let q = termStart[p]; q < q1; q++) {
            const g = termGain[q];
            const v = g * pass[termSrc[q]];
            if (g > 0) P += v;
            else N -= v;
          }
        }
        h = P - N;
        target = kneeAt(polarity[p] === 0 ? kneeN : kneeP, P, N);
      } else if (kd === KIND_INPUT) {
        const x = sign[p] * inputs.data[t * F + ref[p]];
        target = h = x > 0 ? x : 0;
      } else {
        const id = ref[p];
        const c = mid ? 0.5 * (diode[cellIn[id]] + diodeStart[cellIn[id]]) : diode[cellIn[id]];
        cell(id, c, dt);
        target = h = memory[id] ? alpha[id] : curveAt(offX[id], offY[id], c);
        if (progress[id] > 0 || readProgress[id] > 0 || (mid && memory[id] === 1 && c < betaLo[id])) next[p] = 1;
      }
      const r0 = diode[p];
      let r = target;
      const Q = charge[p];
      if (dt !== Infinity && Q > 0 && r0 !== target) {
        const from = r0 > zero[p] ? r0 : zero[p];
        if (from < target) r = Math.min(railStep(from, target, dt / Q), target);
        else r = Math.max(railStep(from, h, dt / Q), target);
        if (Math.abs(r - target) > SETTLED_REL * target + SETTLED_ABS) next[p] = 1;
        else r = target;
      }
      if (r !== r0) {
        diode[p] = r;
        copyAt(polarity[p] === 0 ? copyN : copyP, r, p, pass);
        for (let q = userStart[p]; q < userStart[p + 1]; q++) {
          active[users[q]] = 1;
          if (mid) next[users[q]] = 1;
        }
      }
    }
  };

  /**
   * A cell's update for input c over dt (s). Steady (dt = Infinity, or no switching tables): ON at c >= beta_hi,
   * OFF (memory and reading) below the ON branch's end, reading OFF below beta_lo. Timed: progress is the fraction
   * of the switching time at the present overdrive spent past the threshold (reset when the input comes back). A
   * cell turning ON is committed at its commit ratio (from then on ON whatever its input does) and reads ON when
   * progress reaches 1; turning OFF completes at 1 past the fold, and the reading of an ON cell follows V0 through
   * VDD/2 the same way at beta_lo.
   */
  const cell = (id: number, c: number, dt: number): void => {
    const timed = dt !== Infinity && logOd.length > 1;
    if (memory[id] === 0) {
      readProgress[id] = 0;
      if (c < betaHi[id]) {
        progress[id] = 0;
        return;
      }
      if (timed) {
        const d = (c - betaHi[id]) / betaHi[id];
        const rate = 1 / switchTime(switchOn[id], logOd, d);
        progress[id] += dt * rate;
        if (progress[id] < commitAt(commitOn[id], commitLogOverdrives, d)) return;
        // Committed: ON from here on; V0 reads ON when it has come the rest of the way.
        memory[id] = 1;
        if (progress[id] < 1) {
          rising[id] = rate;
          return;
        }
      }
      progress[id] = 0;
      memory[id] = reading[id] = 1;
      return;
    }
    if (rising[id] > 0) {
      if (timed) progress[id] += dt * rising[id];
      if (timed && progress[id] < 1) return;
      rising[id] = 0;
      progress[id] = 0;
      reading[id] = 1;
      return;
    }
    if (c >= betaLo[id]) {
      readProgress[id] = 0;
      reading[id] = 1;
    } else if (!timed) reading[id] = 0;
    else if (reading[id] === 1) {
      readProgress[id] += dt / switchTime(switchOff[id], logOd, (betaLo[id] - c) / betaLo[id]);
      if (readProgress[id] >= 1) {
        readProgress[id] = 0;
        reading[id] = 0;
      }
    }
    if (c >= foldLo[id]) {
      progress[id] = 0;
      return;
    }
    if (timed) {
      progress[id] += dt / switchTime(switchOff[id], logOd, (foldLo[id] - c) / foldLo[id]);
      if (progress[id] < 1) return;
    }
    progress[id] = 0;
    readProgress[id] = 0;
    memory[id] = reading[id] = 0;
  };

  const diodeOld = new Float64Array(M);
  const passOld = new Float64Array(2 * M);
  const memoryOld = new Uint8Array(L * S);
  const readingOld = new Uint8Array(L * S);
  const progressOld = new Float64Array(L * S);
  const risingOld = new Float64Array(L * S);
  const readProgressOld = new Float64Array(L * S);
  const activeOld = new Uint8Array(M);

  /**
   * Whether frame t needs its time steps, given the rails and cells at its start (`...Old`) and its steady end
   * (`diode`, `pass`, `memory`, `reading`: cells updated at once). A frame needs them when a cell may end it otherwise than the steady
   * state says: a switch pending from the last frame; a switch slower than a quarter of the frame; or a candidate
   * whose transient can reach a threshold the steady state does not cross. The transient is bounded one level up:
   * each rail feeding the candidate between its old and new current, the sourcing ones at their highest with the
   * opposing at their lowest and the other way round (mirror chains of different speed meeting at the candidate node
   * are what make it overshoot). Most frames need no steps.
   */
  const needsSteps = (pendingBefore: boolean): boolean => {
    if (pendingBefore) return true;
    for (let id = 0; id < L * S; id++) {
      const c = cellIn[id];
      let pLo = constP[c];
      let pHi = constP[c];
      let nLo = constN[c];
      let nHi = constN[c];
      for (let q = termStart[c]; q < termStart[c + 1]; q++) {
        const g = termGain[q];
        const src = termSrc[q];
        const x0 = passOld[src];
        const x1 = pass[src];
        const small = x0 < x1 ? x0 : x1;
        const large = x0 < x1 ? x1 : x0;
        if (g > 0) {
          pLo += g * small;
          pHi += g * large;
        } else {
          nLo -= g * small;
          nHi -= g * large;
        }
      }
      const knee = polarity[c] === 0 ? kneeN : kneeP;
      const cNew = diode[c];
      const cLo = Math.min(kneeAt(knee, pLo, nHi), cNew, diodeOld[c]);
      const cHi = Math.max(kneeAt(knee, pHi, nLo), cNew, diodeOld[c]);
      const slow = SLOW_SWITCH_FRACTION * model.frameS;
      const was = memoryOld[id];
      if (was === 0 && memory[id] === 1) {
        // Turning ON: in time?
        if (switchTime(switchOn[id], logOd, (cNew - betaHi[id]) / betaHi[id]) > slow) return true;
      } else if (was === 0) {
        // Staying OFF: never reaching beta_hi on the way.
        if (cHi >= betaHi[id]) return true;
      } else if (memory[id] === 0) {
        // Turning OFF past the fold: in time?
        if (switchTime(switchOff[id], logOd, (foldLo[id] - cNew) / foldLo[id]) > slow) return true;
      } else {
        // Staying ON: never past the fold on the way, and a reading that changes (the soft zone) changes in time.
        if (cLo < foldLo[id]) return true;
        if (
          reading[id] !== readingOld[id] &&
          reading[id] === 0 &&
          switchTime(switchOff[id], logOd, (betaLo[id] - cNew) / betaLo[id]) > slow
        )
          return true;
      }
    }
    return false;
  };
  for (let t = 0; t < T; t++) {
    // A changed input wakes its rail; frame 0 starts from the steady state of s0 (the circuit's operating point).
    for (let p = 0; p < M; p++) {
      if (kind[p] !== KIND_INPUT) continue;
      const x = inputs.data[t * F + ref[p]];
      if (x !== lastInput[p]) active[p] = 1;
      lastInput[p] = x;
    }
    let timed = false;
    if (!dynamics || t === 0) advance(t, Infinity);
    else {
      // The steady end of the frame first; its time steps only where a cell may end it otherwise.
      diodeOld.set(diode);
      passOld.set(pass);
      memoryOld.set(memory);
      readingOld.set(reading);
      progressOld.set(progress);
      risingOld.set(rising);
      readProgressOld.set(readProgress);
      activeOld.set(active);
      for (let p = 0; p < M; p++) activeOld[p] |= next[p];
      const pending = progress.some((x) => x > 0) || readProgress.some((x) => x > 0);
      advance(t, Infinity);
      timed = needsSteps(pending);
      if (timed) {
        diode.set(diodeOld);
        pass.set(passOld);
        memory.set(memoryOld);
        reading.set(readingOld);
        progress.set(progressOld);
        rising.set(risingOld);
        readProgress.set(readProgressOld);
        active.set(activeOld);
        next.fill(0);
      }
    }
    if (timed) {
      let from = 0;
      for (let k = 0; k <= K; k++) {
        advance(t, ends[k] - from);
        from = ends[k];
        options.onStep?.(t, from, diode, reading);
      }
    }
    // Read the frame at its sample point.
    if (options.rails) options.rails.set(diode, t * M);
    for (let id = 0; id < L * S; id++) {
      const k = (id / S) | 0;
      const i = t * S + (id - k * S);
      candidates[k][i] = diode[cellIn[id]];
      states[k][i] = reading[id];
    }
    for (let i = 0; i < L * H; i++) {
      const k = (i / H) | 0;
      const neg = model.hNegRail[i];
      blockOutputs[k][t * H + (i - k * H)] = diode[model.hPosRail[i]] - (neg >= 0 ? diode[neg] : 0);
    }
    for (let c = 0; c < C; c++) {
      const neg = model.logitNegRail[c];
      logits[t * C + c] = diode[model.logitPosRail[c]] - (neg >= 0 ? diode[neg] : 0);
    }
    // The rest of the frame, up to the next edge: switches and rails keep moving.
    if (timed) advance(t, ends[K + 1] - ends[K]);
  }
  const votes = new Int32Array(T);
  for (let t = 0; t < T; t++) votes[t] = argmax(logits, t * C, C);
  return { frames: T, candidates, states, blockOutputs, logits, votes, decision: majority(votes, C) };
}

/**
 * The per-process hardware-aware reference (compare/references.ts): this model, compiled from the circuit the
 * options generate, where the calibration has hardware tables; undefined where it has none.
 */
export const tableHwaware: HwawareBuilder = (net, circuit) => {
  if (!circuit.calibration?.hardware) return undefined;
  const model = hardwareAwareNetwork(net, circuit.process, circuit.calibration, circuit);
  return { net: model.realised, run: (inputs) => runHardwareAware(model, inputs) };
};

/**
 * Network -> ngspice deck. Every signal is a unipolar current held on a diode-connected transistor; its gate
 * voltage (its "rail") is what mirrors copy. An `n` rail (NMOS diode to ground) lets NMOS mirrors sink copies,
 * a `p` rail (PMOS diode from VDD) lets PMOS mirrors source copies. A summing node adds sourced and sunk copies
 * and its own diode takes the net current when positive: that diode is the ReLU. Signed values (pre-projection,
 * skip path, logits) travel as linear (pos, neg) pairs, value = pos - neg, each the sum of same-signed terms;
 * only where the model rectifies (the cell bank's input) does one ReLU node take pos - neg. The skip path's h
 * starts as (ReLU(h), ReLU(h) - h) (`reluComplementPair`), carrying |h| rather than every term of W_pre x
 * (issue 17). Two complementary
 * ReLU nodes (max(v,0), max(-v,0)) would both conduct near v = 0 whenever the sourcing and sinking copies differ
 * by a few percent, doubling the signal there (measured: h = 0.10 read as 0.24 - 0.06). Weights are width ratios, biases are current sources, cell
 * parameters are the cell's three bias currents (DESIGN §2); every element is listed in the mapping table.
 */
import { requireCircuitArch } from '../model/arch.js';
import type { Block, Network } from '../model/types.js';
import { cellThresholds } from '../model/types.js';
import type { InputSequence } from '../model/network.js';
import { cellForward, cellInverse, forward, inverse, type Calibration } from './calibration.js';
import { CELL_PORTS, CELL_SUBCKT, CELL_TRANSISTORS, cellSubcircuit } from './cell.js';
import { cardName, currentProbe, voltageProbe, writeDeck, type Deck, type DeviceModel } from './deck.js';
import {
  mosfet,
  num,
  withJunctions,
  type Comment,
  type Element,
  type Mosfet,
  type MosfetProps,
  type VoltageSource,
} from './elements.js';
import type { MappingRow } from './mapping.js';
import type { Process } from './process.js';
import { dropsGain, mirrorGeometry } from './geometry.js';
import { addSourceNoise, type SourceNoise } from './noise.js';
import { applyVariation, type DeviceVariation, type VariationSpec } from './variation.js';
import { cellDevices } from './cell.js';
import { BIAS_CLASS_STEP, BIAS_RATIO_MAX, MIN_BIAS_REFERENCE_A, checkTransistorBudget, shapeOf } from './budget.js';

import {
  DOMAINS,
  SUPPLY,
  nmosSource,
  nmosSourceSupply,
  withSupplyProbes,
  type Domain,
  type ElementRole,
  type PowerKind,
  type Stage,
  type SupplyBranch,
} from './supplies.js';

export { DOMAINS, type Domain } from './supplies.js';

/**
 * ngspice options for pA-level currents (DESIGN §7, measured in docs/circuit-notes.md §3): ngspice's default
 * gmin (1e-12 S) adds ~3.5 pA of false OFF leakage to a cell; with these values, 10x smaller abstol/gmin/chgtol
 * move thresholds by < 0.1 pA. Gear integration damps the ringing trapezoidal shows on the stiff diode nodes.
 */
export const DEFAULT_SPICE_OPTIONS: Readonly<Record<string, string | number>> = {
  abstol: 1e-15,
  gmin: 1e-15,
  chgtol: 1e-18,
  reltol: 1e-4,
  vntol: 1e-7,
  method: 'gear',
};

/** BSIM device evaluation threads per ngspice process: one process per core is how batches use the machine. */
const SINGLE_THREAD = 1;

/** Rise time of the sample-and-hold input edges (s): short against a 10 ms frame, long enough to step cheaply. */
export const DEFAULT_INPUT_EDGE_S = 1e-6;
/** Largest transient step as a fraction of a frame, so each frame's end is resolved. */
const MAX_STEPS_PER_FRAME = 50;

export interface GenerateOptions {
  readonly process: Process;
  readonly calibration?: Calibration;
  readonly inputEdgeS?: number;
  /** Extra or overriding `.options` entries. */
  readonly spiceOptions?: Readonly<Record<string, string | number>>;
  /** Deck lines selecting a corner (replace the process's deckLines). */
  readonly deckLines?: readonly string[];
  readonly title?: string;
  /** Transient noise on input and bias sources (seeded PWL samples, see noise.ts). */
  readonly noise?: SourceNoise;
  /** Device mismatch and/or global skew (variation.ts); cells are then written flat, one set of devices each. */
  readonly variation?: VariationSpec;
  /** Simulation temperature (C); ngspice's default (27 C) when absent. */
  readonly temperatureC?: number;
  /** A 0 V probe on every supply branch (supplies.ts), so power splits by element; `analyze power` asks for them. */
  readonly supplyProbes?: boolean;
  /** Refuse, before building, a network whose circuit would have more transistors (default: budget.ts DEFAULT_MAX_TRANSISTORS). */
  readonly maxTransistors?: number;
  /**
   * Give every transistor drain/source junctions (AD/AS/PD/PS) from the process's diffusion rule (process.json
   * `junctions`), so ngspice simulates their capacitance. Default true: on wherever the process declares the rule;
   * false writes bare devices (zero-area junctions, as every deck was before the rule existed).
   */
  readonly junctions?: boolean;
  /**
   * Low-pass at every cell's input: a capacitor from the cell's input node (the gate of the candidate's PMOS diode,
   * which the cell's M1 mirrors) to its supply, of this many farads per ampere of the cell's beta_lo * I_unit. The
   * node is log-domain, with time constant C n U_T / I: every cell gets the same one, k n U_T (n U_T ~ 36 mV:
   * 12e-3 F/A ~ 0.43 ms), at its turn-off threshold, and a shorter one at beta_hi, whatever its band and I_unit.
   * Sized on beta_lo because turning off is the slow direction (a candidate falling towards zero discharges the
   * node with the diode's own, shrinking current): on beta_hi or the mid-band a cell with a wide hysteresis band
   * got a capacitor many times larger and turned off late (measured: 5.6 ms instead of 3.0 on a KWS clip). The
   * filter keeps a transient threshold crossing at a frame edge (mirror chains of different speed meeting at the
   * node) from being latched. Default: the process's `cellInputCapFPerA`, else 0 (no capacitor); a cell with
   * beta_lo = 0 gets none.
   */
  readonly cellInputCapFPerA?: number;
  /** More vectors to save (`v(node)`, `i(vm_x)`, as `saveVector` spells them), for a user to look at. */
  readonly extraSaves?: readonly string[];
}

/** The cell input filter's capacitance per ampere of beta_lo (F/A; 0: no capacitor). */
export function cellInputCapFPerAOf(opts: Pick<GenerateOptions, 'process' | 'cellInputCapFPerA'>): number {
  const k = opts.cellInputCapFPerA ?? opts.process.cellInputCapFPerA ?? 0;
  if (!Number.isFinite(k) || k < 0)
    throw new RangeError(`expected a cell input capacitance per ampere >= 0 F/A, got ${k}`);
  return k;
}

/** The diffusion length (um) the generator draws junctions from, or undefined when it writes none. */
export function junctionDiffusionUm(opts: Pick<GenerateOptions, 'process' | 'junctions'>): number | undefined {
  return opts.junctions === false ? undefined : opts.process.junctions?.diffusionLengthUm;
}

/** Names of the rawfile vectors that carry each quantity (currents in A, voltages in V). */
export interface Probes {
  readonly candidates: string[][];
  readonly stateCurrents: string[][];
  readonly cellNodes: string[][];
  readonly hPos: string[][];
  readonly hNeg: (string | undefined)[][];
  readonly logitPos: string[];
  /** Absent where a class has no negative terms (its logit is the pos current alone). */
  readonly logitNeg: (string | undefined)[];
  readonly supplies: Record<Domain, string>;
  /** When each block's reset lets go (s; 0 for block 0, see `resetReleaseS`). Absent: every block starts at t = 0. */
  readonly releaseS?: readonly number[];
}

export interface GeneratedNetlist {
  readonly deck: string;
  readonly mapping: MappingRow[];
  readonly probes: Probes;
  /** The network with the parameter values the circuit realises: feed this to the software model to compare. */
  readonly realised: Network;
  readonly tStopS: number;
  readonly frames: number;
  readonly transistors: number;
  /** Every transistor's realised variation, when `variation` was asked for. */
  readonly devices?: DeviceVariation[];
  /** The probed supply branches, when `supplyProbes` was asked for. */
  readonly supplyBranches?: SupplyBranch[];
  /** The circuit as placed, before the passes above: what a partitioned run splits. */
  readonly built: BuiltCircuit;
}

interface Signal {
  readonly label: string;
  n?: string;
  p?: string;
}

interface Term {
  readonly signal: Signal | undefined;
  readonly weight: number;
  readonly parameter: string;
  /** weight = paramSign * parameter value: the neg half of a signed pair carries the parameter negated. */
  readonly paramSign: 1 | -1;
}

/** Accumulates elements and mapping rows; owns the conventions for mirrors, diodes and summing nodes. */
class Builder {
  readonly elements: Element[] = [];
  readonly mapping: MappingRow[] = [];
  /** Realised values per parameter name, summed over every element that realises it (and how many do). */
  readonly realisedSums = new Map<string, { sum: number; count: number }>();
  readonly saves: string[] = [];
  /** What each element is there for (by element name), for the power budget per element kind and stage. */
  readonly roles = new Map<string, ElementRole>();
  /** The stage being built: every element placed is booked to it. */
  stage: Stage = 'input';
  /** The cell group being built (`BuiltCircuit.cellGroups`), and where each group's run of elements starts. */
  private group: CellGroup = 'rest';
  /**
   * Where an output's shared infrastructure goes (`shared`): a block's outputs' shared part, which reads the block's
   * cells; in the front end, whose outputs read nothing but its inputs, its one shared part (so that the first stage
   * of a run split by cell is one partition, which may run as time windows side by side).
   */
  outputsShared: CellGroup = 'outShared';
  readonly groupMarks: { readonly start: number; readonly group: CellGroup }[] = [];

  /** Elements placed from now on belong to `group`; returns the previous one. */
  setGroup(group: CellGroup): CellGroup {
    const prev = this.group;
    this.groupMarks.push({ start: this.elements.length, group });
    this.group = group;
    return prev;
  }

  /**
   * Build shared infrastructure (a rail conversion, a bias reference) that a cell's candidate or a block output asks
   * for first: it goes to the block's shared group (cells) or output-shared group (outputs), so the cells or outputs
   * that read it later do not depend on the one that asked first.
   */
  private shared<T>(make: () => T): T {
    const g = this.group;
    if (typeof g !== 'number' && !isOutputGroup(g)) return make();
    const prev = this.setGroup(typeof g === 'number' ? 'shared' : this.outputsShared);
    try {
      return make();
    } finally {
      this.setGroup(prev);
    }
  }

  /** Run `make` with elements placed in `group`, then return to the group before. */
  withGroup<T>(group: CellGroup, make: () => T): T {
    const prev = this.setGroup(group);
    try {
      return make();
    } finally {
      this.setGroup(prev);
    }
  }

  /** Per element (index into `elements`), its cell group from the marks. */
  cellGroups(count: number): CellGroup[] {
    const out: CellGroup[] = [];
    let g: CellGroup = 'rest';
    let m = 0;
    for (let i = 0; i < count; i++) {
      while (m < this.groupMarks.length && this.groupMarks[m].start <= i) g = this.groupMarks[m++].group;
      out.push(g);
    }
    return out;
  }
  transistors = 0;

  constructor(
    readonly process: Process,
    readonly calibration: Calibration | undefined,
    readonly unitA: number,
    /** Write each cell's devices into the netlist instead of instancing the shared subcircuit (per-device variation). */
    readonly flatCells = false,
  ) {}

  /** A transistor, mirror length unless said otherwise; counted in the transistor total. */
  mos(d: Omit<MosfetProps, 'lengthUm'> & { readonly lengthUm?: number }, kind: PowerKind): Mosfet {
    const device = mosfet({ ...d, lengthUm: d.lengthUm ?? this.process.sizing.mirrorLengthUm });
    this.elements.push(device);
    this.tag(device.name, kind);
    this.transistors++;
    return device;
  }

  /** Add an element and return its card name (what the mapping table lists). */
  card(e: Exclude<Element, Comment>, kind: PowerKind): string {
    this.elements.push(e);
    this.tag(e.name, kind);
    return cardName(e, this.process);
  }

  /** Book an element to a power kind and the current stage. */
  tag(name: string, kind: PowerKind): void {
    this.roles.set(name, { kind, stage: this.stage });
  }

  /**
   * Size for a wanted mirror gain: calibration-inverted, then `mirrorGeometry` (width on the grid, length
   * stretched to the ratio). `sameTypeLoad`: the copy feeds a node whose diode has the copy's own polarity.
   */
  mirrorSize(
    gain: number,
    polarity: 'n' | 'p',
    sameTypeLoad = false,
  ): { widthUm: number; lengthUm: number; realisedGain: number } {
    const m = this.calibration?.mirror;
    const table = sameTypeLoad ? ((polarity === 'n' ? m?.nSame : m?.pSame) ?? m?.[polarity]) : m?.[polarity];
    // Decided on the gain, not the calibrated ratio, so that every copy of one weight (sourcing and sinking mirrors
    // have different tables) is dropped or kept together.
    if (dropsGain(this.process, gain)) return { widthUm: 0, lengthUm: 0, realisedGain: 0 };
    const { widthUm, lengthUm, ratio } = mirrorGeometry(this.process, inverse(table, gain));
    return { widthUm, lengthUm, realisedGain: forward(table, ratio) };
  }

  /** Source node of this process's NMOS mirror devices (ground or the lifted `vsn`). */
  get nSource(): string {
    return nmosSource(this.process);
  }

  /**
   * A diode-connected device at `node` (drain at `drainNode`, which a 0 V probe may separate from the gate). An NMOS
   * diode's source is `nSource` unless given (a cell's bias diode stays on ground, as the cell's devices do).
   */
  diode(
    name: string,
    polarity: 'n' | 'p',
    node: string,
    drainNode: string,
    supply: string,
    kind: PowerKind,
    nSource = this.nSource,
  ): void {
    this.mos(
      {
        name,
        polarity,
        drain: drainNode,
        gate: node,
        source: polarity === 'n' ? nSource : supply,
        widthUm: this.process.sizing.unitWidthUm,
      },
      kind,
    );
  }

  /** The group each summing node was built in, by label (`rail` keeps an output's own conversions with it). */
  private readonly signalGroups = new Map<string, CellGroup>();

  /** Make sure a signal has the rail a mirror of the given polarity needs (one unity mirror converts). */
  rail(sig: Signal, polarity: 'n' | 'p'): string {
    const have = polarity === 'n' ? sig.n : sig.p;
    if (have) return have;
    // A block output's own signal (u_i, converted for its ReLU) stays with that output: only it reads the rail.
    if (isOutputGroup(this.group) && this.signalGroups.get(sig.label) === this.group)
      return this.convert(sig, polarity);
    return this.shared(() => this.convert(sig, polarity));
  }

  private convert(sig: Signal, polarity: 'n' | 'p'): string {
    const node = `${sig.label}_${polarity}`;
    const { widthUm, lengthUm, realisedGain } = this.mirrorSize(1, polarity === 'n' ? 'p' : 'n');
    this.diode(`d_${node}`, polarity, node, node, SUPPLY.ff, 'rail conversion');
    const copy =
      polarity === 'n'
        ? this.mos(
            { name: `cv_${node}`, polarity: 'p', drain: node, gate: sig.p!, source: SUPPLY.ff, widthUm, lengthUm },
            'rail conversion',
          )
        : this.mos(
            { name: `cv_${node}`, polarity: 'n', drain: node, gate: sig.n!, source: this.nSource, widthUm, lengthUm },
            'rail conversion',
          );
    if (polarity === 'n') sig.n = node;
    else sig.p = node;
    // Not a model parameter, but its gain multiplies every copy taken from the new rail: list it with the rest.
    this.map(
      `(rail ${polarity}) ${sig.label}`,
      cardName(copy, this.process),
      'unity mirror (rail conversion)',
      1,
      realisedGain,
      `w=${num(widthUm)}u l=${num(lengthUm)}u`,
    );
    return node;
  }

  /**
   * A summing node with its ReLU diode. `polarity` 'n': an NMOS diode takes the net current sourced into the node
   * (positive terms are PMOS copies sourcing in); 'p': a PMOS diode supplies the net current sunk from it
   * (positive terms are NMOS copies sinking out). Returns the signal and the probe vector of its current.
   */
  sumNode(
    label: string,
    polarity: 'n' | 'p',
    terms: readonly Term[],
    bias?: NodeBias,
  ): { signal: Signal; probe: string } {
    // Every summing node is in the feedforward domain, so its power shows there.
    const supply = SUPPLY.ff;
    const probe = `m_${label}`; // element V<probe>: its current vector is i(vm_<label>)
    this.signalGroups.set(label, this.group);
    const drainNode = `${label}_d`;
    this.diode(`d_${label}`, polarity, label, drainNode, supply, 'node diode');
    this.elements.push(
      polarity === 'n'
        ? { type: 'vsrc', name: probe, plus: label, minus: drainNode, dcV: 0 }
        : { type: 'vsrc', name: probe, plus: drainNode, minus: label, dcV: 0 },
    );
    for (const t of terms) {
      if (!t.signal || t.weight === 0) continue;
      const sourcing = (polarity === 'n') === t.weight > 0;
      const devPol = sourcing ? 'p' : 'n';
      const { widthUm, lengthUm, realisedGain } = this.mirrorSize(Math.abs(t.weight), devPol, devPol === polarity);
      const name = `w_${label}_${t.signal.label}`;
      if (widthUm === 0) {
        this.map(
          t.parameter,
          '(none)',
          `omitted: below half the smallest ${devPol}mos copy`,
          t.weight * t.paramSign,
          0,
          'w=0',
        );
        continue;
      }
      const copy = this.mos(
        {
          name,
          polarity: devPol,
          drain: label,
          gate: this.rail(t.signal, devPol),
          source: sourcing ? supply : this.nSource,
          widthUm,
          lengthUm,
        },
        'weight copy',
      );
      const realised = Math.sign(t.weight) * realisedGain * t.paramSign;
      this.map(
        t.parameter,
        cardName(copy, this.process),
        `${devPol}mos mirror W/L (${sourcing ? 'sourcing' : 'sinking'})`,
        t.weight * t.paramSign,
        realised,
        `w=${num(widthUm)}u l=${num(lengthUm)}u`,
      );
    }
    if (bias && bias.value !== 0) this.biasInto(label, polarity, bias.value, bias.parameter, bias.sign ?? 1);
    this.saves.push(currentProbe(probe));
    return { signal: polarity === 'n' ? { label, n: label } : { label, p: label }, probe: currentProbe(probe) };
  }

  /**
   * A bias current into a summing node: a copy, by width ratio, of one of the few shared references (a bias DAC's
   * reference branches, `biasReference`) instead of a reference branch of its own, which drew the bias current a
   * second time (issue 17: 9 nW of the example's core went to 30 such branches).
   */
  private biasInto(node: string, polarity: 'n' | 'p', bias: number, parameter: string, biasSign: 1 | -1): void {
    const sourcing = (polarity === 'n') === bias > 0;
    const devPol = sourcing ? 'p' : 'n';
    const iA = Math.abs(bias) * this.unitA;
    const ref = this.biasReference(devPol, iA);
    const ratio = iA / ref.iA;
    const { widthUm, lengthUm, realisedGain } = this.mirrorSize(ratio, devPol, devPol === polarity);
    if (widthUm === 0) {
      this.map(parameter, '(none)', `omitted: below half the smallest ${devPol}mos copy`, bias * biasSign, 0, 'w=0');
      return;
    }
    const copy = this.mos(
      {
        name: `b_${node}`,
        polarity: devPol,
        drain: node,
        gate: ref.gate,
        source: sourcing ? SUPPLY.bias : this.nSource,
        widthUm,
        lengthUm,
      },
      'bias copy',
    );
    this.map(
      parameter,
      cardName(copy, this.process),
      `bias current (${sourcing ? 'sourcing' : 'sinking'}), ${num(ratio)} x shared reference ${ref.source}`,
      bias * biasSign,
      (bias * biasSign * realisedGain) / ratio,
      `w=${num(widthUm)}u l=${num(lengthUm)}u`,
    );
  }

  /** Shared bias references by polarity and class (`BIAS_CLASS_STEP` apart), created on first use. */
  private readonly biasRefs = new Map<string, { gate: string; source: string; iA: number }>();

  /**
   * The shared reference a bias of `iA` is copied from: of the classes I_unit / BIAS_CLASS_STEP^k that are at least
   * MIN_BIAS_REFERENCE_A, the smallest at least iA / BIAS_RATIO_MAX, so the copy's width ratio stays within the
   * range the mirror calibration measured (gains 0.25-3, README's calibration row) wherever the floor allows.
   */
  private biasReference(devPol: 'n' | 'p', iA: number): { gate: string; source: string; iA: number } {
    let k = 0;
    while (
      this.unitA / BIAS_CLASS_STEP ** (k + 1) >= MIN_BIAS_REFERENCE_A &&
      this.unitA / BIAS_CLASS_STEP ** (k + 1) >= iA / BIAS_RATIO_MAX
    )
      k++;
    const key = `${devPol}${k}`;
    const have = this.biasRefs.get(key);
    if (have) return have;
    return this.shared(() => this.newBiasReference(devPol, k));
  }

  private newBiasReference(devPol: 'n' | 'p', k: number): { gate: string; source: string; iA: number } {
    const key = `${devPol}${k}`;
    const gate = `bias_${devPol}${k}`;
    const refA = this.unitA / BIAS_CLASS_STEP ** k;
    this.diode(`d_${gate}`, devPol, gate, gate, SUPPLY.bias, 'bias reference');
    const source = this.card(
      devPol === 'p'
        ? { type: 'isrc', name: gate, from: gate, to: '0', dcA: refA, role: 'bias' }
        : { type: 'isrc', name: gate, from: SUPPLY.bias, to: gate, dcA: refA, role: 'bias' },
      'bias reference',
    );
    this.map(
      `(bias reference) ${devPol}${k}`,
      source,
      `shared ${devPol === 'p' ? 'sourcing' : 'sinking'} bias reference, I_unit / ${BIAS_CLASS_STEP}^${k} (realises no trained parameter)`,
      0,
      0,
      `I=${num(refA)}`,
    );
    const ref = { gate, source, iA: refA };
    this.biasRefs.set(key, ref);
    return ref;
  }

  /** An NMOS bias reference for a cell: ideal source from the bias supply into a diode; returns the gate node and the source's card. */
  cellBias(node: string, iA: number): { gate: string; source: string } {
    this.diode(`d_${node}`, 'n', node, node, SUPPLY.bias, 'cell bias reference', '0');
    return {
      gate: node,
      source: this.card(
        { type: 'isrc', name: node, from: SUPPLY.bias, to: node, dcA: iA, role: 'bias' },
        'cell bias reference',
      ),
    };
  }

  map(
    parameter: string,
    element: string,
    realisation: string,
    target: number,
    realised: number,
    setting: string,
  ): void {
    this.mapping.push({ parameter, element, realisation, target, realised, setting, error: realised - target });
    const acc = this.realisedSums.get(parameter);
    if (acc) {
      acc.sum += realised;
      acc.count++;
    } else this.realisedSums.set(parameter, { sum: realised, count: 1 });
  }

  /**
   * Realised values of a parameter tensor. A signed pair realises one weight several times (sourcing and
   * sinking copies); the model gets their mean, the best single number for what the circuit does. Entries no
   * element realises (a zero weight) keep their trained value.
   */
  realisedTensor(name: string, trained: Float64Array, cols: number): Float64Array {
    return trained.map((v, i) => {
      const acc = this.realisedSums.get(cols > 0 ? `${name}[${Math.floor(i / cols)},${i % cols}]` : `${name}[${i}]`);
      return acc ? acc.sum / acc.count : v;
    });
  }
}

/** A summing node's bias current (units of I_unit) and the parameter it realises; `sign` -1 for the neg half of a pair. */
interface NodeBias {
  readonly value: number;
  readonly parameter: string;
  readonly sign?: 1 | -1;
}

/** A signed value as a linear pair, value = pos - neg; `neg` is absent where the value cannot be negative. */
interface Pair {
  pos: Signal;
  neg?: Signal;
  posProbe: string;
  negProbe?: string;
}

/** Terms of W * (pos - neg) for one output row. */
function rowTerms(weight: Float64Array, cols: number, row: number, inputs: readonly Pair[], parameter: string): Term[] {
  const terms: Term[] = [];
  for (let i = 0; i < cols; i++) {
    const w = weight[row * cols + i];
    const p = `${parameter}[${row},${i}]`;
    terms.push({ signal: inputs[i].pos, weight: w, parameter: p, paramSign: 1 });
    if (inputs[i].neg) terms.push({ signal: inputs[i].neg, weight: -w, parameter: p, paramSign: -1 });
  }
  return terms;
}

const negate = (terms: Term[]): Term[] =>
  terms.map((t) => ({ ...t, weight: -t.weight, paramSign: t.paramSign === 1 ? -1 : 1 }));

/** A signed sum as a linear pair: pos takes the positive terms (and bias), neg the negative ones; no cancellation. */
function linearPair(b: Builder, label: string, terms: Term[], bias: number, biasParameter: string): Pair {
  const posTerms = terms.filter((t) => t.signal && t.weight > 0);
  const negTerms = negate(terms.filter((t) => t.signal && t.weight < 0));
  const pos = b.sumNode(`${label}p`, 'n', posTerms, { value: Math.max(bias, 0), parameter: biasParameter });
  if (negTerms.length === 0 && bias >= 0) return { pos: pos.signal, posProbe: pos.probe };
  const neg = b.sumNode(`${label}n`, 'n', negTerms, { value: Math.max(-bias, 0), parameter: biasParameter, sign: -1 });
  return { pos: pos.signal, neg: neg.signal, posProbe: pos.probe, negProbe: neg.probe };
}

/**
 * Signed h as the pair (ReLU(h), ReLU(h) - h): the pos half is the ReLU node the cells need anyway, the neg half a
 * node taking a unity copy of it plus the terms negated, whose input ReLU(h) - h = max(-h, 0) is never negative
 * in the model. The pair's difference is h with no common mode: a linear pair (P, N) of the positive and the
 * negative terms carries every term (3-4 nA a half on the example at 1 nA for an h of a fraction of that), and the
 * skip path and the classifier copy both halves again (issue 17: 54% of the example's core). Unlike two independent
 * complementary ReLUs (see the file's head), the neg half reads the pos half as built: a ReLU node that passes its
 * knee current e where h <= 0 puts the same e into the neg half, and the difference stays h.
 */
function reluComplementPair(
  b: Builder,
  label: string,
  relu: { signal: Signal; probe: string },
  terms: readonly Term[],
  bias: number,
  biasParameter: string,
): Pair {
  const copy: Term = { signal: relu.signal, weight: 1, parameter: `(relu complement) ${label}`, paramSign: 1 };
  // A PMOS diode: its one consumer, the classifier's NMOS-diode nodes, copies it with PMOS mirrors, and ReLU(h)
  // (an NMOS diode) reaches it through an NMOS copy, so no rail conversion on either side.
  const neg = b.sumNode(`${label}n`, 'p', [copy, ...negate([...terms])], {
    value: -bias,
    parameter: biasParameter,
    sign: -1,
  });
  return { pos: relu.signal, neg: neg.signal, posProbe: relu.probe, negProbe: neg.probe };
}

/** Sample-and-hold input waveforms: one PWL current per (feature, sign) and rail. */
function inputPairs(b: Builder, inputs: InputSequence, frameS: number, edgeS: number): Pair[] {
  const pairs: Pair[] = [];
  for (let f = 0; f < inputs.features; f++) {
    const mk = (sign: 1 | -1): Signal => {
      const label = `x${f}${sign > 0 ? 'p' : 'n'}`;
      const values = Array.from(
        { length: inputs.frames },
        (_, t) => Math.max(sign * inputs.data[t * inputs.features + f], 0) * b.unitA,
      );
      const pwl = holdWaveform(values, frameS, edgeS);
      // Two copies of the front end's output, one per rail, so input mirrors of both polarities see the same current.
      b.diode(`d_${label}_n`, 'n', `${label}_n`, `${label}_n`, SUPPLY.in, 'input front end');
      b.tag(`${label}_n`, 'input front end');
      b.tag(`${label}_p`, 'input front end');
      b.elements.push({
        type: 'isrc',
        name: `${label}_n`,
        from: SUPPLY.in,
        to: `${label}_n`,
        pwl,
        role: 'input',
        noiseGroup: label,
      });
      b.diode(`d_${label}_p`, 'p', `${label}_p`, `${label}_p`, SUPPLY.in, 'input front end');
      b.elements.push({
        type: 'isrc',
        name: `${label}_p`,
        from: `${label}_p`,
        to: '0',
        pwl,
        role: 'input',
        noiseGroup: label,
      });
      return { label, n: `${label}_n`, p: `${label}_p` };
    };
    pairs.push({ pos: mk(1), neg: mk(-1), posProbe: '', negProbe: '' });
  }
  return pairs;
}

/** Piecewise-linear points holding each frame's value, with a short edge at each frame boundary. */
export function holdWaveform(values: readonly number[], frameS: number, edgeS: number): [number, number][] {
  const pts: [number, number][] = [[0, values[0]]];
  for (let t = 1; t < values.length; t++) {
    if (values[t] === values[t - 1]) continue;
    pts.push([t * frameS, values[t - 1]], [t * frameS + edgeS, values[t]]);
  }
  pts.push([values.length * frameS, values[values.length - 1]]);
  return pts;
}

/** Cell bank of one block; returns the cells' output signals and writes the realised cell parameters. */
function cellBank(
  b: Builder,
  k: number,
  block: Block,
  cands: Signal[],
  probes: Probes,
  realisedCell: { alpha: Float64Array; beta1: Float64Array; delta: Float64Array; s0: Float64Array },
  ics: { node: string; voltageV: number }[],
  releaseS: number | undefined,
  inputCapFPerA: number,
): Signal[] {
  const th = cellThresholds(block.cell);
  if (releaseS !== undefined) {
    b.setGroup('each');
    b.elements.push(resetControl(k, releaseS));
  }
  const cal = b.calibration?.cell;
  const outs: Signal[] = [];
  const u = b.unitA;
  for (let j = 0; j < cands.length; j++) {
    b.setGroup(j);
    const tag = `b${k}c${j}`;
    const deltaU = th.betaHi[j] - th.betaLo[j];
    const { threshA: iThrA, widthA: iWidA } = cellInverse(cal?.grid, th.betaHi[j] * u, deltaU * u);
    // Extrapolating below the table can ask for a negative current; a bias source cannot sink its own reference.
    const iGainA = Math.max(inverse(cal?.gain, th.alpha[j] * u), 0);
    const thr = b.cellBias(`${tag}_thr`, iThrA);
    const wid = b.cellBias(`${tag}_wid`, iWidA);
    const gain = b.cellBias(`${tag}_gain`, iGainA);
    const out = `${tag}_out`;
    const m3d = `${tag}_m3d`;
    const v0 = `${tag}_v0`;
    const ports = [SUPPLY.cell, '0', cands[j].p!, out, m3d, thr.gate, wid.gate, gain.gate, v0];
    const loA = th.betaLo[j] * u;
    if (inputCapFPerA > 0 && loA > 0) {
      // Across the candidate diode's V_SG (its gate to the supply it sources from), where the cell's M1 reads it.
      const capF = inputCapFPerA * loA;
      const cap = b.card(
        { type: 'cap', name: `f_${tag}`, plus: cands[j].p!, minus: SUPPLY.ff, capacitanceF: capF },
        'cell input filter',
      );
      b.map(
        `(cell input filter) blocks.${k}.cell[${j}]`,
        cap,
        `low-pass capacitor at the cell input, ${num(inputCapFPerA)} F/A x beta_lo ${num(loA)} A (realises no trained parameter)`,
        0,
        0,
        `C=${num(capF)}`,
      );
    }
    const cellElements: Element[] = b.flatCells
      ? flatCell(b.process, tag, ports)
      : [{ type: 'inst', name: tag, nodes: ports, subckt: CELL_SUBCKT }];
    b.elements.push(...cellElements);
    for (const e of cellElements) if (e.type !== 'comment') b.tag(e.name, 'cell');
    b.transistors += CELL_TRANSISTORS;
    const stateProbe: VoltageSource = { type: 'vsrc', name: `m_${tag}`, plus: out, minus: m3d, dcV: 0 };
    b.elements.push(stateProbe);
    b.saves.push(currentProbe(stateProbe.name), voltageProbe(v0));
    probes.stateCurrents[k].push(currentProbe(stateProbe.name));
    probes.cellNodes[k].push(voltageProbe(v0));
    ics.push({ node: v0, voltageV: th.s0[j] ? b.process.vddV : 0 });
    const reset =
      releaseS === undefined
        ? undefined
        : b.card(
            {
              type: 'switch',
              name: `${tag}_rst`,
              plus: v0,
              minus: th.s0[j] ? SUPPLY.cell : '0',
              ctrlPlus: `rst_b${k}`,
              ctrlMinus: '0',
              model: RESET_SWITCH_MODEL.name,
            },
            'reset switch',
          );

    const got = cellForward(cal?.grid, iThrA, iWidA);
    const betaHiR = got.betaHiA / u;
    const deltaR = got.deltaA / u;
    const alphaR = forward(cal?.gain, iGainA) / u;
    realisedCell.alpha[j] = alphaR;
    realisedCell.delta[j] = deltaR;
    realisedCell.beta1[j] = Math.max(betaHiR - deltaR, 0);
    realisedCell.s0[j] = th.s0[j];
    const p = `blocks.${k}.cell`;
    b.map(`${p}.beta_hi[${j}]`, thr.source, 'cell bias I_thresh (M2)', th.betaHi[j], betaHiR, `I=${num(iThrA)}`);
    b.map(`${p}.delta[${j}]`, wid.source, 'cell bias I_width (M8)', deltaU, deltaR, `I=${num(iWidA)}`);
    b.map(`${p}.alpha[${j}]`, gain.source, 'cell bias I_gain (M5)', th.alpha[j], alphaR, `I=${num(iGainA)}`);
    const held = reset === undefined ? '' : ` (held by ${reset} until ${num(releaseS! * 1e3)} ms)`;
    b.map(
      `${p}.s0[${j}]`,
      `.ic ${voltageProbe(v0)}`,
      `initial state of V0${held}`,
      th.s0[j],
      th.s0[j],
      `${th.s0[j] ? num(b.process.vddV) : 0} V`,
    );
    outs.push({ label: `${tag}y`, p: out });
  }
  return outs;
}

/**
 * Where the comparator reads each frame's states (compare/sample.ts DEFAULT_SAMPLE_FRACTION): every block must
 * have settled by then.
 */
const SETTLED_BY_FRACTION = 0.98;

/**
 * When block k's reset lets go (s), k >= 1. At t = 0 every cell starts in its s0 and block 0 immediately
 * switches to its frame-0 states; while it does, block 1's candidates pass through the values of the mixed
 * states, and a cell whose frame-0 candidate lies in its hysteresis band can be knocked out of s0 for good (11
 * of 50 KWS clips, 29% of their disagreements, before the reset). The model reads block k's frame-0 candidate
 * from block k-1's new states, so block k is held in s0 until block k-1 has settled: the time up to the sample
 * point is split evenly, each block getting 0.98 / L of the frame. Until the cell input filter, releases at
 * k / (L + 1) of the frame (3.3 ms for L = 2) sufficed (block-0 switches 0.3-1.2 ms apart at 250 pA); with it a
 * near-threshold frame-0 switch takes up to 3.6 ms, and on GF180MCU block 1 was let go mid-way through block 0's
 * switching (a KWS clip's b1c0 latched OFF at 3.3 ms and stayed so for 65 frames); now 4.9 ms.
 */
export function resetReleaseS(k: number, blocks: number, frameS: number): number {
  return (k * SETTLED_BY_FRACTION * frameS) / blocks;
}

/** ngspice switch model of the reset: closed while its control is above 0.5 V (of 1 V); open, 1e15 ohm leaks a few fA. */
const RESET_SWITCH_MODEL: DeviceModel = {
  name: 'bmru_reset',
  kind: 'sw',
  params: { vt: 0.5, vh: 0.1, ron: 1e3, roff: 1e15 },
};
/** Edge of the reset control (s): short against the cells' ~0.5 ms switching. */
const RESET_EDGE_S = 1e-6;

/** Block k's reset control: 1 V (switches closed) until its release, then 0 V. */
function resetControl(k: number, releaseS: number): Element {
  return {
    type: 'vsrc',
    name: `rst_b${k}`,
    plus: `rst_b${k}`,
    minus: '0',
    dcV: 1,
    pwl: [
      [0, 1],
      [releaseS, 1],
      [releaseS + RESET_EDGE_S, 0],
    ],
  };
}

/** The cell's devices for one instance: ports mapped to its nodes, internal nodes prefixed with its tag. */
function flatCell(process: Process, tag: string, ports: readonly string[]): Element[] {
  const node = (n: string) => {
    const i = (CELL_PORTS as readonly string[]).indexOf(n);
    return i >= 0 ? ports[i] : `${tag}_${n}`;
  };
  return cellDevices(process).map((e) =>
    e.type === 'mos'
      ? {
          ...e,
          name: `${tag}_m${e.name}`,
          drain: node(e.drain),
          gate: node(e.gate),
          source: node(e.source),
          bulk: node(e.bulk),
        }
      : e,
  );
}

/** The circuit of a network as data: its elements, mapping table, probes and the network it realises. */
export interface BuiltCircuit {
  readonly elements: readonly Element[];
  readonly mapping: MappingRow[];
  readonly probes: Probes;
  /** The network with the parameter values the circuit realises, recorded as each element was placed. */
  readonly realised: Network;
  readonly initialConditions: readonly { readonly node: string; readonly voltageV: number }[];
  readonly saves: readonly string[];
  readonly transistors: number;
  /** Cells written device by device (per-device variation) instead of as instances of the cell subcircuit. */
  readonly flatCells: boolean;
  /** What each element is there for (by element name): the power budget's kinds and stages. */
  readonly roles: ReadonlyMap<string, ElementRole>;
  /**
   * Per element (same index as `elements`), the section it was placed in: 0 the front end (inputs, pre-projection),
   * k + 1 block k (candidates, cells, post-projection, skip, the next block's ReLU), L + 1 the classifier. Sections
   * only read earlier sections' rails, through mirror copies: they are the units a partitioned run splits at.
   */
  readonly sections: readonly number[];
  /**
   * Per element (same index), its group within a block's section (or the front end's), for splitting a section by
   * cell: `j` cell j's own
   * (its candidate's summing node, the cell, its bias references, reset switch, probes), `'shared'` rail conversions
   * and bias references a cell's candidate was the first to need (the other cells read them too), `'each'` an ideal
   * source every cell reads through a non-gate terminal (the reset control: copied into each cell's partition),
   * `'out i'` block output i's own (its post-projection node u_i, with skip h'_i and the next block's ReLU(h'_i)),
   * `'outShared'` rail conversions and bias references an output was the first to need (the cells' outputs' rail
   * conversions: every output reads them), `'rest'` everything else (comments; the classifier). In the front end,
   * `'shared'` is the inputs (their currents and diodes) and the bias references its outputs need, and `'out i'`
   * pre-projection output i's own (ReLU(h_i) and the skip pair of h_i).
   */
  readonly cellGroups: readonly CellGroup[];
}

/** An element's group within its block (`BuiltCircuit.cellGroups`). */
export type CellGroup = number | 'shared' | 'each' | 'rest' | 'outShared' | OutputGroup;

/** Block output i's group (`BuiltCircuit.cellGroups`). */
export type OutputGroup = `out ${number}`;

/** The group of block output i. */
export const outputGroup = (i: number): OutputGroup => `out ${i}`;

/** Whether a group is a block output's; its index, or undefined. */
export function outputIndex(g: CellGroup): number | undefined {
  return typeof g === 'string' && g.startsWith('out ') ? Number(g.slice(4)) : undefined;
}

const isOutputGroup = (g: CellGroup): g is OutputGroup => outputIndex(g) !== undefined;

/** Generate the transient deck for a network driven by an input sequence, with its mapping table and probes. */
export function generateNetlist(net: Network, inputs: InputSequence, opts: GenerateOptions): GeneratedNetlist {
  requireCircuitArch(net);
  checkTransistorBudget(shapeOf(net), opts.maxTransistors);
  const built = buildCircuit(net, inputs, opts);
  const tStopS = inputs.frames * net.frameS;
  const noisy = opts.noise
    ? addSourceNoise(built.elements, opts.noise, tStopS, net.unitCurrentA, (s) => s.role)
    : built.elements;
  const varied = opts.variation ? applyVariation(noisy, opts.process, opts.variation) : undefined;
  const probed = opts.supplyProbes
    ? withSupplyProbes(varied?.elements ?? noisy, (name) => built.roles.get(name))
    : undefined;
  const elements = probed?.elements ?? varied?.elements ?? noisy;
  const branchSaves = probed?.branches.map((br) => br.probe) ?? [];
  const deck = writeDeck(networkDeck(built, elements, opts, net, tStopS, branchSaves), opts.process);
  const { mapping, probes, realised, transistors } = built;
  return {
    deck,
    mapping,
    probes,
    realised,
    tStopS,
    frames: inputs.frames,
    transistors,
    devices: varied?.devices,
    supplyBranches: probed?.branches,
    built,
  };
}

/** Place every element of the network's circuit (no noise or variation: those are passes over the result). */
export function buildCircuit(
  net: Network,
  inputs: InputSequence,
  opts: Pick<
    GenerateOptions,
    'process' | 'calibration' | 'inputEdgeS' | 'variation' | 'junctions' | 'cellInputCapFPerA'
  >,
): BuiltCircuit {
  const b = new Builder(opts.process, opts.calibration, net.unitCurrentA, opts.variation !== undefined);
  const probes: Probes = {
    candidates: [],
    stateCurrents: [],
    cellNodes: [],
    hPos: [],
    hNeg: [],
    logitPos: [],
    logitNeg: [],
    supplies: Object.fromEntries(DOMAINS.map((d) => [d, currentProbe(SUPPLY[d])])) as Record<Domain, string>,
    releaseS: net.blocks.map((_, k) => (k === 0 ? 0 : resetReleaseS(k, net.blocks.length, net.frameS))),
  };
  const ics: { node: string; voltageV: number }[] = [];
  // Where each section after the front end starts in `b.elements` (block 0, ..., classifier).
  const sectionStarts: number[] = [];
  const realisedCells = net.blocks.map(() => ({
    alpha: new Float64Array(net.cells),
    beta1: new Float64Array(net.cells),
    delta: new Float64Array(net.cells),
    s0: new Float64Array(net.cells),
  }));

  b.elements.push({ type: 'comment', text: 'inputs: sample-and-hold currents, (pos, neg) per feature' });
  b.stage = 'input';
  // The front end's groups, as a block's (`cellGroups`): the inputs are its shared part, and each pre-projection
  // output i (ReLU(h_i), the skip pair of h_i) a group of its own, so a run split by cell cuts it per output.
  b.setGroup('shared');
  b.outputsShared = 'shared';
  const x = inputPairs(b, inputs, net.frameS, opts.inputEdgeS ?? DEFAULT_INPUT_EDGE_S);
  b.elements.push({
    type: 'comment',
    text: 'pre-projection h = W_pre x + b_pre: ReLU(h) for block 0 and, with skip, h as (ReLU(h), ReLU(h) - h)',
  });
  const preTerms = Array.from({ length: net.width }, (_, i) =>
    rowTerms(net.pre.weight.data, net.inputs, i, x, 'pre.weight'),
  );
  b.stage = 'relu';
  // ReLU(h) straight from the original terms, so the cell input is no deeper in mirrors than h itself.
  const r0 = preTerms.map((terms, i) =>
    b.withGroup(outputGroup(i), () =>
      b.sumNode(`r0_${i}`, 'n', terms, { value: net.pre.bias[i], parameter: `pre.bias[${i}]` }),
    ),
  );
  let hRelu: Signal[] = r0.map((r) => r.signal);
  b.stage = 'pre';
  // Signed h itself only travels the skip path (without it every block's output replaces h unread).
  let h: Pair[] =
    net.skip || net.blocks.length === 0
      ? preTerms.map((terms, i) =>
          b.withGroup(outputGroup(i), () =>
            reluComplementPair(b, `h0_${i}`, r0[i], terms, net.pre.bias[i], `pre.bias[${i}]`),
          ),
        )
      : [];
  b.setGroup('rest');
  b.outputsShared = 'outShared';

  // The unity terms whose sum is the skip path's pos half after each block: h0's pos, then each block's u.
  const skipTerms: Term[][] = h.map((p, i) => [
    { signal: p.pos, weight: 1, parameter: `blocks.0.skip[${i}]`, paramSign: 1 },
  ]);

  net.blocks.forEach((block, k) => {
    sectionStarts.push(b.elements.length);
    b.elements.push({
      type: 'comment',
      text: `block ${k}: candidates, cells, post-projection${net.skip ? ', skip' : ''}`,
    });
    const hIn: Pair[] = hRelu.map((r) => ({ pos: r, posProbe: '' }));
    probes.candidates.push([]);
    probes.stateCurrents.push([]);
    probes.cellNodes.push([]);
    b.stage = 'cand';
    const cands = Array.from({ length: net.cells }, (_, j) => {
      b.setGroup(j);
      const node = b.sumNode(
        `b${k}c${j}_in`,
        'p',
        rowTerms(block.cand.weight.data, net.width, j, hIn, `blocks.${k}.cand.weight`),
        { value: block.cand.bias[j], parameter: `blocks.${k}.cand.bias[${j}]` },
      );
      probes.candidates[k].push(node.probe);
      return node.signal;
    });
    b.stage = 'cell';
    const ys = cellBank(
      b,
      k,
      block,
      cands,
      probes,
      realisedCells[k],
      ics,
      k === 0 ? undefined : resetReleaseS(k, net.blocks.length, net.frameS),
      cellInputCapFPerAOf(opts),
    );
    b.setGroup('rest');
    const yPairs: Pair[] = ys.map((y) => ({ pos: y, posProbe: '' }));
    b.stage = 'post';
    // Each output i (u_i, with skip h'_i and the next block's ReLU(h'_i)) reads only the cells' outputs, earlier
    // sections and its own u_i: a group of its own, so a partitioned run can cut the rest per output.
    const us = Array.from({ length: net.width }, (_, i) =>
      b.withGroup(outputGroup(i), () =>
        b.sumNode(
          `b${k}u${i}`,
          'n',
          rowTerms(block.post.weight.data, net.cells, i, yPairs, `blocks.${k}.post.weight`),
          {
            value: block.post.bias[i],
            parameter: `blocks.${k}.post.bias[${i}]`,
          },
        ),
      ),
    );
    if (!net.skip) {
      h = us.map((u) => ({ pos: u.signal, posProbe: u.probe }));
      hRelu = us.map((u) => u.signal); // already rectified
    } else {
      const last = k === net.blocks.length - 1;
      const prev = h;
      // h' = u + h: pos' = h0's pos + every block's u so far, neg' = h0's neg (the same signal, no copy). Each pos'
      // copies its terms from their own diodes rather than the previous pos' (the same current, one mirror less
      // deep), on a PMOS diode: its positive terms are NMOS copies of NMOS-diode signals, and the next stage (the
      // classifier's NMOS-diode nodes) copies it with PMOS mirrors, so neither side needs a rail conversion.
      b.stage = 'skip';
      us.forEach((u, i) =>
        skipTerms[i].push({ signal: u.signal, weight: 1, parameter: `blocks.${k}.post.relu[${i}]`, paramSign: 1 }),
      );
      h = us.map((_, i) => {
        const pos = b.withGroup(outputGroup(i), () => b.sumNode(`h${k + 1}_${i}p`, 'p', skipTerms[i]));
        return { pos: pos.signal, neg: prev[i].neg, posProbe: pos.probe, negProbe: prev[i].negProbe };
      });
      // ReLU(h') for the next block's cells from the terms themselves: every u so far and the pre-projection's own
      // terms, as block 0's ReLU takes them. Taken from h0's (ReLU(h), ReLU(h) - h) pair instead, h0 reached this node
      // through two copies of ReLU(h) one mirror apart (direct, and inside the neg half), which after an input edge
      // differ for a mirror's delay: GF180MCU's slow 6u/8u mirrors latched three block-1 cells on such an excursion
      // (example: 99.50% of states instead of 99.75%). The pre terms again cost their sourced current (~25 nW here).
      if (!last) {
        b.stage = 'relu';
        hRelu = us.map(
          (_, i) =>
            b.withGroup(outputGroup(i), () =>
              b.sumNode(`r${k + 1}_${i}`, 'n', [...skipTerms[i].slice(1), ...preTerms[i]], {
                value: net.pre.bias[i],
                parameter: `pre.bias[${i}]`,
              }),
            ).signal,
        );
      }
    }
    b.setGroup('rest');
    probes.hPos.push(h.map((p) => p.posProbe));
    probes.hNeg.push(h.map((p) => p.negProbe));
  });

  sectionStarts.push(b.elements.length);
  b.elements.push({ type: 'comment', text: 'classifier: logit_c = I(pos node) - I(neg node)' });
  b.stage = 'out';
  for (let c = 0; c < net.classes; c++) {
    const logit = linearPair(
      b,
      `o${c}`,
      rowTerms(net.out.weight.data, net.width, c, h, 'out.weight'),
      net.out.bias[c],
      `out.bias[${c}]`,
    );
    probes.logitPos.push(logit.posProbe);
    probes.logitNeg.push(logit.negProbe);
  }

  const realised: Network = {
    ...net,
    cellParams: 'realised',
    pre: realisedLinear(b, 'pre', net.pre),
    blocks: net.blocks.map((blk, k) => ({
      cand: realisedLinear(b, `blocks.${k}.cand`, blk.cand),
      cell: realisedCells[k],
      post: realisedLinear(b, `blocks.${k}.post`, blk.post),
    })),
    out: realisedLinear(b, 'out', net.out),
  };
  const elements = withJunctions(b.elements, junctionDiffusionUm(opts));
  return {
    elements,
    mapping: b.mapping,
    probes,
    realised,
    initialConditions: ics,
    saves: b.saves,
    transistors: b.transistors,
    flatCells: b.flatCells,
    roles: b.roles,
    sections: elements.map((_, i) => sectionStarts.filter((start) => start <= i).length),
    cellGroups: b.cellGroups(elements.length),
  };
}

function realisedLinear(b: Builder, prefix: string, lin: Block['cand']): Block['cand'] {
  const { rows, cols } = lin.weight;
  return {
    weight: { rows, cols, data: b.realisedTensor(`${prefix}.weight`, lin.weight.data, cols) },
    bias: b.realisedTensor(`${prefix}.bias`, lin.bias, 0),
  };
}

/**
 * The network's deck as data: the process's model lines, options, supplies, the cell subcircuit, the circuit, initial
 * states, saves, transient. `b` gives the saves and initial conditions (a partition passes its own), `elements` the
 * circuit as written.
 */
export function networkDeck(
  b: Pick<BuiltCircuit, 'transistors' | 'flatCells' | 'initialConditions' | 'saves'>,
  elements: readonly Element[],
  opts: GenerateOptions,
  net: Network,
  tStopS: number,
  extraSaves: readonly string[] = [],
): Deck {
  const p = opts.process;
  const tMaxS = net.frameS / MAX_STEPS_PER_FRAME;
  return {
    title: opts.title ?? 'bmru-cosim FQ-BMRU network',
    notes: [
      `generated by bmru-cosim; process ${p.name} (${p.description}); ${b.transistors} transistors`,
      `${net.inputs} inputs, width ${net.width}, ${net.blocks.length} blocks x ${net.cells} cells, ${net.classes} classes, skip ${net.skip}; I_unit = ${num(net.unitCurrentA)} A`,
    ],
    modelLines: opts.deckLines ?? p.deckLines,
    // acct: ngspice prints its statistics (iterations, time per phase), which the runner keeps with the run.
    // num_threads=1 in the deck itself, so an exported deck run as plain `ngspice -b deck.cir` runs as it does
    // through bmru (ngspice 39 ignores -D num_threads; two 2-thread runs on 2 cores took 77 s instead of 11 s).
    options: { acct: true, ...DEFAULT_SPICE_OPTIONS, num_threads: SINGLE_THREAD, ...opts.spiceOptions },
    supplies: [
      ...DOMAINS.map((d): VoltageSource => ({
        type: 'vsrc',
        name: SUPPLY[d],
        plus: SUPPLY[d],
        minus: '0',
        dcV: p.vddV,
      })),
      ...nmosSourceSupply(p),
    ],
    temperatureC: opts.temperatureC,
    subcircuits: b.flatCells ? [] : [cellSubcircuit(p, junctionDiffusionUm(opts))],
    models: elements.some((e) => e.type === 'switch') ? [RESET_SWITCH_MODEL] : [],
    elements,
    initialConditions: b.initialConditions,
    saves: [
      ...new Set([
        ...b.saves,
        ...DOMAINS.map((d) => currentProbe(SUPPLY[d])),
        ...extraSaves,
        ...(opts.extraSaves ?? []),
      ]),
    ],
    analysis: { kind: 'tran', tStepS: tMaxS / 10, tStopS, tStartS: 0, tMaxS },
  };
}

/**
 * ngspice decks that measure what the generator's building blocks realise: the cell (thresholds, hysteresis
 * width, ON level, as DC sweeps of its input in both directions) and width-coded mirrors (gain against width
 * ratio and current). Each uses the same devices, sizes and bias arrangement as generate.ts, so what is
 * measured here is what the network netlist contains.
 */
import { CELL_SUBCKT, cellSubcircuit } from '../netlist/cell.js';
import { currentProbe, voltageProbe, writeDeck, type Deck } from '../netlist/deck.js';
import { mosfet, type Element, type VoltageSource } from '../netlist/elements.js';
import { DEFAULT_SPICE_OPTIONS } from '../netlist/generate.js';
import type { Process } from '../netlist/process.js';
import { nmosSource, nmosSourceSupply } from '../netlist/supplies.js';
import { mirrorGeometry } from '../netlist/geometry.js';

/** The three bias currents of one cell (A). */
export interface CellBias {
  readonly threshA: number;
  readonly widthA: number;
  readonly gainA: number;
}

/** The sweep control voltage is read as nA of cell input current (VCCS gain 1 nA/V), so volts print as nA. */
export const SWEEP_A_PER_V = 1e-9;

/** A calibration deck: the process's model lines and options, one supply, a DC sweep of `vctl` (V read as nA). */
export function sweepDeck(
  process: Process,
  title: string,
  deckLines: readonly string[] | undefined,
  parts: Pick<Deck, 'subcircuits' | 'elements' | 'saves'>,
  sweep: { start: number; stop: number; step: number },
): string {
  return writeDeck(
    {
      title,
      modelLines: deckLines ?? process.deckLines,
      options: DEFAULT_SPICE_OPTIONS,
      supplies: [
        { type: 'vsrc', name: 'dd', plus: 'vdd', minus: '0', dcV: process.vddV },
        ...nmosSourceSupply(process),
      ],
      ...parts,
      analysis: { kind: 'dc', source: SWEEP_SOURCE, ...sweep },
    },
    process,
  );
}

/** The swept control voltage source (`V<name>`) and its node. */
const SWEEP_SOURCE = 'vctl'; // the card of sweepControl (ngspice names are case-blind)
export const sweepControl: VoltageSource = { type: 'vsrc', name: 'ctl', plus: 'ctl', minus: '0', dcV: 0 };
/** A VCCS from the sweep control: `gain` nA per V of control, from `plus` through the source to `minus`. */
export const swept = (name: string, plus: string, minus: string, gain = 1): Element => ({
  type: 'vccs',
  name,
  plus,
  minus,
  ctrlPlus: 'ctl',
  ctrlMinus: '0',
  gainAPerV: gain * SWEEP_A_PER_V,
});

/**
 * What drives sweep cell k: its PMOS input diode (`pin<k>`, fed by a VCCS elsewhere) and the three NMOS bias
 * references (a diode and an ideal source each), as the generator builds a cell's drive.
 */
export function cellDrive(k: number, bias: CellBias, w: number, l: number): Element[] {
  const els: Element[] = [
    mosfet({
      name: `in${k}`,
      polarity: 'p',
      drain: `pin${k}`,
      gate: `pin${k}`,
      source: 'vdd',
      widthUm: w,
      lengthUm: l,
    }),
  ];
  for (const [tag, iA] of [
    ['thr', bias.threshA],
    ['wid', bias.widthA],
    ['gain', bias.gainA],
  ] as const) {
    els.push(
      mosfet({
        name: `${tag}${k}`,
        polarity: 'n',
        drain: `${tag}${k}`,
        gate: `${tag}${k}`,
        source: '0',
        widthUm: w,
        lengthUm: l,
      }),
    );
    els.push({ type: 'isrc', name: `${tag}${k}`, from: 'vdd', to: `${tag}${k}`, dcA: iA });
  }
  return els;
}

/**
 * Cells with the given biases, all driven by one swept input current (a VCCS per cell drawing the current from
 * that cell's own PMOS input diode, as a candidate node does in the network). `direction` 'up' starts OFF and
 * finds beta_hi; 'down' starts ON and finds beta_lo. Probes: v(c<k>_v0), i(vm_c<k>) (state current).
 */
export function cellSweepDeck(
  process: Process,
  cells: readonly CellBias[],
  direction: 'up' | 'down',
  maxA: number,
  stepA: number,
  deckLines?: readonly string[],
): string {
  // A deck should hold one cell: see measureCellsSpice for why.
  const { unitWidthUm: w, mirrorLengthUm: l } = process.sizing;
  const elements: Element[] = [sweepControl];
  const saves: string[] = [];
  cells.forEach((c, k) => {
    elements.push(...cellDrive(k, c, w, l));
    const state: VoltageSource = { type: 'vsrc', name: `m_c${k}`, plus: `out${k}`, minus: `m3d${k}`, dcV: 0 };
    elements.push({
      type: 'inst',
      name: `c${k}`,
      nodes: ['vdd', '0', `pin${k}`, `out${k}`, `m3d${k}`, `thr${k}`, `wid${k}`, `gain${k}`, `c${k}_v0`],
      subckt: CELL_SUBCKT,
    });
    elements.push(state, swept(`in${k}`, `pin${k}`, '0'));
    saves.push(voltageProbe(`c${k}_v0`), currentProbe(state.name));
  });
  const maxV = maxA / SWEEP_A_PER_V;
  const stepV = stepA / SWEEP_A_PER_V;
  const sweep = direction === 'up' ? { start: 0, stop: maxV, step: stepV } : { start: maxV, stop: 0, step: -stepV };
  return sweepDeck(
    process,
    `cell calibration sweep (${direction})`,
    deckLines,
    { subcircuits: [cellSubcircuit(process)], elements, saves },
    sweep,
  );
}

/**
 * Width-coded mirrors of both polarities at the given width ratios, copying a swept reference into the two loads
 * a summing node presents: a diode of the opposite type (probes i(vm_p<k>), i(vm_n<k>); the copy sees most of
 * the supply across it) and a node held by a diode of its own type that another branch feeds (i(vm_ps<k>),
 * i(vm_ns<k>); the copy sees about one V_GS). The gains differ by the drain-voltage effect, up to ~14% on GF180.
 */
export function mirrorSweepDeck(
  process: Process,
  ratios: readonly number[],
  currentsA: readonly number[],
  deckLines?: readonly string[],
): string {
  const { unitWidthUm: w, mirrorLengthUm: l } = process.sizing;
  const gnd = nmosSource(process); // NMOS mirror devices sit on it, as in the generated circuit
  const els: Element[] = [
    mosfet({ name: 'refp', polarity: 'p', drain: 'rp', gate: 'rp', source: 'vdd', widthUm: w, lengthUm: l }),
    mosfet({ name: 'refn', polarity: 'n', drain: 'rn', gate: 'rn', source: gnd, widthUm: w, lengthUm: l }),
  ];
  const saves: string[] = [];
  const pulls: Element[] = [];
  ratios.forEach((r, k) => {
    const { widthUm: wu, lengthUm: lu } = mirrorGeometry(process, r);
    els.push(
      mosfet({
        name: `p${k}`,
        polarity: 'p',
        drain: `sp${k}`,
        gate: 'rp',
        source: `vp${k}`,
        widthUm: wu,
        lengthUm: lu,
      }),
      { type: 'vsrc', name: `m_p${k}`, plus: 'vdd', minus: `vp${k}`, dcV: 0 },
    );
    els.push(
      mosfet({ name: `lp${k}`, polarity: 'n', drain: `sp${k}`, gate: `sp${k}`, source: gnd, widthUm: w, lengthUm: l }),
    );
    els.push(
      mosfet({
        name: `n${k}`,
        polarity: 'n',
        drain: `sn${k}`,
        gate: 'rn',
        source: `vn${k}`,
        widthUm: wu,
        lengthUm: lu,
      }),
      { type: 'vsrc', name: `m_n${k}`, plus: `vn${k}`, minus: gnd, dcV: 0 },
    );
    els.push(
      mosfet({
        name: `ln${k}`,
        polarity: 'p',
        drain: `sn${k}`,
        gate: `sn${k}`,
        source: 'vdd',
        widthUm: w,
        lengthUm: l,
      }),
    );
    // Same-type loads: the node's own diode takes (1 + r) x I_ref from a VCCS minus what the copy takes away.
    els.push(
      mosfet({
        name: `ps${k}`,
        polarity: 'p',
        drain: `yp${k}`,
        gate: 'rp',
        source: `vps${k}`,
        widthUm: wu,
        lengthUm: lu,
      }),
      { type: 'vsrc', name: `m_ps${k}`, plus: 'vdd', minus: `vps${k}`, dcV: 0 },
    );
    els.push(
      mosfet({
        name: `lps${k}`,
        polarity: 'p',
        drain: `yp${k}`,
        gate: `yp${k}`,
        source: 'vdd',
        widthUm: w,
        lengthUm: l,
      }),
    );
    els.push(
      mosfet({
        name: `ns${k}`,
        polarity: 'n',
        drain: `yn${k}`,
        gate: 'rn',
        source: `vns${k}`,
        widthUm: wu,
        lengthUm: lu,
      }),
      { type: 'vsrc', name: `m_ns${k}`, plus: `vns${k}`, minus: gnd, dcV: 0 },
    );
    els.push(
      mosfet({ name: `lns${k}`, polarity: 'n', drain: `yn${k}`, gate: `yn${k}`, source: gnd, widthUm: w, lengthUm: l }),
    );
    pulls.push(swept(`ps${k}`, `yp${k}`, '0', 1 + r), swept(`ns${k}`, 'vdd', `yn${k}`, 1 + r));
    saves.push(...[`m_p${k}`, `m_n${k}`, `m_ps${k}`, `m_ns${k}`].map(currentProbe));
  });
  // One swept control drives both references; a VCCS per reference keeps them equal by construction.
  const elements = [...els, ...pulls, sweepControl, swept('refp', 'rp', '0'), swept('refn', 'vdd', 'rn')];
  const values = currentsA.map((i) => i / SWEEP_A_PER_V);
  // A DC sweep over an explicit list is not in ngspice 39; sweep linearly over the range at the smallest spacing.
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return sweepDeck(
    process,
    'mirror calibration sweep',
    deckLines,
    { elements, saves },
    { start: lo, stop: hi, step: lo },
  );
}

/**
 * ngspice decks that measure what the generator's building blocks realise: the cell (thresholds, hysteresis
 * width, ON level, as DC sweeps of its input in both directions) and width-coded mirrors (gain against width
 * ratio and current). Each uses the same devices, sizes and bias arrangement as generate.ts, so what is
 * measured here is what the network netlist contains.
 */
import { CELL_SUBCKT, cellSubckt } from '../netlist/cell.js';
import { num, toSpice, type Element } from '../netlist/elements.js';
import { DEFAULT_SPICE_OPTIONS } from '../netlist/generate.js';
import type { Process } from '../netlist/process.js';

/** The three bias currents of one cell (A). */
export interface CellBias {
  readonly threshA: number;
  readonly widthA: number;
  readonly gainA: number;
}

/** The sweep control voltage is read as nA of cell input current (VCCS gain 1 nA/V), so volts print as nA. */
export const SWEEP_A_PER_V = 1e-9;

function header(process: Process, title: string, deckLines?: readonly string[]): string[] {
  return [
    `* ${title}`,
    ...(deckLines ?? process.deckLines),
    `.options ${Object.entries(DEFAULT_SPICE_OPTIONS).map(([k, v]) => `${k}=${v}`).join(' ')}`,
    `vdd vdd 0 dc ${num(process.vddV)}`,
  ];
}

function mos(name: string, polarity: 'n' | 'p', drain: string, gate: string, source: string, widthUm: number, lengthUm: number): Element {
  return { type: 'mos', name, polarity, drain, gate, source, bulk: polarity === 'n' ? '0' : source, widthUm, lengthUm };
}

/**
 * Cells with the given biases, all driven by one swept input current (a VCCS per cell drawing the current from
 * that cell's own PMOS input diode, as a candidate node does in the network). `direction` 'up' starts OFF and
 * finds beta_hi; 'down' starts ON and finds beta_lo. Probes: v(c<k>_v0), i(vm_c<k>) (state current).
 */
export function cellSweepDeck(process: Process, cells: readonly CellBias[], direction: 'up' | 'down', maxA: number, stepA: number, deckLines?: readonly string[]): string {
  // A deck should hold one cell: see measureCellsSpice for why.
  const { unitWidthUm: w, mirrorLengthUm: l } = process.sizing;
  const lines = header(process, `cell calibration sweep (${direction})`, deckLines);
  lines.push(cellSubckt(process), 'vctl ctl 0 dc 0');
  const saves: string[] = [];
  cells.forEach((c, k) => {
    const els: Element[] = [mos(`in${k}`, 'p', `pin${k}`, `pin${k}`, 'vdd', w, l)];
    for (const [tag, iA] of [['thr', c.threshA], ['wid', c.widthA], ['gain', c.gainA]] as const) {
      els.push(mos(`${tag}${k}`, 'n', `${tag}${k}`, `${tag}${k}`, '0', w, l));
      els.push({ type: 'isrc', name: `${tag}${k}`, from: 'vdd', to: `${tag}${k}`, dcA: iA });
    }
    els.push({ type: 'inst', name: `c${k}`, nodes: ['vdd', '0', `pin${k}`, `out${k}`, `m3d${k}`, `thr${k}`, `wid${k}`, `gain${k}`, `c${k}_v0`], subckt: CELL_SUBCKT });
    els.push({ type: 'vsrc', name: `m_c${k}`, plus: `out${k}`, minus: `m3d${k}`, dcV: 0 });
    lines.push(...els.map((e) => toSpice(e, process)), `Gin${k} pin${k} 0 ctl 0 ${num(SWEEP_A_PER_V)}`);
    saves.push(`v(c${k}_v0)`, `i(vm_c${k})`);
  });
  const maxV = maxA / SWEEP_A_PER_V;
  const stepV = stepA / SWEEP_A_PER_V;
  lines.push(`.save ${saves.join(' ')}`);
  lines.push(direction === 'up' ? `.dc vctl 0 ${num(maxV)} ${num(stepV)}` : `.dc vctl ${num(maxV)} 0 ${num(-stepV)}`, '.end');
  return lines.join('\n') + '\n';
}

/** Output width (um) the generator uses for a nominal width ratio (grid-snapped, at least the minimum width). */
export function snappedWidthUm(process: Process, ratio: number): number {
  const grid = process.widthGridUm;
  return Number(Math.max(process.minWidthUm, Math.round((ratio * process.sizing.unitWidthUm) / grid) * grid).toFixed(6));
}

/**
 * Width-coded mirrors of both polarities at the given width ratios, copying a swept reference into the two loads
 * a summing node presents: a diode of the opposite type (probes i(vm_p<k>), i(vm_n<k>); the copy sees most of
 * the supply across it) and a node held by a diode of its own type that another branch feeds (i(vm_ps<k>),
 * i(vm_ns<k>); the copy sees about one V_GS). The gains differ by the drain-voltage effect, up to ~14% on GF180.
 */
export function mirrorSweepDeck(process: Process, ratios: readonly number[], currentsA: readonly number[], deckLines?: readonly string[]): string {
  const { unitWidthUm: w, mirrorLengthUm: l } = process.sizing;
  const lines = header(process, 'mirror calibration sweep', deckLines);
  const els: Element[] = [
    mos('refp', 'p', 'rp', 'rp', 'vdd', w, l),
    mos('refn', 'n', 'rn', 'rn', '0', w, l),
  ];
  const saves: string[] = [];
  const pulls: string[] = [];
  ratios.forEach((r, k) => {
    const wu = snappedWidthUm(process, r);
    els.push(mos(`p${k}`, 'p', `sp${k}`, 'rp', `vp${k}`, wu, l), { type: 'vsrc', name: `m_p${k}`, plus: 'vdd', minus: `vp${k}`, dcV: 0 });
    els.push(mos(`lp${k}`, 'n', `sp${k}`, `sp${k}`, '0', w, l));
    els.push(mos(`n${k}`, 'n', `sn${k}`, 'rn', `vn${k}`, wu, l), { type: 'vsrc', name: `m_n${k}`, plus: `vn${k}`, minus: '0', dcV: 0 });
    els.push(mos(`ln${k}`, 'p', `sn${k}`, `sn${k}`, 'vdd', w, l));
    // Same-type loads: the node's own diode takes (1 + r) x I_ref from a VCCS minus what the copy takes away.
    els.push(mos(`ps${k}`, 'p', `yp${k}`, 'rp', `vps${k}`, wu, l), { type: 'vsrc', name: `m_ps${k}`, plus: 'vdd', minus: `vps${k}`, dcV: 0 });
    els.push(mos(`lps${k}`, 'p', `yp${k}`, `yp${k}`, 'vdd', w, l));
    els.push(mos(`ns${k}`, 'n', `yn${k}`, 'rn', `vns${k}`, wu, l), { type: 'vsrc', name: `m_ns${k}`, plus: `vns${k}`, minus: '0', dcV: 0 });
    els.push(mos(`lns${k}`, 'n', `yn${k}`, `yn${k}`, '0', w, l));
    pulls.push(`Gps${k} yp${k} 0 ctl 0 ${num((1 + r) * SWEEP_A_PER_V)}`, `Gns${k} vdd yn${k} ctl 0 ${num((1 + r) * SWEEP_A_PER_V)}`);
    saves.push(`i(vm_p${k})`, `i(vm_n${k})`, `i(vm_ps${k})`, `i(vm_ns${k})`);
  });
  lines.push(...els.map((e) => toSpice(e, process)), ...pulls);
  // One swept control drives both references; a VCCS per reference keeps them equal by construction.
  lines.push('vctl ctl 0 dc 0', `Grefp rp 0 ctl 0 ${num(SWEEP_A_PER_V)}`, `Grefn vdd rn ctl 0 ${num(SWEEP_A_PER_V)}`);
  const values = currentsA.map((i) => i / SWEEP_A_PER_V);
  lines.push(`.save ${saves.join(' ')}`);
  // A DC sweep over an explicit list is not in ngspice 39; sweep linearly over the range at the smallest spacing.
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  lines.push(`.dc vctl ${num(lo)} ${num(hi)} ${num(lo)}`, '.end');
  return lines.join('\n') + '\n';
}

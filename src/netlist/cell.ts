/**
 * The 9-transistor current-mode Schmitt trigger of DESIGN §3 as a subcircuit (our own drawing of the
 * published topology). Ports:
 *   vdd vss  supplies (cell domain)
 *   in       gate of M1: the candidate current's PMOS diode (M1 mirrors it into V0)
 *   out      gate/drain of diode-connected PMOS M4: the state current alpha*s, copied by downstream mirrors
 *   m3d      drain of M3: a 0 V probe between out and m3d measures the state current
 *   vthr vwid vgain  gates of the NMOS bias sinks M2 (I_thresh), M8 (I_width), M5 (I_gain)
 *   v0       the comparison node (high = ON); exposed so .ic can set the initial state and probes can read it
 * OFF -> ON when I_in >= I_thresh; ON -> OFF when I_in + I_width < I_thresh.
 */
import { mosfet, withJunctions, type Element } from './elements.js';
import type { Process } from './process.js';
import type { Subcircuit } from './deck.js';

export const CELL_SUBCKT = 'bmru_cell';
/** Transistors of one cell instance (DESIGN §3: the 9-transistor Schmitt trigger). */
export const CELL_TRANSISTORS = 9;
export const CELL_PORTS = ['vdd', 'vss', 'in', 'out', 'm3d', 'vthr', 'vwid', 'vgain', 'v0'] as const;

/** The cell's devices as elements (node names are the subcircuit's ports and internal nodes). */
export function cellDevices(process: Process): Element[] {
  const { unitWidthUm: w, mirrorLengthUm: l, switchWidthUm: ws, switchLengthUm: ls } = process.sizing;
  // Bulks at the cell's own rails (ports), not at each device's source.
  const m = (
    name: string,
    polarity: 'n' | 'p',
    drain: string,
    gate: string,
    source: string,
    widthUm: number,
    lengthUm: number,
  ): Element =>
    mosfet({ name, polarity, drain, gate, source, bulk: polarity === 'n' ? 'vss' : 'vdd', widthUm, lengthUm });
  return [
    m('1', 'p', 'v0', 'in', 'vdd', w, l), // input current I_in into V0
    m('9', 'p', 'v0', 'fb', 'vdd', w, l), // positive feedback: copies M7 (I_width while ON) into V0
    m('2', 'n', 'v0', 'vthr', 'vss', w, l), // I_thresh sink
    m('4', 'p', 'out', 'out', 'vdd', w, l), // output diode: carries I_gain while ON
    m('3', 'n', 'm3d', 'v0', 'n35', ws, ls), // output switch
    m('5', 'n', 'n35', 'vgain', 'vss', w, l), // I_gain sink
    m('7', 'p', 'fb', 'fb', 'vdd', w, l), // feedback diode
    m('6', 'n', 'fb', 'v0', 'n68', ws, ls), // feedback switch
    m('8', 'n', 'n68', 'vwid', 'vss', w, l), // I_width sink
  ];
}

/** The cell as a deck's subcircuit (written by `writeDeck`), its devices with junctions when a diffusion length (um) is given. */
export function cellSubcircuit(process: Process, diffusionLengthUm?: number): Subcircuit {
  return { name: CELL_SUBCKT, ports: CELL_PORTS, elements: withJunctions(cellDevices(process), diffusionLengthUm) };
}

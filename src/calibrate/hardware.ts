/**
 * The hardware tables of `calibration.json` (`hardware`, netlist/hardware-tables.ts): ngspice DC sweeps of a
 * summing node's knee per diode polarity and opposing current, of one copy's current down to a rail at zero
 * per load, and (from the cell grid's own sweeps) the cells' OFF state current. Devices and sizes are the
 * generator's: unit-width diodes and copies at the mirror length.
 */
import type {
  CellCommit,
  CellFold,
  CellOffTable,
  CopyTable,
  HardwareTables,
  KneeTable,
  RailCharge,
  SwitchTimes,
} from '../netlist/hardware-tables.js';
import { currentProbe, voltageProbe, writeDeck } from '../netlist/deck.js';
import { nmosSource, nmosSourceSupply } from '../netlist/supplies.js';
import { CELL_SUBCKT, cellSubcircuit } from '../netlist/cell.js';
import { DEFAULT_SPICE_OPTIONS } from '../netlist/generate.js';
import { mosfet, type Element } from '../netlist/elements.js';
import type { Process } from '../netlist/process.js';
import type { RawPlot } from '../spice/rawfile.js';
import { vector } from '../spice/rawfile.js';
import { valueAt } from '../compare/sample.js';
import { cellDrive, SWEEP_A_PER_V, sweepControl, sweepDeck, swept, type CellBias } from './decks.js';
import type { CellMeasurement } from './measure.js';

const pA = 1e-12;

/** What the hardware sweeps cover. */
export interface HardwarePlan {
  /** Nominal opposing current of each knee row (A): the first must be 0 (no opposing copy). */
  readonly kneeOpposingA: readonly number[];
  /** Net current h of each knee column (A), increasing, with 0 among them; above the last the node is ideal. */
  readonly kneeNetA: readonly number[];
  /** Sweep points per knee row, spread over P = 0 .. N + the last column. */
  readonly kneePoints: number;
  /** Rail currents of the copy table (A), from 0. */
  readonly copyCurrentsA: readonly number[];
  /** Copy sweeps: [start, stop, step] (A), together covering copyCurrentsA. */
  readonly copySweepsA: readonly (readonly [number, number, number])[];
  /** Cell input as fractions of beta_hi at which the OFF state current is read. */
  readonly offFractions: readonly number[];
  /** Cells of the switching-time decks: every I_thresh (A) with every I_width / I_thresh (I_gain: the grid's). */
  readonly switchThreshA: readonly number[];
  readonly switchFractions: readonly number[];
  /** Overdrives (fractions of the threshold) of the switching-time steps. */
  readonly switchOverdrives: readonly number[];
  /**
   * The commit-time pulses (turning ON): rows of the switching grid (I_thresh, A; all its fractions), overdrives (a
   * subset of switchOverdrives) and pulse lengths as fractions of each step's t50.
   */
  readonly commitThreshA: readonly number[];
  readonly commitOverdrives: readonly number[];
  readonly commitRatios: readonly number[];
}

export const DEFAULT_HARDWARE_PLAN: HardwarePlan = {
  kneeOpposingA: [0, 3, 10, 30, 100, 300, 1000, 3000].map((v) => v * pA),
  kneeNetA: [
    -3000, -1000, -500, -300, -200, -150, -100, -70, -50, -35, -25, -20, -15, -10, -7, -5, -3, -2, -1, 0, 1, 2, 3, 5, 7,
    10, 15, 20, 25, 35, 50, 70, 100, 150, 200, 300,
  ].map((v) => v * pA),
  kneePoints: 4000,
  copyCurrentsA: [
    0, 0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3, 4, 5, 7, 10, 15, 20, 30, 50, 70, 100, 150, 200, 300, 500, 700, 1000, 1500,
    2000, 3000,
  ].map((v) => v * pA),
  copySweepsA: [
    [0, 20, 0.05],
    [20, 300, 0.5],
    [300, 3000, 5],
  ].map(([a, b, s]) => [a * pA, b * pA, s * pA] as const),
  offFractions: [0, 0.25, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995],
  switchThreshA: [0.03, 0.1, 0.4, 1.5].map((v) => v * 1e-9),
  switchFractions: [0.05, 0.25, 0.6, 0.92],
  switchOverdrives: [0.01, 0.03, 0.1, 0.3, 1],
  commitThreshA: [0.1, 0.4].map((v) => v * 1e-9),
  commitOverdrives: [0.03, 0.1, 0.3],
  commitRatios: [0.35, 0.5, 0.65, 0.8, 0.95],
};

/**
 * Where the switching-time steps start, as a fraction of the threshold crossed, inside the band: where a cell's
 * input sits before it crosses (measured on c180, beta_hi 88 pA: a 30% step turns ON in 0.44 ms from 0.9 beta_hi,
 * 0.66 ms from 0, 0.41 ms from 0.98; an ON cell's input is mostly well above its beta_lo, and from 2 beta_lo it
 * turns OFF ~25% slower than from 1.1 beta_lo). The input diode then moves only by the step, as a candidate near a
 * threshold does in a network (from zero input the diode's own rise from its floor would add up to half).
 */
export const SWITCH_FROM = { on: 0.9, off: 2 } as const;
/** When the switching-time steps come and how long a run lasts (s): d = 1% takes up to ~25 ms at beta_lo ~ 10 pA. */
export const SWITCH_STEP_S = 1e-3;
export const SWITCH_STOP_S = 61e-3;

/**
 * One deck per diode polarity: a summing node per knee row, each with its diode (0 V probe `vm_d<k>`), an opposing
 * unit copy of a reference fed N (probe `vm_o<k>`; none in a row with N = 0) and a swept ideal current P = 0 ..
 * N + top into it (n: sourced in; p: sunk out). Rows are independent circuits on one sweep control (0..1 V).
 */
export function kneeSweepDeck(
  process: Process,
  polarity: 'n' | 'p',
  opposingA: readonly number[],
  topA: number,
  points: number,
  deckLines?: readonly string[],
): string {
  const { unitWidthUm: w, mirrorLengthUm: l } = process.sizing;
  const gnd = nmosSource(process);
  const elements: Element[] = [sweepControl];
  const saves: string[] = [];
  opposingA.forEach((nA, k) => {
    const node = `x${k}`;
    if (polarity === 'n') {
      elements.push(
        mosfet({ name: `d${k}`, polarity: 'n', drain: `xd${k}`, gate: node, source: gnd, widthUm: w, lengthUm: l }),
      );
      elements.push({ type: 'vsrc', name: `m_d${k}`, plus: node, minus: `xd${k}`, dcV: 0 });
      if (nA > 0) {
        elements.push(
          mosfet({
            name: `r${k}`,
            polarity: 'n',
            drain: `kr${k}`,
            gate: `kr${k}`,
            source: gnd,
            widthUm: w,
            lengthUm: l,
          }),
        );
        elements.push({ type: 'isrc', name: `r${k}`, from: 'vdd', to: `kr${k}`, dcA: nA });
        elements.push(
          mosfet({
            name: `o${k}`,
            polarity: 'n',
            drain: node,
            gate: `kr${k}`,
            source: `xo${k}`,
            widthUm: w,
            lengthUm: l,
          }),
        );
        elements.push({ type: 'vsrc', name: `m_o${k}`, plus: `xo${k}`, minus: gnd, dcV: 0 });
      }
      elements.push(swept(`s${k}`, 'vdd', node, (nA + topA) / SWEEP_A_PER_V));
    } else {
      elements.push(
        mosfet({ name: `d${k}`, polarity: 'p', drain: `xd${k}`, gate: node, source: 'vdd', widthUm: w, lengthUm: l }),
      );
      elements.push({ type: 'vsrc', name: `m_d${k}`, plus: `xd${k}`, minus: node, dcV: 0 });
      if (nA > 0) {
        elements.push(
          mosfet({
            name: `r${k}`,
            polarity: 'p',
            drain: `kr${k}`,
            gate: `kr${k}`,
            source: 'vdd',
            widthUm: w,
            lengthUm: l,
          }),
        );
        elements.push({ type: 'isrc', name: `r${k}`, from: `kr${k}`, to: '0', dcA: nA });
        elements.push(
          mosfet({
            name: `o${k}`,
            polarity: 'p',
            drain: node,
            gate: `kr${k}`,
            source: `xo${k}`,
            widthUm: w,
            lengthUm: l,
          }),
        );
        elements.push({ type: 'vsrc', name: `m_o${k}`, plus: 'vdd', minus: `xo${k}`, dcV: 0 });
      }
      elements.push(swept(`s${k}`, node, '0', (nA + topA) / SWEEP_A_PER_V));
    }
    saves.push(currentProbe(`m_d${k}`));
    if (nA > 0) saves.push(currentProbe(`m_o${k}`));
  });
  return sweepDeck(
    process,
    `summing-node knee sweep (${polarity} diode)`,
    deckLines,
    { elements, saves },
    { start: 0, stop: 1, step: 1 / points },
  );
}

/**
 * The knee table of one polarity from its sweep. A row's opposing current is what its copy takes at the top of
 * the sweep (in saturation, the node high), so N is in the units the model computes it in (copy currents).
 */
export function measureKnee(
  plot: RawPlot,
  opposingA: readonly number[],
  topA: number,
  netA: readonly number[],
): KneeTable {
  const x = plot.real[0];
  const rows = opposingA.map((nA, k) => {
    const diode = vector(plot, `i(vm_d${k})`);
    const nEff = nA > 0 ? vector(plot, `i(vm_o${k})`)[x.length - 1] : 0;
    const h = Float64Array.from(x, (v) => v * (nA + topA) - nEff);
    return { nEff, values: netA.map((hc) => valueAt(h, diode, Math.max(hc, h[0]))) };
  });
  return { opposingA: rows.map((r) => r.nEff), netA: [...netA], diodeA: rows.map((r) => r.values) };
}

/**
 * One deck per range of `copySweepsA`: a unit reference diode fed the swept current, and a unit copy of it into
 * each load of the mirror tables: `p`/`n` into a diode of the other type (probes `vm_p`, `vm_n`), `ps`/`ns` into a
 * node whose own-type diode carries `holdA` from an ideal source besides (`vm_ps`, `vm_ns`), so that the copy's
 * drain sits where a busy summing node holds it even when the copied rail is at zero.
 */
export function copySweepDeck(
  process: Process,
  sweepA: readonly [number, number, number],
  holdA: number,
  deckLines?: readonly string[],
): string {
  const { unitWidthUm: w, mirrorLengthUm: l } = process.sizing;
  const unit = { widthUm: w, lengthUm: l };
  const gnd = nmosSource(process);
  const elements: Element[] = [
    sweepControl,
    mosfet({ name: 'refp', polarity: 'p', drain: 'rp', gate: 'rp', source: 'vdd', ...unit }),
    mosfet({ name: 'refn', polarity: 'n', drain: 'rn', gate: 'rn', source: gnd, ...unit }),
    swept('refp', 'rp', '0'),
    swept('refn', 'vdd', 'rn'),
    // Opposite-type loads.
    mosfet({ name: 'p', polarity: 'p', drain: 'sp', gate: 'rp', source: 'vp', ...unit }),
    { type: 'vsrc', name: 'm_p', plus: 'vdd', minus: 'vp', dcV: 0 },
    mosfet({ name: 'lp', polarity: 'n', drain: 'sp', gate: 'sp', source: gnd, ...unit }),
    mosfet({ name: 'n', polarity: 'n', drain: 'sn', gate: 'rn', source: 'vn', ...unit }),
    { type: 'vsrc', name: 'm_n', plus: 'vn', minus: gnd, dcV: 0 },
    mosfet({ name: 'ln', polarity: 'p', drain: 'sn', gate: 'sn', source: 'vdd', ...unit }),
    // Same-type loads: the node's diode takes holdA plus what the copy brings (p) or minus what it takes (n).
    mosfet({ name: 'ps', polarity: 'p', drain: 'yp', gate: 'rp', source: 'vps', ...unit }),
    { type: 'vsrc', name: 'm_ps', plus: 'vdd', minus: 'vps', dcV: 0 },
    mosfet({ name: 'lps', polarity: 'p', drain: 'yp', gate: 'yp', source: 'vdd', ...unit }),
    { type: 'isrc', name: 'hps', from: 'yp', to: '0', dcA: holdA },
    swept('ps', 'yp', '0'),
    mosfet({ name: 'ns', polarity: 'n', drain: 'yn', gate: 'rn', source: 'vns', ...unit }),
    { type: 'vsrc', name: 'm_ns', plus: 'vns', minus: gnd, dcV: 0 },
    mosfet({ name: 'lns', polarity: 'n', drain: 'yn', gate: 'yn', source: gnd, ...unit }),
    { type: 'isrc', name: 'hns', from: 'vdd', to: 'yn', dcA: holdA },
    swept('ns', 'vdd', 'yn'),
  ];
  const [startA, stopA, stepA] = sweepA;
  return sweepDeck(
    process,
    'copy sweep (unit mirror, rail from 0)',
    deckLines,
    { elements, saves: ['m_p', 'm_n', 'm_ps', 'm_ns'].map(currentProbe) },
    { start: startA / SWEEP_A_PER_V, stop: stopA / SWEEP_A_PER_V, step: stepA / SWEEP_A_PER_V },
  );
}

/** Drain current of a busy summing node's diode in the same-type copy sweeps (A). */
export const COPY_HOLD_A = 300 * pA;

/**
 * The copy table from the copy sweeps (plots in `copySweepsA` order). Each load's curve is divided by its mean gain
 * over `gainCurrentsA` (geometric, as the mirror tables average theirs), so that a copy's mirror-table gain times
 * this curve gives the mirror table's gain over those currents and the measured floor below them.
 */
export function measureCopies(
  plots: readonly RawPlot[],
  currentsA: readonly number[],
  gainCurrentsA: readonly number[],
): CopyTable {
  const at = (probe: string, iA: number) => {
    const v = iA / SWEEP_A_PER_V;
    const plot = plots.find((p) => p.real[0][p.real[0].length - 1] >= v - 1e-9) ?? plots[plots.length - 1];
    return valueAt(plot.real[0], vector(plot, probe), v);
  };
  const read = (load: 'n' | 'p' | 'ns' | 'ps') => {
    const probe = currentProbe(`m_${load}`);
    const gain = Math.exp(gainCurrentsA.reduce((a, iA) => a + Math.log(at(probe, iA) / iA), 0) / gainCurrentsA.length);
    return currentsA.map((iA) => at(probe, iA) / gain);
  };
  return { currentsA: [...currentsA], n: read('n'), p: read('p'), nSame: read('ns'), pSame: read('ps') };
}

/** OFF state current of each cell of the grid at the plan's input fractions (`grid[row]` = the cells of row `row`). */
export function cellOffTable(
  threshA: readonly number[],
  fractions: readonly number[],
  grid: readonly (readonly CellMeasurement[])[],
  inputFractions: readonly number[],
): CellOffTable {
  return {
    thresh: [...threshA],
    fractions: [...fractions],
    inputFractions: [...inputFractions],
    offA: grid.map((row) =>
      row.map((m) =>
        inputFractions.map((_, c) => (m.offCurveA && Number.isFinite(m.offCurveA[c]) ? m.offCurveA[c] : m.offA)),
      ),
    ),
  };
}

/**
 * Charge per e-fold per um^2 of gate and per um of drain: least squares over the rail-charge configurations (rise
 * and fall each), with the diode's own gate and drain counted; and the current a rail at zero starts from.
 */
export function fitRailCharge(
  process: Process,
  charges: readonly { rise: number; fall: number; fromZeroS?: number }[],
): RailCharge {
  const { unitWidthUm: w, mirrorLengthUm: l } = process.sizing;
  let sgg = 0,
    sgd = 0,
    sdd = 0,
    sgq = 0,
    sdq = 0;
  RAIL_LOADS.forEach((load, k) => {
    if (load.fromZero || load.capF) return;
    const g = (1 + load.gates) * w * l;
    const d = (1 + load.drains) * w;
    for (const q of [charges[k].rise, charges[k].fall]) {
      sgg += g * g;
      sgd += g * d;
      sdd += d * d;
      sgq += g * q;
      sdq += d * q;
    }
  });
  const det = sgg * sdd - sgd * sgd;
  const gateCPerUm2 = Math.max((sgq * sdd - sdq * sgd) / det, 0);
  const drainCPerUm = Math.max((sdq * sgg - sgq * sgd) / det, 0);
  // The rise from zero: the start current r0 that makes Q dr/dt = r (I - r) take the measured time to I/2.
  const z = RAIL_LOADS.findIndex((load) => load.fromZero);
  const q = gateCPerUm2 * (1 + RAIL_LOADS[z].gates) * w * l + drainCPerUm * (1 + RAIL_LOADS[z].drains) * w;
  const i = RAIL_STEP.highA;
  const zeroA = 1 / (1 / i + (2 / i - 1 / i) * Math.exp((i * charges[z].fromZeroS!) / q));
  // A capacitor's charge per e-fold per farad is the diode's n U_T: what the capacitor rail holds beyond its devices.
  const c = RAIL_LOADS.findIndex((load) => load.capF);
  const own = gateCPerUm2 * (1 + RAIL_LOADS[c].gates) * w * l + drainCPerUm * (1 + RAIL_LOADS[c].drains) * w;
  const capQPerF = Math.max((0.5 * (charges[c].rise + charges[c].fall) - own) / RAIL_LOADS[c].capF!, 0);
  return { gateCPerUm2, drainCPerUm, zeroA, capQPerF };
}

/** Switching times of one direction on the plan's bias grid; `timeS[k]` per cell in row-major (I_thresh, fraction) order. */
export function switchTimes(
  threshA: readonly number[],
  fractions: readonly number[],
  overdrives: readonly number[],
  timeS: readonly (readonly number[])[],
): SwitchTimes {
  // A step that never switched within the run (NaN) is taken as the run's length: slower than any frame.
  const t = timeS.map((row) => row.map((x) => (Number.isFinite(x) && x > 0 ? x : SWITCH_STOP_S - SWITCH_STEP_S)));
  return {
    thresh: [...threshA],
    fractions: [...fractions],
    overdrives: [...overdrives],
    timeS: threshA.map((_, r) => fractions.map((_, c) => t[r * fractions.length + c])),
  };
}

/** Assemble the hardware tables. */
export function hardwareTables(
  knee: { n: KneeTable; p: KneeTable },
  copy: CopyTable,
  cellOff: CellOffTable | undefined,
  cellFold: CellFold | undefined,
  railCharge: { n: RailCharge; p: RailCharge },
  cellSwitch: { on: SwitchTimes; off: SwitchTimes },
  cellCommit: CellCommit,
  process: Process,
): HardwareTables {
  const { unitWidthUm: w, mirrorLengthUm: l } = process.sizing;
  return {
    knee,
    copy,
    ...(cellOff ? { cellOff } : {}),
    ...(cellFold ? { cellFold } : {}),
    railCharge,
    cellSwitch,
    cellCommit,
    source: `bmru calibrate (src/calibrate/hardware.ts): knee = summing node with a ${w}u/${l}u diode, one opposing unit copy and a swept ideal current; copy = unit mirror into each load, reference swept from 0 (same-type loads held at ${COPY_HOLD_A * 1e12} pA); cellOff = the cell grid's upward sweeps; railCharge = current steps ${RAIL_STEP.lowA * 1e12}-${RAIL_STEP.highA * 1e12} pA on rails with 0-12 extra unit gates / 8 drains / a 2 pF capacitor (its charge per farad: n U_T); cellSwitch = input steps of cells on the plan's switching grid; cellCommit = pulses of fractions of those steps' t50`,
  };
}

/** Fold / VDD/2-crossing ratios of the cell grid's cells (`grid[row]` = the measured cells of I_thresh row `row`). */
export function cellFoldTable(
  threshA: readonly number[],
  fractions: readonly number[],
  grid: readonly (readonly CellMeasurement[])[],
): CellFold {
  const ratio = (fold: number | undefined, read: number, fallback: number) =>
    fold !== undefined && Number.isFinite(fold) && Number.isFinite(read) && read > 0 ? fold / read : fallback;
  return {
    thresh: [...threshA],
    fractions: [...fractions],
    lo: grid.map((row) => row.map((m) => Math.min(ratio(m.betaLoFoldA, m.betaLoA, 1), 1))),
    hi: grid.map((row) => row.map((m) => Math.max(ratio(m.betaHiFoldA, m.betaHiA, 1), 1))),
  };
}

/**
 * Rail-charge test configurations: extra unit copies reading the node (gates), extra off devices on it (drains),
 * and whether the low level of the steps is no current at all (`fromZero`: the rise from a rail at zero).
 */
export const RAIL_LOADS: readonly {
  readonly gates: number;
  readonly drains: number;
  readonly fromZero?: boolean;
  /** An explicit capacitor across the diode (F), as the generator's cell input filter puts one on a candidate rail. */
  readonly capF?: number;
}[] = [
  { gates: 0, drains: 0 },
  { gates: 4, drains: 0 },
  { gates: 12, drains: 0 },
  { gates: 0, drains: 8 },
  { gates: 4, drains: 0, fromZero: true },
  // 2 pF: the size of a filter capacitor at the KWS model's beta_lo (12-20e-3 F/A x ~150 pA), and 10x the unit diode's own.
  { gates: 0, drains: 0, capF: 2e-12 },
];
/** The rail-charge steps: the diode's current (A) before, during and after, and when the steps come (s). */
export const RAIL_STEP = { lowA: 20 * pA, highA: 400 * pA, upS: 1e-3, downS: 6e-3, stopS: 16e-3, edgeS: 1e-6 } as const;

/**
 * A transient deck per diode polarity: one rail per RAIL_LOADS entry, each a unit diode (probe `vm_d<k>`) fed by an
 * ideal current stepping RAIL_STEP.lowA -> highA -> lowA, with `gates` unit copies reading it (drains at the far
 * supply) and `drains` unit devices of the other type held off with their drains on it.
 */
export function railChargeDeck(process: Process, polarity: 'n' | 'p', deckLines?: readonly string[]): string {
  const { unitWidthUm: w, mirrorLengthUm: l } = process.sizing;
  const unit = { widthUm: w, lengthUm: l };
  const gnd = nmosSource(process);
  const s = RAIL_STEP;
  const elements: Element[] = [];
  const saves: string[] = [];
  RAIL_LOADS.forEach((load, k) => {
    const lo = load.fromZero ? 0 : s.lowA;
    const pwl: [number, number][] = [
      [0, lo],
      [s.upS, lo],
      [s.upS + s.edgeS, s.highA],
      [s.downS, s.highA],
      [s.downS + s.edgeS, lo],
      [s.stopS, lo],
    ];
    const node = `x${k}`;
    if (polarity === 'n') {
      elements.push(mosfet({ name: `d${k}`, polarity: 'n', drain: `xd${k}`, gate: node, source: gnd, ...unit }), {
        type: 'vsrc',
        name: `m_d${k}`,
        plus: node,
        minus: `xd${k}`,
        dcV: 0,
      });
      elements.push({ type: 'isrc', name: `s${k}`, from: 'vdd', to: node, pwl });
      for (let g = 0; g < load.gates; g++)
        elements.push(mosfet({ name: `g${k}_${g}`, polarity: 'n', drain: 'vdd', gate: node, source: gnd, ...unit }));
      for (let d = 0; d < load.drains; d++)
        elements.push(mosfet({ name: `o${k}_${d}`, polarity: 'p', drain: node, gate: 'vdd', source: 'vdd', ...unit }));
      if (load.capF) elements.push({ type: 'cap', name: `f${k}`, plus: node, minus: '0', capacitanceF: load.capF });
    } else {
      elements.push(mosfet({ name: `d${k}`, polarity: 'p', drain: `xd${k}`, gate: node, source: 'vdd', ...unit }), {
        type: 'vsrc',
        name: `m_d${k}`,
        plus: `xd${k}`,
        minus: node,
        dcV: 0,
      });
      elements.push({ type: 'isrc', name: `s${k}`, from: node, to: '0', pwl });
      for (let g = 0; g < load.gates; g++)
        elements.push(mosfet({ name: `g${k}_${g}`, polarity: 'p', drain: '0', gate: node, source: 'vdd', ...unit }));
      for (let d = 0; d < load.drains; d++)
        elements.push(mosfet({ name: `o${k}_${d}`, polarity: 'n', drain: node, gate: '0', source: '0', ...unit }));
      if (load.capF) elements.push({ type: 'cap', name: `f${k}`, plus: node, minus: 'vdd', capacitanceF: load.capF });
    }
    saves.push(currentProbe(`m_d${k}`));
  });
  return writeDeck(
    {
      title: `rail charge steps (${polarity} diode)`,
      modelLines: deckLines ?? process.deckLines,
      options: DEFAULT_SPICE_OPTIONS,
      supplies: [
        { type: 'vsrc', name: 'dd', plus: 'vdd', minus: '0', dcV: process.vddV },
        ...nmosSourceSupply(process),
      ],
      elements,
      saves,
      analysis: { kind: 'tran', tStepS: 1e-6, tStopS: s.stopS, tStartS: 0, tMaxS: 20e-6 },
    },
    process,
  );
}

/**
 * The charge per e-fold of current (C) of a rail whose diode current r obeys Q dr/dt = r (I - r) (a subthreshold
 * diode node: Q = n U_T C), from the time the step from r0 towards I takes to reach r1.
 */
export function chargeFromStep(r0: number, iA: number, r1: number, tS: number): number {
  return (iA * tS) / Math.log((1 / r0 - 1 / iA) / (1 / r1 - 1 / iA));
}

/** Time (s) after `fromS` at which y first crosses `level`, or NaN. */
function crossingAfter(time: Float64Array, y: Float64Array, fromS: number, level: number): number {
  let i = 0;
  while (i < time.length && time[i] <= fromS) i++;
  const above = y[Math.max(i - 1, 0)] >= level;
  for (; i < time.length; i++) {
    if (y[i] >= level !== above) {
      const f = (level - y[i - 1]) / (y[i] - y[i - 1]);
      return time[i - 1] + f * (time[i] - time[i - 1]) - fromS;
    }
  }
  return Number.NaN;
}

/**
 * Rise and fall charges (C per e-fold) of each RAIL_LOADS rail, read at the geometric middle of the step; for a
 * `fromZero` rail, the time its rise takes to half the step instead (s; its charge comes from the others).
 */
export function measureRailCharge(plot: RawPlot): { rise: number; fall: number; fromZeroS?: number }[] {
  const time = vector(plot, 'time');
  const s = RAIL_STEP;
  return RAIL_LOADS.map((load, k) => {
    if (load.fromZero)
      return {
        rise: Number.NaN,
        fall: Number.NaN,
        fromZeroS: crossingAfter(time, vector(plot, `i(vm_d${k})`), s.upS, s.highA / 2),
      };
    const r = vector(plot, `i(vm_d${k})`);
    const lo = valueAt(time, r, s.upS * 0.99);
    const hi = valueAt(time, r, s.downS * 0.999);
    const mid = Math.sqrt(lo * hi);
    return {
      rise: chargeFromStep(lo, hi, mid, crossingAfter(time, r, s.upS, mid)),
      fall: chargeFromStep(hi, lo, mid, crossingAfter(time, r, s.downS, mid)),
    };
  });
}

/** One cell of the switching-time deck: its biases, its input before and after the step (A), its state before. */
export interface CellStep {
  readonly bias: CellBias;
  readonly fromA: number;
  readonly toA: number;
  readonly startOn: boolean;
  /** A pulse instead of a step: the input returns to `fromA` this long after the step (s). */
  readonly pulseS?: number;
}

/**
 * Cells as the calibration sweeps build them (input diode, bias references, the cell subcircuit), each with an ideal
 * input current that steps `fromA` -> `toA` at `stepS` (1 us edge); probes v(c<k>_v0). Each starts in `startOn` (an
 * initial condition on V0), its input inside the hysteresis band, so the time measured is the cell's own: the input
 * rail moves only by the step, as a candidate near a threshold does in a network (from zero input the input diode's
 * own rise from its floor would add up to half of it).
 */
export function cellStepDeck(
  process: Process,
  steps: readonly CellStep[],
  stepS: number,
  stopS: number,
  deckLines?: readonly string[],
): string {
  const { unitWidthUm: w, mirrorLengthUm: l } = process.sizing;
  const elements: Element[] = [];
  const saves: string[] = [];
  const initialConditions = steps.map((c, k) => ({ node: `c${k}_v0`, voltageV: c.startOn ? process.vddV : 0 }));
  steps.forEach((c, k) => {
    elements.push(...cellDrive(k, c.bias, w, l));
    elements.push({
      type: 'inst',
      name: `c${k}`,
      nodes: ['vdd', '0', `pin${k}`, `out${k}`, `out${k}`, `thr${k}`, `wid${k}`, `gain${k}`, `c${k}_v0`],
      subckt: CELL_SUBCKT,
    });
    const edge = 1e-6;
    const back: [number, number][] =
      c.pulseS === undefined
        ? []
        : [
            [stepS + c.pulseS, c.toA],
            [stepS + c.pulseS + edge, c.fromA],
          ];
    elements.push({
      type: 'isrc',
      name: `in${k}`,
      from: `pin${k}`,
      to: '0',
      pwl: [[0, c.fromA], [stepS, c.fromA], [stepS + edge, c.toA], ...back, [stopS, back.length ? c.fromA : c.toA]],
    });
    saves.push(voltageProbe(`c${k}_v0`));
  });
  return writeDeck(
    {
      title: 'cell switching times (input steps)',
      modelLines: deckLines ?? process.deckLines,
      options: DEFAULT_SPICE_OPTIONS,
      supplies: [{ type: 'vsrc', name: 'dd', plus: 'vdd', minus: '0', dcV: process.vddV }],
      subcircuits: [cellSubcircuit(process)],
      elements,
      initialConditions,
      saves,
      analysis: { kind: 'tran', tStepS: 1e-6, tStopS: stopS, tStartS: 0, tMaxS: 20e-6 },
    },
    process,
  );
}

/** Whether each cell of a deck ends with V0 above VDD/2. */
export function measureEndStates(plot: RawPlot, count: number, vddV: number): boolean[] {
  return Array.from({ length: count }, (_, k) => {
    const v = vector(plot, voltageProbe(`c${k}_v0`));
    return v[v.length - 1] > vddV / 2;
  });
}

/**
 * Commit ratios of one cell and overdrive from pulses of `ratios` x its step's t50: the shortest pulse that
 * latches, as the midpoint between it and the longest that does not (the first ratio / 2 if even that latched;
 * 1 if none did: the cell needs its whole switching time).
 */
export function commitRatio(ratios: readonly number[], latched: readonly boolean[]): number {
  const first = latched.findIndex((x) => x);
  if (first < 0) return 1;
  return first === 0 ? ratios[0] / 2 : 0.5 * (ratios[first - 1] + ratios[first]);
}

/** Time (s) from `stepS` to each cell's V0 crossing of VDD/2 (NaN: no crossing before the end). */
export function measureSwitchTimes(plot: RawPlot, count: number, stepS: number, vddV: number): number[] {
  const time = vector(plot, 'time');
  return Array.from({ length: count }, (_, k) =>
    crossingAfter(time, vector(plot, voltageProbe(`c${k}_v0`)), stepS, vddV / 2),
  );
}

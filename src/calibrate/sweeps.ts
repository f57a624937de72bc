/**
 * What a calibration run sweeps: the plans (grids) and the ngspice decks of each stage, as pure functions of the
 * process, the plans and (for the steps placed relative to them) the folds and switching times measured before.
 * calibrate.ts runs them; method.ts fingerprints them.
 */
import type { Process } from '../netlist/process.js';
import { minMirrorRatio, mirrorGeometry } from '../netlist/geometry.js';
import type { SwitchTimes } from '../netlist/hardware-tables.js';
import { cellSweepDeck, type CellBias } from './decks.js';
import type { CellMeasurement } from './measure.js';
import {
  COPY_HOLD_A,
  SWITCH_FROM,
  SWITCH_STEP_S,
  SWITCH_STOP_S,
  cellStepDeck,
  copySweepDeck,
  kneeSweepDeck,
  railChargeDeck,
  type CellStep,
  type HardwarePlan,
} from './hardware.js';

const nA = 1e-9;

/** What to sweep. Ranges cover the reference work's trained values (DESIGN §1b: beta_lo ~90 pA .. nA). */
export interface CalibrationPlan {
  /** I_thresh rows of the cell grid (A). */
  readonly threshA: readonly number[];
  /** I_width as fractions of I_thresh: the grid's columns (0 = no hysteresis). */
  readonly widthFractions: readonly number[];
  readonly gainA: readonly number[];
  /** Biases held fixed while another is swept (A). */
  readonly holdThreshA: number;
  readonly holdWidthA: number;
  readonly holdGainA: number;
  readonly mirrorRatios: readonly number[];
  readonly mirrorCurrentsA: readonly number[];
  /** Sweep step as a fraction of the cell's I_thresh: 0.1% resolution on every threshold. */
  readonly relStep: number;
}

export const DEFAULT_PLAN: CalibrationPlan = {
  threshA: [0.05, 0.1, 0.2, 0.4, 0.8, 1.5, 2.8].map((v) => v * nA),
  widthFractions: [0, 0.03, 0.08, 0.15, 0.25, 0.4, 0.55, 0.7, 0.85, 0.92, 0.97],
  gainA: [0.05, 0.08, 0.1, 0.15, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 2.8].map((v) => v * nA),
  holdThreshA: 0.5 * nA,
  holdWidthA: 0.1 * nA,
  holdGainA: 0.5 * nA,
  mirrorRatios: [0.2, 0.25, 0.35, 0.5, 0.7, 1, 1.4, 2, 2.8, 3.5, 4.5],
  mirrorCurrentsA: [0.1, 0.3, 1, 3].map((v) => v * nA),
  relStep: 1e-3,
};

/** Sweep span as a multiple of I_thresh: beta_hi sits near I_thresh; the ON level is read at 2 x beta_hi. */
export const SWEEP_SPAN = 2.2;

/** A named ngspice deck of a calibration run. */
export interface NamedDeck {
  readonly name: string;
  readonly netlist: string;
}

/** The decks of measureCellsSpice: per cell an up and a down sweep, in that order, each to SWEEP_SPAN x I_thresh. */
export function cellSweepDecks(
  process: Process,
  cells: readonly CellBias[],
  plan: CalibrationPlan,
  deckLines?: readonly string[],
): NamedDeck[] {
  return cells.flatMap((cell, k) =>
    (['up', 'down'] as const).map((direction) => ({
      name: `cell${k}-${direction}`,
      netlist: cellSweepDeck(
        process,
        [cell],
        direction,
        SWEEP_SPAN * cell.threshA,
        plan.relStep * cell.threshA,
        deckLines,
      ),
    })),
  );
}

/** Step of the ratio ladder below the plan's ratios: ~4 points per octave of width. */
const NARROW_RATIO_STEP = 1.25;

/**
 * The plan's mirror ratios, preceded by a ladder from the smallest copy (`minMirrorRatio`: the narrowest device,
 * stretched) up to them: small weights are realised there, and narrow or long devices are where the geometry
 * codes the gain worst (GF180MCU pmos at 0.24 um of a 6 um unit copies 1.55x its ratio). Without those points the
 * inverse extrapolated linearly from the plan's first two and the realised model never knew.
 */
export function mirrorRatiosFor(process: Process, plan: CalibrationPlan): number[] {
  const first = plan.mirrorRatios[0];
  const narrow: number[] = [];
  for (let r = minMirrorRatio(process); r < first / NARROW_RATIO_STEP ** 0.5; r *= NARROW_RATIO_STEP) narrow.push(r);
  // Distinct devices only: two ratios that snap to one size would give the table a repeated x.
  const seen = new Set<string>();
  return [...narrow, ...plan.mirrorRatios].filter((r) => {
    const g = mirrorGeometry(process, r);
    const key = `${g.widthUm}x${g.lengthUm}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The cells calibrate sweeps: the grid (I_thresh rows x I_width fractions, row by row) and the I_gain column. */
export function planCells(plan: CalibrationPlan): { gridCells: CellBias[]; gainCells: CellBias[] } {
  const gridCells = plan.threshA.flatMap((threshA) =>
    plan.widthFractions.map((f) => ({ threshA, widthA: f * threshA, gainA: plan.holdGainA })),
  );
  const gainCells = plan.gainA.map((gainA) => ({ threshA: plan.holdThreshA, widthA: plan.holdWidthA, gainA }));
  return { gridCells, gainCells };
}

/** The switching-time cells: every I_thresh of the hardware plan with every I_width fraction (I_gain: the grid's). */
export function switchCells(hw: HardwarePlan, plan: CalibrationPlan): CellBias[] {
  return hw.switchThreshA.flatMap((threshA) =>
    hw.switchFractions.map((f) => ({ threshA, widthA: f * threshA, gainA: plan.holdGainA })),
  );
}

/** Where a cell's input switches (A): the fold of its up sweep (beta_hi) and of its down sweep (beta_lo). */
export type CellFolds = Pick<CellMeasurement, 'betaHiA' | 'betaLoA'>;

/**
 * The switching-time steps of cells `bias` whose folds are `folds`: per cell and overdrive d, turning ON from
 * SWITCH_FROM.on x beta_hi to (1 + d) beta_hi, and turning OFF from inside the band to (1 - d) beta_lo.
 */
export function switchSteps(
  bias: readonly CellBias[],
  folds: readonly CellFolds[],
  overdrives: readonly number[],
): { on: CellStep[]; off: CellStep[] } {
  return {
    on: bias.flatMap((b, k) =>
      overdrives.map((d) => ({
        bias: b,
        fromA: SWITCH_FROM.on * folds[k].betaHiA,
        toA: folds[k].betaHiA * (1 + d),
        startOn: false,
      })),
    ),
    off: bias.flatMap((b, k) =>
      overdrives.map((d) => ({
        bias: b,
        fromA: Math.min(SWITCH_FROM.off * folds[k].betaLoA, SWITCH_FROM.on * folds[k].betaHiA),
        toA: folds[k].betaLoA * (1 - d),
        startOn: true,
      })),
    ),
  };
}

/** The hardware decks after the folds, in the order measureHardware reads them: knees n/p, rails n/p, switching on/off, copies. */
export function hardwareDecks(
  process: Process,
  hw: HardwarePlan,
  steps: { on: readonly CellStep[]; off: readonly CellStep[] },
  deckLines?: readonly string[],
): NamedDeck[] {
  const topA = hw.kneeNetA[hw.kneeNetA.length - 1];
  return [
    ...(['n', 'p'] as const).map((pol) => ({
      name: `knee-${pol}`,
      netlist: kneeSweepDeck(process, pol, hw.kneeOpposingA, topA, hw.kneePoints, deckLines),
    })),
    ...(['n', 'p'] as const).map((pol) => ({
      name: `rail-${pol}`,
      netlist: railChargeDeck(process, pol, deckLines),
    })),
    ...(['on', 'off'] as const).map((dir) => ({
      name: `switch-${dir}`,
      netlist: cellStepDeck(process, steps[dir], SWITCH_STEP_S, SWITCH_STOP_S, deckLines),
    })),
    ...hw.copySweepsA.map((range, k) => ({
      name: `copy${k}`,
      netlist: copySweepDeck(process, range, COPY_HOLD_A, deckLines),
    })),
  ];
}

/**
 * The commit-ratio pulses of the plan's commit rows (each a row of the switching grid), turning ON from
 * SWITCH_FROM.on: per cell, overdrive and ratio q a pulse of q x that step's t50 (`on`), in that nesting.
 */
export function commitPulses(
  hw: HardwarePlan,
  switchBias: readonly CellBias[],
  folds: readonly CellFolds[],
  on: SwitchTimes,
): CellStep[] {
  const F = hw.switchFractions.length;
  const cells = hw.commitThreshA.flatMap((threshA) => {
    const r = hw.switchThreshA.indexOf(threshA);
    if (r < 0) throw new RangeError(`commit row ${threshA} A is not a row of the switching grid`);
    return hw.switchFractions.map((_, c) => ({ r, c, k: r * F + c }));
  });
  return cells.flatMap(({ r, c, k }) =>
    hw.commitOverdrives.flatMap((d) => {
      const t50 = on.timeS[r][c][hw.switchOverdrives.indexOf(d)];
      return hw.commitRatios.map((q) => ({
        bias: switchBias[k],
        fromA: SWITCH_FROM.on * folds[k].betaHiA,
        toA: folds[k].betaHiA * (1 + d),
        startOn: false,
        pulseS: q * t50,
      }));
    }),
  );
}

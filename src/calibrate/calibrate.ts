/**
 * `bmru calibrate`: measure the process's cell and mirror transfers with ngspice, store them as tables, and
 * verify that the inverted tables make a cell and a mirror realise what they are asked to (DESIGN §2).
 */
import { cellInverse, inverse, type Calibration, type Table } from '../netlist/calibration.js';
import type { Process } from '../netlist/process.js';
import { runMany } from '../util/pool.js';
import { runNgspice, ngspiceVersion, type RunOptions } from '../spice/runner.js';
import { mirrorSweepDeck, type CellBias } from './decks.js';
import { mirrorGeometry } from '../netlist/geometry.js';
import { measureCells, measureMirrors, type CellMeasurement } from './measure.js';
import {
  DEFAULT_HARDWARE_PLAN,
  SWITCH_STEP_S,
  SWITCH_STOP_S,
  cellFoldTable,
  cellOffTable,
  cellStepDeck,
  fitRailCharge,
  hardwareTables,
  measureCopies,
  measureKnee,
  measureRailCharge,
  measureSwitchTimes,
  switchTimes,
  commitRatio,
  measureEndStates,
  type HardwarePlan,
} from './hardware.js';
import type { CellCommit, SwitchTimes } from '../netlist/hardware-tables.js';
import {
  DEFAULT_PLAN,
  cellSweepDecks,
  commitPulses,
  hardwareDecks,
  mirrorRatiosFor,
  planCells,
  switchCells,
  switchSteps,
  type CalibrationPlan,
} from './sweeps.js';
import { calibrationMethod } from './method.js';

export { DEFAULT_PLAN, mirrorRatiosFor, type CalibrationPlan } from './sweeps.js';

const nA = 1e-9;

export interface CalibrateOptions {
  readonly plan?: CalibrationPlan;
  /** The hardware tables' sweeps (knees, copies, OFF curves); `false`: do not measure them. */
  readonly hardwarePlan?: HardwarePlan | false;
  readonly run?: Omit<RunOptions, 'netlist'>;
  readonly deckLines?: readonly string[];
  readonly concurrency?: number;
  /** Called after each ngspice run with (done, total). */
  readonly onRun?: (done: number, total: number) => void;
}

/**
 * Run the cell sweeps, one deck per cell and direction. One cell per deck matters: when a DC sweep point does
 * not converge (at a switching jump) ngspice restarts from gmin stepping, which forgets the state of every
 * other bistable cell in the deck. Steps scale with each cell's I_thresh so every threshold gets 0.1% resolution.
 */
export async function measureCellsSpice(
  process: Process,
  cells: readonly CellBias[],
  plan: CalibrationPlan,
  opts: CalibrateOptions & { offFractions?: readonly number[] } = {},
): Promise<CellMeasurement[]> {
  const plots = await runMany(
    cellSweepDecks(process, cells, plan, opts.deckLines),
    (d) =>
      runNgspice({
        ...opts.run,
        name: d.name,
        netlist: d.netlist,
        extraArgs: [...process.ngspiceArgs, ...(opts.run?.extraArgs ?? [])],
      }).then((r) => r.plots[0]),
    { concurrency: opts.concurrency, onDone: (c) => opts.onRun?.(c.completed, c.total) },
  );
  return cells.map((_, k) => measureCells(plots[2 * k], plots[2 * k + 1], 1, process.vddV, opts.offFractions)[0]);
}

/** Run the mirror sweep: gain[pol][ratio index][current index]. */
export async function measureMirrorsSpice(
  process: Process,
  ratios: readonly number[],
  plan: CalibrationPlan,
  opts: CalibrateOptions = {},
) {
  const r = await runNgspice({
    ...opts.run,
    name: 'mirrors',
    netlist: mirrorSweepDeck(process, ratios, plan.mirrorCurrentsA, opts.deckLines),
    extraArgs: [...process.ngspiceArgs, ...(opts.run?.extraArgs ?? [])],
  });
  return measureMirrors(r.plots[0], ratios, plan.mirrorCurrentsA);
}

/** Keep points whose x and y both increase strictly, so the table can be inverted. */
export function monotoneTable(x: readonly number[], y: readonly number[]): Table {
  const xs: number[] = [];
  const ys: number[] = [];
  x.forEach((xv, i) => {
    if (!Number.isFinite(y[i])) return;
    if (ys.length === 0 || (xv > xs[xs.length - 1] && y[i] > ys[ys.length - 1])) {
      xs.push(xv);
      ys.push(y[i]);
    }
  });
  return { x: xs, y: ys };
}

/** Geometric mean: gains are ratios, and the currents span decades. */
const geoMean = (v: readonly number[]) => Math.exp(v.reduce((a, b) => a + Math.log(b), 0) / v.length);

export interface CalibrationRun {
  readonly calibration: Calibration;
  readonly cells: { bias: CellBias; measured: CellMeasurement }[];
  readonly mirrors: { ratios: number[]; p: number[][]; n: number[][] };
}

/** Measure every transfer of a process and return the calibration tables. */
export async function calibrate(process: Process, opts: CalibrateOptions = {}): Promise<CalibrationRun> {
  const plan = opts.plan ?? DEFAULT_PLAN;
  const { gridCells, gainCells } = planCells(plan);
  const cells = [...gridCells, ...gainCells];
  const hwPlan = opts.hardwarePlan === false ? undefined : (opts.hardwarePlan ?? DEFAULT_HARDWARE_PLAN);
  const measured = await measureCellsSpice(process, cells, plan, { ...opts, offFractions: hwPlan?.offFractions });
  const F = plan.widthFractions.length;
  const norm = (r: number, pick: (m: CellMeasurement) => number) =>
    measured.slice(r * F, (r + 1) * F).map((m) => pick(m) / plan.threshA[r]);
  const mG = measured.slice(gridCells.length);
  const wanted = mirrorRatiosFor(process, plan);
  const ratios = wanted.map((r) => mirrorGeometry(process, r).ratio);
  const mirrors = await measureMirrorsSpice(process, wanted, plan, opts);
  const mirrorTable = (gains: number[][]) =>
    monotoneTable(
      ratios,
      gains.map((g) => geoMean(g)),
    );
  const calibration: Calibration = {
    process: process.name,
    ngspiceVersion: await ngspiceVersion(opts.run?.ngspiceBin),
    createdAt: new Date().toISOString(),
    method: calibrationMethod(plan, hwPlan ?? false),
    vddV: process.vddV,
    cell: {
      grid: {
        thresh: [...plan.threshA],
        fractions: [...plan.widthFractions],
        betaHi: plan.threshA.map((_, r) => norm(r, (m) => m.betaHiA)),
        // No hysteresis current means no width, whatever the sweep resolution shows; a cell that never turns
        // off above zero input (beta_lo below the sweep) holds down to 0, so its width is all of beta_hi.
        delta: plan.threshA.map((_, r) =>
          norm(r, (m) => m.betaHiA - (Number.isNaN(m.betaLoA) ? 0 : m.betaLoA)).map((d, c) =>
            plan.widthFractions[c] === 0 ? 0 : Math.max(d, 0),
          ),
        ),
      },
      gain: monotoneTable(
        plan.gainA,
        mG.map((m) => m.onA),
      ),
    },
    mirror: {
      p: mirrorTable(mirrors.p),
      n: mirrorTable(mirrors.n),
      pSame: mirrorTable(mirrors.ps),
      nSame: mirrorTable(mirrors.ns),
    },
  };
  if (hwPlan) {
    const grid = plan.threshA.map((_, r) => measured.slice(r * F, (r + 1) * F));
    calibration.hardware = await measureHardware(process, hwPlan, grid, plan.threshA, { ...opts, plan });
  }
  return {
    calibration,
    cells: cells.map((bias, k) => ({ bias, measured: measured[k] })),
    mirrors: { ratios, ...mirrors },
  };
}

/**
 * The hardware tables (calibrate/hardware.ts, read by analysis/hwmodel.ts): knee sweeps of both diode polarities,
 * rail-charge steps, cell switching-time steps, copy sweeps; and from the cell grid's own sweeps (`grid[row]` = the
 * measured cells of I_thresh row `row`; empty: left out) the OFF curves and the folds.
 */
export async function measureHardware(
  process: Process,
  hw: HardwarePlan,
  grid: readonly (readonly CellMeasurement[])[],
  threshA: readonly number[],
  opts: CalibrateOptions = {},
) {
  const plan = opts.plan ?? DEFAULT_PLAN;
  // The switching-time cells' folds first: the steps are placed relative to them.
  const switchBias = switchCells(hw, plan);
  const folds = await measureCellsSpice(process, switchBias, plan, { ...opts, onRun: undefined });
  const od = hw.switchOverdrives;
  const plots = await runMany(
    hardwareDecks(process, hw, switchSteps(switchBias, folds, od), opts.deckLines),
    (d) =>
      runNgspice({
        ...opts.run,
        name: d.name,
        netlist: d.netlist,
        extraArgs: [...process.ngspiceArgs, ...(opts.run?.extraArgs ?? [])],
      }).then((r) => r.plots[0]),
    { concurrency: opts.concurrency, onDone: (c) => opts.onRun?.(c.completed, c.total) },
  );
  const topA = hw.kneeNetA[hw.kneeNetA.length - 1];
  const knee = {
    n: measureKnee(plots[0], hw.kneeOpposingA, topA, hw.kneeNetA),
    p: measureKnee(plots[1], hw.kneeOpposingA, topA, hw.kneeNetA),
  };
  const railCharge = {
    n: fitRailCharge(process, measureRailCharge(plots[2])),
    p: fitRailCharge(process, measureRailCharge(plots[3])),
  };
  const times = (plot: (typeof plots)[number]) => {
    const t = measureSwitchTimes(plot, switchBias.length * od.length, SWITCH_STEP_S, process.vddV);
    return switchBias.map((_, k) => t.slice(k * od.length, (k + 1) * od.length));
  };
  const cellSwitch = {
    on: switchTimes(hw.switchThreshA, hw.switchFractions, od, times(plots[4])),
    off: switchTimes(hw.switchThreshA, hw.switchFractions, od, times(plots[5])),
  };
  // Pulses of fractions of each ON step's t50, for the commit ratios (a second stage: they need those t50).
  const cellCommit = await measureCommit(process, hw, switchBias, folds, cellSwitch.on, opts);
  const copy = measureCopies(plots.slice(6), hw.copyCurrentsA, plan.mirrorCurrentsA);
  const onGrid = grid.length > 0;
  const off = onGrid ? cellOffTable(threshA, plan.widthFractions, grid, hw.offFractions) : undefined;
  const fold = onGrid ? cellFoldTable(threshA, plan.widthFractions, grid) : undefined;
  return hardwareTables(knee, copy, off, fold, railCharge, cellSwitch, cellCommit, process);
}

/** The commit-ratio pulses of the plan's commit rows (each a row of the switching grid), turning ON from SWITCH_FROM.on. */
async function measureCommit(
  process: Process,
  hw: HardwarePlan,
  switchBias: readonly CellBias[],
  folds: readonly CellMeasurement[],
  on: SwitchTimes,
  opts: CalibrateOptions,
): Promise<CellCommit> {
  const F = hw.switchFractions.length;
  const pulses = commitPulses(hw, switchBias, folds, on);
  const r = await runNgspice({
    ...opts.run,
    name: 'commit',
    netlist: cellStepDeck(process, pulses, SWITCH_STEP_S, SWITCH_STOP_S, opts.deckLines),
    extraArgs: [...process.ngspiceArgs, ...(opts.run?.extraArgs ?? [])],
  });
  const latched = measureEndStates(r.plots[0], pulses.length, process.vddV);
  const Q = hw.commitRatios.length;
  const O = hw.commitOverdrives.length;
  return {
    thresh: [...hw.commitThreshA],
    fractions: [...hw.switchFractions],
    overdrives: [...hw.commitOverdrives],
    ratio: hw.commitThreshA.map((_, ri) =>
      hw.switchFractions.map((_, c) =>
        hw.commitOverdrives.map((_, o) => {
          const at = ((ri * F + c) * O + o) * Q;
          return commitRatio(hw.commitRatios, latched.slice(at, at + Q));
        }),
      ),
    ),
  };
}

/** A wanted cell (software units times I_unit, in A). */
export interface CellTarget {
  readonly betaLoA: number;
  readonly betaHiA: number;
  readonly alphaA: number;
}

/** Targets spanning beta in 0.1-1.5 nA (issue 2 acceptance) with narrow and wide hysteresis and several ON levels. */
export const VERIFY_TARGETS: readonly CellTarget[] = [
  [0.1, 0.15, 0.1],
  [0.1, 0.3, 0.3],
  [0.1, 1.5, 1.5],
  [0.2, 0.5, 0.5],
  [0.3, 0.35, 1.0],
  [0.4, 0.6, 0.2],
  [0.5, 1.0, 0.8],
  [0.7, 0.9, 1.2],
  [0.8, 1.2, 0.4],
  [1.0, 1.5, 0.6],
  [1.3, 1.4, 1.0],
  [1.4, 1.5, 0.15],
].map(([lo, hi, a]) => ({ betaLoA: lo * nA, betaHiA: hi * nA, alphaA: a * nA }));

/**
 * Mirror gains to verify (issue 2: within 3% over 0.25-3). 0.02-0.12: copies of the narrowest device, longer
 * than the unit (netlist/geometry.ts); verified where the process realises them (at least its smallest copy's gain).
 */
export const VERIFY_GAINS = [0.02, 0.06, 0.12, 0.25, 0.4, 0.6, 1, 1.5, 2.2, 3];

/** Acceptance rule of issue 2: within 3% of the target, or 5 pA, whichever is larger. */
export const TOLERANCE_REL = 0.03;
export const TOLERANCE_ABS_A = 5e-12;

/**
 * Gains below this are copies of the narrowest device, made longer; they are accepted within
 * TOLERANCE_REL_SMALL_GAIN. Measured: GF180MCU's 0.22 um nmos copies of 10-50 um length (the kit's last length
 * bin, not the unit's) move from +3.7% at 0.1 nA to -4.4% at 3 nA at gain 0.02, against one table per polarity;
 * c180 stays within 0.9%. Before these copies existed such gains were rounded to 0 or to the narrowest device.
 */
export const SMALL_GAIN = 0.25;
export const TOLERANCE_REL_SMALL_GAIN = 0.05;

export interface VerifyRow {
  readonly what: string;
  readonly target: number;
  readonly measured: number;
  readonly error: number;
  readonly allowed: number;
  readonly pass: boolean;
}

const row = (what: string, target: number, measured: number, absFloor: number, rel = TOLERANCE_REL): VerifyRow => {
  const allowed = Math.max(rel * Math.abs(target), absFloor);
  const error = measured - target;
  return { what, target, measured, error, allowed, pass: Math.abs(error) <= allowed };
};

/** The three bias currents that realise a cell target through the inverted tables. */
export function biasesFor(calibration: Calibration | undefined, t: CellTarget): CellBias {
  const { threshA, widthA } = cellInverse(calibration?.cell.grid, t.betaHiA, t.betaHiA - t.betaLoA);
  return { threshA, widthA, gainA: inverse(calibration?.cell.gain, t.alphaA) };
}

/** Realise each target through the inverted tables, measure it in ngspice, report errors against the rule. */
export async function verifyCalibration(
  process: Process,
  calibration: Calibration | undefined,
  opts: CalibrateOptions & { targets?: readonly CellTarget[]; gains?: readonly number[] } = {},
): Promise<VerifyRow[]> {
  const plan = opts.plan ?? DEFAULT_PLAN;
  const targets = opts.targets ?? VERIFY_TARGETS;
  const measured = await measureCellsSpice(
    process,
    targets.map((t) => biasesFor(calibration, t)),
    plan,
    opts,
  );
  const rows: VerifyRow[] = [];
  targets.forEach((t, k) => {
    const m = measured[k];
    const tag = `cell ${k}`;
    rows.push(row(`${tag} beta_hi (A)`, t.betaHiA, m.betaHiA, TOLERANCE_ABS_A));
    rows.push(row(`${tag} beta_lo (A)`, t.betaLoA, m.betaLoA, TOLERANCE_ABS_A));
    rows.push(row(`${tag} ON level (A)`, t.alphaA, m.onA, TOLERANCE_ABS_A));
  });
  const gainsWanted = opts.gains ?? VERIFY_GAINS;
  for (const pol of ['p', 'n'] as const) {
    const table = calibration?.mirror[pol];
    const wanted = gainsWanted.filter((g) => !table || g >= table.y[0]);
    // The decks size each copy with mirrorGeometry, as the generator does.
    const ratios = wanted.map((g) => inverse(table, g));
    const gains = (await measureMirrorsSpice(process, ratios, plan, opts))[pol];
    wanted.forEach((g, k) => {
      const rel = g < SMALL_GAIN ? TOLERANCE_REL_SMALL_GAIN : TOLERANCE_REL;
      plan.mirrorCurrentsA.forEach((iA, c) =>
        rows.push(row(`${pol}mos mirror gain ${g} at ${iA / nA} nA`, g, gains[k][c], 0, rel)),
      );
    });
  }
  return rows;
}

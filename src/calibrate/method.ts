/**
 * The calibration method's fingerprint, written into every calibration.json `bmru calibrate` measures (`method`), so
 * that tables measured by another method are known as such: a process copy is measured again, a shipped or user kit
 * gets a warning, and a test holds the shipped tables to the current method.
 *
 * What it covers: the method is what decides a measurement apart from the process itself, so the fingerprint is a
 * SHA-256 over (1) every ngspice deck a calibration run writes, for two fixed reference processes, (2) the plans (the
 * grids; the OFF fractions, for one, are read from the sweeps and appear in no deck) and (3) a revision number bumped by
 * hand. The decks are digested rather than versioned by hand because they are where the method mostly changes (the
 * cell subcircuit, the bias arrangement, the sweep ranges, the simulator options, the deck writer), and a digest
 * catches such a change without anyone remembering to bump anything. They depend on the process only through its
 * data (models, supply, sizes, layout grid), so written for reference processes that are literals here they are the
 * same text on every machine and install; an edit of a shipped process.json is that process's change, not the
 * method's, and moves no fingerprint. The two references take the branches the deck writers have for the shipped
 * kits: `M` and `X` device cards, NMOS sources on a lifted rail and on ground, narrow copies stretched up to 8 unit
 * lengths or to a kit's longest model bin; one has a junction rule (the calibration decks write no junctions today:
 * if they start to, the digest moves).
 *
 * Not covered, hence the revision: how a sweep is read into a table (measure.ts, hardware.ts's measure and fit
 * functions, calibrate.ts's assembly); no digest of data sees that code. The inversion (netlist/calibration.ts
 * `cellInverse`, `inverse`) reads the stored tables when a circuit is built, so changing it needs no new tables. The
 * ngspice version is recorded beside the fingerprint (`ngspiceVersion`), not in it: it is the machine's, and asking
 * ngspice for it would cost a process start at every load.
 */
import { createHash } from 'node:crypto';
import { resolve, sep } from 'node:path';
import { PACKAGE_ROOT } from '../util/paths.js';
import { methodMismatch, type Calibration } from '../netlist/calibration.js';
import type { Process } from '../netlist/process.js';
import { mirrorSweepDeck, type CellBias } from './decks.js';
import {
  DEFAULT_HARDWARE_PLAN,
  SWITCH_STEP_S,
  SWITCH_STOP_S,
  cellStepDeck,
  switchTimes,
  type HardwarePlan,
} from './hardware.js';
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
  type CellFolds,
  type NamedDeck,
} from './sweeps.js';

/**
 * Bump when the reading of the sweeps changes (see the module comment): every table measured before then is stale.
 * 1: the method of the shipped tables (c180 measured 2026-12-05 at e1d5ed9, GF180MCU at 1a6d8cc).
 */
export const CALIBRATION_METHOD_REVISION = 1;

/** Fields every reference process shares: no corners, mismatch or skews (calibration uses none of them). */
const REFERENCE_COMMON = {
  ngspiceArgs: [],
  corners: {},
  skewCorners: {},
  dir: '/reference',
} as const;

/**
 * The processes the fingerprint's decks are written for, literal so that the digest is the same everywhere. Shaped
 * like the two shipped kits (c180: `M` cards, NMOS sources lifted 0.1 V, junctions; GF180MCU: `X` cards, ground,
 * no junctions, 50 um longest bin), with model lines that name no file.
 */
export const REFERENCE_PROCESSES: readonly Process[] = [
  {
    ...REFERENCE_COMMON,
    name: 'reference-m',
    description: 'calibration method reference, M cards',
    vddV: 0.9,
    nmos: 'nref',
    pmos: 'pref',
    instance: 'M',
    deckLines: ['.include reference-m.lib'],
    minWidthUm: 0.22,
    widthGridUm: 0.01,
    minLengthUm: 0.18,
    nmosSourceV: 0.1,
    sizing: { unitWidthUm: 2, mirrorLengthUm: 8, switchWidthUm: 0.22, switchLengthUm: 16 },
    junctions: { diffusionLengthUm: 0.48, source: 'reference' },
  },
  {
    ...REFERENCE_COMMON,
    name: 'reference-x',
    description: 'calibration method reference, X cards',
    vddV: 1.5,
    nmos: 'nref',
    pmos: 'pref',
    instance: 'X',
    deckLines: ['.include reference-x.lib', '.param reference=1'],
    minWidthUm: 0.22,
    widthGridUm: 0.005,
    minLengthUm: 0.28,
    maxLengthUm: 50,
    sizing: { unitWidthUm: 6, mirrorLengthUm: 8, switchWidthUm: 0.5, switchLengthUm: 2 },
  },
];

/** Switching time (s) the fingerprint's commit pulses are placed at: a run measures each; any fixed value will do. */
const NOMINAL_T50_S = 1e-3;

/** Folds the fingerprint's steps are placed at (a run measures them): the identity transfer, beta_hi = I_thresh. */
const nominalFolds = (bias: readonly CellBias[]): CellFolds[] =>
  bias.map((b) => ({ betaHiA: b.threshA, betaLoA: b.threshA - b.widthA }));

/**
 * Every deck a calibration run of `process` writes, in its order: the cell grid and I_gain column (up and down each),
 * the mirrors, then with hardware tables the switching cells' folds, knees, rails, switching steps, copies and the
 * commit pulses, the steps placed at nominal folds and switching times (a run places them at measured ones).
 */
export function methodDecks(process: Process, plan: CalibrationPlan, hardwarePlan: HardwarePlan | false): NamedDeck[] {
  const { gridCells, gainCells } = planCells(plan);
  const decks = [
    ...cellSweepDecks(process, [...gridCells, ...gainCells], plan),
    { name: 'mirrors', netlist: mirrorSweepDeck(process, mirrorRatiosFor(process, plan), plan.mirrorCurrentsA) },
  ];
  if (hardwarePlan === false) return decks;
  const hw = hardwarePlan;
  const bias = switchCells(hw, plan);
  const folds = nominalFolds(bias);
  const od = hw.switchOverdrives;
  const on = switchTimes(
    hw.switchThreshA,
    hw.switchFractions,
    od,
    bias.map(() => od.map(() => NOMINAL_T50_S)),
  );
  return [
    ...decks,
    ...cellSweepDecks(process, bias, plan).map((d) => ({ ...d, name: `fold-${d.name}` })),
    ...hardwareDecks(process, hw, switchSteps(bias, folds, od)),
    { name: 'commit', netlist: cellStepDeck(process, commitPulses(hw, bias, folds, on), SWITCH_STEP_S, SWITCH_STOP_S) },
  ];
}

/** The fingerprint of the default plans, computed once (a few hundred decks) when first asked for. */
let currentMethod: string | undefined;

/**
 * The method fingerprint (64 hex digits) of a calibration run with these plans (default: `bmru calibrate`'s), see
 * the module comment; what calibrate() writes as `method`.
 */
export function calibrationMethod(
  plan: CalibrationPlan = DEFAULT_PLAN,
  hardwarePlan: HardwarePlan | false = DEFAULT_HARDWARE_PLAN,
): string {
  const isDefault = plan === DEFAULT_PLAN && hardwarePlan === DEFAULT_HARDWARE_PLAN;
  if (isDefault && currentMethod !== undefined) return currentMethod;
  const h = createHash('sha256');
  h.update(`bmru calibration method, revision ${CALIBRATION_METHOD_REVISION}\0`);
  h.update(`${JSON.stringify({ plan, hardwarePlan })}\0`);
  for (const process of REFERENCE_PROCESSES)
    for (const d of methodDecks(process, plan, hardwarePlan)) h.update(`${process.name}/${d.name}\0${d.netlist}\0`);
  const digest = h.digest('hex');
  if (isDefault) currentMethod = digest;
  return digest;
}

/**
 * The one-line warning for the tables of `processFile` (its calibration.json, `calibration`) when they were measured
 * by another method than this toolkit's, else undefined. A warning, not an error: an older kit's tables still build
 * circuits, only not the way a fresh measurement would.
 */
export function staleTablesWarning(
  calibration: Calibration,
  calibrationFile: string,
  processFile: string,
): string | undefined {
  const why = methodMismatch(calibration, calibrationMethod());
  return (
    why &&
    `warning: ${calibrationFile}: ${why}; results use the tables as they are: re-measure them with bmru calibrate -p ${processFile}`
  );
}

/** calibration.json files already warned about in this process: a batch loads a process once per plan expansion. */
const warned = new Set<string>();

/**
 * The package's own process folders: their tables are held to the current method by test/calibrate/method.test.ts,
 * and `bmru calibrate` refuses to overwrite them, so loading them needs no digest (~0.1 s, a fifth of `bmru export`'s
 * start-up, paid by every command otherwise).
 */
const SHIPPED_MODELS_DIR = resolve(PACKAGE_ROOT, 'models') + sep;

/** Prints staleTablesWarning on stderr, once per file in this process; nothing for the package's own tables. */
export function warnIfStale(calibration: Calibration | undefined, calibrationFile: string, processFile: string): void {
  if (calibration === undefined || warned.has(calibrationFile)) return;
  if (resolve(calibrationFile).startsWith(SHIPPED_MODELS_DIR)) return;
  const line = staleTablesWarning(calibration, calibrationFile, processFile);
  if (line === undefined) return;
  warned.add(calibrationFile);
  console.error(line);
}

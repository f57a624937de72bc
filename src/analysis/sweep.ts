/**
 * The operating-point sweep of `bmru analyze power --sweep`: one network on one clip at every (VDD, I_unit) of a
 * grid, scored against every reference and priced in core power, so a user sees what each nanowatt buys.
 *
 * Each VDD is a copy of the process folder with only its supply changed, calibrated there (netlist/process-copy.ts;
 * tables measured at another VDD are refused by loadCalibration); the process's own VDD uses it as shipped. Each I_unit is a copy of
 * the model with only its unit current changed. The circuit runs are an ordinary batch (src/jobs): models x
 * processes in one plan in the output folder, so results stream to disk as each point finishes, Ctrl-C keeps
 * them, and a rerun simulates only what is missing. Points a process cannot build (a current outside its
 * calibrated range, ngspice giving up) are failed records, shown as rows with their reason.
 */
import { basename, join } from 'node:path';
import { stringify } from 'yaml';
import type { Network } from '../model/types.js';
import { networkToJson } from '../model/json-format.js';
import { sameVdd } from '../netlist/calibration.js';

/** Re-exported for the sweep's callers: one rule for when two supplies are the same setting. */
export { sameVdd };
import { formatSi } from '../netlist/ranges.js';
import type { ReferenceName, ReferenceTable } from '../compare/references.js';
import type { Tolerances } from '../compare/tolerance.js';
import { recordReference, type ResultRecord } from '../jobs/store.js';
import { makeDir, writeFileAtomic } from '../util/output.js';
import { CORE_DOMAINS } from './power.js';
import { paretoFront } from './pareto.js';

/** Default supplies as multiples of the process's own vddV: c180 (0.9 V) 0.6, 0.9, 1.2, 1.8 V; GF180MCU (1.5 V) 1, 1.5, 2, 3 V. */
export const DEFAULT_VDD_FACTORS: readonly number[] = [2 / 3, 1, 4 / 3, 2];
/** Default unit currents as multiples of the model's: kws-w4 (250 pA) 125, 250, 500 pA. */
export const DEFAULT_CURRENT_FACTORS: readonly number[] = [0.5, 1, 2];
/** Default supplies are rounded to this step (V). */
const VDD_STEP_V = 0.05;

/** The default supplies (V) around a process's vddV, rounded to 50 mV, ascending. */
export function defaultVddsV(vddV: number): number[] {
  const v = DEFAULT_VDD_FACTORS.map((f) =>
    f === 1 ? vddV : Number((Math.round((f * vddV) / VDD_STEP_V) * VDD_STEP_V).toFixed(3)),
  );
  return [...new Set(v)].sort((a, b) => a - b);
}

/** The default unit currents (A) around a model's I_unit, ascending. */
export function defaultUnitCurrentsA(unitA: number): number[] {
  return DEFAULT_CURRENT_FACTORS.map((f) => Number((f * unitA).toPrecision(6)));
}

/** The folder of a supply's process copy in the output folder: `vdd-0.6V`. */
export function vddFolder(vddV: number): string {
  return `vdd-${Number(vddV.toPrecision(6))}V`;
}

/** The file of a unit current's model copy: `kws-w4-250pA.json`. */
export function modelCopyName(stem: string, unitA: number): string {
  return `${stem}-${formatSi(unitA, 'A').replace(' ', '')}.json`;
}

/** What `prepareSweepRun` wrote: the plan and each unit current's model copy (absolute paths). */
export interface SweepRunFiles {
  readonly plan: string;
  readonly models: readonly { readonly file: string; readonly unitCurrentA: number }[];
}

/**
 * Writes a model copy per unit current (`models/<stem>-<I>.json`) and a batch plan of those models x the given
 * processes on one clip into `outDir`. Process refs and the clip are absolute paths or shipped process names.
 */
export async function prepareSweepRun(
  net: Network,
  opts: {
    readonly outDir: string;
    readonly modelStem: string;
    readonly unitCurrentsA: readonly number[];
    readonly processRefs: readonly string[];
    readonly inputs: string;
    readonly kit?: string;
    readonly calibrated: boolean;
    readonly tolerances: Tolerances;
    readonly timeoutS: number;
    readonly maxTransistors?: number;
    readonly reference?: ReferenceName;
    readonly name: string;
  },
): Promise<SweepRunFiles> {
  await makeDir(join(opts.outDir, 'models'));
  const models = [];
  for (const unitCurrentA of opts.unitCurrentsA) {
    const name = join('models', modelCopyName(opts.modelStem, unitCurrentA));
    await writeFileAtomic(
      join(opts.outDir, name),
      networkToJson(
        { ...net, unitCurrentA },
        `bmru analyze power --sweep: ${opts.modelStem} at I_unit ${formatSi(unitCurrentA, 'A')}`,
      ),
    );
    models.push({ name, file: join(opts.outDir, name), unitCurrentA });
  }
  const plan = join(opts.outDir, 'plan.yaml');
  const body = {
    name: opts.name,
    processes: [...opts.processRefs],
    ...(opts.kit === undefined ? {} : { kit: opts.kit }),
    calibrated: opts.calibrated,
    models: models.map((m) => m.name),
    inputs: [opts.inputs],
    tolerances: opts.tolerances,
    timeoutS: opts.timeoutS,
    ...(opts.maxTransistors === undefined ? {} : { maxTransistors: opts.maxTransistors }),
    ...(opts.reference === undefined ? {} : { reference: opts.reference }),
    out: '.',
  };
  await writeFileAtomic(
    plan,
    `# Written by bmru analyze power --sweep: each unit current's model on each supply's process. Paths are relative to this file.\n${stringify(body)}`,
  );
  return { plan, models: models.map(({ file, unitCurrentA }) => ({ file, unitCurrentA })) };
}

/** One (VDD, I_unit) of the grid and what came of it. */
export interface SweepPoint {
  readonly vddV: number;
  readonly unitCurrentA: number;
  readonly status: 'ok' | 'failed';
  /** Why a failed point has no figures (the failure class and message, or the calibration's error); null when ok. */
  readonly reason: string | null;
  /** The verdict's reference, whose state agreement the Pareto front weighs. */
  readonly reference: ReferenceName | null;
  /** State agreement with the verdict's reference (fraction of unit-frames). */
  readonly stateAgreement: number | null;
  /** Every reference scored: state agreement, decision match, disagreements. */
  readonly references: ReferenceTable;
  /** Mean power per supply domain (W): mean supply current x VDD. */
  readonly powerW: Readonly<Record<string, number>> | null;
  /** cell + ff + bias (W). */
  readonly coreW: number | null;
  readonly transistors: number | null;
  readonly ngspiceS: number | null;
  /** On the Pareto front of core power against state agreement (ok points only). */
  readonly pareto: boolean;
}

/** A grid point as the sweep found it: its batch record, or why it never ran (its VDD's calibration failed). */
export interface SweepCell {
  readonly vddV: number;
  readonly unitCurrentA: number;
  readonly record?: ResultRecord;
  readonly error?: string;
}

/** The points of a sweep, in grid order, with the Pareto front of core power against the verdict's state agreement marked. */
export function sweepPoints(cells: readonly SweepCell[]): SweepPoint[] {
  const points = cells.map(sweepPoint);
  const ok = points.map((p, i) => ({ p, i })).filter(({ p }) => p.status === 'ok');
  const front = new Set(
    paretoFront(ok.map(({ p }) => ({ cost: p.coreW!, value: p.stateAgreement! }))).map((k) => ok[k].i),
  );
  return points.map((p, i) => ({ ...p, pareto: front.has(i) }));
}

function sweepPoint(cell: SweepCell): SweepPoint {
  const { vddV, unitCurrentA, record } = cell;
  const c = record?.status === 'ok' ? record.cosim : undefined;
  if (c === undefined) {
    const reason =
      cell.error ?? (record?.failure ? `${record.failure.class}: ${record.failure.message}` : 'not run (interrupted)');
    return {
      vddV,
      unitCurrentA,
      status: 'failed',
      reason,
      reference: null,
      stateAgreement: null,
      references: {},
      powerW: null,
      coreW: null,
      transistors: null,
      ngspiceS: null,
      pareto: false,
    };
  }
  const powerW = Object.fromEntries(Object.entries(c.supplyMeanA).map(([d, i]) => [d, i * vddV]));
  const reference = recordReference(c);
  return {
    vddV,
    unitCurrentA,
    status: 'ok',
    reason: null,
    reference,
    stateAgreement: c.comparison.stateAgreement,
    references: c.references ?? {},
    powerW,
    coreW: CORE_DOMAINS.reduce((s, d) => s + (powerW[d] ?? 0), 0),
    transistors: c.transistors,
    ngspiceS: c.ngspiceS,
    pareto: false,
  };
}

/** The model file's stem, as output names use it: `kws-w4` for `models/kws/kws-w4.json`. */
export function modelStem(file: string): string {
  return basename(file).replace(/\.[^.]+$/, '');
}

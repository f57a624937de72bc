/**
 * PVT corners (issue 3 §4): the circuit at process corners (the kit's own corner sections, or skewed device
 * parameters for cards that have none), supply +-10% and temperature -20..85 C, each scored against the
 * software model of the nominal realised network: the calibration is done once, at the typical corner and
 * 27 C, as a chip would be trimmed once.
 */
import { cosimulate, type CosimOptions } from '../pipeline.js';
import type { Network } from '../model/types.js';
import type { InputSequence } from '../model/network.js';
import type { Process } from '../netlist/process.js';
import { runMany, type Completion } from '../spice/pool.js';
import { CORE_DOMAINS } from './power.js';

/** Supply scale factors of issue 3 §4 (VDD +-10%). */
export const VDD_SCALES = [0.9, 1, 1.1] as const;
/** Temperatures of issue 3 §4 (C); 27 C is ngspice's nominal temperature, where calibration ran. */
export const TEMPERATURES_C = [-20, 27, 85] as const;
export const NOMINAL_TEMPERATURE_C = 27;

export interface CornerSpec {
  readonly corner: string;
  readonly vddScale: number;
  readonly temperatureC: number;
}

export interface CornerResult extends CornerSpec {
  readonly stateAgreement: number;
  readonly voteAgreement: number;
  readonly decisionMatch: boolean;
  readonly disagreements: number;
  readonly coreW: number;
  readonly ngspiceS: number;
  /** Set when ngspice failed at this corner (the corner is reported, not dropped). */
  readonly error?: string;
}

/** The process corners a process offers: its kit sections, else its skew corners. */
export function processCorners(process: Process): string[] {
  const kit = Object.keys(process.corners);
  return kit.length > 0 ? kit : Object.keys(process.skewCorners);
}

/** Typical corner name: `tt` when offered, else the first one. */
export function typicalCorner(process: Process): string | undefined {
  const all = processCorners(process);
  return all.includes('tt') ? 'tt' : all[0];
}

/**
 * One-at-a-time plan: every process corner at nominal VDD and temperature, then VDD and temperature extremes
 * at the typical corner; `full` crosses all three.
 */
export function cornerPlan(process: Process, full = false, only?: readonly string[], vddTemp = true): CornerSpec[] {
  const offered = processCorners(process);
  const unknown = (only ?? []).filter((c) => !offered.includes(c));
  if (unknown.length > 0) throw new RangeError(`process ${process.name} has no corner ${unknown.map((c) => `"${c}"`).join(', ')} (it has: ${offered.join(', ') || 'none'})`);
  const corners = only ?? offered;
  const tt = typicalCorner(process) ?? 'nominal';
  if (full) return (corners.length ? corners : [tt]).flatMap((corner) => VDD_SCALES.flatMap((vddScale) => TEMPERATURES_C.map((temperatureC) => ({ corner, vddScale, temperatureC }))));
  return [
    ...(corners.length ? corners : [tt]).map((corner) => ({ corner, vddScale: 1, temperatureC: NOMINAL_TEMPERATURE_C })),
    ...(vddTemp ? VDD_SCALES.filter((s) => s !== 1).map((vddScale) => ({ corner: tt, vddScale, temperatureC: NOMINAL_TEMPERATURE_C })) : []),
    ...(vddTemp ? TEMPERATURES_C.filter((t) => t !== NOMINAL_TEMPERATURE_C).map((temperatureC) => ({ corner: tt, vddScale: 1, temperatureC })) : []),
  ];
}

/** Generator options that realise one corner. */
export function cornerOptions(process: Process, spec: CornerSpec): Pick<CosimOptions, 'process' | 'deckLines' | 'variation' | 'temperatureC'> {
  const deckLines = process.corners[spec.corner];
  const skew = process.skewCorners[spec.corner];
  if (!deckLines && !skew && spec.corner !== 'nominal') {
    throw new RangeError(`process ${process.name} has no corner "${spec.corner}" (it has: ${processCorners(process).join(', ') || 'none'})`);
  }
  return {
    process: { ...process, vddV: process.vddV * spec.vddScale },
    deckLines,
    // An empty skew (the typical corner) needs no variation: keep the shared cell subcircuit.
    variation: skew && (skew.n || skew.p) ? { skew } : undefined,
    temperatureC: spec.temperatureC === NOMINAL_TEMPERATURE_C ? undefined : spec.temperatureC,
  };
}

export interface CornersOptions extends Omit<CosimOptions, 'deckLines' | 'variation' | 'temperatureC' | 'tolerances'> {
  readonly specs: readonly CornerSpec[];
  readonly concurrency?: number;
  readonly onDone?: (c: Completion<CornerSpec, CornerResult>) => void;
}

/** Co-simulate every corner (in parallel); a corner where ngspice fails is reported with its error. */
export async function runCorners(net: Network, inputs: InputSequence, opts: CornersOptions): Promise<CornerResult[]> {
  return runMany(
    opts.specs,
    async (spec) => {
      try {
        const r = await cosimulate(net, inputs, { ...opts, ...cornerOptions(opts.process, spec), run: { name: `corner-${spec.corner}`, ...opts.run } });
        const c = r.comparison;
        const coreW = CORE_DOMAINS.reduce((s, d) => s + (r.circuit.supplyMeanA[d] ?? 0), 0) * opts.process.vddV * spec.vddScale;
        return { ...spec, stateAgreement: c.stateAgreement, voteAgreement: c.voteAgreement, decisionMatch: c.decisionMatch, disagreements: c.disagreements.length, coreW, ngspiceS: r.run.durationMs / 1000 };
      } catch (e) {
        if (e instanceof RangeError) throw e;
        return { ...spec, stateAgreement: NaN, voteAgreement: NaN, decisionMatch: false, disagreements: NaN, coreW: NaN, ngspiceS: NaN, error: e instanceof Error ? e.message.split('\n')[0] : String(e) };
      }
    },
    { concurrency: opts.concurrency, onDone: opts.onDone },
  );
}

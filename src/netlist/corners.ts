/**
 * PVT corners as generator options: which corners a process offers (its kit's sections, or skewed device
 * parameters for cards that have none), the one-at-a-time or full corner plan, and the options that realise
 * one corner. Here, not in analysis/, because batch plans (jobs/) and the corners analysis both build on them.
 */
import type { GenerateOptions } from './generate.js';
import type { Process } from './process.js';

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
  if (unknown.length > 0)
    throw new RangeError(
      `process ${process.name} has no corner ${unknown.map((c) => `"${c}"`).join(', ')} (it has: ${offered.join(', ') || 'none'})`,
    );
  const corners = only ?? offered;
  const tt = typicalCorner(process) ?? 'nominal';
  if (full)
    return (corners.length ? corners : [tt]).flatMap((corner) =>
      VDD_SCALES.flatMap((vddScale) => TEMPERATURES_C.map((temperatureC) => ({ corner, vddScale, temperatureC }))),
    );
  return [
    ...(corners.length ? corners : [tt]).map((corner) => ({
      corner,
      vddScale: 1,
      temperatureC: NOMINAL_TEMPERATURE_C,
    })),
    ...(vddTemp
      ? VDD_SCALES.filter((s) => s !== 1).map((vddScale) => ({
          corner: tt,
          vddScale,
          temperatureC: NOMINAL_TEMPERATURE_C,
        }))
      : []),
    ...(vddTemp
      ? TEMPERATURES_C.filter((t) => t !== NOMINAL_TEMPERATURE_C).map((temperatureC) => ({
          corner: tt,
          vddScale: 1,
          temperatureC,
        }))
      : []),
  ];
}

/** Generator options that realise one corner. */
export function cornerOptions(
  process: Process,
  spec: CornerSpec,
): Pick<GenerateOptions, 'process' | 'deckLines' | 'variation' | 'temperatureC'> {
  const deckLines = process.corners[spec.corner];
  const skew = process.skewCorners[spec.corner];
  if (!deckLines && !skew && spec.corner !== 'nominal') {
    throw new RangeError(
      `process ${process.name} has no corner "${spec.corner}" (it has: ${processCorners(process).join(', ') || 'none'})`,
    );
  }
  return {
    process: { ...process, vddV: process.vddV * spec.vddScale },
    deckLines,
    // An empty skew (the typical corner) needs no variation: keep the shared cell subcircuit.
    variation: skew && (skew.n || skew.p) ? { skew } : undefined,
    temperatureC: spec.temperatureC === NOMINAL_TEMPERATURE_C ? undefined : spec.temperatureC,
  };
}

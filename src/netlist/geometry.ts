/**
 * One rule for a mirror copy's geometry, shared by the generator, the calibration decks and the hardware-aware
 * model: a copy realises the ratio (W/L) / (W_unit/L_unit) against its unit-size diode.
 *
 * Width alone codes a ratio only down to the narrowest device (c180: 0.22 um of a 2 um unit, ratio 0.11) and in
 * steps of the drawing grid (0.01 um: 4.5% at that width). Issue 11 traced 77% of the KWS model's 837
 * trained-vs-realised unit-frames (50 clips, c180) to pre-projection weights 0.02-0.10 rounded to 0 or to 0.11.
 * So the width is rounded up to the grid and the length stretched to hit the ratio: exact to the grid over the
 * copy's length (0.01 um of >= 8 um), and below the narrowest width the copy is the narrowest device made longer.
 * A long channel only helps a subthreshold copy (less mismatch and channel-length modulation); the limit is area.
 */
import type { Process } from './process.js';

/**
 * Longest copy as a multiple of the unit length, unless the process's `maxLengthUm` is shorter: c180 0.22u x 64u
 * (14 um^2, less than the 2u x 8u unit's 16), smallest ratio 0.0138 (3.4 pA of a 250 pA unit); GF180MCU 0.22u x
 * 50u (its models' last bin ends at L = 50 um), ratio 0.0059.
 */
export const MAX_LENGTH_STRETCH = 8;

/** Longest copy the generator draws (um). */
export function maxMirrorLengthUm(process: Process): number {
  return Math.min(process.sizing.mirrorLengthUm * MAX_LENGTH_STRETCH, process.maxLengthUm ?? Infinity);
}

/** A copy's drawn size and the ratio it realises. */
export interface MirrorGeometry {
  readonly widthUm: number;
  readonly lengthUm: number;
  /** (W/L) / (W_unit/L_unit): the x of the calibration's mirror tables. */
  readonly ratio: number;
}

const snap = (x: number, grid: number, round: (v: number) => number) =>
  Number((round(x / grid - 1e-9) * grid).toFixed(6));

/** The ratio a copy of this size realises against the process's unit diode. */
export function mirrorRatio(process: Process, widthUm: number, lengthUm: number): number {
  const { unitWidthUm, mirrorLengthUm } = process.sizing;
  return widthUm / lengthUm / (unitWidthUm / mirrorLengthUm);
}

/** Smallest ratio a copy can realise: the narrowest device at the longest length. */
export function minMirrorRatio(process: Process): number {
  return mirrorRatio(process, process.minWidthUm, maxMirrorLengthUm(process));
}

/**
 * The copy for a wanted ratio: width rounded up to the drawing grid (at least the narrowest device), length
 * the unit length stretched by what the width rounding added (grid-snapped), at most `maxMirrorLengthUm`.
 */
export function mirrorGeometry(process: Process, ratio: number): MirrorGeometry {
  if (!(ratio > 0)) throw new RangeError(`mirror ratio must be positive, got ${ratio}`);
  const { unitWidthUm, mirrorLengthUm } = process.sizing;
  const grid = process.widthGridUm;
  const wanted = Math.max(ratio, minMirrorRatio(process)) * unitWidthUm;
  const widthUm = Math.max(process.minWidthUm, snap(wanted, grid, Math.ceil));
  const lengthUm = Math.min(
    maxMirrorLengthUm(process),
    Math.max(mirrorLengthUm, snap((mirrorLengthUm * widthUm) / wanted, grid, Math.round)),
  );
  return { widthUm, lengthUm, ratio: mirrorRatio(process, widthUm, lengthUm) };
}

/**
 * Whether a wanted mirror gain is left out: below the smallest copy the nearest realisable gains are 0 (no
 * device) and the smallest copy's, so a gain under half of it is rounded to 0.
 */
export function dropsGain(process: Process, gain: number): boolean {
  return gain < minMirrorRatio(process) / 2;
}

/** The ratio a wanted ratio is drawn as, by geometry alone (no calibration table): 0 when it is left out. */
export function drawnRatio(process: Process, ratio: number): number {
  return dropsGain(process, ratio) ? 0 : mirrorGeometry(process, ratio).ratio;
}

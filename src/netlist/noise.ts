/**
 * Transient noise on the circuit's current sources, written as explicit PWL samples.
 *
 * Why not ngspice's `trnoise`: on ngspice 39 its random numbers ignore `.options seed` and `-D rndseed`
 * (measured here: the same deck with seed 1 twice gave different waveforms), so runs could not be repeated
 * or tied to a recorded seed. The waveform is the same as trnoise's: white Gaussian samples every `stepS`,
 * linear in between (trnoise(NA NT 0 0) with NA = rms, NT = stepS), drawn from the toolkit's seeded generator.
 */
import { createRng } from '../util/random.js';
import type { CurrentSource, Element } from './elements.js';

export interface SourceNoise {
  /** Input sources: rms noise as a fraction of one software unit (I_unit). */
  readonly inputRel: number;
  /** Bias sources (layer biases and the cells' three bias currents): rms as a fraction of each source's current. */
  readonly biasRel: number;
  /** Time between noise samples (s). */
  readonly stepS: number;
  readonly seed: number;
}

/** Which sources carry noise: input front-end currents vs bias references. */
export type SourceKind = 'input' | 'bias';

/**
 * Add noise to the current sources of a generated circuit. `kindOf` names what a source is (or undefined to
 * leave it clean). The total current is clipped at 0: a real source cannot reverse into a diode, and an ideal
 * one that did would drive the node far below ground.
 */
export function addSourceNoise(
  elements: readonly Element[],
  noise: SourceNoise,
  tStopS: number,
  unitA: number,
  kindOf: (s: CurrentSource) => SourceKind | undefined,
): Element[] {
  const rng = createRng(noise.seed);
  const samples = Math.ceil(tStopS / noise.stepS) + 1;
  const groups = new Map<string, Float64Array>();
  return elements.map((e) => {
    if (e.type !== 'isrc') return e;
    const kind = kindOf(e);
    if (kind === undefined) return e;
    const rmsA = kind === 'input' ? noise.inputRel * unitA : noise.biasRel * Math.abs(e.dcA ?? 0);
    // Unit-variance samples drawn even when rms is 0, so a source's noise does not depend on which others are noisy.
    const key = e.noiseGroup ?? e.name;
    const unit = groups.get(key) ?? Float64Array.from({ length: samples }, () => rng.normal());
    groups.set(key, unit);
    if (rmsA === 0) return e;
    const n = unit.map((v) => v * rmsA);
    const base: readonly (readonly [number, number])[] = e.pwl ?? [
      [0, e.dcA ?? 0],
      [tStopS, e.dcA ?? 0],
    ];
    return { ...e, dcA: undefined, pwl: noisyWaveform(base, n, noise.stepS, tStopS) };
  });
}

/** base(t) + noise(t) at the union of both time grids, clipped at 0 A. */
export function noisyWaveform(
  base: readonly (readonly [number, number])[],
  noise: Float64Array,
  stepS: number,
  tStopS: number,
): [number, number][] {
  const times = new Set<number>(base.map(([t]) => t));
  for (let k = 0; k < noise.length && k * stepS <= tStopS; k++) times.add(k * stepS);
  return [...times].sort((a, b) => a - b).map((t) => [t, Math.max(0, pwlAt(base, t) + noiseAt(noise, stepS, t))]);
}

/** Value of a PWL waveform at t (held beyond its ends). */
function pwlAt(pts: readonly (readonly [number, number])[], t: number): number {
  if (t <= pts[0][0]) return pts[0][1];
  for (let i = 1; i < pts.length; i++) {
    if (t <= pts[i][0]) {
      const [t0, y0] = pts[i - 1];
      const [t1, y1] = pts[i];
      return t1 > t0 ? y0 + ((t - t0) / (t1 - t0)) * (y1 - y0) : y1;
    }
  }
  return pts[pts.length - 1][1];
}

function noiseAt(n: Float64Array, stepS: number, t: number): number {
  const k = Math.min(Math.floor(t / stepS), n.length - 2);
  const f = t / stepS - k;
  return n[k] + f * (n[k + 1] - n[k]);
}

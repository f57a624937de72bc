/**
 * Time windows of a partition without memory (issue 13): a deck's elements over a span of the clip, shifted to start
 * at t = 0, so that pieces of one long transient can run side by side.
 *
 * This is exact only for a circuit that forgets: the front end (input diodes, pre-projection mirrors, ReLU) holds no
 * state, so after a frame to settle from its operating point it is where the whole-clip run is. A cell (hysteresis)
 * or anything with `.ic` remembers its past and is never cut in time; `pipeline.ts` windows only the front end.
 */
import type { Element } from './elements.js';
import type { Partition } from './partition.js';

/** Piecewise-linear (time s, value) points, time non-decreasing. */
export type Waveform = readonly (readonly [number, number])[];

/**
 * The waveform's value at `tS`, as ngspice reads a PWL: linear between points, held at the end values outside them;
 * at a repeated time the later point wins (a step).
 */
export function waveformAt(w: Waveform, tS: number): number {
  if (w.length === 0) throw new RangeError('expected a waveform with at least one point');
  if (tS < w[0][0]) return w[0][1];
  if (tS >= w[w.length - 1][0]) return w[w.length - 1][1];
  const lo = lastAtOrBefore(w, tS);
  // w[lo] is the last point at or before tS, so t0 <= tS < t1: a step (two points at one time) is never straddled.
  const [t0, y0] = w[lo];
  const [t1, y1] = w[lo + 1];
  return y0 + ((y1 - y0) * (tS - t0)) / (t1 - t0);
}

/** Index of the last point of `w` at or before `tS`, for `w[0][0] <= tS < w[last][0]` (bisection). */
function lastAtOrBefore(w: Waveform, tS: number): number {
  let lo = 0;
  let hi = w.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (w[mid][0] <= tS) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * How close to a window's ends (relative to its span) a point is dropped as the end itself: a deck prints times to 12
 * significant digits (elements.ts `num`), and a point a rounding below the end (a stitched plot's last, at ngspice's
 * tstop) printed the same as the end, which ngspice refuses ("the abscissa of points must be ascending").
 */
const SLICE_EDGE_REL = 1e-9;

/**
 * The waveform over [t0S, t1S], shifted by -t0S: its value at both ends as points, the points strictly between.
 *
 * @throws RangeError when t1S <= t0S or the waveform is empty
 * @example sliceWaveform([[0, 0], [2, 2]], 1, 2) // [[0, 1], [1, 2]]
 */
export function sliceWaveform(w: Waveform, t0S: number, t1S: number): [number, number][] {
  if (!(t1S > t0S)) throw new RangeError(`expected a window end after its start, got [${t0S}, ${t1S}]`);
  const spanS = t1S - t0S;
  const edgeS = spanS * SLICE_EDGE_REL;
  const out: [number, number][] = [[0, waveformAt(w, t0S)]];
  // Start at the window (a long rail is sliced into many windows; scanning it from its start each time was O(N W)).
  const first = w.length > 0 && w[0][0] < t0S && t0S < w[w.length - 1][0] ? lastAtOrBefore(w, t0S) : 0;
  for (let k = first; k < w.length; k++) {
    const s = w[k][0] - t0S;
    if (s >= spanS - edgeS) break;
    if (s > edgeS) out.push([s, w[k][1]]);
  }
  out.push([spanS, waveformAt(w, t1S)]);
  return out;
}

/**
 * `sliceWaveform`, the same array for the same waveform and window. A hand-off rail is read by every cell of a
 * block (64 at width 64), and a deck's PWL text is kept per array (elements.ts `recordedText`): sliced afresh for each
 * cell, every window of every rail was formatted 64 times, ~40% of the toolkit's CPU in a width-64 run in turn.
 */
export function sliceShared(w: Waveform, t0S: number, t1S: number): Waveform {
  let slices = SLICES.get(w);
  if (slices === undefined) SLICES.set(w, (slices = new Map()));
  const key = `${t0S} ${t1S}`;
  let s = slices.get(key);
  if (s === undefined) slices.set(key, (s = sliceWaveform(w, t0S, t1S)));
  return s;
}

const SLICES = new WeakMap<Waveform, Map<string, Waveform>>();

/**
 * The elements as they drive [t0S, t1S] of the clip, from t = 0: every piecewise-linear source sliced (a voltage
 * source's DC value becomes its value at t0S, which the operating point uses); everything else as it is.
 *
 * @throws RangeError when t1S <= t0S
 */
export function windowElements(elements: readonly Element[], t0S: number, t1S: number): Element[] {
  if (!(t1S > t0S)) throw new RangeError(`expected a window end after its start, got [${t0S}, ${t1S}]`);
  return elements.map((e): Element => {
    switch (e.type) {
      case 'isrc':
        return e.pwl ? { ...e, pwl: sliceWaveform(e.pwl, t0S, t1S) } : e;
      case 'vsrc':
        return e.pwl ? { ...e, pwl: sliceWaveform(e.pwl, t0S, t1S), dcV: waveformAt(e.pwl, t0S) } : e;
      case 'recorded':
        return { ...e, pwl: sliceShared(e.pwl, t0S, t1S) };
      default:
        return e;
    }
  });
}

/** One piece of a windowed run: the frames it reports and the span its deck simulates (s, in clip time). */
export interface TimeWindow {
  /** First frame it reports (its results are kept from this frame's start on). */
  readonly firstFrame: number;
  /** One past the last frame it reports. */
  readonly endFrame: number;
  /** Where its deck starts in clip time: `warmUpFrames` before `firstFrame`'s start, or 0. */
  readonly startS: number;
  /** Where its deck stops in clip time: `endFrame`'s start, or the clip's end for the last window. */
  readonly stopS: number;
  /** Where its kept results start in clip time (`firstFrame`'s start). */
  readonly keepFromS: number;
}

/**
 * Cut `frames` frames into `windows` runs of as equal length as frames allow, each starting `warmUpFrames` early
 * (from its operating point at that frame's start) so that it has settled when its own frames begin. Fewer windows
 * when there are fewer frames than asked.
 *
 * @throws RangeError for windows or frames not an integer >= 1, or warmUpFrames not an integer >= 0
 */
export function frameWindows(
  frames: number,
  windows: number,
  frameS: number,
  tStopS: number,
  warmUpFrames: number,
): TimeWindow[] {
  for (const [name, v, min] of [
    ['frames', frames, 1],
    ['windows', windows, 1],
    ['warmUpFrames', warmUpFrames, 0],
  ] as const)
    if (!Number.isInteger(v) || v < min) throw new RangeError(`expected ${name} to be an integer >= ${min}, got ${v}`);
  const n = Math.min(windows, frames);
  return Array.from({ length: n }, (_, w) => {
    const firstFrame = Math.floor((w * frames) / n);
    const endFrame = Math.floor(((w + 1) * frames) / n);
    return {
      firstFrame,
      endFrame,
      startS: Math.max(0, firstFrame - warmUpFrames) * frameS,
      stopS: w === n - 1 ? tStopS : endFrame * frameS,
      keepFromS: firstFrame * frameS,
    };
  });
}

/**
 * Whether a partition forgets its past, so that it may be cut in time: no `.ic` (cells start in a state), no cell
 * instance, no switch (the reset), no capacitor (the cells' input filters) and no copied sources. What is left are
 * mirrors, diodes and ideal sources, whose currents follow their inputs within a fraction of a frame.
 */
export function forgets(p: Pick<Partition, 'initialConditions' | 'own' | 'copies'>): boolean {
  return (
    p.initialConditions.length === 0 &&
    p.copies.length === 0 &&
    !p.own.some((e) => e.type === 'inst' || e.type === 'switch' || e.type === 'cap')
  );
}

/**
 * Fewer points for drawing a waveform, with a bound on what is lost. A 101-frame transient has ~13k time points
 * and the compare page draws ~20 waveforms; most of each is a node sitting at a rail or a current holding between
 * frame edges, which a straight line draws as well as a thousand samples.
 */

export interface DecimateOptions {
  /** Every span of this length (s, from t = 0) keeps its lowest and its highest sample exactly. */
  readonly windowS: number;
  /** Samples whose value lies within this (same unit as y) of the line drawn through the kept ones may go. */
  readonly toleranceY: number;
}

/**
 * Indices of the samples to draw (increasing; first and last always kept). Each window's lowest and highest
 * sample are kept, so no extreme of a window is lost; between kept samples, Ramer-Douglas-Peucker on vertical
 * distance keeps the sample farthest from the chord until every dropped sample lies within `toleranceY` of the
 * drawn polyline. Time must be increasing.
 */
export function decimate(tS: ArrayLike<number>, y: ArrayLike<number>, opts: DecimateOptions): number[] {
  const n = tS.length;
  if (n !== y.length) throw new RangeError(`decimate: ${n} times but ${y.length} values`);
  if (!(opts.windowS > 0) || !(opts.toleranceY >= 0))
    throw new RangeError(`decimate: windowS = ${opts.windowS} must be > 0, toleranceY = ${opts.toleranceY} >= 0`);
  if (n <= 2) return Array.from({ length: n }, (_, i) => i);
  const keep = new Uint8Array(n);
  keep[0] = keep[n - 1] = 1;
  for (const i of windowExtremes(tS, y, opts.windowS)) keep[i] = 1;
  // Refine between each pair of consecutive locked samples; an explicit stack, as a long flat run would recurse deep.
  const locked = [...keep.keys()].filter((i) => keep[i] === 1);
  const stack: [number, number][] = [];
  for (let k = 1; k < locked.length; k++) stack.push([locked[k - 1], locked[k]]);
  while (stack.length > 0) {
    const [a, b] = stack.pop()!;
    const far = farthestFromChord(tS, y, a, b);
    if (far.distance > opts.toleranceY) {
      keep[far.index] = 1;
      stack.push([a, far.index], [far.index, b]);
    }
  }
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (keep[i] === 1) out.push(i);
  return out;
}

/** Per window of `windowS`, the index of its lowest and of its highest sample (ties: the first). */
export function windowExtremes(tS: ArrayLike<number>, y: ArrayLike<number>, windowS: number): number[] {
  const out: number[] = [];
  let i = 0;
  while (i < tS.length) {
    const w = Math.floor(tS[i] / windowS);
    let lo = i;
    let hi = i;
    for (i++; i < tS.length && Math.floor(tS[i] / windowS) === w; i++) {
      if (y[i] < y[lo]) lo = i;
      if (y[i] > y[hi]) hi = i;
    }
    out.push(lo, hi);
  }
  return out;
}

/** The sample strictly between a and b farthest (vertically) from the straight line through samples a and b. */
function farthestFromChord(
  tS: ArrayLike<number>,
  y: ArrayLike<number>,
  a: number,
  b: number,
): { index: number; distance: number } {
  let index = -1;
  let distance = -1;
  const span = tS[b] - tS[a];
  for (let i = a + 1; i < b; i++) {
    const f = span > 0 ? (tS[i] - tS[a]) / span : 0;
    const d = Math.abs(y[i] - (y[a] + f * (y[b] - y[a])));
    if (d > distance) {
      distance = d;
      index = i;
    }
  }
  return { index, distance };
}

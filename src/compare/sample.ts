/**
 * Circuit waveforms -> per-frame values in software units. Inputs are held per frame, so each quantity is
 * read once per frame, late enough for the circuit to have settled (DESIGN §4).
 */
import type { RawPlot } from '../spice/rawfile.js';
import { series } from '../spice/rawfile.js';
import { DEFAULT_INPUT_EDGE_S, type Probes } from '../netlist/generate.js';

/** Where in a frame the circuit is read: 98% through, i.e. 0.2 ms before the next edge of a 10 ms frame. */
export const DEFAULT_SAMPLE_FRACTION = 0.98;

/** Per-frame circuit values (row-major [T x S] / [T x C], software units; states from the V0 node). */
export interface CircuitFrames {
  readonly frames: number;
  readonly candidates: Float64Array[];
  /** Extremes of each candidate waveform within each frame (from the end of its input edge to the sample point): edge glitches. */
  readonly candidateMax: Float64Array[];
  readonly candidateMin: Float64Array[];
  readonly stateCurrents: Float64Array[];
  readonly states: Uint8Array[];
  readonly logits: Float64Array;
  /** Per block, per unit: the time (s) from each frame start to the first V0 crossing of VDD/2, for frames where the state changed. */
  readonly switchDelaysS: number[][][];
  /** Average supply current per domain (A), over the whole run. */
  readonly supplyMeanA: Record<string, number>;
}

export interface SampleOptions {
  readonly frames: number;
  readonly frameS: number;
  readonly unitA: number;
  readonly vddV: number;
  readonly sampleFraction?: number;
  /** Rise time of the deck's input edges (s; the generator's inputEdgeS, default DEFAULT_INPUT_EDGE_S). */
  readonly inputEdgeS?: number;
}

/** Linear interpolation of a waveform at time t (time strictly increasing). */
export function valueAt(time: Float64Array, y: Float64Array, t: number): number {
  let lo = 0;
  let hi = time.length - 1;
  if (t <= time[0]) return y[0];
  if (t >= time[hi]) return y[hi];
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (time[mid] <= t) lo = mid;
    else hi = mid;
  }
  const f = (t - time[lo]) / (time[hi] - time[lo]);
  return y[lo] + f * (y[hi] - y[lo]);
}

/** First time in [t0, t1) at which y crosses `level` (either direction), or undefined. */
export function firstCrossing(
  time: Float64Array,
  y: Float64Array,
  level: number,
  t0: number,
  t1: number,
): number | undefined {
  let i = 1;
  while (i < time.length && time[i] <= t0) i++;
  const start = valueAt(time, y, t0) >= level;
  for (; i < time.length && time[i - 1] < t1; i++) {
    if (y[i] >= level !== start) {
      const f = (level - y[i - 1]) / (y[i] - y[i - 1]);
      return Math.max(time[i - 1] + f * (time[i] - time[i - 1]), t0);
    }
  }
  return undefined;
}

/** Every vector name a comparison reads: time, candidates, states, cell nodes, h, logits, supplies. */
export function probedVectors(probes: Probes): string[] {
  const names = [
    'time',
    ...probes.candidates.flat(),
    ...probes.stateCurrents.flat(),
    ...probes.cellNodes.flat(),
    ...probes.hPos.flat(),
    ...probes.hNeg.flat(),
    ...probes.logitPos,
    ...probes.logitNeg,
    ...Object.values(probes.supplies),
  ];
  return [...new Set(names.filter((n): n is string => n !== undefined && n !== ''))];
}

/**
 * Probed vectors holding NaN or an infinity (ngspice can write them when a run diverges and still exit 0),
 * each with its first bad point. Scored, they would read as all-OFF states and a fidelity failure; they are
 * a simulator failure.
 */
export function nonFiniteVectors(
  plot: RawPlot,
  probes: Probes,
): { name: string; point: number; timeS: number; value: number }[] {
  const bad: { name: string; point: number; timeS: number; value: number }[] = [];
  for (const name of probedVectors(probes)) {
    const { timeS, y } = series(plot, name);
    const i = y.findIndex((v) => !Number.isFinite(v));
    if (i >= 0) bad.push({ name, point: i, timeS: timeS[i], value: y[i] });
  }
  return bad;
}

/** Sample every probed quantity once per frame. */
export function sampleCircuit(plot: RawPlot, probes: Probes, opts: SampleOptions): CircuitFrames {
  const T = opts.frames;
  const frac = opts.sampleFraction ?? DEFAULT_SAMPLE_FRACTION;
  const perFrame = (name: string, scale: number): Float64Array => {
    const { timeS, y } = series(plot, name);
    return Float64Array.from({ length: T }, (_, t) => valueAt(timeS, y, (t + frac) * opts.frameS) * scale);
  };
  const interleave = (cols: Float64Array[]): Float64Array => {
    const out = new Float64Array(T * cols.length);
    cols.forEach((c, j) => c.forEach((v, t) => (out[t * cols.length + j] = v)));
    return out;
  };
  const toUnits = 1 / opts.unitA;
  const candidates = probes.candidates.map((block) => interleave(block.map((n) => perFrame(n, toUnits))));
  const window = { frames: T, frameS: opts.frameS, frac, edgeS: opts.inputEdgeS ?? DEFAULT_INPUT_EDGE_S };
  const extremes = (pick: (a: number, b: number) => number) =>
    probes.candidates.map((block, k) =>
      interleave(
        block.map((n) => {
          const { timeS, y } = series(plot, n);
          return frameExtreme(timeS, y, { ...window, releaseS: probes.releaseS?.[k] ?? 0 }, pick).map(
            (v) => v * toUnits,
          );
        }),
      ),
    );
  const candidateMax = extremes(Math.max);
  const candidateMin = extremes(Math.min);
  const stateCurrents = probes.stateCurrents.map((block) => interleave(block.map((n) => perFrame(n, toUnits))));
  const half = opts.vddV / 2;
  const states = probes.cellNodes.map((block) => {
    const v = interleave(block.map((n) => perFrame(n, 1)));
    return Uint8Array.from(v, (x) => (x >= half ? 1 : 0));
  });
  const releaseS = probes.releaseS ?? [];
  const switchDelaysS = probes.cellNodes.map((block, k) =>
    block.map((n, j) => {
      const { timeS: time, y } = series(plot, n);
      const delays: number[] = [];
      const S = block.length;
      for (let t = 0; t < T; t++) {
        const prev = t === 0 ? valueAt(time, y, 0) >= half : states[k][(t - 1) * S + j] === 1;
        if ((states[k][t * S + j] === 1) === prev) continue;
        // The change happened between the previous sample and this one (a slow switch may cross after the next
        // frame edge); the delay counts from the input edge that precedes the crossing.
        const from = t === 0 ? 0 : (t - 1 + frac) * opts.frameS;
        const tc = firstCrossing(time, y, half, from, (t + frac) * opts.frameS);
        if (tc === undefined) continue;
        const edge = Math.floor(tc / opts.frameS + 1e-9) * opts.frameS;
        // In the first frame a held block can only start switching once its reset lets go.
        delays.push(tc - (edge === 0 ? Math.min(releaseS[k] ?? 0, tc) : edge));
      }
      return delays;
    }),
  );
  const C = probes.logitPos.length;
  const logitCols = probes.logitPos.map((p, c) => {
    const pos = perFrame(p, toUnits);
    const negName = probes.logitNeg[c];
    const neg = negName ? perFrame(negName, toUnits) : undefined;
    return pos.map((v, t) => v - (neg ? neg[t] : 0));
  });
  const logits = C > 0 ? interleave(logitCols) : new Float64Array(0);
  const supplyMeanA: Record<string, number> = {};
  for (const [domain, name] of Object.entries(probes.supplies)) {
    // A supply source's branch current is negative when it delivers power; report delivered current.
    const { timeS, y } = series(plot, name);
    supplyMeanA[domain] = -timeAverage(timeS, y);
  }
  return {
    frames: T,
    candidates,
    candidateMax,
    candidateMin,
    stateCurrents,
    states,
    logits,
    switchDelaysS,
    supplyMeanA,
  };
}

/** Where frameExtreme looks in each frame: frames of frameS, read at frac of each; edgeS and releaseS in s. */
export interface ExtremeWindow {
  readonly frames: number;
  readonly frameS: number;
  readonly frac: number;
  /** Rise time of the input edge at each frame start: until it ends the inputs are still (partly) the previous frame's. */
  readonly edgeS: number;
  /** When the block's reset lets go in frame 0 (no input edge there): before it the cell cannot latch anything. */
  readonly releaseS: number;
}

/**
 * Per frame, the extreme (max or min) of a waveform between the end of the frame's input edge (frame 0: the block's
 * reset release) and its sample point. Points before it still carry the previous frame's inputs, so counting them
 * would label a plain frame change an edge glitch.
 */
export function frameExtreme(
  time: Float64Array,
  y: Float64Array,
  w: ExtremeWindow,
  pick: (a: number, b: number) => number,
): Float64Array {
  const out = new Float64Array(w.frames);
  let i = 0;
  for (let t = 0; t < w.frames; t++) {
    const t0 = t === 0 ? w.releaseS : t * w.frameS + w.edgeS;
    const t1 = (t + w.frac) * w.frameS;
    let ext = valueAt(time, y, t1);
    while (i < time.length && time[i] < t0) i++;
    for (let k = i; k < time.length && time[k] <= t1; k++) ext = pick(ext, y[k]);
    out[t] = ext;
  }
  return out;
}

/** Trapezoidal time average of a waveform over its whole span. */
export function timeAverage(time: Float64Array, y: Float64Array): number {
  let area = 0;
  for (let i = 1; i < time.length; i++) area += 0.5 * (y[i] + y[i - 1]) * (time[i] - time[i - 1]);
  const span = time[time.length - 1] - time[0];
  return span > 0 ? area / span : y[0];
}

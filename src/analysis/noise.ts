/**
 * Noise immunity (issue 3 §1): how much of a disturbance at a cell's input (its candidate current) survives at
 * its output (its state current). Each cell re-quantises, so small input errors vanish unless they push the
 * candidate across a threshold; the reference work reports >= 20x suppression per boundary.
 *
 * Metric, per block (cell boundary), between a reference run and a disturbed run of the same network and clip:
 * - input discrepancy  = mean over unit-frames of |c_disturbed - c_reference| (software units, I_unit),
 * - output discrepancy = mean over unit-frames of |alpha~ s~ - alpha s| (the state current, same units),
 * - ratio = input / output (unbounded when the output is exact).
 * Both are shown over all unit-frames and with the reference's switching unit-frames (the state changed from the
 * previous frame) excluded, where a delayed switch would count as an error that is timing, not noise.
 */
import type { Network, Block } from '../model/types.js';
import { cellThresholds } from '../model/types.js';
import { majority, runNetwork, type InputSequence, type Trace } from '../model/network.js';
import { MARGIN_CLASS_NAMES, marginClass, type MarginClass } from '../compare/metrics.js';
import { createRng, type Rng } from '../util/random.js';

/** Noise levels of issue 3 §1 (fractions), each with sigma = level / 3 (a 3-sigma excursion equals the level). */
export const NOISE_LEVELS = [0.05, 0.1, 0.15] as const;
export const SIGMA_PER_LEVEL = 1 / 3;

/** Per-frame values at one set of cell boundaries: [T x S] per block. */
export interface BoundaryFrames {
  readonly frames: number;
  readonly candidates: readonly Float64Array[];
  readonly stateCurrents: readonly Float64Array[];
  readonly states: readonly Uint8Array[];
}

export interface MarginBin {
  readonly unitFrames: number;
  /** Unit-frames whose state differs from the reference. */
  readonly flips: number;
}

export interface CellNoise {
  readonly unit: number;
  readonly candidateMAE: number;
  readonly stateMAE: number;
  readonly flips: number;
}

export interface BoundaryNoise {
  readonly block: number;
  readonly unitFrames: number;
  readonly switchingUnitFrames: number;
  readonly candidateMAE: number;
  readonly stateMAE: number;
  /** candidateMAE / stateMAE; Infinity when the output is exact. */
  readonly ratio: number;
  /** The same three over non-switching unit-frames. */
  readonly candidateMAEStable: number;
  readonly stateMAEStable: number;
  readonly ratioStable: number;
  readonly flips: number;
  /** The part of stateMAE due to flips (alpha * |s~ - s|): the rest is the cell's own ON-level noise. */
  readonly flipMAE: number;
  /** candidateMAE / flipMAE: how much of the input discrepancy crosses the boundary as wrong states. */
  readonly ratioFlips: number;
  /** Per cell of the block, the same means (for the per-cell suppression table). */
  readonly cells: readonly CellNoise[];
  /** Flips by the reference candidate's margin to the nearest threshold (fraction of that threshold). */
  readonly byMargin: Record<MarginClass, MarginBin>;
}

/** A trace's boundary values; the state current of a cell is alpha * s. */
export function traceBoundaries(net: Network, tr: Trace): BoundaryFrames {
  const S = net.cells;
  return {
    frames: tr.frames,
    candidates: tr.candidates,
    states: tr.states,
    stateCurrents: net.blocks.map((b, k) => {
      const { alpha } = cellThresholds(b.cell);
      return Float64Array.from(tr.states[k], (s, i) => alpha[i % S] * s);
    }),
  };
}

/** Discrepancy per block between a reference and a disturbed run; thresholds (for margins) from `net`. */
export function boundaryDiscrepancy(net: Network, ref: BoundaryFrames, test: BoundaryFrames): BoundaryNoise[] {
  const T = ref.frames;
  const S = net.cells;
  return net.blocks.map((block, k) => {
    const th = cellThresholds(block.cell);
    let cAll = 0,
      sAll = 0,
      cStable = 0,
      sStable = 0,
      nStable = 0,
      flips = 0,
      flipAll = 0;
    const cells = Array.from({ length: S }, (_, unit) => ({ unit, candidateMAE: 0, stateMAE: 0, flips: 0 }));
    const byMargin = Object.fromEntries(MARGIN_CLASS_NAMES.map((m) => [m, { unitFrames: 0, flips: 0 }])) as Record<
      MarginClass,
      { unitFrames: number; flips: number }
    >;
    for (let t = 0; t < T; t++) {
      for (let j = 0; j < S; j++) {
        const i = t * S + j;
        const dc = Math.abs(test.candidates[k][i] - ref.candidates[k][i]);
        const ds = Math.abs(test.stateCurrents[k][i] - ref.stateCurrents[k][i]);
        cAll += dc;
        sAll += ds;
        const prev = t === 0 ? th.s0[j] : ref.states[k][i - S];
        if (ref.states[k][i] === prev) {
          cStable += dc;
          sStable += ds;
          nStable++;
        }
        const flip = test.states[k][i] !== ref.states[k][i];
        cells[j].candidateMAE += dc / T;
        cells[j].stateMAE += ds / T;
        if (flip) {
          flips++;
          cells[j].flips++;
          flipAll += th.alpha[j];
        }
        const c = ref.candidates[k][i];
        const near = Math.abs(c - th.betaHi[j]) <= Math.abs(c - th.betaLo[j]) ? th.betaHi[j] : th.betaLo[j];
        const bin = byMargin[marginClass(near > 0 ? Math.abs(c - near) / near : Math.abs(c))];
        bin.unitFrames++;
        if (flip) bin.flips++;
      }
    }
    return fromSums({ block: k, n: T * S, nStable, cAll, sAll, cStable, sStable, flips, flipAll, cells, byMargin });
  });
}

/** Raw sums behind a BoundaryNoise: what pooling several draws adds up. */
interface BoundarySums {
  readonly block: number;
  readonly n: number;
  readonly nStable: number;
  readonly cAll: number;
  readonly sAll: number;
  readonly cStable: number;
  readonly sStable: number;
  readonly flips: number;
  readonly flipAll: number;
  readonly cells: readonly CellNoise[];
  readonly byMargin: Record<MarginClass, MarginBin>;
}

const ratioOf = (c: number, s: number) => (s > 0 ? c / s : Infinity);

function fromSums(x: BoundarySums): BoundaryNoise {
  return {
    block: x.block,
    unitFrames: x.n,
    switchingUnitFrames: x.n - x.nStable,
    candidateMAE: x.cAll / x.n,
    stateMAE: x.sAll / x.n,
    ratio: ratioOf(x.cAll, x.sAll),
    candidateMAEStable: x.nStable > 0 ? x.cStable / x.nStable : 0,
    stateMAEStable: x.nStable > 0 ? x.sStable / x.nStable : 0,
    ratioStable: ratioOf(x.cStable, x.sStable),
    flips: x.flips,
    flipMAE: x.flipAll / x.n,
    ratioFlips: ratioOf(x.cAll, x.flipAll),
    cells: x.cells,
    byMargin: x.byMargin,
  };
}

/** Every parameter p -> p * (1 + N(0, sigma)): weights, biases and the cells' alpha, beta1, delta (not s0). */
export function perturbNetwork(net: Network, sigma: number, rng: Rng): Network {
  const jitter = (v: Float64Array) => v.map((p) => p * (1 + sigma * rng.normal()));
  const linear = (l: Block['cand']): Block['cand'] => ({
    weight: { ...l.weight, data: jitter(l.weight.data) },
    bias: jitter(l.bias),
  });
  return {
    ...net,
    pre: linear(net.pre),
    blocks: net.blocks.map((b) => ({
      cand: linear(b.cand),
      cell: { alpha: jitter(b.cell.alpha), beta1: jitter(b.cell.beta1), delta: jitter(b.cell.delta), s0: b.cell.s0 },
      post: linear(b.post),
    })),
    out: linear(net.out),
  };
}

/**
 * The frame loop with an additive current at each cell's input node, before the node's diode (the ReLU), as
 * a noise current injected there would act: cand = ReLU(W x + b + n[t]). `noise[k]` is [T x S] in units.
 */
export function runWithCandidateNoise(net: Network, inputs: InputSequence, noise: readonly Float64Array[]): Trace {
  const T = inputs.frames;
  const F = inputs.features;
  const S = net.cells;
  const L = net.blocks.length;
  const candidates = Array.from({ length: L }, () => new Float64Array(T * S));
  const states = Array.from({ length: L }, () => new Uint8Array(T * S));
  const blockOutputs = Array.from({ length: L }, () => new Float64Array(T * net.width));
  const logits = new Float64Array(T * net.classes);
  const votes = new Int32Array(T);
  let s0 = net.blocks.map((b) => b.cell.s0);
  for (let t = 0; t < T; t++) {
    // One frame at a time with the states carried over: the noise is a per-frame shift of the candidate bias.
    const frameNet: Network = {
      ...net,
      blocks: net.blocks.map((b, k) => ({
        ...b,
        cand: { ...b.cand, bias: b.cand.bias.map((v, j) => v + noise[k][t * S + j]) },
        cell: { ...b.cell, s0: s0[k] },
      })),
    };
    const tr = runNetwork(frameNet, { frames: 1, features: F, data: inputs.data.subarray(t * F, (t + 1) * F) });
    for (let k = 0; k < L; k++) {
      candidates[k].set(tr.candidates[k], t * S);
      states[k].set(tr.states[k], t * S);
      blockOutputs[k].set(tr.blockOutputs[k], t * net.width);
    }
    logits.set(tr.logits, t * net.classes);
    votes[t] = tr.votes[0];
    s0 = tr.states.map((s) => Float64Array.from(s));
  }
  return { frames: T, candidates, states, blockOutputs, logits, votes, decision: majority(votes, net.classes) };
}

export interface SoftwareNoiseOptions {
  readonly level: number;
  readonly seed: number;
  /** Independent noise draws averaged (each a perturbed network and a candidate-noise sequence). */
  readonly draws?: number;
  /** Which disturbances: multiplicative parameter noise, additive candidate noise (default both). */
  readonly parameters?: boolean;
  readonly candidates?: boolean;
}

/** Software-model noise at one level: per block discrepancy vs the clean model, summed over draws. */
export function softwareNoise(net: Network, inputs: InputSequence, opts: SoftwareNoiseOptions): BoundaryNoise[] {
  const sigma = opts.level * SIGMA_PER_LEVEL;
  const rng = createRng(opts.seed);
  const clean = traceBoundaries(net, runNetwork(net, inputs));
  const draws = opts.draws ?? 1;
  const results: BoundaryNoise[][] = [];
  for (let d = 0; d < draws; d++) {
    const noisyNet = opts.parameters === false ? net : perturbNetwork(net, sigma, rng);
    const noise = net.blocks.map(() =>
      Float64Array.from({ length: inputs.frames * net.cells }, () =>
        opts.candidates === false ? 0 : sigma * rng.normal(),
      ),
    );
    results.push(
      boundaryDiscrepancy(net, clean, traceBoundaries(noisyNet, runWithCandidateNoise(noisyNet, inputs, noise))),
    );
  }
  return mergeDraws(results);
}

/** Pool several draws' per-block results into one (means weighted by unit-frames, counts summed). */
export function mergeDraws(draws: readonly BoundaryNoise[][]): BoundaryNoise[] {
  return draws[0].map((_, k) => {
    const rows = draws.map((d) => d[k]);
    const sum = (f: (r: BoundaryNoise) => number) => rows.reduce((s, r) => s + f(r), 0);
    const n = sum((r) => r.unitFrames);
    const stable = (r: BoundaryNoise) => r.unitFrames - r.switchingUnitFrames;
    return fromSums({
      block: k,
      n,
      nStable: sum(stable),
      cAll: sum((r) => r.candidateMAE * r.unitFrames),
      sAll: sum((r) => r.stateMAE * r.unitFrames),
      cStable: sum((r) => r.candidateMAEStable * stable(r)),
      sStable: sum((r) => r.stateMAEStable * stable(r)),
      flips: sum((r) => r.flips),
      flipAll: sum((r) => r.flipMAE * r.unitFrames),
      cells: rows[0].cells.map((c, j) => ({
        unit: c.unit,
        candidateMAE: sum((r) => r.cells[j].candidateMAE) / rows.length,
        stateMAE: sum((r) => r.cells[j].stateMAE) / rows.length,
        flips: sum((r) => r.cells[j].flips),
      })),
      byMargin: Object.fromEntries(
        (Object.keys(rows[0].byMargin) as MarginClass[]).map((m) => [
          m,
          { unitFrames: sum((r) => r.byMargin[m].unitFrames), flips: sum((r) => r.byMargin[m].flips) },
        ]),
      ) as Record<MarginClass, MarginBin>,
    });
  });
}

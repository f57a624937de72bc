/**
 * Scores circuit frames against the software model fed the realised parameters (DESIGN §4). Disagreements
 * are classified by how far the software candidate sat from the nearest threshold: near-threshold cases are
 * where circuit and model legitimately differ, so a miss at a 0.1% margin means something else than one at 20%.
 */
import { median } from '../util/stats.js';
import type { Network } from '../model/types.js';
import { cellThresholds } from '../model/types.js';
import { majority, runNetwork, type InputSequence, type Trace } from '../model/network.js';
import type { CircuitFrames } from './sample.js';

/** Margin classes as fractions of the threshold crossed: upper bounds, the last class is open. */
export const MARGIN_CLASSES = [0.01, 0.05, 0.2] as const;
export type MarginClass = '<1%' | '1-5%' | '5-20%' | '>=20%';
/** The margin classes in order, for tables. */
export const MARGIN_CLASS_NAMES: readonly MarginClass[] = ['<1%', '1-5%', '5-20%', '>=20%'];

/**
 * Why a circuit state differs from the model's: each disagreement gets the first of these that holds. A carried one
 * started earlier (it says nothing new about this frame); transition and glitch are comparator-explained
 * transients; upstream means this block was fed a different input; unexplained is what is left, and at a large
 * margin points at a wrongly realised element.
 */
export const DISAGREEMENT_CAUSES = ['carried', 'transition', 'glitch', 'upstream', 'unexplained'] as const;
export type DisagreementCause = (typeof DISAGREEMENT_CAUSES)[number];

export interface Disagreement {
  readonly block: number;
  readonly frame: number;
  readonly unit: number;
  readonly software: number;
  readonly circuit: number;
  readonly candidate: number;
  readonly circuitCandidate: number;
  /**
   * |candidate - threshold in question| in software units: inside the hysteresis band the threshold of the circuit's
   * state, outside it the one the model crossed. For a carried disagreement: the margin of frame `sinceFrame`, where
   * the wrong state was taken (in its own frame the model held, and no threshold was in question).
   */
  readonly margin: number;
  /** margin / that threshold. */
  readonly relMargin: number;
  readonly marginClass: MarginClass;
  /**
   * True when the same unit already disagreed in the previous frame and the model held in this one (its candidate
   * inside the hysteresis band, so no threshold was crossed): the circuit still holds the wrong state it took at
   * `sinceFrame`, and the disagreement is attributed there rather than counted again.
   */
  readonly carried: boolean;
  /** The frame where this run of disagreement started (this frame unless carried). */
  readonly sinceFrame: number;
  /** True when an earlier block already disagreed in this frame (the error came in from upstream). */
  readonly upstream: boolean;
  /**
   * True when the model itself ends in the circuit's state if the inputs move continuously (linearly) from the
   * previous frame to this one instead of jumping: a candidate that crosses a threshold on the way latches the
   * cell. The circuit follows a continuous path; the discrete model does not see it.
   */
  readonly transition: boolean;
  /**
   * True when the hysteresis cell latched a transient: the circuit's state changed in this frame (a cell that kept
   * its state latched nothing), the circuit's own candidate crossed the threshold that sets that state (beta_hi
   * to turn ON, beta_lo to turn OFF) after the input edge (mirror chains of different speed meet at the summing
   * node), and at the sample point it is back on the model's side of that threshold. A candidate still on the
   * circuit's side there is a settled difference (a wrongly realised element or an upstream error), not a glitch.
   */
  readonly glitch: boolean;
  /** The first cause in DISAGREEMENT_CAUSES that holds. */
  readonly cause: DisagreementCause;
}

export interface UnitSwitching {
  readonly block: number;
  readonly unit: number;
  readonly switches: number;
  readonly medianDelayS: number | null;
  readonly maxDelayS: number | null;
}

/** Per cell boundary: how much of the input discrepancy survives at the output. */
export interface Boundary {
  readonly block: number;
  /** Mean |c_circuit - c_software| / mean |c_software| over all frames. */
  readonly candidateRelError: number;
  /** Mean |I_state,circuit - alpha*s_software| / mean(alpha) over all frames. */
  readonly stateRelError: number;
  /** The same for frames where the states agree (switching-edge frames excluded). */
  readonly stateRelErrorAgreeing: number;
  /** candidateRelError / stateRelErrorAgreeing: >= 20x in the reference work. */
  readonly suppression: number;
}

export interface Comparison {
  readonly frames: number;
  /** Frame period of the run (s); absent in results written before it was recorded. */
  readonly frameS?: number;
  readonly unitFrames: number;
  readonly stateAgreement: number;
  readonly firstDivergence: { block: number; frame: number; unit: number } | null;
  readonly disagreements: Disagreement[];
  /** Fresh (not carried) disagreements per margin class: each run of a wrong state counts once, where it started. */
  readonly disagreementsByMargin: Record<MarginClass, number>;
  /** Every disagreement once, by cause and margin class (a carried one at the margin of the frame it started in). */
  readonly disagreementsByCause: Record<DisagreementCause, Record<MarginClass, number>>;
  readonly switching: UnitSwitching[];
  readonly boundaries: Boundary[];
  readonly voteAgreement: number;
  readonly softwareDecision: number;
  readonly circuitDecision: number;
  readonly decisionMatch: boolean;
  /** Mean |logit_circuit - logit_software| over frames and classes (software units). */
  readonly logitMeanAbsError: number;
  /** Disagreements explained by a threshold crossing on the continuous path between frames (flag count, any cause). */
  readonly transitionDisagreements: number;
  /** Disagreements where the circuit latched a glitch of its candidate (flag count, any cause). */
  readonly glitchDisagreements: number;
}

/** Points on the path between two frames at which the model is evaluated for transition latching. */
export const TRANSITION_PATH_STEPS = 32;

/**
 * Model states at frame t when the inputs move linearly from frame t-1 to frame t, starting from the model's
 * states at t-1: per block, the final state of every unit.
 */
export function pathStates(
  net: Network,
  inputs: InputSequence,
  sw: Trace,
  t: number,
  steps = TRANSITION_PATH_STEPS,
): Uint8Array[] {
  const F = inputs.features;
  const S = net.cells;
  const data = new Float64Array(steps * F);
  for (let i = 1; i <= steps; i++) {
    const tau = i / steps;
    for (let f = 0; f < F; f++)
      data[(i - 1) * F + f] = (1 - tau) * inputs.data[(t - 1) * F + f] + tau * inputs.data[t * F + f];
  }
  const fromPrev: Network = {
    ...net,
    blocks: net.blocks.map((b, k) => ({
      ...b,
      cell: { ...b.cell, s0: Float64Array.from({ length: S }, (_, j) => sw.states[k][(t - 1) * S + j]) },
    })),
  };
  const tr = runNetwork(fromPrev, { frames: steps, features: F, data });
  return tr.states.map((st) => st.subarray((steps - 1) * S, steps * S));
}

/** The margin class of a relative margin (fraction of the threshold crossed). */
export function marginClass(rel: number): MarginClass {
  if (rel < MARGIN_CLASSES[0]) return '<1%';
  if (rel < MARGIN_CLASSES[1]) return '1-5%';
  if (rel < MARGIN_CLASSES[2]) return '5-20%';
  return '>=20%';
}

const medianOrNull = (v: number[]): number | null => (v.length === 0 ? null : median(v));

/**
 * The threshold a disagreement is measured against. Inside the band the model holds, and the circuit must have
 * crossed the threshold of its own state (beta_hi to be ON, beta_lo to be OFF); outside it, the model crossed the
 * threshold on that side.
 */
export function thresholdInQuestion(candidate: number, betaLo: number, betaHi: number, circuitState: number): number {
  if (candidate < betaLo) return betaLo;
  if (candidate >= betaHi) return betaHi;
  return circuitState ? betaHi : betaLo;
}

/**
 * Whether the circuit latched a glitch (Disagreement.glitch). `prevState` is the circuit's state at the previous
 * frame's sample (s0 in frame 0); `sampled`, `max`, `min` its candidate at the sample point and its extremes from
 * the input edge to there.
 */
export function latchedGlitch(
  state: number,
  prevState: number,
  sampled: number,
  max: number,
  min: number,
  betaLo: number,
  betaHi: number,
): boolean {
  if (state === prevState) return false;
  return state === 1 ? max >= betaHi && sampled < betaHi : min < betaLo && sampled >= betaLo;
}

/** The first cause that holds, in the order of DISAGREEMENT_CAUSES. */
export function causeOf(d: Pick<Disagreement, 'carried' | 'transition' | 'glitch' | 'upstream'>): DisagreementCause {
  if (d.carried) return 'carried';
  if (d.transition) return 'transition';
  if (d.glitch) return 'glitch';
  return d.upstream ? 'upstream' : 'unexplained';
}

const zeroByMargin = (): Record<MarginClass, number> =>
  Object.fromEntries(MARGIN_CLASS_NAMES.map((m) => [m, 0])) as Record<MarginClass, number>;

/** Counts by cause and margin class; the fresh (not carried) ones also by margin class alone. */
export function countDisagreements(ds: readonly Disagreement[]): {
  byMargin: Record<MarginClass, number>;
  byCause: Record<DisagreementCause, Record<MarginClass, number>>;
} {
  const byMargin = zeroByMargin();
  const byCause = Object.fromEntries(DISAGREEMENT_CAUSES.map((c) => [c, zeroByMargin()])) as Record<
    DisagreementCause,
    Record<MarginClass, number>
  >;
  for (const d of ds) {
    byCause[d.cause][d.marginClass]++;
    if (!d.carried) byMargin[d.marginClass]++;
  }
  return { byMargin, byCause };
}

/**
 * Fraction of unit-frames where two software traces of the same input hold the same state: with the trained and the
 * realised parameters, the mapping error's effect on states (a threshold error that moves no state costs nothing).
 */
export function traceStateAgreement(a: Trace, b: Trace): number {
  let same = 0;
  let total = 0;
  a.states.forEach((block, k) => {
    block.forEach((s, i) => (same += s === b.states[k][i] ? 1 : 0));
    total += block.length;
  });
  return total > 0 ? same / total : 1;
}

/**
 * Compare a circuit run with the software trace of the realised network on the same inputs. With `inputs`,
 * each disagreement is also checked for transition latching (see Disagreement.transition).
 */
export function compareRun(net: Network, sw: Trace, circ: CircuitFrames, inputs?: InputSequence): Comparison {
  const T = sw.frames;
  const S = net.cells;
  const C = net.classes;
  let agree = 0;
  let total = 0;
  const disagreements: Disagreement[] = [];
  const upstreamAt = new Set<number>();
  const boundaries: Boundary[] = [];
  net.blocks.forEach((block, k) => {
    const th = cellThresholds(block.cell);
    let candErr = 0;
    let candSum = 0;
    let stateErr = 0;
    let stateErrAgree = 0;
    let agreeCount = 0;
    const blockDisagreeFrames = new Set<number>();
    // Per unit: its disagreement in the previous frame, if any (a run of wrong states is attributed to its start).
    const open: (Disagreement | undefined)[] = new Array(S);
    for (let t = 0; t < T; t++) {
      for (let j = 0; j < S; j++) {
        const i = t * S + j;
        const s = sw.states[k][i];
        const cs = circ.states[k][i];
        const c = sw.candidates[k][i];
        candErr += Math.abs(circ.candidates[k][i] - c);
        candSum += Math.abs(c);
        const dI = Math.abs(circ.stateCurrents[k][i] - th.alpha[j] * s);
        stateErr += dI;
        total++;
        if (s === cs) {
          agree++;
          agreeCount++;
          stateErrAgree += dI;
          open[j] = undefined;
          continue;
        }
        const lo = th.betaLo[j];
        const hi = th.betaHi[j];
        const prev = open[j];
        const carried = prev !== undefined && c >= lo && c < hi;
        const ref = thresholdInQuestion(c, lo, hi, cs);
        const margin = carried ? prev.margin : Math.abs(c - ref);
        const relMargin = carried ? prev.relMargin : ref > 0 ? margin / ref : margin;
        const transition = inputs !== undefined && t > 0 && pathStates(net, inputs, sw, t)[k][j] === cs;
        const prevState = t === 0 ? th.s0[j] : circ.states[k][i - S];
        const glitch = latchedGlitch(
          cs,
          prevState,
          circ.candidates[k][i],
          circ.candidateMax?.[k][i] ?? -Infinity,
          circ.candidateMin?.[k][i] ?? Infinity,
          lo,
          hi,
        );
        const flags = { carried, transition, glitch, upstream: upstreamAt.has(t) };
        const d: Disagreement = {
          block: k,
          frame: t,
          unit: j,
          software: s,
          circuit: cs,
          candidate: c,
          circuitCandidate: circ.candidates[k][i],
          margin,
          relMargin,
          marginClass: marginClass(relMargin),
          sinceFrame: carried ? prev.sinceFrame : t,
          ...flags,
          cause: causeOf(flags),
        };
        disagreements.push(d);
        open[j] = d;
        blockDisagreeFrames.add(t);
      }
    }
    for (const t of blockDisagreeFrames) upstreamAt.add(t);
    const meanAlpha = th.alpha.reduce((a, b) => a + b, 0) / Math.max(S, 1);
    const candidateRelError = candErr / Math.max(candSum, Number.MIN_VALUE);
    const stateRelError = stateErr / (T * S) / meanAlpha;
    const stateRelErrorAgreeing = agreeCount > 0 ? stateErrAgree / agreeCount / meanAlpha : 0;
    // A perfect output (zero error) makes the ratio unbounded; report it as such rather than as Infinity/NaN.
    const suppression = stateRelErrorAgreeing > 0 ? candidateRelError / stateRelErrorAgreeing : Number.MAX_VALUE;
    boundaries.push({
      block: k,
      candidateRelError,
      stateRelError: meanAlpha > 0 ? stateRelError : 0,
      stateRelErrorAgreeing: meanAlpha > 0 ? stateRelErrorAgreeing : 0,
      suppression,
    });
  });
  disagreements.sort((a, b) => a.frame - b.frame || a.block - b.block || a.unit - b.unit);
  const { byMargin, byCause } = countDisagreements(disagreements);

  const switching: UnitSwitching[] = [];
  circ.switchDelaysS.forEach((block, k) =>
    block.forEach((delays, j) =>
      switching.push({
        block: k,
        unit: j,
        switches: delays.length,
        medianDelayS: medianOrNull(delays),
        maxDelayS: delays.length ? Math.max(...delays) : null,
      }),
    ),
  );

  const circVotes = new Int32Array(T);
  let voteAgree = 0;
  let logitErr = 0;
  for (let t = 0; t < T; t++) {
    let best = 0;
    for (let c = 1; c < C; c++) if (circ.logits[t * C + c] > circ.logits[t * C + best]) best = c;
    circVotes[t] = best;
    if (best === sw.votes[t]) voteAgree++;
    for (let c = 0; c < C; c++) logitErr += Math.abs(circ.logits[t * C + c] - sw.logits[t * C + c]);
  }
  const circuitDecision = majority(circVotes, C);
  const first = disagreements[0];
  return {
    frames: T,
    frameS: net.frameS,
    unitFrames: total,
    stateAgreement: total > 0 ? agree / total : 1,
    firstDivergence: first ? { block: first.block, frame: first.frame, unit: first.unit } : null,
    disagreements,
    disagreementsByMargin: byMargin,
    disagreementsByCause: byCause,
    switching,
    boundaries,
    voteAgreement: T > 0 ? voteAgree / T : 1,
    softwareDecision: sw.decision,
    circuitDecision,
    decisionMatch: circuitDecision === sw.decision,
    logitMeanAbsError: T * C > 0 ? logitErr / (T * C) : 0,
    transitionDisagreements: disagreements.filter((d) => d.transition).length,
    glitchDisagreements: disagreements.filter((d) => d.glitch).length,
  };
}

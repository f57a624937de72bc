/**
 * Near ties: unit-frames whose state the circuit cannot be expected to reproduce, because the model's candidate
 * sits closer to a deciding threshold than the process can place that threshold.
 *
 * A cell's state is decided by which side of beta_hi (an OFF cell turns ON at or above it) or of beta_lo (an ON
 * cell turns OFF below it) its candidate falls. A realised threshold is known only to the process's resolution
 * (THRESHOLD_RESOLUTION). A unit-frame is *decided by a near tie* when the software candidate (the realised
 * model's) lies within that resolution of beta_hi or beta_lo and the state differs between the two sides: just
 * below beta_hi an OFF cell stays OFF, at it the cell turns ON; just below beta_lo an ON cell turns OFF, at it it
 * holds. A candidate near beta_hi of a cell already ON decides nothing (it stays ON either way).
 *
 * The listing is per threshold parameter (`blocks.0.cell.beta_hi[2]`), with the unit-frames of the clip it
 * decides: a parameter that decides many frames is one where the circuit's agreement on this clip is up to chance.
 */
import type { Network } from '../model/types.js';
import { cellThresholds } from '../model/types.js';
import type { Trace } from '../model/network.js';

/**
 * How finely the process places a threshold: `max(rel * threshold, absA)`. The figures are the calibration's
 * acceptance rule, which `bmru calibrate --verify-only` holds every realised cell threshold and ON level to
 * (src/calibrate/calibrate.ts TOLERANCE_REL = 3%, TOLERANCE_ABS_A = 5 pA; both kits verify 116/116 within it (gains below 0.25: 5%)). The
 * 5 pA floor also covers the leakage at a summing node that should be off: 1-8 pA on c180, < 1 pA on GF180MCU
 * (docs/circuit-notes.md, "the ReLU knee"), the cells' OFF leakage (c180 2-5 pA), and the residuals of the
 * transfer fits (3-5 pA, docs/circuit-notes.md §1).
 */
export const THRESHOLD_RESOLUTION = {
  /** Relative part (fraction of the threshold). */
  rel: 0.03,
  /** Absolute floor (A). */
  absA: 5e-12,
  source:
    'calibration verify rule (src/calibrate: 3% or 5 pA, whichever is larger); covers the 1-8 pA summing-node leakage of docs/circuit-notes.md',
} as const;

/** A resolution rule: max(rel x threshold, absA). (Not the literal types of the default, so a caller can pass another.) */
export interface Resolution {
  readonly rel: number;
  readonly absA: number;
}

/** The resolution of a threshold (software units) at I_unit `unitA` (A). */
export function thresholdResolution(threshold: number, unitA: number, res: Resolution = THRESHOLD_RESOLUTION): number {
  return Math.max(res.rel * Math.abs(threshold), res.absA / unitA);
}

export type ThresholdName = 'beta_hi' | 'beta_lo';

/** One threshold parameter and the unit-frames of a clip it decides by a near tie. */
export interface NearTie {
  /** `blocks.<k>.cell.beta_hi[<j>]` or `blocks.<k>.cell.beta_lo[<j>]` (beta_lo = beta_hi - delta). */
  readonly parameter: string;
  readonly block: number;
  readonly unit: number;
  readonly threshold: ThresholdName;
  /** The threshold as trained and as realised (software units). */
  readonly trained: number;
  readonly realised: number;
  /** Its resolution (software units). */
  readonly resolution: number;
  /** Frames whose state it decides (ascending). */
  readonly frames: readonly number[];
  /** The smallest |candidate - threshold| among them (software units). */
  readonly closest: number;
}

export interface NearTies {
  readonly resolution: Resolution & { readonly source: string };
  /** Distinct unit-frames decided by some near tie (a frame near both thresholds of a narrow band counts once). */
  readonly unitFrames: number;
  /** Unit-frames of the clip. */
  readonly totalUnitFrames: number;
  /** Thresholds deciding at least one unit-frame: most frames first, then the closest tie. */
  readonly ties: readonly NearTie[];
  /** `block,frame,unit` keys of the decided unit-frames (to match with a comparison's disagreements). */
  readonly decided: ReadonlySet<string>;
}

/** The key of a unit-frame in `NearTies.decided`. */
export const unitFrameKey = (block: number, frame: number, unit: number): string => `${block},${frame},${unit}`;

/** The cell's next state for candidate c after state prev (DESIGN §1). */
const step = (c: number, lo: number, hi: number, prev: number): number => (c >= hi ? 1 : c < lo ? 0 : prev);

/** Whether the state after `prev` differs between a candidate just below threshold `th` and one at it. */
export function decides(th: number, lo: number, hi: number, prev: number): boolean {
  const below = th - Math.max(Math.abs(th) * 4 * Number.EPSILON, Number.MIN_VALUE);
  return step(below, lo, hi, prev) !== step(th, lo, hi, prev);
}

/**
 * The near ties of a clip: `realised` is the network as the circuit realises it and `sw` its trace on the clip
 * (the candidates the circuit is expected to follow); `trained` gives the listed trained values. A threshold at
 * or below 0 decides nothing (a candidate is a rectified current, never below 0).
 */
export function nearTies(
  trained: Network,
  realised: Network,
  sw: Trace,
  res: Resolution & { readonly source?: string } = THRESHOLD_RESOLUTION,
): NearTies {
  const S = realised.cells;
  const T = sw.frames;
  const ties: NearTie[] = [];
  const decided = new Set<string>();
  realised.blocks.forEach((block, k) => {
    const th = cellThresholds(block.cell);
    const tr = cellThresholds(trained.blocks[k].cell);
    for (let j = 0; j < S; j++) {
      const lo = th.betaLo[j];
      const hi = th.betaHi[j];
      for (const [name, value, trainedValue] of [
        ['beta_hi', hi, tr.betaHi[j]],
        ['beta_lo', lo, tr.betaLo[j]],
      ] as const) {
        if (!(value > 0)) continue;
        const resolution = thresholdResolution(value, realised.unitCurrentA, res);
        const frames: number[] = [];
        let closest = Infinity;
        for (let t = 0; t < T; t++) {
          const c = sw.candidates[k][t * S + j];
          const margin = Math.abs(c - value);
          if (margin > resolution) continue;
          const prev = t === 0 ? th.s0[j] : sw.states[k][(t - 1) * S + j];
          if (!decides(value, lo, hi, prev)) continue;
          frames.push(t);
          closest = Math.min(closest, margin);
          decided.add(unitFrameKey(k, t, j));
        }
        if (frames.length > 0) {
          ties.push({
            parameter: `blocks.${k}.cell.${name}[${j}]`,
            block: k,
            unit: j,
            threshold: name,
            trained: trainedValue,
            realised: value,
            resolution,
            frames,
            closest,
          });
        }
      }
    }
  });
  ties.sort((a, b) => b.frames.length - a.frames.length || a.closest - b.closest);
  return {
    resolution: { rel: res.rel, absA: res.absA, source: res.source ?? THRESHOLD_RESOLUTION.source },
    unitFrames: decided.size,
    totalUnitFrames: T * S * realised.blocks.length,
    ties,
    decided,
  };
}

/** near-ties.csv: one row per threshold that decides a unit-frame, every frame it decides. */
export function nearTiesCsvRows(n: NearTies): (string | number)[][] {
  return [
    [
      'parameter',
      'block',
      'unit',
      'threshold',
      'trained',
      'realised',
      'resolution',
      'unit_frames',
      'closest_margin',
      'frames',
    ],
    ...n.ties.map((t) => [
      t.parameter,
      t.block,
      t.unit,
      t.threshold,
      t.trained,
      t.realised,
      t.resolution,
      t.frames.length,
      t.closest,
      t.frames.join(' '),
    ]),
  ];
}

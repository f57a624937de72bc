/**
 * Noise immunity's ratios on a case worked by hand where input and output discrepancies differ, so a ratio
 * computed upside down (output / input) cannot pass. The only earlier case had ratio 1.
 */
import { describe, expect, it } from 'vitest';
import { boundaryDiscrepancy, mergeDraws, type BoundaryFrames } from '../../src/analysis/noise.js';
import type { Network } from '../../src/model/types.js';
import { oneCellNetwork } from '../networks.js';

/** One cell with thresholds beta_lo 1.0, beta_hi 1.5, alpha 1, starting OFF. */
const ONE_CELL: Network = oneCellNetwork({ betaLo: 1, delta: 0.5 });

const frames = (c: number[], s: number[], i: number[]): BoundaryFrames => ({
  frames: c.length,
  candidates: [Float64Array.from(c)],
  states: [Uint8Array.from(s)],
  stateCurrents: [Float64Array.from(i)],
});

// Reference: OFF, then ON from frame 1 (frame 1 is the only switching frame; s0 = 0 makes frame 0 stable).
const REF = frames([0, 10, 10, 10], [0, 1, 1, 1], [0, 1, 1, 1]);
// Disturbed: |dc| = 0.4, 1, 0.2, 0.6 (sum 2.2); ON level 1.2 in frame 1 (|ds| 0.2); frame 3 flipped OFF (|ds| 1).
const TEST = frames([0.4, 11, 10.2, 9.4], [0, 1, 1, 0], [0, 1.2, 1, 0]);

describe('boundaryDiscrepancy ratios (input discrepancy / output discrepancy)', () => {
  const [b] = boundaryDiscrepancy(ONE_CELL, REF, TEST);

  it('divides the mean input discrepancy by the mean output discrepancy: 0.55 / 0.3 = 1.8333', () => {
    expect(b.candidateMAE).toBeCloseTo(2.2 / 4, 12);
    expect(b.stateMAE).toBeCloseTo(1.2 / 4, 12);
    expect(b.ratio).toBeCloseTo(2.2 / 1.2, 12);
  });

  it('over the non-switching frames 0, 2, 3: (0.4 + 0.2 + 0.6) / (0 + 0 + 1) = 1.2', () => {
    expect(b.switchingUnitFrames).toBe(1);
    expect(b.candidateMAEStable).toBeCloseTo(1.2 / 3, 12);
    expect(b.stateMAEStable).toBeCloseTo(1 / 3, 12);
    expect(b.ratioStable).toBeCloseTo(1.2, 12);
  });

  it('against the flips alone (alpha = 1 per flip, one flip): 2.2 / 1 = 2.2', () => {
    expect(b.flips).toBe(1);
    expect(b.flipMAE).toBeCloseTo(1 / 4, 12);
    expect(b.ratioFlips).toBeCloseTo(2.2, 12);
  });

  it('is unbounded when the output is exact, and pooling draws keeps the ratio of the pooled sums', () => {
    const exact = frames([0.4, 11, 10.2, 10.6], [0, 1, 1, 1], [0, 1, 1, 1]);
    const [e] = boundaryDiscrepancy(ONE_CELL, REF, exact);
    expect(e.ratio).toBe(Infinity);
    // Pooled: input sums 2.2 + 2.2 = 4.4, output sums 1.2 + 0 = 1.2.
    const [m] = mergeDraws([[b], [e]]);
    expect(m.ratio).toBeCloseTo(4.4 / 1.2, 12);
  });
});

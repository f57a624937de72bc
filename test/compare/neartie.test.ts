import { describe, expect, it } from 'vitest';
import {
  decides,
  nearTies,
  nearTiesCsvRows,
  thresholdResolution,
  THRESHOLD_RESOLUTION,
  unitFrameKey,
} from '../../src/compare/neartie.js';
import { TOLERANCE_ABS_A, TOLERANCE_REL } from '../../src/calibrate/calibrate.js';
import { runNetwork, type Trace } from '../../src/model/index.js';
import type { Network } from '../../src/model/types.js';
import { linear, oneCellNetwork } from '../networks.js';

/**
 * One cell whose candidate is the input itself (c = max(x, 0)): band [0.3, 0.5), I_unit 1 nA, so the resolution is
 * 3% of 0.5 = 0.015 units at beta_hi and max(3% of 0.3, 5 pA) = 0.009 units at beta_lo.
 */
function oneCell(betaLo: number, delta: number, s0 = 0): Network {
  return oneCellNetwork({ betaLo, delta, s0, out: { weight: [0, 1], bias: [0.5, 0] } });
}

const clip = (xs: number[]) => ({ frames: xs.length, features: 1, data: Float64Array.from(xs) });

describe('near ties', () => {
  it('takes its resolution from the calibration verify rule (3% or 5 pA, whichever is larger)', () => {
    expect(THRESHOLD_RESOLUTION.rel).toBe(TOLERANCE_REL);
    expect(THRESHOLD_RESOLUTION.absA).toBe(TOLERANCE_ABS_A);
    expect(thresholdResolution(0.5, 1e-9)).toBeCloseTo(0.015, 15);
    expect(thresholdResolution(0.1, 1e-9)).toBeCloseTo(0.005, 15); // the 5 pA floor
    expect(thresholdResolution(0.1, 2.5e-10)).toBeCloseTo(0.02, 15); // 5 pA is 0.02 units at 250 pA
  });

  it('counts a state that depends on which side of a threshold it falls, only where the tie is inside the resolution', () => {
    const realised = oneCell(0.3, 0.2);
    // frame: candidate, state before -> decided?
    // 0: 0.51 after s0 = 0, 0.01 above beta_hi: turns ON here, stays OFF just below  -> decided by beta_hi
    // 1: 0.505 after ON: ON on both sides of beta_hi                                 -> no
    // 2: 0.305 after ON, 0.005 above beta_lo: holds ON here, OFF just below          -> decided by beta_lo
    // 3: 0.20 after ON: forced OFF, 0.1 from beta_lo                                  -> no
    // 4: 0.53 after OFF, 0.03 above beta_hi: outside the 0.015 resolution            -> no
    // 5: 0.295 after ON, 0.005 below beta_lo: OFF here, would hold ON at it           -> decided by beta_lo
    const inputs = clip([0.51, 0.505, 0.305, 0.2, 0.53, 0.295]);
    const sw = runNetwork(realised, inputs);
    expect(Array.from(sw.states[0])).toEqual([1, 1, 1, 0, 1, 0]);
    const n = nearTies(realised, realised, sw);
    expect(n.unitFrames).toBe(3);
    expect(n.totalUnitFrames).toBe(6);
    expect(n.ties.map((t) => [t.parameter, t.frames])).toEqual([
      ['blocks.0.cell.beta_lo[0]', [2, 5]],
      ['blocks.0.cell.beta_hi[0]', [0]],
    ]);
    const lo = n.ties[0];
    expect(lo.realised).toBeCloseTo(0.3, 15);
    expect(lo.resolution).toBeCloseTo(0.009, 15);
    expect(lo.closest).toBeCloseTo(0.005, 12);
    expect([...n.decided].sort()).toEqual([unitFrameKey(0, 0, 0), unitFrameKey(0, 2, 0), unitFrameKey(0, 5, 0)].sort());
  });

  it('lists the trained value beside the realised one, and writes every tie to the CSV rows', () => {
    const realised = oneCell(0.3, 0.2);
    const trained = oneCell(0.29, 0.25); // beta_hi 0.54 trained, realised 0.5
    const n = nearTies(trained, realised, runNetwork(realised, clip([0.51])));
    expect(n.ties).toHaveLength(1);
    expect(n.ties[0].trained).toBeCloseTo(0.54, 15);
    expect(n.ties[0].realised).toBeCloseTo(0.5, 15);
    const rows = nearTiesCsvRows(n);
    expect(rows[0]).toEqual([
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
    ]);
    expect(rows.slice(1).map((r) => [r[0], r[7], r[9]])).toEqual([['blocks.0.cell.beta_hi[0]', 1, '0']]);
  });

  it('finds none on a clip that stays clear of both thresholds', () => {
    const realised = oneCell(0.3, 0.2);
    const n = nearTies(realised, realised, runNetwork(realised, clip([0.1, 0.9, 0.4, 0.1])));
    expect(n.ties).toEqual([]);
    expect(n.unitFrames).toBe(0);
  });

  it('knows which side matters: beta_hi for an OFF cell, beta_lo for an ON cell, both for a band of zero width', () => {
    expect(decides(0.5, 0.3, 0.5, 0)).toBe(true);
    expect(decides(0.5, 0.3, 0.5, 1)).toBe(false);
    expect(decides(0.3, 0.3, 0.5, 1)).toBe(true);
    expect(decides(0.3, 0.3, 0.5, 0)).toBe(false);
    expect(decides(0.4, 0.4, 0.4, 0)).toBe(true);
    expect(decides(0.4, 0.4, 0.4, 1)).toBe(true);
  });
});

describe('near ties over blocks and cells (a trace written by hand)', () => {
  /** Two blocks of two cells; only the cells' parameters matter to nearTies. */
  const cell = (betaLo: readonly number[], delta: readonly number[], s0: readonly number[]) => ({
    alpha: Float64Array.of(1, 1),
    beta1: Float64Array.from(betaLo),
    delta: Float64Array.from(delta),
    s0: Float64Array.from(s0),
  });
  const block = (c: ReturnType<typeof cell>) => ({
    cand: linear(2, 2, [1, 0, 0, 1], [0, 0]),
    cell: c,
    post: linear(2, 2, [1, 0, 0, 1], [0, 0]),
  });
  const net: Network = {
    ...oneCellNetwork({ betaLo: 0.3, delta: 0.2 }),
    inputs: 2,
    width: 2,
    cells: 2,
    pre: linear(2, 2, [1, 0, 0, 1], [0, 0]),
    // Block 0: both cells [0.3, 0.5), cell 1 starts ON. Block 1: cell 0 [0, 0.4) starting ON (beta_lo = 0 decides
    // nothing: a candidate is never below 0), cell 1 [0.3, 0.5) starting OFF.
    blocks: [block(cell([0.3, 0.3], [0.2, 0.2], [0, 1])), block(cell([0, 0.3], [0.4, 0.2], [1, 0]))],
    out: linear(2, 2, [1, 0, 0, 1], [0, 0]),
  };
  // Candidates and states per frame, [t * 2 + cell]. Resolution (3% or 5 pA at 1 nA): 0.015 at 0.5, 0.009 at 0.3.
  //  block 0 cell 0: 0.51 after OFF (0.01 above beta_hi: decided), 0.9, 0.2 (0.1 below beta_lo, far)
  //  block 0 cell 1: 0.305 after s0 = ON, 0.305 after ON, 0.295 after ON: beta_lo decides all three
  //  block 1 cell 0: 0.405 after s0 = ON (0.005 from beta_hi 0.4, but ON on both sides: not decided), then 0 after
  //                   ON twice: at beta_lo = 0, but a threshold at 0 is skipped
  //  block 1 cell 1: 0.1 after OFF (far), 0.503 after OFF (0.003 above beta_hi: decided), 0.505 after ON (not)
  const sw = {
    frames: 3,
    candidates: [Float64Array.of(0.51, 0.305, 0.9, 0.305, 0.2, 0.295), Float64Array.of(0.405, 0.1, 0, 0.503, 0, 0.505)],
    states: [Uint8Array.of(1, 1, 1, 1, 0, 0), Uint8Array.of(1, 0, 1, 1, 1, 1)],
  } as unknown as Trace;

  it('finds each tie at its block, cell and frame, ranked by frames decided, then by the closest margin', () => {
    const n = nearTies(net, net, sw);
    expect(n.ties.map((t) => [t.parameter, t.frames])).toEqual([
      ['blocks.0.cell.beta_lo[1]', [0, 1, 2]],
      ['blocks.1.cell.beta_hi[1]', [1]], // closest 0.003
      ['blocks.0.cell.beta_hi[0]', [0]], // closest 0.01
    ]);
    expect(n.unitFrames).toBe(5);
    expect(n.totalUnitFrames).toBe(12); // 3 frames x 2 cells x 2 blocks
    expect(nearTiesCsvRows(n)[1][9]).toBe('0 1 2');
  });

  it('counts a candidate exactly one resolution from a threshold as a tie', () => {
    // rel 0.25 of beta_hi 0.5 is 0.125; 0.625 - 0.5 is exactly 0.125 in binary.
    const one = oneCell(0.3, 0.2);
    const trace = { frames: 1, candidates: [Float64Array.of(0.625)], states: [Uint8Array.of(1)] } as unknown as Trace;
    const n = nearTies(one, one, trace, { rel: 0.25, absA: 0 });
    expect(n.ties.map((t) => [t.parameter, t.closest])).toEqual([['blocks.0.cell.beta_hi[0]', 0.125]]);
  });
});

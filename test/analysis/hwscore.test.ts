/**
 * hardwareAgreement (src/analysis/hwscore.ts): the fraction of unit-frames where the hardware-aware model has the
 * trained network's state, worst process first. The clips are the constructed knee case of hwmodel.test.ts, whose
 * states are worked out there by hand: with a leaky NMOS knee the cell turns ON in 2 frames of 6 where the trained
 * network keeps it OFF; with no hardware tables the model follows the network.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hardwareAgreement } from '../../src/analysis/hwscore.js';
import { runNetwork } from '../../src/model/network.js';
import type { Network } from '../../src/model/types.js';
import { loadProcess } from '../../src/netlist/process.js';
import { REPO_ROOT } from '../helpers.js';
import { IDEAL, KNEE_N, calibrationWith, kneeNetwork, pA, units } from './knee-case.js';

const calibration = calibrationWith;

/** candidate = max(x0 - x1, 0) + 0.5 into one cell (beta_lo 0.505, beta_hi 0.51, starts OFF); one class. */
const NET: Network = kneeNetwork(0.5, 0.505, 0.51);

const FRAMES = 6;
const SUNK = units(100 * pA);
const LEAKY = units(90 * pA); // h = -10 pA against 100 pA: the knee leaks 4 pA, c = 0.516 >= beta_hi
/** The knee case: trained OFF where h < 0; the leaky knee ON in frames 2 and 4. */
const KNEE_CLIP = [
  [2, 0],
  [0, SUNK],
  [LEAKY, SUNK],
  [0, SUNK],
  [LEAKY, SUNK],
  [2, 0],
];
/** Clips 0 and 2: the knee case. Clip 1: ON throughout. */
const CLIPS = [KNEE_CLIP, Array.from({ length: FRAMES }, () => [2, 0]), KNEE_CLIP];
const DATA = { frames: FRAMES, features: 2, data: Float64Array.from(CLIPS.flat(2)) };

describe('hardwareAgreement', () => {
  it('scores the fraction of unit-frames in agreement over the chosen clips, the worst process counting', async () => {
    const process = await loadProcess(path.join(REPO_ROOT, 'models', 'c180', 'process.json'));
    const leaky = { process, calibration: calibration({ knee: { n: KNEE_N, p: IDEAL } }) };
    const ideal = { process, calibration: calibration({}) };
    // The trained network's states on clip 0, by hand: ON (c = 2.5), then c = 0.5 < beta_lo wherever h < 0.
    const clip0 = { frames: FRAMES, features: 2, data: DATA.data.subarray(0, FRAMES * 2) };
    expect(Array.from(runNetwork(NET, clip0).states[0])).toEqual([1, 0, 0, 0, 0, 1]);

    expect(hardwareAgreement([ideal], DATA, [0, 1])(NET)).toBe(1);
    expect(hardwareAgreement([leaky], DATA, [1])(NET)).toBe(1);
    expect(hardwareAgreement([leaky], DATA, [0])(NET)).toBeCloseTo(4 / 6, 12);
    expect(hardwareAgreement([leaky], DATA, [1, 0])(NET)).toBeCloseTo(10 / 12, 12);
    expect(hardwareAgreement([leaky], DATA, [2])(NET)).toBeCloseTo(4 / 6, 12); // the last clip, read in place
    expect(hardwareAgreement([leaky], DATA, [1, 2, 1])(NET)).toBeCloseTo(16 / 18, 12);
    // The worst process, in either order.
    expect(hardwareAgreement([leaky, ideal], DATA, [0])(NET)).toBeCloseTo(4 / 6, 12);
    expect(hardwareAgreement([ideal, leaky], DATA, Int32Array.of(0))(NET)).toBeCloseTo(4 / 6, 12);
  });

  it('is 1 with nothing to compare (no clips, or no processes)', async () => {
    const process = await loadProcess(path.join(REPO_ROOT, 'models', 'c180', 'process.json'));
    const leaky = { process, calibration: calibration({ knee: { n: KNEE_N, p: IDEAL } }) };
    expect(hardwareAgreement([leaky], DATA, [])(NET)).toBe(1);
    expect(hardwareAgreement([], DATA, [0])(NET)).toBe(1);
  });
});

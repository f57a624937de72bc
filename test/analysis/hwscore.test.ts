/**
 * hardwareAgreement (src/analysis/hwscore.ts): the fraction of unit-frames where the hardware-aware model has the
 * trained network's state, worst process first. The clips are the constructed knee case of hwmodel.test.ts, whose
 * states are worked out there by hand: with a leaky NMOS knee the cell turns ON in 2 frames of 6 where the trained
 * network keeps it OFF; with no hardware tables the model follows the network.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decisionFlipRate, parameterSigmas } from '../../src/analysis/montecarlo.js';
import {
  hardwareAgreement,
  hardwareDisagreements,
  mismatchStability,
  SELECT_MISMATCH_SEED,
} from '../../src/analysis/hwscore.js';
import { runNetwork, type InputSequence } from '../../src/model/network.js';
import type { Network } from '../../src/model/types.js';
import { loadProcess } from '../../src/netlist/process.js';
import { REPO_ROOT } from '../helpers.js';
import { oneCellNetwork } from '../networks.js';
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

describe('hardwareDisagreements', () => {
  it('flags, per clip and block, the unit-frames where any process leaves the network: frames 2 and 4 of the knee clip', async () => {
    const process = await loadProcess(path.join(REPO_ROOT, 'models', 'c180', 'process.json'));
    const leaky = { process, calibration: calibration({ knee: { n: KNEE_N, p: IDEAL } }) };
    const ideal = { process, calibration: calibration({}) };
    // The leaky knee turns the cell ON where h = -10 pA (frames 2 and 4; hwmodel.test.ts by hand).
    const flags = hardwareDisagreements([ideal, leaky], DATA)(NET, [2, 1]);
    expect([...flags.keys()]).toEqual([2, 1]);
    expect(flags.get(2)!.map((f) => Array.from(f))).toEqual([[0, 0, 1, 0, 1, 0]]);
    expect(flags.get(1)!.map((f) => Array.from(f))).toEqual([[0, 0, 0, 0, 0, 0]]);
    expect(Array.from(hardwareDisagreements([ideal], DATA)(NET, [0]).get(0)![0])).toEqual([0, 0, 0, 0, 0, 0]);
  });
});

describe('mismatchStability', () => {
  // One cell, candidate = w x input against beta_hi 1 (test/networks.ts); class 0 while it is ON.
  const oneCell = (w: number) => oneCellNetwork({ candWeight: w, betaLo: 0.5, delta: 0.5 });
  // Clips 0 and 2 sit 1% above beta_hi (input 1), clip 1 far above it (input 3, no chip flips it).
  const data = { frames: 1, features: 1, data: Float64Array.of(1, 3, 1) };
  const clipOf = (x: number): InputSequence => ({ frames: 1, features: 1, data: Float64Array.of(x) });

  it("is 1 minus the worse process's decision flip rate on the chosen clips, the same chips for every network", async () => {
    const processes = await Promise.all(
      ['c180', 'gf180mcu'].map(async (name) => ({
        process: await loadProcess(path.join(REPO_ROOT, 'models', name, 'process.json')),
      })),
    );
    const net = oneCell(1.01);
    const rates = processes.map((p) =>
      decisionFlipRate(net, [clipOf(1), clipOf(1)], parameterSigmas(net, p.process), 40, SELECT_MISMATCH_SEED),
    );
    // The processes' sigmas differ, so "worse" is not the mean; both flip some chips 1% from the threshold.
    expect(rates[0]).not.toBe(rates[1]);
    expect(Math.min(...rates)).toBeGreaterThan(0);
    const score = mismatchStability(processes, data, [0, 2], 40);
    expect(score(net)).toBe(1 - Math.max(...rates));
    expect(score(net)).toBe(score(net));
    // Clip 1 alone never flips; with it the rate halves (every chip meets both clips).
    expect(mismatchStability(processes, data, [1], 40)(net)).toBe(1);
    expect(mismatchStability(processes, data, [0, 1], 40)(net)).toBe(1 - Math.max(...rates) / 2);
  });
});

/**
 * trainNetwork's set-up and the head of its step (trainer.ts lines 373-468: the option defaults, the seed's streams,
 * the epoch loop's focus marking, the step's gradient options) and the start of the realised steps, on runs whose
 * figures are worked out by hand: as in trainer-run.test.ts, a network of one input, one unit and one block started
 * from `init` with the learning rate 0, so the parameters stay put (but for the projection into the limits).
 */
import { describe, expect, it } from 'vitest';
import type { ParamRealisation } from '../../src/train/hardware.js';
import { trainNetwork, type EpochRecord } from '../../src/train/trainer.js';
import { createRng } from '../../src/util/random.js';
import { ce, FROZEN, SET, tinyData as data } from './tiny-run.js';

/**
 * Train on clip (1, 1) of class 0 and clip (-0.5, -0.5) of class 1: the frozen network decides both right (accuracy 1,
 * above the majority share 1/2) from epoch 1 on. One batch of both, so one step an epoch.
 */
const TWO = data(
  [
    [1, 1],
    [-0.5, -0.5],
  ],
  [0, 1],
  [0, 0],
);
/** The training loss of the network as it is: the mean of the two clips' per-frame losses. */
const PLAIN = (ce(1, 0) + ce(-0.5, 1)) / 2;

/**
 * A process that realises every weight as it is (so without noise the realised network is the trained one) with a
 * relative weight mismatch of 1 sigma; biases and cells have none (but still take a draw each).
 */
const EXACT: ParamRealisation = {
  process: 'exact',
  weight: (w) => w,
  weightSigma: () => 1,
  unitySigma: 0,
  thresholdSigma: 0,
};

/**
 * The seed's streams as trainNetwork derives them (trainer.ts, so that a recorded seed reproduces a run): the batch
 * order 2 seed + 1, input noise 2 seed + 2, candidate noise (2 seed + 2) xor 0x5bd1e995, mismatch (2 seed + 2) xor
 * 0x27d4eb2f. The draws are the test's own; what they do to the run is worked out below.
 */
const candidateStream = (seed: number) => createRng((2 * seed + 2) ^ 0x5bd1e995);
const mismatchStream = (seed: number) => createRng((2 * seed + 2) ^ 0x27d4eb2f);

/**
 * The training loss of TWO (the mean of its two clips' per-frame losses) on the network realised by EXACT with
 * mismatch `noise`, from 13 draws `z` in the layout's order, one per element of every weight, bias and cell tensor
 * (hardware.ts realiseParams; s0 takes none): pre.weight, pre.bias, cand.weight, cand.bias, alpha, beta1, delta,
 * post.weight, post.bias, out.weight (2), out.bias (2). A weight w becomes w (1 + noise z); biases and cells have
 * sigma 0. Only three draws reach the logits: the pre weight p = 1 + noise z0 and the classifier's o0 = 1 + noise z9,
 * o1 = -(1 + noise z10) (the zero weights, biases and alpha stay 0, beta1 stays 1, so the cell stays OFF and the
 * block adds 0). Clip (1, 1) of class 0: logits (o0 p, o1 p) on both frames, loss ln(1 + e^(o1 p - o0 p)); clip
 * (-0.5, -0.5) of class 1: logits -0.5 (o0 p, o1 p), loss ln(1 + e^(-0.5 (o0 - o1) p)).
 */
function realisedLoss(noise: number, z: number[]): number {
  const p = 1 + noise * z[0];
  const o0 = 1 + noise * z[9];
  const o1 = -(1 + noise * z[10]);
  const a = Math.log(1 + Math.exp(o1 * p - o0 * p));
  const b = Math.log(1 + Math.exp(-0.5 * (o0 - o1) * p));
  return (a + b) / 2;
}

const draws = (rng: { normal(): number }, n: number) => Array.from({ length: n }, () => rng.normal());

describe('trainNetwork: the mismatch noise, its stream and where its ramp starts', () => {
  it('realiseWhenAlive: the ramp starts at the first realised step and is not moved on by later live epochs', async () => {
    // 4 steps (one an epoch), realiseAfter 0, ramp 0.5 of the steps (2 steps), noise 0.5. Alive after epoch 1 (step
    // 1): the first realised step is max(1, 0) = 1. Noise at step s: 0.5 min(1, (s - 1) / 2) = 0, 0.25, 0.5 at steps
    // 1, 2, 3 (epochs 2, 3, 4). Epoch 1 is not realised; epoch 2 is, without noise (no draw; the exact process):
    // both give the plain loss. Epochs 3 and 4 take 13 draws each.
    const r = await trainNetwork(TWO, {
      ...FROZEN,
      epochs: 4,
      batchSize: 2,
      realisations: [EXACT],
      mismatchNoise: 0.5,
      mismatchRamp: 0.5,
      realiseAfter: 0,
      realiseWhenAlive: true,
    });
    const rng = mismatchStream(FROZEN.seed);
    const expected = [PLAIN, PLAIN, realisedLoss(0.25, draws(rng, 13)), realisedLoss(0.5, draws(rng, 13))];
    expect(r.history.map((h) => h.train.accuracy)).toEqual([1, 1, 1, 1]); // alive at every epoch
    r.history.forEach((h, i) => expect(h.trainLoss).toBeCloseTo(expected[i], 12));
    // So the test can tell: the noise moves the loss.
    expect(Math.abs(expected[2] - PLAIN)).toBeGreaterThan(1e-4);
    expect(Math.abs(expected[3] - PLAIN)).toBeGreaterThan(1e-4);
  });

  it('without realiseWhenAlive the ramp starts at realiseAfter of the steps, however many epochs are alive', async () => {
    // 4 steps, realiseAfter 0.25: realised from step 1; ramp 2 steps: noise 0, 0.25, 0.5 at steps 1, 2, 3. Step 0 is
    // not realised. The network is alive at every epoch, which must not move the ramp's start.
    const r = await trainNetwork(TWO, {
      ...FROZEN,
      epochs: 4,
      batchSize: 2,
      realisations: [EXACT],
      mismatchNoise: 0.5,
      mismatchRamp: 0.5,
      realiseAfter: 0.25,
    });
    const rng = mismatchStream(FROZEN.seed);
    const expected = [PLAIN, PLAIN, realisedLoss(0.25, draws(rng, 13)), realisedLoss(0.5, draws(rng, 13))];
    r.history.forEach((h, i) => expect(h.trainLoss).toBeCloseTo(expected[i], 12));
  });
});

describe("trainNetwork: the step's options", () => {
  it("candidate noise: drawn per frame from the seed's candidate stream, the positive candidates pay the current cap", async () => {
    // One training clip, (1, 1) of class 0, one step an epoch, margin 0. The candidate is 0 + 2 z per frame (draws 1,
    // 2 in epoch 1, 3, 4 in epoch 2). Current penalty, cap 0.5, weight 1, over 2 frames: pre output and block output
    // are 1 on both frames, (1 - 0.5)^2 x 4 = 1; the candidate adds max(2 z - 0.5, 0)^2 a frame. The cell's alpha
    // is 0, so the logits (and the loss) stay (1, -1).
    const one = {
      ...TWO,
      splits: { train: Int32Array.from([0]), validation: new Int32Array(0), test: new Int32Array(0) },
    };
    const r = await trainNetwork(one, { ...FROZEN, epochs: 2, batchSize: 1, candidateNoise: 2, margin: 0 });
    const rng = candidateStream(FROZEN.seed);
    const over = (z: number) => Math.max(2 * z - 0.5, 0) ** 2;
    const expected = [0, 1].map(() => (1 + over(rng.normal()) + over(rng.normal())) / 2);
    expect(r.history[0].penalty).toBeCloseTo(expected[0], 12);
    expect(r.history[1].penalty).toBeCloseTo(expected[1], 12);
    expect(expected.some((p) => Math.abs(p - 0.5) > 1e-3)).toBe(true); // some draw is over the cap
    expect(r.history[0].trainLoss).toBeCloseTo(ce(1, 0), 12);
  });

  it("the current penalty's weight is the option's for a relaxed CMRU (only the CMRU's is scaled by 1 - eps)", async () => {
    // The cell's alpha is 0: the relaxed CMRU (eps 0.5) gives the BMRU's logits and currents. Penalty with weight 1
    // (SET's, trainer-run.test.ts): clips 0 and 1 have |x| = 1 on both frames at the pre output and the block output,
    // 4 x 0.25 / 2 = 0.5 each; clips 2 and 3 none; the mean over the 4 clips 0.25 (not 0.25 x (1 - 0.5)).
    const r = await trainNetwork(SET, { ...FROZEN, epochs: 2, batchSize: 4, arch: 'cmru-relaxed', eps: 0.5 });
    expect(r.history.map((h) => h.forwardEps)).toEqual([0.5, 0.5]);
    for (const h of r.history) expect(h.penalty).toBeCloseTo(0.25, 12);
  });

  it('the transition penalty starts at transitionAfter x the total steps (4 steps, from step 2)', async () => {
    // As trainer-run.test.ts's: 0.125 a clip on the holding OFF cell at margin 2, weight 1. 4 steps (one an epoch),
    // transitionAfter 0.5: steps 2 and 3, epochs 3 and 4.
    const opts = { ...FROZEN, epochs: 4, batchSize: 4, transitionMargin: 2, transitionWeight: 1, transitionAfter: 0.5 };
    const r = await trainNetwork(SET, opts);
    const expected = [0.25, 0.25, 0.375, 0.375];
    r.history.forEach((h: EpochRecord, i) => expect(h.penalty).toBeCloseTo(expected[i], 12));
  });

  it('margin focus every 3 epochs from the first marked one (epoch 5 of 8): marks at epochs 5 and 8', async () => {
    // 8 steps (one an epoch), after 0.5: from step 4, the start of epoch 5; then every 3 epochs: 8.
    const focus = {
      flagsOf: () =>
        new Map([
          [1, [Uint8Array.from([1, 0])]],
          [2, [Uint8Array.from([1, 1])]],
        ]),
      every: 3,
      after: 0.5,
      margin: 2,
      weight: 1,
    };
    const r = await trainNetwork(SET, { ...FROZEN, epochs: 8, batchSize: 4, focus });
    expect(r.focus).toEqual([
      { epoch: 5, unitFrames: 3 },
      { epoch: 8, unitFrames: 3 },
    ]);
  });
});

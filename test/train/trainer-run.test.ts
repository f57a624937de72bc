/**
 * trainNetwork's bookkeeping on runs whose every figure is worked out by hand: a network of one input, one unit and
 * one block started from `init` with the learning rate 0, so the parameters stay put (but for the projection into the
 * limits) and each epoch's losses, penalties, scores, checkpoints and schedules follow from the written-down logits.
 */
import { describe, expect, it } from 'vitest';
import type { Network } from '../../src/model/types.js';
import { paramLayout, rawNetworkView, tensorView } from '../../src/train/params.js';
import type { ParamRealisation } from '../../src/train/hardware.js';
import { trainNetwork, type EpochRecord } from '../../src/train/trainer.js';
import { createRng } from '../../src/util/random.js';
import { ce, FROZEN, SET, TINY, tinyData as data, tinyInit as init } from './tiny-run.js';

/** Mean over the train clips of each clip's mean per-frame loss. */
const TRAIN_LOSS = (ce(1, 0) + (ce(1, 1) + ce(-1, 1)) / 2 + ce(-0.5, 1) + Math.LN2) / 4;
const VALIDATION_LOSS = (ce(2, 0) + ce(0.5, 1)) / 2;
/**
 * Current penalty, cap 0.5 and weight 1: (|h| - 0.5)^2 on the pre-projection output and on the block output (both x),
 * summed over frames, divided by the frames: clips 0 and 1 have |x| = 1 in both frames, 2 (0.25 + 0.25) / 2 = 0.5
 * each; clips 2 and 3 none. The mean over the 4 train clips: 0.25.
 */
const PENALTY = 0.25;

describe('trainNetwork at learning rate 0, by hand', () => {
  it('records per epoch the steps, the mean loss and penalty over the batches, the clamps and the scores', async () => {
    const calls: [number, number][] = [];
    const r = await trainNetwork(SET, { ...FROZEN, epochs: 3, batchSize: 2 }, (rec, etaS) =>
      calls.push([rec.epoch, etaS]),
    );
    expect(r.history.map((h) => [h.epoch, h.steps, h.clamped, h.lr, h.cumulative, h.forwardEps])).toEqual([
      [1, 2, 1, 0, 0, 0],
      [2, 4, 0, 0, 0, 0],
      [3, 6, 0, 0, 0, 0],
    ]);
    for (const h of r.history) {
      expect(h.trainLoss).toBeCloseTo(TRAIN_LOSS, 12);
      expect(h.penalty).toBeCloseTo(PENALTY, 12);
      expect([h.train.clips, h.train.accuracy, h.train.frameAccuracy]).toEqual([4, 0.5, 5 / 8]);
      expect(h.train.loss).toBeCloseTo(TRAIN_LOSS, 12);
      expect([h.validation!.clips, h.validation!.accuracy, h.validation!.frameAccuracy]).toEqual([2, 0.5, 0.5]);
      expect(h.validation!.loss).toBeCloseTo(VALIDATION_LOSS, 12);
      expect(h.gradNorm).toBeGreaterThan(0);
      expect(h.elapsedS).toBeGreaterThanOrEqual(0);
    }
    // The callback's time left: epochs to go times the mean epoch so far, so 0 after the last.
    expect(calls.map((c) => c[0])).toEqual([1, 2, 3]);
    expect(calls[2][1]).toBe(0);
    expect(calls[0][1]).toBeGreaterThan(0);
    // Every epoch is the same model: the earliest is kept, and every epoch was a checkpoint.
    expect(r.bestEpoch).toBe(1);
    expect(r.checkpoints.map((c) => [c.epoch, c.acc])).toEqual([
      [1, 0.5],
      [2, 0.5],
      [3, 0.5],
    ]);
    expect(r.checkpoints[0].loss).toBeCloseTo(VALIDATION_LOSS, 12);
    expect(r.scores.test!.clips).toBe(1);
    expect(r.scores.test!.accuracy).toBe(1);
    expect(r.scores.test!.loss).toBeCloseTo(ce(-1, 1), 12);
    expect(r.scores.validation!.accuracy).toBe(0.5);
    expect(r.scores.train!.frameAccuracy).toBe(5 / 8);
    // The kept model: the init with its post weight clamped to the limit 2, written as a realised fq-bmru.
    expect(r.network.arch).toBe('fq-bmru');
    expect(r.network.cellParams).toBe('realised');
    expect(Array.from(r.network.blocks[0].post.weight.data)).toEqual([2]);
    expect(Array.from(r.network.out.weight.data)).toEqual([1, -1]);
    expect(Array.from(r.theta)).toEqual(Array.from(r.checkpoints[0].theta));
    // Silence: logits (0, 0), class 0, not a keyword; the guard left nothing out.
    expect(r.silence).toEqual({ decision: 0, keyword: false, excluded: 0, changed: false });
    expect(r.focus).toEqual([]);
    expect(r.hardware).toBeUndefined();
  });

  it('without a validation split, scores and picks by the training split; a batch of the whole split is one step', async () => {
    const trainOnly = { ...SET, splits: { ...SET.splits, validation: new Int32Array(0), test: new Int32Array(0) } };
    const r = await trainNetwork(trainOnly, { ...FROZEN, epochs: 2, batchSize: 8 });
    expect(r.history.map((h) => [h.steps, h.validation])).toEqual([
      [1, undefined],
      [2, undefined],
    ]);
    expect(r.history[1].trainLoss).toBeCloseTo(TRAIN_LOSS, 12);
    expect(r.checkpoints.map((c) => c.acc)).toEqual([0.5, 0.5]);
    expect(r.checkpoints[1].loss).toBeCloseTo(TRAIN_LOSS, 12);
    expect(r.scores.validation).toBeUndefined();
    expect(r.scores.test).toBeUndefined();
  });

  it('an uneven last batch: each batch is the mean of its own clips (3 clips then 1)', async () => {
    const r = await trainNetwork(SET, { ...FROZEN, epochs: 1, batchSize: 3 });
    // Whichever clip is left alone, the epoch's loss is (mean of the other three + its own) / 2.
    const clipLoss = [ce(1, 0), (ce(1, 1) + ce(-1, 1)) / 2, ce(-0.5, 1), Math.LN2];
    const sum = clipLoss.reduce((a, b) => a + b);
    const possible = clipLoss.map((alone) => ((sum - alone) / 3 + alone) / 2);
    expect(r.history[0].steps).toBe(2);
    expect(possible.some((p) => Math.abs(p - r.history[0].trainLoss) < 1e-12)).toBe(true);
    expect(possible.some((p) => Math.abs(p - TRAIN_LOSS) < 1e-12)).toBe(false); // so the test can tell
  });

  it('schedules: lr at each epoch last step (warm-up, then cosine to the floor), and the BMRU anneal over half', async () => {
    // 4 steps (one a epoch), warm-up 2, floor 0.5 of peak 0.1: step 0 0.05; step 1 0.1; step 2 progress 0:
    // 0.1; step 3 progress 1/2: 0.1 (0.5 + 0.5 x 0.5 (1 + cos(pi / 2))) = 0.075.
    const r = await trainNetwork(SET, {
      ...FROZEN,
      init: undefined,
      lr: 0.1,
      warmupSteps: 2,
      lrFloor: 0.5,
      epochs: 4,
      batchSize: 4,
      anneal: true,
      annealFraction: 0.5,
    });
    const lrs = r.history.map((h) => h.lr);
    expect(lrs[0]).toBeCloseTo(0.05, 15);
    expect(lrs[1]).toBeCloseTo(0.1, 15);
    expect(lrs[2]).toBeCloseTo(0.1, 15);
    expect(lrs[3]).toBeCloseTo(0.075, 15);
    // eps of the cumulative gradient: 1 - step / 2 at steps 0..3.
    expect(r.history.map((h) => h.cumulative)).toEqual([1, 0.5, 0, 0]);
    expect(r.history.map((h) => h.forwardEps)).toEqual([0, 0, 0, 0]);
    // Only the pure BMRU epochs are checkpoints.
    expect(r.checkpoints.map((c) => c.epoch)).toEqual([3, 4]);
    expect([3, 4]).toContain(r.bestEpoch);
  });

  it('the silence guard: a model that calls silence a keyword at every epoch is kept anyway, and says so', async () => {
    // out.bias (0, 0.1): silence gives logits (0, 0.1), class 1 ('yes'), at every epoch (lr 0).
    const opts = { ...FROZEN, init: init([0, 0.1]), epochs: 3, batchSize: 4 };
    const guarded = await trainNetwork(SET, opts);
    expect(guarded.silence).toEqual({ decision: 1, keyword: true, excluded: 3, changed: false });
    expect(guarded.bestEpoch).toBe(1);
    const off = await trainNetwork(SET, { ...opts, silenceGuard: false });
    expect(off.silence).toEqual({ decision: 1, keyword: true, excluded: 0, changed: false });
  });

  it('margin focus: marks from `after` every `every` epochs, and the flagged unit-frames pay the focus margin', async () => {
    const seen: { cellParams: string | undefined; clips: number[] }[] = [];
    const focus = {
      // Clip 1 frame 0, clip 2 frames 0 and 1 (one cell: unit-frame i = frame t).
      flagsOf: (net: Network, clips: Int32Array) => {
        seen.push({ cellParams: net.cellParams, clips: Array.from(clips) });
        return new Map([
          [1, [Uint8Array.from([1, 0])]],
          [2, [Uint8Array.from([1, 1])]],
        ]);
      },
      every: 2,
      after: 0.5,
      margin: 2,
      weight: 1,
    };
    // 6 steps (one an epoch): from step 3, the start of epoch 4; marks at epochs 4 and 6.
    const r = await trainNetwork(SET, { ...FROZEN, epochs: 6, batchSize: 4, focus });
    expect(r.focus).toEqual([
      { epoch: 4, unitFrames: 3 },
      { epoch: 6, unitFrames: 3 },
    ]);
    expect(seen).toEqual([
      { cellParams: 'realised', clips: [0, 1, 2, 3] },
      { cellParams: 'realised', clips: [0, 1, 2, 3] },
    ]);
    // A flagged unit-frame: candidate 0, state OFF before it, so beta_hi = 1 decides: (2 - |0 - 1|) / 2 = 1/2,
    // squared, weight 1: 0.25. Clip 1: 0.25 / 2 frames; clip 2: 0.5 / 2; the batch of 4 clips: 0.375 / 4.
    const penalties = r.history.map((h: EpochRecord) => h.penalty);
    for (const p of penalties.slice(0, 3)) expect(p).toBeCloseTo(PENALTY, 12);
    for (const p of penalties.slice(3)) expect(p).toBeCloseTo(PENALTY + 0.375 / 4, 12);
  });

  it("input noise: the training loss is taken on the clip plus sigma x draws of the seed's noise stream, the scores on the clip", async () => {
    // One training clip, (1, 1) of class 0, one step an epoch: epoch e sees draws 2e - 1 and 2e of the stream that
    // trainNetwork documents as the seed's second (createRng(2 seed + 2)).
    const one = {
      ...SET,
      splits: { train: Int32Array.from([0]), validation: new Int32Array(0), test: new Int32Array(0) },
    };
    const r = await trainNetwork(one, { ...FROZEN, epochs: 2, batchSize: 1, inputNoise: 0.5 });
    const rng = createRng(2 * FROZEN.seed + 2);
    const noisyLoss = () => (ce(1 + 0.5 * rng.normal(), 0) + ce(1 + 0.5 * rng.normal(), 0)) / 2;
    const expected = [noisyLoss(), noisyLoss()];
    expect(r.history[0].trainLoss).toBeCloseTo(expected[0], 12);
    expect(r.history[1].trainLoss).toBeCloseTo(expected[1], 12);
    expect(Math.abs(expected[0] - ce(1, 0))).toBeGreaterThan(1e-3); // the noise does move the loss
    expect(r.history[0].train.loss).toBeCloseTo(ce(1, 0), 12);
  });

  it('gradNorm: the mean over the steps of the norm of each batch gradient, itself the mean over the batch clips', async () => {
    // Copies of one clip: a batch of two copies has the gradient of one copy alone, and so do two steps of one copy.
    const copies = (n: number) =>
      data(
        Array.from({ length: n }, () => [1, -1]),
        Array.from({ length: n }, () => 1),
        Array.from({ length: n }, () => 0),
      );
    const alone = (await trainNetwork(copies(1), { ...FROZEN, epochs: 1, batchSize: 1 })).history[0];
    const pair = (await trainNetwork(copies(2), { ...FROZEN, epochs: 1, batchSize: 2 })).history[0];
    const twoSteps = (await trainNetwork(copies(2), { ...FROZEN, epochs: 1, batchSize: 1 })).history[0];
    expect(alone.gradNorm).toBeGreaterThan(0);
    expect(pair.gradNorm).toBeCloseTo(alone.gradNorm, 12);
    expect(twoSteps.steps).toBe(2);
    expect(twoSteps.gradNorm).toBeCloseTo(alone.gradNorm, 12);
  });

  it('times the run: elapsedS within the wall time around the call, and the time left as epochs to go x mean epoch', async () => {
    const eta: number[] = [];
    const t0 = performance.now();
    const r = await trainNetwork(SET, { ...FROZEN, epochs: 3, batchSize: 4 }, (_rec, etaS) => eta.push(etaS));
    const wallS = (performance.now() - t0) / 1000;
    for (const h of r.history) expect(h.elapsedS).toBeLessThanOrEqual(wallS);
    expect(r.elapsedS).toBeLessThanOrEqual(wallS);
    expect(r.elapsedS).toBeGreaterThanOrEqual(r.history[2].elapsedS);
    expect(eta[0]).toBeCloseTo(r.history[0].elapsedS * 2, 12);
    expect(eta[1]).toBeCloseTo((r.history[1].elapsedS / 2) * 1, 12);
    expect(eta[2]).toBe(0);
  });

  it('an anneal that never reaches eps = 0 keeps the last epoch as the only checkpoint', async () => {
    // Fraction 1 of 3 steps: eps 1, 2/3, 1/3 at the epochs' last steps.
    const r = await trainNetwork(SET, { ...FROZEN, epochs: 3, batchSize: 4, anneal: true, annealFraction: 1 });
    expect(r.history.map((h) => h.cumulative)).toEqual([1, 1 - 1 / 3, 1 - 2 / 3]);
    expect(r.checkpoints.map((c) => c.epoch)).toEqual([3]);
    expect(r.bestEpoch).toBe(3);
  });

  it('with cell limits, the cells are moved into them after each step and counted with the other clamps', async () => {
    // alpha 0 goes up to the lowest current, 0.5 (one value); beta_hi = 1 is inside [0.5, 4]; the hysteresis is 0.
    const cellLimits = { processes: ['p'], minCurrent: 0.5, maxCurrent: 4, betaLoFloor: () => 0 };
    const r = await trainNetwork(SET, { ...FROZEN, epochs: 2, batchSize: 4, cellLimits });
    expect(r.history.map((h) => h.clamped)).toEqual([2, 0]);
    expect(Array.from(r.network.blocks[0].cell.alpha)).toEqual([0.5]);
    // The cell stays OFF (candidate 0 below beta_hi 1), so the losses are those of the run without limits.
    expect(r.history[1].trainLoss).toBeCloseTo(TRAIN_LOSS, 12);
  });

  it("an uneven last batch, in the order of the seed's shuffle stream (Fisher-Yates on createRng(2 seed + 1))", async () => {
    const order = Int32Array.from(SET.splits.train);
    const rng = createRng(2 * FROZEN.seed + 1);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    const clipLoss = [ce(1, 0), (ce(1, 1) + ce(-1, 1)) / 2, ce(-0.5, 1), Math.LN2];
    const alone = clipLoss[order[3]];
    const expected = ((clipLoss[order[0]] + clipLoss[order[1]] + clipLoss[order[2]]) / 3 + alone) / 2;
    const r = await trainNetwork(SET, { ...FROZEN, epochs: 1, batchSize: 3 });
    expect(r.history[0].trainLoss).toBeCloseTo(expected, 12);
  });

  it('a cumulative arch is scored, checkpointed and silence-checked with its own forward eps (the CMRU counts)', async () => {
    // The cell gets candidate 1 (cand bias 1) against beta_lo = beta_hi = 1: both steps 1. BMRU: s_t = 1; CMRU (eps
    // 1): s_t = s_{t-1} + 1 = t + 1. Post weight 1, bias -1.5: h_t = 0, 0, 0 (BMRU) or 0, 0.5, 1.5 (CMRU); logits
    // (0.25, h_t): the BMRU votes 0, 0, 0, the CMRU 0, 1, 1, whatever the inputs (pre 0).
    const layout = paramLayout(TINY);
    const theta = new Float64Array(layout.size);
    const set = (name: string, v: number[]) => tensorView(layout, theta, name).set(v);
    set('blocks.0.cand.bias', [1]);
    set('blocks.0.cell.alpha', [1]);
    set('blocks.0.cell.beta1', [1]);
    set('blocks.0.post.weight', [1]);
    set('blocks.0.post.bias', [-1.5]);
    set('out.weight', [0, 1]);
    set('out.bias', [0.25, 0]);
    const counter = rawNetworkView(layout, theta);
    const three = { ...SET, frames: 3, data: new Float64Array(21), target: Uint8Array.from([1, 1, 1, 1, 1, 1, 1]) };
    const base = { ...FROZEN, init: counter, epochs: 2, batchSize: 4 };
    const cmru = await trainNetwork(three, { ...base, arch: 'cmru' });
    expect(cmru.network.arch).toBe('cmru');
    expect([cmru.scores.train!.accuracy, cmru.scores.train!.frameAccuracy]).toEqual([1, 2 / 3]);
    expect(cmru.history.map((h) => h.train.accuracy)).toEqual([1, 1]);
    expect(cmru.checkpoints.map((c) => c.acc)).toEqual([1, 1]);
    expect(cmru.silence.decision).toBe(1);
    const bmru = await trainNetwork(three, base);
    expect([bmru.scores.train!.accuracy, bmru.scores.train!.frameAccuracy]).toEqual([0, 0]);
    expect(bmru.silence.decision).toBe(0);
    // Annealed to the BMRU (forward eps 1, 0.5, 0, 0 over 4 steps), the kept model is scored as the BMRU it is written as.
    const annealed = await trainNetwork(three, { ...base, epochs: 4, arch: 'cmru', anneal: true, annealFraction: 0.5 });
    expect(annealed.network.arch).toBe('fq-bmru');
    expect([annealed.scores.train!.accuracy, annealed.scores.train!.frameAccuracy]).toEqual([0, 0]);
    expect(annealed.silence.decision).toBe(0);
  });

  it('the transition penalty comes in at transitionAfter of the steps, worked out on the holding OFF cell', async () => {
    // The candidate's path bound is 0 (cand 0), the cell holds OFF from frame 0 to 1: excess 0 - (beta_hi - m) = 1 at
    // margin m = 2, (1 / 2)^2 x weight 1 = 0.25 a clip, over 2 frames: 0.125 on every clip. Two steps (one an
    // epoch), from step 0.5 x 2 = 1: the second epoch only.
    const opts = { ...FROZEN, epochs: 2, batchSize: 4, transitionMargin: 2, transitionWeight: 1, transitionAfter: 0.5 };
    const r = await trainNetwork(SET, opts);
    expect(r.history[0].penalty).toBeCloseTo(PENALTY, 12);
    expect(r.history[1].penalty).toBeCloseTo(PENALTY + 0.125, 12);
  });

  it('realiseWhenAlive: the first realised step is the later of the epoch after it beats the majority, and realiseAfter', async () => {
    // Train on clips 0 (class 0) and 2 (class 1): the majority share is 1/2, the frozen network decides both right
    // (accuracy 1) from epoch 1. A process that realises every weight as 0 gives logits (0, 0), loss ln 2 a frame.
    // 4 steps (one an epoch), realiseAfter 0.5: alive after step 1, so from max(1, 2) = step 2, epoch 3.
    const zero: ParamRealisation = {
      process: 'zero',
      weight: () => 0,
      weightSigma: () => 0,
      unitySigma: 0,
      thresholdSigma: 0,
    };
    const two = {
      ...SET,
      splits: { train: Int32Array.from([0, 2]), validation: new Int32Array(0), test: new Int32Array(0) },
    };
    const r = await trainNetwork(two, {
      ...FROZEN,
      epochs: 4,
      batchSize: 2,
      realisations: [zero],
      realiseAfter: 0.5,
      realiseWhenAlive: true,
    });
    const plain = (ce(1, 0) + ce(-0.5, 1)) / 2;
    const losses = r.history.map((h) => h.trainLoss);
    expect(losses[0]).toBeCloseTo(plain, 12);
    expect(losses[1]).toBeCloseTo(plain, 12);
    expect(losses[2]).toBeCloseTo(Math.LN2, 12);
    expect(losses[3]).toBeCloseTo(Math.LN2, 12);
  });

  it('a CMRU annealed in its forward pass keeps only the epochs at forward eps 0 as checkpoints', async () => {
    // 4 steps (one an epoch), fraction 0.5: forward eps 1 - step / 2 = 1, 0.5, 0, 0. The cell's alpha is 0, so every
    // epoch scores the same and the earliest checkpoint is kept: epoch 3.
    const r = await trainNetwork(SET, {
      ...FROZEN,
      epochs: 4,
      batchSize: 4,
      arch: 'cmru',
      anneal: true,
      annealFraction: 0.5,
    });
    expect(r.history.map((h) => h.forwardEps)).toEqual([1, 0.5, 0, 0]);
    expect(r.checkpoints.map((c) => c.epoch)).toEqual([3, 4]);
    expect(r.bestEpoch).toBe(3);
  });

  it('keeps each checkpoint as the parameters of its epoch, and returns the best one (a run that learns, lr 0.03)', async () => {
    const r = await trainNetwork(SET, { ...FROZEN, init: undefined, lr: 0.03, epochs: 3, batchSize: 2 });
    const thetas = r.checkpoints.map((c) => Array.from(c.theta));
    expect(thetas[0]).not.toEqual(thetas[2]); // the steps move the parameters between epochs
    expect(Array.from(r.theta)).toEqual(thetas[r.checkpoints.findIndex((c) => c.epoch === r.bestEpoch)]);
  });
});

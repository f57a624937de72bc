/**
 * The pure helpers of src/train/trainer.ts on inputs small enough to work out by hand: the schedules, the option
 * checks, the written arch, the checkpoint choice, the shuffle, and the scores of a split on networks whose logits are
 * written down (no training run).
 */
import { describe, expect, it } from 'vitest';
import type { Network } from '../../src/model/types.js';
import type { TrainingData } from '../../src/train/data.js';
import { paramLayout, rawNetworkView, tensorView } from '../../src/train/params.js';
import {
  DEFAULT_TRAIN,
  checkArchOptions,
  cumulativeAt,
  forwardEpsAt,
  scoreSplit,
  selectCheckpoint,
  shuffle,
  silentDecision,
  trainedArch,
} from '../../src/train/trainer.js';
import type { Rng } from '../../src/util/random.js';

/** One input, one unit, one block, two classes: small enough that every logit is written down by hand. */
const TINY = { inputs: 1, width: 1, blocks: 1, classes: 2, skip: true };

/** A network of shape TINY with the named tensors set and every other parameter 0. */
function tinyNet(values: Record<string, number[]>) {
  const layout = paramLayout(TINY);
  const theta = new Float64Array(layout.size);
  for (const [name, v] of Object.entries(values)) tensorView(layout, theta, name).set(v);
  return rawNetworkView(layout, theta);
}

/**
 * logits (x, -x) for input x: pre is the identity, the cell's alpha is 0 (so the block adds max(0 + 0, 0) = 0 and the
 * skip passes x through), the classifier is (1, -1).
 */
const SIGNED = () => tinyNet({ 'pre.weight': [1], 'out.weight': [1, -1] });

/**
 * A cell that counts under the CMRU and holds ON under the BMRU: no input reaches it (pre 0, cand 0), so its candidate
 * is 0 = beta_lo = beta_hi and both steps are 1. BMRU: s_t = 1; CMRU (eps 1): s_t = s_{t-1} + hi + lo - 1 = t + 1
 * from s0 = 0. Post weight 1, bias -1.5: h_t = max(s_t - 1.5, 0), i.e. 0 every frame (BMRU), 0, 0.5, 1.5 (CMRU).
 * Classifier: logit 0 is 0.25, logit 1 is h_t: the BMRU votes 0, 0, 0; the CMRU 0, 1, 1.
 */
const COUNTER = () =>
  tinyNet({
    'blocks.0.cell.alpha': [1],
    'blocks.0.post.weight': [1],
    'blocks.0.post.bias': [-1.5],
    'out.weight': [0, 1],
    'out.bias': [0.25, 0],
  });

/** Training data of one feature per frame: `clips` rows of inputs, one target each, every clip in the train split. */
function data(clips: number[][], target: number[]): TrainingData {
  return {
    frames: clips[0].length,
    features: 1,
    data: Float64Array.from(clips.flat()),
    target: Uint8Array.from(target),
    classes: ['other', 'yes'],
    splits: { train: Int32Array.from(clips.keys()), validation: new Int32Array(0), test: new Int32Array(0) },
    files: clips.map((_, i) => `clip${i}.wav`),
    keyword: 'yes',
  };
}

/** Per-frame cross-entropy of two logits against `target`, written out: ln(1 + e^(other - own)). */
const ce2 = (l0: number, l1: number, target: number) => Math.log(1 + Math.exp(target === 0 ? l1 - l0 : l0 - l1));

describe('schedules', () => {
  it('cumulativeAt: an annealing fraction of 0 is no annealing phase (eps 0 from the first step, not NaN)', () => {
    expect(cumulativeAt(0, 100, { anneal: true, annealFraction: 0 })).toBe(0);
    expect(cumulativeAt(7, 100, { anneal: true, annealFraction: 0 })).toBe(0);
    // 1 - 30 / 40 at step 30 of 100 with a fraction 0.4.
    expect(cumulativeAt(30, 100, { anneal: true, annealFraction: 0.4 })).toBe(0.25);
  });

  it("forwardEpsAt: 'cmru' starts at 1 whatever eps says, and anneals from it", () => {
    const cmru = { arch: 'cmru' as const, eps: 0.25, anneal: false, annealFraction: 0.5 };
    expect(forwardEpsAt(0, 100, cmru)).toBe(1);
    expect(forwardEpsAt(80, 100, cmru)).toBe(1);
    // Annealed over 50 of 100 steps: 1 - 10 / 50 at step 10.
    expect(forwardEpsAt(10, 100, { ...cmru, anneal: true })).toBe(0.8);
    expect(forwardEpsAt(0, 100, { ...cmru, arch: 'cmru-relaxed' })).toBe(0.25);
  });
});

describe('checkArchOptions', () => {
  const o = (x: Partial<typeof DEFAULT_TRAIN>) => ({ ...DEFAULT_TRAIN, ...x });

  it('refuses a relaxed eps of 0 or 1 (the open interval), and ignores eps for the other archs', () => {
    expect(() => checkArchOptions(o({ arch: 'cmru-relaxed', eps: 0 }), 10)).toThrow(
      "eps of arch 'cmru-relaxed' must be in (0, 1), got 0",
    );
    expect(() => checkArchOptions(o({ arch: 'cmru-relaxed', eps: 1 }), 10)).toThrow(/got 1$/);
    expect(() => checkArchOptions(o({ arch: 'cmru-relaxed', eps: 0.999 }), 10)).not.toThrow();
    expect(() => checkArchOptions(o({ arch: 'cmru', eps: 1 }), 10)).not.toThrow();
    expect(() => checkArchOptions(o({ arch: 'fq-bmru', eps: 0 }), 10)).not.toThrow();
  });

  it('names the arch, the fraction and the step count when the anneal ends above eps = 0', () => {
    // Fraction 1 of 10 steps: at the last step (9) eps is 1 - 9 / 10 = 0.1.
    expect(() => checkArchOptions(o({ arch: 'cmru', anneal: true, annealFraction: 1 }), 10)).toThrow(
      "annealing arch 'cmru' must reach eps = 0 before the last step (the model is written as fq-bmru): " +
        'anneal fraction 1 of 10 steps does not',
    );
    // Fraction 0.9 of 10 steps: eps 1 - 9 / 9 = 0 at the last step.
    expect(() => checkArchOptions(o({ arch: 'cmru', anneal: true, annealFraction: 0.9 }), 10)).not.toThrow();
    // Without annealing the cumulative arch is written as itself: nothing to reach.
    expect(() => checkArchOptions(o({ arch: 'cmru', anneal: false, annealFraction: 1 }), 10)).not.toThrow();
  });
});

describe('trainedArch', () => {
  it('is fq-bmru for the BMRU or any annealed run, else the trained arch (with eps for the relaxed one)', () => {
    expect(trainedArch({ arch: 'fq-bmru', eps: 0.5, anneal: false })).toEqual({ arch: 'fq-bmru' });
    expect(trainedArch({ arch: 'cmru', eps: 0.5, anneal: true })).toEqual({ arch: 'fq-bmru' });
    expect(trainedArch({ arch: 'cmru-relaxed', eps: 0.3, anneal: true })).toEqual({ arch: 'fq-bmru' });
    expect(trainedArch({ arch: 'cmru', eps: 0.5, anneal: false })).toEqual({ arch: 'cmru' });
    expect(trainedArch({ arch: 'cmru-relaxed', eps: 0.3, anneal: false })).toEqual({ arch: 'cmru-relaxed', eps: 0.3 });
  });
});

describe('selectCheckpoint, the slack', () => {
  const layout = paramLayout(TINY);
  // Each checkpoint's pre weight is its epoch, so a hardware score can tell them apart.
  const ck = (epoch: number, acc: number, loss: number) => {
    const theta = new Float64Array(layout.size);
    tensorView(layout, theta, 'pre.weight')[0] = epoch;
    return { epoch, acc, loss, theta };
  };
  const epochOf = (n: Network) => n.pre.weight.data[0];

  it('is inclusive though best - slack rounds above the accuracy at the edge (0.8 - 0.1 > 0.7 in float64)', () => {
    expect(0.8 - 0.1).toBeGreaterThan(0.7); // the rounding the 1e-9 is there for
    const checkpoints = [ck(1, 0.8, 0.1), ck(2, 0.7, 0.2), ck(3, 0.6, 0.3)];
    const r = selectCheckpoint(checkpoints, layout, { selectSlack: 0.1, hardwareScore: (n) => 4 * epochOf(n) + 1 });
    // Epochs 1 and 2 are in the pool (epoch 3 is 0.2 below the best); the second scores best (9 against 5).
    expect(r.hardware).toEqual([
      { epoch: 1, accuracy: 0.8, score: 5 },
      { epoch: 2, accuracy: 0.7, score: 9 },
    ]);
    expect(r.best.epoch).toBe(2);
  });

  it('breaks a tie in score by accuracy, then by loss', () => {
    const checkpoints = [ck(1, 0.5, 0.1), ck(2, 0.75, 0.4), ck(3, 0.75, 0.3), ck(4, 0.5, 0.05)];
    const r = selectCheckpoint(checkpoints, layout, { selectSlack: 0.5, hardwareScore: () => 1 });
    expect(r.best.epoch).toBe(3);
    expect(r.excluded).toBe(0);
    expect(r.changed).toBe(false);
  });
});

describe('shuffle', () => {
  /** A generator that returns `draws` in turn and fails past them. */
  const scripted = (draws: number[]): Rng => {
    let i = 0;
    return {
      next: () => {
        if (i >= draws.length) throw new Error(`draw ${i + 1} of ${draws.length}`);
        return draws[i++];
      },
      normal: () => {
        throw new Error('normal');
      },
      uniform: () => {
        throw new Error('uniform');
      },
    };
  };

  it('is Fisher-Yates from the end: j = floor(draw x (i + 1)) for i = n - 1 down to 1, n - 1 draws', () => {
    // i = 3: j = floor(0 x 4) = 0, swap -> 3 1 2 0; i = 2: j = floor(0.5 x 3) = 1 -> 3 2 1 0; i = 1: j = floor(0.9 x 2) = 1.
    const a = Int32Array.from([0, 1, 2, 3]);
    shuffle(a, scripted([0, 0.5, 0.9]));
    expect(Array.from(a)).toEqual([3, 2, 1, 0]);
    // i = 2: j = floor(0.99 x 3) = 2 (stays); i = 1: j = floor(0.3 x 2) = 0 -> 1 0 2.
    const b = Int32Array.from([0, 1, 2]);
    shuffle(b, scripted([0.99, 0.3]));
    expect(Array.from(b)).toEqual([1, 0, 2]);
    const one = Int32Array.from([7]);
    shuffle(one, scripted([]));
    expect(Array.from(one)).toEqual([7]);
  });
});

describe('scoreSplit', () => {
  // Two frames per clip, logits (x, -x): clip 0 votes 0, 0 (target 0: right); clip 1 votes 0, 1 (a tie, so 0; target
  // 1: wrong); clip 2 votes 1, 1 (right); clip 3 has logits (0, 0), votes 0, 0 (argmax's tie; target 1: wrong).
  const set = data(
    [
      [1, 1],
      [1, -1],
      [-0.5, -0.5],
      [0, 0],
    ],
    [0, 1, 1, 1],
  );

  it('scores clip decisions, frames, the mean per-frame loss and the confusion matrix as worked by hand', () => {
    const s = scoreSplit(SIGNED(), set, set.splits.train);
    expect(s.clips).toBe(4);
    expect(s.accuracy).toBe(0.5);
    expect(s.frameAccuracy).toBe(5 / 8); // 2 + 1 + 2 + 0 frames of 8
    const losses = [ce2(1, -1, 0), (ce2(1, -1, 1) + ce2(-1, 1, 1)) / 2, ce2(-0.5, 0.5, 1), Math.LN2];
    expect(s.loss).toBeCloseTo(losses.reduce((a, b) => a + b) / 4, 12);
    expect(s.confusion).toEqual([
      [1, 0],
      [2, 1],
    ]);
    expect(s.perClass).toEqual([1, 1 / 3]);
  });

  it('scores only the clips named, in any order, and an empty list as zeros, not NaN', () => {
    const s = scoreSplit(SIGNED(), set, [2, 0]);
    expect([s.clips, s.accuracy, s.frameAccuracy]).toEqual([2, 1, 1]);
    expect(s.loss).toBeCloseTo((ce2(1, -1, 0) + ce2(-0.5, 0.5, 1)) / 2, 12);
    expect(s.confusion).toEqual([
      [1, 0],
      [0, 1],
    ]);
    const none = scoreSplit(SIGNED(), set, []);
    expect(none).toEqual({
      clips: 0,
      accuracy: 0,
      frameAccuracy: 0,
      loss: 0,
      confusion: [
        [0, 0],
        [0, 0],
      ],
      perClass: [null, null],
    });
  });

  it('updates the cells with the forwardEps it is given (the CMRU counter decides 1, the BMRU 0)', () => {
    const three = data([[5, -5, 9]], [1]); // the inputs do not reach the counter cell
    const bmru = scoreSplit(COUNTER(), three, [0]);
    expect([bmru.accuracy, bmru.frameAccuracy]).toEqual([0, 0]);
    expect(bmru.loss).toBeCloseTo(ce2(0.25, 0, 1), 12);
    const cmru = scoreSplit(COUNTER(), three, [0], undefined, 1);
    expect([cmru.accuracy, cmru.frameAccuracy]).toEqual([1, 2 / 3]);
    expect(cmru.loss).toBeCloseTo((ce2(0.25, 0, 1) + ce2(0.25, 0.5, 1) + ce2(0.25, 1.5, 1)) / 3, 12);
  });
});

describe('silentDecision, forwardEps', () => {
  it('decides with the cells updated as the arch updates them: the counter votes 0, 1, 1 under the CMRU', () => {
    expect(silentDecision(COUNTER(), 3)).toBe(0);
    expect(silentDecision(COUNTER(), 3, 1)).toBe(1);
    // Two frames: 0, 1 is a tie, which goes to class 0.
    expect(silentDecision(COUNTER(), 2, 1)).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import type { FeatureSet } from '../../src/audio/features.js';
import { REFERENCE_MFCC } from '../../src/audio/mfcc.js';
import { SPLIT_CODES, trainingData } from '../../src/train/data.js';

/**
 * Six clips of 2 frames x 3 features, in memory (no file): splits 0 1 0 2 0 1, targets 0 1 1 0 0 1, so the training
 * split is clips 0, 2, 4 (classes 0, 1, 0), validation 1 and 5, test 3.
 */
function set(over: Partial<FeatureSet> = {}): FeatureSet {
  return {
    frames: 2,
    features: 3,
    data: Float64Array.from({ length: 6 * 6 }, (_, i) => i / 10),
    files: ['a', 'b', 'c', 'd', 'e', 'f'].map((n) => `w/${n}.wav`),
    labels: ['no', 'yes'],
    label: Int32Array.from([0, 1, 1, 0, 0, 1]),
    target: Uint8Array.from([0, 1, 1, 0, 0, 1]),
    classes: ['other', 'yes'],
    split: Uint8Array.from([0, 1, 0, 2, 0, 1]),
    keyword: 'yes',
    mfcc: REFERENCE_MFCC,
    source: 'made by hand',
    ...over,
  };
}

/** The InputError `trainingData(s, 'f.safetensors')` throws, as its message. */
const refusal = (s: FeatureSet) => {
  try {
    trainingData(s, 'f.safetensors');
  } catch (e) {
    return (e as Error).message;
  }
  return 'accepted';
};

describe('trainingData', () => {
  it('indexes the splits in file order and passes the set through, naming the file it came from', () => {
    const s = set();
    const d = trainingData(s, 'f.safetensors');
    expect(SPLIT_CODES).toEqual({ train: 0, validation: 1, test: 2 });
    expect(Array.from(d.splits.train)).toEqual([0, 2, 4]);
    expect(Array.from(d.splits.validation)).toEqual([1, 5]);
    expect(Array.from(d.splits.test)).toEqual([3]);
    expect(d.splits.train).toBeInstanceOf(Int32Array);
    expect([d.frames, d.features, d.keyword, d.source]).toEqual([2, 3, 'yes', 'f.safetensors']);
    expect(d.data).toBe(s.data);
    expect(d.target).toBe(s.target);
    expect(d.classes).toEqual(['other', 'yes']);
    expect(d.files).toEqual(s.files);
    expect(trainingData(s).source).toBeUndefined();
  });

  it('takes 1 frame of 1 feature, and empty validation and test splits', () => {
    const d = trainingData(
      set({ frames: 1, features: 1, data: Float64Array.from([1, 2, 3, 4, 5, 6]), split: new Uint8Array(6) }),
    );
    expect(Array.from(d.splits.train)).toEqual([0, 1, 2, 3, 4, 5]);
    expect([d.splits.validation.length, d.splits.test.length]).toEqual([0, 0]);
  });

  it('refuses a set without clips, or without frames or features', () => {
    expect(refusal(set({ files: [] }))).toBe("f.safetensors 'mfcc': holds no clips");
    expect(refusal(set({ frames: 0 }))).toBe(
      "f.safetensors 'mfcc': expected at least 1 frame and 1 feature per clip, got [0, 3]",
    );
    expect(refusal(set({ features: 0 }))).toBe(
      "f.safetensors 'mfcc': expected at least 1 frame and 1 feature per clip, got [2, 0]",
    );
  });

  it('names the clip, frame and feature of a value that is not finite', () => {
    // Clip 1, frame 1, feature 2: 1 x 6 + 1 x 3 + 2 = 11.
    const data = set().data.slice();
    data[11] = Infinity;
    expect(refusal(set({ data }))).toBe(
      "f.safetensors 'mfcc' at index [1, 1, 2]: expected a finite number, got Infinity",
    );
    // Clip 5, frame 0, feature 1: 5 x 6 + 1 = 31.
    const last = set().data.slice();
    last[31] = -Infinity;
    expect(refusal(set({ data: last }))).toBe(
      "f.safetensors 'mfcc' at index [5, 0, 1]: expected a finite number, got -Infinity",
    );
  });

  it('finds a bad value, target or split in the first clip too (index 0)', () => {
    const data = set().data.slice();
    data[0] = Number.NaN;
    expect(refusal(set({ data }))).toBe("f.safetensors 'mfcc' at index [0, 0, 0]: expected a finite number, got NaN");
    expect(refusal(set({ target: Uint8Array.from([2, 1, 1, 0, 0, 1]) }))).toBe(
      "f.safetensors 'target' at index 0: expected 0 (other) or 1 (keyword), got 2",
    );
    expect(refusal(set({ split: Uint8Array.from([5, 1, 0, 2, 0, 1]) }))).toBe(
      "f.safetensors 'split' at index 0: expected 0 (train), 1 (validation) or 2 (test), got 5",
    );
  });

  it('needs 2 classes at least, and targets below the class count, worded for 2 classes or N', () => {
    expect(refusal(set({ classes: ['yes'] }))).toBe(
      "f.safetensors '__metadata__.classes': expected at least 2 classes, got 1",
    );
    expect(refusal(set({ target: Uint8Array.from([0, 1, 1, 0, 2, 1]) }))).toBe(
      "f.safetensors 'target' at index 4: expected 0 (other) or 1 (keyword), got 2",
    );
    const classes = ['_silence_', '_unknown_', 'yes'];
    expect(refusal(set({ classes, target: Uint8Array.from([0, 1, 2, 0, 0, 1]) }))).toBe('accepted');
    expect(refusal(set({ classes, target: Uint8Array.from([0, 1, 3, 0, 0, 1]) }))).toBe(
      "f.safetensors 'target' at index 2: expected a class index 0 to 2 (_silence_, _unknown_, yes), got 3",
    );
  });

  it('refuses a split code other than 0, 1, 2', () => {
    expect(refusal(set({ split: Uint8Array.from([0, 1, 0, 3, 0, 1]) }))).toBe(
      "f.safetensors 'split' at index 3: expected 0 (train), 1 (validation) or 2 (test), got 3",
    );
  });

  it('needs a training split holding 2 classes: the other splits do not count', () => {
    expect(refusal(set({ split: Uint8Array.from([1, 1, 2, 2, 1, 1]) }))).toBe(
      "f.safetensors 'split': no clip is in the training split (code 0)",
    );
    // Training clips 0, 2, 4 all class 0; validation and test hold class 1.
    expect(refusal(set({ target: Uint8Array.from([0, 1, 0, 1, 0, 1]) }))).toBe(
      "f.safetensors 'target': the training split holds only class 0; training needs keyword (1) and other (0) clips",
    );
    expect(
      refusal(set({ classes: ['_silence_', '_unknown_', 'yes'], target: Uint8Array.from([2, 0, 2, 1, 2, 1]) })),
    ).toBe(
      "f.safetensors 'target': the training split holds only class 2 (yes); training needs clips of at least 2 of the 3 classes",
    );
  });
});

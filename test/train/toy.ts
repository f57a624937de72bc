/** A small, linearly separable keyword set in memory (and as a features file) for fast training tests. */
import { writeFeatureFile, type FeatureSet } from '../../src/audio/features.js';
import { REFERENCE_MFCC } from '../../src/audio/mfcc.js';
import { trainingData, type TrainingData } from '../../src/train/data.js';
import { createRng } from '../../src/util/random.js';

/**
 * `clips` clips of `frames` x 13 features: feature 0 is +1 for the keyword and -1 otherwise (plus noise of
 * std 0.3), the rest is noise. Clips alternate class; of each pair of clips, every 5th pair is test, else every 4th validation.
 */
export function toyFeatureSet(clips = 40, frames = 20, seed = 7): FeatureSet {
  const features = 13;
  const rng = createRng(seed);
  const data = new Float64Array(clips * frames * features);
  const target = new Uint8Array(clips);
  const split = new Uint8Array(clips);
  for (let i = 0; i < clips; i++) {
    target[i] = i % 2;
    const pair = Math.floor(i / 2); // splits by pair keep both classes equally represented in each
    split[i] = pair % 5 === 4 ? 2 : pair % 4 === 3 ? 1 : 0;
    for (let t = 0; t < frames; t++) {
      for (let f = 0; f < features; f++)
        data[(i * frames + t) * features + f] = (f === 0 ? (target[i] ? 1 : -1) : 0) + 0.3 * rng.normal();
    }
  }
  return {
    frames,
    features,
    data,
    files: Array.from({ length: clips }, (_, i) => `${target[i] ? 'yes' : 'no'}/toy_nohash_${i}.wav`),
    labels: ['no', 'yes'],
    label: Int32Array.from(target),
    target,
    classes: ['other', 'yes'],
    split,
    keyword: 'yes',
    mfcc: REFERENCE_MFCC,
    source: 'toy',
  };
}

/**
 * An N-class toy set in the N-class task's order (silence, unknown, then `keywords`): class k (of C) is +1 on
 * feature k and -1 on the other first C features (plus noise of std 0.3), so every class is linearly separable from
 * every other. Clip i is class i mod C; clips are grouped by C, every 5th group is test, else every 4th validation.
 */
export function toyMultiFeatureSet(
  keywords: readonly string[] = ['yes', 'no', 'up'],
  groups = 20,
  frames = 20,
  seed = 7,
): FeatureSet {
  const features = 13;
  const classes = ['_silence_', '_unknown_', ...keywords];
  const C = classes.length;
  if (C > features) throw new RangeError(`at most ${features} classes in the toy set, got ${C}`);
  const clips = groups * C;
  const rng = createRng(seed);
  const data = new Float64Array(clips * frames * features);
  const target = new Uint8Array(clips);
  const split = new Uint8Array(clips);
  for (let i = 0; i < clips; i++) {
    target[i] = i % C;
    const group = Math.floor(i / C);
    split[i] = group % 5 === 4 ? 2 : group % 4 === 3 ? 1 : 0;
    for (let t = 0; t < frames; t++)
      for (let f = 0; f < features; f++)
        data[(i * frames + t) * features + f] = (f < C ? (f === target[i] ? 1 : -1) : 0) + 0.3 * rng.normal();
  }
  // The unknown class stands for one word, 'left', so labels and classes differ as in a real set.
  const labelOf = (k: number) => (k === 1 ? 'left' : classes[k]);
  const labels = [...new Set(classes.map((_, k) => labelOf(k)))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    frames,
    features,
    data,
    files: Array.from({ length: clips }, (_, i) => `${labelOf(target[i])}/toy_nohash_${i}.wav`),
    labels,
    label: Int32Array.from(target, (k) => labels.indexOf(labelOf(k))),
    target,
    classes,
    split,
    keyword: keywords[0],
    mfcc: REFERENCE_MFCC,
    source: 'toy',
  };
}

export function toyData(clips?: number, frames?: number, seed?: number): TrainingData {
  return trainingData(toyFeatureSet(clips, frames, seed), 'toy');
}

export function writeToyFeatureFile(file: string, set: FeatureSet = toyFeatureSet()): Promise<void> {
  return writeFeatureFile(file, set);
}

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
    split,
    keyword: 'yes',
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

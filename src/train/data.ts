/**
 * Training data from a features file (src/audio/features.ts: `mfcc` [N, frames, 13], `target` [N] index into the
 * file's classes (2-class: 1 = keyword), `split` [N] 0 train / 1 validation / 2 test): checked once, then split
 * into index lists.
 */
import { InputError } from '../errors.js';
import { readFeatureFile, type FeatureSet } from '../audio/features.js';

/** Split codes of the features file (SPLITS in src/audio/dataset.ts). */
export const SPLIT_CODES = { train: 0, validation: 1, test: 2 } as const;
export type SplitName = keyof typeof SPLIT_CODES;

/** Clips as the trainer reads them: clip i's frames start at data[i * frames * features]. */
export interface TrainingData {
  readonly frames: number;
  readonly features: number;
  readonly data: Float64Array;
  /** Class per clip: index into `classes` (2-class: 1 = keyword, 0 = other). */
  readonly target: Uint8Array;
  /** Class names in target order; the network has one output per class. */
  readonly classes: readonly string[];
  readonly splits: Record<SplitName, Int32Array>;
  /** Clip names (for reports), in file order. */
  readonly files: readonly string[];
  readonly keyword: string;
  /** The file it came from, for messages. */
  readonly source?: string;
}

/** Read and check a features file; an InputError names the file and the tensor (and index) at fault. */
export async function loadTrainingData(file: string): Promise<TrainingData> {
  return trainingData(await readFeatureFile(file), file);
}

/**
 * Check a feature set (finite features, targets indexing its classes, known split codes, a non-empty training split) and
 * index its splits. `file` is named in every error.
 */
export function trainingData(set: FeatureSet, file?: string): TrainingData {
  const n = set.files.length;
  if (n === 0) throw new InputError('holds no clips', { file, field: 'mfcc' });
  if (set.frames < 1 || set.features < 1)
    throw new InputError(`expected at least 1 frame and 1 feature per clip, got [${set.frames}, ${set.features}]`, {
      file,
      field: 'mfcc',
    });
  const bad = set.data.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    const per = set.frames * set.features;
    const idx = [Math.floor(bad / per), Math.floor((bad % per) / set.features), bad % set.features];
    throw new InputError(`expected a finite number, got ${set.data[bad]}`, { file, field: 'mfcc', index: idx });
  }
  const C = set.classes.length;
  if (C < 2) throw new InputError(`expected at least 2 classes, got ${C}`, { file, field: '__metadata__.classes' });
  const badTarget = set.target.findIndex((v) => !(v < C));
  if (badTarget >= 0)
    throw new InputError(
      C === 2
        ? `expected 0 (other) or 1 (keyword), got ${set.target[badTarget]}`
        : `expected a class index 0 to ${C - 1} (${set.classes.join(', ')}), got ${set.target[badTarget]}`,
      { file, field: 'target', index: badTarget },
    );
  const codes = Object.values(SPLIT_CODES) as number[];
  const badSplit = set.split.findIndex((v) => !codes.includes(v));
  if (badSplit >= 0)
    throw new InputError(`expected 0 (train), 1 (validation) or 2 (test), got ${set.split[badSplit]}`, {
      file,
      field: 'split',
      index: badSplit,
    });
  const indices = (code: number) => Int32Array.from(Array.from(set.split).flatMap((v, i) => (v === code ? [i] : [])));
  const splits = {
    train: indices(SPLIT_CODES.train),
    validation: indices(SPLIT_CODES.validation),
    test: indices(SPLIT_CODES.test),
  };
  if (splits.train.length === 0)
    throw new InputError('no clip is in the training split (code 0)', { file, field: 'split' });
  const seen = new Set(Array.from(splits.train, (i) => set.target[i]));
  if (seen.size < 2)
    throw new InputError(
      C === 2
        ? `the training split holds only class ${[...seen][0]}; training needs keyword (1) and other (0) clips`
        : `the training split holds only class ${[...seen][0]} (${set.classes[[...seen][0]]}); training needs clips of at least 2 of the ${C} classes`,
      { file, field: 'target' },
    );
  return {
    frames: set.frames,
    features: set.features,
    data: set.data,
    target: set.target,
    classes: set.classes,
    splits,
    files: set.files,
    keyword: set.keyword,
    source: file,
  };
}

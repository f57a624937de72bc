/**
 * A data set's MFCC features in one file, so training reads them in a second instead of decoding every WAV.
 *
 * The file is safetensors (readable with `safetensors.numpy.load_file` in Python, `readFeatureFile` here):
 *   `mfcc`    F32 [N, 101, 13]  normalised MFCCs of each clip (mfcc.ts: the reference pipeline)
 *   `label`   I64 [N]           index into the metadata's `labels`
 *   `target`  I64 [N]           index into the classes: 2-class (`keyword`): 1 for the keyword, 0 for other words and
 *                               silence; N-class (`keywords`): 0 silence, 1 unknown, 2.. the keywords in order
 *   `split`   I64 [N]           0 train, 1 validation, 2 test (Speech Commands' lists or hash rule)
 * The indices are int64, the dtype PyTorch's CrossEntropyLoss wants as targets; files written before held them as
 * F32 and still read.
 * `__metadata__` (strings): `format` = `bmru-kws-features/1`, `keyword`, `labels` (JSON list, code-point order),
 * `splits` (JSON list), N-class only: `classes` (JSON list of the class names, target order; `keyword` is then the
 * first keyword), `files` (JSON list of `<label>/<file>.wav`, with `#<second>` for a background-noise
 * slice), `mfcc` (JSON of the MfccOptions, plus the normalisation), `source` (the folder it was made from).
 * Clips are in `listClips` order.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { InputError } from '../errors.js';
import type { InputSequence } from '../model/network.js';
import { parseSafetensors, writeSafetensors } from '../model/safetensors.js';
import type { Tensor } from '../model/tensors.js';
import { writeFileAtomic } from '../util/output.js';
import {
  KEYWORD,
  SILENCE_LABEL,
  SPLITS,
  binaryClasses,
  classTarget,
  keywordTarget,
  multiClasses,
  listClips,
  readClip,
  splitAssigner,
  type BackgroundNoise,
  type ClipRef,
} from './dataset.js';
import { NORMALISE_EPS, REFERENCE_MFCC, clipFeatures, type MfccOptions } from './mfcc.js';
import type { ClipWarning } from './clip.js';

export const FEATURES_FORMAT = 'bmru-kws-features/1';
/** Where `bmru features <folder>` writes by default, inside the folder (the loader reads only .wav files). */
export const DEFAULT_FEATURES_FILE = 'features.safetensors';

/** The features of a data set: clip i's [frames x features] MFCCs start at data[i * frames * features]. */
export interface FeatureSet {
  readonly frames: number;
  readonly features: number;
  readonly data: Float64Array;
  readonly files: readonly string[];
  /** Label names, code-point order; `label[i]` indexes them. */
  readonly labels: readonly string[];
  readonly label: Int32Array;
  /** Index into `classes`. */
  readonly target: Uint8Array;
  /** Class names in target order: `binaryClasses(keyword)` or `multiClasses(keywords)` (dataset.ts). */
  readonly classes: readonly string[];
  /** Index into SPLITS. */
  readonly split: Uint8Array;
  /** The keyword of a 2-class set; the first keyword of an N-class set. */
  readonly keyword: string;
  readonly mfcc: MfccOptions;
  readonly source: string;
}

/** Clip i of a feature set as the model's input. */
export function clipInputs(set: FeatureSet, i: number): InputSequence {
  const size = set.frames * set.features;
  return { frames: set.frames, features: set.features, data: set.data.slice(i * size, (i + 1) * size) };
}

const refName = (ref: ClipRef) => (ref.slice === undefined ? ref.file : `${ref.file}#${ref.slice}`);

/** Targets fit the file's Uint8Array: silence, unknown and at most this many keywords. */
export const MAX_KEYWORDS = 254;

/**
 * The class names for `keywords` (N-class) or `keyword` (2-class), checked against the labels of the data set:
 * an InputError names the folder, the field and the labels present.
 */
export function chooseClasses(
  labels: readonly string[],
  opts: { keyword?: string; keywords?: readonly string[] },
  file: string,
): { classes: string[]; keywords?: string[]; keyword: string } {
  const present = `labels: ${labels.join(', ')}`;
  if (opts.keywords === undefined) {
    const keyword = opts.keyword ?? KEYWORD;
    if (!labels.includes(keyword))
      throw new InputError(`has no clips of the keyword '${keyword}' (${present})`, { file, field: 'keyword' });
    return { classes: binaryClasses(keyword), keyword };
  }
  const keywords = [...opts.keywords];
  const field = 'keywords';
  if (keywords.length === 0) throw new InputError(`expected at least one keyword (${present})`, { file, field });
  if (keywords.length > MAX_KEYWORDS)
    throw new InputError(`expected at most ${MAX_KEYWORDS} keywords, got ${keywords.length}`, { file, field });
  const repeated = keywords.find((k, i) => keywords.indexOf(k) !== i);
  if (repeated !== undefined) throw new InputError(`names '${repeated}' twice`, { file, field });
  if (keywords.includes(SILENCE_LABEL))
    throw new InputError(`cannot hold '${SILENCE_LABEL}': silence is class 0 of every N-class set`, { file, field });
  const missing = keywords.filter((k) => !labels.includes(k));
  if (missing.length > 0)
    throw new InputError(`has no clips of ${missing.map((k) => `'${k}'`).join(', ')} (${present})`, { file, field });
  return { classes: multiClasses(keywords), keywords, keyword: keywords[0] };
}

/**
 * Features of every clip under `root` (one clip in memory at a time), with labels, class targets and
 * splits: 2-class for `keyword` (default 'yes'), N-class (silence, unknown, the keywords) for `keywords`.
 * `onProgress(done, total)` is called after each clip.
 *
 * @example const set = await computeFeatures('data/kws-synth'); await writeFeatureFile('kws.safetensors', set);
 */
export async function computeFeatures(
  root: string,
  opts: {
    keyword?: string;
    /** N-class: these labels in order, after silence and unknown (dataset.ts `multiClasses`); overrides `keyword`. */
    keywords?: readonly string[];
    backgroundNoise?: BackgroundNoise;
    mfcc?: MfccOptions;
    onProgress?: (done: number, total: number) => void;
    /** Leave out clips that cannot be read (each one reported here) instead of stopping at the first. */
    onBadClip?: (file: string, error: Error) => void;
    /** Hears every warning of every clip (clip.ts `clipWarnings`). */
    onWarning?: (file: string, w: ClipWarning) => void;
  } = {},
): Promise<FeatureSet> {
  const mfccOpts = opts.mfcc ?? REFERENCE_MFCC;
  const all = await listClips(root, opts.backgroundNoise ?? 'skip');
  const splitOf = await splitAssigner(root);
  const labels = [...new Set(all.map((r) => r.label))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const { classes, keywords, keyword } = chooseClasses(labels, opts, root);
  const targetOf = (label: string) => (keywords ? classTarget(label, keywords) : keywordTarget(label, keyword));
  const refs: typeof all = [];
  let data: Float64Array | undefined;
  let frames = 0;
  let features = 0;
  for (const [i, ref] of all.entries()) {
    let samples: Float64Array;
    try {
      samples = await readClip(ref, (w) => opts.onWarning?.(refName(ref), w));
    } catch (e) {
      if (!opts.onBadClip || !(e instanceof InputError)) throw e;
      opts.onBadClip(refName(ref), e);
      opts.onProgress?.(i + 1, all.length);
      continue;
    }
    const f = clipFeatures(samples, mfccOpts);
    if (!data) {
      ({ frames, features } = f);
      data = new Float64Array(all.length * frames * features);
    }
    data.set(f.data, refs.length * frames * features);
    refs.push(ref);
    opts.onProgress?.(i + 1, all.length);
  }
  if (!data) throw new InputError('has no readable clips', { file: root });
  return {
    frames,
    features,
    // Skipped clips leave the end unused.
    data: refs.length === all.length ? data : data.slice(0, refs.length * frames * features),
    files: refs.map(refName),
    labels,
    label: Int32Array.from(refs, (r) => labels.indexOf(r.label)),
    target: Uint8Array.from(refs, (r) => targetOf(r.label)),
    classes,
    split: Uint8Array.from(refs, (r) => SPLITS.indexOf(splitOf(r))),
    keyword,
    mfcc: mfccOpts,
    source: root,
  };
}

/** The integer tensors of the file, stored as I64 (files written before held them as F32). */
const INDEX_TENSORS = { label: 'I64', target: 'I64', split: 'I64' } as const;

/** True for the 2-class task's class names (the file then has no `classes` metadata, as before N-class sets). */
const isBinary = (set: Pick<FeatureSet, 'classes' | 'keyword'>) =>
  set.classes.length === 2 && set.classes[0] === binaryClasses(set.keyword)[0] && set.classes[1] === set.keyword;

/** Write a feature set as safetensors (float32 MFCCs, int64 indices; the format is in the file comment). */
export async function writeFeatureFile(file: string, set: FeatureSet): Promise<void> {
  const n = set.files.length;
  const tensors = new Map<string, Tensor>([
    ['mfcc', { shape: [n, set.frames, set.features], data: set.data }],
    ['label', { shape: [n], data: Float64Array.from(set.label) }],
    ['target', { shape: [n], data: Float64Array.from(set.target) }],
    ['split', { shape: [n], data: Float64Array.from(set.split) }],
  ]);
  const metadata = {
    format: FEATURES_FORMAT,
    keyword: set.keyword,
    labels: JSON.stringify(set.labels),
    splits: JSON.stringify(SPLITS),
    ...(isBinary(set) ? {} : { classes: JSON.stringify(set.classes) }),
    files: JSON.stringify(set.files),
    mfcc: JSON.stringify({
      ...set.mfcc,
      normalise: `per clip and coefficient: (c - mean) / (population std + ${NORMALISE_EPS})`,
    }),
    source: set.source,
  };
  await writeFileAtomic(file, writeSafetensors(tensors, metadata, 'F32', INDEX_TENSORS));
}

/** Read a features file; an InputError names the file and the tensor or field that is wrong. */
export async function readFeatureFile(file: string): Promise<FeatureSet> {
  let buf: Uint8Array;
  try {
    buf = await readFile(file);
  } catch (e) {
    throw new InputError(`cannot read features file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, {
      file,
    });
  }
  const { tensors, metadata } = parseSafetensors(buf, file, ['F16', 'BF16', 'F32', 'F64', 'I64']);
  const meta = metadata as Record<string, string | undefined>;
  if (meta.format !== FEATURES_FORMAT) {
    throw new InputError(`expected metadata format '${FEATURES_FORMAT}', got ${JSON.stringify(meta.format)}`, {
      file,
      field: '__metadata__.format',
    });
  }
  // Each of these is JSON inside a metadata string; its shape is checked too: `files` as an object, say, left
  // `files.length` undefined and the error that followed said "expected shape [undefined, ...]".
  const json = <T>(key: string, schema: z.ZodType<T>, expected: string): T => {
    let raw: unknown;
    try {
      raw = JSON.parse(meta[key] ?? '');
    } catch {
      throw new InputError(`expected a JSON string holding ${expected}`, { file, field: `__metadata__.${key}` });
    }
    const parsed = schema.safeParse(raw);
    if (!parsed.success)
      throw new InputError(`expected ${expected}, got ${JSON.stringify(raw).slice(0, 60)}`, {
        file,
        field: `__metadata__.${key}`,
      });
    return parsed.data;
  };
  const files = json('files', z.array(z.string()), 'a list of file names');
  const n = files.length;
  const tensor = (name: string, rank: number): Tensor => {
    const t = tensors.get(name);
    if (!t) throw new InputError('missing tensor', { file, field: name });
    if (t.shape.length !== rank || t.shape[0] !== n) {
      throw new InputError(
        `expected ${rank === 1 ? `shape [${n}]` : `shape [${n}, frames, features]`} (one row per file), got [${t.shape.join(', ')}]`,
        { file, field: name },
      );
    }
    return t;
  };
  const mfcc = tensor('mfcc', 3);
  const labels = json('labels', z.array(z.string()).min(1), 'a non-empty list of label names');
  const keyword = meta.keyword ?? KEYWORD;
  const classes =
    meta.classes === undefined
      ? binaryClasses(keyword)
      : json(
          'classes',
          z
            .array(z.string())
            .min(2)
            .max(MAX_KEYWORDS + 2),
          'a list of 2 to 256 class names',
        );
  // Indices out of range would show up later as an "undefined" label or a clip in no split.
  // (The wording of target and split is trainingData's, which checks sets made in memory too.)
  const ints = (name: string, count: number, expected: string) => {
    const t = tensor(name, 1);
    const bad = t.data.findIndex((v) => !Number.isInteger(v) || v < 0 || v >= count);
    if (bad >= 0) throw new InputError(`expected ${expected}, got ${t.data[bad]}`, { file, field: name, index: bad });
    return Int32Array.from(t.data);
  };
  return {
    frames: mfcc.shape[1],
    features: mfcc.shape[2],
    data: mfcc.data,
    files,
    labels,
    label: ints('label', labels.length, `an index into the ${labels.length} labels (0 to ${labels.length - 1})`),
    target: Uint8Array.from(
      ints(
        'target',
        classes.length,
        meta.classes === undefined
          ? '0 (other) or 1 (keyword)'
          : `an index into the ${classes.length} classes (0 to ${classes.length - 1})`,
      ),
    ),
    classes,
    split: Uint8Array.from(ints('split', SPLITS.length, '0 (train), 1 (validation) or 2 (test)')),
    keyword,
    mfcc: json('mfcc', z.record(z.string(), z.unknown()), 'an object of MFCC settings') as unknown as MfccOptions,
    source: meta.source ?? '',
  };
}

/** Clips per label and split: rows of [label, train, validation, test]. */
export function splitCounts(set: Pick<FeatureSet, 'labels' | 'label' | 'split'>): [string, ...number[]][] {
  return set.labels.map((name, l) => {
    const counts = SPLITS.map(() => 0);
    set.label.forEach((li, i) => li === l && counts[set.split[i]]++);
    return [name, ...counts];
  });
}

/**
 * A keyword-spotting data set on disk, laid out as Google's Speech Commands is:
 *
 *   <root>/<label>/<speaker>_nohash_<n>.wav    one folder per word, 16 kHz mono clips of at most 1 s
 *   <root>/_background_noise_/*.wav             long noise recordings, not labelled utterances
 *   <root>/validation_list.txt, testing_list.txt  relative paths (`<label>/<file>.wav`) of those splits;
 *                                                 every other clip is training
 *
 * `bmru kws-data` writes its synthetic set in the same layout, so one loader serves both.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '../errors.js';
import { CLIP_SAMPLES, KWS_SAMPLE_RATE_HZ, fitLength, loadClip, resample, type ClipWarning } from './clip.js';
import { readWav } from './wav.js';

/** The keyword of the reference network (class 1; everything else is class 0). */
export const KEYWORD = 'yes';
/** Label of clips with no speech (TensorFlow's Speech Commands pipeline calls its silence class this). */
export const SILENCE_LABEL = '_silence_';
/** Speech Commands' folder of long noise recordings; skipped as a label, optionally cut into silence clips. */
export const BACKGROUND_NOISE_DIR = '_background_noise_';
/** Speech Commands' split lists (its README: files in neither list are training data). */
export const VALIDATION_LIST = 'validation_list.txt';
export const TESTING_LIST = 'testing_list.txt';

export type Split = 'train' | 'validation' | 'test';
/** Split codes in features files: index in this list. */
export const SPLITS: readonly Split[] = ['train', 'validation', 'test'];

/** One clip of a data set, before its samples are read. */
export interface ClipRef {
  readonly label: string;
  /** Path relative to the root with `/` separators, as the split lists write it: `yes/0a7c2a8d_nohash_0.wav`. */
  readonly file: string;
  /** Path to read (root joined with `file`). */
  readonly path: string;
  /** For a slice of a background-noise file: which second of it (the clip is samples [16000 s, 16000 (s + 1))). */
  readonly slice?: number;
}

/** A clip with its samples: 16000 at 16 kHz. */
export interface Clip extends ClipRef {
  readonly samples: Float64Array;
}

/** Binary target of the reference network: 1 for the keyword, 0 for other words and silence. */
export const keywordTarget = (label: string, keyword: string = KEYWORD): 0 | 1 => (label === keyword ? 1 : 0);

/** Class of every word that is not a keyword in an N-class set (TensorFlow's speech_commands calls it this). */
export const UNKNOWN_LABEL = '_unknown_';

/** Class 0 of the 2-class task: every label that is not the keyword (silence included). */
export const OTHER_LABEL = 'other';

/** Class names of the 2-class task: 0 = every other label (silence included), 1 = the keyword. */
export const binaryClasses = (keyword: string): string[] => [OTHER_LABEL, keyword];

/** True for a class that triggers something: not `other`, `_silence_` or `_unknown_`. */
export const isKeywordClass = (name: string): boolean =>
  name !== OTHER_LABEL && name !== SILENCE_LABEL && name !== UNKNOWN_LABEL;

/**
 * Class names of the N-class task: silence, unknown, then the keywords in the order given. This is the order of
 * TensorFlow's speech_commands `prepare_words_list` (the 12-class Speech Commands task: [_silence_, _unknown_,
 * yes, no, ...]), so indices match models and papers trained that way; silence first also keeps class 0, which
 * wins ties of the majority vote (DESIGN §1), on the class that triggers nothing.
 */
export const multiClasses = (keywords: readonly string[]): string[] => [SILENCE_LABEL, UNKNOWN_LABEL, ...keywords];

/** N-class target: the keyword's index in `multiClasses(keywords)`, 0 for silence, 1 for any other label. */
export function classTarget(label: string, keywords: readonly string[]): number {
  if (label === SILENCE_LABEL) return 0;
  const k = keywords.indexOf(label);
  return k < 0 ? 1 : k + 2;
}

/** UTF-16 code-unit order (JavaScript string comparison), the same on every machine and locale (unlike localeCompare). */
const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

async function entries(dir: string) {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (e) {
    throw new InputError(`cannot read data set folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, {
      file: dir,
    });
  }
}

const isWav = (name: string) => name.toLowerCase().endsWith('.wav') && !name.startsWith('.');

/** What to do with `_background_noise_`: leave it out (default) or cut each file into 1 s silence clips. */
export type BackgroundNoise = 'skip' | 'slice';

/**
 * Every `<root>/<label>/*.wav`, sorted by label then file name (UTF-16 code-unit order, so the order, and what
 * a seed does with it, is the same everywhere). Folders whose name starts with `.` are skipped, and so is
 * `_background_noise_` unless `backgroundNoise` is `slice`: then each of its files gives one `_silence_`
 * clip per whole second (listed in file order, `slice` set). An InputError names the root when it cannot
 * be read or holds no clip.
 *
 * @example const refs = await listClips('speech_commands_v0.02'); // [{ label: 'backward', file: 'backward/0165e0e8_nohash_0.wav', ... }, ...]
 */
export async function listClips(root: string, backgroundNoise: BackgroundNoise = 'skip'): Promise<ClipRef[]> {
  const dirs = (await entries(root))
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort(byCodeUnit);
  const refs: ClipRef[] = [];
  for (const label of dirs) {
    const names = (await entries(path.join(root, label)))
      .filter((e) => e.isFile() && isWav(e.name))
      .map((e) => e.name)
      .sort(byCodeUnit);
    if (label !== BACKGROUND_NOISE_DIR) {
      for (const name of names) refs.push({ label, file: `${label}/${name}`, path: path.join(root, label, name) });
    } else if (backgroundNoise === 'slice') {
      for (const name of names) {
        const p = path.join(root, label, name);
        const wav = await readWav(p);
        const seconds = Math.floor((wav.samples.length * KWS_SAMPLE_RATE_HZ) / wav.sampleRateHz / CLIP_SAMPLES);
        for (let s = 0; s < seconds; s++)
          refs.push({ label: SILENCE_LABEL, file: `${label}/${name}`, path: p, slice: s });
      }
    }
  }
  if (refs.length === 0)
    throw new InputError('no clips found: expected <label>/<name>.wav files below this folder', { file: root });
  return refs;
}

/** A background-noise file at 16 kHz, kept while its slices are read one after another. */
let noiseCache: { path: string; samples: Float64Array } | undefined;

/** The samples of one clip: `loadClip` for a file, or one second of a background-noise file for a slice. */
export async function readClip(ref: ClipRef, onWarning?: (w: ClipWarning) => void): Promise<Float64Array> {
  if (ref.slice === undefined) return loadClip(ref.path, onWarning);
  if (noiseCache?.path !== ref.path) {
    const wav = await readWav(ref.path);
    noiseCache = {
      path: ref.path,
      samples:
        wav.sampleRateHz === KWS_SAMPLE_RATE_HZ
          ? wav.samples
          : resample(wav.samples, wav.sampleRateHz, KWS_SAMPLE_RATE_HZ),
    };
  }
  return fitLength(noiseCache.samples.slice(ref.slice * CLIP_SAMPLES, (ref.slice + 1) * CLIP_SAMPLES));
}

/**
 * Every clip of a data set with its samples (16000 at 16 kHz each). Holds the whole set in memory (125 kB
 * per clip): fine for the synthetic set, about 13 GB for all of Speech Commands, whose features
 * `computeFeatures` works out one clip at a time instead.
 */
export async function loadDataset(root: string, backgroundNoise: BackgroundNoise = 'skip'): Promise<Clip[]> {
  const refs = await listClips(root, backgroundNoise);
  const clips: Clip[] = [];
  for (const ref of refs) clips.push({ ...ref, samples: await readClip(ref) });
  return clips;
}

/** Speech Commands' MAX_NUM_WAVS_PER_CLASS (2^27 - 1): the hash is taken modulo this + 1. */
const MAX_NUM_WAVS_PER_CLASS = 2 ** 27 - 1;

/**
 * The split Speech Commands assigns a file by name alone (`which_set` of TensorFlow's speech_commands
 * input_data.py, with its defaults of 10 % validation and 10 % testing): the speaker part of the name (before
 * `_nohash_`) is hashed with SHA-1, so all of a speaker's clips land in one split.
 */
export function whichSet(fileName: string, validationPercent = 10, testPercent = 10): Split {
  const speaker = path.posix.basename(fileName).replace(/_nohash_.*$/, '');
  const sha1 = createHash('sha1').update(speaker).digest('hex');
  // int(sha1, 16) % 2^27 only depends on the low 27 bits, i.e. on the last 7 hex digits.
  const percent = (Number.parseInt(sha1.slice(-7), 16) % (MAX_NUM_WAVS_PER_CLASS + 1)) * (100 / MAX_NUM_WAVS_PER_CLASS);
  return percent < validationPercent ? 'validation' : percent < validationPercent + testPercent ? 'test' : 'train';
}

async function readList(file: string): Promise<string[] | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new InputError(`cannot read split list (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, {
      file,
    });
  }
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}

/**
 * A function giving each clip its split: from `validation_list.txt` / `testing_list.txt` in the root when
 * either exists (the lists decide; a clip in neither is training), else by `whichSet` on its file name.
 * Background-noise slices are training, as in the Speech Commands pipelines.
 */
export async function splitAssigner(root: string): Promise<(ref: ClipRef) => Split> {
  const validation = await readList(path.join(root, VALIDATION_LIST));
  const testing = await readList(path.join(root, TESTING_LIST));
  if (!validation && !testing) return (ref) => (ref.slice !== undefined ? 'train' : whichSet(ref.file));
  const lists = new Map<string, Split>();
  for (const f of validation ?? []) lists.set(f, 'validation');
  for (const f of testing ?? []) lists.set(f, 'test');
  return (ref) => (ref.slice !== undefined ? 'train' : (lists.get(ref.file) ?? 'train'));
}

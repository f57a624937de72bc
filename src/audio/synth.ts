/**
 * A synthetic keyword set, for machines without Speech Commands: words spoken by espeak-ng (several voices,
 * speeds and pitches), placed and mixed with noise by sox, written in the Speech Commands layout
 * (dataset.ts), so the real-WAV loader reads it.
 *
 * Reproducible: a plan (every clip's voice, speed, pitch, level, time shift and noise) is a pure function of
 * the settings and seed; espeak-ng is deterministic and sox runs with `-R` (its fixed dither seed); the same
 * settings and tool versions give the same bytes. Cached: `manifest.json` records a hash of the settings,
 * generator version and tool versions; a run with the same hash only makes the clips that are missing.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BmruError, InputError } from '../errors.js';
import { runMany } from '../util/pool.js';
import { createRng, type Rng } from '../util/random.js';
import { CLIP_SAMPLES, KWS_SAMPLE_RATE_HZ } from './clip.js';
import {
  BACKGROUND_NOISE_DIR,
  KEYWORD,
  SILENCE_LABEL,
  SPLITS,
  TESTING_LIST,
  VALIDATION_LIST,
  type Split,
} from './dataset.js';
import { DEFAULT_FEATURES_FILE } from './features.js';
import { readWav } from './wav.js';

/** Bump when the plan or the audio chain changes, so cached sets are regenerated. */
export const SYNTH_VERSION = 1;
export const MANIFEST_FILE = 'manifest.json';
const MANIFEST_FORMAT = 'bmru-kws-synth/1';

/** What to generate. Counts are clips; percentages split the speakers (and the silence clips). */
export interface SynthSettings {
  readonly seed: number;
  readonly keyword: string;
  /**
   * Further keywords (the N-class set, `bmru kws-data --keywords`), each spoken `keywordClips` times after
   * `keyword`. Absent from the default settings, so their JSON, and with it the cache hash, stays as it was.
   */
  readonly moreKeywords?: readonly string[];
  /** Clips of each keyword. */
  readonly keywordClips: number;
  /** Words of the "other" class (the unknown words of an N-class set), spoken round-robin. */
  readonly others: readonly string[];
  readonly otherClips: number;
  readonly silenceClips: number;
  /** Distinct synthetic speakers (voice + variant + base pitch and speed). */
  readonly speakers: number;
  readonly validationPercent: number;
  readonly testPercent: number;
}

/**
 * Defaults: "yes" against the other nine Speech Commands core words (the words a model will meet as "other"
 * in the real set; yes-like confusers such as "yet" can be added with `others`), 200 + 200 + 50 clips,
 * 40 speakers of which 10 % validation and 10 % test, as Speech Commands splits.
 */
export const DEFAULT_SYNTH: SynthSettings = Object.freeze({
  seed: 1,
  keyword: KEYWORD,
  // Large enough for >= 90% held-out accuracy at width 4 and >= 50 test clips (181); ~1 min on 2 cores.
  keywordClips: 800,
  others: Object.freeze(['no', 'up', 'down', 'left', 'right', 'on', 'off', 'stop', 'go']),
  otherClips: 800,
  silenceClips: 200,
  speakers: 84,
  validationPercent: 10,
  testPercent: 10,
});

/** The keywords of a set, in order: `keyword`, then `moreKeywords`. */
export const synthKeywords = (s: SynthSettings): string[] => [s.keyword, ...(s.moreKeywords ?? [])];

/**
 * The Speech Commands core words (Warden 2018, arXiv 1804.03209: the ten command words of its 12-class task;
 * espeak-ng says each of them).
 */
export const CORE_WORDS = Object.freeze(['yes', 'no', 'up', 'down', 'left', 'right', 'on', 'off', 'stop', 'go']);
/** Speech Commands' auxiliary words of v0.01 (its "unknown" class in the 12-class task), for `--others`. */
export const AUXILIARY_WORDS = Object.freeze([
  'bed',
  'bird',
  'cat',
  'dog',
  'eight',
  'five',
  'four',
  'happy',
  'house',
  'marvin',
  'nine',
  'one',
  'seven',
  'sheila',
  'six',
  'three',
  'tree',
  'two',
  'wow',
  'zero',
]);

/** espeak-ng 1.51's English voices (`espeak-ng --voices=en`) without the mbrola ones, which need extra packages. */
export const ESPEAK_VOICES = Object.freeze([
  'en-us',
  'en-gb',
  'en-gb-scotland',
  'en-gb-x-rp',
  'en-gb-x-gbclan',
  'en-gb-x-gbcwmd',
  'en-029',
]);
/** Voice variants shipped with espeak-ng (espeak-ng-data/voices/!v): the plain voice, male m1-m7, female f1-f4. */
export const ESPEAK_VARIANTS = Object.freeze(['', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'f1', 'f2', 'f3', 'f4']);

/** Ranges each draw comes from (uniform); espeak-ng's defaults are 175 wpm and pitch 50 of 0-99. */
export const SYNTH_RANGES = Object.freeze({
  /** A speaker's base speed (words per minute) and pitch; each clip varies them by the jitter. */
  speedWpm: [130, 190],
  pitch: [25, 75],
  speedJitterWpm: 15,
  pitchJitter: 8,
  /** Peak level of the word (dBFS), set by sox `norm`; at most -3 so that word plus noise stays below full scale. */
  speechPeakDbfs: [-20, -3],
  /** Share of word clips with background noise, and its RMS level (dBFS): SNR roughly 10-40 dB. */
  noiseShare: 0.75,
  noiseRmsDbfs: [-60, -30],
  /** RMS level of silence clips (dBFS): from near digital silence to a noisy room. */
  silenceRmsDbfs: [-75, -35],
});

/** Punctuation changes espeak-ng's intonation: a statement, an exclamation, a question. */
const ENDINGS = ['', '.', '!', '?'];
export const NOISE_COLORS = ['white', 'pink', 'brown'] as const;
export type NoiseColor = (typeof NOISE_COLORS)[number];
/** Length of each noise bed that clips cut their noise from (s). */
export const NOISE_BED_S = 30;
/** sox `silence` threshold for trimming espeak-ng's leading and trailing pauses (of full scale). */
const TRIM_THRESHOLD = '0.1%';

export interface Speaker {
  /** 8 hex digits, as Speech Commands' anonymised speaker ids; the file names start with it. */
  readonly id: string;
  /** espeak-ng voice with variant, e.g. `en-gb-x-rp+f2`. */
  readonly voice: string;
  readonly speedWpm: number;
  readonly pitch: number;
  readonly split: Split;
}

export interface NoiseSpec {
  readonly color: NoiseColor;
  /** RMS level (dBFS). */
  readonly rmsDbfs: number;
  /** Where the 1 s of noise starts in its bed (s). */
  readonly offsetS: number;
}

/** One clip to make. `file` is relative to the output folder (`<label>/<speaker>_nohash_<n>.wav`). */
export type ClipSpec =
  | {
      readonly kind: 'speech';
      readonly label: string;
      readonly file: string;
      readonly split: Split;
      readonly text: string;
      readonly voice: string;
      readonly speedWpm: number;
      readonly pitch: number;
      readonly peakDbfs: number;
      /** Where the word starts, as a fraction of the time left in the 1 s once the word is placed. */
      readonly shiftFraction: number;
      readonly noise?: NoiseSpec;
    }
  | {
      readonly kind: 'silence';
      readonly label: string;
      readonly file: string;
      readonly split: Split;
      readonly noise: NoiseSpec;
    };

const round = (v: number, digits: number) => Number(v.toFixed(digits));
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng.next() * xs.length)];
const hex8 = (s: string) => createHash('sha1').update(s).digest('hex').slice(0, 8);

/**
 * Split of item i of n: the first round(n x validation %) go to validation, the next round(n x test %) to test,
 * the rest to training. With `atLeastOne`, a split with a non-zero percentage gets at least one item.
 */
function splitByPosition(i: number, n: number, s: SynthSettings, atLeastOne = false): Split {
  const size = (percent: number) =>
    percent > 0 && atLeastOne ? Math.max(1, Math.round((n * percent) / 100)) : Math.round((n * percent) / 100);
  const nVal = size(s.validationPercent);
  const nTest = size(s.testPercent);
  return i < nVal ? 'validation' : i < nVal + nTest ? 'test' : 'train';
}

/**
 * The speakers: distinct voice/variant pairs while they last (84 in all), each with its own pitch and speed,
 * and each in one split (every split with a non-zero percentage has at least one speaker).
 */
export function planSpeakers(s: SynthSettings): Speaker[] {
  const rng = createRng(s.seed);
  const pairs = ESPEAK_VOICES.flatMap((v) => ESPEAK_VARIANTS.map((x) => (x ? `${v}+${x}` : v)));
  for (let i = pairs.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [pairs[i], pairs[j]] = [pairs[j], pairs[i]];
  }
  return Array.from({ length: s.speakers }, (_, i) => ({
    id: hex8(`bmru-kws-synth/${s.seed}/speaker/${i}`),
    voice: pairs[i % pairs.length],
    speedWpm: Math.round(rng.uniform(SYNTH_RANGES.speedWpm[0], SYNTH_RANGES.speedWpm[1])),
    pitch: Math.round(rng.uniform(SYNTH_RANGES.pitch[0], SYNTH_RANGES.pitch[1])),
    split: splitByPosition(i, s.speakers, s, true),
  }));
}

function drawNoise(rng: Rng, levels: readonly number[]): NoiseSpec {
  return {
    color: pick(rng, NOISE_COLORS),
    rmsDbfs: round(rng.uniform(levels[0], levels[1]), 1),
    offsetS: round(rng.uniform(0, NOISE_BED_S - 1), 4),
  };
}

/**
 * Every clip of the set, in a fixed order (each keyword in turn, others round-robin, silence), as a pure function of the
 * settings: the same settings always give the same plan. Splits are stratified: of each label's clips,
 * round(n x validation %) are validation and round(n x test %) test, each spoken by a speaker of that split
 * (so no speaker is in two splits, as in Speech Commands).
 */
export function planClips(s: SynthSettings): ClipSpec[] {
  checkSettings(s);
  const speakers = planSpeakers(s);
  const rng = createRng(s.seed + 1);
  const taken = new Map<string, number>(); // <label>/<speaker> -> clips so far, the n of _nohash_<n>
  const bySplit = new Map<Split, Speaker[]>(SPLITS.map((sp) => [sp, speakers.filter((x) => x.split === sp)]));
  const speech = (label: string, split: Split): ClipSpec => {
    const sp = pick(rng, bySplit.get(split)!);
    const key = `${label}/${sp.id}`;
    const n = taken.get(key) ?? 0;
    taken.set(key, n + 1);
    const j = (range: number) => Math.round(rng.uniform(-range, range));
    const hasNoise = rng.next() < SYNTH_RANGES.noiseShare;
    return {
      kind: 'speech',
      label,
      file: `${label}/${sp.id}_nohash_${n}.wav`,
      split: sp.split,
      text: label + pick(rng, ENDINGS),
      voice: sp.voice,
      speedWpm: Math.max(80, sp.speedWpm + j(SYNTH_RANGES.speedJitterWpm)), // espeak-ng's minimum is 80
      pitch: Math.min(99, Math.max(0, sp.pitch + j(SYNTH_RANGES.pitchJitter))),
      peakDbfs: round(rng.uniform(SYNTH_RANGES.speechPeakDbfs[0], SYNTH_RANGES.speechPeakDbfs[1]), 1),
      shiftFraction: round(rng.next(), 4),
      ...(hasNoise ? { noise: drawNoise(rng, SYNTH_RANGES.noiseRmsDbfs) } : {}),
    };
  };
  const clips: ClipSpec[] = [];
  const keywords = synthKeywords(s);
  const clipsOf = new Map<string, number>(keywords.map((k) => [k, s.keywordClips]));
  s.others.forEach((w, k) =>
    clipsOf.set(w, Math.floor(s.otherClips / s.others.length) + (k < s.otherClips % s.others.length ? 1 : 0)),
  );
  const nth = new Map<string, number>();
  const next = (label: string) => {
    const i = nth.get(label) ?? 0;
    nth.set(label, i + 1);
    return speech(label, splitByPosition(i, clipsOf.get(label)!, s));
  };
  // Keyword by keyword: with one keyword this is the plan (and the random draws) of the 2-class set.
  for (const k of keywords) for (let i = 0; i < s.keywordClips; i++) clips.push(next(k));
  for (let i = 0; i < s.otherClips; i++) clips.push(next(s.others[i % s.others.length]));
  for (let i = 0; i < s.silenceClips; i++) {
    clips.push({
      kind: 'silence',
      label: SILENCE_LABEL,
      file: `${SILENCE_LABEL}/${hex8(`bmru-kws-synth/${s.seed}/silence/${i}`)}_nohash_0.wav`,
      split: splitByPosition(i, s.silenceClips, s),
      noise: drawNoise(rng, SYNTH_RANGES.silenceRmsDbfs),
    });
  }
  return clips;
}

/** What is wrong with the settings, or undefined when they can be generated. */
export function settingsProblem(s: SynthSettings): string | undefined {
  const counts: [string, number][] = [
    ['keyword clips', s.keywordClips],
    ['other clips', s.otherClips],
    ['silence clips', s.silenceClips],
  ];
  for (const [name, v] of counts) if (!Number.isInteger(v) || v < 0) return `${name} must be an integer >= 0, got ${v}`;
  if (!Number.isInteger(s.seed)) return `the seed must be an integer, got ${s.seed}`;
  if (s.validationPercent < 0 || s.testPercent < 0 || s.validationPercent + s.testPercent > 100) {
    return `validation and test percentages must be >= 0 and add up to <= 100, got ${s.validationPercent} and ${s.testPercent}`;
  }
  const splitsUsed = 1 + (s.validationPercent > 0 ? 1 : 0) + (s.testPercent > 0 ? 1 : 0);
  if (!Number.isInteger(s.speakers) || s.speakers < splitsUsed)
    return `speakers must be an integer >= ${splitsUsed} (one per split at least), got ${s.speakers}`;
  if (s.otherClips > 0 && s.others.length === 0) return 'other clips need at least one other word';
  const words = [...synthKeywords(s), ...s.others];
  // A word becomes a folder name and an espeak-ng argument: letters, digits, apostrophes, spaces, hyphens. (The
  // silence label, `_silence_`, is not one, so no word can take the silence folder.)
  for (const w of words)
    if (!/^[a-z0-9][a-z0-9' -]*$/i.test(w))
      return `a word must be letters, digits, ' - or spaces, got ${JSON.stringify(w)}`;
  if (new Set(words).size !== words.length)
    return `the keywords and the other words must be distinct, got ${words.join(', ')}`;
  return undefined;
}

function checkSettings(s: SynthSettings): void {
  const problem = settingsProblem(s);
  if (problem) throw new RangeError(problem);
}

/** espeak-ng or sox is missing or failed; the message says which and how to install it. */
export class ToolError extends BmruError {
  constructor(message: string) {
    super(message, 'tool');
    this.name = 'ToolError';
  }
}

/** Commands to run; BMRU_ESPEAK and BMRU_SOX override the names (like BMRU_NGSPICE). */
export interface SynthTools {
  readonly espeak: string;
  readonly sox: string;
}

export const defaultTools = (): SynthTools => ({
  espeak: process.env.BMRU_ESPEAK ?? 'espeak-ng',
  sox: process.env.BMRU_SOX ?? 'sox',
});

const INSTALL_HINT: Record<keyof SynthTools, string> = {
  espeak: 'Debian/Ubuntu: apt-get install -y espeak-ng; or set BMRU_ESPEAK to its path',
  sox: 'Debian/Ubuntu: apt-get install -y sox; or set BMRU_SOX to its path',
};

function run(command: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      if (!error) return resolve(stdout);
      const code = (error as NodeJS.ErrnoException).code;
      reject(
        code === 'ENOENT'
          ? Object.assign(new Error(`${command} not found`), { code })
          : new ToolError(`${command} ${args.join(' ')} failed: ${(stderr || error.message).trim()}`),
      );
    });
  });
}

/** The tools' version numbers (they are part of the cache key); a ToolError says how to install a missing one. */
export async function toolVersions(tools: SynthTools = defaultTools()): Promise<{ espeak: string; sox: string }> {
  const version = async (key: keyof SynthTools) => {
    try {
      const out = await run(tools[key], ['--version']);
      return /\d+\.\d+(\.\d+)?/.exec(out)?.[0] ?? out.trim();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT')
        throw new ToolError(`${tools[key]} not found: the synthetic set needs it (${INSTALL_HINT[key]})`);
      throw e;
    }
  };
  return { espeak: await version('espeak'), sox: await version('sox') };
}

/** The cache key: generator version, settings, the ranges drawn from, and tool versions. */
export function settingsHash(s: SynthSettings, versions: { espeak: string; sox: string }): string {
  const key = {
    generator: SYNTH_VERSION,
    settings: s,
    ranges: SYNTH_RANGES,
    voices: [ESPEAK_VOICES, ESPEAK_VARIANTS],
    tools: versions,
  };
  return createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, 16);
}

export interface Manifest {
  readonly format: string;
  readonly hash: string;
  readonly settings: SynthSettings;
  readonly tools: { espeak: string; sox: string };
  /** False while a run is writing the clips: a later run with the same hash completes the set. */
  readonly complete: boolean;
  readonly clips: readonly ClipSpec[];
}

async function readManifest(outDir: string): Promise<Manifest | undefined> {
  try {
    const m = JSON.parse(await readFile(path.join(outDir, MANIFEST_FILE), 'utf8')) as Manifest;
    return m.format === MANIFEST_FORMAT ? m : undefined;
  } catch {
    return undefined;
  }
}

const exists = (p: string): Promise<boolean> =>
  access(p).then(
    () => true,
    () => false,
  );

const bedFile = (color: NoiseColor) => `${BACKGROUND_NOISE_DIR}/${color}_noise.wav`;

/** RMS level of a WAV file (dBFS). */
async function rmsDbfs(file: string): Promise<number> {
  const { samples } = await readWav(file);
  let sumSq = 0;
  for (const v of samples) sumSq += v * v;
  return 10 * Math.log10(sumSq / samples.length);
}

/** sox with `-R` (repeatable: fixed dither seed) and 16-bit output. */
const sox = (tools: SynthTools, args: string[]) => run(tools.sox, ['-R', ...args]);

/** Makes one clip in `work` (a scratch folder) and moves it to `dest`. */
async function makeClip(
  spec: ClipSpec,
  dest: string,
  work: string,
  beds: Map<NoiseColor, { file: string; rmsDbfs: number }>,
  tools: SynthTools,
): Promise<void> {
  const part = path.join(work, 'out.wav');
  const noise = spec.noise;
  const noiseArgs = (file: string) => {
    const bed = beds.get(noise!.color)!;
    // Cut 1 s of the bed at the planned offset and bring its RMS to the planned level.
    return [
      bed.file,
      '-b',
      '16',
      file,
      'trim',
      `${noise!.offsetS}`,
      `${CLIP_SAMPLES}s`,
      'gain',
      (noise!.rmsDbfs - bed.rmsDbfs).toFixed(2),
    ];
  };
  if (spec.kind === 'silence') {
    await sox(tools, noiseArgs(part));
  } else {
    const raw = path.join(work, 'raw.wav');
    const word = path.join(work, 'word.wav');
    await run(tools.espeak, ['-v', spec.voice, '-s', `${spec.speedWpm}`, '-p', `${spec.pitch}`, '-w', raw, spec.text]);
    // 16 kHz mono 16-bit; espeak-ng's leading and trailing pauses trimmed; peak at the planned level.
    const trim = ['silence', '1', '0.02', TRIM_THRESHOLD];
    await sox(tools, [
      raw,
      '-r',
      `${KWS_SAMPLE_RATE_HZ}`,
      '-c',
      '1',
      '-b',
      '16',
      word,
      ...trim,
      'reverse',
      ...trim,
      'reverse',
      'norm',
      `${spec.peakDbfs}`,
    ]);
    const wordS = (await readWav(word)).samples.length / KWS_SAMPLE_RATE_HZ;
    // Time shift: the word starts somewhere in the room it leaves in the 1 s (a longer word is cut at the end).
    const shiftS = (spec.shiftFraction * Math.max(0, 1 - wordS)).toFixed(4);
    const placed = noise ? path.join(work, 'placed.wav') : part;
    await sox(tools, [word, '-b', '16', placed, 'pad', shiftS, '1', 'trim', '0', `${CLIP_SAMPLES}s`]);
    if (noise) {
      const bg = path.join(work, 'noise.wav');
      await sox(tools, noiseArgs(bg));
      // -v 1 on each input: sox -m otherwise scales every input by 1 / (number of inputs).
      await sox(tools, ['-m', '-v', '1', placed, '-v', '1', bg, '-b', '16', part]);
    }
  }
  await rename(part, dest);
}

export interface SynthProgress {
  readonly done: number;
  readonly total: number;
}

export interface SynthResult {
  readonly outDir: string;
  readonly manifest: Manifest;
  /** Clips written by this run (0 when the cached set was complete). */
  readonly generated: number;
  readonly reused: number;
}

/**
 * Generate (or complete) the synthetic set in `outDir`. With a manifest of the same hash only missing clips
 * are made; with another hash the old set's files are deleted first. A folder that holds other files and no
 * manifest is refused unless `force` (which also regenerates every clip).
 *
 * @example await generateSynthSet('data/kws-synth', DEFAULT_SYNTH, { onProgress: ({ done, total }) => ... });
 */
export async function generateSynthSet(
  outDir: string,
  settings: SynthSettings = DEFAULT_SYNTH,
  opts: { tools?: SynthTools; concurrency?: number; force?: boolean; onProgress?: (p: SynthProgress) => void } = {},
): Promise<SynthResult> {
  const tools = opts.tools ?? defaultTools();
  const clips = planClips(settings);
  const versions = await toolVersions(tools);
  const hash = settingsHash(settings, versions);
  const old = await readManifest(outDir);
  if (old && (old.hash !== hash || opts.force)) await removeSet(outDir, old);
  else if (!old && !opts.force && (await readdir(outDir).catch(() => [])).length > 0) {
    throw new InputError(
      `holds files but no ${MANIFEST_FILE} of a synthetic set; choose an empty or new folder, or pass --force to write into it`,
      { file: outDir },
    );
  }
  const manifest: Manifest = { format: MANIFEST_FORMAT, hash, settings, tools: versions, complete: false, clips };
  const writeManifest = (m: Manifest) => writeFile(path.join(outDir, MANIFEST_FILE), JSON.stringify(m, null, 1) + '\n');
  const labels = [...new Set(clips.map((c) => c.label)), BACKGROUND_NOISE_DIR];
  for (const label of labels) await mkdir(path.join(outDir, label), { recursive: true });
  const reuse = old?.hash === hash && !opts.force;
  const todo: ClipSpec[] = [];
  for (const c of clips) if (!reuse || !(await exists(path.join(outDir, c.file)))) todo.push(c);
  await writeManifest(manifest);

  // A scratch folder inside the output (same file system, so clips move in with a rename; the loader skips
  // folders starting with '.').
  const scratch = await mkdtemp(path.join(outDir, '.work-'));
  try {
    const beds = await makeNoiseBeds(outDir, scratch, tools, reuse);
    let done = 0;
    await runMany(
      todo,
      async (spec, i) => {
        const work = path.join(scratch, `clip-${i}`);
        await mkdir(work);
        await makeClip(spec, path.join(outDir, spec.file), work, beds, tools);
        await rm(work, { recursive: true, force: true });
      },
      { concurrency: opts.concurrency, onDone: () => opts.onProgress?.({ done: ++done, total: todo.length }) },
    );
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  await writeSplitLists(outDir, clips);
  const finished = { ...manifest, complete: true };
  await writeManifest(finished);
  return { outDir, manifest: finished, generated: todo.length, reused: clips.length - todo.length };
}

/** The noise beds in `_background_noise_` (made when missing or not reusable), with their measured RMS. */
async function makeNoiseBeds(outDir: string, scratch: string, tools: SynthTools, reuse: boolean) {
  const beds = new Map<NoiseColor, { file: string; rmsDbfs: number }>();
  for (const color of NOISE_COLORS) {
    const file = path.join(outDir, bedFile(color));
    if (!reuse || !(await exists(file))) {
      const tmp = path.join(scratch, `${color}.wav`);
      await sox(tools, [
        '-n',
        '-r',
        `${KWS_SAMPLE_RATE_HZ}`,
        '-c',
        '1',
        '-b',
        '16',
        tmp,
        'synth',
        `${NOISE_BED_S}`,
        `${color}noise`,
      ]);
      await rename(tmp, file);
    }
    beds.set(color, { file, rmsDbfs: await rmsDbfs(file) });
  }
  return beds;
}

/** Speech Commands' split lists: the validation and test clips' relative paths, one per line, sorted. */
async function writeSplitLists(outDir: string, clips: readonly ClipSpec[]): Promise<void> {
  const list = (split: Split) =>
    clips
      .filter((c) => c.split === split)
      .map((c) => c.file)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  await writeFile(
    path.join(outDir, VALIDATION_LIST),
    list('validation')
      .map((f) => `${f}\n`)
      .join(''),
  );
  await writeFile(
    path.join(outDir, TESTING_LIST),
    list('test')
      .map((f) => `${f}\n`)
      .join(''),
  );
}

/**
 * Deletes what a previous run wrote (its clips, noise beds, lists, manifest), the features file made from it
 * in the default place (now stale), and its folders once empty.
 */
async function removeSet(outDir: string, m: Manifest): Promise<void> {
  const files = [
    ...m.clips.map((c) => c.file),
    ...NOISE_COLORS.map(bedFile),
    VALIDATION_LIST,
    TESTING_LIST,
    DEFAULT_FEATURES_FILE,
    MANIFEST_FILE,
  ];
  for (const f of files) await rm(path.join(outDir, f), { force: true });
  for (const label of new Set([...m.clips.map((c) => c.label), BACKGROUND_NOISE_DIR])) {
    const dir = path.join(outDir, label);
    if ((await readdir(dir).catch(() => ['?'])).length === 0) await rm(dir, { recursive: true });
  }
}

/** Number of clips per label and split in a plan: rows of [label, train, validation, test]. */
export function planCounts(clips: readonly ClipSpec[]): [string, number, number, number][] {
  const rows = new Map<string, [string, number, number, number]>();
  const col = { train: 1, validation: 2, test: 3 } as const;
  for (const c of clips) {
    const row = rows.get(c.label) ?? [c.label, 0, 0, 0];
    row[col[c.split]]++;
    rows.set(c.label, row);
  }
  return [...rows.values()];
}

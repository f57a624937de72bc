import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resample } from '../../src/audio/clip.js';
import {
  BACKGROUND_NOISE_DIR,
  SILENCE_LABEL,
  SPLITS,
  TESTING_LIST,
  VALIDATION_LIST,
  binaryClasses,
  classTarget,
  isKeywordClass,
  listClips,
  multiClasses,
  readClip,
  splitAssigner,
  whichSet,
} from '../../src/audio/dataset.js';
import { writeWav } from '../../src/audio/wav.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'bmru-dataset-lists-'));
});
afterEach(() => rm(root, { recursive: true, force: true }));

/** A WAV file of `samples` at `rateHz`, folders created. */
async function put(file: string, samples: Float64Array, rateHz = 16000): Promise<string> {
  const p = path.join(root, file);
  await mkdir(path.dirname(p), { recursive: true });
  await writeWav(p, samples, rateHz);
  return p;
}

/** A ramp exact in 16-bit PCM: sample i is ((i mod 1000) - 500) / 2^15. */
const ramp = (n: number, offset = 0) =>
  Float64Array.from({ length: n }, (_, i) => (((i + offset) % 1000) - 500) / 32768);

describe('listClips', () => {
  it('sorts labels and files by code point (capitals first), takes .WAV, skips dot files, loose files and folders', async () => {
    const tiny = new Float64Array(10);
    await put('yes/b.wav', tiny);
    await put('yes/B.WAV', tiny);
    await put('yes/.a.wav', tiny);
    await put('Zed/a.wav', tiny);
    await put('alpha/a.Wav', tiny);
    await put('loose.wav', tiny);
    await mkdir(path.join(root, 'yes', 'c.wav'));
    await writeFile(path.join(root, 'yes', 'notes.wav.txt'), 'not a clip');
    const refs = await listClips(root);
    expect(refs.map((r) => r.file)).toEqual(['Zed/a.wav', 'alpha/a.Wav', 'yes/B.WAV', 'yes/b.wav']);
    expect(refs.map((r) => r.label)).toEqual(['Zed', 'alpha', 'yes', 'yes']);
    expect(refs[3]).toEqual({ label: 'yes', file: 'yes/b.wav', path: path.join(root, 'yes', 'b.wav') });
    expect(refs.every((r) => r.slice === undefined)).toBe(true);
  });

  it('sorts by UTF-16 code unit (JavaScript string order), not in the UTF-8 byte order the directory is read in', async () => {
    // U+1F600 is the surrogate pair D83D DE00 in UTF-16, below U+FF01 (FF01); in UTF-8 it is F0 9F 98 80, above
    // U+FF01's EF BC 81. libuv hands readdir's names over sorted by strcmp, i.e. by UTF-8 bytes, so a listing that
    // kept that order would put U+FF01 first.
    const [grin, bang] = ['\u{1F600}', '\uFF01'];
    for (const label of [bang, grin])
      for (const name of [bang, grin]) await put(`${label}/${name}.wav`, new Float64Array(10));
    expect((await listClips(root)).map((r) => r.file)).toEqual([
      `${grin}/${grin}.wav`,
      `${grin}/${bang}.wav`,
      `${bang}/${grin}.wav`,
      `${bang}/${bang}.wav`,
    ]);
  });

  it("slices each noise file into its whole seconds at its own rate, files in order; 'skip' (the default) leaves them out", async () => {
    await put('yes/a.wav', new Float64Array(10));
    // 16000 samples at 8 kHz: 2 s. 15999 at 8 kHz: 1 s and a bit. 33000 at 16 kHz: 2 s and a bit.
    await put(`${BACKGROUND_NOISE_DIR}/b.wav`, new Float64Array(16000), 8000);
    await put(`${BACKGROUND_NOISE_DIR}/a.wav`, new Float64Array(15999), 8000);
    await put(`${BACKGROUND_NOISE_DIR}/c.wav`, new Float64Array(33000), 16000);
    const sliced = await listClips(root, 'slice');
    expect(sliced.map((r) => [r.label, r.file, r.slice])).toEqual([
      [SILENCE_LABEL, `${BACKGROUND_NOISE_DIR}/a.wav`, 0],
      [SILENCE_LABEL, `${BACKGROUND_NOISE_DIR}/b.wav`, 0],
      [SILENCE_LABEL, `${BACKGROUND_NOISE_DIR}/b.wav`, 1],
      [SILENCE_LABEL, `${BACKGROUND_NOISE_DIR}/c.wav`, 0],
      [SILENCE_LABEL, `${BACKGROUND_NOISE_DIR}/c.wav`, 1],
      ['yes', 'yes/a.wav', undefined],
    ]);
    expect(sliced[0].path).toBe(path.join(root, BACKGROUND_NOISE_DIR, 'a.wav'));
    expect((await listClips(root)).map((r) => r.file)).toEqual(['yes/a.wav']);
  });

  it('finds no clip in a folder holding only noise when not slicing', async () => {
    await put(`${BACKGROUND_NOISE_DIR}/n.wav`, new Float64Array(16000));
    await expect(listClips(root)).rejects.toThrow(`${root}: no clips found`);
  });
});

describe('readClip', () => {
  it('gives slice s as samples [16000 s, 16000 (s + 1)) of the noise file, each slice from its own file', async () => {
    const a = await put(`${BACKGROUND_NOISE_DIR}/a.wav`, ramp(40000));
    const b = await put(`${BACKGROUND_NOISE_DIR}/b.wav`, ramp(40000, 300));
    const slice = (p: string, s: number) => readClip({ label: SILENCE_LABEL, file: 'x', path: p, slice: s });
    // Alternating files: each read must come from its own file, not the last one read.
    expect(Array.from(await slice(a, 1))).toEqual(Array.from(ramp(40000).subarray(16000, 32000)));
    expect(Array.from(await slice(b, 0))).toEqual(Array.from(ramp(40000, 300).subarray(0, 16000)));
    expect(Array.from(await slice(a, 0))).toEqual(Array.from(ramp(40000).subarray(0, 16000)));
    expect(Array.from(await slice(b, 1))).toEqual(Array.from(ramp(40000, 300).subarray(16000, 32000)));
  });

  it('resamples a noise file at another rate to 16 kHz before slicing it', async () => {
    const p = await put(`${BACKGROUND_NOISE_DIR}/slow.wav`, ramp(16000), 8000);
    const at16k = resample(ramp(16000), 8000, 16000);
    const second = await readClip({ label: SILENCE_LABEL, file: 'x', path: p, slice: 1 });
    expect(second.length).toBe(16000);
    second.forEach((v, i) => expect(Math.abs(v - at16k[16000 + i]), `sample ${i}`).toBeLessThan(1e-12));
  });

  it('reads a word clip whole, padded to 16000 samples', async () => {
    const p = await put('yes/a.wav', ramp(100));
    const got = await readClip({ label: 'yes', file: 'yes/a.wav', path: p });
    expect(got.length).toBe(16000);
    expect(Array.from(got.subarray(0, 100))).toEqual(Array.from(ramp(100)));
    expect(got.subarray(100).every((v) => v === 0)).toBe(true);
  });
});

/**
 * Speech Commands' which_set percentage, as the Python original computes it: int(sha1(speaker), 16) taken modulo
 * 2^27 on the whole 160-bit number (BigInt), times 100 / (2^27 - 1).
 */
function hashPercent(speaker: string): number {
  const whole = BigInt(`0x${createHash('sha1').update(speaker).digest('hex')}`);
  return Number(whole % 2n ** 27n) * (100 / (2 ** 27 - 1));
}

describe('whichSet with its percentages', () => {
  it('puts a speaker in validation below validationPercent, test below their sum, else train', () => {
    for (const speaker of ['0a7c2a8d', '9a7c1f83', 'be1e0823', '3c6ef362']) {
      const p = hashPercent(speaker);
      const name = `yes/${speaker}_nohash_2.wav`;
      expect(whichSet(name, p + 1e-6, 0), speaker).toBe('validation');
      expect(whichSet(name, p - 1e-6, 0), speaker).toBe('train');
      expect(whichSet(name, p - 1e-6, 2e-6), speaker).toBe('test');
      expect(whichSet(name, 0, p - 1e-6), speaker).toBe('train');
      expect(whichSet(name, 0, p + 1e-6), speaker).toBe('test');
    }
  });

  it('compares strictly, as the Python original does (`percentage_hash < validation_percentage`): a bound is past it', () => {
    // hashPercent and whichSet multiply the same integer by the same factor, so p is whichSet's percent to the bit.
    for (const speaker of ['0a7c2a8d', '9a7c1f83', 'be1e0823']) {
      const p = hashPercent(speaker);
      const name = `no/${speaker}_nohash_0.wav`;
      expect(whichSet(name, p, 0), speaker).toBe('train');
      expect(whichSet(name, 0, p), speaker).toBe('train');
      expect(whichSet(name, p, 1), speaker).toBe('test');
    }
  });

  it('hashes the speaker only: the part of the base name before _nohash_', () => {
    const p = hashPercent('c0ffee01');
    expect(whichSet('left/c0ffee01_nohash_0.wav', p + 1e-6, 0)).toBe('validation');
    expect(whichSet('c0ffee01_nohash_7_nohash_1.wav', p + 1e-6, 0)).toBe('validation');
    expect(whichSet('a/b/c0ffee01_nohash_3.wav', p - 1e-6, 0)).toBe('train');
  });
});

describe('splitAssigner', () => {
  it('takes one list alone; a slice is training even when a list or the hash names its file', async () => {
    await writeFile(path.join(root, TESTING_LIST), '  yes/a.wav  \n\nno/b.wav');
    const byList = await splitAssigner(root);
    expect(byList({ label: 'yes', file: 'yes/a.wav', path: '' })).toBe('test');
    expect(byList({ label: 'no', file: 'no/b.wav', path: '' })).toBe('test');
    expect(byList({ label: 'no', file: 'no/c.wav', path: '' })).toBe('train');
    expect(byList({ label: SILENCE_LABEL, file: 'yes/a.wav', path: '', slice: 0 })).toBe('train');
    const other = await mkdtemp(path.join(os.tmpdir(), 'bmru-dataset-hash-'));
    try {
      const byHash = await splitAssigner(other);
      // be1e0823 hashes into test (dataset.test.ts, from the Python original).
      expect(byHash({ label: 'yes', file: 'yes/be1e0823_nohash_0.wav', path: '' })).toBe('test');
      expect(byHash({ label: SILENCE_LABEL, file: 'yes/be1e0823_nohash_0.wav', path: '', slice: 2 })).toBe('train');
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('lets the testing list win over the validation list for a file in both', async () => {
    await writeFile(path.join(root, VALIDATION_LIST), 'yes/a.wav\n');
    await writeFile(path.join(root, TESTING_LIST), 'yes/a.wav\n');
    expect((await splitAssigner(root))({ label: 'yes', file: 'yes/a.wav', path: '' })).toBe('test');
  });

  it('names a split list it cannot read (a folder)', async () => {
    await mkdir(path.join(root, VALIDATION_LIST));
    await expect(splitAssigner(root)).rejects.toThrow(
      `${path.join(root, VALIDATION_LIST)}: cannot read split list (EISDIR)`,
    );
  });

  it('has the three splits in code order', () => {
    expect(SPLITS).toEqual(['train', 'validation', 'test']);
  });
});

describe('class names and targets', () => {
  it('names the 2-class task other then the keyword, and the N-class task silence, unknown, then the keywords', () => {
    expect(binaryClasses('no')).toEqual(['other', 'no']);
    // TensorFlow's prepare_words_list order: [_silence_, _unknown_, *wanted_words].
    expect(multiClasses(['yes', 'no', 'up'])).toEqual(['_silence_', '_unknown_', 'yes', 'no', 'up']);
    expect(multiClasses([])).toEqual(['_silence_', '_unknown_']);
  });

  it('gives silence class 0, a word that is not a keyword class 1, and keyword k (from 0) class k + 2', () => {
    const keywords = ['yes', 'no', 'up'];
    expect(['_silence_', 'left', '_unknown_', 'yes', 'no', 'up'].map((l) => classTarget(l, keywords))).toEqual([
      0, 1, 1, 2, 3, 4,
    ]);
    // Silence is class 0 even when it is listed among the keywords.
    expect(classTarget('_silence_', ['_silence_'])).toBe(0);
  });

  it('calls every class a keyword class except other, _silence_ and _unknown_', () => {
    expect(['other', '_silence_', '_unknown_', 'yes', 'Other', ''].map(isKeywordClass)).toEqual([
      false,
      false,
      false,
      true,
      true,
      true,
    ]);
  });
});

import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_FEATURES_FILE,
  FEATURES_FORMAT,
  MAX_KEYWORDS,
  chooseClasses,
  clipInputs,
  computeFeatures,
  readFeatureFile,
  splitCounts,
  writeFeatureFile,
  type FeatureSet,
} from '../../src/audio/features.js';
import { REFERENCE_MFCC } from '../../src/audio/mfcc.js';
import { parseSafetensors, writeSafetensors } from '../../src/model/safetensors.js';
import type { Tensor } from '../../src/model/tensors.js';
import { writeWav } from '../../src/audio/wav.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'bmru-features-file-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Four clips of 2 frames x 3 features (values exact in float32), labels no/yes, in memory. */
function set(over: Partial<FeatureSet> = {}): FeatureSet {
  return {
    frames: 2,
    features: 3,
    data: Float64Array.from({ length: 4 * 6 }, (_, i) => i / 4),
    files: ['no/a.wav', 'yes/b.wav', 'no/c.wav', '_background_noise_/n.wav#3'],
    labels: ['_silence_', 'no', 'yes'],
    label: Int32Array.from([1, 2, 1, 0]),
    target: Uint8Array.from([0, 1, 0, 0]),
    classes: ['other', 'yes'],
    split: Uint8Array.from([0, 0, 1, 2]),
    keyword: 'yes',
    mfcc: REFERENCE_MFCC,
    source: 'data/kws',
    ...over,
  };
}

describe('clipInputs', () => {
  it("gives clip i's frames x features, starting at i x frames x features", () => {
    const s = set();
    expect(clipInputs(s, 0)).toEqual({
      frames: 2,
      features: 3,
      data: Float64Array.from([0, 1, 2, 3, 4, 5].map((v) => v / 4)),
    });
    expect(Array.from(clipInputs(s, 2).data)).toEqual([12, 13, 14, 15, 16, 17].map((v) => v / 4));
    expect(Array.from(clipInputs(s, 3).data)).toEqual([18, 19, 20, 21, 22, 23].map((v) => v / 4));
  });
});

describe('splitCounts', () => {
  it('counts clips per label and split, labels in their order', () => {
    expect(splitCounts(set())).toEqual([
      ['_silence_', 0, 0, 1],
      ['no', 1, 1, 0],
      ['yes', 1, 0, 0],
    ]);
  });
});

describe('chooseClasses', () => {
  const labels = ['_silence_', 'no', 'up', 'yes'];
  const refusal = (opts: Parameters<typeof chooseClasses>[1], l: readonly string[] = labels) => {
    try {
      chooseClasses(l, opts, 'data/kws');
    } catch (e) {
      return (e as Error).message;
    }
    return 'accepted';
  };

  it("is 2-class on 'yes' by default, or on the keyword given", () => {
    expect(chooseClasses(labels, {}, 'data/kws')).toEqual({ classes: ['other', 'yes'], keyword: 'yes' });
    expect(chooseClasses(labels, { keyword: 'up' }, 'data/kws')).toEqual({ classes: ['other', 'up'], keyword: 'up' });
    expect(refusal({}, ['no', 'up'])).toBe("data/kws 'keyword': has no clips of the keyword 'yes' (labels: no, up)");
  });

  it('is N-class for keywords (overriding keyword), the first keyword named as the keyword', () => {
    expect(chooseClasses(labels, { keyword: 'no', keywords: ['up', 'yes'] }, 'data/kws')).toEqual({
      classes: ['_silence_', '_unknown_', 'up', 'yes'],
      keywords: ['up', 'yes'],
      keyword: 'up',
    });
  });

  it('refuses no keywords, a repeated one, silence, and ones without clips, naming them and the labels', () => {
    const present = '(labels: _silence_, no, up, yes)';
    expect(refusal({ keywords: [] })).toBe(`data/kws 'keywords': expected at least one keyword ${present}`);
    expect(refusal({ keywords: ['up', 'no', 'up'] })).toBe("data/kws 'keywords': names 'up' twice");
    expect(refusal({ keywords: ['yes', '_silence_'] })).toBe(
      "data/kws 'keywords': cannot hold '_silence_': silence is class 0 of every N-class set",
    );
    expect(refusal({ keywords: ['left', 'yes', 'right'] })).toBe(
      `data/kws 'keywords': has no clips of 'left', 'right' ${present}`,
    );
  });

  it('takes 254 keywords (targets fit a byte with silence and unknown), not 255', () => {
    expect(MAX_KEYWORDS).toBe(254);
    const many = Array.from({ length: 255 }, (_, i) => `w${i}`);
    expect(chooseClasses(many, { keywords: many.slice(0, 254) }, 'd').classes).toHaveLength(256);
    expect(refusal({ keywords: many }, many)).toBe("data/kws 'keywords': expected at most 254 keywords, got 255");
  });
});

describe('writeFeatureFile', () => {
  const written = async (name: string, s: FeatureSet) => {
    const file = path.join(dir, name);
    await writeFeatureFile(file, s);
    const { tensors, metadata } = parseSafetensors(await readFile(file), file, ['F32', 'I64']);
    return { tensors, metadata: metadata as Record<string, string> };
  };

  it('writes the metadata the file comment lists, and the tensors in their shapes', async () => {
    const { tensors, metadata } = await written('two.safetensors', set());
    expect(metadata).toEqual({
      format: 'bmru-kws-features/1',
      keyword: 'yes',
      labels: '["_silence_","no","yes"]',
      splits: '["train","validation","test"]',
      files: '["no/a.wav","yes/b.wav","no/c.wav","_background_noise_/n.wav#3"]',
      mfcc: JSON.stringify({
        ...REFERENCE_MFCC,
        normalise: 'per clip and coefficient: (c - mean) / (population std + 0.00001)',
      }),
      source: 'data/kws',
    });
    expect(FEATURES_FORMAT).toBe('bmru-kws-features/1');
    expect(DEFAULT_FEATURES_FILE).toBe('features.safetensors');
    expect(tensors.get('mfcc')!.shape).toEqual([4, 2, 3]);
    for (const [name, want] of [
      ['label', [1, 2, 1, 0]],
      ['target', [0, 1, 0, 0]],
      ['split', [0, 0, 1, 2]],
    ] as const) {
      expect(tensors.get(name)!.shape, name).toEqual([4]);
      expect(Array.from(tensors.get(name)!.data), name).toEqual(want);
    }
  });

  it('writes classes only when they are not the 2-class names of the keyword', async () => {
    const n = await written('n.safetensors', set({ classes: ['_silence_', '_unknown_', 'yes'] }));
    expect(n.metadata.classes).toBe('["_silence_","_unknown_","yes"]');
    // Two classes, but not ['other', keyword]: written (a reader would otherwise take other/yes).
    expect((await written('a.safetensors', set({ classes: ['yes', 'other'] }))).metadata.classes).toBe(
      '["yes","other"]',
    );
    expect((await written('b.safetensors', set({ classes: ['other', 'no'] }))).metadata.classes).toBe('["other","no"]');
    expect((await written('c.safetensors', set({ classes: ['_silence_', 'yes'] }))).metadata.classes).toBe(
      '["_silence_","yes"]',
    );
    // Three classes that begin with the 2-class names: written (a reader would otherwise take two classes).
    expect((await written('d.safetensors', set({ classes: ['other', 'yes', 'no'] }))).metadata.classes).toBe(
      '["other","yes","no"]',
    );
  });
});

describe('readFeatureFile', () => {
  const META = {
    format: 'bmru-kws-features/1',
    keyword: 'yes',
    labels: '["no","yes"]',
    splits: '["train","validation","test"]',
    files: '["no/a.wav","yes/b.wav"]',
    mfcc: '{"nFft":512}',
    source: 'src',
  };
  const tensor = (shape: number[], data: number[]): Tensor => ({ shape, data: Float64Array.from(data) });
  const TENSORS: Record<string, Tensor> = {
    mfcc: tensor([2, 1, 2], [0.5, -1, 2, 0.25]),
    label: tensor([2], [0, 1]),
    target: tensor([2], [0, 1]),
    split: tensor([2], [0, 2]),
  };
  /** A features file of META and TENSORS with some of them changed (undefined: left out). */
  const file = async (
    name: string,
    meta: Record<string, string | undefined> = {},
    tensors: Record<string, Tensor | undefined> = {},
  ) => {
    const f = path.join(dir, name);
    const m = Object.fromEntries(Object.entries({ ...META, ...meta }).filter(([, v]) => v !== undefined)) as Record<
      string,
      string
    >;
    const t = new Map(
      Object.entries({ ...TENSORS, ...tensors }).filter((e): e is [string, Tensor] => e[1] !== undefined),
    );
    await writeFile(f, writeSafetensors(t, m, 'F32', { label: 'I64', target: 'I64', split: 'I64' }));
    return f;
  };
  const refusal = async (f: string) => {
    try {
      await readFeatureFile(f);
    } catch (e) {
      return (e as Error).message.replace(f, '<file>');
    }
    return 'accepted';
  };

  it('reads a file written by hand: shapes, indices, metadata', async () => {
    const s = await readFeatureFile(await file('ok.safetensors'));
    expect([s.frames, s.features]).toEqual([1, 2]);
    expect(Array.from(s.data)).toEqual([0.5, -1, 2, 0.25]);
    expect(s.files).toEqual(['no/a.wav', 'yes/b.wav']);
    expect(s.labels).toEqual(['no', 'yes']);
    expect(Array.from(s.label)).toEqual([0, 1]);
    expect(Array.from(s.target)).toEqual([0, 1]);
    expect(Array.from(s.split)).toEqual([0, 2]);
    expect(s.classes).toEqual(['other', 'yes']);
    expect(s.keyword).toBe('yes');
    expect(s.mfcc).toEqual({ nFft: 512 });
    expect(s.source).toBe('src');
  });

  it("takes 'yes' for a missing keyword, '' for a missing source, and the classes metadata when there is one", async () => {
    const s = await readFeatureFile(await file('defaults.safetensors', { keyword: undefined, source: undefined }));
    expect([s.keyword, s.source]).toEqual(['yes', '']);
    expect(s.classes).toEqual(['other', 'yes']);
    const up = await readFeatureFile(await file('up.safetensors', { keyword: 'up' }));
    expect(up.classes).toEqual(['other', 'up']);
    const n = await readFeatureFile(await file('n.safetensors', { classes: '["_silence_","_unknown_","yes"]' }));
    expect(n.classes).toEqual(['_silence_', '_unknown_', 'yes']);
  });

  it('names the file and why it cannot be read', async () => {
    const missing = path.join(dir, 'nope.safetensors');
    await expect(readFeatureFile(missing)).rejects.toThrow(`${missing}: cannot read features file (ENOENT)`);
  });

  it('refuses metadata that is not the JSON it should be, naming the key', async () => {
    expect(await refusal(await file('m1.safetensors', { format: undefined }))).toBe(
      "<file> '__metadata__.format': expected metadata format 'bmru-kws-features/1', got undefined",
    );
    expect(await refusal(await file('m2.safetensors', { files: 'no/a.wav' }))).toBe(
      "<file> '__metadata__.files': expected a JSON string holding a list of file names",
    );
    expect(await refusal(await file('m3.safetensors', { files: undefined }))).toBe(
      "<file> '__metadata__.files': expected a JSON string holding a list of file names",
    );
    expect(await refusal(await file('m4.safetensors', { files: '["a", 2]' }))).toBe(
      '<file> \'__metadata__.files\': expected a list of file names, got ["a",2]',
    );
    expect(await refusal(await file('m5.safetensors', { labels: '[]' }))).toBe(
      "<file> '__metadata__.labels': expected a non-empty list of label names, got []",
    );
    expect(await refusal(await file('m6.safetensors', { classes: '["only"]' }))).toBe(
      '<file> \'__metadata__.classes\': expected a list of 2 to 256 class names, got ["only"]',
    );
    expect(await refusal(await file('m7.safetensors', { mfcc: '[1]' }))).toBe(
      "<file> '__metadata__.mfcc': expected an object of MFCC settings, got [1]",
    );
    // The excerpt of a long value stops at 60 characters.
    const long = JSON.stringify('x'.repeat(100));
    expect(await refusal(await file('m8.safetensors', { files: long }))).toBe(
      `<file> '__metadata__.files': expected a list of file names, got ${long.slice(0, 60)}`,
    );
  });

  it('takes 256 class names, not 257', async () => {
    const names = (k: number) => JSON.stringify(Array.from({ length: k }, (_, i) => `c${i}`));
    expect((await readFeatureFile(await file('c256.safetensors', { classes: names(256) }))).classes).toHaveLength(256);
    expect(await refusal(await file('c257.safetensors', { classes: names(257) }))).toMatch(
      /^<file> '__metadata__.classes': expected a list of 2 to 256 class names, got /,
    );
  });

  it('refuses a missing tensor, and one whose rank or row count is not one row per file', async () => {
    expect(await refusal(await file('t1.safetensors', {}, { split: undefined }))).toBe(
      "<file> 'split': missing tensor",
    );
    expect(await refusal(await file('t2.safetensors', {}, { mfcc: tensor([2, 4], [1, 2, 3, 4, 5, 6, 7, 8]) }))).toBe(
      "<file> 'mfcc': expected shape [2, frames, features] (one row per file), got [2, 4]",
    );
    expect(await refusal(await file('t3.safetensors', {}, { mfcc: tensor([1, 2, 2], [1, 2, 3, 4]) }))).toBe(
      "<file> 'mfcc': expected shape [2, frames, features] (one row per file), got [1, 2, 2]",
    );
    expect(await refusal(await file('t4.safetensors', {}, { label: tensor([3], [0, 1, 1]) }))).toBe(
      "<file> 'label': expected shape [2] (one row per file), got [3]",
    );
    expect(await refusal(await file('t5.safetensors', {}, { target: tensor([2, 1], [0, 1]) }))).toBe(
      "<file> 'target': expected shape [2] (one row per file), got [2, 1]",
    );
  });

  it('refuses an index that is fractional, negative or past its list, naming the tensor, the index and the range', async () => {
    const f32 = async (name: string, tensors: Record<string, Tensor>) => {
      // Fractional values need a float dtype: files written before held the indices as F32 (still read).
      const f = path.join(dir, name);
      await writeFile(f, writeSafetensors(new Map(Object.entries({ ...TENSORS, ...tensors })), META, 'F32'));
      return f;
    };
    expect(await refusal(await f32('i1.safetensors', { label: tensor([2], [0, 0.5]) }))).toBe(
      "<file> 'label' at index 1: expected an index into the 2 labels (0 to 1), got 0.5",
    );
    expect(await refusal(await file('i2.safetensors', {}, { label: tensor([2], [-1, 0]) }))).toBe(
      "<file> 'label' at index 0: expected an index into the 2 labels (0 to 1), got -1",
    );
    expect(await refusal(await file('i3.safetensors', {}, { label: tensor([2], [0, 2]) }))).toBe(
      "<file> 'label' at index 1: expected an index into the 2 labels (0 to 1), got 2",
    );
    expect(await refusal(await file('i4.safetensors', {}, { target: tensor([2], [2, 0]) }))).toBe(
      "<file> 'target' at index 0: expected 0 (other) or 1 (keyword), got 2",
    );
    expect(
      await refusal(
        await file('i5.safetensors', { classes: '["_silence_","_unknown_","yes"]' }, { target: tensor([2], [0, 3]) }),
      ),
    ).toBe("<file> 'target' at index 1: expected an index into the 3 classes (0 to 2), got 3");
    expect(await refusal(await file('i6.safetensors', {}, { split: tensor([2], [3, 0]) }))).toBe(
      "<file> 'split' at index 0: expected 0 (train), 1 (validation) or 2 (test), got 3",
    );
  });
});

describe('computeFeatures', () => {
  /** A folder of 0.25 s clips (and one of 1.1 s) at 16 kHz; `bad` files are not WAV files. */
  const folder = async (name: string, clips: string[], bad: string[] = []) => {
    const root = path.join(dir, name);
    for (const c of [...clips, ...bad]) await mkdir(path.dirname(path.join(root, c)), { recursive: true });
    for (const c of clips) {
      const n = c.includes('long') ? 17600 : 4000;
      await writeWav(
        path.join(root, c),
        Float64Array.from({ length: n }, (_, i) => 0.2 * Math.sin(i / (2 + c.length))),
        16000,
      );
    }
    for (const c of bad) await writeFile(path.join(root, c), 'not a WAV file');
    return root;
  };

  it('gives N-class targets (silence 0, unknown 1, keywords from 2), labels in code-point order, progress per clip', async () => {
    const root = await folder('n-class', ['yes/a.wav', 'no/a.wav', 'up/a.wav', 'Up/a.wav']);
    const progress: [number, number][] = [];
    const s = await computeFeatures(root, { keywords: ['up', 'yes'], onProgress: (d, t) => progress.push([d, t]) });
    expect(s.labels).toEqual(['Up', 'no', 'up', 'yes']);
    expect(s.files).toEqual(['Up/a.wav', 'no/a.wav', 'up/a.wav', 'yes/a.wav']);
    expect(Array.from(s.label)).toEqual([0, 1, 2, 3]);
    expect(Array.from(s.target)).toEqual([1, 1, 2, 3]);
    expect(s.classes).toEqual(['_silence_', '_unknown_', 'up', 'yes']);
    expect(s.keyword).toBe('up');
    expect(progress).toEqual([
      [1, 4],
      [2, 4],
      [3, 4],
      [4, 4],
    ]);
    expect(s.data.length).toBe(4 * 101 * 13);
    expect([s.frames, s.features, s.source]).toEqual([101, 13, root]);
    expect(s.mfcc).toBe(REFERENCE_MFCC);
  });

  it('reports each clip warning with the clip, and progress for a skipped clip too', async () => {
    const root = await folder('warned', ['yes/long.wav', 'no/a.wav'], ['no/bad.wav']);
    const warnings: string[] = [];
    const progress: number[] = [];
    const skipped: string[] = [];
    const s = await computeFeatures(root, {
      onWarning: (f, w) => warnings.push(`${f}: ${w}`),
      onProgress: (d) => progress.push(d),
      onBadClip: (f) => skipped.push(f),
    });
    expect(warnings).toEqual(['yes/long.wav: long']);
    expect(progress).toEqual([1, 2, 3]);
    expect(skipped).toEqual(['no/bad.wav']);
    expect(s.files).toEqual(['no/a.wav', 'yes/long.wav']);
    expect(s.data.length).toBe(2 * 101 * 13);
  });

  it('keeps every clip: the first clip of two holds what it holds alone', async () => {
    const two = await computeFeatures(await folder('two-clips', ['no/a.wav', 'yes/b.wav']));
    const one = await computeFeatures(await folder('first-alone', ['no/a.wav']), { keyword: 'no' });
    const size = one.frames * one.features;
    expect(one.data.some((v) => v !== 0)).toBe(true);
    expect(Array.from(two.data.subarray(0, size))).toEqual(Array.from(one.data));
  });

  it("sorts labels across noise slices: a '_go' folder comes before the slices' '_silence_'", async () => {
    // listClips lists folders in code-point order, so the slices of '_background_noise_' come first, labelled
    // '_silence_'; sorted, '_go' ('g' < 's') is label 0.
    const root = await folder('noise-order', ['_go/a.wav', 'yes/a.wav']);
    await mkdir(path.join(root, '_background_noise_'));
    await writeWav(
      path.join(root, '_background_noise_', 'n.wav'),
      Float64Array.from({ length: 16000 }, (_, i) => 0.1 * Math.sin(i / 3)),
      16000,
    );
    const s = await computeFeatures(root, { backgroundNoise: 'slice' });
    expect(s.files).toEqual(['_background_noise_/n.wav#0', '_go/a.wav', 'yes/a.wav']);
    expect(s.labels).toEqual(['_go', '_silence_', 'yes']);
    expect(Array.from(s.label)).toEqual([1, 0, 2]);
  });

  it('names the folder when no clip can be read', async () => {
    const root = await folder('all-bad', [], ['yes/a.wav', 'no/b.wav']);
    await expect(computeFeatures(root, { onBadClip: () => undefined })).rejects.toThrow(
      `${root}: has no readable clips`,
    );
  });
});

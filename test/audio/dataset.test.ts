import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keywordTarget, listClips, loadDataset, splitAssigner, whichSet } from '../../src/audio/dataset.js';
import {
  computeFeatures,
  readFeatureFile,
  splitCounts,
  writeFeatureFile,
  clipInputs,
} from '../../src/audio/features.js';
import { clipFeatures } from '../../src/audio/mfcc.js';
import { writeWav } from '../../src/audio/wav.js';

const tone = (hz: number, n: number, rateHz = 16000) =>
  Float64Array.from({ length: n }, (_, i) => 0.3 * Math.sin((2 * Math.PI * hz * i) / rateHz));

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'bmru-dataset-'));
  const put = async (file: string, samples: Float64Array, rateHz = 16000) => {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await writeWav(path.join(root, file), samples, rateHz);
  };
  await put('yes/b_nohash_0.wav', tone(500, 16000));
  await put('yes/a_nohash_1.wav', tone(600, 12000));
  await put('no/a_nohash_0.wav', tone(300, 22050, 22050), 22050);
  await put('_background_noise_/hum.wav', tone(50, 40000)); // 2.5 s: two whole seconds
  await put('.hidden/x.wav', tone(50, 100));
  await writeFile(path.join(root, 'README.md'), 'not a clip\n');
  await writeFile(path.join(root, 'no', 'notes.txt'), 'not a clip\n');
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('listClips', () => {
  it('lists <label>/*.wav sorted by label then name, skipping hidden folders, other files and _background_noise_', async () => {
    const refs = await listClips(root);
    expect(refs.map((r) => r.file)).toEqual(['no/a_nohash_0.wav', 'yes/a_nohash_1.wav', 'yes/b_nohash_0.wav']);
    expect(refs.map((r) => r.label)).toEqual(['no', 'yes', 'yes']);
    expect(refs[0].path).toBe(path.join(root, 'no', 'a_nohash_0.wav'));
  });

  it("cuts _background_noise_ files into whole seconds labelled _silence_ when asked ('slice')", async () => {
    const refs = await listClips(root, 'slice');
    const slices = refs.filter((r) => r.label === '_silence_');
    expect(slices.map((r) => [r.file, r.slice])).toEqual([
      ['_background_noise_/hum.wav', 0],
      ['_background_noise_/hum.wav', 1],
    ]);
  });

  it('names the folder when it is missing or holds no clip', async () => {
    await expect(listClips(path.join(root, 'nope'))).rejects.toThrow(
      `${path.join(root, 'nope')}: cannot read data set folder (ENOENT)`,
    );
    await expect(listClips(path.join(root, 'yes'))).rejects.toThrow('no clips found: expected <label>/<name>.wav');
  });
});

describe('loadDataset', () => {
  it('gives every clip 16000 samples at 16 kHz (padded, resampled)', async () => {
    const clips = await loadDataset(root, 'slice');
    expect(clips).toHaveLength(5);
    for (const c of clips) expect(c.samples.length).toBe(16000);
    const short = clips.find((c) => c.file === 'yes/a_nohash_1.wav')!;
    expect(short.samples.subarray(12000).every((v) => v === 0)).toBe(true);
    const resampled = clips.find((c) => c.label === 'no')!;
    expect(resampled.samples[4000]).toBeCloseTo(0.3 * Math.sin((2 * Math.PI * 300 * 4000) / 16000), 2);
  });
});

describe('labels and splits', () => {
  it('gives the keyword class 1 and every other label, silence included, class 0', () => {
    expect([keywordTarget('yes'), keywordTarget('no'), keywordTarget('_silence_'), keywordTarget('yes', 'up')]).toEqual(
      [1, 0, 0, 0],
    );
  });

  it("reproduces Speech Commands' which_set (values from the Python original's formula, hashlib.sha1)", () => {
    expect(whichSet('00000000_nohash_0.wav')).toBe('validation');
    expect(whichSet('9e3779b1_nohash_0.wav')).toBe('validation');
    expect(whichSet('be1e0823_nohash_0.wav')).toBe('test');
    expect(whichSet('c6ef3620_nohash_0.wav')).toBe('test');
    expect(whichSet('3c6ef362_nohash_0.wav')).toBe('train');
    expect(whichSet('yes/0a7c2a8d_nohash_0.wav')).toBe('train');
  });

  it('puts all of a speaker in one split and about 10 % / 10 % / 80 % of speakers in validation / test / train', () => {
    expect(whichSet('yes/9a7c1f83_nohash_0.wav')).toBe(whichSet('no/9a7c1f83_nohash_4.wav'));
    const counts = { train: 0, validation: 0, test: 0 };
    for (let i = 0; i < 5000; i++)
      counts[whichSet(`${((i * 2654435761) >>> 0).toString(16).padStart(8, '0')}_nohash_0.wav`)]++;
    expect(counts.validation / 5000).toBeCloseTo(0.1, 1);
    expect(counts.test / 5000).toBeCloseTo(0.1, 1);
  });

  it('takes the split lists when the folder has them (a clip in neither is training)', async () => {
    const byHash = await splitAssigner(root);
    expect(byHash({ label: 'yes', file: 'yes/be1e0823_nohash_0.wav', path: '' })).toBe('test');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'bmru-lists-'));
    try {
      await writeFile(path.join(dir, 'validation_list.txt'), 'yes/a_nohash_1.wav\n');
      await writeFile(path.join(dir, 'testing_list.txt'), 'no/a_nohash_0.wav\r\n\n');
      const byList = await splitAssigner(dir);
      expect(
        ['yes/a_nohash_1.wav', 'no/a_nohash_0.wav', 'yes/be1e0823_nohash_0.wav'].map((file) =>
          byList({ label: '', file, path: '' }),
        ),
      ).toEqual(['validation', 'test', 'train']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('features file', () => {
  it("holds every clip's normalised MFCCs, labels, targets and splits, and reads back as written (float32)", async () => {
    const set = await computeFeatures(root, { backgroundNoise: 'slice' });
    expect(set.files).toEqual([
      '_background_noise_/hum.wav#0',
      '_background_noise_/hum.wav#1',
      'no/a_nohash_0.wav',
      'yes/a_nohash_1.wav',
      'yes/b_nohash_0.wav',
    ]);
    expect(set.labels).toEqual(['_silence_', 'no', 'yes']);
    expect(Array.from(set.label)).toEqual([0, 0, 1, 2, 2]);
    expect(Array.from(set.target)).toEqual([0, 0, 0, 1, 1]);
    expect([set.frames, set.features]).toEqual([101, 13]);
    const want = clipFeatures((await loadDataset(root)).find((c) => c.file === 'yes/b_nohash_0.wav')!.samples);
    expect(Array.from(clipInputs(set, 4).data)).toEqual(Array.from(want.data));

    const file = path.join(root, 'features.safetensors');
    await writeFeatureFile(file, set);
    const back = await readFeatureFile(file);
    expect(back.files).toEqual(set.files);
    expect(back.labels).toEqual(set.labels);
    expect(Array.from(back.label)).toEqual(Array.from(set.label));
    expect(Array.from(back.target)).toEqual(Array.from(set.target));
    expect(Array.from(back.split)).toEqual(Array.from(set.split));
    expect(back.mfcc).toMatchObject({ nFft: 512, hopSamples: 160, nMels: 40, nMfcc: 13 });
    back.data.forEach((v, i) => expect(v).toBe(Math.fround(set.data[i])));
    expect(splitCounts(back).map((r) => r[0])).toEqual(['_silence_', 'no', 'yes']);
  });

  it('refuses a keyword no clip has, naming the folder and the labels there', async () => {
    await expect(computeFeatures(root, { keyword: 'banana' })).rejects.toThrow(
      /has no clips of the keyword 'banana' \(labels: no, yes\)/,
    );
  });

  it('stops at an unreadable clip unless asked to skip it; skipped, the rest is the set without it', async () => {
    const bad = await mkdtemp(path.join(os.tmpdir(), 'bmru-dataset-bad-'));
    try {
      await mkdir(path.join(bad, 'yes'), { recursive: true });
      await mkdir(path.join(bad, 'no'), { recursive: true });
      await writeWav(path.join(bad, 'yes', 'a_nohash_0.wav'), tone(500, 16000), 16000);
      await writeFile(path.join(bad, 'yes', 'b_nohash_0.wav'), 'RIFF, but not a WAV file');
      await writeWav(path.join(bad, 'no', 'a_nohash_0.wav'), tone(300, 16000), 16000);
      await expect(computeFeatures(bad)).rejects.toThrow(/b_nohash_0\.wav/);
      const skipped: string[] = [];
      const set = await computeFeatures(bad, { onBadClip: (file) => skipped.push(file) });
      expect(skipped).toEqual(['yes/b_nohash_0.wav']);
      expect(set.files).toEqual(['no/a_nohash_0.wav', 'yes/a_nohash_0.wav']);
      expect(Array.from(set.target)).toEqual([0, 1]);
      expect(set.data.length).toBe(2 * 101 * 13);
      const want = clipFeatures((await loadDataset(root)).find((c) => c.file === 'yes/b_nohash_0.wav')!.samples);
      // yes/a here is the same 500 Hz tone as yes/b of the main set: its features, in the second row.
      expect(Array.from(set.data.subarray(101 * 13))).toEqual(Array.from(want.data));
    } finally {
      await rm(bad, { recursive: true, force: true });
    }
  });

  it("stores label, target and split as int64 (the targets PyTorch's CrossEntropyLoss takes), the MFCCs as float32", async () => {
    const set = await computeFeatures(root, { backgroundNoise: 'slice' });
    const file = path.join(root, 'features-i64.safetensors');
    await writeFeatureFile(file, set);
    const bytes = await readFile(file);
    const headerLen = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + headerLen).toString('utf8'));
    expect(header.mfcc.dtype).toBe('F32');
    // Back to back from 0 to the end (the reference reader refuses gaps), each tensor on a whole value of its dtype.
    const spans = Object.entries(header)
      .filter(([k]) => k !== '__metadata__')
      .map(([, v]) => (v as { data_offsets: [number, number] }).data_offsets)
      .sort((a, b) => a[0] - b[0]);
    expect(spans.map(([b]) => b)).toEqual([0, ...spans.slice(0, -1).map(([, e]) => e)]);
    expect(spans.at(-1)![1]).toBe(bytes.length - 8 - headerLen);
    expect(header.label.data_offsets[0] % 8).toBe(0);
    for (const [name, want] of [
      ['label', set.label],
      ['target', set.target],
      ['split', set.split],
    ] as const) {
      expect(header[name], name).toMatchObject({ dtype: 'I64', shape: [5] });
      const [begin, end] = header[name].data_offsets as [number, number];
      const raw = bytes.subarray(8 + headerLen + begin, 8 + headerLen + end);
      const values = new BigInt64Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
      expect(Array.from(values, Number), name).toEqual(Array.from(want));
    }
  });

  it('still reads a features file written before, with F32 label, target and split', async () => {
    const set = await computeFeatures(root, { backgroundNoise: 'slice' });
    const file = path.join(root, 'features-f32.safetensors');
    await writeFeatureFile(file, set);
    const { parseSafetensors, writeSafetensors } = await import('../../src/model/safetensors.js');
    const { tensors, metadata } = parseSafetensors(await readFile(file), file, ['F32', 'I64']);
    await writeFile(file, writeSafetensors(tensors, metadata as Record<string, string>, 'F32'));
    const header = (await readFile(file)).subarray(8, 8 + Number((await readFile(file)).readBigUInt64LE(0)));
    expect(JSON.parse(header.toString('utf8')).label.dtype).toBe('F32');
    const back = await readFeatureFile(file);
    expect(Array.from(back.label)).toEqual(Array.from(set.label));
    expect(Array.from(back.target)).toEqual(Array.from(set.target));
    expect(Array.from(back.split)).toEqual(Array.from(set.split));
  });

  it('refuses an int64 index beyond 2^53 (not exact as a number), naming the tensor and index', async () => {
    const set = await computeFeatures(root, { backgroundNoise: 'slice' });
    const file = path.join(root, 'features-big.safetensors');
    await writeFeatureFile(file, set);
    const bytes = await readFile(file);
    const headerLen = Number(bytes.readBigUInt64LE(0));
    const [begin] = JSON.parse(bytes.subarray(8, 8 + headerLen).toString('utf8')).label.data_offsets as number[];
    bytes.writeBigInt64LE(2n ** 53n + 1n, 8 + headerLen + begin + 2 * 8);
    await writeFile(file, bytes);
    await expect(readFeatureFile(file)).rejects.toThrow(
      `${file} 'label' at index 2: expected an integer within +-2^53 (read as a float64 exactly), got 9007199254740992`,
    );
  });

  it('names the file and the field when it is not a features file', async () => {
    const file = path.join(root, 'other.safetensors');
    const { writeSafetensors } = await import('../../src/model/safetensors.js');
    await writeFile(file, writeSafetensors(new Map(), { format: 'something-else' }));
    await expect(readFeatureFile(file)).rejects.toThrow(
      `${file} '__metadata__.format': expected metadata format 'bmru-kws-features/1', got "something-else"`,
    );
  });

  it('checks the JSON in its metadata and the range of its label, target and split indices', async () => {
    const set = await computeFeatures(root, { backgroundNoise: 'slice' });
    const file = path.join(root, 'bad-meta.safetensors');
    const { writeSafetensors } = await import('../../src/model/safetensors.js');
    await writeFile(file, writeSafetensors(new Map(), { format: 'bmru-kws-features/1', files: '{}' }));
    // This used to get past the metadata and fail on "expected shape [undefined, frames, features]".
    await expect(readFeatureFile(file)).rejects.toThrow(
      `${file} '__metadata__.files': expected a list of file names, got {}`,
    );
    await writeFeatureFile(file, { ...set, split: Uint8Array.from(set.split, (s, i) => (i === 3 ? 7 : s)) });
    await expect(readFeatureFile(file)).rejects.toThrow(
      `${file} 'split' at index 3: expected 0 (train), 1 (validation) or 2 (test), got 7`,
    );
  });
});

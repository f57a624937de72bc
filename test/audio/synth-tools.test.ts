/**
 * The synthetic keyword set made with espeak-ng and sox, read back by the real-WAV loader. Needs both tools:
 * vitest.config.ts skips this file without them, and fails the run in CI (the plan's pure tests are in
 * synth.test.ts).
 */
import { createHash } from 'node:crypto';
import { readFile, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listClips, loadDataset, splitAssigner } from '../../src/audio/dataset.js';
import { computeFeatures, writeFeatureFile } from '../../src/audio/features.js';
import { DEFAULT_SYNTH, generateSynthSet, planClips, type SynthSettings } from '../../src/audio/synth.js';
import { readWav } from '../../src/audio/wav.js';

/** A tiny set: 3 "yes", 2 each of "no" and "up", 2 silence, one speaker per split. */
const TINY: SynthSettings = {
  ...DEFAULT_SYNTH,
  keywordClips: 3,
  others: ['no', 'up'],
  otherClips: 4,
  silenceClips: 2,
  speakers: 3,
  validationPercent: 34,
  testPercent: 33,
};

const md5 = async (file: string) =>
  createHash('md5')
    .update(await readFile(file))
    .digest('hex');

describe('the generator with espeak-ng and sox, read back by the real-WAV loader', () => {
  let tmp: string;
  let out: string;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'bmru-synth-'));
    out = path.join(tmp, 'set');
    await generateSynthSet(out, TINY, { concurrency: 2 });
  });
  afterAll(() => rm(tmp, { recursive: true, force: true }));

  it('writes <label>/<file>.wav clips that listClips finds, all of them and nothing else', async () => {
    const refs = await listClips(out);
    expect(refs.map((r) => r.file).sort()).toEqual(
      planClips(TINY)
        .map((c) => c.file)
        .sort(),
    );
    expect(new Set(refs.map((r) => r.label))).toEqual(new Set(['yes', 'no', 'up', '_silence_']));
  });

  it('writes 16 kHz mono 16-bit clips of exactly 1 s that the loader decodes, words audible above the noise', async () => {
    for (const clip of await loadDataset(out)) {
      const wav = await readWav(clip.path);
      expect(wav).toMatchObject({ sampleRateHz: 16000, channels: 1, bitsPerSample: 16, encoding: 'pcm' });
      expect(wav.samples.length).toBe(16000);
      const peak = Math.max(...Array.from(clip.samples, Math.abs));
      if (clip.label === '_silence_') expect(peak).toBeLessThan(0.1);
      else expect(peak).toBeGreaterThan(0.08); // peak normalised to -20..-3 dBFS (0.1..0.71), plus noise
    }
  });

  it('writes the split lists that the loader uses, matching the plan', async () => {
    const splitOf = await splitAssigner(out);
    const byFile = new Map(planClips(TINY).map((c) => [c.file, c.split]));
    for (const ref of await listClips(out)) expect(splitOf(ref)).toBe(byFile.get(ref.file));
    expect(new Set(byFile.values())).toEqual(new Set(['train', 'validation', 'test']));
  });

  it('gives the features pipeline 101 x 13 frames per clip, keyword targets from the folder names', async () => {
    const set = await computeFeatures(out);
    expect(set.files).toHaveLength(9);
    expect(set.data.length).toBe(9 * 101 * 13);
    expect(Array.from(set.target).filter((t) => t === 1)).toHaveLength(3);
    expect(set.data.every(Number.isFinite)).toBe(true);
  });

  it('reuses a complete set, remakes a deleted clip identically, and is byte-for-byte reproducible in another folder', async () => {
    const again = await generateSynthSet(out, TINY);
    expect([again.generated, again.reused]).toEqual([0, 9]);
    const victim = path.join(out, planClips(TINY)[0].file);
    const before = await md5(victim);
    await rm(victim);
    const redo = await generateSynthSet(out, TINY);
    expect([redo.generated, redo.reused]).toEqual([1, 8]);
    expect(await md5(victim)).toBe(before);

    const twin = path.join(tmp, 'twin');
    await generateSynthSet(twin, TINY);
    for (const c of planClips(TINY))
      expect(await md5(path.join(twin, c.file)), c.file).toBe(await md5(path.join(out, c.file)));
  });

  it('replaces the set when the settings change, leaving no clip of the old one nor its features file', async () => {
    const dir = path.join(tmp, 'changing');
    await generateSynthSet(dir, TINY);
    await writeFeatureFile(path.join(dir, 'features.safetensors'), await computeFeatures(dir));
    const changed = { ...TINY, others: ['go'], otherClips: 1 };
    const r = await generateSynthSet(dir, changed);
    expect(r.generated).toBe(planClips(changed).length);
    expect((await listClips(dir)).map((c) => c.file).sort()).toEqual(
      planClips(changed)
        .map((c) => c.file)
        .sort(),
    );
    expect((await readdir(dir)).sort()).toEqual([
      '_background_noise_',
      '_silence_',
      'go',
      'manifest.json',
      'testing_list.txt',
      'validation_list.txt',
      'yes',
    ]);
    await expect(stat(path.join(dir, 'no'))).rejects.toThrow('ENOENT');
  });
});

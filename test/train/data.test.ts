import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { writeSafetensors } from '../../src/model/safetensors.js';
import { loadTrainingData } from '../../src/train/data.js';
import { toyFeatureSet, writeToyFeatureFile } from './toy.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'bmru-train-data-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Expect loadTrainingData(file) to fail with an InputError whose message names the file and each of `mentions`. */
async function expectInputError(file: string, field: string, ...mentions: string[]) {
  const err = await loadTrainingData(file).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InputError);
  const e = err as InputError;
  expect(e.file).toBe(file);
  expect(e.field).toBe(field);
  expect(e.message).toContain(file);
  expect(e.message).toContain(`'${field}'`);
  for (const m of mentions) expect(e.message).toContain(m);
}

describe('loadTrainingData', () => {
  it('reads a features file and indexes its splits', async () => {
    const file = path.join(dir, 'ok.safetensors');
    await writeToyFeatureFile(file);
    const d = await loadTrainingData(file);
    expect([d.splits.train.length, d.splits.validation.length, d.splits.test.length]).toEqual([24, 8, 8]);
    expect(d.frames).toBe(20);
    expect(d.features).toBe(13);
  });

  it('names the file when it cannot be read', async () => {
    const file = path.join(dir, 'missing.safetensors');
    await expect(loadTrainingData(file)).rejects.toThrow(file);
  });

  it('names the file and the field of a wrong value', async () => {
    const bad = async (name: string, edit: (s: ReturnType<typeof toyFeatureSet>) => void) => {
      const set = toyFeatureSet();
      edit(set);
      const file = path.join(dir, name);
      await writeToyFeatureFile(file, set);
      return file;
    };
    await expectInputError(
      await bad('target.safetensors', (s) => (s.target[3] = 2)),
      'target',
      'at index 3',
      'expected 0 (other) or 1 (keyword), got 2',
    );
    await expectInputError(await bad('split.safetensors', (s) => (s.split[5] = 7)), 'split', 'at index 5', 'got 7');
    await expectInputError(
      await bad('nan.safetensors', (s) => (s.data[(2 * 20 + 4) * 13 + 6] = NaN)),
      'mfcc',
      'at index [2, 4, 6]',
      'finite',
    );
    await expectInputError(
      await bad('notrain.safetensors', (s) => s.split.fill(1)),
      'split',
      'no clip is in the training split',
    );
    await expectInputError(await bad('oneclass.safetensors', (s) => s.target.fill(1)), 'target', 'only class 1');
  });

  it('names the missing tensor and a file of another format', async () => {
    const set = toyFeatureSet();
    const n = set.files.length;
    const meta = {
      format: 'bmru-kws-features/1',
      keyword: 'yes',
      labels: '["no","yes"]',
      splits: '["train","validation","test"]',
      files: JSON.stringify(set.files),
      mfcc: '{}',
      source: 'toy',
    };
    const tensors = new Map([
      ['mfcc', { shape: [n, set.frames, set.features], data: set.data }],
      ['label', { shape: [n], data: Float64Array.from(set.label) }],
      ['split', { shape: [n], data: Float64Array.from(set.split) }],
    ]);
    const noTarget = path.join(dir, 'no-target.safetensors');
    await writeFile(noTarget, writeSafetensors(tensors, meta));
    await expectInputError(noTarget, 'target', 'missing tensor');
    const model = path.join(dir, 'model.safetensors');
    await writeFile(model, writeSafetensors(tensors, { arch: 'fq-bmru' }));
    await expectInputError(model, '__metadata__.format', 'bmru-kws-features/1');
  });
});

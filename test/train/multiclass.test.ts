/** More than two classes: confusion matrices, class names through the features file, N-class training. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classTarget, multiClasses } from '../../src/audio/dataset.js';
import { chooseClasses, readFeatureFile, writeFeatureFile } from '../../src/audio/features.js';
import { InputError } from '../../src/errors.js';
import { parseSafetensors } from '../../src/model/safetensors.js';
import { readFile } from 'node:fs/promises';
import { checkInitShape } from '../../src/cli/commands/train.js';
import { trainingData } from '../../src/train/data.js';
import { defaultMarginAfter, trainNetwork } from '../../src/train/trainer.js';
import { confusionHtml } from '../../src/train/report.js';
import { confusionMatrix, matrixAccuracy, perClassAccuracy } from '../../src/util/confusion.js';
import { toyFeatureSet, toyMultiFeatureSet } from './toy.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'bmru-multiclass-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('confusionMatrix', () => {
  it('counts a fabricated list of (target, decision) pairs as worked by hand', () => {
    // 3 classes, 9 clips: class 0 -> 0, 0, 1; class 1 -> 1, 2; class 2 -> 2, 2, 2, 0.
    const pairs: [number, number][] = [
      [0, 0],
      [1, 1],
      [2, 2],
      [0, 1],
      [2, 2],
      [1, 2],
      [2, 0],
      [0, 0],
      [2, 2],
    ];
    const m = confusionMatrix(pairs, 3);
    expect(m).toEqual([
      [2, 1, 0],
      [0, 1, 1],
      [1, 0, 3],
    ]);
    expect(perClassAccuracy(m)).toEqual([2 / 3, 1 / 2, 3 / 4]);
    expect(matrixAccuracy(m)).toBeCloseTo(6 / 9, 15);
    // A class with no clip has no accuracy (null), not 0.
    expect(perClassAccuracy(confusionMatrix([[0, 0]], 2))).toEqual([1, null]);
    expect(() => confusionMatrix([[0, 3]], 3)).toThrow(/outside 0\.\.2/);
  });
});

describe('confusionHtml', () => {
  it('lays the matrix out as rows of true classes, the diagonal in bold, names escaped', () => {
    const html = confusionHtml(
      [
        [2, 1],
        [0, 3],
      ],
      ['<a>', 'yes'],
    );
    expect(html).toContain('<tr><th>true \\ decided</th><th>&lt;a&gt;</th><th>yes</th></tr>');
    expect(html).toContain('<tr><th>&lt;a&gt;</th><td><b>2</b></td><td>1</td></tr>');
    expect(html).toContain('<tr><th>yes</th><td>0</td><td><b>3</b></td></tr>');
  });
});

describe('N-class targets', () => {
  it('puts silence first, unknown second, then the keywords in the given order', () => {
    expect(multiClasses(['yes', 'no'])).toEqual(['_silence_', '_unknown_', 'yes', 'no']);
    expect(['_silence_', 'left', 'yes', 'no', 'go'].map((l) => classTarget(l, ['yes', 'no']))).toEqual([0, 1, 2, 3, 1]);
  });

  it('refuses keywords absent from the labels, naming the labels present; repeated keywords; silence as a keyword', () => {
    const labels = ['_silence_', 'no', 'yes'];
    const refusal = (keywords: string[]) => {
      try {
        chooseClasses(labels, { keywords }, 'set');
      } catch (e) {
        expect(e).toBeInstanceOf(InputError);
        expect((e as InputError).field).toBe('keywords');
        return (e as Error).message;
      }
      throw new Error('not refused');
    };
    expect(refusal(['yes', 'up'])).toContain("has no clips of 'up' (labels: _silence_, no, yes)");
    expect(refusal(['no', 'no'])).toContain("names 'no' twice");
    expect(refusal(['_silence_'])).toContain('silence is class 0');
    expect(refusal([])).toContain('at least one keyword');
    expect(chooseClasses(labels, { keyword: 'yes' }, 'set').classes).toEqual(['other', 'yes']);
  });

  it('keeps the class names through the features file; a 2-class file has no classes metadata', async () => {
    const file = path.join(dir, 'multi.safetensors');
    const set = toyMultiFeatureSet(['yes', 'no', 'up', 'down']);
    await writeFeatureFile(file, set);
    const back = await readFeatureFile(file);
    expect(back.classes).toEqual(['_silence_', '_unknown_', 'yes', 'no', 'up', 'down']);
    expect(Array.from(back.target)).toEqual(Array.from(set.target));
    const two = path.join(dir, 'two.safetensors');
    await writeFeatureFile(two, toyFeatureSet());
    const meta = parseSafetensors(await readFile(two), two, ['F32', 'I64']).metadata as Record<string, string>;
    expect(Object.keys(meta)).not.toContain('classes');
    expect((await readFeatureFile(two)).classes).toEqual(['other', 'yes']);
  });

  it('refuses a target beyond the classes, naming them', () => {
    const set = toyMultiFeatureSet(['yes']);
    const target = Uint8Array.from(set.target);
    target[5] = 3;
    expect(() => trainingData({ ...set, target }, 'f.safetensors')).toThrow(
      'expected a class index 0 to 2 (_silence_, _unknown_, yes), got 3',
    );
  });
});

describe('N-class training', () => {
  it('reaches 100% on a separable 5-class toy set, every test clip on the diagonal', async () => {
    // 20 groups of 5 clips (one per class): groups 4, 9, 14, 19 test (4 clips per class), 3, 7, 11 validation.
    const data = trainingData(toyMultiFeatureSet(['yes', 'no', 'up']), 'toy');
    expect(data.splits.test.length).toBe(20);
    const r = await trainNetwork(data, {
      width: 6,
      epochs: 40,
      batchSize: 8,
      warmupSteps: 5,
      lr: 0.03,
      seed: 1,
      margin: 0,
    });
    expect(r.network.classes).toBe(5);
    expect(r.scores.train!.accuracy).toBe(1);
    expect(r.scores.test!.accuracy).toBe(1);
    expect(r.scores.test!.confusion).toEqual([
      [4, 0, 0, 0, 0],
      [0, 4, 0, 0, 0],
      [0, 0, 4, 0, 0],
      [0, 0, 0, 4, 0],
      [0, 0, 0, 0, 4],
    ]);
    expect(r.scores.test!.perClass).toEqual([1, 1, 1, 1, 1]);
  });

  it('fades the margin in after 30% of the steps by default for more than 2 classes (from the start it stalled a 6-class run)', () => {
    expect(defaultMarginAfter(2)).toBe(0);
    expect(defaultMarginAfter(3)).toBe(0.3);
    expect(defaultMarginAfter(12)).toBe(0.3);
  });

  it('--margin-after holds the margin penalty back for that fraction of the steps', async () => {
    const data = trainingData(toyMultiFeatureSet(['yes', 'no']), 'toy');
    const base = { width: 4, epochs: 3, batchSize: 8, warmupSteps: 2, seed: 2, margin: 2, marginWeight: 1 };
    const run = (o: object) => trainNetwork(data, { ...base, ...o });
    const none = await run({ margin: 0 });
    // Held back for every step: the run without a margin, bit for bit.
    const never = await run({ marginAfter: 1 });
    expect(never.theta).toEqual(none.theta);
    expect(never.history.map((h) => h.penalty)).toEqual(none.history.map((h) => h.penalty));
    // From half-way (inside epoch 2): epoch 1 is the run without a margin, epoch 3 pays the penalty.
    const half = (await run({ marginAfter: 0.5 })).history.map((h) => h.penalty);
    const free = none.history.map((h) => h.penalty);
    expect(half[0]).toBe(free[0]);
    expect(half[2]).toBeGreaterThan(free[2] + 0.1);
    // From the first step: epoch 1 already pays it.
    expect((await run({ marginAfter: 0 })).history[0].penalty).toBeGreaterThan(free[0] + 0.1);
  });

  it('--init must have the class count of the features file', async () => {
    const two = await trainNetwork(trainingData(toyFeatureSet(), 'toy'), { epochs: 1, batchSize: 8 });
    const data = trainingData(toyMultiFeatureSet(['yes', 'no']), 'toy');
    const flags = { width: 4, blocks: 2, skip: true };
    expect(() => checkInitShape(two.network, flags, data, 'm.json')).toThrow(
      /has shape F=13 H=4 S=4 L=2 C=2 skip=true, training needs F=13 H=4 S=4 L=2 C=4 skip=true .*_silence_, _unknown_, yes, no/,
    );
    expect(() => checkInitShape(two.network, flags, trainingData(toyFeatureSet(), 'toy'), 'm.json')).not.toThrow();
  });
});

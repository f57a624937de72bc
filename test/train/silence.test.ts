import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isKeywordClass, multiClasses, binaryClasses } from '../../src/audio/dataset.js';
import { clipFeatures } from '../../src/audio/mfcc.js';
import { loadModel } from '../../src/model/load.js';
import { runNetwork } from '../../src/model/network.js';
import { paramLayout, rawNetworkView } from '../../src/train/params.js';
import { selectCheckpoint, silentDecision } from '../../src/train/trainer.js';
import { silenceLine } from '../../src/cli/commands/train.js';
import { REPO_ROOT } from '../helpers.js';

const SHAPE = { inputs: 3, width: 2, blocks: 1, classes: 3, skip: true };

describe('silentDecision', () => {
  it('is the class the biases alone pick when every feature is 0', () => {
    const layout = paramLayout(SHAPE);
    const theta = new Float64Array(layout.size);
    const outBias = layout.bySlot.get('out.bias')!.offset;
    // Every weight 0: each frame's logits are the classifier's biases, whatever the cells do.
    theta.set([0.1, -1, 0.4], outBias);
    expect(silentDecision(rawNetworkView(layout, theta), 5)).toBe(2);
    theta.set([0.5, -1, 0.4], outBias);
    expect(silentDecision(rawNetworkView(layout, theta), 5)).toBe(0);
    // A tie goes to the lower class (DESIGN §1).
    theta.set([-1, 0.4, 0.4], outBias);
    expect(silentDecision(rawNetworkView(layout, theta), 5)).toBe(1);
  });

  it('is what the features of a digitally silent clip give the reference loop (runNetwork), on the shipped model', async () => {
    const features = clipFeatures(new Float64Array(16000));
    // The per-clip normalisation of a constant signal: every feature 0, but for the rounding of the mean (~1e-7).
    expect(features.data.every((v) => Math.abs(v) < 1e-6)).toBe(true);
    const net = await loadModel(path.join(REPO_ROOT, 'models/kws/kws-w4.json'));
    const reference = runNetwork(net, features).decision;
    expect(silentDecision(net, features.frames)).toBe(reference);
    // The shipped keyword model says 'other' on silence (the old model said 'yes').
    expect(reference).toBe(0);
    const old = await loadModel(path.join(REPO_ROOT, 'test/fixtures/models/kws-w4-startup.json'));
    expect(silentDecision(old, features.frames)).toBe(runNetwork(old, features).decision);
    expect(silentDecision(old, features.frames)).toBe(1);
  });
});

describe('isKeywordClass', () => {
  it('counts only the classes that trigger something', () => {
    expect(binaryClasses('yes').map(isKeywordClass)).toEqual([false, true]);
    expect(multiClasses(['yes', 'no']).map(isKeywordClass)).toEqual([false, false, true, true]);
  });
});

describe('selectCheckpoint with a guard', () => {
  const layout = paramLayout(SHAPE);
  const ck = (epoch: number, acc: number, loss: number) => ({
    epoch,
    acc,
    loss,
    theta: new Float64Array(layout.size),
  });
  const checkpoints = [ck(1, 0.8, 0.5), ck(2, 0.95, 0.4), ck(3, 0.9, 0.3), ck(4, 0.85, 0.2)];

  it('keeps the best checkpoint the guard allows and counts the refused ones', () => {
    const r = selectCheckpoint(checkpoints, layout, { selectSlack: 0.01 }, (c) => c.epoch !== 2);
    expect(r.best.epoch).toBe(3);
    expect(r.excluded).toBe(1);
    expect(r.changed).toBe(true);
  });

  it('says nothing changed when the refused checkpoints would not have been kept anyway', () => {
    const r = selectCheckpoint(checkpoints, layout, { selectSlack: 0.01 }, (c) => c.epoch !== 4);
    expect(r.best.epoch).toBe(2);
    expect(r.excluded).toBe(1);
    expect(r.changed).toBe(false);
  });

  it('scores each checkpoint on the hardware once, though it picks twice (with and without the guard)', () => {
    let calls = 0;
    const hardwareScore = () => ++calls;
    const r = selectCheckpoint(checkpoints, layout, { selectSlack: 0.2, hardwareScore }, (c) => c.epoch !== 2);
    // Within 0.2 of the best accuracy: all four unguarded, three guarded; four distinct checkpoints in all.
    expect(calls).toBe(4);
    expect(r.hardware!.map((h) => h.epoch)).toEqual([1, 3, 4]);
  });

  it('falls back to every checkpoint when the guard allows none', () => {
    const r = selectCheckpoint(checkpoints, layout, { selectSlack: 0.01 }, () => false);
    expect(r.best.epoch).toBe(2);
    expect(r.excluded).toBe(4);
    expect(r.changed).toBe(false);
  });
});

describe('silenceLine', () => {
  const classes = multiClasses(['yes', 'no']);
  it('warns when the kept model decides a keyword on silence despite the guard', () => {
    const line = silenceLine({ silence: { decision: 2, keyword: true, excluded: 9, changed: false } }, classes, true);
    expect(line).toMatch(/^WARNING: .*'yes', a keyword/);
  });
  it('names the class and what the guard did', () => {
    const line = silenceLine({ silence: { decision: 0, keyword: false, excluded: 3, changed: true } }, classes, true);
    expect(line).toContain("decided '_silence_'");
    expect(line).toContain('3 checkpoints that decided a keyword were left out, which changed the kept one');
  });
});

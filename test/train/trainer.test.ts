import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, saveModel } from '../../src/model/load.js';
import { runNetwork } from '../../src/model/network.js';
import { allocTape, forwardClip, networkThresholds } from '../../src/train/bptt.js';
import { LIMITS } from '../../src/train/optim.js';
import { rawNetworkView, realisedNetwork, tensorView } from '../../src/train/params.js';
import { signalStats } from '../../src/train/report.js';
import { runCumulative } from '../../src/model/cumulative.js';
import { cumulativeAt, forwardEpsAt, trainNetwork } from '../../src/train/trainer.js';
import { toyData } from './toy.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'bmru-train-test-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('trainNetwork', () => {
  it('reaches 100% on a separable toy set within a few dozen steps', async () => {
    const data = toyData();
    // 24 training clips, batch 8: 3 steps per epoch, 36 steps in all.
    const r = await trainNetwork(data, { epochs: 12, batchSize: 8, warmupSteps: 5, lr: 0.03, seed: 1 });
    expect(r.history.at(-1)!.steps).toBe(36);
    expect(r.scores.train!.accuracy).toBe(1);
    expect(r.scores.validation!.accuracy).toBe(1);
    expect(r.scores.test!.accuracy).toBe(1);
    expect(r.history.at(-1)!.trainLoss).toBeLessThan(r.history[0].trainLoss);
  });

  it('is reproducible from the seed, and the seed matters', async () => {
    const data = toyData();
    const opts = { epochs: 3, batchSize: 8, seed: 5 };
    const a = await trainNetwork(data, opts);
    const b = await trainNetwork(data, opts);
    const c = await trainNetwork(data, { ...opts, seed: 6 });
    expect(Array.from(a.theta)).toEqual(Array.from(b.theta));
    expect(Array.from(a.theta)).not.toEqual(Array.from(c.theta));
  });

  it('keeps every parameter inside the realisable limits', async () => {
    const r = await trainNetwork(toyData(), { epochs: 10, batchSize: 4, lr: 0.5, warmupSteps: 1, seed: 2 });
    expect(r.history.some((h) => h.clamped > 0)).toBe(true); // lr 0.5 pushes parameters into the limits
    for (const slot of r.layout.slots) {
      const lim = LIMITS[slot.kind];
      for (const v of r.theta.subarray(slot.offset, slot.offset + slot.size))
        expect(Math.abs(v)).toBeLessThanOrEqual(lim);
    }
    for (const t of r.network.blocks.map((b) => b.cell.beta1))
      for (const v of t) expect(v).toBeGreaterThanOrEqual(LIMITS.betaLoMin);
  });

  it('keeps currents near the cap with the current penalty', async () => {
    const data = toyData();
    const peak = (r: Awaited<ReturnType<typeof trainNetwork>>) => {
      const s = signalStats(r.network, data, data.splits.train);
      return Math.max(...s.maxCandidate, ...s.maxAbsBlockOutput);
    };
    const opts = { epochs: 12, batchSize: 8, warmupSteps: 5, lr: 0.03, seed: 1 };
    const free = await trainNetwork(data, { ...opts, currentWeight: 0 });
    const capped = await trainNetwork(data, { ...opts, currentCap: 1, currentWeight: 1 });
    expect(peak(free)).toBeGreaterThan(3);
    expect(peak(capped)).toBeLessThan(1.6); // a soft penalty: a little above the cap
    expect(capped.history.at(-1)!.penalty).toBeLessThan(capped.history[0].penalty);
    expect(capped.scores.test!.accuracy).toBe(1);
  });

  it('anneals eps linearly from 1 to 0 over the annealing fraction, and stays 0 without --anneal', () => {
    const o = { anneal: true, annealFraction: 0.5 };
    expect(cumulativeAt(0, 100, o)).toBe(1);
    expect(cumulativeAt(25, 100, o)).toBe(0.5);
    expect(cumulativeAt(50, 100, o)).toBe(0);
    expect(cumulativeAt(99, 100, o)).toBe(0);
    expect(cumulativeAt(0, 100, { anneal: false, annealFraction: 0.5 })).toBe(0);
  });
});

describe('trainNetwork, cumulative archs', () => {
  const opts = { epochs: 6, batchSize: 8, warmupSteps: 5, lr: 0.03, seed: 1 };

  it('cmru: trains the counter forward pass and writes arch cmru; the file reproduces the training logits', async () => {
    const data = toyData(40, 30);
    const r = await trainNetwork(data, { ...opts, arch: 'cmru' });
    expect(r.network.arch).toBe('cmru');
    expect(r.history.every((h) => h.forwardEps === 1 && h.cumulative === 0)).toBe(true);
    const raw = rawNetworkView(r.layout, r.theta);
    const tape = allocTape(raw, data.frames);
    const size = data.frames * data.features;
    const file = path.join(dir, 'cmru.safetensors');
    await saveModel(r.network, file);
    const loaded = await loadModel(file);
    let beyondOne = 0;
    for (let i = 0; i < 40; i++) {
      forwardClip(raw, networkThresholds(raw), data.data, i * size, tape, { surrogateWidth: 0.25, forwardEps: 1 });
      const clip = { frames: data.frames, features: data.features, data: data.data.slice(i * size, (i + 1) * size) };
      const tr = runCumulative(loaded, clip);
      expect(Array.from(tr.logits)).toEqual(Array.from(tape.logits));
      tr.states.forEach((s, k) => expect(Array.from(s)).toEqual(Array.from(tape.s[k])));
      beyondOne += tr.states.reduce((n, s) => n + s.filter((v) => v > 1 || v < 0).length, 0);
    }
    expect(beyondOne).toBeGreaterThan(0); // the states do count past {0, 1}, so this is not the BMRU
  });

  it('cmru --anneal: eps falls from 1 to 0, only eps = 0 checkpoints are kept, and the file is an fq-bmru', async () => {
    const data = toyData();
    const r = await trainNetwork(data, { ...opts, epochs: 12, arch: 'cmru', anneal: true, annealFraction: 0.5 });
    expect(r.network.arch).toBe('fq-bmru');
    expect(r.history[0].forwardEps).toBeGreaterThan(0.8);
    expect(r.history.at(-1)!.forwardEps).toBe(0);
    expect(r.history.find((h) => h.epoch === r.bestEpoch)!.forwardEps).toBe(0);
    // The backward-only annealing is the BMRU's; here the gradient is the forward pass's own.
    expect(r.history.every((h) => h.cumulative === 0)).toBe(true);
    // The kept model's scores are the BMRU's: runNetwork on the file gives the reported test accuracy.
    const size = data.frames * data.features;
    const test = data.splits.test;
    const correct = Array.from(test).filter(
      (i) =>
        runNetwork(r.network, {
          frames: data.frames,
          features: data.features,
          data: data.data.slice(i * size, (i + 1) * size),
        }).decision === data.target[i],
    ).length;
    expect(correct / test.length).toBe(r.scores.test!.accuracy);
  });

  it('cmru: the current penalty is off at eps = 1 (the counter is unbounded) and comes in as annealing lowers eps', async () => {
    const data = toyData();
    // A cap of 0.01 units puts every current past it, so the penalty is in play wherever its weight is not 0.
    const penalised = { ...opts, currentCap: 0.01, currentWeight: 5 };
    const free = { ...opts, currentCap: 0.01, currentWeight: 0 };
    const theta = async (o: Parameters<typeof trainNetwork>[1]) => Array.from((await trainNetwork(data, o)).theta);
    expect(await theta({ ...penalised, arch: 'cmru' })).toEqual(await theta({ ...free, arch: 'cmru' }));
    const annealed = { arch: 'cmru' as const, anneal: true, annealFraction: 0.5 };
    expect(await theta({ ...penalised, ...annealed })).not.toEqual(await theta({ ...free, ...annealed }));
    // The relaxed CMRU's states are bounded: its penalty keeps its weight.
    const relaxed = { arch: 'cmru-relaxed' as const, eps: 0.5 };
    expect(await theta({ ...penalised, ...relaxed })).not.toEqual(await theta({ ...free, ...relaxed }));
  });

  it('relaxed eps: the forward eps schedule and the refusals of options that describe no model', async () => {
    const o = { arch: 'cmru-relaxed' as const, eps: 0.4, anneal: true, annealFraction: 0.5 };
    expect(forwardEpsAt(0, 100, o)).toBeCloseTo(0.4, 15);
    expect(forwardEpsAt(25, 100, o)).toBeCloseTo(0.2, 15);
    expect(forwardEpsAt(50, 100, o)).toBe(0);
    expect(forwardEpsAt(50, 100, { ...o, anneal: false })).toBe(0.4);
    expect(forwardEpsAt(0, 100, { ...o, arch: 'fq-bmru' })).toBe(0);
    const data = toyData();
    await expect(trainNetwork(data, { ...opts, arch: 'cmru-relaxed', eps: 1 })).rejects.toThrow(/\(0, 1\), got 1/);
    await expect(trainNetwork(data, { ...opts, arch: 'cmru', anneal: true, annealFraction: 1 })).rejects.toThrow(
      /must reach eps = 0/,
    );
    const r = await trainNetwork(data, { ...opts, arch: 'cmru-relaxed', eps: 0.4 });
    expect([r.network.arch, r.network.eps]).toEqual(['cmru-relaxed', 0.4]);
  });
});

describe('exported model', () => {
  it('reproduces the training forward pass exactly after save and reload (JSON and safetensors)', async () => {
    const data = toyData(40, 30);
    const r = await trainNetwork(data, { epochs: 3, batchSize: 8, seed: 3, anneal: true });
    expect(r.network.cellParams).toBe('realised');
    // Negative raw cell values (the model reads |.|) and s0 on both sides of +-0.5 exercise the conversion.
    const theta = r.theta.slice();
    for (const name of ['blocks.0.cell.alpha', 'blocks.0.cell.beta1', 'blocks.1.cell.delta'])
      tensorView(r.layout, theta, name)[0] *= -1;
    tensorView(r.layout, theta, 'blocks.0.cell.s0').set([-0.7, 0.7, -0.3, 0.2]);
    const exported = realisedNetwork(r.layout, theta);
    expect(Array.from(exported.blocks[0].cell.s0)).toEqual([1, 1, 0, 0]);
    const raw = rawNetworkView(r.layout, theta);
    const th = networkThresholds(raw);
    const tape = allocTape(raw, data.frames);
    const size = data.frames * data.features;
    for (const file of ['m.json', 'm.safetensors']) {
      await saveModel(exported, path.join(dir, file));
      const loaded = await loadModel(path.join(dir, file));
      let onFrames = 0;
      for (let i = 0; i < 40; i++) {
        forwardClip(raw, th, data.data, i * size, tape, { surrogateWidth: 0.25 });
        const tr = runNetwork(loaded, {
          frames: data.frames,
          features: data.features,
          data: data.data.slice(i * size, (i + 1) * size),
        });
        expect(Array.from(tr.logits)).toEqual(Array.from(tape.logits));
        tr.states.forEach((s, k) => expect(Array.from(s)).toEqual(Array.from(tape.s[k])));
        tr.candidates.forEach((c, k) => expect(Array.from(c)).toEqual(Array.from(tape.u[k], (u) => (u > 0 ? u : 0))));
        onFrames += tr.states.reduce((n, s) => n + s.reduce((a, b) => a + b, 0), 0);
      }
      expect(onFrames).toBeGreaterThan(0); // the cells do switch, so the comparison covers the states
      // The raw view (signed cell parameters, as trained) computes the same as the realised file.
      const tr = runNetwork(raw, { frames: data.frames, features: data.features, data: data.data.slice(0, size) });
      expect(Array.from(tr.logits)).toEqual(
        Array.from(
          runNetwork(loaded, { frames: data.frames, features: data.features, data: data.data.slice(0, size) }).logits,
        ),
      );
    }
  });
});

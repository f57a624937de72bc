/**
 * The circuit runs `analyze noise` would make (noise-study.ts `noiseStudyKeys`): one clean and one per level for the
 * example, one clean and one at the depth level per depth, each keyed as noise-circuit.ts keys the transient it
 * stands for. No ngspice: the keys, and a study whose every circuit run a store already holds.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { noiseRunKey, type NoiseRun, type NoiseRunStore } from '../../src/analysis/noise-circuit.js';
import { noiseStudy, noiseStudyKeys, type NoiseStudyOptions } from '../../src/analysis/noise-study.js';
import { randomInputs, randomNetwork } from '../../src/model/random.js';
import { loadProcess } from '../../src/netlist/process.js';
import { REPO_ROOT } from '../helpers.js';

async function setup(o: Partial<NoiseStudyOptions> = {}) {
  const net = randomNetwork({ inputs: 3, width: 2, blocks: 1, classes: 2, seed: 1 });
  const inputs = randomInputs(2, 3, 1);
  const process = await loadProcess(path.join(REPO_ROOT, 'models', 'c180', 'process.json'));
  const opts: NoiseStudyOptions = {
    process,
    levels: [0.05, 0.1],
    draws: 1,
    seed: 3,
    circuit: true,
    depths: [1, 2],
    depthFrames: 2,
    depthLevel: 0.2,
    ...o,
  };
  return { net, inputs, process, opts };
}

describe('noiseStudyKeys', () => {
  it('labels the example clean and per level, then each depth clean and at the depth level', async () => {
    const { net, inputs, opts } = await setup();
    const runs = await noiseStudyKeys(net, inputs, opts);
    expect(runs.map((r) => r.label)).toEqual([
      'example clean',
      'example level 0.05',
      'example level 0.1',
      'depth 1 clean',
      'depth 1 level 0.2',
      'depth 2 clean',
      'depth 2 level 0.2',
    ]);
    // Seven transients, seven keys.
    expect(new Set(runs.map((r) => r.key)).size).toBe(7);
  });

  it('makes no circuit run without `circuit`, and none for the example without levels', async () => {
    const { net, inputs, opts } = await setup();
    expect(await noiseStudyKeys(net, inputs, { ...opts, circuit: false })).toEqual([]);
    const depthOnly = await noiseStudyKeys(net, inputs, { ...opts, levels: [] });
    expect(depthOnly.map((r) => r.label)).toEqual([
      'depth 1 clean',
      'depth 1 level 0.2',
      'depth 2 clean',
      'depth 2 level 0.2',
    ]);
    expect(await noiseStudyKeys(net, inputs, { ...opts, levels: [], depths: [] })).toEqual([]);
  });

  it("keys each run as noise-circuit.ts keys that transient: the example's network, a depth's own seeded one", async () => {
    const { net, inputs, process, opts } = await setup();
    const runs = await noiseStudyKeys(net, inputs, opts);
    const keyed = (n: typeof net, x: typeof inputs, level: number, levels: number[]) =>
      noiseRunKey(n, x, level, { process, levels, seed: 3 });
    expect(runs[0].key).toBe(await keyed(net, inputs, 0, [0.05, 0.1]));
    expect(runs[2].key).toBe(await keyed(net, inputs, 0.1, [0.05, 0.1]));
    // The depth study's network, worked out from the documented rule: the reference shape (13 inputs, 2 classes) at
    // width 4 with L blocks, seed 3 x 100 + L; its clip depthFrames frames of 13 features, seed 3.
    const depthNet = (L: number) => randomNetwork({ inputs: 13, classes: 2, width: 4, blocks: L, seed: 300 + L });
    const depthClip = randomInputs(2, 13, 3);
    expect(runs[3].key).toBe(await keyed(depthNet(1), depthClip, 0, [0.2]));
    expect(runs[4].key).toBe(await keyed(depthNet(1), depthClip, 0.2, [0.2]));
    expect(runs[6].key).toBe(await keyed(depthNet(2), depthClip, 0.2, [0.2]));
    // Another seed is another depth network (and clip and noise), so every key changes.
    const reseeded = await noiseStudyKeys(net, inputs, { ...opts, seed: 4 });
    expect(reseeded.filter((r, i) => r.key === runs[i].key)).toEqual([]);
  });

  it('names the keys noiseStudy looks up, in its order: a store holding them all runs no ngspice', async () => {
    const { net, inputs, opts } = await setup();
    const asked: string[] = [];
    // A stand-in run of zeros, large enough for any of these networks (at most 2 blocks of 4 cells), one frame.
    const zeros: NoiseRun = {
      level: 0,
      circuit: {
        frames: 1,
        candidates: [new Float64Array(8), new Float64Array(8)],
        stateCurrents: [new Float64Array(8), new Float64Array(8)],
        states: [new Uint8Array(8), new Uint8Array(8)],
      },
      stateAgreement: 1,
      decisionMatch: true,
      ngspiceS: 0,
    };
    const kept: NoiseRunStore = {
      get: (key) => (asked.push(key), zeros),
      add: () => {
        throw new Error('a run was made');
      },
    };
    const study = await noiseStudy(net, inputs, { ...opts, kept });
    expect(Object.keys(study.circuit)).toEqual(['example', 'depth 1', 'depth 2']);
    expect(asked).toEqual((await noiseStudyKeys(net, inputs, opts)).map((r) => r.key));
  });
});

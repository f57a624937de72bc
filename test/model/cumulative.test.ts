import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import {
  cumulativeEps,
  loadCircuitModel,
  loadModel,
  networkMetadata,
  networkTensors,
  networkToJson,
  parseModel,
  randomNetwork,
  requireCircuitArch,
  runCumulative,
  runNetwork,
  runNetworkScan,
  saveModel,
  writeSafetensors,
  type Network,
} from '../../src/model/index.js';
import { scratchDir } from '../helpers.js';

const tmp = scratchDir('bmru-cmru-');

/** y = x as a layer. */
const identity = (n: number) => ({
  weight: { rows: n, cols: n, data: Float64Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : 0)) },
  bias: new Float64Array(n),
});

/**
 * Two units, every layer the identity and no skip, so candidate = max(x, 0), block output = max(alpha s, 0) and
 * logits = block output. beta_lo = 0.3 / 0.5, beta_hi = 0.7 / 0.7, alpha = 1 / 2, s0 = OFF / ON.
 */
function twoUnits(arch: Network['arch'], eps?: number): Network {
  return {
    arch,
    ...(eps !== undefined ? { eps } : {}),
    inputs: 2,
    width: 2,
    cells: 2,
    classes: 2,
    skip: false,
    unitCurrentA: 1e-9,
    frameS: 0.01,
    cellParams: 'realised',
    pre: identity(2),
    blocks: [
      {
        cand: identity(2),
        cell: {
          alpha: Float64Array.of(1, 2),
          beta1: Float64Array.of(0.3, 0.5),
          delta: Float64Array.of(0.4, 0.2),
          s0: Float64Array.of(0, 1),
        },
        post: identity(2),
      },
    ],
    out: identity(2),
  };
}

// Unit 0: high (1.0 >= 0.7), band (0.5), high, low (0 < 0.3). Unit 1: low (0 < 0.5), band (0.6), low, high (0.9).
const CLIP = { frames: 4, features: 2, data: Float64Array.of(1, 0, 0.5, 0.6, 1, -0.2, 0, 0.9) };

describe('cumulative cell update, by hand on two units', () => {
  it('eps = 0 (FQ-BMRU): forced high -> 1, band holds, forced low -> 0', () => {
    const tr = runCumulative(twoUnits('fq-bmru'), CLIP);
    // unit 0 from 0: 1, 1, 1, 0; unit 1 from 1: 0, 0, 0, 1
    expect(Array.from(tr.states[0])).toEqual([1, 0, 1, 0, 1, 0, 0, 1]);
  });

  it('CMRU (eps = 1): s_t = s_{t-1} + z_t sign_t, a counter', () => {
    const tr = runCumulative(twoUnits('cmru'), CLIP);
    // unit 0 from 0: +1 -> 1, hold 1, +1 -> 2, -1 -> 1; unit 1 from 1: -1 -> 0, hold 0, -1 -> -1, +1 -> 0
    expect(Array.from(tr.states[0])).toEqual([1, 0, 1, 0, 2, -1, 1, 0]);
    // logits = max(alpha s, 0): frame 2 = [1 * 2, max(2 * -1, 0)] = [2, 0]
    expect(Array.from(tr.logits.subarray(4, 6))).toEqual([2, 0]);
  });

  it('relaxed CMRU (eps = 0.5): forced high -> 0.5 s + 1, forced low -> 0.5 s - 0.5, band holds', () => {
    const tr = runCumulative(twoUnits('cmru-relaxed', 0.5), CLIP);
    // unit 0 from 0: 1, 1, 1.5, 0.25; unit 1 from 1: 0, 0, -0.5, 0.75
    expect(Array.from(tr.states[0])).toEqual([1, 0, 1, 0, 1.5, -0.5, 0.25, 0.75]);
    // frame 3: logits = [1 * 0.25, 2 * 0.75] = [0.25, 1.5]: votes class 1
    expect(Array.from(tr.logits.subarray(6, 8))).toEqual([0.25, 1.5]);
    expect(tr.votes[3]).toBe(1);
  });

  it('returns the clamped candidates, the block outputs, the votes and the decision, frame by frame', () => {
    // twoUnits with candidate bias (-0.25, 0): unit 0's candidates are x0 - 0.25 (exact in float64), clamped at 0.
    const net = twoUnits('fq-bmru');
    const block = net.blocks[0];
    const shifted: Network = {
      ...net,
      blocks: [{ ...block, cand: { ...block.cand, bias: Float64Array.of(-0.25, 0) } }],
    };
    const tr = runCumulative(shifted, CLIP);
    expect(tr.frames).toBe(4);
    // Unit 0: 0.75 (high), 0.25 (below beta_lo 0.3: low), 0.75 (high), -0.25 -> 0 (low).
    // Unit 1: 0 (low), 0.6 (band), -0.2 -> 0 (low; x is clamped before the layer), 0.9 (high).
    expect(Array.from(tr.candidates[0])).toEqual([0.75, 0, 0.25, 0.6, 0.75, 0, 0, 0.9]);
    // From s0 = (0, 1): unit 0 -> 1, 0, 1, 0; unit 1 -> 0, 0, 0, 1.
    expect(Array.from(tr.states[0])).toEqual([1, 0, 0, 0, 1, 0, 0, 1]);
    // Block output = max(alpha s, 0) with alpha = (1, 2); the out layer is the identity, so logits are the same.
    expect(Array.from(tr.blockOutputs[0])).toEqual([1, 0, 0, 0, 1, 0, 0, 2]);
    expect(Array.from(tr.logits)).toEqual([1, 0, 0, 0, 1, 0, 0, 2]);
    // Frame 1 ties (0, 0): the lower class. Class 0 three frames to one.
    expect(Array.from(tr.votes)).toEqual([0, 0, 0, 1]);
    expect(tr.decision).toBe(0);
    // One frame with unit 1 in its band: it holds s0 = 1, unit 0 is low: logits (0, 2), class 1.
    expect(runCumulative(shifted, { frames: 1, features: 2, data: Float64Array.of(0, 0.6) }).decision).toBe(1);
  });

  it("adds each block's input to its output on a skip path, and the later block reads the earlier one", () => {
    // Two blocks, skip on; block 0 as in twoUnits, block 1 with zero candidate weights and bias -1, so its
    // candidates are 0 (low: the cells go to 0 at eps = 0) and its output is 0 + h: block 1 passes block 0's
    // output on. Frame 0: x = (1, 0) -> states (1, 0), block 0 output = max((1, 0), 0) + (1, 0) = (2, 0).
    const net = twoUnits('fq-bmru');
    const block0 = net.blocks[0];
    const block1 = {
      ...block0,
      cand: { weight: { rows: 2, cols: 2, data: new Float64Array(4) }, bias: Float64Array.of(-1, -1) },
    };
    const tr = runCumulative(
      { ...net, skip: true, blocks: [block0, block1] },
      { frames: 1, features: 2, data: Float64Array.of(1, 0) },
    );
    expect(Array.from(tr.blockOutputs[0])).toEqual([2, 0]);
    expect(Array.from(tr.candidates[1])).toEqual([0, 0]);
    expect(Array.from(tr.states[1])).toEqual([0, 0]);
    expect(Array.from(tr.blockOutputs[1])).toEqual([2, 0]);
    expect(Array.from(tr.logits)).toEqual([2, 0]);
  });

  it('at eps = 0 agrees exactly with runNetwork and the associative scan (another implementation) on random networks', () => {
    for (const seed of [1, 2, 3, 4]) {
      const net = randomNetwork({ inputs: 5, width: 6, blocks: 2, classes: 3, seed });
      const frames = 40;
      let x = seed;
      const data = Float64Array.from(
        { length: frames * 5 },
        () => ((x = (x * 16807) % 2147483647) / 2147483647) * 4 - 2,
      );
      const clip = { frames, features: 5, data };
      const a = runCumulative(net, clip);
      for (const b of [runNetwork(net, clip), runNetworkScan(net, clip)]) {
        a.states.forEach((s, k) => expect(Array.from(s)).toEqual(Array.from(b.states[k])));
        expect(Array.from(a.votes)).toEqual(Array.from(b.votes));
        for (let i = 0; i < a.logits.length; i++) expect(a.logits[i]).toBeCloseTo(b.logits[i], 12);
      }
    }
  });

  it('runNetwork refuses a cumulative model rather than running it as a BMRU', () => {
    expect(() => runNetwork(twoUnits('cmru'), CLIP)).toThrow(/arch 'fq-bmru' only, got 'cmru'.*runCumulative/);
  });
});

describe('cumulative models in files', () => {
  it('round-trips arch and eps through JSON and safetensors, and the reloaded model computes the same states', async () => {
    for (const [arch, eps] of [
      ['cmru', undefined],
      ['cmru-relaxed', 0.25],
    ] as const) {
      const net = twoUnits(arch, eps);
      for (const file of [`${arch}.json`, `${arch}.safetensors`]) {
        await saveModel(net, join(tmp, file));
        const back = await loadModel(join(tmp, file));
        expect(back.arch).toBe(arch);
        expect(cumulativeEps(back)).toBe(eps ?? 1);
        expect(Array.from(runCumulative(back, CLIP).states[0])).toEqual(Array.from(runCumulative(net, CLIP).states[0]));
      }
    }
  });

  it('writes fq-bmru files as before: no eps key, arch fq-bmru', () => {
    const net = randomNetwork({ inputs: 3, width: 4, blocks: 2, classes: 2, seed: 7 });
    expect(networkMetadata(net)).not.toHaveProperty('eps');
    expect(networkMetadata(net).arch).toBe('fq-bmru');
    expect(JSON.parse(networkToJson(net))).not.toHaveProperty('eps');
  });

  const net = twoUnits('fq-bmru');
  const withMeta = (meta: Record<string, string>) =>
    writeSafetensors(networkTensors(net), { ...networkMetadata(net), ...meta }, 'F64');
  const expectInputError = (fn: () => unknown, ...fragments: string[]) => {
    let err: unknown;
    try {
      fn();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    for (const f of fragments) expect((err as Error).message).toContain(f);
  };

  it('refuses bad arch / eps metadata, naming the file, the field and what was expected', () => {
    const f = 'm.safetensors';
    expectInputError(
      () => parseModel(withMeta({ arch: 'lstm' }), f),
      f,
      "'__metadata__.arch'",
      "'cmru-relaxed'",
      "'lstm'",
    );
    expectInputError(
      () => parseModel(withMeta({ arch: 'cmru-relaxed' }), f),
      f,
      "'__metadata__.eps'",
      'missing',
      'in (0, 1)',
    );
    expectInputError(
      () => parseModel(withMeta({ arch: 'cmru-relaxed', eps: '1.5' }), f),
      "'__metadata__.eps'",
      "'1.5'",
      "arch 'cmru'",
    );
    expectInputError(
      () => parseModel(withMeta({ arch: 'cmru-relaxed', eps: '0' }), f),
      "'__metadata__.eps'",
      "arch 'fq-bmru'",
    );
    expectInputError(
      () => parseModel(withMeta({ arch: 'cmru-relaxed', eps: 'half' }), f),
      "'__metadata__.eps'",
      'decimal number',
    );
    expectInputError(() => parseModel(withMeta({ arch: 'cmru', eps: '0.5' }), f), "'__metadata__.eps'", 'eps = 1');
    expectInputError(() => parseModel(withMeta({ arch: 'fq-bmru', eps: '1' }), f), "'__metadata__.eps'", 'eps = 0');
    // The JSON format carries eps as a number and goes through the same check.
    const json = JSON.parse(networkToJson(net));
    json.arch = 'cmru-relaxed';
    json.eps = 2;
    expectInputError(
      () => parseModel(new TextEncoder().encode(JSON.stringify(json)), 'm.json'),
      'm.json',
      "'__metadata__.eps'",
      "'2'",
    );
  });

  it('a circuit load refuses a cumulative model, naming file, arch and the way out (anneal)', async () => {
    const file = join(tmp, 'refused.json');
    await saveModel(twoUnits('cmru-relaxed', 0.5), file);
    await expect(loadCircuitModel(file)).rejects.toThrow(
      new RegExp(`${file}.*'__metadata__.arch'.*arch 'cmru-relaxed' \\(eps = 0.5\\) has no circuit.*--anneal`),
    );
    expect(() => requireCircuitArch(twoUnits('fq-bmru'))).not.toThrow();
  });
});

describe('cumulative model: refusals and thresholds', () => {
  it('refuses a clip whose feature count differs from the model, naming both', () => {
    const clip = { frames: 1, features: 3, data: new Float64Array(3) };
    expect(() => runCumulative(twoUnits('cmru'), clip)).toThrow(
      new RangeError('input has 3 features per frame, the model expects 2'),
    );
  });

  it('forces a cell high at c = beta_hi exactly, holds it at c = beta_lo exactly, and forces it low just below', () => {
    // Unit 0: beta_lo 0.3, beta_hi 0.3 + 0.4 = 0.7 (exact in float64: 0.3 + 0.4 === 0.7); CMRU counts the forcings.
    // Frames: c = 0.7 (+1), 0.3 (band: hold), 0.29 (-1), 0.7 (+1) from s0 = 0: 1, 1, 0, 1.
    const clip = { frames: 4, features: 2, data: Float64Array.of(0.7, 0, 0.3, 0, 0.29, 0, 0.7, 0) };
    const tr = runCumulative(twoUnits('cmru'), clip);
    expect([0, 1, 2, 3].map((t) => tr.states[0][t * 2])).toEqual([1, 1, 0, 1]);
  });

  it('gives a block output of +0 for a -0 sum on a -0 skip input, as runNetwork does (max(-0, 0) + -0 = +0)', () => {
    // One unit, every bias -0, every pre/cand/post weight -1, skip on, input +0. By IEEE 754 (round to nearest):
    // h = -0 + (-1)(+0) = -0 + -0 = -0; candidate -0 + (-1)(+0) = -0, clamped, below beta_lo: s = 0; o = 1 * 0 = +0;
    // v = -0 + (-1)(+0) = -0; block output max(v, 0) + h = +0 + -0 = +0 (zeros of opposite sign sum to +0), where
    // a ReLU that kept -0 would give -0 + -0 = -0. toBe compares with Object.is, so it tells +0 from -0.
    const lin = (w: number, b: number) => ({
      weight: { rows: 1, cols: 1, data: Float64Array.of(w) },
      bias: Float64Array.of(b),
    });
    const net: Network = {
      ...twoUnits('fq-bmru'),
      inputs: 1,
      width: 1,
      cells: 1,
      skip: true,
      pre: lin(-1, -0),
      blocks: [
        {
          cand: lin(-1, -0),
          cell: {
            alpha: Float64Array.of(1),
            beta1: Float64Array.of(0.3),
            delta: Float64Array.of(0.4),
            s0: Float64Array.of(0),
          },
          post: lin(-1, -0),
        },
      ],
      out: { weight: { rows: 2, cols: 1, data: Float64Array.of(1, -1) }, bias: new Float64Array(2) },
    };
    const clip = { frames: 1, features: 1, data: Float64Array.of(0) };
    const tr = runCumulative(net, clip);
    expect(tr.states[0][0]).toBe(0);
    expect(tr.blockOutputs[0][0]).toBe(0);
    // The reference loop (another implementation) agrees; the candidates are not compared: runNetwork stores a -0
    // candidate as -0 (network.ts, reluInPlace), runCumulative as +0.
    expect(runNetwork(net, clip).blockOutputs[0][0]).toBe(0);
  });
});

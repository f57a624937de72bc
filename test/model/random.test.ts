import { describe, expect, it } from 'vitest';
import { randomInputs, randomNetwork } from '../../src/model/random.js';
import type { Linear, Network } from '../../src/model/types.js';
import { createRng } from '../../src/util/random.js';

/**
 * mulberry32's first four 32-bit outputs for four seeds, from Tommy Ettinger's public-domain C original
 * (`z = (*state += 0x6D2B79F5); z = (z ^ z >> 15) * (z | 1); z ^= z + (z ^ z >> 7) * (z | 61); return z ^ z >> 14;`)
 * compiled with gcc on uint32_t: a third implementation, besides src/util/random.ts and the BigInt one below.
 */
const MULBERRY32_C_OUTPUTS: ReadonlyArray<readonly [number, readonly number[]]> = [
  [0, [1144304738, 1416247, 958946056, 627933444]],
  [1, [2693262067, 11749833, 2265367787, 4213581821]],
  [42, [2581720956, 1925393290, 3661312704, 2876485805]],
  [4294967295, [3850105811, 813802916, 3073704848, 4054706436]],
];

const U32 = (1n << 32n) - 1n;

/** mulberry32 in BigInt arithmetic (no Math.imul, no `>>>`), as uniforms in [0, 1): the C original mod 2^32. */
function referenceUniforms(seed: number): () => number {
  let state = BigInt(seed) & U32; // a negative seed wraps as uint32_t does
  return () => {
    state = (state + 0x6d2b79f5n) & U32;
    let z = state;
    z = ((z ^ (z >> 15n)) * (z | 1n)) & U32;
    z = (z ^ (z + (((z ^ (z >> 7n)) * (z | 61n)) & U32))) & U32;
    return Number(z ^ (z >> 14n)) / 2 ** 32;
  };
}

/** The first n reference uniforms of a seed. */
function draws(seed: number, n: number): number[] {
  const next = referenceUniforms(seed);
  return Array.from({ length: n }, next);
}

/** Standard normals by Box-Muller on the reference uniforms, in pairs (cos first, then sin), as documented. */
function referenceNormals(seed: number): () => number {
  const next = referenceUniforms(seed);
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    const radius = Math.sqrt(-2 * Math.log(1 - next()));
    const angle = 2 * Math.PI * next();
    spare = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  };
}

/** lo + (hi - lo) u: a uniform draw mapped onto [lo, hi). */
const on = (u: number, lo: number, hi: number) => lo + (hi - lo) * u;
/** A weight from its sign draw and its magnitude draw: negative when the sign draw is below 1/2. */
const weight = (sign: number, magnitude: number, lo: number, hi: number) =>
  (sign < 0.5 ? -1 : 1) * on(magnitude, lo, hi);
/** A bias: 0.3 units times a uniform in [-1, 1). */
const bias = (u: number) => 0.3 * on(u, -1, 1);

const CLOSE_DIGITS = 14;
function expectValues(got: Float64Array, want: number[], what: string): void {
  expect(got.length, `${what} length`).toBe(want.length);
  want.forEach((w, i) => expect(got[i], `${what}[${i}]`).toBeCloseTo(w, CLOSE_DIGITS));
}
function expectLayer(got: Linear, rows: number, cols: number, data: number[], biases: number[], what: string): void {
  expect([got.weight.rows, got.weight.cols], `${what} shape`).toEqual([rows, cols]);
  expectValues(got.weight.data, data, `${what} weight`);
  expectValues(got.bias, biases, `${what} bias`);
}

describe('createRng (src/util/random.ts, which randomNetwork and randomInputs draw from)', () => {
  it('gives the C original of mulberry32 for each seed, as does the BigInt reference the tests below use', () => {
    for (const [seed, outputs] of MULBERRY32_C_OUTPUTS) {
      const want = outputs.map((o) => o / 2 ** 32);
      const rng = createRng(seed);
      expect(
        want.map(() => rng.next()),
        `seed ${seed}`,
      ).toEqual(want);
      expect(draws(seed, 4), `reference, seed ${seed}`).toEqual(want);
    }
    // A seed is taken mod 2^32: -1 is 2^32 - 1.
    expect(createRng(-1).next()).toBe(3850105811 / 2 ** 32);
  });

  it('maps uniform(lo, hi) to lo + (hi - lo) u and draws normals by Box-Muller in cos, sin pairs', () => {
    const [u1, u2, u3, u4, u5] = draws(9, 5);
    const rng = createRng(9);
    expect(rng.uniform(-3, 5)).toBeCloseTo(-3 + 8 * u1, 15);
    const radius = Math.sqrt(-2 * Math.log(1 - u2));
    expect(rng.normal()).toBeCloseTo(radius * Math.cos(2 * Math.PI * u3), 14);
    expect(rng.normal()).toBeCloseTo(radius * Math.sin(2 * Math.PI * u3), 14);
    // The pair used up, the next normal draws two new uniforms.
    expect(rng.normal()).toBeCloseTo(Math.sqrt(-2 * Math.log(1 - u4)) * Math.cos(2 * Math.PI * u5), 14);
  });
});

describe('randomNetwork', () => {
  it('draws a 1-input, width-1, one-block network in order: pre, cand, alpha, beta_lo, delta, s0, post, out', () => {
    // Each weight takes two draws (sign, magnitude), each bias one, each cell parameter one: 16 in all.
    const signs = new Set<number>();
    const s0s = new Set<number>();
    for (let seed = 1; seed <= 8; seed++) {
      const u = draws(seed, 16);
      const net = randomNetwork({ inputs: 1, width: 1, blocks: 1, classes: 1, seed });
      const what = `seed ${seed}`;
      const w = (i: number) => weight(u[i], u[i + 1], 0.25, 2); // the default |W| range
      expectLayer(net.pre, 1, 1, [w(0)], [bias(u[2])], `${what} pre`);
      expect(net.blocks.length, what).toBe(1);
      const [block] = net.blocks;
      expectLayer(block.cand, 1, 1, [w(3)], [bias(u[5])], `${what} cand`);
      expectValues(block.cell.alpha, [on(u[6], 0.4, 1.2)], `${what} alpha`);
      expectValues(block.cell.beta1, [on(u[7], 0.15, 0.8)], `${what} beta1`);
      expectValues(block.cell.delta, [on(u[8], 0.1, 0.5)], `${what} delta`);
      expect(Array.from(block.cell.s0), `${what} s0`).toEqual([u[9] < 0.5 ? 0 : 1]);
      expectLayer(block.post, 1, 1, [w(10)], [bias(u[12])], `${what} post`);
      expectLayer(net.out, 1, 1, [w(13)], [bias(u[15])], `${what} out`);
      for (const i of [0, 3, 10, 13]) signs.add(u[i] < 0.5 ? -1 : 1);
      s0s.add(u[9] < 0.5 ? 0 : 1);
    }
    // The seeds cover both branches of every sign and state draw.
    expect([...signs].sort()).toEqual([-1, 1]);
    expect([...s0s].sort()).toEqual([0, 1]);
  });

  it('fills a layer row-major, a sign and a magnitude per weight, then its biases', () => {
    const u = draws(21, 19);
    const net = randomNetwork({ inputs: 3, width: 2, blocks: 0, classes: 1, seed: 21 });
    const w = (i: number) => weight(u[i], u[i + 1], 0.25, 2);
    // pre: 2 x 3 (rows = width, cols = inputs), draws 0-11 for the weights, 12-13 for the biases.
    expectLayer(net.pre, 2, 3, [w(0), w(2), w(4), w(6), w(8), w(10)], [bias(u[12]), bias(u[13])], 'pre');
    expect(net.blocks).toEqual([]);
    // out: 1 x 2 (rows = classes, cols = width), draws 14-17, bias 18.
    expectLayer(net.out, 1, 2, [w(14), w(16)], [bias(u[18])], 'out');
  });

  it('takes the ranges, the cell count and skip from the spec', () => {
    const u = draws(5, 25);
    const net = randomNetwork({
      inputs: 1,
      width: 1,
      cells: 2,
      blocks: 1,
      classes: 1,
      skip: false,
      seed: 5,
      weightRange: [3, 4],
      betaLoRange: [5, 6],
      deltaRange: [7, 8],
      alphaRange: [9, 10],
    });
    const w = (i: number) => weight(u[i], u[i + 1], 3, 4);
    expect([net.cells, net.skip]).toEqual([2, false]);
    expectLayer(net.pre, 1, 1, [w(0)], [bias(u[2])], 'pre');
    const [block] = net.blocks;
    // cand: 2 cells x width 1; post: width 1 x 2 cells.
    expectLayer(block.cand, 2, 1, [w(3), w(5)], [bias(u[7]), bias(u[8])], 'cand');
    expectValues(block.cell.alpha, [on(u[9], 9, 10), on(u[10], 9, 10)], 'alpha');
    expectValues(block.cell.beta1, [on(u[11], 5, 6), on(u[12], 5, 6)], 'beta1');
    expectValues(block.cell.delta, [on(u[13], 7, 8), on(u[14], 7, 8)], 'delta');
    expect(Array.from(block.cell.s0)).toEqual([u[15] < 0.5 ? 0 : 1, u[16] < 0.5 ? 0 : 1]);
    expectLayer(block.post, 1, 2, [w(17), w(19)], [bias(u[21])], 'post');
    expectLayer(net.out, 1, 1, [w(22)], [bias(u[24])], 'out');
  });

  it('describes a realised FQ-BMRU network of the spec shape, with skip on and cells = width by default', () => {
    const spec = { inputs: 4, width: 3, blocks: 2, classes: 2, seed: 11 };
    const net: Network = randomNetwork(spec);
    expect(net).toMatchObject({ arch: 'fq-bmru', inputs: 4, width: 3, cells: 3, classes: 2, skip: true });
    expect(net.cellParams).toBe('realised');
    // DESIGN.md: one software unit is 1 nA (§1); the reference network takes a frame every 10 ms.
    expect([net.unitCurrentA, net.frameS]).toEqual([1e-9, 0.01]);
    expect(net.blocks.length).toBe(2);
    for (const block of net.blocks) {
      expect([block.cand.weight.rows, block.cand.weight.cols, block.post.weight.rows, block.post.weight.cols]).toEqual([
        3, 3, 3, 3,
      ]);
      for (const p of [block.cell.alpha, block.cell.beta1, block.cell.delta, block.cell.s0]) expect(p.length).toBe(3);
    }
    // The same seed gives the same network; another seed another one.
    expect(randomNetwork(spec)).toEqual(net);
    expect(randomNetwork({ ...spec, seed: 12 }).pre.weight.data).not.toEqual(net.pre.weight.data);
  });
});

describe('randomInputs', () => {
  /** The documented construction on the reference normals: per feature an AR(1) walk, then z-scored. */
  function referenceInputs(frames: number, features: number, seed: number): number[] {
    const normal = referenceNormals(seed);
    const out = new Array<number>(frames * features);
    for (let f = 0; f < features; f++) {
      const walk: number[] = [];
      let v = normal();
      for (let t = 0; t < frames; t++) walk.push((v = 0.85 * v + 0.5 * normal()));
      const mean = walk.reduce((a, b) => a + b, 0) / frames;
      const sd = Math.sqrt(walk.reduce((a, b) => a + (b - mean) ** 2, 0) / frames);
      walk.forEach((x, t) => (out[t * features + f] = (x - mean) / sd));
    }
    return out;
  }

  it('is, per feature, a walk v <- 0.85 v + 0.5 n on the seed normals, z-scored, stored frame by frame', () => {
    const got = randomInputs(6, 3, 5);
    expect([got.frames, got.features]).toEqual([6, 3]);
    expectValues(got.data, referenceInputs(6, 3, 5), 'data');
  });

  it('gives each feature mean 0 and population standard deviation 1', () => {
    const frames = 50;
    const features = 4;
    const { data } = randomInputs(frames, features, 8);
    for (let f = 0; f < features; f++) {
      const x = Array.from({ length: frames }, (_, t) => data[t * features + f]);
      const mean = x.reduce((a, b) => a + b, 0) / frames;
      expect(mean, `feature ${f} mean`).toBeCloseTo(0, 12);
      expect(x.reduce((a, b) => a + b * b, 0) / frames, `feature ${f} variance`).toBeCloseTo(1, 12);
    }
  });

  it('gives zeros, not NaN, for a clip of one frame (standard deviation 0), and no data for no frames', () => {
    expect(Array.from(randomInputs(1, 3, 2).data)).toEqual([0, 0, 0]);
    expect(randomInputs(0, 3, 2)).toEqual({ frames: 0, features: 3, data: new Float64Array(0) });
  });
});

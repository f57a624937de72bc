import { describe, expect, it } from 'vitest';
import { randomNetwork, runNetwork, runNetworkBatch, type InputSequence, type Network } from '../../src/model/index.js';
import { wasmKernels } from '../../src/model/wasm-kernels.js';

/** The bytes of a typed array: equal bytes means equal values including the sign of zero. */
function bytes(a: Float64Array | Uint8Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

describe('wasmKernels', () => {
  it('instantiates on a memory of at least the bytes asked for', () => {
    // WebAssembly pages are 65 536 bytes: 3 pages and one byte need 4 pages.
    for (const want of [1, 65_536, 3 * 65_536 + 1]) {
      expect(wasmKernels(want).memory.buffer.byteLength, `${want} bytes`).toBeGreaterThanOrEqual(want);
    }
    expect(wasmKernels(3 * 65_536 + 1).memory.buffer.byteLength).toBe(4 * 65_536);
  });
});

describe('affine: the exact-zero fix-up in a row block whose last rows are +0', () => {
  it('recomputes the -0 sums of rows 0-5 of an 8-row candidate layer when rows 6 and 7 sum to +0', () => {
    // 8 cells: the candidate layer (clamped: always the `affine` kernel) is one SIMD block of 4 accumulators, rows
    // 0-7. An all-zero clip and pre biases -1 make every pre output -1 (no input term is non-zero), which the
    // candidate layer clamps to +0 and skips. So each candidate's skipped sum is its bias: -0 for rows 0-5, +0 for
    // rows 6 and 7. The plain dot product, which runNetwork's frame loop gives for an exact zero, is
    // bias + w * (+0) with every w > 0: -0 + +0 = +0 in rows 0-5, +0 in rows 6 and 7. So every candidate of every
    // frame is +0 (the cell bank's ReLU keeps a -0 as it is): rows 0-5 need the fix-up, found by comparing every
    // accumulator with zero, while the block's last accumulator (rows 6, 7) holds +0, +0, all bits clear.
    const base = randomNetwork({ inputs: 2, width: 6, cells: 8, blocks: 1, classes: 2, seed: 11 });
    const net: Network = {
      ...base,
      pre: { ...base.pre, bias: base.pre.bias.map(() => -1) },
      blocks: base.blocks.map((b) => ({
        ...b,
        cand: {
          weight: { ...b.cand.weight, data: b.cand.weight.data.map((w) => Math.abs(w) + 0.5) },
          bias: Float64Array.of(-0, -0, -0, -0, -0, -0, 0, 0),
        },
      })),
    };
    const zeros: InputSequence = { frames: 3, features: 2, data: new Float64Array(6) };
    const [got] = runNetworkBatch(net, [zeros]);
    expect(got.candidates[0].length).toBe(3 * 8);
    got.candidates[0].forEach((c, i) => expect(Object.is(c, 0), `candidate ${i} is +0`).toBe(true));
    const want = runNetwork(net, zeros);
    expect(bytes(got.candidates[0]).equals(bytes(want.candidates[0]))).toBe(true);
    expect(bytes(got.blockOutputs[0]).equals(bytes(want.blockOutputs[0]))).toBe(true);
    expect(bytes(got.logits).equals(bytes(want.logits))).toBe(true);
  });
  it('recomputes a -0 sum in a row block whose first two rows are +0 and whose kept input equals no output', () => {
    // No blocks: the pre layer (8 outputs, unclamped: the `affine` kernel, one SIMD block of 4 accumulators) feeds
    // the classifier. Every frame is x = (1, 0): input 0 is kept, input 1 (zero) skipped. Pre rows, as
    // (weight on x0, weight on x1; bias): rows 0, 1 (+0, 1; +0): skipped sum +0 + +0 * 1 = +0, all bits clear;
    // row 2 (-0, 1; -0): skipped -0 + -0 * 1 = -0, but the plain sum is -0 + -0 + 1 * 0 = +0, so it needs the
    // fix-up; rows 3-7 (+0, +0; 0.25): 0.25, equal neither to zero nor to the kept input's value 1. So
    // h = (+0, +0, +0, 0.25 x 5). Classifier row 0: bias -0, weight 1 on h2 and -0 elsewhere: every product before
    // h2's is -0 * +0 = -0, so the sum stays -0 until 1 * h2, which is +0 (and would be -0 had h2 kept the skipped
    // sum's sign), then -0 * 0.25 terms: logit +0. Row 1: bias 0.5, weights +0: 0.5. Votes class 1, decision 1.
    const base = randomNetwork({ inputs: 2, width: 8, blocks: 0, classes: 2, seed: 12 });
    const preRows = [[0, 1, 0], [0, 1, 0], [-0, 1, -0], ...Array.from({ length: 5 }, () => [0, 0, 0.25])];
    const net: Network = {
      ...base,
      pre: {
        weight: { rows: 8, cols: 2, data: Float64Array.from(preRows.flatMap(([a, b]) => [a, b])) },
        bias: Float64Array.from(preRows.map(([, , bias]) => bias)),
      },
      out: {
        weight: { rows: 2, cols: 8, data: Float64Array.of(-0, -0, 1, -0, -0, -0, -0, -0, ...Array<number>(8).fill(0)) },
        bias: Float64Array.of(-0, 0.5),
      },
    };
    const clip: InputSequence = { frames: 3, features: 2, data: Float64Array.of(1, 0, 1, 0, 1, 0) };
    const [got] = runNetworkBatch(net, [clip]);
    expect(Array.from(got.logits)).toEqual([0, 0.5, 0, 0.5, 0, 0.5]);
    for (let t = 0; t < 3; t++) expect(Object.is(got.logits[2 * t], 0), `frame ${t}'s logit 0 is +0`).toBe(true);
    expect(Array.from(got.votes)).toEqual([1, 1, 1]);
    expect(got.decision).toBe(1);
    const want = runNetwork(net, clip);
    expect(bytes(got.logits).equals(bytes(want.logits))).toBe(true);
  });
});

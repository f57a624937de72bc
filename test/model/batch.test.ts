import { describe, expect, it } from 'vitest';
import {
  randomInputs,
  randomNetwork,
  runNetwork,
  runNetworkBatch,
  type InputSequence,
  type Network,
  type Trace,
} from '../../src/model/index.js';
import { CHUNK_FRAMES } from '../../src/model/wasm-kernels.js';

/** The bytes of a typed array: equal bytes means equal values including the sign of zero (toEqual ignores it). */
function bytes(a: Float64Array | Uint8Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

function expectIdentical(got: Trace, want: Trace, what: string): void {
  for (let k = 0; k < want.states.length; k++) {
    expect(bytes(got.states[k]).equals(bytes(want.states[k])), `${what} states[${k}]`).toBe(true);
    expect(bytes(got.candidates[k]).equals(bytes(want.candidates[k])), `${what} candidates[${k}]`).toBe(true);
    expect(bytes(got.blockOutputs[k]).equals(bytes(want.blockOutputs[k])), `${what} blockOutputs[${k}]`).toBe(true);
  }
  expect(bytes(got.logits).equals(bytes(want.logits)), `${what} logits`).toBe(true);
  expect(Array.from(got.votes), `${what} votes`).toEqual(Array.from(want.votes));
  expect(got.decision, `${what} decision`).toBe(want.decision);
}

function expectSameAsFrameLoop(net: Network, clips: InputSequence[], what: string): void {
  const got = runNetworkBatch(net, clips);
  expect(got.length).toBe(clips.length);
  clips.forEach((clip, i) => expectIdentical(got[i], runNetwork(net, clip), `${what} clip ${i}`));
}

/** A 3-input, width-18 network with positive weights and every bias -0: exact-zero sums whose sign the kernels must keep. */
function negativeZeroBiases(seed: number): Network {
  const base = randomNetwork({ inputs: 3, width: 18, blocks: 2, classes: 3, seed, weightRange: [0.5, 1] });
  const negZero = (b: Float64Array) => b.map(() => -0);
  return {
    ...base,
    pre: { ...base.pre, bias: negZero(base.pre.bias) },
    blocks: base.blocks.map((b) => ({ ...b, cand: { ...b.cand, bias: negZero(b.cand.bias) } })),
    out: { ...base.out, bias: negZero(base.out.bias) },
  };
}

describe('runNetworkBatch', () => {
  it('gives every clip bit for bit the trace runNetwork gives it, on random networks of many shapes', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const net = randomNetwork({
        inputs: 1 + (seed % 5),
        // Widths and cell counts around the kernels' blocks of 16 and 2 rows, odd ones included.
        width: 1 + ((seed * 3) % 37),
        cells: 1 + ((seed * 5) % 35),
        blocks: seed % 4,
        classes: 2 + (seed % 3),
        skip: seed % 2 === 0,
        seed,
      });
      const clips = Array.from({ length: 1 + (seed % 4) }, (_, i) =>
        randomInputs(1 + ((seed * 7 + i * 13) % 60), net.inputs, seed * 10 + i),
      );
      expectSameAsFrameLoop(net, clips, `seed ${seed}`);
    }
  });

  it('handles widths of 64 and 128 (the bench sizes) and a batch in which clips differ in length', () => {
    for (const width of [64, 128]) {
      const net = randomNetwork({ inputs: 13, width, blocks: 2, classes: 2, seed: width });
      const clips = [101, 1, 37].map((frames, i) => randomInputs(frames, 13, i + 1));
      expectSameAsFrameLoop(net, clips, `width ${width}`);
    }
  });

  it('keeps the sign of exact-zero sums as the plain dot product gives it (skipped zero inputs)', () => {
    // Bias -0 and all-zero input frames: summing only the non-zero inputs would leave -0, while the dot product
    // -0 + w * 0 with w > 0 is +0. Several layers then see exact zeros in every frame.
    const net = negativeZeroBiases(7);
    const zeros: InputSequence = { frames: 5, features: 3, data: new Float64Array(15) };
    const ref = runNetwork(net, zeros);
    expect(Object.is(ref.candidates[0][0], 0)).toBe(true); // the case is real: the reference has +0 here
    expectSameAsFrameLoop(net, [zeros, randomInputs(9, 3, 3), zeros], 'zero sums');
  });

  it('keeps the sign of exact-zero sums in frames deep inside a clip of several kernel chunks', () => {
    // The kernels gather and fix up CHUNK_FRAMES frames at a time: zero frames at a chunk's start, middle and
    // end and in the last, partial chunk must each get the reference's +0, not the -0 of the skipped sum.
    const net = negativeZeroBiases(9);
    const frames = 3 * CHUNK_FRAMES + 5;
    const zeroFrames = [0, CHUNK_FRAMES - 1, CHUNK_FRAMES, CHUNK_FRAMES + 7, 3 * CHUNK_FRAMES + 2, frames - 1];
    const clip = randomInputs(frames, 3, 4);
    for (const t of zeroFrames) clip.data.fill(0, t * 3, (t + 1) * 3);
    const ref = runNetwork(net, clip);
    const S = net.cells;
    for (const t of zeroFrames) expect(Object.is(ref.candidates[0][t * S], 0), `frame ${t} is +0`).toBe(true);
    expectSameAsFrameLoop(net, [randomInputs(7, 3, 5), clip], 'zero frames across chunks');
  });

  it('runs a clip of 300 000 frames (50 min at 10 ms) as runNetwork does, in memory proportional to the batch', () => {
    // A one-clip batch lays out about 74 bytes a frame at this shape (input, two activations, candidates, states,
    // logits): ~22 MB, well inside wasm32's 4 GiB. Regions padded beyond 16-byte alignment would not be.
    const net = randomNetwork({ inputs: 1, width: 2, blocks: 1, classes: 2, seed: 3 });
    expectSameAsFrameLoop(net, [randomInputs(300_000, 1, 6)], 'long clip');
  });

  it('keeps exact-zero sums of the first frames right in a one-cell network (the smallest scratch regions)', () => {
    // One input and one cell: the pre layer's per-frame flags lie just before the clip's inputs, which the zero
    // fix-up reads again; every frame of an all-zero clip sums to an exact zero there. Width 6: a layer of at most
    // DENSE_MAX_ROWS (4) outputs runs the dense kernel, which has no flags.
    const net = randomNetwork({ inputs: 1, width: 6, cells: 1, blocks: 1, classes: 2, seed: 5, weightRange: [0.5, 1] });
    const preNegZero = { ...net, pre: { ...net.pre, bias: net.pre.bias.map(() => -0) } };
    const zeros: InputSequence = { frames: 2 * CHUNK_FRAMES, features: 1, data: new Float64Array(2 * CHUNK_FRAMES) };
    expectSameAsFrameLoop(preNegZero, [zeros], 'one cell, zero clip');
  });

  it('returns nothing for no clips and an empty trace for a clip of no frames', () => {
    const net = randomNetwork({ inputs: 2, width: 4, blocks: 1, classes: 2, seed: 1 });
    expect(runNetworkBatch(net, [])).toEqual([]);
    const empty: InputSequence = { frames: 0, features: 2, data: new Float64Array(0) };
    expectSameAsFrameLoop(net, [empty, randomInputs(4, 2, 1)], 'empty clip');
  });

  it('rejects a clip whose feature count differs from the model', () => {
    const net = randomNetwork({ inputs: 2, width: 4, blocks: 1, classes: 2, seed: 1 });
    expect(() => runNetworkBatch(net, [randomInputs(3, 2, 1), randomInputs(3, 5, 1)])).toThrow(/5 features/);
  });

  it("keep: 'states' gives runNetwork's states, logits, votes and decision bit for bit, and no analog arrays", () => {
    // Skip and no skip, three classes, clips of different lengths including one of several kernel chunks.
    for (const [seed, skip] of [
      [3, false],
      [4, true],
    ] as const) {
      const net = randomNetwork({ inputs: 5, width: 12, cells: 9, blocks: 2, classes: 3, skip, seed });
      const clips = [2 * CHUNK_FRAMES + 3, 1, 17].map((frames, i) => randomInputs(frames, 5, seed * 10 + i));
      const got = runNetworkBatch(net, clips, { keep: 'states' });
      clips.forEach((clip, i) => {
        const want = runNetwork(net, clip);
        const what = `seed ${seed} clip ${i}`;
        expect(Object.keys(got[i]).sort(), what).toEqual(['decision', 'frames', 'logits', 'states', 'votes']);
        expect(got[i].frames, what).toBe(clip.frames);
        expect(got[i].states.length, what).toBe(2);
        for (let k = 0; k < 2; k++) expect(bytes(got[i].states[k]).equals(bytes(want.states[k])), what).toBe(true);
        expect(bytes(got[i].logits).equals(bytes(want.logits)), what).toBe(true);
        expect(Array.from(got[i].votes), what).toEqual(Array.from(want.votes));
        expect(got[i].decision, what).toBe(want.decision);
      });
    }
  });
});

import { describe, expect, it } from 'vitest';
import {
  createModelPool,
  randomInputs,
  randomNetwork,
  runNetworkBatch,
  runNetworkParallel,
  shareOut,
  type InputSequence,
  type Trace,
} from '../../src/model/index.js';

// The workers run the compiled dist/ code (worker threads load plain JavaScript): `npm test` builds it first.

function bytes(a: Float64Array | Uint8Array | Int32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

function expectIdentical(got: Trace[], want: Trace[]): void {
  expect(got.length).toBe(want.length);
  want.forEach((w, i) => {
    const g = got[i];
    expect(g.frames).toBe(w.frames);
    for (let k = 0; k < w.states.length; k++) {
      expect(bytes(g.states[k]).equals(bytes(w.states[k])), `clip ${i} states[${k}]`).toBe(true);
      expect(bytes(g.candidates[k]).equals(bytes(w.candidates[k])), `clip ${i} candidates[${k}]`).toBe(true);
      expect(bytes(g.blockOutputs[k]).equals(bytes(w.blockOutputs[k])), `clip ${i} blockOutputs[${k}]`).toBe(true);
    }
    expect(bytes(g.logits).equals(bytes(w.logits)), `clip ${i} logits`).toBe(true);
    expect(bytes(g.votes).equals(bytes(w.votes)), `clip ${i} votes`).toBe(true);
    expect(g.decision).toBe(w.decision);
  });
}

const clip = (frames: number, seed: number): InputSequence => ({
  frames,
  features: 1,
  data: new Float64Array(frames).fill(seed),
});

describe('shareOut', () => {
  it('splits clips into contiguous runs of about equal frame counts, every clip once', () => {
    const clips = [10, 10, 10, 10, 40].map(clip);
    expect(shareOut(clips, 2)).toEqual([
      [0, 4],
      [4, 5],
    ]);
    expect(shareOut(clips, 1)).toEqual([[0, 5]]);
    // More parts than clips: one clip per run, no empty runs.
    expect(shareOut(clips.slice(0, 2), 4)).toEqual([
      [0, 1],
      [1, 2],
    ]);
    expect(shareOut([], 2)).toEqual([[0, 0]]);
  });
});

describe('runNetworkParallel', () => {
  it('gives the traces of runNetworkBatch, bit for bit and in clip order, on 1, 2 and 3 workers', async () => {
    const net = randomNetwork({ inputs: 13, width: 24, cells: 19, blocks: 2, classes: 3, seed: 5 });
    const clips = Array.from({ length: 7 }, (_, i) => randomInputs(20 + 13 * i, 13, i + 1));
    const want = runNetworkBatch(net, clips);
    for (const workers of [1, 2, 3]) expectIdentical(await runNetworkParallel(net, clips, { workers }), want);
  });

  it("passes keep: 'states' on: the workers send back states, logits, votes and decisions only", async () => {
    const net = randomNetwork({ inputs: 4, width: 10, cells: 7, blocks: 2, classes: 3, seed: 9 });
    const clips = Array.from({ length: 5 }, (_, i) => randomInputs(11 + 9 * i, 4, i + 1));
    const want = runNetworkBatch(net, clips);
    const got = await runNetworkParallel(net, clips, { workers: 2, keep: 'states' });
    expect(got.length).toBe(clips.length);
    got.forEach((g, i) => {
      expect('candidates' in g || 'blockOutputs' in g, `clip ${i}`).toBe(false);
      g.states.forEach((s, k) =>
        expect(bytes(s).equals(bytes(want[i].states[k])), `clip ${i} states[${k}]`).toBe(true),
      );
      expect(bytes(g.logits).equals(bytes(want[i].logits)), `clip ${i} logits`).toBe(true);
      expect(bytes(g.votes).equals(bytes(want[i].votes)), `clip ${i} votes`).toBe(true);
      expect(g.decision).toBe(want[i].decision);
    });
  });

  it('a pool runs several batches and networks, and reports a worker error as a rejection', async () => {
    const pool = createModelPool(2);
    try {
      for (const seed of [1, 2]) {
        const net = randomNetwork({ inputs: 3, width: 8 + seed, blocks: seed, classes: 2, skip: seed === 2, seed });
        const clips = Array.from({ length: 5 }, (_, i) => randomInputs(15 + i, 3, seed * 10 + i));
        expectIdentical(await pool.run(net, clips), runNetworkBatch(net, clips));
      }
      const net = randomNetwork({ inputs: 3, width: 4, blocks: 1, classes: 2, seed: 1 });
      await expect(pool.run(net, [randomInputs(4, 3, 1), randomInputs(4, 5, 1)])).rejects.toThrow(/5 features/);
    } finally {
      await pool.close();
    }
  });

  it('rejects a worker count that is not a whole number >= 1', () => {
    expect(() => createModelPool(0)).toThrow(RangeError);
  });
});

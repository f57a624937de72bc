import { describe, expect, it } from 'vitest';
import { randomInputs, randomNetwork, runNetworkBatch } from '../../src/model/index.js';

describe("runNetworkBatch keep: 'states'", () => {
  it('holds the whole batch in one array of frames x classes logits and one of blocks x frames x cells states', () => {
    // 2 blocks of 9 cells, width 12, 3 classes; clips of 35, 1 and 17 frames: N = 53 frames in the batch.
    // Without the analog arrays the logits' allocation is N x C = 159 float64 (1272 bytes), clip i's logits
    // starting after the clips before it (35 x 3 x 8 = 840 bytes, then 1 x 3 x 8 = 24 more); the states' is
    // L x N x S = 2 x 53 x 9 = 954 bytes, block b's at b x N x S bytes and clip i's after the earlier clips' frames
    // in it. An allocation that also held the candidates and block outputs (L x N x (S + H) = 2226 float64) would
    // be 19 080 bytes.
    const net = randomNetwork({ inputs: 5, width: 12, cells: 9, blocks: 2, classes: 3, seed: 3 });
    const clips = [35, 1, 17].map((frames, i) => randomInputs(frames, 5, 30 + i));
    const got = runNetworkBatch(net, clips, { keep: 'states' });
    expect(got.map((tr) => tr.logits.buffer.byteLength)).toEqual([1272, 1272, 1272]);
    expect(got.map((tr) => tr.logits.byteOffset)).toEqual([0, 840, 864]);
    expect(got.map((tr) => tr.logits.length)).toEqual([105, 3, 51]);
    expect(got.map((tr) => tr.states.map((s) => s.buffer.byteLength))).toEqual([
      [954, 954],
      [954, 954],
      [954, 954],
    ]);
    expect(got.map((tr) => tr.states.map((s) => s.byteOffset))).toEqual([
      [0, 477],
      [315, 792],
      [324, 801],
    ]);
  });
});

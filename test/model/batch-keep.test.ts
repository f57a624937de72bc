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

describe("runNetworkBatch keep: 'all'", () => {
  it("gives each clip's candidates and block outputs arrays of their own, and keeps states and logits batch-wide", () => {
    // The same shapes: 2 blocks of 9 cells, width 12, 3 classes; clips of 35, 1 and 17 frames (N = 53).
    // Clip i's candidates per block: frames x 9 float64 (35 x 9 x 8 = 2520 bytes, 72, 1224), each its own
    // allocation starting at byte 0; its block outputs frames x 12 float64 (3360, 96, 1632). The logits and states
    // stay one allocation each for the batch (1272 and 954 bytes, as with keep: 'states'). A batch-wide analog
    // allocation would be 2 x 53 x (9 + 12) x 8 = 17 808 bytes, shared by every trace.
    const net = randomNetwork({ inputs: 5, width: 12, cells: 9, blocks: 2, classes: 3, seed: 3 });
    const clips = [35, 1, 17].map((frames, i) => randomInputs(frames, 5, 30 + i));
    const got = runNetworkBatch(net, clips);
    expect(got.map((tr) => tr.candidates.map((a) => [a.buffer.byteLength, a.byteOffset]))).toEqual([
      [
        [2520, 0],
        [2520, 0],
      ],
      [
        [72, 0],
        [72, 0],
      ],
      [
        [1224, 0],
        [1224, 0],
      ],
    ]);
    expect(got.map((tr) => tr.blockOutputs.map((a) => [a.buffer.byteLength, a.byteOffset]))).toEqual([
      [
        [3360, 0],
        [3360, 0],
      ],
      [
        [96, 0],
        [96, 0],
      ],
      [
        [1632, 0],
        [1632, 0],
      ],
    ]);
    const analog = got.flatMap((tr) => [...tr.candidates, ...tr.blockOutputs].map((a) => a.buffer));
    expect(new Set(analog).size).toBe(12);
    expect(got.map((tr) => tr.logits.buffer.byteLength)).toEqual([1272, 1272, 1272]);
    expect(got.map((tr) => tr.states.map((s) => s.buffer.byteLength))).toEqual([
      [954, 954],
      [954, 954],
      [954, 954],
    ]);
  });
});

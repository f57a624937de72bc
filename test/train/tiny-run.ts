/**
 * The one-unit training fixture that trainer-run.test.ts and trainer-setup.test.ts work their figures out on: a
 * network of one input, one unit and one block, a two-frame one-feature data set, and the per-frame cross-entropy.
 */
import type { Network } from '../../src/model/types.js';
import type { TrainingData } from '../../src/train/data.js';
import { paramLayout, rawNetworkView, tensorView } from '../../src/train/params.js';

export const TINY = { inputs: 1, width: 1, blocks: 1, classes: 2, skip: true };

/**
 * Logits (x, -x) + `outBias` for input x: pre is the identity and the classifier (1, -1); the cell's alpha is 0, so
 * the block adds max(post bias, 0) = 0 and the skip passes x through. Its beta_lo = beta_hi = 1 keep the zero
 * candidate (cand 0) a full unit from both thresholds, outside the default margin (0.2). The post weight 3 is beyond
 * the weight limit (2): the first step's projection clamps it, one value, and nothing else moves (the cell's output
 * is 0, so the weight reads nothing).
 */
export function tinyInit(outBias: [number, number] = [0, 0]): Network {
  const layout = paramLayout(TINY);
  const theta = new Float64Array(layout.size);
  const set = (name: string, v: number[]) => tensorView(layout, theta, name).set(v);
  set('pre.weight', [1]);
  set('out.weight', [1, -1]);
  set('out.bias', outBias);
  set('blocks.0.cell.beta1', [1]);
  set('blocks.0.post.weight', [3]);
  return rawNetworkView(layout, theta);
}

/** Two frames a clip, one feature a frame; `split[i]`: 0 train, 1 validation, 2 test. */
export function tinyData(clips: number[][], target: number[], split: number[]): TrainingData {
  const of = (code: number) => Int32Array.from(clips.keys()).filter((i) => split[i] === code);
  return {
    frames: 2,
    features: 1,
    data: Float64Array.from(clips.flat()),
    target: Uint8Array.from(target),
    classes: ['other', 'yes'],
    splits: { train: of(0), validation: of(1), test: of(2) },
    files: clips.map((_, i) => `clip${i}.wav`),
    keyword: 'yes',
  };
}

/** Per-frame cross-entropy of logits (x, -x) against `target`: ln(1 + e^(-2x)) for class 0, ln(1 + e^(2x)) for 1. */
export const ce = (x: number, target: number) => Math.log(1 + Math.exp(target === 0 ? -2 * x : 2 * x));

// Train: clip 0 (1, 1) -> class 0, right; clip 1 (1, -1) votes 0, 1, a tie, so 0, wrong; clip 2 (-0.5, -0.5) -> 1,
// right; clip 3 (0, 0): logits tie, class 0, wrong. Validation: clip 4 (2, 2) -> 0, right; clip 5 (0.5, 0.5) -> 0,
// wrong. Test: clip 6 (-1, -1) -> 1, right.
export const SET = tinyData(
  [
    [1, 1],
    [1, -1],
    [-0.5, -0.5],
    [0, 0],
    [2, 2],
    [0.5, 0.5],
    [-1, -1],
  ],
  [0, 1, 1, 1, 0, 1, 1],
  [0, 0, 0, 0, 1, 1, 2],
);

/** trainNetwork's options for a run that moves no parameter: learning rate 0, no warm-up, seed 3. */
export const FROZEN = {
  width: 1,
  blocks: 1,
  init: tinyInit(),
  lr: 0,
  warmupSteps: 0,
  currentCap: 0.5,
  currentWeight: 1,
  seed: 3,
};

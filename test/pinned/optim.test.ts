/**
 * AdamW against hand-worked steps (Loshchilov & Hutter; PyTorch's AdamW with the same defaults gives the same
 * numbers), which parameters decay, the learning-rate schedule, gradient clipping and the projection onto the
 * realisable ranges. Expected values are worked out below, not taken from the code.
 */
import { describe, expect, it } from 'vitest';
import {
  adamwStep,
  clipGradNorm,
  cosineLr,
  createAdamW,
  decayMask,
  DEFAULT_ADAMW,
  LIMITS,
  projectToLimits,
} from '../../src/train/optim.js';
import { paramLayout } from '../../src/train/params.js';

const LR = 0.1;

describe('adamwStep, worked by hand', () => {
  it('moves each parameter by lr on the first step whatever the gradient scale (bias-corrected m/sqrt(v) = sign(g)), decaying the weight only', () => {
    // Step 1: m = 0.1 g, v = 0.001 g^2; corrected by 1 - 0.9 and 1 - 0.999 they are g and g^2, so the update is
    // g / (|g| + 1e-8). theta_0 = 1 - 0.1 (0.5 / 0.50000001 + 0.01 * 1) = 0.899000002 (weight, decayed);
    // theta_1 = 2 - 0.1 (-1 / 1.00000001) = 2.099999999 (bias, not decayed).
    // Without the bias correction the first update would be 0.05 / sqrt(0.00025) = 3.16 times lr.
    const theta = Float64Array.of(1, 2);
    const state = createAdamW(2);
    adamwStep(state, theta, Float64Array.of(0.5, -1), LR, Uint8Array.of(1, 0), DEFAULT_ADAMW);
    expect(theta[0]).toBeCloseTo(0.899000002, 12);
    expect(theta[1]).toBeCloseTo(2.099999999, 12);
    expect(state.step).toBe(1);
    expect(Array.from(state.m)).toEqual([expect.closeTo(0.05, 15), expect.closeTo(-0.1, 15)]);
    expect(Array.from(state.v)).toEqual([expect.closeTo(0.00025, 15), expect.closeTo(0.001, 15)]);
  });

  it('takes a second step with a changed gradient from the corrected moments', () => {
    const theta = Float64Array.of(1, 2);
    const state = createAdamW(2);
    const decay = Uint8Array.of(1, 0);
    adamwStep(state, theta, Float64Array.of(0.5, -1), LR, decay);
    adamwStep(state, theta, Float64Array.of(-0.25, 3), LR, decay);
    // theta_0: m = 0.9 * 0.05 + 0.1 * -0.25 = 0.02, v = 0.999 * 0.00025 + 0.001 * 0.0625 = 0.00031225;
    // m^ = 0.02 / (1 - 0.81) = 0.1052632, v^ = 0.00031225 / (1 - 0.998001) = 0.1562031, sqrt = 0.3952254;
    // update 0.2663355; theta_0 = 0.899000002 - 0.1 (0.2663355 + 0.01 * 0.899000002) = 0.8714673.
    // theta_1: m = -0.09 + 0.3 = 0.21, v = 0.000999 + 0.009 = 0.009999; m^ = 1.1052632, v^ = 5.0020010,
    // sqrt = 2.2365153; update 0.4941890; theta_1 = 2.099999999 - 0.0494189 = 2.0505810.
    // (The same two steps in Python, written out separately: 0.8714672987058464, 2.0505810158912556.)
    expect(theta[0]).toBeCloseTo(0.8714672987058464, 12);
    expect(theta[1]).toBeCloseTo(2.0505810158912556, 12);
  });

  it('with a zero gradient only decays, and only where the mask says: theta (1 - lr * wd)', () => {
    const theta = Float64Array.of(1, 1, -3);
    adamwStep(createAdamW(3), theta, new Float64Array(3), LR, Uint8Array.of(1, 0, 1), {
      ...DEFAULT_ADAMW,
      weightDecay: 0.5,
    });
    expect(Array.from(theta)).toEqual([0.95, 1, -2.85].map((v) => expect.closeTo(v, 14)));
  });
});

describe('decayMask', () => {
  it('decays the *.weight tensors and nothing else (biases, cell parameters, s0 keep their values)', () => {
    const layout = paramLayout({ inputs: 3, width: 2, blocks: 2, classes: 2, skip: false });
    const mask = decayMask(layout);
    // pre.weight 2x3, per block cand.weight 2x2 and post.weight 2x2, out.weight 2x2: 6 + 2 * 8 + 4 = 26 weights.
    expect(mask.reduce((a, b) => a + b, 0)).toBe(26);
    for (const s of layout.slots) {
      const want = s.name.endsWith('.weight') ? 1 : 0;
      expect(Array.from(mask.subarray(s.offset, s.offset + s.size)), s.name).toEqual(new Array(s.size).fill(want));
    }
    expect(layout.slots.filter((s) => !s.name.endsWith('.weight')).map((s) => s.name)).toEqual(
      expect.arrayContaining([
        'pre.bias',
        'blocks.0.cell.alpha',
        'blocks.0.cell.beta1',
        'blocks.0.cell.delta',
        'blocks.0.cell.s0',
        'out.bias',
      ]),
    );
  });
});

describe('cosineLr', () => {
  it('warms up linearly over `warmup` steps to the peak: peak (step + 1) / warmup', () => {
    expect([0, 1, 2, 3].map((t) => cosineLr(t, 14, 2, 4, 0.1))).toEqual([0.5, 1, 1.5, 2]);
  });

  it('then falls along half a cosine from the peak to peak x floor at the last step, and stays there', () => {
    // progress = (step - 4) / (14 - 4); lr = 2 (0.1 + 0.9 x 0.5 (1 + cos(pi progress))).
    expect(cosineLr(4, 14, 2, 4, 0.1)).toBeCloseTo(2, 14); // progress 0
    expect(cosineLr(9, 14, 2, 4, 0.1)).toBeCloseTo(2 * (0.1 + 0.9 * 0.5), 14); // progress 1/2: cos = 0
    expect(cosineLr(14, 14, 2, 4, 0.1)).toBeCloseTo(0.2, 14); // progress 1: cos = -1
    expect(cosineLr(20, 14, 2, 4, 0.1)).toBeCloseTo(0.2, 14);
    // progress 1/4 (total 8, warmup 4, step 5): lr = 0.5 (1 + cos(pi / 4)).
    expect(cosineLr(5, 8, 1, 4, 0)).toBeCloseTo(0.5 * (1 + Math.SQRT1_2), 14);
  });

  it('with no steps after the warm-up (total = warmup) is at the floor, not NaN', () => {
    expect(cosineLr(4, 4, 2, 4, 0.1)).toBeCloseTo(0.2, 14);
  });
});

describe('clipGradNorm', () => {
  it('scales a gradient whose L2 norm exceeds the limit down to it, returning the norm before: (3, 4) -> (0.6, 0.8)', () => {
    const g = Float64Array.of(3, 4);
    expect(clipGradNorm(g, 1)).toBe(5);
    expect(Array.from(g)).toEqual([expect.closeTo(0.6, 15), expect.closeTo(0.8, 15)]);
  });

  it('leaves a gradient at or below the limit alone, and a zero gradient too', () => {
    const g = Float64Array.of(3, -4);
    expect(clipGradNorm(g, 10)).toBe(5);
    expect(Array.from(g)).toEqual([3, -4]);
    expect(clipGradNorm(g, 5)).toBe(5);
    expect(Array.from(g)).toEqual([3, -4]);
    const zero = new Float64Array(3);
    expect(clipGradNorm(zero, 0)).toBe(0);
    expect(Array.from(zero)).toEqual([0, 0, 0]);
  });
});

describe('projectToLimits', () => {
  it(`clamps |weights| and |biases| to ${LIMITS.weight}, cell parameters to ${LIMITS.cell}, |s0| to ${LIMITS.s0}, keeping signs, and counts what moved`, () => {
    const layout = paramLayout({ inputs: 1, width: 1, blocks: 1, classes: 1, skip: false });
    const theta = new Float64Array(layout.size);
    const set = (name: string, v: number) => (theta[layout.bySlot.get(name)!.offset] = v);
    const get = (name: string) => theta[layout.bySlot.get(name)!.offset];
    set('pre.weight', -3); // -> -2
    set('pre.bias', 0.5);
    set('blocks.0.cand.weight', 2.5); // -> 2
    set('blocks.0.cand.bias', -2.5); // -> -2
    set('blocks.0.cell.alpha', 0.01); // no floor: stays
    set('blocks.0.cell.beta1', -0.01); // -> -0.05 (beta_lo floor, sign kept)
    set('blocks.0.cell.delta', 0.01); // no floor: stays (the slot after beta1's)
    set('blocks.0.cell.s0', -1.5); // -> -1
    set('blocks.0.post.weight', 1);
    set('blocks.0.post.bias', 0);
    set('out.weight', 0.25);
    set('out.bias', 3); // -> 2
    expect(projectToLimits(layout, theta)).toBe(6);
    expect(
      [
        'pre.weight',
        'pre.bias',
        'blocks.0.cand.weight',
        'blocks.0.cand.bias',
        'blocks.0.cell.alpha',
        'blocks.0.cell.beta1',
        'blocks.0.cell.delta',
        'blocks.0.cell.s0',
        'blocks.0.post.weight',
        'blocks.0.post.bias',
        'out.weight',
        'out.bias',
      ].map(get),
    ).toEqual([-2, 0.5, 2, -2, 0.01, -0.05, 0.01, -1, 1, 0, 0.25, 2]);
    expect(projectToLimits(layout, theta)).toBe(0); // in range now: nothing moves
  });

  it('lifts a beta1 of exactly 0 to +0.05 (|beta1| is the threshold, 0 would hold the cell ON on leakage)', () => {
    const layout = paramLayout({ inputs: 1, width: 1, blocks: 1, classes: 1, skip: false });
    const theta = new Float64Array(layout.size);
    const beta1 = layout.bySlot.get('blocks.0.cell.beta1')!.offset;
    projectToLimits(layout, theta);
    expect(theta[beta1]).toBe(LIMITS.betaLoMin);
    expect(Array.from(theta).filter((v) => v !== 0)).toEqual([LIMITS.betaLoMin]);
  });
});

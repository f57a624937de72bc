import { describe, expect, it } from 'vitest';
import {
  allocScratch,
  allocTape,
  backwardClip,
  currentPenalty,
  forwardClip,
  frameCrossEntropy,
  marginPenalty,
  networkThresholds,
  transitionPenalty,
  type GradOptions,
} from '../../src/train/bptt.js';
import { runNetwork } from '../../src/model/network.js';
import { initParams, paramLayout, rawNetworkView, tensorView, type ParamLayout } from '../../src/train/params.js';
import { softStep, surrogateGrad } from '../../src/train/surrogate.js';
import { createRng } from '../../src/util/random.js';

/** A tiny network: F = 3 features, H = S = 2, L = 2 blocks, 2 classes, 7 frames. */
const SHAPE = { inputs: 3, width: 2, blocks: 2, classes: 2, skip: true };
const FRAMES = 7;

function setup(seed: number, shape: Parameters<typeof paramLayout>[0] = SHAPE) {
  const layout = paramLayout(shape);
  const theta = initParams(layout, seed);
  const rng = createRng(seed + 100);
  // Mixed signs on the raw cell parameters and s0 values on both sides of 0.5 exercise every |.| and sign.
  for (const slot of layout.slots) {
    const v = theta.subarray(slot.offset, slot.offset + slot.size);
    for (let i = 0; i < v.length; i++) {
      if (slot.kind === 'bias') v[i] = rng.uniform(-0.3, 0.3);
      if (slot.kind === 'cell' && rng.next() < 0.5) v[i] = -v[i];
      if (slot.kind === 's0') v[i] = rng.uniform(-0.9, 0.9);
    }
  }
  const inputs = Float64Array.from({ length: FRAMES * SHAPE.inputs }, () => rng.normal());
  return { layout, theta, inputs };
}

/** Loss (mean per-frame cross-entropy against class 1) and its gradient by the hand-written backward pass. */
function lossAndGrad(layout: ParamLayout, theta: Float64Array, inputs: Float64Array, opts: GradOptions) {
  const net = rawNetworkView(layout, theta);
  const th = networkThresholds(net);
  const tape = allocTape(net, FRAMES);
  forwardClip(net, th, inputs, 0, tape, opts);
  const dLogits = new Float64Array(FRAMES * 2);
  const loss =
    (frameCrossEntropy(tape.logits, FRAMES, 2, 1, 1 / FRAMES, dLogits) +
      currentPenalty(tape, opts) +
      marginPenalty(tape, th, opts) +
      transitionPenalty(net, tape, th, opts)) /
    FRAMES;
  const grad = new Float64Array(layout.size);
  backwardClip(net, layout, th, inputs, 0, tape, dLogits, grad, allocScratch(net, FRAMES), opts, 1 / FRAMES);
  return { loss, grad, tape };
}

/** Central finite difference of the loss in parameter i. */
function numericGrad(
  layout: ParamLayout,
  theta: Float64Array,
  inputs: Float64Array,
  opts: GradOptions,
  i: number,
  h = 1e-6,
): number {
  const p = theta.slice();
  p[i] += h;
  const up = lossAndGrad(layout, p, inputs, opts).loss;
  p[i] -= 2 * h;
  const down = lossAndGrad(layout, p, inputs, opts).loss;
  return (up - down) / (2 * h);
}

/** Every parameter's backward gradient against the finite difference (but the slots `skip` names); returns the gradient. */
function expectGradMatchesNumeric(
  setupOut: ReturnType<typeof setup>,
  opts: GradOptions,
  label: string,
  skip: readonly string[] = [],
): Float64Array {
  const { layout, theta, inputs } = setupOut;
  const { grad } = lossAndGrad(layout, theta, inputs, opts);
  for (const slot of layout.slots) {
    if (skip.includes(slot.name)) continue;
    for (let i = slot.offset; i < slot.offset + slot.size; i++) {
      const num = numericGrad(layout, theta, inputs, opts, i);
      expect(
        Math.abs(grad[i] - num),
        `${slot.name}[${i - slot.offset}] ${label}: backward ${grad[i]}, numeric ${num}`,
      ).toBeLessThan(1e-6 + 1e-5 * Math.abs(num));
    }
  }
  return grad;
}

describe('surrogate', () => {
  it('is the derivative of the arctan step and integrates to 1', () => {
    for (const w of [0.1, 0.25, 1]) {
      for (const x of [-1, -0.1, 0, 0.03, 0.7]) {
        const h = 1e-6;
        expect(surrogateGrad(x, w)).toBeCloseTo((softStep(x + h, w) - softStep(x - h, w)) / (2 * h), 6);
      }
      expect(surrogateGrad(0, w)).toBeCloseTo(1 / w, 12);
      // The arctan step goes 0 -> 1, so its derivative has total mass 1.
      expect(softStep(1e9, w) - softStep(-1e9, w)).toBeCloseTo(1, 6);
    }
  });
});

/** One block, one cell (beta_lo 0.2, beta_hi 0.6, s0 OFF) over five frames: the margin penalty's hand-worked case. */
const oneCellTape = () => ({
  tape: {
    u: [Float64Array.of(0.55, 0.65, 0.62, 0.18, -1)],
    s: [Float64Array.of(0, 1, 1, 0, 0)],
    s0: [Float64Array.of(0)],
  } as unknown as Parameters<typeof marginPenalty>[0],
  th: [{ alpha: [1], betaLo: [0.2], betaHi: [0.6], s0: [0] }] as unknown as Parameters<typeof marginPenalty>[1],
});

describe('backward pass', () => {
  it('matches finite differences for every parameter when the steps are smooth (surrogate path included)', () => {
    for (const seed of [1, 2, 3])
      expectGradMatchesNumeric(setup(seed), { surrogateWidth: 0.5, soft: true, cumulative: 0 }, `seed ${seed}`);
  });

  it('matches finite differences with the cumulative forward pass: CMRU (eps = 1) and relaxed CMRU (eps = 0.3, 0.7)', () => {
    for (const forwardEps of [1, 0.3, 0.7])
      for (const seed of [1, 2])
        expectGradMatchesNumeric(
          setup(seed),
          { surrogateWidth: 0.5, soft: true, forwardEps, currentCap: 0.5, currentWeight: 0.2 },
          `eps ${forwardEps} seed ${seed}`,
        );
  });

  it('the cumulative forward pass counts: hard CMRU states are integers that move by at most 1 per frame', () => {
    const { layout, theta, inputs } = setup(3);
    const { tape } = lossAndGrad(layout, theta, inputs, { surrogateWidth: 0.25, forwardEps: 1 });
    for (let k = 0; k < tape.s.length; k++)
      for (let i = 0; i < tape.s[k].length; i++) {
        const prev = i < SHAPE.width ? tape.s0[k][i] : tape.s[k][i - SHAPE.width];
        expect(Number.isInteger(tape.s[k][i])).toBe(true);
        expect(Math.abs(tape.s[k][i] - prev)).toBeLessThanOrEqual(1);
      }
  });

  it('includes the current penalty (cap low enough that candidates and block currents exceed it)', () => {
    const { layout, theta, inputs } = setup(6);
    const opts: GradOptions = { surrogateWidth: 0.5, soft: true, currentCap: 0.3, currentWeight: 0.5 };
    const net = rawNetworkView(layout, theta);
    const tape = allocTape(net, FRAMES);
    forwardClip(net, networkThresholds(net), inputs, 0, tape, opts);
    expect(currentPenalty(tape, opts)).toBeGreaterThan(0.1);
    expectGradMatchesNumeric({ layout, theta, inputs }, opts, 'current penalty');
  });

  it('includes the margin penalty (a margin wide enough that candidates sit inside it, on both sides of thresholds)', () => {
    for (const seed of [6, 7]) {
      const { layout, theta, inputs } = setup(seed);
      const opts: GradOptions = { surrogateWidth: 0.5, soft: true, margin: 0.8, marginWeight: 0.5 };
      const net = rawNetworkView(layout, theta);
      const th = networkThresholds(net);
      const tape = allocTape(net, FRAMES);
      forwardClip(net, th, inputs, 0, tape, opts);
      expect(marginPenalty(tape, th, opts)).toBeGreaterThan(0.1);
      const grad = expectGradMatchesNumeric({ layout, theta, inputs }, opts, `seed ${seed}`);
      const without = lossAndGrad(layout, theta, inputs, { ...opts, margin: 0 }).grad;
      const moved = grad.filter((g, i) => Math.abs(g - without[i]) > 1e-6).length;
      // The penalty reaches the thresholds and every layer upstream of a candidate.
      expect(moved).toBeGreaterThan(10);
    }
  });

  it('margin penalty: a previous state of exactly 0.5 (soft s0 at |s0| = 0.5) takes beta_lo in the gradient as in the penalty', () => {
    // softStep(|0.5| - 0.5) = 0.5: frame 0 of every cell is decided by beta_lo (marginPenalty, hand-checked above),
    // and the gradient must take the same threshold. s0 itself sits on the switch between the two thresholds, where
    // the penalty jumps: its finite difference is left out.
    for (const seed of [6, 7]) {
      const s = setup(seed);
      for (const k of [0, 1]) tensorView(s.layout, s.theta, `blocks.${k}.cell.s0`).fill(0.5);
      const opts: GradOptions = { surrogateWidth: 0.5, soft: true, margin: 0.8, marginWeight: 0.5 };
      expect(Array.from(lossAndGrad(s.layout, s.theta, s.inputs, opts).tape.s0[0])).toEqual([0.5, 0.5]);
      expectGradMatchesNumeric(s, opts, `s0 = 0.5, seed ${seed}`, ['blocks.0.cell.s0', 'blocks.1.cell.s0']);
    }
  });

  it('includes the transition penalty (a margin wide enough that most holding frames have a path inside it)', () => {
    for (const seed of [6, 8]) {
      const { layout, theta, inputs } = setup(seed);
      const opts: GradOptions = { surrogateWidth: 0.5, soft: true, transitionMargin: 0.8, transitionWeight: 0.5 };
      const net = rawNetworkView(layout, theta);
      const th = networkThresholds(net);
      const tape = allocTape(net, FRAMES);
      forwardClip(net, th, inputs, 0, tape, opts);
      expect(transitionPenalty(net, tape, th, opts)).toBeGreaterThan(0.1);
      const grad = expectGradMatchesNumeric({ layout, theta, inputs }, opts, `seed ${seed}`);
      const without = lossAndGrad(layout, theta, inputs, { ...opts, transitionMargin: 0 }).grad;
      const moved = layout.slots.filter((slot) =>
        grad
          .subarray(slot.offset, slot.offset + slot.size)
          .some((g, i) => Math.abs(g - without[slot.offset + i]) > 1e-6),
      );
      // The penalty reaches the thresholds, the candidate layers and every layer upstream of a candidate.
      for (const name of [
        'pre.weight',
        'blocks.0.cand.weight',
        'blocks.1.cand.bias',
        'blocks.0.cell.beta1',
        'blocks.1.cell.delta',
      ])
        expect(
          moved.map((slot) => slot.name),
          `seed ${seed}`,
        ).toContain(name);
    }
  });

  it('transition penalty: hand-computed path bounds, the ends each weight takes, holds only', () => {
    // One block, one cell, candidate u = 0.1 + x0 - x1; beta_lo 0.2, beta_hi 0.9; margin 0.1, weight 2.
    // x per frame: (0.5, 0.2) (0.2, 0.6) (0.9, 0.1) (0.9, 0.0) (0.3, 0.4) (0.3, 0.5); states 1 1 0 0 0 0.
    // t = 1, ON -> ON: the lower bound takes x0 at its smaller end (0.2) and x1 at its larger (0.6):
    //   0.1 + 0.2 - 0.6 = -0.3; excess 0.2 + 0.1 + 0.3 = 0.6 -> (0.6 / 0.1)^2 = 36
    // t = 2, ON -> OFF: not a hold, 0
    // t = 3, OFF -> OFF: the upper bound takes x0 at its larger end (0.9) and x1 at its smaller (0.0):
    //   0.1 + 0.9 - 0 = 1.0; excess 1.0 - (0.9 - 0.1) = 0.2 -> 4
    // t = 4, OFF -> OFF: x0 falls 0.9 -> 0.3 and x1 rises 0 -> 0.4, both ends 0.3 and 0.1 below beta_hi, but the
    //   path can have x0 still high and x1 still low: 0.1 + 0.9 - 0 = 1.0 -> 4
    // t = 5, OFF -> OFF: 0.1 + 0.3 - 0.4 = 0, far inside: 0
    const tape = {
      frames: 6,
      xPos: [Float64Array.of(0.5, 0.2, 0.2, 0.6, 0.9, 0.1, 0.9, 0.0, 0.3, 0.4, 0.3, 0.5)],
      s: [Float64Array.of(1, 1, 0, 0, 0, 0)],
      s0: [Float64Array.of(1)],
    } as unknown as Parameters<typeof transitionPenalty>[1];
    const net = {
      blocks: [{ cand: { weight: { rows: 1, cols: 2, data: Float64Array.of(1, -1) }, bias: Float64Array.of(0.1) } }],
    } as unknown as Parameters<typeof transitionPenalty>[0];
    const th = [{ alpha: [1], betaLo: [0.2], betaHi: [0.9], s0: [1] }] as unknown as Parameters<
      typeof transitionPenalty
    >[2];
    const opts: GradOptions = { surrogateWidth: 0.25, transitionMargin: 0.1, transitionWeight: 2 };
    expect(transitionPenalty(net, tape, th, opts)).toBeCloseTo(2 * (36 + 4 + 4), 9);
    expect(transitionPenalty(net, tape, th, { ...opts, transitionMargin: 0 })).toBe(0);
    expect(transitionPenalty(net, tape, th, { ...opts, transitionWeight: 0 })).toBe(0);
  });

  it('transition penalty: two cells, each read at its own index; a state of exactly 0.5 counts as ON', () => {
    // One block, one input x, two cells: u0 = x (beta_lo 0.2, beta_hi 0.9), u1 = 1 - x (beta_lo 0.3, beta_hi 0.7);
    // margin 0.5, weight 2. x per frame 0.95, 0.25, 0.1, 0.6; states (cell 0, cell 1): (1, 0) (1, 1) (0, 1) (0, 1).
    // The lower bound of u0 is min(x_{t-1}, x_t), its upper max; u1's lower bound is 1 - max, its upper 1 - min.
    // t = 1: cell 0 ON -> ON: 0.2 + 0.5 - min(0.95, 0.25) = 0.45 -> (0.45 / 0.5)^2 = 0.81; cell 1 switches: 0
    // t = 2: cell 0 switches: 0; cell 1 ON -> ON: 0.3 + 0.5 - (1 - 0.25) = 0.05 -> 0.01
    // t = 3: cell 0 OFF -> OFF: max(0.1, 0.6) - (0.9 - 0.5) = 0.2 -> 0.16; cell 1 ON -> ON: 0.8 - (1 - 0.6) = 0.4 -> 0.64
    const tape = (s: number[]) =>
      ({
        frames: 4,
        xPos: [Float64Array.of(0.95, 0.25, 0.1, 0.6)],
        s: [Float64Array.from(s)],
        s0: [Float64Array.of(1, 0)],
      }) as unknown as Parameters<typeof transitionPenalty>[1];
    const net = {
      blocks: [{ cand: { weight: { rows: 2, cols: 1, data: Float64Array.of(1, -1) }, bias: Float64Array.of(0, 1) } }],
    } as unknown as Parameters<typeof transitionPenalty>[0];
    const th = [{ alpha: [1, 1], betaLo: [0.2, 0.3], betaHi: [0.9, 0.7], s0: [1, 0] }] as unknown as Parameters<
      typeof transitionPenalty
    >[2];
    const opts: GradOptions = { surrogateWidth: 0.25, transitionMargin: 0.5, transitionWeight: 2 };
    const want = 2 * (0.81 + 0.01 + 0.16 + 0.64);
    expect(transitionPenalty(net, tape([1, 0, 1, 1, 0, 1, 0, 1]), th, opts)).toBeCloseTo(want, 9);
    // Cell 1 at 0.5 in frames 2 and 3 (soft steps, or the relaxed CMRU): still ON, still the same holds.
    expect(transitionPenalty(net, tape([1, 0, 1, 1, 0, 0.5, 0, 0.5]), th, opts)).toBeCloseTo(want, 9);
  });

  it('candidate noise: block 0 candidates are the clean ones plus sigma times the generator normals, frame by frame', () => {
    const { layout, theta, inputs } = setup(8);
    const net = rawNetworkView(layout, theta);
    const th = networkThresholds(net);
    const clean = allocTape(net, FRAMES);
    forwardClip(net, th, inputs, 0, clean, { surrogateWidth: 0.25 });
    const noisy = allocTape(net, FRAMES);
    forwardClip(net, th, inputs, 0, noisy, { surrogateWidth: 0.25, candidateNoise: 0.3, noiseRng: createRng(42) });
    // Block 0 reads the pre-projection only, so its candidates differ by the noise alone; the draws go frame by
    // frame, block 0 then block 1 within a frame is not the order: blocks run one after the other over all frames.
    const rng = createRng(42);
    for (let i = 0; i < FRAMES * SHAPE.width; i++)
      expect(noisy.u[0][i] - clean.u[0][i]).toBeCloseTo(0.3 * rng.normal(), 12);
    expect(() => forwardClip(net, th, inputs, 0, noisy, { surrogateWidth: 0.25, candidateNoise: 0.3 })).toThrow(
      /noiseRng/,
    );
  });

  it('margin penalty: hand-computed on one cell, the threshold chosen by the previous state', () => {
    // One block, one cell: beta_lo 0.2, beta_hi 0.6, s0 = OFF; margin 0.1, weight 2.
    // frame 0: OFF, c = 0.55 -> 0.05 from beta_hi: (0.05 / 0.1)^2 = 0.25 (state stays OFF)
    // frame 1: OFF, c = 0.65 -> 0.05 above beta_hi: 0.25 (turns ON)
    // frame 2: ON,  c = 0.62 -> beta_lo decides, 0.42 away: 0 (beta_hi, 0.02 away, does not count)
    // frame 3: ON,  c = 0.18 -> 0.02 below beta_lo: (0.08 / 0.1)^2 = 0.64 (turns OFF)
    // frame 4: OFF, u = -1 (c = 0) -> 0.6 from beta_hi: 0
    const { tape, th } = oneCellTape();
    const opts: GradOptions = { surrogateWidth: 0.25, margin: 0.1, marginWeight: 2 };
    expect(marginPenalty(tape, th, opts)).toBeCloseTo(2 * (0.25 + 0.25 + 0.64), 12);
    expect(marginPenalty(tape, th, { ...opts, margin: 0 })).toBe(0);
    expect(marginPenalty(tape, th, { ...opts, marginWeight: 0 })).toBe(0);
  });

  it('margin penalty: a previous state of exactly 0.5 counts as ON, as in the backward pass', () => {
    // The cell above with s0 = 0.5 (soft steps give it for |s0| = 0.5): frame 0 is decided by beta_lo, 0.35 from
    // c = 0.55, so it adds 0; frames 1 to 4 as before: 2 (0.25 + 0.64).
    const { tape, th } = oneCellTape();
    tape.s0[0][0] = 0.5;
    expect(marginPenalty(tape, th, { surrogateWidth: 0.25, margin: 0.1, marginWeight: 2 })).toBeCloseTo(
      2 * (0.25 + 0.64),
      12,
    );
  });

  it('margin focus: the flagged unit-frames take the focus margin and weight, the others the usual ones', () => {
    // The cell above; frames 2 and 4 flagged, margin 0.5, weight 3:
    // frame 2: ON, c = 0.62, beta_lo 0.42 away: 3 (0.08 / 0.5)^2 = 0.0768 (0 with the usual 0.1)
    // frame 4: OFF, c = 0, beta_hi 0.6 away: outside 0.5, 0
    // frames 0, 1, 3 as before: 2 (0.25 + 0.25 + 0.64)
    const { tape, th } = oneCellTape();
    const marginFocus = { flags: [Uint8Array.of(0, 0, 1, 0, 1)], margin: 0.5, weight: 3 };
    const opts: GradOptions = { surrogateWidth: 0.25, margin: 0.1, marginWeight: 2, marginFocus };
    expect(marginPenalty(tape, th, opts)).toBeCloseTo(2 * (0.25 + 0.25 + 0.64) + (3 * 0.08 ** 2) / 0.25, 12);
    // The focus holds without the usual margin (before --margin-after): frame 2 alone.
    expect(marginPenalty(tape, th, { ...opts, margin: 0 })).toBeCloseTo((3 * 0.08 ** 2) / 0.25, 12);
    // A flagged frame 0 (0.05 from beta_hi) in place of frame 2: (0.45 / 0.5)^2 x 3 instead of 0.25 x 2.
    const frame0 = { ...marginFocus, flags: [Uint8Array.of(1, 0, 0, 0, 0)] };
    expect(marginPenalty(tape, th, { ...opts, marginFocus: frame0 })).toBeCloseTo(3 * 0.81 + 2 * (0.25 + 0.64), 12);
  });

  it('includes the margin focus in the gradient (half the unit-frames flagged, a wider margin there)', () => {
    const { layout, theta, inputs } = setup(6);
    const net = rawNetworkView(layout, theta);
    const flags = net.blocks.map((b) => Uint8Array.from({ length: FRAMES * b.cell.alpha.length }, (_, i) => i % 2));
    const opts: GradOptions = {
      surrogateWidth: 0.5,
      soft: true,
      margin: 0.3,
      marginWeight: 0.5,
      marginFocus: { flags, margin: 0.9, weight: 1.5 },
    };
    const grad = expectGradMatchesNumeric({ layout, theta, inputs }, opts, 'focus');
    const without = lossAndGrad(layout, theta, inputs, { ...opts, marginFocus: undefined }).grad;
    expect(grad.filter((g, i) => Math.abs(g - without[i]) > 1e-6).length).toBeGreaterThan(10);
  });

  it('with hard steps, matches finite differences where no step lies on the path (classifier, last post layer, last alpha)', () => {
    const { layout, theta, inputs } = setup(4);
    const opts: GradOptions = { surrogateWidth: 0.25 };
    const { grad, tape } = lossAndGrad(layout, theta, inputs, opts);
    for (const s of tape.s) for (const v of s) expect(v === 0 || v === 1).toBe(true);
    for (const name of [
      'out.weight',
      'out.bias',
      'blocks.1.post.weight',
      'blocks.1.post.bias',
      'blocks.1.cell.alpha',
    ]) {
      const slot = layout.bySlot.get(name)!;
      for (let i = slot.offset; i < slot.offset + slot.size; i++) {
        const num = numericGrad(layout, theta, inputs, opts, i);
        expect(Math.abs(grad[i] - num), `${name}[${i - slot.offset}]`).toBeLessThan(1e-7 + 1e-6 * Math.abs(num));
      }
    }
  });

  it('passes the gradient through time with coefficient 1 under the cumulative update (eps = 1), 0 when the state is forced (eps = 0)', () => {
    const { layout, theta, inputs } = setup(5);
    // Unit 0 of the last block: beta_lo = beta_hi = 0, so c >= beta_hi at every frame: forced ON, never holding.
    tensorView(layout, theta, 'blocks.1.cell.beta1')[0] = 0;
    tensorView(layout, theta, 'blocks.1.cell.delta')[0] = 0;
    const s0raw = 0.3;
    tensorView(layout, theta, 'blocks.1.cell.s0')[0] = s0raw;
    const slot = (n: string) => layout.bySlot.get(n)!.offset;
    const bmru = lossAndGrad(layout, theta, inputs, { surrogateWidth: 0.25, cumulative: 0 });
    expect(Array.from({ length: FRAMES }, (_, t) => bmru.tape.s[1][t * 2])).toEqual(Array(FRAMES).fill(1));
    expect(bmru.grad[slot('blocks.1.cell.s0')]).toBe(0);
    // All states are 1, so dL/d|alpha| = sum_t dL/d(alpha s_t) and sum_t dL/ds_t = |alpha| dL/d|alpha|:
    // with eps = 1 all of it reaches s0, through the surrogate of |s0| > 0.5.
    const cmru = lossAndGrad(layout, theta, inputs, { surrogateWidth: 0.25, cumulative: 1 });
    const alpha = tensorView(layout, theta, 'blocks.1.cell.alpha')[0];
    const dAlphaAbs = cmru.grad[slot('blocks.1.cell.alpha')] * Math.sign(alpha);
    const expected = Math.abs(alpha) * dAlphaAbs * surrogateGrad(s0raw - 0.5, 0.5);
    expect(cmru.grad[slot('blocks.1.cell.s0')]).toBeCloseTo(expected, 12);
    expect(expected).not.toBe(0);
    // eps changes only the backward pass.
    expect(cmru.loss).toBe(bmru.loss);
  });
});

describe('forward pass and loss, by hand', () => {
  it('frameCrossEntropy: softmax cross-entropy per frame, its gradient times scale, stable for large logits', () => {
    // Frame 0: logits (0, ln 3), softmax (1/4, 3/4): loss against class 1 is ln(4/3), gradient (1/4, -1/4).
    // Frame 1: logits (1000, 0): exp(1000) overflows unless the largest logit is taken out first; loss 1000 + ln(1 +
    //   e^-1000) = 1000, gradient (1, -1). Frame 2: logits (-1000, -1001): exp(-1000) underflows to 0 the same way;
    //   softmax (1 / (1 + e^-1), e^-1 / (1 + e^-1)), loss ln(1 + e^-1).
    const logits = Float64Array.of(0, Math.log(3), 1000, 0, -1000, -1001);
    const d = new Float64Array(6);
    const loss = frameCrossEntropy(logits, 3, 2, 1, 0.5, d);
    const p1 = Math.exp(-1) / (1 + Math.exp(-1));
    expect(loss).toBeCloseTo(Math.log(4 / 3) + 1000 + (1 + Math.log(1 + Math.exp(-1))), 9);
    const want = [0.25, -0.25, 1, -1, 1 - p1, p1 - 1].map((x) => 0.5 * x);
    want.forEach((x, i) => expect(d[i], `dLogits[${i}]`).toBeCloseTo(x, 12));
    // Three classes, target 0: loss ln(e + e^2 + e^3) - 1, gradient softmax - (1, 0, 0).
    const d3 = new Float64Array(3);
    const z = Math.E + Math.E ** 2 + Math.E ** 3;
    expect(frameCrossEntropy(Float64Array.of(1, 2, 3), 1, 3, 0, 1, d3)).toBeCloseTo(Math.log(z) - 1, 12);
    [Math.E / z - 1, Math.E ** 2 / z, Math.E ** 3 / z].forEach((x, i) => expect(d3[i]).toBeCloseTo(x, 12));
  });

  it('currentPenalty: squared excess over the cap of |h| and of positive candidates only', () => {
    // Cap 1, weight 2. Block inputs 0.5 (inside), -2 (1 over), 1.2 (0.2 over); candidates -3 (a negative u is no
    // current), 1.5 (0.5 over): 2 (1 + 0.04 + 0.25) = 2.58.
    const tape = { hIn: [Float64Array.of(0.5, -2, 1.2)], u: [Float64Array.of(-3, 1.5)] } as unknown as Parameters<
      typeof currentPenalty
    >[0];
    const opts: GradOptions = { surrogateWidth: 0.25, currentCap: 1, currentWeight: 2 };
    expect(currentPenalty(tape, opts)).toBeCloseTo(2.58, 12);
    expect(currentPenalty(tape, { ...opts, currentWeight: 0 })).toBe(0);
    expect(currentPenalty(tape, { ...opts, currentWeight: undefined })).toBe(0);
    expect(currentPenalty(tape, { ...opts, currentCap: undefined })).toBe(0);
  });

  it('hard steps on one cell: ON at beta_hi and above, held in the band, kept ON at beta_lo, OFF below it', () => {
    // F = H = S = 1, one block with skip: h0 = x, u = max(x, 0), beta_lo = |-0.25| = 0.25, beta_hi = 0.25 + |0.5| =
    // 0.75 (both exact in binary), alpha = |-2| = 2, s0 = |0.3| < 0.5: OFF; v = 1 (2 s) + 0 = 2 s, h1 = max(v, 0) + h0.
    // x:      0.8  0.5  0.25  0.1  0.5  0.75  -1
    // state:  1    1    1     0    0    1     0    (OFF -> ON at c >= 0.75, ON -> OFF at c < 0.25, band holds)
    // h1:     2.8  2.5  2.25  0.1  0.5  2.75  -1   (the skip adds h0 itself, not max(h0, 0))
    const layout = paramLayout({ inputs: 1, width: 1, blocks: 1, classes: 2, skip: true });
    const theta = new Float64Array(layout.size);
    const set = (name: string, v: number) => (tensorView(layout, theta, name)[0] = v);
    set('pre.weight', 1);
    set('blocks.0.cand.weight', 1);
    set('blocks.0.cell.alpha', -2);
    set('blocks.0.cell.beta1', -0.25);
    set('blocks.0.cell.delta', 0.5);
    set('blocks.0.cell.s0', 0.3);
    set('blocks.0.post.weight', 1);
    const net = rawNetworkView(layout, theta);
    const x = Float64Array.of(0.8, 0.5, 0.25, 0.1, 0.5, 0.75, -1);
    const tape = allocTape(net, x.length);
    forwardClip(net, networkThresholds(net), x, 0, tape, { surrogateWidth: 0.25 });
    expect(Array.from(tape.s[0])).toEqual([1, 1, 1, 0, 0, 1, 0]);
    expect(Array.from(tape.u[0])).toEqual([0.8, 0.5, 0.25, 0.1, 0.5, 0.75, 0]);
    expect(Array.from(tape.hIn[1])).toEqual([2.8, 2.5, 2.25, 0.1, 0.5, 2.75, -1]);
  });

  it('candidate noise: one draw per frame and cell of every block, block 1 included, and no more', () => {
    const { layout, theta, inputs } = setup(8);
    const net = rawNetworkView(layout, theta);
    const noiseRng = createRng(42);
    const tape = allocTape(net, FRAMES);
    forwardClip(net, networkThresholds(net), inputs, 0, tape, { surrogateWidth: 0.25, candidateNoise: 0.3, noiseRng });
    // Block 1's candidates: W_c max(h1, 0) + b_c worked out here from the tape's h1, plus the draws after block 0's.
    const draws = createRng(42);
    for (let i = 0; i < FRAMES * SHAPE.width; i++) draws.normal();
    const W = tensorView(layout, theta, 'blocks.1.cand.weight');
    const b = tensorView(layout, theta, 'blocks.1.cand.bias');
    const h1 = tape.hIn[1];
    for (let t = 0; t < FRAMES; t++)
      for (let j = 0; j < 2; j++) {
        const clean = b[j] + W[j * 2] * Math.max(h1[t * 2], 0) + W[j * 2 + 1] * Math.max(h1[t * 2 + 1], 0);
        expect(tape.u[1][t * 2 + j] - clean, `frame ${t} cell ${j}`).toBeCloseTo(0.3 * draws.normal(), 12);
      }
    // 2 blocks x 7 frames x 2 cells = 28 draws in all: the generator goes on where a fresh one does after 28.
    expect(noiseRng.normal()).toBe(draws.normal());
  });

  it('hard steps, backward by hand on one cell: holds carry the gradient back in time, forced frames pass eps of it', () => {
    // The one-cell network of the forward test above with post.bias 0.5 (so v > 0 in every frame), out.weight (1, -1),
    // x = 0.5, 0.8, 0.5, 0.1 (u = x > 0), s0 OFF, beta_lo 0.25, beta_hi 0.75, surrogate width 0.5:
    //   t  c    s_{t-1} hi lo s_t  hold (= lo - hi)   v = 2 s + 0.5   h1 = v + x
    //   0  0.5  0       0  1  0    1                 0.5             1.0
    //   1  0.8  0       1  1  1    0                 2.5             3.3
    //   2  0.5  1       0  1  1    1                 2.5             3.0
    //   3  0.1  1       0  0  0    0                 0.5             0.6
    // logits (h1, -h1) against class 1, dLogits = scale (sig(2 h1), -sig(2 h1)) with scale 1/4, so dL/dh1 = 2 scale
    // sig(2 h1) = gH; dL/dv = gH (v > 0); the direct dL/ds_t = W_p |alpha| gH = 2 gH.
    // Back in time, gs_t = 2 gH_t + gs_{t+1} (hold_{t+1} + eps (1 - hold_{t+1})); dL/ds_0 = gs_0 (hold_0 = 1).
    // An OFF cell's frame feels beta_hi (gHi = gs (1 - s_{t-1})), an ON cell's beta_lo (gLo = gs s_{t-1}).
    const layout = paramLayout({ inputs: 1, width: 1, blocks: 1, classes: 2, skip: true });
    const theta = new Float64Array(layout.size);
    const set = (name: string, ...v: number[]) => tensorView(layout, theta, name).set(v);
    set('pre.weight', 1);
    set('blocks.0.cand.weight', 1);
    set('blocks.0.cell.alpha', -2);
    set('blocks.0.cell.beta1', -0.25);
    set('blocks.0.cell.delta', 0.5);
    set('blocks.0.cell.s0', 0.3);
    set('blocks.0.post.weight', 1);
    set('blocks.0.post.bias', 0.5);
    set('out.weight', 1, -1);
    const net = rawNetworkView(layout, theta);
    const th = networkThresholds(net);
    const x = Float64Array.of(0.5, 0.8, 0.5, 0.1);
    const T = x.length;
    const scale = 1 / T;
    const h1 = [1.0, 3.3, 3.0, 0.6];
    const sig = (z: number) => 1 / (1 + Math.exp(-z));
    const dLogits = Float64Array.from(h1.flatMap((h) => [scale * sig(2 * h), -scale * sig(2 * h)]));
    const gH = h1.map((h) => 2 * scale * sig(2 * h));
    const sg = (z: number) => surrogateGrad(z, 0.5);
    const dHi = [0.5, 0.8].map((c) => sg(c - 0.75)); // frames 0 and 1, s_{t-1} = 0
    const dLo = [0.5, 0.1].map((c) => sg(c - 0.25)); // frames 2 and 3, s_{t-1} = 1
    for (const eps of [0, 0.5]) {
      const tape = allocTape(net, T);
      const opts: GradOptions = { surrogateWidth: 0.5, cumulative: eps };
      forwardClip(net, th, x, 0, tape, opts);
      expect(Array.from(tape.s[0])).toEqual([0, 1, 1, 0]);
      h1.forEach((h, t) => expect(tape.hIn[1][t], `h1 at frame ${t}`).toBeCloseTo(h, 12));
      const grad = new Float64Array(layout.size);
      backwardClip(net, layout, th, x, 0, tape, dLogits, grad, allocScratch(net, T), opts, scale);
      const gs3 = 2 * gH[3];
      const gs2 = 2 * gH[2] + gs3 * eps; // hold_3 = 0
      const gs1 = 2 * gH[1] + gs2; // hold_2 = 1
      const gs0 = 2 * gH[0] + gs1 * eps; // hold_1 = 0
      const gU = [gs0 * dHi[0], gs1 * dHi[1], gs2 * dLo[0], gs3 * dLo[1]];
      const want: Record<string, number[]> = {
        'blocks.0.cell.s0': [gs0 * surrogateGrad(0.3 - 0.5, 0.5)],
        // beta_lo = |beta1|, beta_hi = |beta1| + |delta|; beta1 < 0 flips the sign, delta > 0 keeps it.
        'blocks.0.cell.beta1': [gU[0] + gU[1] + gU[2] + gU[3]],
        'blocks.0.cell.delta': [-(gU[0] + gU[1])],
        // dL/d|alpha| = sum_t W_p gH_t s_t (frames 1 and 2); alpha < 0.
        'blocks.0.cell.alpha': [-(gH[1] + gH[2])],
        'blocks.0.post.weight': [2 * (gH[1] + gH[2])],
        'blocks.0.post.bias': [gH[0] + gH[1] + gH[2] + gH[3]],
        'blocks.0.cand.weight': [gU.reduce((a, g, t) => a + g * x[t], 0)],
        'blocks.0.cand.bias': [gU.reduce((a, g) => a + g, 0)],
        // h0 = x > 0 reaches h1 through the skip (gH) and the candidate (W_c gU).
        'pre.weight': [gH.reduce((a, g, t) => a + (g + gU[t]) * x[t], 0)],
        'pre.bias': [gH.reduce((a, g, t) => a + g + gU[t], 0)],
        'out.weight': [0, 1].map((c) => h1.reduce((a, h, t) => a + dLogits[2 * t + c] * h, 0)),
        'out.bias': [0, 1].map((c) => h1.reduce((a, _, t) => a + dLogits[2 * t + c], 0)),
      };
      for (const [name, values] of Object.entries(want))
        values.forEach((v, i) =>
          expect(tensorView(layout, grad, name)[i], `${name}[${i}] eps ${eps}`).toBeCloseTo(v, 12),
        );
    }
    // A raw parameter at exactly 0 takes d|x|/dx = +1 (the kink's right side), so that it can still move: s0 = 0 is
    // OFF like 0.3, and with eps = 0 dL/ds_0 = 2 gH_0 (hold_1 = 0 stops the rest).
    set('blocks.0.cell.s0', 0);
    const th0 = networkThresholds(net);
    const tape = allocTape(net, T);
    forwardClip(net, th0, x, 0, tape, { surrogateWidth: 0.5 });
    expect(Array.from(tape.s[0])).toEqual([0, 1, 1, 0]);
    const grad = new Float64Array(layout.size);
    backwardClip(net, layout, th0, x, 0, tape, dLogits, grad, allocScratch(net, T), { surrogateWidth: 0.5 }, scale);
    expect(tensorView(layout, grad, 'blocks.0.cell.s0')[0]).toBeCloseTo(2 * gH[0] * surrogateGrad(-0.5, 0.5), 12);
  });

  it('without the skip connection: the block output is max(v, 0) alone, as runNetwork computes, and the gradient matches finite differences', () => {
    const shape = { ...SHAPE, skip: false };
    const s = setup(9, shape);
    const net = rawNetworkView(s.layout, s.theta);
    const tape = allocTape(net, FRAMES);
    forwardClip(net, networkThresholds(net), s.inputs, 0, tape, { surrogateWidth: 0.25 });
    for (let k = 0; k < SHAPE.blocks; k++)
      expect(Array.from(tape.hIn[k + 1])).toEqual(Array.from(tape.v[k], (v) => Math.max(v, 0)));
    const tr = runNetwork(net, { frames: FRAMES, features: SHAPE.inputs, data: s.inputs });
    expect(Array.from(tape.logits)).toEqual(Array.from(tr.logits));
    expectGradMatchesNumeric(s, { surrogateWidth: 0.5, soft: true }, 'no skip');
  });
});

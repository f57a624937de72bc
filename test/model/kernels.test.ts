import { describe, expect, it } from 'vitest';
import {
  accumulateColumns,
  accumulateProducts,
  affineFrame,
  affinePositiveFrame,
  affineReference,
  fixZeroOutputs,
  gatherNonZero,
  gatherPositive,
  nonZeroInputs,
  packLinear,
  packLinearScaled,
} from '../../src/model/kernels.js';
import {
  cellThresholds,
  randomInputs,
  randomNetwork,
  runNetwork,
  runNetworkScan,
  type InputSequence,
  type Linear,
  type Network,
  type Trace,
} from '../../src/model/index.js';
import { createRng } from '../../src/util/random.js';

/** Index of the first element that differs bit for bit (Object.is: -0 differs from +0), or -1. */
function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

/** A layer with some zero and -0 weights and biases, so the zero-skipping paths meet every sign case. */
function randomLayer(seed: number, rows: number, cols: number): Linear {
  const rng = createRng(seed);
  const pick = () => {
    const u = rng.next();
    return u < 0.1 ? 0 : u < 0.2 ? -0 : rng.uniform(-2, 2);
  };
  return {
    weight: { rows, cols, data: Float64Array.from({ length: rows * cols }, pick) },
    bias: Float64Array.from({ length: rows }, pick),
  };
}

/** Inputs about half zeros (+0 and -0) and half signed values. */
function randomVector(seed: number, n: number): Float64Array {
  const rng = createRng(seed);
  return Float64Array.from({ length: n }, () => {
    const u = rng.next();
    return u < 0.25 ? 0 : u < 0.5 ? -0 : rng.uniform(-3, 3);
  });
}

describe('affine kernels', () => {
  it('affineFrame and affinePositiveFrame equal the reference dot product bit for bit, for every row-block remainder', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const rows = 1 + (seed % 19);
      const cols = 1 + ((seed * 7) % 23);
      const layer = packLinear(randomLayer(seed, rows, cols));
      const x = randomVector(seed + 100, cols + 3);
      const nz = nonZeroInputs(cols);
      for (const clamp of [false, true]) {
        const got = new Float64Array(rows + 2);
        (clamp ? affinePositiveFrame : affineFrame)(layer, x, 3, got, 2, nz);
        const want = new Float64Array(rows + 2);
        for (let r = 0; r < rows; r++) want[2 + r] = affineReference(layer, x, 3, r, clamp);
        expect(firstDifference(got, want), `seed ${seed}, clamp ${clamp}`).toBe(-1);
      }
    }
  });

  it('keeps the sign of a zero sum: -0 bias plus skipped +0 products is +0, as in the reference', () => {
    // Reference: -0 + 1 * (+0) = +0. Skipping the zero input alone would leave the bias, -0.
    const layer = packLinear({ weight: { rows: 1, cols: 2, data: Float64Array.of(1, -1) }, bias: Float64Array.of(-0) });
    const y = new Float64Array(1);
    affineFrame(layer, Float64Array.of(0, -0), 0, y, 0, nonZeroInputs(2));
    expect(Object.is(y[0], 0)).toBe(true);
    expect(Object.is(affineReference(layer, Float64Array.of(0, -0), 0, 0, false), 0)).toBe(true);
  });

  it('accumulateColumns over ON cells of an alpha-scaled layer equals the reference on alpha * s', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const rows = 1 + (seed % 13);
      const cells = 1 + ((seed * 5) % 17);
      const raw = randomLayer(seed, rows, cells);
      const rng = createRng(seed + 500);
      const alpha = Float64Array.from({ length: cells }, () => rng.uniform(0, 2));
      const s = Uint8Array.from({ length: cells }, () => (rng.next() < 0.5 ? 1 : 0));
      const onCells = new Int32Array(cells);
      let on = 0;
      for (let j = 0; j < cells; j++) if (s[j]) onCells[on++] = j * rows;
      const got = new Float64Array(rows);
      accumulateColumns(packLinearScaled(raw, alpha), onCells, on, got, 0);
      const cellOut = Float64Array.from({ length: cells }, (_, j) => alpha[j] * s[j]);
      const ref = packLinear(raw);
      for (let r = 0; r < rows; r++) {
        // Equal as numbers: only the sign of an exact zero may differ, and the ReLU after it discards that.
        expect(got[r] === affineReference(ref, cellOut, 0, r, false), `seed ${seed}, row ${r}`).toBe(true);
      }
    }
  });
});

/** DESIGN.md §1 transcribed as plainly as possible (no packing, no skipping): the oracle for wide networks. */
function naiveNetwork(net: Network, inputs: InputSequence) {
  const affine = (layer: Linear, x: Float64Array) =>
    Float64Array.from({ length: layer.weight.rows }, (_, r) => {
      let acc = layer.bias[r];
      for (let c = 0; c < layer.weight.cols; c++) acc += layer.weight.data[r * layer.weight.cols + c] * x[c];
      return acc;
    });
  const th = net.blocks.map((b) => cellThresholds(b.cell));
  const state = th.map((t) => Array.from(t.s0));
  const out = {
    candidates: [] as number[][],
    states: [] as number[][],
    blockOutputs: [] as number[][],
    logits: [] as number[],
  };
  net.blocks.forEach(() => {
    out.candidates.push([]);
    out.states.push([]);
    out.blockOutputs.push([]);
  });
  for (let t = 0; t < inputs.frames; t++) {
    let h = affine(net.pre, inputs.data.subarray(t * net.inputs, (t + 1) * net.inputs));
    net.blocks.forEach((block, k) => {
      const cand = affine(
        block.cand,
        h.map((v) => (v > 0 ? v : 0)),
      ).map((v) => (v < 0 ? 0 : v));
      cand.forEach((c, j) => {
        state[k][j] = c >= th[k].betaHi[j] ? 1 : c < th[k].betaLo[j] ? 0 : state[k][j];
      });
      const post = affine(
        block.post,
        Float64Array.from(state[k], (s, j) => th[k].alpha[j] * s),
      );
      const skip = h;
      h = post.map((v, i) => (v > 0 ? v : 0) + (net.skip ? skip[i] : 0));
      out.candidates[k].push(...cand);
      out.states[k].push(...state[k]);
      out.blockOutputs[k].push(...h);
    });
    out.logits.push(...affine(net.out, h));
  }
  return out;
}

function expectSameAsNaive(tr: Trace, naive: ReturnType<typeof naiveNetwork>, what: string): void {
  tr.candidates.forEach((c, k) => expect(firstDifference(c, naive.candidates[k]), `${what} candidates[${k}]`).toBe(-1));
  tr.states.forEach((s, k) => expect(firstDifference(s, naive.states[k]), `${what} states[${k}]`).toBe(-1));
  tr.blockOutputs.forEach((o, k) =>
    expect(firstDifference(o, naive.blockOutputs[k]), `${what} blockOutputs[${k}]`).toBe(-1),
  );
  expect(firstDifference(tr.logits, naive.logits), `${what} logits`).toBe(-1);
}

describe('fast model paths on wide networks', () => {
  // 31..33 and 64, 70 cells: one, exactly one and several words of the bit-packed scan, full and partial.
  it('frame loop and scan equal the plain transcription of DESIGN §1 bit for bit at widths around the scan word size', () => {
    for (const [width, cells, skip] of [
      [31, 31, true],
      [32, 32, false],
      [33, 33, true],
      [64, 64, true],
      [40, 70, false],
      [12, 5, true],
    ] as const) {
      const net = randomNetwork({ inputs: 13, width, cells, blocks: 2, classes: 3, skip, seed: width * 100 + cells });
      const x = randomInputs(150, 13, width);
      const naive = naiveNetwork(net, x);
      expectSameAsNaive(runNetwork(net, x), naive, `loop ${width}x${cells}`);
      expectSameAsNaive(runNetworkScan(net, x), naive, `scan ${width}x${cells}`);
    }
  });
});

describe('kernel pieces, by hand', () => {
  // W = [[1, 2, 3], [4, 5, 6]] (2 outputs, 3 inputs), b = (0.5, -0.5).
  const W = { weight: { rows: 2, cols: 3, data: Float64Array.of(1, 2, 3, 4, 5, 6) }, bias: Float64Array.of(0.5, -0.5) };

  it('packLinear stores W transposed, [c, r] at c * rows + r, and keeps the row-major weights and the bias', () => {
    const p = packLinear(W);
    expect(p.rows).toBe(2);
    expect(p.cols).toBe(3);
    expect(Array.from(p.weightT)).toEqual([1, 4, 2, 5, 3, 6]);
    expect(p.weight).toBe(W.weight.data);
    expect(p.bias).toBe(W.bias);
  });

  it('packLinearScaled multiplies input column c by colScale[c]', () => {
    const p = packLinearScaled(W, Float64Array.of(2, 0.5, -1));
    expect(Array.from(p.weightT)).toEqual([2, 8, 1, 2.5, -3, -6]);
    expect(p.weight).toBe(W.weight.data); // the unscaled weights, for the reference
  });

  it('nonZeroInputs has room for maxCols inputs', () => {
    const nz = nonZeroInputs(5);
    expect(nz.offsets).toBeInstanceOf(Int32Array);
    expect(nz.offsets.length).toBe(5);
    expect(nz.values).toBeInstanceOf(Float64Array);
    expect(nz.values.length).toBe(5);
  });

  it('gatherNonZero lists the non-zero inputs from xOff on, in order, with offsets c * rows; -0 is zero', () => {
    const nz = nonZeroInputs(5);
    const x = Float64Array.of(9, 9, 0, -2, -0, 3, 0.5, 9);
    expect(gatherNonZero(x, 2, 5, 4, nz)).toBe(3); // x[2..6] = 0, -2, -0, 3, 0.5
    expect(Array.from(nz.offsets.subarray(0, 3))).toEqual([4, 12, 16]); // columns 1, 3, 4 times 4 rows
    expect(Array.from(nz.values.subarray(0, 3))).toEqual([-2, 3, 0.5]);
    expect(gatherNonZero(Float64Array.of(0, -0), 0, 2, 4, nz)).toBe(0);
    expect(gatherNonZero(Float64Array.of(1, 2), 0, 2, 3, nz)).toBe(2);
    expect(Array.from(nz.offsets.subarray(0, 2))).toEqual([0, 3]);
  });

  it('gatherPositive lists only the inputs above zero (the first-quadrant clamp)', () => {
    const nz = nonZeroInputs(5);
    const x = Float64Array.of(0, -2, -0, 3, 0.5);
    expect(gatherPositive(x, 0, 5, 2, nz)).toBe(2);
    expect(Array.from(nz.offsets.subarray(0, 2))).toEqual([6, 8]);
    expect(Array.from(nz.values.subarray(0, 2))).toEqual([3, 0.5]);
    expect(gatherPositive(Float64Array.of(7, -1, 2), 1, 2, 1, nz)).toBe(1); // x[1..2] = -1, 2
    expect(nz.offsets[0]).toBe(1);
    expect(nz.values[0]).toBe(2);
  });

  it('accumulateProducts sums only the first n gathered entries, whatever a longer scratch holds', () => {
    // 9 outputs: one block of 8 and one row alone; 13 outputs: 8 + 4 + 1. W[r, c] = r + 1 + 10 c, b[r] = r.
    for (const rows of [1, 4, 5, 8, 9, 13]) {
      const cols = 3;
      const layer = packLinear({
        weight: {
          rows,
          cols,
          data: Float64Array.from({ length: rows * cols }, (_, i) => Math.floor(i / cols) + 1 + 10 * (i % cols)),
        },
        bias: Float64Array.from({ length: rows }, (_, r) => r),
      });
      const nz = nonZeroInputs(cols);
      // A frame with every input non-zero fills the scratch; the next has only its last input non-zero (3), so the
      // gather writes entry 0 only and entry 1 still holds column 1 (value 2) from the first frame.
      gatherNonZero(Float64Array.of(1, 2, 3), 0, cols, rows, nz);
      const n = gatherNonZero(Float64Array.of(0, 0, 3), 0, cols, rows, nz);
      expect(n).toBe(1);
      expect([nz.offsets[1], nz.values[1]]).toEqual([rows, 2]);
      const y = new Float64Array(rows + 2).fill(NaN);
      y[rows + 1] = 42; // the slot after the last output must stay as it is
      accumulateProducts(layer, nz, n, y, 1);
      // y[r] = b[r] + W[r, 2] x_2 = r + 3 (r + 21): by hand.
      expect(y[rows + 1]).toBe(42);
      expect(Array.from(y.subarray(1, rows + 1)), `rows ${rows}`).toEqual(
        Array.from({ length: rows }, (_, r) => r + 3 * (r + 21)),
      );
      expect(y[0]).toBeNaN(); // nothing before yOff
    }
  });

  it('accumulateColumns adds the listed columns of weightT to the bias, for every row-block remainder', () => {
    for (const rows of [1, 3, 4, 7, 8, 12, 13]) {
      const cols = 4;
      // weightT[c * rows + r] = 100 c + r (packed directly), b[r] = -r.
      const layer = {
        rows,
        cols,
        weightT: Float64Array.from({ length: rows * cols }, (_, i) => 100 * Math.floor(i / rows) + (i % rows)),
        weight: new Float64Array(rows * cols),
        bias: Float64Array.from({ length: rows }, (_, r) => -r),
      };
      const y = new Float64Array(rows + 3).fill(NaN);
      y[rows + 2] = 42; // the slot after the last output must stay as it is
      // Columns 3 and 1 listed (offsets c * rows), then a stale column 2 beyond n.
      accumulateColumns(layer, Int32Array.of(3 * rows, 1 * rows, 2 * rows), 2, y, 2);
      expect(y[rows + 2]).toBe(42);
      expect(Array.from(y.subarray(2, rows + 2)), `rows ${rows}`).toEqual(
        Array.from({ length: rows }, (_, r) => 400 + r),
      );
      expect(y[1]).toBeNaN();
    }
  });

  it('affineReference clamps negative inputs to 0 only when asked', () => {
    const p = packLinear(W);
    const x = Float64Array.of(5, 1, -1, 2);
    expect(affineReference(p, x, 1, 0, false)).toBe(0.5 + 1 - 2 + 6); // x = (1, -1, 2)
    expect(affineReference(p, x, 1, 1, false)).toBe(-0.5 + 4 - 5 + 12);
    expect(affineReference(p, x, 1, 0, true)).toBe(0.5 + 1 + 0 + 6);
    expect(affineReference(p, x, 1, 1, true)).toBe(-0.5 + 4 + 0 + 12);
  });

  it('affineReference clamps -0 to +0: with bias -0 and a positive weight the sum is +0, not -0', () => {
    // -0 + 1 * (+0) = +0; an input left at -0 would give -0 + 1 * (-0) = -0.
    const p = packLinear({ weight: { rows: 1, cols: 1, data: Float64Array.of(1) }, bias: Float64Array.of(-0) });
    expect(Object.is(affineReference(p, Float64Array.of(-0), 0, 0, true), 0)).toBe(true);
    expect(Object.is(affineReference(p, Float64Array.of(-0), 0, 0, false), -0)).toBe(true);
  });

  it('fixZeroOutputs recomputes exact zeros only: another value is left as it stands', () => {
    const p = packLinear(W);
    const x = Float64Array.of(1, 1, 1);
    const y = Float64Array.of(7, -0, 0, 99);
    fixZeroOutputs(p, x, 0, false, y, 1); // rows 0, 1 at y[1], y[2]
    expect(Array.from(y)).toEqual([7, 6.5, 14.5, 99]);
    // Only rows 0 and 1: a zero just after them (the next frame's first output, say) is not this layer's.
    const next = Float64Array.of(0, 0, 0);
    fixZeroOutputs(p, x, 0, false, next, 0);
    expect(Array.from(next)).toEqual([6.5, 14.5, 0]);
    const kept = Float64Array.of(1.25, 3);
    fixZeroOutputs(p, x, 0, false, kept, 0);
    expect(Array.from(kept)).toEqual([1.25, 3]);
  });

  it('affineFrame recomputes a zero sum of signed inputs without clamping them', () => {
    // W = (1, 1, 1), b = 0, x = (1, -1, 0): 0 + 1 - 1 = 0 with the zero input skipped; the reference is
    // 0 + 1 + (-1) + 0 = +0, where clamped inputs would give 0 + 1 + 0 + 0 = 1.
    const p = packLinear({ weight: { rows: 1, cols: 3, data: Float64Array.of(1, 1, 1) }, bias: Float64Array.of(0) });
    const y = Float64Array.of(NaN);
    affineFrame(p, Float64Array.of(1, -1, 0), 0, y, 0, nonZeroInputs(3));
    expect(Object.is(y[0], 0)).toBe(true);
  });

  it('affineFrame and affinePositiveFrame by hand, with and without zero inputs', () => {
    const p = packLinear(W);
    const nz = nonZeroInputs(3);
    const y = new Float64Array(2);
    affineFrame(p, Float64Array.of(1, -1, 2), 0, y, 0, nz);
    expect(Array.from(y)).toEqual([5.5, 10.5]);
    affinePositiveFrame(p, Float64Array.of(1, -1, 2), 0, y, 0, nz);
    expect(Array.from(y)).toEqual([7.5, 15.5]);
    affineFrame(p, Float64Array.of(0, 1, 0), 0, y, 0, nz);
    expect(Array.from(y)).toEqual([2.5, 4.5]);
  });
});

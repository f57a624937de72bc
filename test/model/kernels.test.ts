import { describe, expect, it } from 'vitest';
import {
  accumulateColumns,
  affineFrame,
  affinePositiveFrame,
  affineReference,
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

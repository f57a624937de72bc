/**
 * Affine-layer kernels for the software model: y = W x + b for one frame, bit-identical to the plain
 * dot product `acc = b[r]; for c = 0, 1, ...: acc += W[r, c] * x[c]` (`affineReference`).
 *
 * Why they are fast without changing a single bit:
 *  - Zero inputs are skipped. In this network about half of every layer's inputs are exact zeros (ReLU
 *    outputs, OFF cells). Adding a zero product (w * +-0 = +-0 for finite w) leaves any non-zero sum
 *    unchanged, so skipping it can only change the *sign* of a sum that is exactly zero; such outputs are
 *    recomputed with the reference dot product (`fixZeroOutputs`).
 *  - Several outputs are accumulated together in locals, each still over c = 0, 1, ... in order, so every
 *    output sees the same additions in the same order; each non-zero input is loaded once per row block.
 *  - W is stored transposed ([cols x rows]) so the weights of one input for consecutive outputs are adjacent.
 *  - A layer fed by binary cells (the post layer) is pre-scaled by the ON level, w * alpha, the very product the
 *    reference forms for an ON cell, so a frame costs additions only (measured 1.8x faster than multiply-add).
 * Measured alternatives (one 64 x 64 layer over 2000 frames, half the inputs zero, same session; G multiply-adds/s
 * counting the skipped ones): reference dot product 0.71, i-k-j matrix product over the whole sequence 1.1,
 * dense register block of 4 frames x 4 outputs 1.5, this kernel 2.6 (1.3 with no zero inputs); 16 outputs per
 * block instead of 8 ran at 0.7x (the accumulators no longer fit in registers).
 */
import type { Linear } from './types.js';

/** Outputs accumulated together: 8 locals plus the input fit x86-64's 16 float registers. */
const ROW_BLOCK = 8;
/** Second, smaller block for the rows left over (e.g. width 4). */
const ROW_BLOCK_SMALL = 4;

/** A layer prepared for the kernels: the transposed weights plus the original layer for exact fix-ups. */
export interface PackedLinear {
  /** Outputs. */
  readonly rows: number;
  /** Inputs. */
  readonly cols: number;
  /** W transposed, element [c, r] at c*rows + r (for a pre-scaled layer: W[r, c] * scale[c]). */
  readonly weightT: Float64Array;
  /** W row-major as loaded, element [r, c] at r*cols + c. */
  readonly weight: Float64Array;
  readonly bias: Float64Array;
}

/** Transpose a layer's weights once per run (rows*cols copies, negligible against frames*rows*cols). */
export function packLinear(layer: Linear): PackedLinear {
  return packLinearScaled(layer, null);
}

/**
 * Transpose a layer's weights and multiply input column c by `colScale[c]`: W[r, c] * colScale[c] is exactly
 * the product the reference forms when input c equals colScale[c] (a cell that is ON), so `accumulateColumns`
 * over the ON cells reproduces the reference sum.
 */
export function packLinearScaled(layer: Linear, colScale: Float64Array | null): PackedLinear {
  const { rows, cols, data } = layer.weight;
  const weightT = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      weightT[c * rows + r] = colScale === null ? data[r * cols + c] : data[r * cols + c] * colScale[c];
    }
  }
  return { rows, cols, weightT, weight: data, bias: layer.bias };
}

/** Per-frame list of the non-zero inputs: their offsets into `weightT` (c*rows) and their values. */
export interface NonZeroInputs {
  readonly offsets: Int32Array;
  readonly values: Float64Array;
}

/** Scratch space for layers of up to `maxCols` inputs; allocate once per run, reuse every frame. */
export function nonZeroInputs(maxCols: number): NonZeroInputs {
  return { offsets: new Int32Array(maxCols), values: new Float64Array(maxCols) };
}

/**
 * Collect x[xOff + c] != 0, c < cols, in column order into `nz` (offsets c*rows); returns how many.
 * -0 counts as zero (its product is a zero too). Every input is written and the count advances by the test's
 * 0/1 instead of branching on it: about half the inputs are zero in no predictable pattern, and the branch
 * version measured 1.7x slower.
 */
export function gatherNonZero(x: Float64Array, xOff: number, cols: number, rows: number, nz: NonZeroInputs): number {
  const { offsets, values } = nz;
  let n = 0;
  for (let c = 0; c < cols; c++) {
    const v = x[xOff + c];
    offsets[n] = c * rows;
    values[n] = v;
    n += Number(v !== 0);
  }
  return n;
}

/**
 * Collect the non-zeros of max(x, 0), i.e. x[xOff + c] > 0, like `gatherNonZero`: the first-quadrant clamp
 * and the gather in one pass.
 */
export function gatherPositive(x: Float64Array, xOff: number, cols: number, rows: number, nz: NonZeroInputs): number {
  const { offsets, values } = nz;
  let n = 0;
  for (let c = 0; c < cols; c++) {
    const v = x[xOff + c];
    offsets[n] = c * rows;
    values[n] = v;
    n += Number(v > 0);
  }
  return n;
}

/**
 * y[yOff + r] = b[r] + sum over the first n gathered inputs of weightT[offset + r] * value, for r < rows,
 * each output summed in column order. No allocation (this is the inner loop).
 */
export function accumulateProducts(
  layer: PackedLinear,
  nz: NonZeroInputs,
  n: number,
  y: Float64Array,
  yOff: number,
): void {
  const { rows, weightT: w, bias } = layer;
  const { offsets, values } = nz;
  let r = 0;
  for (; r + ROW_BLOCK <= rows; r += ROW_BLOCK) {
    let a0 = bias[r],
      a1 = bias[r + 1],
      a2 = bias[r + 2],
      a3 = bias[r + 3];
    let a4 = bias[r + 4],
      a5 = bias[r + 5],
      a6 = bias[r + 6],
      a7 = bias[r + 7];
    for (let i = 0; i < n; i++) {
      const o = offsets[i] + r;
      const v = values[i];
      a0 += w[o] * v;
      a1 += w[o + 1] * v;
      a2 += w[o + 2] * v;
      a3 += w[o + 3] * v;
      a4 += w[o + 4] * v;
      a5 += w[o + 5] * v;
      a6 += w[o + 6] * v;
      a7 += w[o + 7] * v;
    }
    y[yOff + r] = a0;
    y[yOff + r + 1] = a1;
    y[yOff + r + 2] = a2;
    y[yOff + r + 3] = a3;
    y[yOff + r + 4] = a4;
    y[yOff + r + 5] = a5;
    y[yOff + r + 6] = a6;
    y[yOff + r + 7] = a7;
  }
  for (; r + ROW_BLOCK_SMALL <= rows; r += ROW_BLOCK_SMALL) {
    let a0 = bias[r],
      a1 = bias[r + 1],
      a2 = bias[r + 2],
      a3 = bias[r + 3];
    for (let i = 0; i < n; i++) {
      const o = offsets[i] + r;
      const v = values[i];
      a0 += w[o] * v;
      a1 += w[o + 1] * v;
      a2 += w[o + 2] * v;
      a3 += w[o + 3] * v;
    }
    y[yOff + r] = a0;
    y[yOff + r + 1] = a1;
    y[yOff + r + 2] = a2;
    y[yOff + r + 3] = a3;
  }
  for (; r < rows; r++) {
    let a = bias[r];
    for (let i = 0; i < n; i++) a += w[offsets[i] + r] * values[i];
    y[yOff + r] = a;
  }
}

/**
 * y[yOff + r] = b[r] + sum over the first n listed columns of weightT[offset + r], for r < rows, in list order:
 * a pre-scaled layer (`packLinearScaled`) applied to binary inputs, `offsets` listing the ON ones.
 */
export function accumulateColumns(
  layer: PackedLinear,
  offsets: Int32Array,
  n: number,
  y: Float64Array,
  yOff: number,
): void {
  const { rows, weightT: w, bias } = layer;
  let r = 0;
  for (; r + ROW_BLOCK <= rows; r += ROW_BLOCK) {
    let a0 = bias[r],
      a1 = bias[r + 1],
      a2 = bias[r + 2],
      a3 = bias[r + 3];
    let a4 = bias[r + 4],
      a5 = bias[r + 5],
      a6 = bias[r + 6],
      a7 = bias[r + 7];
    for (let i = 0; i < n; i++) {
      const o = offsets[i] + r;
      a0 += w[o];
      a1 += w[o + 1];
      a2 += w[o + 2];
      a3 += w[o + 3];
      a4 += w[o + 4];
      a5 += w[o + 5];
      a6 += w[o + 6];
      a7 += w[o + 7];
    }
    y[yOff + r] = a0;
    y[yOff + r + 1] = a1;
    y[yOff + r + 2] = a2;
    y[yOff + r + 3] = a3;
    y[yOff + r + 4] = a4;
    y[yOff + r + 5] = a5;
    y[yOff + r + 6] = a6;
    y[yOff + r + 7] = a7;
  }
  for (; r + ROW_BLOCK_SMALL <= rows; r += ROW_BLOCK_SMALL) {
    let a0 = bias[r],
      a1 = bias[r + 1],
      a2 = bias[r + 2],
      a3 = bias[r + 3];
    for (let i = 0; i < n; i++) {
      const o = offsets[i] + r;
      a0 += w[o];
      a1 += w[o + 1];
      a2 += w[o + 2];
      a3 += w[o + 3];
    }
    y[yOff + r] = a0;
    y[yOff + r + 1] = a1;
    y[yOff + r + 2] = a2;
    y[yOff + r + 3] = a3;
  }
  for (; r < rows; r++) {
    let a = bias[r];
    for (let i = 0; i < n; i++) a += w[offsets[i] + r];
    y[yOff + r] = a;
  }
}

/**
 * The plain dot product for output r, b[r] + sum_c W[r, c] x'[c] with x' = x, or x' = max(x, 0) when
 * `clampInputs`: the definition the kernels reproduce bit for bit.
 */
export function affineReference(
  layer: PackedLinear,
  x: Float64Array,
  xOff: number,
  r: number,
  clampInputs: boolean,
): number {
  const { cols, weight } = layer;
  let acc = layer.bias[r];
  const wOff = r * cols;
  for (let c = 0; c < cols; c++) {
    const v = x[xOff + c];
    acc += weight[wOff + c] * (clampInputs ? (v > 0 ? v : 0) : v);
  }
  return acc;
}

/**
 * Recompute the outputs that came out exactly zero with `affineReference`: after skipping zero inputs only their
 * sign can differ. Zero sums are rare, so this costs a comparison per output.
 */
export function fixZeroOutputs(
  layer: PackedLinear,
  x: Float64Array,
  xOff: number,
  clampInputs: boolean,
  y: Float64Array,
  yOff: number,
): void {
  for (let r = 0; r < layer.rows; r++) {
    if (y[yOff + r] === 0) y[yOff + r] = affineReference(layer, x, xOff, r, clampInputs);
  }
}

/**
 * y[yOff + r] = b[r] + sum_c W[r, c] x[xOff + c] for r < rows, bit-identical to `affineReference` (including the
 * sign of a zero). `nz` is scratch space with room for `layer.cols` inputs.
 */
export function affineFrame(
  layer: PackedLinear,
  x: Float64Array,
  xOff: number,
  y: Float64Array,
  yOff: number,
  nz: NonZeroInputs,
): void {
  const n = gatherNonZero(x, xOff, layer.cols, layer.rows, nz);
  accumulateProducts(layer, nz, n, y, yOff);
  if (n < layer.cols) fixZeroOutputs(layer, x, xOff, false, y, yOff);
}

/** y = W max(x, 0) + b for one frame (the candidate layer's first-quadrant input), bit-identical as `affineFrame`. */
export function affinePositiveFrame(
  layer: PackedLinear,
  x: Float64Array,
  xOff: number,
  y: Float64Array,
  yOff: number,
  nz: NonZeroInputs,
): void {
  const n = gatherPositive(x, xOff, layer.cols, layer.rows, nz);
  accumulateProducts(layer, nz, n, y, yOff);
  if (n < layer.cols) fixZeroOutputs(layer, x, xOff, true, y, yOff);
}

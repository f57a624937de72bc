/**
 * `runNetworkBatch`: the network of DESIGN.md §1 over many clips at once, bit-identical to `runNetwork` per clip.
 *
 * Only the cell states recur over time; a block's input h does not. So each layer runs over all frames of a clip
 * in one call (the frames as the rows of one matrix, as a numpy implementation does with one matrix product),
 * with the kernels in WebAssembly SIMD (wasm-kernels.ts), and only the cell update walks the clip in frame order.
 * Clips go through all layers one at a time, so that a clip's activations stay in cache between layers; the
 * weights and the scratch memory are set up once per batch.
 */
import { packLinear, packLinearScaled, type PackedLinear } from './kernels.js';
import { checkInputs, finish, type InputSequence, type Trace } from './network.js';
import type { Network } from './types.js';
import { cellThresholds } from './types.js';
import { AFFINE_ENTRY_BYTES, CHUNK_FRAMES, wasmKernels, type WasmKernels } from './wasm-kernels.js';

const F64_BYTES = 8;
const I32_BYTES = 4;
/** Every region starts 16-byte aligned, the width of one SIMD load. */
const ALIGN_BYTES = 16;

/**
 * Layers of at most this many outputs (the classifier: one per class) run the dense kernel, two frames per
 * instruction, instead of gathering each frame's non-zero inputs: at 2 outputs and 128 inputs the gather and the
 * per-input loop cost more than the products they skip.
 */
const DENSE_MAX_ROWS = 4;

/** A bump allocator over the wasm memory: byte offsets of the regions one batch needs. */
class Layout {
  bytes = 0;
  take(n: number): number {
    const at = this.bytes;
    this.bytes += Math.ceil(n / ALIGN_BYTES) * ALIGN_BYTES;
    return at;
  }
  f64(n: number): number {
    return this.take(n * F64_BYTES);
  }
}

/** Where one packed layer lives in the wasm memory. */
interface LayerAt {
  readonly layer: PackedLinear;
  readonly weightT: number;
  /** Elements between wT's columns: the rows, rounded up to even, plus a pad (`columnStride`). */
  readonly weightTStride: number;
  readonly weight: number;
  readonly bias: number;
}

/**
 * Elements between the transposed weights' columns: even (each column starts 16-byte aligned) and not a multiple
 * of 128 bytes' worth, so that the columns of a row block do not all fall into the same few L1 cache sets (at
 * 128 rows, 1 kB apart, they did: 4 of 64 sets); two f64 of padding shift each column by 16 bytes.
 */
function columnStride(rows: number): number {
  const COLUMN_PAD = 2;
  return rows + (rows % 2) + COLUMN_PAD;
}

function placeLayer(layout: Layout, layer: PackedLinear): LayerAt {
  const weightTStride = columnStride(layer.rows);
  return {
    layer,
    weightT: layout.f64(layer.cols * weightTStride),
    weightTStride,
    weight: layout.f64(layer.weight.length),
    bias: layout.f64(layer.bias.length),
  };
}

function copyLayer(f64: Float64Array, at: LayerAt): void {
  const { rows, cols, weightT } = at.layer;
  for (let c = 0; c < cols; c++) {
    f64.set(weightT.subarray(c * rows, (c + 1) * rows), at.weightT / F64_BYTES + c * at.weightTStride);
  }
  f64.set(at.layer.weight, at.weight / F64_BYTES);
  f64.set(at.layer.bias, at.bias / F64_BYTES);
}

/**
 * A Float64Array whose memory is not zero-filled first (Node's unpooled Buffer allocation): for outputs that are
 * written in full at once, where zero-filling them first measured ~20% of the copy's cost.
 */
function uninitialisedF64(n: number): Float64Array {
  return new Float64Array(Buffer.allocUnsafeSlow(n * F64_BYTES).buffer, 0, n);
}

function uninitialisedU8(n: number): Uint8Array {
  return new Uint8Array(Buffer.allocUnsafeSlow(n).buffer, 0, n);
}

/** One memory per thread, grown as batches need; re-used so that a batch does not pay for fresh pages. */
let kernels: WasmKernels | null = null;

function kernelsWith(bytes: number): WasmKernels {
  const WASM_PAGE_BYTES = 65536; // fixed by the WebAssembly spec
  if (kernels === null) kernels = wasmKernels(bytes);
  const have = kernels.memory.buffer.byteLength;
  if (have < bytes) kernels.memory.grow(Math.ceil((bytes - have) / WASM_PAGE_BYTES));
  return kernels;
}

/** A trace without the analog arrays: what a caller needs who scores states, votes or decisions. */
export type StateTrace = Omit<Trace, 'candidates' | 'blockOutputs'>;

/**
 * What a batch returns: `all` (default) every array of a Trace; `states` only states, logits, votes and decision.
 * The candidates and block outputs are 8 bytes per unit-frame each against the states' 1: not writing them cuts the
 * memory a batch writes by ~17x (what full traces cost: bench/batch-memory.mjs, docs/speed.md).
 */
export type TraceKeep = 'all' | 'states';

export interface ModelBatchOptions {
  readonly keep?: TraceKeep;
}

/**
 * Run the network on every clip; returns one trace per clip, each bit-identical to `runNetwork(net, clip)` (with
 * `keep: 'states'`, in the arrays it holds). A trace's candidates and block outputs are arrays of its own; its
 * states and logits are views into batch-wide arrays (a byte per unit-frame; C float64 per frame).
 */
export function runNetworkBatch(net: Network, clips: readonly InputSequence[], options?: { keep?: 'all' }): Trace[];
export function runNetworkBatch(
  net: Network,
  clips: readonly InputSequence[],
  options: { keep: 'states' },
): StateTrace[];
export function runNetworkBatch(
  net: Network,
  clips: readonly InputSequence[],
  options?: ModelBatchOptions,
): Trace[] | StateTrace[];
export function runNetworkBatch(
  net: Network,
  clips: readonly InputSequence[],
  options: ModelBatchOptions = {},
): Trace[] | StateTrace[] {
  const keepAll = (options.keep ?? 'all') === 'all';
  for (const clip of clips) checkInputs(net, clip);
  const { inputs: F, width: H, cells: S, classes: C } = net;
  const N = clips.reduce((n, c) => n + c.frames, 0);
  const ths = net.blocks.map((b) => cellThresholds(b.cell));
  const layout = new Layout();
  const pre = placeLayer(layout, packLinear(net.pre));
  const blocks = net.blocks.map((b, k) => ({
    cand: placeLayer(layout, packLinear(b.cand)),
    post: placeLayer(layout, packLinearScaled(b.post, ths[k].alpha)),
    betaLo: layout.f64(S),
    betaHi: layout.f64(S),
    s0: layout.take(S),
  }));
  const out = placeLayer(layout, packLinear(net.out));
  const maxCols = Math.max(F, H, S);
  const offsets = layout.take(CHUNK_FRAMES * maxCols * I32_BYTES);
  const entries = layout.take(CHUNK_FRAMES * maxCols * AFFINE_ENTRY_BYTES);
  const ends = layout.take(CHUNK_FRAMES * I32_BYTES);
  const flags = layout.take(CHUNK_FRAMES * I32_BYTES);
  const cellMasks = layout.f64(S);
  // Activations of one clip at a time (a clip's cell states recur, so it is the unit of work): a clip's
  // candidates are still in cache when its cells and its copy into the trace read them. Whole-batch regions,
  // each layer's output written out and re-read after the batch outgrew the cache, measured slower at width 128.
  const M = clips.reduce((m, c) => Math.max(m, c.frames), 0);
  const x = layout.f64(M * F);
  const hIn = layout.f64(M * H);
  const hOut = layout.f64(M * H);
  const cand = layout.f64(M * S);
  const states = layout.take(M * S);
  const logits = layout.f64(M * C);
  /** One row of zeros: the skip term of a network without skip. */
  const zeros = layout.f64(H);
  const k = kernelsWith(layout.bytes);
  const f64 = new Float64Array(k.memory.buffer);
  const u8 = new Uint8Array(k.memory.buffer);
  for (const at of [pre, ...blocks.flatMap((b) => [b.cand, b.post]), out]) copyLayer(f64, at);
  blocks.forEach((at, b) => {
    f64.set(ths[b].betaLo, at.betaLo / F64_BYTES);
    f64.set(ths[b].betaHi, at.betaHi / F64_BYTES);
    u8.set(ths[b].s0, at.s0);
  });
  f64.fill(0, zeros / F64_BYTES, zeros / F64_BYTES + H);
  // What the traces hold, in allocations that skip zero-filling (every element is copied in below). States and
  // logits: one array for the whole batch, each trace a view. Candidates and block outputs (8 bytes per unit-frame
  // each): arrays per clip and block, so that a trace kept alive does not keep the whole batch's analog arrays
  // alive. One batch-wide array of them (33 MB for 80 clips of 101 frames at width 128) was above glibc's largest
  // mmap threshold (32 MiB): fresh pages every batch. Per clip, a one-worker batch there took 2,400 minor page
  // faults instead of 6,200 and 5 instead of 12 ms of system time (session 25, 2 runs; wall within the noise).
  const L = net.blocks.length;
  const logitsAll = uninitialisedF64(N * C);
  const outU8 = uninitialisedU8(L * N * S);
  const stateBits = net.blocks.map((_, b) => outU8.subarray(b * N * S, (b + 1) * N * S));
  const candidates: Float64Array[][] = [];
  const blockOutputs: Float64Array[][] = [];
  /** The layer on `frames` frames from xAt to yAt. */
  const affine = (at: LayerAt, xAt: number, yAt: number, frames: number, clamp: boolean) =>
    !clamp && at.layer.rows <= DENSE_MAX_ROWS
      ? k.dense(
          xAt,
          at.layer.cols * F64_BYTES,
          frames,
          at.layer.cols,
          at.layer.rows,
          at.weight,
          at.bias,
          yAt,
          at.layer.rows * F64_BYTES,
        )
      : k.affine(
          xAt,
          at.layer.cols * F64_BYTES,
          frames,
          at.layer.cols,
          at.layer.rows,
          at.weightT,
          at.weightTStride * F64_BYTES,
          at.weight,
          at.bias,
          yAt,
          at.layer.rows * F64_BYTES,
          entries,
          ends,
          flags,
          clamp ? 1 : 0,
        );
  /** Copy `count` f64 from wasm byte offset `from` into `to` at element `at`. */
  const copyOut = (to: Float64Array, at: number, from: number, count: number) =>
    to.set(f64.subarray(from / F64_BYTES, from / F64_BYTES + count), at);
  /** A new array holding `count` f64 from wasm byte offset `from`. */
  const copied = (from: number, count: number) => {
    const a = uninitialisedF64(count);
    copyOut(a, 0, from, count);
    return a;
  };
  let row = 0;
  for (const clip of clips) {
    const T = clip.frames;
    f64.set(clip.data.subarray(0, T * F), x / F64_BYTES);
    affine(pre, x, hIn, T, false);
    let h = hIn;
    let y = hOut;
    const clipCandidates: Float64Array[] = [];
    const clipOutputs: Float64Array[] = [];
    blocks.forEach((at, b) => {
      affine(at.cand, h, cand, T, true);
      k.cells(cand, states, T, S, at.betaLo, at.betaHi, at.s0, cellMasks);
      k.columns(
        states,
        T,
        S,
        H,
        at.post.weightT,
        at.post.weightTStride * F64_BYTES,
        at.post.bias,
        y,
        offsets,
        ends,
        net.skip ? h : zeros,
        net.skip ? H * F64_BYTES : 0,
      );
      stateBits[b].set(u8.subarray(states, states + T * S), row * S);
      if (keepAll) {
        clipCandidates.push(copied(cand, T * S));
        clipOutputs.push(copied(y, T * H));
      }
      [h, y] = [y, h];
    });
    candidates.push(clipCandidates);
    blockOutputs.push(clipOutputs);
    affine(out, h, logits, T, false);
    copyOut(logitsAll, row * C, logits, T * C);
    row += T;
  }
  let first = 0;
  return clips.map((clip, i) => {
    const [from, to] = [first, first + clip.frames];
    first = to;
    const states = stateBits.map((a) => a.subarray(from * S, to * S));
    const logits = logitsAll.subarray(from * C, to * C);
    if (!keepAll) return finish({ states, logits }, clip.frames, C);
    const tr = {
      candidates: candidates[i],
      states,
      blockOutputs: blockOutputs[i],
      logits,
    };
    return finish(tr, clip.frames, C);
  });
}

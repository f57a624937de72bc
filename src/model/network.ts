/**
 * The FQ-BMRU network of DESIGN.md §1 in float64, two ways that must agree exactly:
 * `runNetwork` steps frame by frame through all blocks (what the clockless circuit does), and
 * `runNetworkScan` processes a whole sequence block by block, the cell recurrence as an associative scan.
 */
import {
  accumulateColumns,
  affineFrame,
  affinePositiveFrame,
  nonZeroInputs,
  packLinear,
  packLinearScaled,
  type NonZeroInputs,
  type PackedLinear,
} from './kernels.js';
import type { CellThresholds, Network } from './types.js';
import { cellThresholds } from './types.js';

/** A sequence of input frames, row-major [frames x features], signed software units. */
export interface InputSequence {
  readonly frames: number;
  readonly features: number;
  readonly data: Float64Array;
}

/** Everything the model computes, per block and frame (row-major [T x S] / [T x H] / [T x C]). */
export interface Trace {
  readonly frames: number;
  readonly candidates: Float64Array[];
  readonly states: Uint8Array[];
  readonly blockOutputs: Float64Array[];
  readonly logits: Float64Array;
  readonly votes: Int32Array;
  readonly decision: number;
}

/** A network with its layers packed for the kernels and its cell thresholds derived, once per run. */
interface PackedNetwork {
  readonly pre: PackedLinear;
  readonly blocks: readonly PackedBlock[];
  readonly out: PackedLinear;
  /** Scratch for the non-zero inputs of the widest layer. */
  readonly nz: NonZeroInputs;
  /** Scratch for the weight offsets of one frame's ON cells (post-layer input). */
  readonly onCells: Int32Array;
}

interface PackedBlock {
  readonly cand: PackedLinear;
  /**
   * Post layer pre-scaled by |alpha|: an ON cell contributes W[r, j] * alpha[j], the reference's own product,
   * an OFF cell a zero that is skipped. Only the sign of an exactly zero sum can differ from the reference, and
   * the ReLU that follows maps both signs to +0, so block outputs stay bit-identical.
   */
  readonly post: PackedLinear;
  readonly th: CellThresholds;
}

function packNetwork(net: Network): PackedNetwork {
  const blocks = net.blocks.map((b) => {
    const th = cellThresholds(b.cell);
    return { cand: packLinear(b.cand), post: packLinearScaled(b.post, th.alpha), th };
  });
  return {
    pre: packLinear(net.pre),
    blocks,
    out: packLinear(net.out),
    nz: nonZeroInputs(Math.max(net.inputs, net.width, net.cells)),
    onCells: new Int32Array(net.cells),
  };
}

/** ReLU in place; -0 stays -0 (v < 0 is false), as the candidate has always been stored. */
function reluInPlace(v: Float64Array, from: number, to: number): void {
  for (let i = from; i < to; i++) if (v[i] < 0) v[i] = 0;
}

/** out[i] = max(out[i], 0) + skip[i] (or + 0 without skip) for i in [from, to): the block output. */
function reluAddSkip(out: Float64Array, skip: Float64Array | null, from: number, to: number): void {
  for (let i = from; i < to; i++) {
    const v = out[i];
    out[i] = (v > 0 ? v : 0) + (skip !== null ? skip[i] : 0);
  }
}

/**
 * List the weight offsets (j * rows) of the ON cells in states[from..from+cells), in cell order; returns how many.
 * Branch-free (the count advances by the state bit) because cell states are unpredictable.
 */
function listOnCells(states: Uint8Array, from: number, cells: number, rows: number, onCells: Int32Array): number {
  let n = 0;
  for (let j = 0; j < cells; j++) {
    onCells[n] = j * rows;
    n += states[from + j];
  }
  return n;
}

/** @internal Shared with batch.ts. */
export function checkInputs(net: Network, inputs: InputSequence): void {
  // Binary states and packed kernels are the BMRU's: a cumulative model would run as a BMRU without a word.
  if (net.arch !== 'fq-bmru') {
    throw new RangeError(`runNetwork runs arch 'fq-bmru' only, got '${net.arch}': use runCumulative (cumulative.ts)`);
  }
  if (inputs.features !== net.inputs) {
    throw new RangeError(`input has ${inputs.features} features per frame, the model expects ${net.inputs}`);
  }
}

/** @internal Shared with batch.ts. */
export function allocTrace(net: Network, frames: number) {
  const L = net.blocks.length;
  return {
    candidates: Array.from({ length: L }, () => new Float64Array(frames * net.cells)),
    states: Array.from({ length: L }, () => new Uint8Array(frames * net.cells)),
    blockOutputs: Array.from({ length: L }, () => new Float64Array(frames * net.width)),
    logits: new Float64Array(frames * net.classes),
  };
}

/**
 * One block for one frame t in place: candidates, the cell update from `state` (s_{t-1}, updated to s_t), block
 * output; `h` holds the block input and receives the block output.
 */
function stepBlock(
  block: PackedBlock,
  skip: boolean,
  t: number,
  h: Float64Array,
  state: Uint8Array,
  cand: Float64Array,
  states: Uint8Array,
  out: Float64Array,
  nz: NonZeroInputs,
  onCells: Int32Array,
): void {
  const { betaLo, betaHi } = block.th;
  const S = block.cand.rows;
  const H = block.post.rows;
  affinePositiveFrame(block.cand, h, 0, cand, t * S, nz);
  let on = 0;
  for (let j = 0; j < S; j++) {
    const i = t * S + j;
    let c = cand[i];
    if (c < 0) cand[i] = c = 0;
    const s = c >= betaHi[j] ? 1 : c < betaLo[j] ? 0 : state[j];
    state[j] = s;
    states[i] = s;
    onCells[on] = j * H;
    on += s;
  }
  accumulateColumns(block.post, onCells, on, out, t * H);
  for (let i = 0; i < H; i++) {
    const v = out[t * H + i];
    const y = (v > 0 ? v : 0) + (skip ? h[i] : 0);
    out[t * H + i] = y;
    h[i] = y;
  }
}

/** Run the network frame by frame (the reference loop). */
export function runNetwork(net: Network, inputs: InputSequence): Trace {
  checkInputs(net, inputs);
  const T = inputs.frames;
  const F = inputs.features;
  const { width: H, classes: C } = net;
  const tr = allocTrace(net, T);
  const packed = packNetwork(net);
  const { nz, onCells } = packed;
  const state = packed.blocks.map((b) => Uint8Array.from(b.th.s0));
  const h = new Float64Array(H);
  for (let t = 0; t < T; t++) {
    affineFrame(packed.pre, inputs.data, t * F, h, 0, nz);
    for (let k = 0; k < packed.blocks.length; k++) {
      stepBlock(
        packed.blocks[k],
        net.skip,
        t,
        h,
        state[k],
        tr.candidates[k],
        tr.states[k],
        tr.blockOutputs[k],
        nz,
        onCells,
      );
    }
    affineFrame(packed.out, h, 0, tr.logits, t * C, nz);
  }
  return finish(tr, T, C);
}

/** Run the network block by block over the whole sequence; the cell recurrence is an associative scan. */
export function runNetworkScan(net: Network, inputs: InputSequence): Trace {
  checkInputs(net, inputs);
  const T = inputs.frames;
  const F = inputs.features;
  const { width: H, cells: S, classes: C } = net;
  const tr = allocTrace(net, T);
  const packed = packNetwork(net);
  const { nz, onCells } = packed;
  let h = new Float64Array(T * H);
  for (let t = 0; t < T; t++) affineFrame(packed.pre, inputs.data, t * F, h, t * H, nz);
  for (let k = 0; k < packed.blocks.length; k++) {
    const { cand: candLayer, post, th } = packed.blocks[k];
    const cand = tr.candidates[k];
    for (let t = 0; t < T; t++) affinePositiveFrame(candLayer, h, t * H, cand, t * S, nz);
    reluInPlace(cand, 0, T * S);
    const states = tr.states[k];
    scanStates(cand, th.betaLo, th.betaHi, th.s0, T, S, states);
    const out = tr.blockOutputs[k];
    for (let t = 0; t < T; t++) {
      const on = listOnCells(states, t * S, S, H, onCells);
      accumulateColumns(post, onCells, on, out, t * H);
    }
    reluAddSkip(out, net.skip ? h : null, 0, T * H);
    h = out;
  }
  for (let t = 0; t < T; t++) affineFrame(packed.out, h, t * H, tr.logits, t * C, nz);
  return finish(tr, T, C);
}

/** Cells per word of the bit-parallel scan (one Int32Array element holds 32 cells' flags). */
const CELLS_PER_WORD = 32;
/** log2(CELLS_PER_WORD): cell j lives in word j >> WORD_SHIFT, bit j & BIT_MASK. */
const WORD_SHIFT = 5;
const BIT_MASK = CELLS_PER_WORD - 1;

/**
 * States of one cell bank over time as an inclusive associative scan of s_t = hold_t * s_{t-1} + high_t
 * (Hillis-Steele, log2(T) passes). The elements are binary, so composition is bitwise:
 * (a2, b2) o (a1, b1) = (a2 & a1, (a2 & b1) | b2), and 32 cells are composed at once, packed into one word
 * (64 cells x 2000 frames: 0.7 ms, against 6.0 ms for one byte per cell).
 */
export function scanStates(
  cand: Float64Array,
  betaLo: Float64Array,
  betaHi: Float64Array,
  s0: Uint8Array,
  frames: number,
  cells: number,
  out: Uint8Array,
): void {
  const words = Math.ceil(cells / CELLS_PER_WORD);
  let hold = new Int32Array(frames * words);
  let high = new Int32Array(frames * words);
  packTransitions(cand, betaLo, betaHi, frames, cells, words, hold, high);
  let nextHold = new Int32Array(frames * words);
  let nextHigh = new Int32Array(frames * words);
  for (let d = 1; d < frames; d *= 2) {
    // Frames t < d already hold their full prefix; frame t >= d composes with frame t - d.
    const lag = d * words;
    nextHold.set(hold.subarray(0, lag));
    nextHigh.set(high.subarray(0, lag));
    for (let i = lag; i < frames * words; i++) {
      nextHold[i] = hold[i] & hold[i - lag];
      nextHigh[i] = (hold[i] & high[i - lag]) | high[i];
    }
    [hold, nextHold] = [nextHold, hold];
    [high, nextHigh] = [nextHigh, high];
  }
  unpackStates(hold, high, s0, frames, cells, words, out);
}

/**
 * Pack each frame's per-cell flags: high = (c >= beta_hi) forces ON, hold = (beta_lo <= c < beta_hi) keeps
 * s_{t-1}. Flags are built in a local word from the comparisons' 0/1 values (no branch on unpredictable data).
 */
function packTransitions(
  cand: Float64Array,
  betaLo: Float64Array,
  betaHi: Float64Array,
  frames: number,
  cells: number,
  words: number,
  hold: Int32Array,
  high: Int32Array,
): void {
  for (let t = 0; t < frames; t++) {
    for (let w = 0; w < words; w++) {
      const first = w << WORD_SHIFT;
      const last = Math.min(first + CELLS_PER_WORD, cells);
      let holdWord = 0;
      let highWord = 0;
      for (let j = first; j < last; j++) {
        const c = cand[t * cells + j];
        const isHigh = Number(c >= betaHi[j]);
        const isAboveLo = Number(c >= betaLo[j]);
        highWord |= isHigh << (j - first);
        holdWord |= (isAboveLo & (isHigh ^ 1)) << (j - first);
      }
      hold[t * words + w] = holdWord;
      high[t * words + w] = highWord;
    }
  }
}

/** out[t, j] = hold_{0..t}[j] & s0[j] | high_{0..t}[j]: apply the scanned transition to the initial state. */
function unpackStates(
  hold: Int32Array,
  high: Int32Array,
  s0: Uint8Array,
  frames: number,
  cells: number,
  words: number,
  out: Uint8Array,
): void {
  const s0Words = new Int32Array(words);
  for (let j = 0; j < cells; j++) s0Words[j >> WORD_SHIFT] |= s0[j] << (j & BIT_MASK);
  for (let t = 0; t < frames; t++) {
    for (let w = 0; w < words; w++) {
      const bits = (hold[t * words + w] & s0Words[w]) | high[t * words + w];
      const first = w << WORD_SHIFT;
      const last = Math.min(first + CELLS_PER_WORD, cells);
      for (let j = first; j < last; j++) out[t * cells + j] = (bits >>> (j - first)) & 1;
    }
  }
}

/** The arrays of a trace, before the votes. */
interface TraceArrays {
  readonly candidates: Float64Array[];
  readonly states: Uint8Array[];
  readonly blockOutputs: Float64Array[];
  readonly logits: Float64Array;
}

/** @internal Shared with batch.ts: votes and decision from the logits (of a whole trace, or of states and logits). */
export function finish<A extends Pick<TraceArrays, 'states' | 'logits'>>(
  tr: A,
  T: number,
  C: number,
): A & { readonly frames: number; readonly votes: Int32Array; readonly decision: number } {
  const votes = new Int32Array(T);
  for (let t = 0; t < T; t++) votes[t] = argmax(tr.logits, t * C, C);
  return { frames: T, ...tr, votes, decision: majority(votes, C) };
}

/** Index of the largest of v[off..off+n); a tie goes to the lowest index (DESIGN §1). */
export function argmax(v: ArrayLike<number>, off: number, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (v[off + i] > v[off + best]) best = i;
  return best;
}

/** Majority vote over per-frame classes; a tie goes to the lowest class index. */
export function majority(votes: ArrayLike<number>, classes: number): number {
  const counts = new Int32Array(classes);
  for (let t = 0; t < votes.length; t++) counts[votes[t]]++;
  return argmax(counts, 0, classes);
}

/**
 * The batched model's kernels (batch.ts) as a WebAssembly module with 128-bit SIMD (two float64 lanes): `affine`
 * (the zero-skipping layer of kernels.ts), `columns` (the post layer over binary cells), `cells` (the cell bank)
 * and `dense` (a layer of few outputs). Same arithmetic as `runNetwork`, bit for bit: each output r is still b[r]
 * + the products added in column order, one output per lane, a multiply then an add (wasm has no fused
 * multiply-add, so nothing is rounded once instead of twice); where zero inputs are skipped, the outputs that sum
 * to exactly zero are recomputed with the plain dot product, as `affineFrame` does.
 *
 * Why wasm: V8 compiles JS typed-array loops to scalar code, one float per instruction with a bounds check per
 * load; wasm SIMD does two per instruction with no checks. The module is assembled here from its opcodes (no
 * toolchain needed at build or install time) and is ~3.7 kB.
 */

/** A wasm linear memory, as the JS API exposes it. */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

/**
 * The few members of the WebAssembly JS API used here: TypeScript declares them only in lib "dom", which this
 * Node project does not load. Node has the real global.
 */
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number }) => WasmMemory;
};

// ---- Binary encoding (WebAssembly core spec 1.0 + the fixed-width SIMD proposal, both in Node >= 16.4) ----

const I32 = 0x7f;
const F64 = 0x7c;
const V128 = 0x7b;

/** Unsigned LEB128. */
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 for i32 constants. */
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

function f64Bytes(v: number): number[] {
  return Array.from(new Uint8Array(Float64Array.of(v).buffer));
}

const name = (s: string): number[] => [...uleb(s.length), ...Buffer.from(s, 'utf8')];
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];

/** Opcodes used below, as emitters; `l` is a local index, `off` a static byte offset. */
const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  if: [0x04, 0x40],
  end: [0x0b],
  br: (depth: number) => [0x0c, ...uleb(depth)],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  select: [0x1b],
  get: (l: number) => [0x20, ...uleb(l)],
  set: (l: number) => [0x21, ...uleb(l)],
  tee: (l: number) => [0x22, ...uleb(l)],
  i32Load: (off = 0) => [0x28, 2, ...uleb(off)],
  f64Load: (off = 0) => [0x2b, 3, ...uleb(off)],
  i32Load8u: (off = 0) => [0x2d, 0, ...uleb(off)],
  i32Store: (off = 0) => [0x36, 2, ...uleb(off)],
  f64Store: (off = 0) => [0x39, 3, ...uleb(off)],
  i32: (v: number) => [0x41, ...sleb(v)],
  f64: (v: number) => [0x44, ...f64Bytes(v)],
  i32Eqz: [0x45],
  i32GeS: [0x4e],
  i32GtS: [0x4a],
  i32GeU: [0x4f],
  i32LtS: [0x48],
  f64Eq: [0x61],
  f64Ne: [0x62],
  f64Gt: [0x64],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32Mul: [0x6c],
  i32Shl: [0x74],
  f64Add: [0xa0],
  f64Mul: [0xa2],
  v128Load: (off = 0) => [0xfd, 0x00, 4, ...uleb(off)],
  v128Load64Splat: (off = 0) => [0xfd, 0x0a, 3, ...uleb(off)],
  v128Store: (off = 0) => [0xfd, 0x0b, 4, ...uleb(off)],
  f64x2Splat: [0xfd, 0x14],
  f64x2Add: [0xfd, ...uleb(0xf0)],
  f64x2Mul: [0xfd, ...uleb(0xf2)],
  f64x2Gt: [0xfd, ...uleb(0x4a)],
  f64x2Eq: [0xfd, ...uleb(0x47)],
  v128AnyTrue: [0xfd, ...uleb(0x53)],
  v128And: [0xfd, ...uleb(0x4e)],
  f64Lt: [0x63],
  f64Ge: [0x66],
  i32And: [0x71],
  i32Or: [0x72],
  i32Store8: (off = 0) => [0x3a, 0, ...uleb(off)],
  i32Store16: (off = 0) => [0x3b, 1, ...uleb(off)],
  i64ExtendI32u: [0xad],
  i64Zero: [0x42, 0x00],
  i64Sub: [0x7d],
  f64x2Ge: [0xfd, ...uleb(0x4c)],
  f64x2Pmax: [0xfd, ...uleb(0xf7)],
  v128Or: [0xfd, ...uleb(0x50)],
  i64x2Bitmask: [0xfd, ...uleb(0xc4)],
  i64x2ReplaceLane: (lane: number) => [0xfd, ...uleb(0x1e), lane],
  v128Load64Lane: (lane: number, off = 0) => [0xfd, ...uleb(0x57), 3, ...uleb(off), lane],
  v128Store64Lane: (lane: number, off = 0) => [0xfd, ...uleb(0x5b), 3, ...uleb(off), lane],
};

/** `local += k` for an i32 local. */
const addTo = (l: number, k: number[]): number[] => [...op.get(l), ...k, ...op.i32Add, ...op.set(l)];
/** `a + b * 8` (a byte address from an element index), both i32 locals. */
const addr8 = (a: number, b: number): number[] => [
  ...op.get(a),
  ...op.get(b),
  ...op.i32(3),
  ...op.i32Shl,
  ...op.i32Add,
];

/**
 * `for (; cond; step) body` as block { loop { br_if(!cond) 1; body; step; br 0 } }. `exitIf` leaves the value
 * 1 (exit) or 0 on the stack.
 */
function whileNot(exitIf: number[], body: number[], step: number[]): number[] {
  return [...op.block, ...op.loop, ...exitIf, ...op.brIf(1), ...body, ...step, ...op.br(0), ...op.end, ...op.end];
}

/**
 * Outputs per SIMD row block: 7 two-lane accumulators, 14 rows. V8 allocates 15 of x86-64's 16 vector registers
 * and loads a column's weights for the whole block before the arithmetic: 7 accumulators + 7 weights + the
 * input's splat fit, where 8 accumulators (16 rows) spilled an accumulator to the stack in every iteration.
 */
const VEC_ACCUMULATORS = 7;
/** The block for the rows left over after the 14-row blocks (e.g. 64 = 4 x 14 + 8). */
const VEC_ACCUMULATORS_TAIL = 4;
const LANES = 2;
/**
 * One gathered input of `affine`: its value (f64, bytes 0-7, loaded as a splat) and its column's byte offset into
 * wT (i32, bytes 8-11), so that the inner loop walks one pointer. `columns` gathers offsets alone, 4 bytes each.
 */
export const AFFINE_ENTRY_BYTES = 16;
const AFFINE_ENTRY_OFFSET_AT = 8;
const COLUMN_ENTRY_BYTES = 4;

/**
 * Frames per chunk in `affine` and `columns`: each chunk's inputs are gathered first, then every row block runs
 * over all frames of the chunk, so that the block's slice of the weights (14 rows x all columns, ~14 kB at
 * width 128) is loaded from L2 once per chunk and read from L1 by the other frames. Frame by frame, each frame
 * streamed the whole matrix (128 kB at width 128, more than L1) and measured slower.
 */
export const CHUNK_FRAMES = 16;

/** Locals of the chunked row loops (`accumulateRows`), by index. */
interface RowLocals {
  rows: number;
  /** Frames in this chunk. */
  n: number;
  /** The chunk's gathered lists: frame f's at list + f * listStride, ending at ends[f] (i32 byte addresses). */
  list: number;
  listStride: number;
  ends: number;
  /** The chunk's first output row and the byte stride between rows. */
  yp: number;
  yStride: number;
  wT: number;
  bias: number;
  scaled: boolean;
  r: number;
  f: number;
  p: number;
  lp: number;
  endv: number;
  yr: number;
  rb: number;
  o: number;
  splat: number;
  acc: number[];
  one: number;
  /**
   * Store max(y, 0) + skip row instead of y: `skip` the chunk's first skip row, `skipStride` its stride, `sr`
   * scratch, `zero` a v128 local holding zeros.
   */
  reluSkip?: { skip: number; skipStride: number; sr: number; zero: number };
  /**
   * OR 1 into the i32 flags[f] when an output of frame f is exactly zero (`mask` v128 scratch, `zero` a v128
   * local holding zeros): the frames whose outputs' signs a skipped zero input may have changed.
   */
  zeroCheck?: { flags: number; mask: number; zero: number };
}

/**
 * Emit: for every frame f of the chunk, y_f[r] = bias[r] + sum over f's gathered inputs (column weights at byte
 * offset entry.offset + r*8 of wT, times entry.value when `scaled`) for every r < rows: blocks of 14 rows, then
 * 8, then pairs, then a single last row, each block over all frames of the chunk.
 */
function accumulateRows(L: RowLocals): number[] {
  const { rows, n, list, listStride, ends, yp, yStride, wT, bias, scaled, r, f, p, lp, endv, yr, rb, o } = L;
  const { splat, acc, one, reluSkip, zeroCheck } = L;
  const entryBytes = scaled ? AFFINE_ENTRY_BYTES : COLUMN_ENTRY_BYTES;
  const offsetAt = scaled ? AFFINE_ENTRY_OFFSET_AT : 0;
  /** (v > 0 ? v : 0) + skip[r + lane]: the comparison's all-ones lanes keep v, the others become +0. */
  const vecOutput = (a: number, k: number): number[] =>
    reluSkip === undefined
      ? op.get(acc[a])
      : [
          ...op.get(acc[a]),
          ...op.get(acc[a]),
          ...op.get(reluSkip.zero),
          ...op.f64x2Gt,
          ...op.v128And,
          ...addr8(reluSkip.sr, r),
          ...op.v128Load(k),
          ...op.f64x2Add,
        ];
  const scalarOutput =
    reluSkip === undefined
      ? op.get(one)
      : [
          ...op.get(one),
          ...op.f64(0),
          ...op.get(one),
          ...op.f64(0),
          ...op.f64Gt,
          ...op.select,
          ...addr8(reluSkip.sr, r),
          ...op.f64Load(),
          ...op.f64Add,
        ];
  /** o = entry.offset + rb (rb = wT + r*8, set per row block); splat = f64x2(entry.value) */
  const loadColumn = [
    ...op.get(p),
    ...op.i32Load(offsetAt),
    ...op.get(rb),
    ...op.i32Add,
    ...op.set(o),
    ...(scaled ? [...op.get(p), ...op.v128Load64Splat(), ...op.set(splat)] : []),
  ];
  /** for (p = lp; p < endv; p += entryBytes) body */
  const overEntries = (body: number[]): number[] => [
    ...op.get(lp),
    ...op.set(p),
    ...whileNot([...op.get(p), ...op.get(endv), ...op.i32GeU], body, addTo(p, op.i32(entryBytes))),
  ];
  /** flags[f] |= value (an i32 0/1 left by `value`) */
  const orFlag = (value: number[]): number[] =>
    zeroCheck === undefined
      ? []
      : [
          ...op.get(zeroCheck.flags),
          ...op.get(f),
          ...op.i32(2),
          ...op.i32Shl,
          ...op.i32Add,
          ...op.get(zeroCheck.flags),
          ...op.get(f),
          ...op.i32(2),
          ...op.i32Shl,
          ...op.i32Add,
          ...op.i32Load(),
          ...value,
          ...op.i32Or,
          ...op.i32Store(),
        ];
  /** for (f = 0, lp = list, yr = yp, sr = skip; f < n; f++, ...) { endv = ends[f]; body } */
  const overFrames = (body: number[]): number[] => [
    ...op.i32(0),
    ...op.set(f),
    ...op.get(list),
    ...op.set(lp),
    ...op.get(yp),
    ...op.set(yr),
    ...(reluSkip === undefined ? [] : [...op.get(reluSkip.skip), ...op.set(reluSkip.sr)]),
    ...whileNot(
      [...op.get(f), ...op.get(n), ...op.i32GeS],
      [
        ...op.get(ends),
        ...op.get(f),
        ...op.i32(2),
        ...op.i32Shl,
        ...op.i32Add,
        ...op.i32Load(),
        ...op.set(endv),
        ...body,
      ],
      [
        ...addTo(f, op.i32(1)),
        ...addTo(lp, op.get(listStride)),
        ...addTo(yr, op.get(yStride)),
        ...(reluSkip === undefined ? [] : addTo(reluSkip.sr, op.get(reluSkip.skipStride))),
      ],
    ),
  ];
  const vecBlock = (k: number): number[] => {
    const init: number[] = [];
    const step: number[] = [];
    const store: number[] = [];
    for (let a = 0; a < k; a++) {
      init.push(...addr8(bias, r), ...op.v128Load(a * 16), ...op.set(acc[a]));
      step.push(...op.get(acc[a]), ...op.get(o), ...op.v128Load(a * 16));
      if (scaled) step.push(...op.get(splat), ...op.f64x2Mul);
      step.push(...op.f64x2Add, ...op.set(acc[a]));
      store.push(...addr8(yr, r), ...vecOutput(a, a * 16), ...op.v128Store(a * 16));
      if (zeroCheck !== undefined) {
        const { mask, zero } = zeroCheck;
        store.push(...op.get(mask), ...op.get(acc[a]), ...op.get(zero), ...op.f64x2Eq, ...op.v128Or, ...op.set(mask));
      }
    }
    const startCheck = zeroCheck === undefined ? [] : [...op.get(zeroCheck.zero), ...op.set(zeroCheck.mask)];
    const endCheck = zeroCheck === undefined ? [] : orFlag([...op.get(zeroCheck.mask), ...op.v128AnyTrue]);
    // while (r + 2k <= rows) { for each frame: init; for each entry: step; store; r += 2k; rb += 16k }
    return whileNot(
      [...op.get(r), ...op.i32(k * LANES), ...op.i32Add, ...op.get(rows), ...op.i32GtS],
      overFrames([...startCheck, ...init, ...overEntries([...loadColumn, ...step]), ...store, ...endCheck]),
      [...addTo(r, op.i32(k * LANES)), ...addTo(rb, op.i32(k * LANES * 8))],
    );
  };
  // The single last row of an odd row count, in scalar f64.
  const lastRow = [
    ...op.get(r),
    ...op.get(rows),
    ...op.i32GeS,
    ...op.i32Eqz,
    ...op.if,
    ...overFrames([
      ...addr8(bias, r),
      ...op.f64Load(),
      ...op.set(one),
      ...overEntries([
        ...loadColumn,
        ...op.get(one),
        ...op.get(o),
        ...op.f64Load(),
        ...(scaled ? [...op.get(p), ...op.f64Load(), ...op.f64Mul] : []),
        ...op.f64Add,
        ...op.set(one),
      ]),
      ...addr8(yr, r),
      ...scalarOutput,
      ...op.f64Store(),
      ...orFlag([...op.get(one), ...op.f64(0), ...op.f64Eq]),
    ]),
    ...op.end,
  ];
  return [
    ...op.i32(0),
    ...op.set(r),
    ...op.get(wT),
    ...op.set(rb),
    ...vecBlock(VEC_ACCUMULATORS),
    ...vecBlock(VEC_ACCUMULATORS_TAIL),
    ...vecBlock(1),
    ...lastRow,
  ];
}

/** n = min(CHUNK_FRAMES, frames - t) */
function chunkSize(n: number, t: number, frames: number): number[] {
  return [
    ...op.i32(CHUNK_FRAMES),
    ...op.get(frames),
    ...op.get(t),
    ...op.i32Sub,
    ...op.i32(CHUNK_FRAMES),
    ...op.get(frames),
    ...op.get(t),
    ...op.i32Sub,
    ...op.i32LtS,
    ...op.select,
    ...op.set(n),
  ];
}

/**
 * affine(x, xStride, frames, cols, rows, wT, wTStride, w, bias, y, yStride, list, ends, flags, clamp): for each
 * frame t, y_t = W x'_t + b with x' = max(x, 0) when clamp != 0 else x; strides and pointers in bytes; wT's
 * columns wTStride bytes apart; `list` scratch for CHUNK_FRAMES * cols entries of AFFINE_ENTRY_BYTES, `ends` and
 * `flags` for CHUNK_FRAMES i32.
 */
function affineFunction(): { params: number[]; locals: number[]; body: number[] } {
  const [x, xStride, frames, cols, rows, wT, wTStride, w, bias, y, yStride, list, ends, flags, clamp] = Array.from(
    { length: 15 },
    (_, k) => k,
  );
  const params = Array(15).fill(I32);
  let next = 15;
  const [t, c, end, r, p, rb, o, wRow, xp, xEnd, colOff, unclamped, n, f, lp, endv, yr, xf, yf, listStride] =
    Array.from({ length: 20 }, () => next++);
  const v = next++,
    one = next++;
  const splat = next++,
    zeroMask = next++,
    zero = next++;
  const acc = Array.from({ length: VEC_ACCUMULATORS }, () => next++);
  const locals = [...Array(20).fill(I32), F64, F64, V128, V128, V128, ...acc.map(() => V128)];
  /** v = x_f[c]; clamped to max(v, 0) when clamp (v > 0 ? v : +0, as `affineReference` does). */
  const loadInput = [
    ...addr8(xf, c),
    ...op.f64Load(),
    ...op.set(v),
    ...op.get(clamp),
    ...op.if,
    ...op.get(v),
    ...op.f64(0),
    ...op.get(v),
    ...op.f64(0),
    ...op.f64Gt,
    ...op.select,
    ...op.set(v),
    ...op.end,
  ];
  // Frame f's list at lp; ends[f] = lp + (number of inputs kept) * AFFINE_ENTRY_BYTES. An input is kept when
  // its term can be non-zero: v > 0, or v != 0 when unclamped (max(v, 0) is 0 for v <= 0). A kept clamped input
  // is positive, so its entry holds v itself. Each entry is written always and kept by advancing `end` (no
  // branch on the input).
  const gather = [
    ...op.get(lp),
    ...op.set(end),
    ...op.get(xf),
    ...op.set(xp),
    ...addr8(xf, cols),
    ...op.set(xEnd),
    ...op.i32(0),
    ...op.set(colOff),
    ...whileNot(
      [...op.get(xp), ...op.get(xEnd), ...op.i32GeU],
      [
        ...op.get(end),
        ...op.get(xp),
        ...op.f64Load(),
        ...op.tee(v),
        ...op.f64Store(),
        ...op.get(end),
        ...op.get(colOff),
        ...op.i32Store(AFFINE_ENTRY_OFFSET_AT),
        ...addTo(end, [
          ...op.get(v),
          ...op.f64(0),
          ...op.f64Gt,
          ...op.get(v),
          ...op.f64(0),
          ...op.f64Ne,
          ...op.get(unclamped),
          ...op.i32And,
          ...op.i32Or,
          ...op.i32(4),
          ...op.i32Shl,
        ]),
        ...addTo(colOff, op.get(wTStride)),
      ],
      addTo(xp, op.i32(8)),
    ),
  ];
  /** for (f = 0, xf = x, yf = y, lp = list; f < n; f++, ...) body */
  const overChunk = (body: number[]): number[] => [
    ...op.i32(0),
    ...op.set(f),
    ...op.get(x),
    ...op.set(xf),
    ...op.get(y),
    ...op.set(yf),
    ...op.get(list),
    ...op.set(lp),
    ...whileNot([...op.get(f), ...op.get(n), ...op.i32GeS], body, [
      ...addTo(f, op.i32(1)),
      ...addTo(xf, op.get(xStride)),
      ...addTo(yf, op.get(yStride)),
      ...addTo(lp, op.get(listStride)),
    ]),
  ];
  const flagAt = [...op.get(flags), ...op.get(f), ...op.i32(2), ...op.i32Shl, ...op.i32Add];
  const gatherChunk = overChunk([
    ...gather,
    ...op.get(ends),
    ...op.get(f),
    ...op.i32(2),
    ...op.i32Shl,
    ...op.i32Add,
    ...op.get(end),
    ...op.i32Store(),
    ...flagAt,
    ...op.i32(0),
    ...op.i32Store(),
  ]);
  // Outputs of frame f that came out exactly zero: recompute as the plain dot product (only their sign can
  // differ).
  const fixZeros = [
    ...op.i32(0),
    ...op.set(r),
    ...whileNot(
      [...op.get(r), ...op.get(rows), ...op.i32GeS],
      [
        ...addr8(yf, r),
        ...op.f64Load(),
        ...op.f64(0),
        ...op.f64Eq,
        ...op.if,
        ...addr8(bias, r),
        ...op.f64Load(),
        ...op.set(one),
        // wRow = w + r * cols * 8
        ...op.get(w),
        ...op.get(r),
        ...op.get(cols),
        ...op.i32Mul,
        ...op.i32(3),
        ...op.i32Shl,
        ...op.i32Add,
        ...op.set(wRow),
        ...op.i32(0),
        ...op.set(c),
        ...whileNot(
          [...op.get(c), ...op.get(cols), ...op.i32GeS],
          [
            ...loadInput,
            ...op.get(one),
            ...addr8(wRow, c),
            ...op.f64Load(),
            ...op.get(v),
            ...op.f64Mul,
            ...op.f64Add,
            ...op.set(one),
          ],
          addTo(c, op.i32(1)),
        ),
        ...addr8(yf, r),
        ...op.get(one),
        ...op.f64Store(),
        ...op.end,
      ],
      addTo(r, op.i32(1)),
    ),
  ];
  const fixChunk = overChunk([...flagAt, ...op.i32Load(), ...op.if, ...fixZeros, ...op.end]);
  const body = [
    ...op.f64(0),
    ...op.f64x2Splat,
    ...op.set(zero),
    ...op.get(clamp),
    ...op.i32Eqz,
    ...op.set(unclamped),
    ...op.get(cols),
    ...op.i32(4),
    ...op.i32Shl,
    ...op.set(listStride),
    ...op.i32(0),
    ...op.set(t),
    ...whileNot(
      [...op.get(t), ...op.get(frames), ...op.i32GeS],
      [
        ...chunkSize(n, t, frames),
        ...gatherChunk,
        ...accumulateRows({
          rows,
          n,
          list,
          listStride,
          ends,
          yp: y,
          yStride,
          wT,
          bias,
          scaled: true,
          r,
          f,
          p,
          lp,
          endv,
          yr,
          rb,
          o,
          splat,
          acc,
          one,
          zeroCheck: { flags, mask: zeroMask, zero },
        }),
        ...fixChunk,
      ],
      [
        ...addTo(t, op.get(n)),
        ...addTo(x, [...op.get(xStride), ...op.get(n), ...op.i32Mul]),
        ...addTo(y, [...op.get(yStride), ...op.get(n), ...op.i32Mul]),
      ],
    ),
  ];
  return { params, locals, body };
}

/**
 * columns(states, frames, cells, rows, wT, wTStride, bias, y, list, ends, skip, skipStride): the block output
 * for each frame t, y_t = max(b + the columns of wT (pre-scaled by alpha, wTStride bytes apart) of the ON cells in
 * cell order, 0) + skip_t; states are bytes [frames x cells], y and skip [frames x rows] (skipStride 0 re-reads
 * one row of zeros: x + 0 = x for the x >= +0 that the ReLU leaves, so that is the no-skip network exactly);
 * `list` scratch for CHUNK_FRAMES * cells i32, `ends` for CHUNK_FRAMES i32.
 */
function columnsFunction(): { params: number[]; locals: number[]; body: number[] } {
  const [states, frames, cells, rows, wT, wTStride, bias, y, list, ends, skip, skipStride] = Array.from(
    { length: 12 },
    (_, k) => k,
  );
  const params = Array(12).fill(I32);
  let next = 12;
  const [t, end, r, p, rb, o, sp, spEnd, colOff, n, f, lp, endv, yr, sr, stf, listStride, yStride] = Array.from(
    { length: 18 },
    () => next++,
  );
  const one = next++;
  const splat = next++;
  const zero = next++;
  const acc = Array.from({ length: VEC_ACCUMULATORS }, () => next++);
  const locals = [...Array(18).fill(I32), F64, V128, V128, ...acc.map(() => V128)];
  /** Frame f's list at lp from its states at stf; ends[f] = the end of the list. */
  const gather = [
    ...op.get(lp),
    ...op.set(end),
    ...op.get(stf),
    ...op.set(sp),
    ...op.get(stf),
    ...op.get(cells),
    ...op.i32Add,
    ...op.set(spEnd),
    ...op.i32(0),
    ...op.set(colOff),
    ...whileNot(
      [...op.get(sp), ...op.get(spEnd), ...op.i32GeU],
      [
        // *end = the cell's column offset; end advances when its state is 1: no branch on the unpredictable state.
        ...op.get(end),
        ...op.get(colOff),
        ...op.i32Store(),
        ...addTo(end, [...op.get(sp), ...op.i32Load8u(), ...op.i32(2), ...op.i32Shl]),
        ...addTo(colOff, op.get(wTStride)),
      ],
      addTo(sp, op.i32(1)),
    ),
    ...op.get(ends),
    ...op.get(f),
    ...op.i32(2),
    ...op.i32Shl,
    ...op.i32Add,
    ...op.get(end),
    ...op.i32Store(),
  ];
  const gatherChunk = [
    ...op.i32(0),
    ...op.set(f),
    ...op.get(states),
    ...op.set(stf),
    ...op.get(list),
    ...op.set(lp),
    ...whileNot([...op.get(f), ...op.get(n), ...op.i32GeS], gather, [
      ...addTo(f, op.i32(1)),
      ...addTo(stf, op.get(cells)),
      ...addTo(lp, op.get(listStride)),
    ]),
  ];
  const body = [
    ...op.f64(0),
    ...op.f64x2Splat,
    ...op.set(zero),
    ...op.get(rows),
    ...op.i32(3),
    ...op.i32Shl,
    ...op.set(yStride),
    ...op.get(cells),
    ...op.i32(2),
    ...op.i32Shl,
    ...op.set(listStride),
    ...op.i32(0),
    ...op.set(t),
    ...whileNot(
      [...op.get(t), ...op.get(frames), ...op.i32GeS],
      [
        ...chunkSize(n, t, frames),
        ...gatherChunk,
        ...accumulateRows({
          rows,
          n,
          list,
          listStride,
          ends,
          yp: y,
          yStride,
          wT,
          bias,
          scaled: false,
          r,
          f,
          p,
          lp,
          endv,
          yr,
          rb,
          o,
          splat,
          acc,
          one,
          reluSkip: { skip, skipStride, sr, zero },
        }),
      ],
      [
        ...addTo(t, op.get(n)),
        ...addTo(states, [...op.get(cells), ...op.get(n), ...op.i32Mul]),
        ...addTo(y, [...op.get(yStride), ...op.get(n), ...op.i32Mul]),
        ...addTo(skip, [...op.get(skipStride), ...op.get(n), ...op.i32Mul]),
      ],
    ),
  ];
  return { params, locals, body };
}

/**
 * cells(cand, states, frames, cells, lo, hi, s0, mask): one clip's cell bank, in place. The candidate gets its
 * ReLU (c < 0 becomes +0; -0 stays, as `runNetwork` stores it) and s_t = (c >= beta_hi) | ((c >= beta_lo) &
 * s_{t-1}) (DESIGN §1) from s_0. Frames run outside and pairs of cells inside, so that every access is stride-1
 * (the frames-inside order walked down a column of `cand` and measured slower at width 128, where one clip's
 * candidates outgrow the L1 cache); each pair's state is kept between frames in `mask` (cells * 8 bytes) as two
 * all-ones/all-zeros lanes. An odd last cell runs afterwards in scalar code, frames inside.
 */
function cellsFunction(): { params: number[]; locals: number[]; body: number[] } {
  const [cand, states, frames, cells, lo, hi, s0, mask] = Array.from({ length: 8 }, (_, k) => k);
  const params = Array(8).fill(I32);
  let next = 8;
  const t = next++,
    j = next++,
    s = next++,
    cp = next++,
    sp = next++,
    bits = next++;
  const c = next++;
  const zero = next++,
    state2 = next++,
    c2 = next++;
  const locals = [I32, I32, I32, I32, I32, I32, F64, V128, V128, V128];
  const rowBytes = [...op.get(cells), ...op.i32(3), ...op.i32Shl];
  /** cp = cand + j*8, sp = states + j: the first frame of cell j. */
  const startColumn = [...addr8(cand, j), ...op.set(cp), ...op.get(states), ...op.get(j), ...op.i32Add, ...op.set(sp)];
  const nextFrame = [...addTo(t, op.i32(1)), ...addTo(cp, rowBytes), ...addTo(sp, op.get(cells))];
  /** Cells j, j+1 of the frame at cp/sp. */
  const pairFrame = [
    // c2 = pmax(cand, 0) = (cand < 0 ? 0 : cand) per lane; stored back.
    ...addr8(cp, j),
    ...addr8(cp, j),
    ...op.v128Load(),
    ...op.get(zero),
    ...op.f64x2Pmax,
    ...op.tee(c2),
    ...op.v128Store(),
    // state2 = (c2 >= hi) | ((c2 >= lo) & state2), kept in mask
    ...addr8(mask, j),
    ...op.get(c2),
    ...addr8(hi, j),
    ...op.v128Load(),
    ...op.f64x2Ge,
    ...op.get(c2),
    ...addr8(lo, j),
    ...op.v128Load(),
    ...op.f64x2Ge,
    ...addr8(mask, j),
    ...op.v128Load(),
    ...op.v128And,
    ...op.v128Or,
    ...op.tee(state2),
    ...op.v128Store(),
    // The two lanes' sign bits as bytes 0/1 of cells j, j+1.
    ...op.get(state2),
    ...op.i64x2Bitmask,
    ...op.set(bits),
    ...op.get(sp),
    ...op.get(j),
    ...op.i32Add,
    ...op.get(bits),
    ...op.i32(1),
    ...op.i32And,
    ...op.get(bits),
    ...op.i32(2),
    ...op.i32And,
    ...op.i32(7),
    ...op.i32Shl,
    ...op.i32Or,
    ...op.i32Store16(),
  ];
  /** A lane of all ones where s0[j + lane] is 1: 0 - s0 as an i64 lane. */
  const s0Lane = (lane: number) => [
    ...op.i64Zero,
    ...op.get(s0),
    ...op.get(j),
    ...op.i32Add,
    ...op.i32Load8u(lane),
    ...op.i64ExtendI32u,
    ...op.i64Sub,
    ...op.i64x2ReplaceLane(lane),
  ];
  /** while (j + 1 < cells) { body; j += 2 } from j = 0 */
  const overPairs = (body: number[]): number[] => [
    ...op.i32(0),
    ...op.set(j),
    ...whileNot([...op.get(j), ...op.i32(1), ...op.i32Add, ...op.get(cells), ...op.i32GeS], body, addTo(j, op.i32(2))),
  ];
  const initMasks = overPairs([...addr8(mask, j), ...op.get(zero), ...s0Lane(0), ...s0Lane(1), ...op.v128Store()]);
  // Leaves j at the first cell not in a pair (cells rounded down to even), where lastCell starts.
  const pairs = [
    ...op.get(cand),
    ...op.set(cp),
    ...op.get(states),
    ...op.set(sp),
    ...op.i32(0),
    ...op.set(t),
    ...whileNot([...op.get(t), ...op.get(frames), ...op.i32GeS], overPairs(pairFrame), nextFrame),
  ];
  const lastCell = [
    ...op.get(j),
    ...op.get(cells),
    ...op.i32GeS,
    ...op.i32Eqz,
    ...op.if,
    ...op.get(s0),
    ...op.get(j),
    ...op.i32Add,
    ...op.i32Load8u(),
    ...op.set(s),
    ...startColumn,
    ...op.i32(0),
    ...op.set(t),
    ...whileNot(
      [...op.get(t), ...op.get(frames), ...op.i32GeS],
      [
        // c = cand < 0 ? 0 : cand; stored back
        ...op.get(cp),
        ...op.f64(0),
        ...op.get(cp),
        ...op.f64Load(),
        ...op.tee(c),
        ...op.get(c),
        ...op.f64(0),
        ...op.f64Lt,
        ...op.select,
        ...op.tee(c),
        ...op.f64Store(),
        ...op.get(c),
        ...addr8(hi, j),
        ...op.f64Load(),
        ...op.f64Ge,
        ...op.get(c),
        ...addr8(lo, j),
        ...op.f64Load(),
        ...op.f64Ge,
        ...op.get(s),
        ...op.i32And,
        ...op.i32Or,
        ...op.set(s),
        ...op.get(sp),
        ...op.get(s),
        ...op.i32Store8(),
      ],
      nextFrame,
    ),
    ...op.end,
  ];
  const body = [...op.f64(0), ...op.f64x2Splat, ...op.set(zero), ...initMasks, ...pairs, ...lastCell];
  return { params, locals, body };
}

/**
 * dense(x, xStride, frames, cols, rows, w, bias, y, yStride): y_t = W x_t + b for each frame t, every product
 * added in column order from the bias: `affineReference` itself, so no zero is skipped and no output needs
 * fixing. For layers of few outputs (the classifier), where gathering the non-zero inputs of every frame cost
 * more than the products: the two lanes are two frames (an odd last frame runs paired with itself), W row-major.
 */
function denseFunction(): { params: number[]; locals: number[]; body: number[] } {
  const [x, xStride, frames, cols, rows, w, bias, y, yStride] = Array.from({ length: 9 }, (_, k) => k);
  const params = Array(9).fill(I32);
  let next = 9;
  const t = next++,
    r = next++,
    c = next++,
    wRow = next++,
    x1 = next++;
  const acc = next++;
  const locals = [I32, I32, I32, I32, I32, V128];
  /** y_t[r] (and y_{t+1}[r] when `pair`) for every r, x_t at x and x_{t+1} at x1. */
  const rowsOf = (pair: boolean): number[] => [
    ...op.get(w),
    ...op.set(wRow),
    ...op.i32(0),
    ...op.set(r),
    ...whileNot(
      [...op.get(r), ...op.get(rows), ...op.i32GeS],
      [
        ...addr8(bias, r),
        ...op.v128Load64Splat(),
        ...op.set(acc),
        ...op.i32(0),
        ...op.set(c),
        ...whileNot(
          [...op.get(c), ...op.get(cols), ...op.i32GeS],
          [
            ...op.get(acc),
            ...addr8(wRow, c),
            ...op.v128Load64Splat(),
            ...addr8(x1, c),
            ...addr8(x, c),
            ...op.v128Load64Splat(),
            ...op.v128Load64Lane(1),
            ...op.f64x2Mul,
            ...op.f64x2Add,
            ...op.set(acc),
          ],
          addTo(c, op.i32(1)),
        ),
        ...addr8(y, r),
        ...op.get(acc),
        ...op.v128Store64Lane(0),
        ...(pair
          ? [...op.get(y), ...op.get(yStride), ...op.i32Add, ...op.get(r), ...op.i32(3), ...op.i32Shl, ...op.i32Add]
          : []),
        ...(pair ? [...op.get(acc), ...op.v128Store64Lane(1)] : []),
      ],
      [...addTo(r, op.i32(1)), ...addTo(wRow, [...op.get(cols), ...op.i32(3), ...op.i32Shl])],
    ),
  ];
  const twice = (l: number): number[] => [...op.get(l), ...op.i32(1), ...op.i32Shl];
  const body = [
    ...op.i32(0),
    ...op.set(t),
    // while (t + 1 < frames): frames t and t+1
    ...whileNot(
      [...op.get(t), ...op.i32(1), ...op.i32Add, ...op.get(frames), ...op.i32GeS],
      [...op.get(x), ...op.get(xStride), ...op.i32Add, ...op.set(x1), ...rowsOf(true)],
      [...addTo(t, op.i32(2)), ...addTo(x, twice(xStride)), ...addTo(y, twice(yStride))],
    ),
    ...op.get(t),
    ...op.get(frames),
    ...op.i32GeS,
    ...op.i32Eqz,
    ...op.if,
    ...op.get(x),
    ...op.set(x1),
    ...rowsOf(false),
    ...op.end,
  ];
  return { params, locals, body };
}

/** Assemble the module: memory imported as env.memory, functions `affine` and `columns` exported. */
function moduleBytes(): Uint8Array {
  const fns = [affineFunction(), columnsFunction(), cellsFunction(), denseFunction()];
  const exportsByName = ['affine', 'columns', 'cells', 'dense'];
  const types = section(1, vec(fns.map((f) => [0x60, ...vec(f.params.map((p) => [p])), ...vec([])])));
  const imports = section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x00, ...uleb(1)]]));
  const funcs = section(3, vec(fns.map((_, k) => uleb(k))));
  const exps = section(7, vec(exportsByName.map((n, k) => [...name(n), 0x00, ...uleb(k)])));
  const code = section(
    10,
    vec(
      fns.map((f) => {
        const body = [...vec(f.locals.map((l) => [1, l])), ...f.body, ...op.end];
        return [...uleb(body.length), ...body];
      }),
    ),
  );
  return Uint8Array.from([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...types,
    ...imports,
    ...funcs,
    ...exps,
    ...code,
  ]);
}

export interface WasmKernels {
  readonly memory: WasmMemory;
  /** See `affineFunction`; all pointers and strides in bytes. */
  affine(
    x: number,
    xStrideBytes: number,
    frames: number,
    cols: number,
    rows: number,
    weightT: number,
    /** Bytes between wT's columns (>= rows * 8, a multiple of 16). */
    weightTStrideBytes: number,
    weight: number,
    bias: number,
    y: number,
    yStrideBytes: number,
    /** Scratch for CHUNK_FRAMES * cols entries of AFFINE_ENTRY_BYTES, 16-byte aligned. */
    list: number,
    /** Scratch for CHUNK_FRAMES i32. */
    ends: number,
    /** Scratch for CHUNK_FRAMES i32. */
    flags: number,
    clamp: number,
  ): void;
  /** See `columnsFunction`. */
  columns(
    states: number,
    frames: number,
    cells: number,
    rows: number,
    weightT: number,
    /** Bytes between wT's columns (>= rows * 8, a multiple of 16). */
    weightTStrideBytes: number,
    bias: number,
    y: number,
    /** Scratch for CHUNK_FRAMES * cells i32 offsets. */
    list: number,
    /** Scratch for CHUNK_FRAMES i32. */
    ends: number,
    skip: number,
    skipStrideBytes: number,
  ): void;
  /** See `denseFunction`; W row-major. */
  dense(
    x: number,
    xStrideBytes: number,
    frames: number,
    cols: number,
    rows: number,
    weight: number,
    bias: number,
    y: number,
    yStrideBytes: number,
  ): void;
  /** See `cellsFunction`. */
  cells(
    cand: number,
    states: number,
    frames: number,
    cells: number,
    betaLo: number,
    betaHi: number,
    s0: number,
    /** Scratch for `cells` f64, 16-byte aligned. */
    mask: number,
  ): void;
}

let compiled: object | null = null;

/** Instantiate the kernels on a fresh memory of at least `bytes` (compiled once per thread). */
export function wasmKernels(bytes: number): WasmKernels {
  compiled ??= new WebAssembly.Module(moduleBytes());
  const WASM_PAGE_BYTES = 65536; // fixed by the WebAssembly spec
  const memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(bytes / WASM_PAGE_BYTES)) });
  const instance = new WebAssembly.Instance(compiled, { env: { memory } });
  const e = instance.exports as unknown as Omit<WasmKernels, 'memory'>;
  return { memory, affine: e.affine, columns: e.columns, cells: e.cells, dense: e.dense };
}

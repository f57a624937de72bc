/**
 * safetensors reader/writer (the format PyTorch/JAX training scripts write):
 *   bytes 0..7   little-endian u64 N: length of the JSON header
 *   bytes 8..8+N JSON object: { "__metadata__"?: {string: string}, name: {dtype, shape, data_offsets: [begin, end]} }
 *   then the data section; offsets are relative to its start, tensors are little-endian, row-major.
 * Only F32 and F64 are part of the interchange contract (DESIGN §1b); F16 and BF16 are upcast. I64 (integer
 * class labels, what PyTorch's CrossEntropyLoss wants) is read only where a caller asks for it (the features file).
 * Small enough that a dependency would add more surface than it saves.
 */
import { InputError } from '../errors.js';
import type { ModelMetadata, Tensor } from './tensors.js';

const HEADER_LEN_BYTES = 8;
/** Guard against a corrupt length field making us allocate gigabytes (the format caps headers at 100 MB). */
const MAX_HEADER_BYTES = 100_000_000;
/**
 * Bytes per value of the dtypes read; F16 and BF16 (common PyTorch saves) are upcast exactly to float64, I64 values
 * are read as numbers (exact up to 2^53; beyond is refused).
 */
const DTYPE_BYTES = { F16: 2, BF16: 2, F32: 4, F64: 8, I64: 8 } as const;
export type SafetensorsDType = keyof typeof DTYPE_BYTES;
type DType = SafetensorsDType;
/** The dtypes a model file may hold. */
const FLOAT_DTYPES: readonly DType[] = ['F16', 'BF16', 'F32', 'F64'];

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** Parse a safetensors file's bytes into float64 tensors and string metadata. */
export function parseSafetensors(
  buf: Uint8Array,
  file?: string,
  /** The dtypes accepted (default the floats, F16 to F64); the features file adds I64. */
  dtypes: readonly SafetensorsDType[] = FLOAT_DTYPES,
): { tensors: Map<string, Tensor>; metadata: ModelMetadata } {
  if (buf.byteLength < HEADER_LEN_BYTES)
    throw new InputError('expected a safetensors file (8-byte header length), file too short', { file });
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > MAX_HEADER_BYTES || HEADER_LEN_BYTES + headerLen > buf.byteLength) {
    // Most often not a safetensors file at all (a CSV or JSON given by mistake): say what was expected.
    throw new InputError(
      `expected a safetensors file (an 8-byte little-endian header length, then a JSON header); the first 8 bytes give a header length of ${headerLen}, beyond the file size ${buf.byteLength}`,
      { file, field: 'header' },
    );
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(buf.subarray(HEADER_LEN_BYTES, HEADER_LEN_BYTES + headerLen)));
  } catch (e) {
    throw new InputError(`header is not valid JSON (${(e as Error).message})`, { file, field: 'header' });
  }
  if (!isPlainObject(header))
    throw new InputError(`expected a JSON object of tensor entries, got ${jsonKind(header)}`, {
      file,
      field: 'header',
    });
  const dataStart = HEADER_LEN_BYTES + headerLen;
  const dataLen = buf.byteLength - dataStart;
  let metadata: ModelMetadata = {};
  const entries: [string, HeaderEntry][] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      // Readers index it by key: null or a list would be a TypeError there instead of an error naming the file.
      if (!isPlainObject(raw))
        throw new InputError(`expected an object of string values, got ${jsonKind(raw)}`, { file, field: name });
      metadata = raw as ModelMetadata;
      continue;
    }
    entries.push([name, checkEntry(raw, name, dtypes, file)]);
  }
  // Every entry is checked against the file before any tensor is decoded: what the header declares costs
  // nothing to write, the decoded values cost 8 bytes each.
  for (const [name, entry] of entries) checkExtent(entry, name, dataLen, buf.byteLength, file);
  checkNoOverlap(entries, file);
  const tensors = new Map<string, Tensor>();
  for (const [name, entry] of entries) {
    const dtype = entry.dtype as DType;
    const count = (entry.data_offsets[1] - entry.data_offsets[0]) / DTYPE_BYTES[dtype];
    const data = decode(view, dataStart + entry.data_offsets[0], count, dtype);
    if (dtype === 'I64') checkSafeIntegers(data, name, file);
    tensors.set(name, { shape: entry.shape, data });
  }
  return { tensors, metadata };
}

/**
 * A tensor's bytes: `data_offsets` [begin, end] inside the data section, begin on a whole value (the reference
 * writer keeps every tensor aligned to its dtype), and end - begin exactly the bytes its shape and dtype need.
 */
function checkExtent(entry: HeaderEntry, name: string, dataLen: number, fileLen: number, file?: string): void {
  const [begin, end] = entry.data_offsets;
  const dtype = entry.dtype as DType;
  const valueBytes = DTYPE_BYTES[dtype];
  const at = { file, field: name };
  const offsets = `data_offsets [${begin}, ${end}]`;
  if (begin < 0 || end < begin) throw new InputError(`${offsets}: expected 0 <= begin <= end`, at);
  if (end > dataLen) {
    throw new InputError(
      `${offsets} reach beyond the ${dataLen}-byte data section (the file has ${fileLen} bytes in all)`,
      at,
    );
  }
  if (begin % valueBytes !== 0) {
    throw new InputError(
      `${offsets}: begin ${begin} is not a multiple of ${valueBytes} bytes (one ${dtype} value); the tensor is not aligned`,
      at,
    );
  }
  // The product of the dimensions, in doubles: a hostile shape's product can pass 2^53, never be exact, and
  // still compare unequal to the byte span, which is all that is asked of it here.
  const count = entry.shape.reduce((a, b) => a * b, 1);
  const needed = count * valueBytes;
  if (needed !== end - begin) {
    throw new InputError(
      `shape [${entry.shape.join(', ')}] of ${dtype} is ${count} values = ${needed} bytes, but ${offsets} span ${end - begin} bytes`,
      at,
    );
  }
}

/** No two tensors share a byte (the format lays tensors out back to back). */
function checkNoOverlap(entries: readonly [string, HeaderEntry][], file?: string): void {
  const byBegin = entries
    .filter(([, e]) => e.data_offsets[1] > e.data_offsets[0])
    .sort(([, a], [, b]) => a.data_offsets[0] - b.data_offsets[0]);
  for (let i = 1; i < byBegin.length; i++) {
    const [prevName, prev] = byBegin[i - 1];
    const [name, e] = byBegin[i];
    if (e.data_offsets[0] < prev.data_offsets[1]) {
      throw new InputError(
        `data_offsets [${e.data_offsets.join(', ')}] overlap those of '${prevName}' [${prev.data_offsets.join(', ')}]: expected each tensor in bytes of its own`,
        { file, field: name },
      );
    }
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function jsonKind(v: unknown): string {
  return v === null
    ? 'null'
    : Array.isArray(v)
      ? 'a list'
      : typeof v === 'object'
        ? 'an object'
        : `${typeof v} ${JSON.stringify(v)}`;
}

function checkEntry(raw: unknown, name: string, dtypes: readonly DType[], file?: string): HeaderEntry {
  const e = raw as Partial<HeaderEntry>;
  if (typeof e !== 'object' || e === null)
    throw new InputError('expected a header entry object', { file, field: name });
  if (!dtypes.includes(e.dtype as DType)) {
    const list = `${dtypes.slice(0, -1).join(', ')} or ${dtypes[dtypes.length - 1]}`;
    throw new InputError(`expected dtype ${list}, got ${JSON.stringify(e.dtype)}`, { file, field: name });
  }
  if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new InputError(`expected shape as a list of non-negative integers, got ${JSON.stringify(e.shape)}`, {
      file,
      field: name,
    });
  }
  if (!Array.isArray(e.data_offsets) || e.data_offsets.length !== 2 || !e.data_offsets.every(Number.isInteger)) {
    throw new InputError(`expected data_offsets [begin, end], got ${JSON.stringify(e.data_offsets)}`, {
      file,
      field: name,
    });
  }
  return e as HeaderEntry;
}

function decode(view: DataView, offset: number, count: number, dtype: DType): Float64Array {
  const out = new Float64Array(count);
  const step = DTYPE_BYTES[dtype];
  const read = READ[dtype];
  for (let i = 0; i < count; i++) out[i] = read(view, offset + i * step);
  return out;
}

/** I64 values read as numbers must be exact: beyond 2^53 a label would silently become its neighbour. */
function checkSafeIntegers(data: Float64Array, name: string, file?: string): void {
  const bad = data.findIndex((v) => !Number.isSafeInteger(v));
  if (bad >= 0) {
    throw new InputError(`expected an integer within +-2^53 (read as a float64 exactly), got ${data[bad]}`, {
      file,
      field: name,
      index: bad,
    });
  }
}

/** One little-endian value of each dtype as a number (exact: every F16/BF16/F32 value is a float64). */
const READ: Readonly<Record<DType, (view: DataView, at: number) => number>> = {
  // Rounded to the nearest float64 beyond 2^53; checkSafeIntegers refuses those.
  I64: (v, at) => Number(v.getBigInt64(at, true)),
  F64: (v, at) => v.getFloat64(at, true),
  F32: (v, at) => v.getFloat32(at, true),
  // bfloat16 is the top half of a float32.
  BF16: (v, at) => new Float32Array(Uint32Array.of(v.getUint16(at, true) << 16).buffer)[0],
  F16: (v, at) => half(v.getUint16(at, true)),
};

/** The bfloat16 nearest a number (round half to even on the float32 bits), as its 16-bit pattern. */
export function bfloat16Bits(v: number): number {
  const bits = new Uint32Array(Float32Array.of(v).buffer)[0];
  return ((bits + 0x7fff + ((bits >> 16) & 1)) >>> 16) & 0xffff;
}

/** An IEEE-754 binary16 bit pattern as a number: sign, 5-bit exponent (bias 15), 10-bit fraction. */
export function half(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // subnormal (and zero)
  if (exp === 0x1f) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** The dtypes written. */
type WriteDType = 'F32' | 'F64' | 'BF16' | 'I64';

/**
 * Serialise tensors plus string metadata into safetensors bytes: each tensor as `dtype`, or as `perTensor[name]`
 * where given (I64 takes integers only: a RangeError names the tensor and value otherwise).
 */
export function writeSafetensors(
  tensors: ReadonlyMap<string, Tensor>,
  metadata: Record<string, string>,
  dtype: WriteDType = 'F32',
  perTensor: Readonly<Record<string, WriteDType>> = {},
): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  const dtypeOf = (name: string): WriteDType => perTensor[name] ?? dtype;
  // Wider dtypes first (stable otherwise), as the reference writer lays them out: every tensor then starts on a
  // whole value without gaps between tensors, which the reference reader refuses.
  const layout = [...tensors].sort(([a], [b]) => DTYPE_BYTES[dtypeOf(b)] - DTYPE_BYTES[dtypeOf(a)]);
  let offset = 0;
  for (const [name, t] of layout) {
    const dtype = dtypeOf(name);
    const bytes = t.data.length * DTYPE_BYTES[dtype];
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  // Pad with spaces so the data section starts 8-byte aligned, as the reference writer does.
  json += ' '.repeat((8 - ((HEADER_LEN_BYTES + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(HEADER_LEN_BYTES + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, HEADER_LEN_BYTES);
  let pos = HEADER_LEN_BYTES + headerBytes.length;
  for (const [name, t] of layout) {
    const dtype = dtypeOf(name);
    for (const v of t.data) {
      if (dtype === 'I64') {
        if (!Number.isSafeInteger(v)) throw new RangeError(`${name}: I64 takes integers within +-2^53, got ${v}`);
        view.setBigInt64(pos, BigInt(v), true);
      } else if (dtype === 'F32') view.setFloat32(pos, v, true);
      else if (dtype === 'BF16') view.setUint16(pos, bfloat16Bits(v), true);
      else view.setFloat64(pos, v, true);
      pos += DTYPE_BYTES[dtype];
    }
  }
  return out;
}

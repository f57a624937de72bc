/**
 * The safetensors reader and writer against bytes laid out by hand from the format (huggingface/safetensors
 * README: an 8-byte little-endian header length N, N bytes of JSON, then the data section that `data_offsets`
 * index; the reference writer pads the header with spaces to 8 bytes and lays wider dtypes first).
 */
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { parseSafetensors, writeSafetensors, type Tensor } from '../../src/model/index.js';

/** A file of `header` (serialised as given) followed by `data`. */
function file(header: unknown, data: Uint8Array = new Uint8Array(0), json = JSON.stringify(header)): Uint8Array {
  const text = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  out.set(data, 8 + text.length);
  return out;
}
const f32 = (...xs: number[]) => new Uint8Array(Float32Array.from(xs).buffer);

/** The message of the InputError parsing throws (the file is named `m.safetensors`). */
function error(bytes: Uint8Array, dtypes?: Parameters<typeof parseSafetensors>[2]): string {
  try {
    parseSafetensors(bytes, 'm.safetensors', dtypes);
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as Error).message;
  }
  throw new Error('parseSafetensors did not throw');
}

describe('parseSafetensors reads', () => {
  it('F64, F32, F16 and BF16 tensors at their offsets, and the metadata', () => {
    const data = new Uint8Array(8 + 8 + 2 + 2);
    const v = new DataView(data.buffer);
    v.setFloat64(0, -1.25, true);
    v.setFloat32(8, 0.5, true);
    v.setFloat32(12, 3, true);
    v.setUint16(16, 0x3c00, true); // binary16 1.0
    v.setUint16(18, 0xc040, true); // bfloat16 -3.0 (float32 0xc0400000)
    const bytes = file(
      {
        __metadata__: { arch: 'fq-bmru' },
        a: { dtype: 'F64', shape: [], data_offsets: [0, 8] },
        b: { dtype: 'F32', shape: [2, 1], data_offsets: [8, 16] },
        c: { dtype: 'F16', shape: [1], data_offsets: [16, 18] },
        d: { dtype: 'BF16', shape: [1], data_offsets: [18, 20] },
      },
      data,
    );
    const { tensors, metadata } = parseSafetensors(bytes);
    expect(metadata).toEqual({ arch: 'fq-bmru' });
    const plain = (t: Tensor | undefined) => ({ shape: t!.shape, data: [...t!.data] });
    expect(['a', 'b', 'c', 'd'].map((k) => plain(tensors.get(k)))).toEqual([
      { shape: [], data: [-1.25] },
      { shape: [2, 1], data: [0.5, 3] },
      { shape: [1], data: [1] },
      { shape: [1], data: [-3] },
    ]);
  });

  it('an empty tensor, and no metadata as {}', () => {
    const { tensors, metadata } = parseSafetensors(file({ e: { dtype: 'F32', shape: [0, 3], data_offsets: [0, 0] } }));
    expect(metadata).toEqual({});
    expect(tensors.get('e')).toEqual({ shape: [0, 3], data: new Float64Array(0) });
  });

  it('I64 where asked, exact up to 2^53', () => {
    const data = new Uint8Array(16);
    new DataView(data.buffer).setBigInt64(0, -7n, true);
    new DataView(data.buffer).setBigInt64(8, 2n ** 53n - 1n, true);
    const bytes = file({ y: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, data);
    expect([...parseSafetensors(bytes, 'f', ['I64']).tensors.get('y')!.data]).toEqual([-7, 2 ** 53 - 1]);
    new DataView(data.buffer).setBigInt64(8, 2n ** 53n + 1n, true);
    expect(error(file({ y: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, data), ['I64'])).toBe(
      "m.safetensors 'y' at index 1: expected an integer within +-2^53 (read as a float64 exactly), got 9007199254740992",
    );
    // The first value out of range is index 0 (2^53 + 1 reads as 2^53, the nearest float64).
    new DataView(data.buffer).setBigInt64(0, -(2n ** 53n) - 1n, true);
    expect(error(file({ y: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, data), ['I64'])).toContain(
      "'y' at index 0: expected an integer within +-2^53",
    );
  });
});

describe('parseSafetensors refuses, naming the file and the field', () => {
  it('a file shorter than the 8-byte length', () =>
    expect(error(new Uint8Array(7))).toBe(
      'm.safetensors: expected a safetensors file (8-byte header length), file too short',
    ));

  it('a header length past the end of the file', () => {
    const bytes = file({});
    new DataView(bytes.buffer).setBigUint64(0, 3n, true); // "{}" is 2 bytes: 3 reaches past the 10-byte file
    expect(error(bytes.subarray(0, 10))).toBe(
      "m.safetensors 'header': expected a safetensors file (an 8-byte little-endian header length, then a JSON header); the first 8 bytes give a header length of 3, beyond the file size 10",
    );
    new DataView(bytes.buffer).setBigUint64(0, 2n, true);
    expect(parseSafetensors(bytes.subarray(0, 10)).tensors.size).toBe(0); // exactly to the end is fine
  });

  it('a header length over 100 MB, even in a file that long', () => {
    const bytes = new Uint8Array(16);
    new DataView(bytes.buffer).setBigUint64(0, 100_000_001n, true);
    expect(error(bytes)).toContain('header length of 100000001');
    // A file long enough to hold it (100 MB of zero bytes): refused on the length, before the header is decoded.
    const long = new Uint8Array(8 + 100_000_001);
    new DataView(long.buffer).setBigUint64(0, 100_000_001n, true);
    expect(error(long)).toContain('header length of 100000001, beyond the file size 100000009');
    // Exactly 100 MB ("{}" and spaces, as the writer pads) is the format's limit, and read.
    const limit = new Uint8Array(8 + 100_000_000).fill(0x20);
    new DataView(limit.buffer).setBigUint64(0, 100_000_000n, true);
    limit.set([0x7b, 0x7d], 8);
    expect(parseSafetensors(limit).tensors.size).toBe(0);
  });

  it('an 8-byte file of length 0 has a header, an empty one: not JSON', () => {
    expect(error(new Uint8Array(8))).toMatch(/^m\.safetensors 'header': header is not valid JSON \(/);
  });

  it('a header that is not JSON, or not an object', () => {
    expect(error(file(null, undefined, '{"a":'))).toMatch(/^m\.safetensors 'header': header is not valid JSON \(/);
    expect(error(file([]))).toBe("m.safetensors 'header': expected a JSON object of tensor entries, got a list");
    expect(error(file(null))).toBe("m.safetensors 'header': expected a JSON object of tensor entries, got null");
    expect(error(file(5))).toBe("m.safetensors 'header': expected a JSON object of tensor entries, got number 5");
    expect(error(file({ __metadata__: [1] }))).toBe(
      "m.safetensors '__metadata__': expected an object of string values, got a list",
    );
    expect(error(file({ __metadata__: 'x' }))).toBe(
      'm.safetensors \'__metadata__\': expected an object of string values, got string "x"',
    );
  });

  it('an entry that is not an object, or has a dtype, shape or data_offsets it cannot use', () => {
    const entry = (e: unknown) => error(file({ t: e }));
    expect(entry(null)).toBe("m.safetensors 't': expected a header entry object");
    expect(entry(3)).toBe("m.safetensors 't': expected a header entry object");
    expect(entry({ dtype: 'I32', shape: [1], data_offsets: [0, 4] })).toBe(
      'm.safetensors \'t\': expected dtype F16, BF16, F32 or F64, got "I32"',
    );
    for (const shape of [undefined, [1.5], [-1], '3'])
      expect(entry({ dtype: 'F32', shape, data_offsets: [0, 4] })).toBe(
        `m.safetensors 't': expected shape as a list of non-negative integers, got ${JSON.stringify(shape)}`,
      );
    for (const offsets of [undefined, [0], [0, 4, 8], [0, 4.5], '0,4'])
      expect(entry({ dtype: 'F32', shape: [1], data_offsets: offsets })).toBe(
        `m.safetensors 't': expected data_offsets [begin, end], got ${JSON.stringify(offsets)}`,
      );
  });

  it('offsets out of order, past the data, misaligned, or not the size the shape needs', () => {
    const at = (offsets: number[], shape = [1], data = f32(1, 2)) =>
      error(file({ t: { dtype: 'F32', shape, data_offsets: offsets } }, data));
    expect(at([-4, 0], [0])).toBe("m.safetensors 't': data_offsets [-4, 0]: expected 0 <= begin <= end");
    expect(at([4, 0], [0])).toBe("m.safetensors 't': data_offsets [4, 0]: expected 0 <= begin <= end");
    const fileBytes = file({ t: { dtype: 'F32', shape: [1], data_offsets: [4, 12] } }, f32(1, 2)).length;
    expect(at([4, 12])).toBe(
      `m.safetensors 't': data_offsets [4, 12] reach beyond the 8-byte data section (the file has ${fileBytes} bytes in all)`,
    );
    expect(at([2, 6])).toBe(
      "m.safetensors 't': data_offsets [2, 6]: begin 2 is not a multiple of 4 bytes (one F32 value); the tensor is not aligned",
    );
    expect(at([0, 8], [3])).toBe(
      "m.safetensors 't': shape [3] of F32 is 3 values = 12 bytes, but data_offsets [0, 8] span 8 bytes",
    );
    expect(at([4, 12], [1, 3], f32(1, 2, 3))).toBe(
      "m.safetensors 't': shape [1, 3] of F32 is 3 values = 12 bytes, but data_offsets [4, 12] span 8 bytes",
    );
    // The limits themselves are fine: begin = end, end = the data's length.
    expect(() =>
      parseSafetensors(file({ t: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, f32(1, 2))),
    ).not.toThrow();
    expect(() =>
      parseSafetensors(file({ t: { dtype: 'F32', shape: [0], data_offsets: [8, 8] } }, f32(1, 2))),
    ).not.toThrow();
  });

  it('two tensors sharing bytes, naming the later and the earlier', () => {
    const header = {
      b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
    };
    expect(error(file(header, f32(1, 2, 3)))).toBe(
      "m.safetensors 'b': data_offsets [4, 12] overlap those of 'a' [0, 8]: expected each tensor in bytes of its own",
    );
    // Back to back, and an empty tensor inside another's bytes, share nothing.
    const apart = {
      b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
      a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
      e: { dtype: 'F32', shape: [0], data_offsets: [4, 4] },
    };
    expect([...parseSafetensors(file(apart, f32(1, 2))).tensors.get('b')!.data]).toEqual([2]);
  });
});

describe('writeSafetensors lays the file out as the reference writer does', () => {
  const t = (data: number[], shape = [data.length]): Tensor => ({ shape, data: Float64Array.from(data) });
  const headerOf = (bytes: Uint8Array) => {
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    return { n, json: new TextDecoder().decode(bytes.subarray(8, 8 + n)) };
  };

  it('pads the header with spaces so the data starts on a multiple of 8 bytes', () => {
    const bytes = writeSafetensors(new Map([['x', t([1.5])]]), { k: 'v' }, 'F32');
    const { n, json } = headerOf(bytes);
    const plain = '{"__metadata__":{"k":"v"},"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
    expect(json.trimEnd()).toBe(plain);
    expect((8 + n) % 8).toBe(0);
    expect(n - plain.length).toBeLessThan(8);
    expect(bytes.length).toBe(8 + n + 4);
    expect(new DataView(bytes.buffer).getFloat32(8 + n, true)).toBe(1.5);
  });

  it('adds no padding when the header already ends on 8 bytes', () => {
    // {"__metadata__":{"k":"vvvvvvv"}} is 16 + 15 + 1 = 32 bytes: 8 + 32 is a multiple of 8.
    const { n, json } = headerOf(writeSafetensors(new Map(), { k: 'vvvvvvv' }));
    expect([n, json]).toEqual([32, '{"__metadata__":{"k":"vvvvvvv"}}']);
    // One byte shorter needs one space.
    expect(headerOf(writeSafetensors(new Map(), { k: 'vvvvvv' })).json).toBe('{"__metadata__":{"k":"vvvvvv"}} ');
  });

  it('puts wider dtypes first: an F64 tensor before an F32 one given earlier', () => {
    const bytes = writeSafetensors(
      new Map([
        ['small', t([2])],
        ['wide', t([3])],
      ]),
      {},
      'F32',
      { wide: 'F64' },
    );
    const header = JSON.parse(headerOf(bytes).json);
    expect([header.wide.data_offsets, header.small.data_offsets]).toEqual([
      [0, 8],
      [8, 12],
    ]);
    const back = parseSafetensors(bytes).tensors;
    expect([back.get('wide')!.data[0], back.get('small')!.data[0]]).toEqual([3, 2]);
  });

  it('writes BF16 as the top half of the float32, I64 as integers, and refuses a fraction as I64', () => {
    const bytes = writeSafetensors(
      new Map([
        ['h', t([-3])],
        ['i', t([-7])],
      ]),
      {},
      'BF16',
      { i: 'I64' },
    );
    const { n } = headerOf(bytes);
    const v = new DataView(bytes.buffer, 8 + n);
    expect(v.getBigInt64(0, true)).toBe(-7n); // I64 first (8 bytes wide)
    expect(v.getUint16(8, true)).toBe(0xc040);
    expect(() => writeSafetensors(new Map([['i', t([0.5])]]), {}, 'I64')).toThrow(
      'i: I64 takes integers within +-2^53, got 0.5',
    );
  });
});

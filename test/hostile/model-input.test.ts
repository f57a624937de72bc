/**
 * Hostile and degenerate model inputs: files that declare more than they hold, or describe networks that
 * compute nothing, must fail fast with an InputError naming the file and the field, before the toolkit
 * allocates anything from the declared sizes.
 */
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { networkMetadata, networkTensors, networkToJson, parseInputsCsv, parseModel, randomNetwork, writeSafetensors, type Tensor } from '../../src/model/index.js';
import { MAX_BLOCKS, MAX_FRAMES, MAX_WIDTH } from '../../src/model/limits.js';

const enc = new TextEncoder();
const net = randomNetwork({ inputs: 3, width: 4, blocks: 2, classes: 2, seed: 7 });

/** The error `fn` throws; fails the test when it throws none. */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error, none was thrown');
}

/** Asserts an InputError whose message contains every fragment; returns it. */
function expectInputError(fn: () => unknown, ...fragments: string[]): InputError {
  const e = thrown(fn);
  expect(e, e.stack).toBeInstanceOf(InputError);
  for (const f of fragments) expect(e.message).toContain(f);
  return e as InputError;
}

/** Bytes of a safetensors file with this header object and data section, exactly as given. */
function rawSafetensors(header: Record<string, unknown>, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const h = enc.encode(json);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

/** The example network's tensors as F64 safetensors, with metadata overrides. */
function safetensorsWith(meta: Record<string, string>, edit: (t: Map<string, Tensor>) => void = () => undefined): Uint8Array {
  const t = new Map(networkTensors(net));
  edit(t);
  return writeSafetensors(t, { ...networkMetadata(net), ...meta }, 'F64');
}

/** Zero-filled tensors of a network of the given shape (any dimension may be 0). */
function tensorsOfShape(s: { inputs: number; width: number; cells: number; classes: number; blocks: number }): Map<string, Tensor> {
  const t = new Map<string, Tensor>();
  const put = (name: string, shape: number[]) => t.set(name, { shape, data: new Float64Array(shape.reduce((a, b) => a * b, 1)) });
  put('pre.weight', [s.width, s.inputs]);
  put('pre.bias', [s.width]);
  for (let k = 0; k < s.blocks; k++) {
    put(`blocks.${k}.cand.weight`, [s.cells, s.width]);
    put(`blocks.${k}.cand.bias`, [s.cells]);
    for (const c of ['alpha', 'beta1', 'delta', 's0']) put(`blocks.${k}.cell.${c}`, [s.cells]);
    put(`blocks.${k}.post.weight`, [s.width, s.cells]);
    put(`blocks.${k}.post.bias`, [s.width]);
  }
  put('out.weight', [s.classes, s.width]);
  put('out.bias', [s.classes]);
  return t;
}

/** Heap plus array buffers (bytes): what a large allocation from a declared size would show up in. */
const allocatedBytes = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

describe('declared sizes are bounded before anything is allocated from them', () => {
  it('refuses a 2 KB safetensors file whose __metadata__.blocks is "1e7", fast and without allocating for 10 million blocks', () => {
    const small = tensorsOfShape({ inputs: 2, width: 2, cells: 2, classes: 2, blocks: 1 });
    const bytes = writeSafetensors(small, { arch: 'fq-bmru', blocks: '1e7', skip: 'true' }, 'F32');
    expect(bytes.length).toBeLessThan(2048);
    const before = allocatedBytes();
    const t0 = performance.now();
    const e = expectInputError(() => parseModel(bytes, 'bomb.safetensors'), 'bomb.safetensors', "'__metadata__.blocks'", `at most ${MAX_BLOCKS} blocks`, 'got 10000000');
    expect(performance.now() - t0).toBeLessThan(500);
    // Before the bound, this built 80 million tensor names (4.6 GB).
    expect(allocatedBytes() - before).toBeLessThan(50e6);
    expect(e.field).toBe('__metadata__.blocks');
  });

  it('refuses a JSON model with blocks = 100000000, naming the field', () => {
    const m = JSON.parse(networkToJson(net));
    m.blocks = 100_000_000;
    const before = allocatedBytes();
    expectInputError(() => parseModel(enc.encode(JSON.stringify(m)), 'bomb.json'), 'bomb.json', "'blocks'", `at most ${MAX_BLOCKS} blocks`);
    expect(allocatedBytes() - before).toBeLessThan(50e6);
  });

  it('says how many blocks the file holds when __metadata__.blocks declares more', () => {
    expectInputError(() => parseModel(safetensorsWith({ blocks: '5' }), 'm.safetensors'), "'blocks.2.cand.weight'", 'missing tensor', 'declares 5 blocks; the file holds tensors for 2');
  });

  it('does not allocate from a JSON tensor whose first rows promise more values than the text holds', () => {
    // Shape read along first elements: [2000, 2000, 2000] = 8e9 values (64 GB), from ~20 KB of text.
    const inner = Array.from({ length: 2000 }, () => 0);
    const middle: unknown[] = [inner, ...Array.from({ length: 1999 }, () => 0)];
    const outer: unknown[] = [middle, ...Array.from({ length: 1999 }, () => 0)];
    const m = JSON.parse(networkToJson(net));
    m.tensors['pre.weight'] = outer;
    const before = allocatedBytes();
    expectInputError(() => parseModel(enc.encode(JSON.stringify(m)), 'deep.json'), "'pre.weight'");
    expect(allocatedBytes() - before).toBeLessThan(50e6);
  });

  it(`refuses a width-100000 model at load (the width limit is ${MAX_WIDTH}) instead of building its circuit for minutes`, () => {
    const wide = tensorsOfShape({ inputs: 1, width: 100_000, cells: 1, classes: 2, blocks: 1 });
    const bytes = writeSafetensors(wide, { arch: 'fq-bmru', blocks: '1', skip: 'false' }, 'F32');
    const t0 = performance.now();
    expectInputError(() => parseModel(bytes, 'wide.safetensors'), 'wide.safetensors', "'pre.weight'", 'width H', 'is 100000', `at most ${MAX_WIDTH}`);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});

describe('input sequences', () => {
  it(`refuses a clip of more than ${MAX_FRAMES} frames, naming the file`, async () => {
    const text = '0\n'.repeat(MAX_FRAMES + 1);
    await expect(parseInputsCsv(text, 'long.csv')).rejects.toThrow(`long.csv: has ${MAX_FRAMES + 1} frames: expected at most ${MAX_FRAMES}`);
    expect((await parseInputsCsv('0\n'.repeat(MAX_FRAMES))).frames).toBe(MAX_FRAMES);
  });
});

describe('degenerate networks are refused at load', () => {
  const shape = { inputs: 3, width: 4, cells: 4, classes: 2, blocks: 2 };
  it.each([
    ['width 0', { width: 0, cells: 0 }, "'pre.weight'", 'width H (dim 0 of pre.weight) is 0'],
    ['0 cells', { cells: 0 }, "'blocks.0.cand.weight'", 'cells per block S (dim 0 of blocks.0.cand.weight) is 0'],
    ['0 classes', { classes: 0 }, "'out.weight'", 'classes C (dim 0 of out.weight) is 0'],
    ['0 inputs', { inputs: 0 }, "'pre.weight'", 'input features F (dim 1 of pre.weight) is 0'],
  ])('refuses %s naming the tensor', (_, change, field, rule) => {
    const bytes = writeSafetensors(tensorsOfShape({ ...shape, ...change }), { blocks: '2', cell_params: 'realised' }, 'F64');
    expectInputError(() => parseModel(bytes, 'zero.safetensors'), 'zero.safetensors', field, rule, 'expected an integer >= 1');
  });

  it('refuses 0 blocks in safetensors metadata and in JSON', () => {
    const bytes = writeSafetensors(tensorsOfShape({ ...shape, blocks: 0 }), { blocks: '0' }, 'F64');
    expectInputError(() => parseModel(bytes, 'zero.safetensors'), "'__metadata__.blocks'", 'at least 1 block');
    const m = JSON.parse(networkToJson(net));
    m.blocks = 0;
    expectInputError(() => parseModel(enc.encode(JSON.stringify(m)), 'zero.json'), "'blocks'", 'at least 1 block');
  });
});

describe('safetensors data_offsets', () => {
  const f64 = (values: number[]) => new Uint8Array(Float64Array.from(values).buffer);

  it('refuses overlapping tensors, naming both', () => {
    const bytes = rawSafetensors(
      { a: { dtype: 'F64', shape: [2], data_offsets: [0, 16] }, b: { dtype: 'F64', shape: [2], data_offsets: [8, 24] } },
      f64([1, 2, 3]),
    );
    expectInputError(() => parseModel(bytes, 'overlap.safetensors'), 'overlap.safetensors', "'b'", 'data_offsets [8, 24] overlap', "'a' [0, 16]");
  });

  it('refuses a tensor that does not start on a whole value', () => {
    const bytes = rawSafetensors({ a: { dtype: 'F64', shape: [1], data_offsets: [4, 12] } }, f64([1, 2]));
    expectInputError(() => parseModel(bytes, 'unaligned.safetensors'), "'a'", 'begin 4 is not a multiple of 8 bytes', 'not aligned');
  });

  it('refuses offsets beyond the file, saying how big the data section is', () => {
    const bytes = rawSafetensors({ a: { dtype: 'F64', shape: [512], data_offsets: [0, 4096] } }, f64([1]));
    expectInputError(() => parseModel(bytes, 'short.safetensors'), "'a'", 'data_offsets [0, 4096] reach beyond the 8-byte data section');
  });

  it('refuses offsets that run backwards', () => {
    const bytes = rawSafetensors({ a: { dtype: 'F64', shape: [0], data_offsets: [8, 0] } }, f64([1]));
    expectInputError(() => parseModel(bytes, 'back.safetensors'), "'a'", 'expected 0 <= begin <= end');
  });

  it('blames a shape that does not fit its offsets on the shape and the byte counts both', () => {
    const bytes = safetensorsWith({}, (t) => t.set('blocks.1.cand.weight', { shape: [4, 4], data: new Float64Array(12) }));
    const e = expectInputError(() => parseModel(bytes, 'm.safetensors'), "'blocks.1.cand.weight'");
    expect(e.message).toMatch(/shape \[4, 4\] of F64 is 16 values = 128 bytes, but data_offsets \[\d+, \d+\] span 96 bytes/);
  });

  it('refuses a shape whose product overflows without allocating it', () => {
    const bytes = rawSafetensors({ a: { dtype: 'F32', shape: [1e9, 1e9, 1e9], data_offsets: [0, 8] } }, f64([1]));
    expectInputError(() => parseModel(bytes, 'huge.safetensors'), "'a'", 'shape [1000000000, 1000000000, 1000000000] of F32', 'span 8 bytes');
  });
});

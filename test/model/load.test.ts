import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import {
  loadModel,
  networkMetadata,
  networkTensors,
  networkToJson,
  parseInputsCsv,
  parseModel,
  randomNetwork,
  saveModel,
  writeSafetensors,
  type Tensor,
} from '../../src/model/index.js';
import { CONFORMANCE_DIR, scratchDir } from '../helpers.js';

const tmp = scratchDir('bmru-load-');
const net = randomNetwork({ inputs: 3, width: 4, blocks: 2, classes: 2, seed: 7 });
const enc = new TextEncoder();

function jsonModel(edit: (m: any) => void): Uint8Array {
  const m = JSON.parse(networkToJson(net));
  edit(m);
  return enc.encode(JSON.stringify(m));
}

function safetensorsWith(edit: (t: Map<string, Tensor>) => void): Uint8Array {
  const t = new Map(networkTensors(net));
  edit(t);
  return writeSafetensors(t, networkMetadata(net), 'F64');
}

/** Asserts that parsing fails with an InputError whose message contains every fragment. */
function expectInputError(fn: () => unknown, ...fragments: string[]): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(InputError);
  for (const f of fragments) expect((err as Error).message).toContain(f);
}

describe('model files', () => {
  it('round-trips a network through JSON and safetensors (F64) unchanged', async () => {
    for (const file of ['m.json', 'm.safetensors']) {
      await saveModel(net, join(tmp, file));
      const back = await loadModel(join(tmp, file));
      expect(networkTensors(back)).toEqual(networkTensors(net));
      expect(back.skip).toBe(net.skip);
      expect(back.cellParams).toBe('realised');
    }
  });

  it('reads the shared conformance safetensors (F32) with its metadata', async () => {
    const m = await loadModel(join(CONFORMANCE_DIR, 'no-skip', 'model.safetensors'));
    expect([m.inputs, m.width, m.cells, m.classes, m.blocks.length, m.skip]).toEqual([5, 6, 3, 2, 2, false]);
    expect(m.unitCurrentA).toBe(1e-9);
  });

  it('rejects malformed JSON naming the file', () => {
    expectInputError(() => parseModel(enc.encode('{"arch": "fq-bmru", '), 'bad.json'), 'bad.json', 'valid JSON');
  });

  it('rejects a wrong tensor shape naming the tensor and both shapes', () => {
    const bytes = safetensorsWith((t) => t.set('blocks.1.cand.weight', { shape: [4, 3], data: new Float64Array(12) }));
    expectInputError(
      () => parseModel(bytes, 'm.safetensors'),
      'm.safetensors',
      "'blocks.1.cand.weight'",
      '[4, 4]',
      '[4, 3]',
    );
  });

  it('rejects NaN naming the tensor and the [row, col] index', () => {
    const bytes = jsonModel((m) => (m.tensors['pre.weight'][2][1] = null));
    expectInputError(() => parseModel(bytes, 'm.json'), "'pre.weight'", '[2, 1]', 'finite');
    const st = safetensorsWith((t) => {
      const w = Float64Array.from(t.get('out.weight')!.data);
      w[5] = Number.NaN;
      t.set('out.weight', { shape: [2, 4], data: w });
    });
    expectInputError(() => parseModel(st, 'm.safetensors'), "'out.weight'", '[1, 1]', 'NaN');
  });

  it("rejects a negative alpha when cell_params = 'realised', naming tensor and index", () => {
    const bytes = jsonModel((m) => (m.tensors['blocks.1.cell.alpha'][2] = -0.5));
    expectInputError(() => parseModel(bytes, 'm.json'), "'blocks.1.cell.alpha'", 'index 2', '>= 0');
  });

  it("accepts a negative alpha when cell_params = 'raw' (the model applies |.|)", () => {
    const bytes = jsonModel((m) => {
      m.cellParams = 'raw';
      m.tensors['blocks.1.cell.alpha'][2] = -0.5;
    });
    expect(parseModel(bytes).blocks[1].cell.alpha[2]).toBe(-0.5);
  });

  it('rejects unknown and missing tensors by name', () => {
    expectInputError(
      () =>
        parseModel(
          jsonModel((m) => (m.tensors['blocks.0.extra'] = [1])),
          'm.json',
        ),
      "'blocks.0.extra'",
      'unknown tensor',
    );
    expectInputError(
      () =>
        parseModel(
          jsonModel((m) => delete m.tensors['out.bias']),
          'm.json',
        ),
      "'out.bias'",
      'missing tensor',
    );
  });

  it('rejects a bad schema field naming it', () => {
    expectInputError(
      () =>
        parseModel(
          jsonModel((m) => (m.skip = 'yes')),
          'm.json',
        ),
      "'skip'",
    );
  });

  it('rejects a ragged JSON tensor naming the index', () => {
    expectInputError(
      () =>
        parseModel(
          jsonModel((m) => m.tensors['pre.weight'][1].pop()),
          'm.json',
        ),
      "'pre.weight'",
      'ragged',
    );
  });

  it('rejects a truncated safetensors file', () => {
    const bytes = safetensorsWith(() => undefined);
    expectInputError(
      () => parseModel(bytes.subarray(0, bytes.length - 8), 'cut.safetensors'),
      'cut.safetensors',
      'data_offsets',
    );
  });

  it('says a .safetensors file that is not one was expected to be safetensors, not JSON', () => {
    expectInputError(
      () => parseModel(enc.encode('frame,c0\n0,1\n1,2\n'), 'clip.safetensors'),
      'clip.safetensors',
      "'header'",
      'expected a safetensors file',
    );
  });

  it('says a file that is neither format was expected to be a JSON model or safetensors', () => {
    expectInputError(
      () => parseModel(enc.encode('hello'), 'm.json'),
      'm.json',
      'expected a JSON model or a safetensors file',
      'not valid JSON',
    );
  });

  it('still reads a JSON model whose name ends in .safetensors (the content decides)', () => {
    expect(
      parseModel(
        jsonModel(() => undefined),
        'misnamed.safetensors',
      ).blocks,
    ).toHaveLength(2);
  });

  it('rejects a safetensors __metadata__ that is not an object, instead of a TypeError', () => {
    const header = enc.encode('{"__metadata__":null}');
    const bytes = new Uint8Array(8 + header.length);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
    bytes.set(header, 8);
    expectInputError(
      () => parseModel(bytes, 'meta.safetensors'),
      'meta.safetensors',
      "'__metadata__'",
      'expected an object of string values, got null',
    );
  });

  it('says what a JSON tensor may hold when it holds a string', () => {
    expectInputError(
      () =>
        parseModel(
          jsonModel((m) => (m.tensors['pre.bias'][0] = 'x')),
          'm.json',
        ),
      "'tensors.pre.bias'",
      'expected a number or nested lists of numbers',
    );
  });

  it('reports an unreadable model path with the OS error code', async () => {
    // The code alone, not the OS message (which also says ENOENT, with the path again).
    const path = join(tmp, 'nope.json');
    await expect(loadModel(path)).rejects.toThrow(new InputError('cannot read model file (ENOENT)', { file: path }));
  });
});

describe('input CSV', () => {
  it('reads a headerless file and a file with a header alike', async () => {
    const a = await parseInputsCsv('1,2\n3,4\n');
    const b = await parseInputsCsv('x0,x1\n1,2\n3,4\n');
    expect(Array.from(a.data)).toEqual([1, 2, 3, 4]);
    expect(Array.from(b.data)).toEqual([1, 2, 3, 4]);
    expect(b.header).toEqual(['x0', 'x1']);
  });

  it('names the file, row and column of a bad cell', async () => {
    await expect(parseInputsCsv('x0,x1\n1,2\n3,abc\n', 'in.csv')).rejects.toThrow(
      "in.csv 'row 3, column x1': expected a finite number, got 'abc'",
    );
  });

  it('names the row with a wrong column count', async () => {
    await expect(parseInputsCsv('1,2\n3\n', 'in.csv')).rejects.toThrow("in.csv 'row 2': expected 2 columns, got 1");
  });

  it('names the row as an editor numbers it when blank lines come before it', async () => {
    await expect(parseInputsCsv('a,b\n1,2\n\n  \n3,x\n', 'in.csv')).rejects.toThrow(
      "in.csv 'row 5, column b': expected a finite number, got 'x'",
    );
    const seq = await parseInputsCsv('a,b\n\n1,2\n\n3,4\n\n', 'in.csv');
    expect([seq.frames, Array.from(seq.data)]).toEqual([2, [1, 2, 3, 4]]);
  });

  it('reads the shared conformance inputs', async () => {
    const text = readFileSync(join(CONFORMANCE_DIR, 'kws-shape', 'inputs.csv'), 'utf8');
    const seq = await parseInputsCsv(text);
    expect([seq.frames, seq.features]).toEqual([101, 13]);
  });
});

/**
 * The JSON model format (src/model/json-format.ts's header: the safetensors tensors as nested lists in the PyTorch
 * layout plus the architecture fields) and how parseModel tells it from safetensors by content (src/model/load.ts).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import {
  networkMetadata,
  networkTensors,
  networkToJson,
  parseJsonModel,
  parseModel,
  randomNetwork,
  saveModel,
  writeSafetensors,
} from '../../src/model/index.js';

const net = () => randomNetwork({ inputs: 3, width: 4, blocks: 2, classes: 2, seed: 11 });
const withFields = (edit: (m: Record<string, unknown>) => void) => {
  const m = JSON.parse(networkToJson(net()));
  edit(m);
  return JSON.stringify(m);
};
const message = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as Error).message;
  }
  throw new Error('did not throw');
};

describe('networkToJson', () => {
  it('writes the format tag, description, architecture fields, 2-D tensors as rows and 1-D as lists', () => {
    const n = net();
    const text = networkToJson(n, 'a test model');
    expect(text.endsWith('}\n')).toBe(true);
    expect(text.split('\n')[1]).toBe(' "format": "bmru-model",'); // one space of indent per level
    const m = JSON.parse(text);
    expect(m).toMatchObject({
      format: 'bmru-model',
      description: 'a test model',
      arch: 'fq-bmru',
      blocks: 2,
      skip: n.skip,
      unitCurrentA: n.unitCurrentA,
      frameS: n.frameS,
      cellParams: n.cellParams,
    });
    // pre.weight is [width, inputs] = 4 rows of 3; pre.bias 4 numbers; out.weight [classes, width].
    expect(m.tensors['pre.weight']).toEqual([0, 1, 2, 3].map((r) => [...n.pre.weight.data.subarray(3 * r, 3 * r + 3)]));
    expect(m.tensors['pre.bias']).toEqual([...n.pre.bias]);
    expect(m.tensors['out.weight']).toHaveLength(2);
    expect(m.tensors['blocks.1.cell.s0']).toEqual([...n.blocks[1].cell.s0]);
    expect(Object.keys(m.tensors)).toHaveLength(2 + 8 * 2 + 2);
  });

  it('leaves out a missing description', () => {
    expect(JSON.parse(networkToJson(net()))).not.toHaveProperty('description');
  });
});

describe('networkMetadata and networkTensors', () => {
  it('give the contract names, shapes and metadata strings (DESIGN 1b)', () => {
    const n = net();
    expect(networkMetadata(n)).toEqual({
      arch: 'fq-bmru',
      blocks: '2',
      skip: String(n.skip),
      unit_current_a: String(n.unitCurrentA),
      frame_s: String(n.frameS),
      cell_params: n.cellParams,
    });
    const shapes = Object.fromEntries([...networkTensors(n)].map(([k, t]) => [k, t.shape]));
    expect(shapes).toMatchObject({
      'pre.weight': [4, 3],
      'pre.bias': [4],
      'blocks.0.cand.weight': [n.cells, 4],
      'blocks.0.cand.bias': [n.cells],
      'blocks.0.cell.alpha': [n.cells],
      'blocks.0.cell.beta1': [n.cells],
      'blocks.0.cell.delta': [n.cells],
      'blocks.0.cell.s0': [n.cells],
      'blocks.0.post.weight': [4, n.cells],
      'blocks.0.post.bias': [4],
      'out.weight': [2, 4],
      'out.bias': [2],
    });
  });
});

describe('parseJsonModel', () => {
  it('turns the camelCase fields into metadata strings, absent ones into undefined', () => {
    const { metadata } = parseJsonModel(
      withFields((m) => Object.assign(m, { unitCurrentA: 2e-9, frameS: 0.02, cellParams: 'raw' })),
    );
    expect(metadata).toEqual({
      arch: 'fq-bmru',
      blocks: '2',
      skip: String(net().skip),
      unit_current_a: '2e-9',
      frame_s: '0.02',
      cell_params: 'raw',
    });
    const bare = parseJsonModel(
      withFields((m) => {
        delete m.unitCurrentA;
        delete m.frameS;
        delete m.cellParams;
        delete m.format;
      }),
    ).metadata;
    expect([bare.unit_current_a, bare.frame_s, bare.cell_params]).toEqual([undefined, undefined, undefined]);
  });

  it('reads nested lists as (shape, row-major data), scalars as shape []', () => {
    const { tensors } = parseJsonModel(
      withFields((m) =>
        Object.assign(m, {
          tensors: {
            a: [
              [[1], [2]],
              [[3], [4]],
            ],
            s: 5,
          },
        }),
      ),
    );
    expect(tensors.get('a')).toEqual({ shape: [2, 2, 1], data: Float64Array.of(1, 2, 3, 4) });
    expect(tensors.get('s')).toEqual({ shape: [], data: Float64Array.of(5) });
  });

  it('names the field, the limit and the file of a bad architecture field', () => {
    expect(
      message(() =>
        parseJsonModel(
          withFields((m) => (m.blocks = 0)),
          'm.json',
        ),
      ),
    ).toContain('expected at least 1 block (a network without blocks has no cells)');
    expect(
      message(() =>
        parseJsonModel(
          withFields((m) => (m.blocks = 65)),
          'm.json',
        ),
      ),
    ).toContain("expected at most 64 blocks (the toolkit's limit, src/model/limits.ts)");
    expect(
      message(() =>
        parseJsonModel(
          withFields((m) => (m.format = 'other')),
          'm.json',
        ),
      ),
    ).toContain("'format'");
    expect(
      message(() =>
        parseJsonModel(
          withFields((m) => (m.unitCurrentA = 0)),
          'm.json',
        ),
      ),
    ).toContain("'unitCurrentA'");
    expect(
      message(() =>
        parseJsonModel(
          withFields((m) => (m.cellParams = 'x')),
          'm.json',
        ),
      ),
    ).toContain("'cellParams'");
  });

  it('names the index of a null and of a short row, with what was expected', () => {
    expect(
      message(() =>
        parseJsonModel(
          withFields(
            (m) =>
              (m.tensors = {
                t: [
                  [1, 2],
                  [3, null],
                ],
              }),
          ),
          'm.json',
        ),
      ),
    ).toBe("m.json 't' at index [1, 1]: expected a finite number, got null");
    expect(
      message(() =>
        parseJsonModel(
          withFields((m) => (m.tensors = { t: [[1, 2], [3]] })),
          'm.json',
        ),
      ),
    ).toBe("m.json 't' at index [1]: ragged array: expected 2 entries at depth 1");
    expect(
      message(() =>
        parseJsonModel(
          withFields((m) => (m.tensors = { t: [[1, 2], 3] })),
          'm.json',
        ),
      ),
    ).toBe("m.json 't' at index [1]: ragged array: expected 2 entries at depth 1");
  });
});

describe('parseModel tells the formats apart by content', () => {
  const safetensors = () => writeSafetensors(networkTensors(net()), networkMetadata(net()), 'F64');
  const json = () => new TextEncoder().encode(networkToJson(net()));

  it('reads safetensors under any name, and JSON with leading blanks under a .safetensors name', () => {
    expect(parseModel(safetensors(), 'model.json').blocks).toHaveLength(2);
    const padded = new TextEncoder().encode(` \n\t${networkToJson(net())}`);
    expect(parseModel(padded, 'MODEL.SAFETENSORS').blocks).toHaveLength(2);
    expect(parseModel(json()).blocks).toHaveLength(2);
  });

  it('gives a .safetensors name (any case) the safetensors complaint, another name the JSON one', () => {
    const notEither = new TextEncoder().encode('0123456789abcdef');
    expect(message(() => parseModel(notEither, 'x.SafeTensors'))).toContain('expected a safetensors file (an 8-byte');
    expect(message(() => parseModel(notEither, 'x.safetensors.bak'))).toContain(
      'expected a JSON model or a safetensors file',
    );
    // A brace after other text is not a JSON object opening the file: still the safetensors complaint.
    expect(message(() => parseModel(new TextEncoder().encode('ab{"c": 1}'), 'x.safetensors'))).toContain(
      'expected a safetensors file (an 8-byte',
    );
  });

  it('takes a header length of 0, or one past the end, for not safetensors', () => {
    // 8 length bytes then "{": safetensors only when the length is 1 .. (file size - 8).
    const bytes = (len: bigint, rest: string) => {
      const tail = new TextEncoder().encode(rest);
      const b = new Uint8Array(8 + tail.length);
      new DataView(b.buffer).setBigUint64(0, len, true);
      b.set(tail, 8);
      return b;
    };
    // Read as JSON: the complaint names both formats (safetensors' own would be "header is not valid JSON").
    expect(message(() => parseModel(bytes(0n, '{}'), 'm'))).toContain('expected a JSON model or a safetensors file');
    expect(message(() => parseModel(bytes(3n, '{}'), 'm'))).toContain('expected a JSON model or a safetensors file');
    // A length that fits but a header that does not open an object ('[' after the length) is not safetensors.
    expect(message(() => parseModel(bytes(2n, '[]'), 'm'))).toContain('expected a JSON model or a safetensors file');
    // Read as safetensors: no tensors, so a network of no blocks.
    expect(message(() => parseModel(bytes(2n, '{}'), 'm'))).toContain('expected at least 1 block');
    // 10 bytes at least: 9 are not safetensors whatever they hold.
    expect(message(() => parseModel(bytes(1n, '{x'), 'm'))).toContain('header is not valid JSON');
    expect(message(() => parseModel(bytes(1n, '{'), 'm'))).toContain('expected a JSON model or a safetensors file');
  });

  it('saveModel writes JSON for .json and safetensors for any other name', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bmru-jsonfmt-'));
    try {
      await saveModel(net(), join(dir, 'a.json'), 'described');
      await saveModel(net(), join(dir, 'a.bin'));
      expect(JSON.parse(await readFile(join(dir, 'a.json'), 'utf8')).description).toBe('described');
      const bin = await readFile(join(dir, 'a.bin'));
      expect(bin[8]).toBe(0x7b); // '{' after the 8-byte header length
      expect(JSON.parse(bin.subarray(8, 8 + Number(bin.readBigUInt64LE(0))).toString()).__metadata__.arch).toBe(
        'fq-bmru',
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

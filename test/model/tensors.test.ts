/**
 * buildNetwork's checks and defaults, called directly on hand-made tensor maps (the hostile-input suite reaches
 * them through files, but needs ngspice and is outside the mutation run). Every expected message is written out
 * from errors.ts's format, `<file> '<field>' [at index ..]: <rule>`, with the rule as the module states it.
 */
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import {
  buildNetwork,
  DEFAULT_FRAME_S,
  DEFAULT_UNIT_CURRENT_A,
  expectedTensorNames,
  unravel,
  type ModelMetadata,
  type Tensor,
} from '../../src/model/tensors.js';

const t = (shape: number[], ...v: number[]): Tensor => ({ shape, data: Float64Array.from(v) });
const fill = (shape: number[], value: number): Tensor =>
  t(shape, ...Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => value + i / 8));

/** Tensors of a network with F inputs, width H, S cells, C classes and `blocks` blocks; values distinct per tensor. */
function tensorsOf(F: number, H: number, S: number, C: number, blocks: number): Map<string, Tensor> {
  const m = new Map<string, Tensor>();
  m.set('pre.weight', fill([H, F], 1));
  m.set('pre.bias', fill([H], 2));
  for (let k = 0; k < blocks; k++) {
    m.set(`blocks.${k}.cand.weight`, fill([S, H], 3 + 10 * k));
    m.set(`blocks.${k}.cand.bias`, fill([S], 4 + 10 * k));
    m.set(`blocks.${k}.cell.alpha`, fill([S], 5 + 10 * k));
    m.set(`blocks.${k}.cell.beta1`, fill([S], 6 + 10 * k));
    m.set(`blocks.${k}.cell.delta`, fill([S], 7 + 10 * k));
    m.set(`blocks.${k}.cell.s0`, fill([S], 0));
    m.set(`blocks.${k}.post.weight`, fill([H, S], 8 + 10 * k));
    m.set(`blocks.${k}.post.bias`, fill([H], 9 + 10 * k));
  }
  m.set('out.weight', fill([C, H], -1));
  m.set('out.bias', fill([C], -2));
  return m;
}

/** The InputError `fn` throws (fails when it throws none or another kind). */
function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('expected an InputError, none was thrown');
}

const F = 2;
const H = 3;
const S = 2;
const C = 2;

describe('expectedTensorNames', () => {
  it('lists pre, each block (cand, the four cell tensors, post) and out, in file order', () => {
    expect(expectedTensorNames(2)).toEqual([
      'pre.weight',
      'pre.bias',
      'blocks.0.cand.weight',
      'blocks.0.cand.bias',
      'blocks.0.cell.alpha',
      'blocks.0.cell.beta1',
      'blocks.0.cell.delta',
      'blocks.0.cell.s0',
      'blocks.0.post.weight',
      'blocks.0.post.bias',
      'blocks.1.cand.weight',
      'blocks.1.cand.bias',
      'blocks.1.cell.alpha',
      'blocks.1.cell.beta1',
      'blocks.1.cell.delta',
      'blocks.1.cell.s0',
      'blocks.1.post.weight',
      'blocks.1.post.bias',
      'out.weight',
      'out.bias',
    ]);
  });
});

describe('unravel', () => {
  it('turns a flat row-major index into one index per dimension', () => {
    expect(unravel(5, [2, 3])).toEqual([1, 2]); // 5 = 1 * 3 + 2
    expect(unravel(0, [2, 3])).toEqual([0, 0]);
    expect(unravel(23, [2, 3, 4])).toEqual([1, 2, 3]); // 23 = 1 * 12 + 2 * 4 + 3
    expect(unravel(13, [2, 3, 4])).toEqual([1, 0, 1]); // 13 = 1 * 12 + 0 * 4 + 1
  });

  it('keeps the flat index of a vector or a scalar', () => {
    expect(unravel(4, [7])).toBe(4);
    expect(unravel(0, [])).toBe(0);
  });
});

describe('buildNetwork', () => {
  it('builds the layers from the tensors, with the documented defaults for absent metadata', () => {
    const tensors = tensorsOf(F, H, S, C, 2);
    const net = buildNetwork(tensors, { blocks: '2' }, 'm.st');
    expect(net).toMatchObject({
      arch: 'fq-bmru',
      inputs: F,
      width: H,
      cells: S,
      classes: C,
      skip: false, // S != H: no skip path possible
      unitCurrentA: 1e-9, // DESIGN §1b
      frameS: 0.01,
      cellParams: 'raw',
    });
    expect(DEFAULT_UNIT_CURRENT_A).toBe(1e-9);
    expect(DEFAULT_FRAME_S).toBe(0.01);
    expect('eps' in net).toBe(false);
    expect(net.pre.weight).toEqual({ rows: H, cols: F, data: tensors.get('pre.weight')!.data });
    expect(net.pre.bias).toBe(tensors.get('pre.bias')!.data);
    expect(net.blocks).toHaveLength(2);
    const b1 = net.blocks[1];
    expect(b1.cand.weight).toEqual({ rows: S, cols: H, data: tensors.get('blocks.1.cand.weight')!.data });
    expect(b1.cand.bias).toBe(tensors.get('blocks.1.cand.bias')!.data);
    expect(b1.post.weight).toEqual({ rows: H, cols: S, data: tensors.get('blocks.1.post.weight')!.data });
    expect(b1.post.bias).toBe(tensors.get('blocks.1.post.bias')!.data);
    for (const c of ['alpha', 'beta1', 'delta', 's0'] as const) {
      expect(b1.cell[c]).toBe(tensors.get(`blocks.1.cell.${c}`)!.data);
    }
    expect(net.out.weight).toEqual({ rows: C, cols: H, data: tensors.get('out.weight')!.data });
    expect(net.out.bias).toBe(tensors.get('out.bias')!.data);
  });

  it('reads the metadata it is given: arch and eps, skip, unit current, frame length, cell convention', () => {
    const net = buildNetwork(tensorsOf(F, H, H, C, 1), {
      arch: 'cmru-relaxed',
      eps: '0.25',
      skip: 'true',
      unit_current_a: '2e-10',
      frame_s: '0.02',
      cell_params: 'realised',
    });
    expect(net).toMatchObject({
      arch: 'cmru-relaxed',
      eps: 0.25,
      skip: true,
      unitCurrentA: 2e-10,
      frameS: 0.02,
      cellParams: 'realised',
    });
    expect(buildNetwork(tensorsOf(F, H, H, C, 1), { skip: 'false' }).skip).toBe(false);
    expect('eps' in buildNetwork(tensorsOf(F, H, S, C, 1), { arch: 'cmru' })).toBe(false);
  });

  it('counts the blocks from the tensors when the metadata does not say', () => {
    expect(buildNetwork(tensorsOf(F, H, S, C, 3), {}).blocks).toHaveLength(3);
  });

  it('refuses skip = true unless S = H, and a missing skip when S = H', () => {
    expect(inputError(() => buildNetwork(tensorsOf(F, H, S, C, 1), { skip: 'true' }, 'm.st')).message).toBe(
      "m.st '__metadata__.skip': 'true' needs S = H (a skip path adds h to the block output), but S = 2 and H = 3",
    );
    expect(inputError(() => buildNetwork(tensorsOf(F, H, H, C, 1), {}, 'm.st')).message).toBe(
      "m.st '__metadata__.skip': missing: with S = H = 3 the shapes cannot tell a network with a skip path from one " +
        'without; add it to the file\'s metadata, e.g. save_file(tensors, path, metadata={"arch": "fq-bmru", ' +
        '"blocks": "<L>", "skip": "true"})',
    );
    expect(inputError(() => buildNetwork(tensorsOf(F, H, H, C, 1), { skip: 'yes' }, 'm.st')).message).toBe(
      "m.st '__metadata__.skip': expected 'true' or 'false', got 'yes'",
    );
  });

  it('refuses a block count below 1 or above 64, naming where it came from', () => {
    const none = tensorsOf(F, H, S, C, 0);
    expect(inputError(() => buildNetwork(none, {}, 'm.st')).message).toBe(
      "m.st 'blocks.{k}': expected at least 1 block (a network without blocks has no cells), got 0",
    );
    // '0' is a non-negative integer: refused for the count, not as a malformed number.
    expect(inputError(() => buildNetwork(none, { blocks: '0' }, 'm.st')).message).toBe(
      "m.st '__metadata__.blocks': expected at least 1 block (a network without blocks has no cells), got 0",
    );
    expect(inputError(() => buildNetwork(tensorsOf(F, H, S, C, 1), { blocks: '65' }, 'm.st')).message).toBe(
      "m.st '__metadata__.blocks': expected at most 64 blocks (the toolkit's limit, src/model/limits.ts), got 65",
    );
    // 64 is allowed: the error is then about the tensors the file lacks, not the count.
    expect(inputError(() => buildNetwork(tensorsOf(F, H, S, C, 1), { blocks: '64' })).message).toMatch(
      /^'blocks\.1\.cand\.weight': missing tensor/,
    );
  });

  it('counts at most 65 blocks from the tensors, so 65 present is refused as too many', () => {
    expect(inputError(() => buildNetwork(tensorsOf(1, 1, 1, 1, 66), { skip: 'false' })).message).toBe(
      "'blocks.{k}': expected at most 64 blocks (the toolkit's limit, src/model/limits.ts), got 65",
    );
  });

  it('refuses a block count that is not a non-negative integer', () => {
    for (const bad of ['1.5', '-1', 'two']) {
      expect(inputError(() => buildNetwork(tensorsOf(F, H, S, C, 1), { blocks: bad }, 'm.st')).message).toBe(
        `m.st '__metadata__.blocks': expected a non-negative integer, got '${bad}'`,
      );
    }
  });

  it('refuses a unit current or frame length that is not a positive finite number', () => {
    for (const key of ['unit_current_a', 'frame_s'] as const) {
      for (const bad of ['0', '-1e-9', 'Infinity', 'abc']) {
        const meta: ModelMetadata = { [key]: bad };
        expect(inputError(() => buildNetwork(tensorsOf(F, H, S, C, 1), meta, 'm.st')).message).toBe(
          `m.st '__metadata__.${key}': expected a positive number, got '${bad}'`,
        );
      }
    }
  });

  it("refuses a cell_params other than 'raw' or 'realised'", () => {
    expect(inputError(() => buildNetwork(tensorsOf(F, H, S, C, 1), { cell_params: 'trained' }, 'm.st')).message).toBe(
      "m.st '__metadata__.cell_params': expected 'raw' or 'realised', got 'trained'",
    );
  });

  it('names the first unknown tensor and lists what the network has', () => {
    const tensors = tensorsOf(F, H, S, C, 1);
    tensors.set('blocks.0.cell.gamma', t([S], 1, 1));
    tensors.set('extra', t([1], 1));
    expect(inputError(() => buildNetwork(tensors, {}, 'm.st')).message).toBe(
      `m.st 'blocks.0.cell.gamma': unknown tensor (a 1-block network has: ${expectedTensorNames(1).join(', ')})`,
    );
  });

  it('names the first missing tensor, and says how many blocks the file holds when the metadata declares more', () => {
    const tensors = tensorsOf(F, H, S, C, 2);
    tensors.delete('blocks.1.cell.delta');
    tensors.delete('out.bias');
    expect(inputError(() => buildNetwork(tensors, { blocks: '2' }, 'm.st')).message).toBe(
      "m.st 'blocks.1.cell.delta': missing tensor",
    );
    expect(inputError(() => buildNetwork(tensorsOf(F, H, S, C, 2), { blocks: '3' }, 'm.st')).message).toBe(
      "m.st 'blocks.2.cand.weight': missing tensor (__metadata__.blocks declares 3 blocks; the file holds tensors for 2)",
    );
    // Counted blocks: the count comes from the tensors, so there is nothing to add.
    const noOut = tensorsOf(F, H, S, C, 1);
    noOut.delete('out.weight');
    expect(inputError(() => buildNetwork(noOut, {}, 'm.st')).message).toBe("m.st 'out.weight': missing tensor");
  });

  it('names a non-finite value by tensor and [row, col] index', () => {
    const tensors = tensorsOf(F, H, S, C, 1);
    tensors.get('blocks.0.post.weight')!.data[5] = Number.NEGATIVE_INFINITY; // [H = 3, S = 2]: 5 = [2, 1]
    expect(inputError(() => buildNetwork(tensors, {}, 'm.st')).message).toBe(
      "m.st 'blocks.0.post.weight' at index [2, 1]: expected a finite number, got -Infinity",
    );
  });

  it('names a non-finite value or a negative realised parameter at the first index too', () => {
    const tensors = tensorsOf(F, H, S, C, 1);
    tensors.get('pre.bias')!.data[0] = Number.NaN;
    expect(inputError(() => buildNetwork(tensors, {}, 'm.st')).message).toBe(
      "m.st 'pre.bias' at index 0: expected a finite number, got NaN",
    );
    const realised = tensorsOf(F, H, S, C, 1);
    realised.set('blocks.0.cell.delta', t([S], -0.5, 1));
    expect(inputError(() => buildNetwork(realised, { cell_params: 'realised' }, 'm.st')).message).toBe(
      "m.st 'blocks.0.cell.delta' at index 0: expected >= 0 (cell_params = 'realised'), got -0.5",
    );
  });

  it('refuses pre.weight and out.weight that are not matrices', () => {
    const pre = tensorsOf(F, H, S, C, 1);
    pre.set('pre.weight', t([6], 1, 2, 3, 4, 5, 6));
    expect(inputError(() => buildNetwork(pre, {}, 'm.st')).message).toBe(
      "m.st 'pre.weight': expected shape [H, F], got [6]",
    );
    const out = tensorsOf(F, H, S, C, 1);
    out.set('out.weight', t([1, 2, 3], 1, 2, 3, 4, 5, 6));
    expect(inputError(() => buildNetwork(out, {}, 'm.st')).message).toBe(
      "m.st 'out.weight': expected shape [C, H], got [1,2,3]",
    );
  });

  it('checks each dimension against its limit, naming the tensor it comes from', () => {
    const cases: [string, Map<string, Tensor>, string][] = [
      ['pre.weight', tensorsOf(F, 4097, S, C, 1), 'the width H (dim 0 of pre.weight) is 4097'],
      ['pre.weight', tensorsOf(4097, H, S, C, 1), 'the input features F (dim 1 of pre.weight) is 4097'],
      ['out.weight', tensorsOf(F, H, S, 4097, 1), 'the classes C (dim 0 of out.weight) is 4097'],
      [
        'blocks.0.cand.weight',
        tensorsOf(F, H, 4097, C, 1),
        'the cells per block S (dim 0 of blocks.0.cand.weight) is 4097',
      ],
    ];
    for (const [field, tensors, what] of cases) {
      expect(inputError(() => buildNetwork(tensors, {}, 'm.st')).message).toBe(
        `m.st '${field}': ${what}: expected at most 4096 (the toolkit's limit, src/model/limits.ts)`,
      );
    }
  });

  it('takes S from blocks.0.cand.weight and refuses a zero-length first dimension there', () => {
    const tensors = tensorsOf(F, H, S, C, 1);
    tensors.set('blocks.0.cand.weight', t([]));
    expect(inputError(() => buildNetwork(tensors, {}, 'm.st')).message).toBe(
      "m.st 'blocks.0.cand.weight': the cells per block S (dim 0 of blocks.0.cand.weight) is 0: expected an integer >= 1 " +
        '(a network with no the cells per block S (dim 0 of blocks.0.cand.weight) computes nothing)',
    );
  });

  it('checks every other tensor against the shape the dimensions imply', () => {
    const tensors = tensorsOf(F, H, S, C, 2);
    tensors.set('blocks.1.post.weight', fill([S, H], 0)); // transposed: [2, 3] where [3, 2] is due
    expect(inputError(() => buildNetwork(tensors, {}, 'm.st')).message).toBe(
      "m.st 'blocks.1.post.weight': expected shape [3, 2], got [2, 3]",
    );
    const bias = tensorsOf(F, H, S, C, 1);
    bias.set('out.bias', fill([C, 1], 0)); // the same count, one dimension more
    expect(inputError(() => buildNetwork(bias, {}, 'm.st')).message).toBe(
      "m.st 'out.bias': expected shape [2], got [2, 1]",
    );
    // One dimension fewer, matching the first: [H] where [H, S] is due.
    const flat = tensorsOf(F, H, S, C, 1);
    flat.set('blocks.0.post.weight', fill([H], 0));
    expect(inputError(() => buildNetwork(flat, {}, 'm.st')).message).toBe(
      "m.st 'blocks.0.post.weight': expected shape [3, 2], got [3]",
    );
    const cell = tensorsOf(F, H, S, C, 1);
    cell.set('blocks.0.cell.s0', t([S + 1], 0, 0, 0));
    expect(inputError(() => buildNetwork(cell, {}, 'm.st')).message).toBe(
      "m.st 'blocks.0.cell.s0': expected shape [2], got [3]",
    );
  });

  it("refuses a negative alpha, beta1 or delta when cell_params = 'realised', but not s0 and not when 'raw'", () => {
    for (const c of ['alpha', 'beta1', 'delta']) {
      const tensors = tensorsOf(F, H, S, C, 2);
      tensors.set(`blocks.1.cell.${c}`, t([S], 0.5, -0.25));
      expect(inputError(() => buildNetwork(tensors, { cell_params: 'realised' }, 'm.st')).message).toBe(
        `m.st 'blocks.1.cell.${c}' at index 1: expected >= 0 (cell_params = 'realised'), got -0.25`,
      );
      expect(buildNetwork(tensors, { cell_params: 'raw' }).blocks[1].cell[c as 'alpha']).toEqual(
        Float64Array.of(0.5, -0.25),
      );
    }
    const s0 = tensorsOf(F, H, S, C, 1);
    s0.set('blocks.0.cell.s0', t([S], -1, 0));
    expect(buildNetwork(s0, { cell_params: 'realised' }).blocks[0].cell.s0[0]).toBe(-1);
    const zero = tensorsOf(F, H, S, C, 1);
    zero.set('blocks.0.cell.alpha', t([S], 0, 0));
    expect(buildNetwork(zero, { cell_params: 'realised' }).blocks[0].cell.alpha).toEqual(Float64Array.of(0, 0));
  });
});

import { InputError } from '../errors.js';
import { checkDimension, MAX_BLOCKS, MAX_CLASSES, MAX_INPUTS, MAX_WIDTH } from './limits.js';
import { parseArchMeta } from './arch.js';
import type { Block, CellParamConvention, Linear, Matrix, Network } from './types.js';

/** A named tensor as read from a file: shape plus float64 values in row-major order. */
export interface Tensor {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

export type TensorMap = ReadonlyMap<string, Tensor>;

/** String metadata of the interchange contract (DESIGN §1b `__metadata__`). */
export interface ModelMetadata {
  readonly arch?: string;
  readonly blocks?: string;
  readonly skip?: string;
  readonly unit_current_a?: string;
  readonly frame_s?: string;
  readonly cell_params?: string;
  /** eps of the cumulative update: required for arch 'cmru-relaxed', optional ('1' / '0') for 'cmru' / 'fq-bmru'. */
  readonly eps?: string;
}

/** DESIGN §1b defaults. */
export const DEFAULT_UNIT_CURRENT_A = 1e-9;
export const DEFAULT_FRAME_S = 0.01;

const CELL_TENSORS = ['alpha', 'beta1', 'delta', 's0'] as const;

/**
 * `skip` from the metadata. A file without it (a plain `save_file(state_dict)` writes no metadata) is decided by
 * the shapes where they can (a skip path adds h to the block output, so it needs S = H) and refused where they
 * cannot: defaulting to either value would compute the other network without a word.
 */
function resolveSkip(value: string | undefined, cells: number, width: number, file?: string): boolean {
  const given = parseBoolMeta(value, file);
  if (given === true && cells !== width) {
    throw new InputError(
      `'true' needs S = H (a skip path adds h to the block output), but S = ${cells} and H = ${width}`,
      { file, field: '__metadata__.skip' },
    );
  }
  if (given !== undefined) return given;
  if (cells !== width) return false;
  throw new InputError(
    `missing: with S = H = ${width} the shapes cannot tell a network with a skip path from one without; add it to the file's metadata, ` +
      `e.g. save_file(tensors, path, metadata={"arch": "fq-bmru", "blocks": "<L>", "skip": "true"})`,
    { file, field: '__metadata__.skip' },
  );
}

/** Every tensor name a network of `blocks` blocks must carry, in file order. */
export function expectedTensorNames(blocks: number): string[] {
  const names = ['pre.weight', 'pre.bias'];
  for (let k = 0; k < blocks; k++) {
    names.push(`blocks.${k}.cand.weight`, `blocks.${k}.cand.bias`);
    for (const c of CELL_TENSORS) names.push(`blocks.${k}.cell.${c}`);
    names.push(`blocks.${k}.post.weight`, `blocks.${k}.post.bias`);
  }
  names.push('out.weight', 'out.bias');
  return names;
}

/**
 * Validate tensors + metadata against the interchange contract (names, shapes, finiteness, signs)
 * and build the network. Every error names the file, the tensor, the index and the rule.
 */
export function buildNetwork(tensors: TensorMap, meta: ModelMetadata, file?: string): Network {
  const at = (field: string, index?: number | number[]) => ({ file, field, index });
  const spec = parseArchMeta(meta, file);
  // Bounded before anything is built from it: `blocks = "1e7"` once allocated 80 million tensor names.
  const blocks = parseIntMeta(meta.blocks, 'blocks', file) ?? countBlocks(tensors);
  checkBlocks(blocks, meta.blocks === undefined ? 'blocks.{k}' : '__metadata__.blocks', file);
  const unitCurrentA = parsePositiveMeta(meta.unit_current_a, 'unit_current_a', file) ?? DEFAULT_UNIT_CURRENT_A;
  const frameS = parsePositiveMeta(meta.frame_s, 'frame_s', file) ?? DEFAULT_FRAME_S;
  const cellParams = (meta.cell_params ?? 'raw') as CellParamConvention;
  if (cellParams !== 'raw' && cellParams !== 'realised') {
    throw new InputError(`expected 'raw' or 'realised', got '${meta.cell_params}'`, at('__metadata__.cell_params'));
  }

  const expected = expectedTensorNames(blocks);
  const unknown = [...tensors.keys()].filter((n) => !expected.includes(n));
  if (unknown.length > 0) {
    throw new InputError(`unknown tensor (a ${blocks}-block network has: ${expected.join(', ')})`, at(unknown[0]));
  }
  const missing = expected.filter((n) => !tensors.has(n));
  if (missing.length > 0) {
    const held = countBlocks(tensors);
    const why =
      meta.blocks !== undefined && held < blocks
        ? ` (__metadata__.blocks declares ${blocks} blocks; the file holds tensors for ${held})`
        : '';
    throw new InputError(`missing tensor${why}`, at(missing[0]));
  }
  for (const name of expected) checkFinite(tensors.get(name)!, name, file);

  const preW = tensors.get('pre.weight')!;
  if (preW.shape.length !== 2) throw new InputError(`expected shape [H, F], got [${preW.shape}]`, at('pre.weight'));
  const [width, inputs] = preW.shape;
  const outW = tensors.get('out.weight')!;
  if (outW.shape.length !== 2) throw new InputError(`expected shape [C, H], got [${outW.shape}]`, at('out.weight'));
  const classes = outW.shape[0];
  const cells = tensors.get('blocks.0.cand.weight')!.shape[0] ?? 0;
  checkDimension('the width H (dim 0 of pre.weight)', width, MAX_WIDTH, at('pre.weight'));
  checkDimension('the input features F (dim 1 of pre.weight)', inputs, MAX_INPUTS, at('pre.weight'));
  checkDimension('the classes C (dim 0 of out.weight)', classes, MAX_CLASSES, at('out.weight'));
  checkDimension('the cells per block S (dim 0 of blocks.0.cand.weight)', cells, MAX_WIDTH, at('blocks.0.cand.weight'));
  const skip = resolveSkip(meta.skip, cells, width, file);

  const take = (name: string, shape: number[]) => expectShape(tensors.get(name)!, name, shape, file);
  const linear = (prefix: string, outN: number, inN: number): Linear => ({
    weight: toMatrix(take(`${prefix}.weight`, [outN, inN]), outN, inN),
    bias: take(`${prefix}.bias`, [outN]).data,
  });

  const pre = linear('pre', width, inputs);
  const blockList: Block[] = [];
  for (let k = 0; k < blocks; k++) {
    const cand = linear(`blocks.${k}.cand`, cells, width);
    const cellT = Object.fromEntries(
      CELL_TENSORS.map((c) => [c, take(`blocks.${k}.cell.${c}`, [cells]).data]),
    ) as Record<(typeof CELL_TENSORS)[number], Float64Array>;
    if (cellParams === 'realised') {
      for (const c of ['alpha', 'beta1', 'delta'] as const) checkNonNegative(cellT[c], `blocks.${k}.cell.${c}`, file);
    }
    const post = linear(`blocks.${k}.post`, width, cells);
    blockList.push({ cand, cell: cellT, post });
  }
  const out = linear('out', classes, width);
  return {
    arch: spec.arch,
    ...(spec.arch === 'cmru-relaxed' ? { eps: spec.eps } : {}),
    inputs,
    width,
    cells,
    classes,
    skip,
    unitCurrentA,
    frameS,
    cellParams,
    pre,
    blocks: blockList,
    out,
  };
}

/** Blocks L: at least one (the cells are the network's memory), at most MAX_BLOCKS. */
function checkBlocks(blocks: number, field: string, file?: string): void {
  if (blocks < 1)
    throw new InputError('expected at least 1 block (a network without blocks has no cells), got 0', { file, field });
  if (blocks > MAX_BLOCKS) {
    throw new InputError(
      `expected at most ${MAX_BLOCKS} blocks (the toolkit's limit, src/model/limits.ts), got ${blocks}`,
      { file, field },
    );
  }
}

/** Blocks whose candidate weights the file holds, counted from 0 (at most MAX_BLOCKS + 1 are looked for). */
function countBlocks(tensors: TensorMap): number {
  let n = 0;
  while (n <= MAX_BLOCKS && tensors.has(`blocks.${n}.cand.weight`)) n++;
  return n;
}

function parseIntMeta(value: string | undefined, key: string, file?: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    throw new InputError(`expected a non-negative integer, got '${value}'`, { file, field: `__metadata__.${key}` });
  }
  return n;
}

function parsePositiveMeta(value: string | undefined, key: string, file?: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) {
    throw new InputError(`expected a positive number, got '${value}'`, { file, field: `__metadata__.${key}` });
  }
  return n;
}

function parseBoolMeta(value: string | undefined, file?: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new InputError(`expected 'true' or 'false', got '${value}'`, { file, field: '__metadata__.skip' });
}

function expectShape(t: Tensor, name: string, shape: number[], file?: string): Tensor {
  const same = t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]);
  if (!same)
    throw new InputError(`expected shape [${shape.join(', ')}], got [${t.shape.join(', ')}]`, { file, field: name });
  return t;
}

function checkFinite(t: Tensor, name: string, file?: string): void {
  const i = t.data.findIndex((v) => !Number.isFinite(v));
  if (i >= 0)
    throw new InputError(`expected a finite number, got ${t.data[i]}`, {
      file,
      field: name,
      index: unravel(i, t.shape),
    });
}

function checkNonNegative(data: Float64Array, name: string, file?: string): void {
  const i = data.findIndex((v) => v < 0);
  if (i >= 0) {
    throw new InputError(`expected >= 0 (cell_params = 'realised'), got ${data[i]}`, { file, field: name, index: i });
  }
}

function toMatrix(t: Tensor, rows: number, cols: number): Matrix {
  return { rows, cols, data: t.data };
}

/** Flat index -> multi-index, so errors point at [row, col] rather than a flat offset. */
export function unravel(flat: number, shape: readonly number[]): number | number[] {
  if (shape.length <= 1) return flat;
  const idx: number[] = new Array(shape.length);
  let rest = flat;
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = rest % shape[d];
    rest = Math.floor(rest / shape[d]);
  }
  return idx;
}

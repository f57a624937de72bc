/**
 * The JSON model format: the same tensors as the safetensors contract (DESIGN §1b), as nested arrays in the
 * PyTorch layout, plus the architecture fields in camelCase. Example:
 *   { "format": "bmru-model", "arch": "fq-bmru", "blocks": 2, "skip": true, "unitCurrentA": 1e-9,
 *     "frameS": 0.01, "cellParams": "raw", "tensors": { "pre.weight": [[0.1, -0.2], ...], ... } }
 */
import { z } from 'zod';
import { InputError, parseWith } from '../errors.js';
import { cumulativeEps } from './arch.js';
import { MAX_BLOCKS } from './limits.js';
import type { ModelMetadata, Tensor } from './tensors.js';
import { expectedTensorNames } from './tensors.js';
import type { Network } from './types.js';

export const JSON_MODEL_FORMAT = 'bmru-model';

// zod's own message for a union that matches nothing is just "Invalid input": say what a tensor may hold.
const NestedNumbers: z.ZodType<unknown> = z.lazy(() =>
  z.union([z.number(), z.null(), z.array(NestedNumbers)], {
    error: 'expected a number or nested lists of numbers (a tensor in the PyTorch layout)',
  }),
);

const JsonModelSchema = z.object({
  format: z.literal(JSON_MODEL_FORMAT).optional(),
  description: z.string().optional(),
  // Validated with `eps` by arch.ts, as the safetensors metadata is, so both formats give the same errors.
  arch: z.string(),
  /** eps of the cumulative update (arch 'cmru-relaxed'). */
  eps: z.number().optional(),
  blocks: z
    .number()
    .int()
    .min(1, { error: 'expected at least 1 block (a network without blocks has no cells)' })
    .max(MAX_BLOCKS, { error: `expected at most ${MAX_BLOCKS} blocks (the toolkit's limit, src/model/limits.ts)` }),
  skip: z.boolean(),
  unitCurrentA: z.number().positive().optional(),
  frameS: z.number().positive().optional(),
  cellParams: z.enum(['raw', 'realised']).optional(),
  tensors: z.record(z.string(), NestedNumbers),
});

export type JsonModel = z.infer<typeof JsonModelSchema>;

/** Parse the JSON model text into tensors + metadata (shapes and values are validated by buildNetwork). */
export function parseJsonModel(text: string, file?: string): { tensors: Map<string, Tensor>; metadata: ModelMetadata } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InputError(`expected a JSON model or a safetensors file; not valid JSON (${(e as Error).message})`, {
      file,
    });
  }
  const m = parseWith(JsonModelSchema, raw, file);
  const tensors = new Map<string, Tensor>();
  for (const [name, value] of Object.entries(m.tensors)) tensors.set(name, nestedToTensor(value, name, file));
  const metadata: ModelMetadata = {
    arch: m.arch,
    blocks: String(m.blocks),
    skip: String(m.skip),
    unit_current_a: m.unitCurrentA !== undefined ? String(m.unitCurrentA) : undefined,
    frame_s: m.frameS !== undefined ? String(m.frameS) : undefined,
    cell_params: m.cellParams,
    eps: m.eps !== undefined ? String(m.eps) : undefined,
  };
  return { tensors, metadata };
}

/**
 * Nested arrays -> (shape, flat data); ragged arrays and non-numbers are errors naming the index. The shape is
 * read along the first element of each level, so it can promise far more values than the text holds
 * (`[[[1, ...1000 numbers], 0, ...], 0, ...]` reads as [n, n, 1000]): values are collected as they are found,
 * never allocated from the shape, and the first short list stops the walk.
 */
function nestedToTensor(value: unknown, name: string, file?: string): Tensor {
  const shape: number[] = [];
  for (let v = value; Array.isArray(v); v = v[0]) shape.push(v.length);
  const values: number[] = [];
  const walk = (v: unknown, depth: number, index: number[]): void => {
    if (depth === shape.length) {
      if (typeof v !== 'number') {
        throw new InputError(`expected a finite number, got ${JSON.stringify(v)}`, { file, field: name, index });
      }
      values.push(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) {
      throw new InputError(`ragged array: expected ${shape[depth]} entries at depth ${depth}`, {
        file,
        field: name,
        index,
      });
    }
    v.forEach((x, i) => walk(x, depth + 1, [...index, i]));
  };
  walk(value, 0, []);
  return { shape, data: Float64Array.from(values) };
}

/** The tensors of a network under their contract names (for writing JSON or safetensors). */
export function networkTensors(net: Network): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  const put = (name: string, shape: number[], data: Float64Array) => out.set(name, { shape, data });
  put('pre.weight', [net.width, net.inputs], net.pre.weight.data);
  put('pre.bias', [net.width], net.pre.bias);
  net.blocks.forEach((b, k) => {
    put(`blocks.${k}.cand.weight`, [net.cells, net.width], b.cand.weight.data);
    put(`blocks.${k}.cand.bias`, [net.cells], b.cand.bias);
    put(`blocks.${k}.cell.alpha`, [net.cells], b.cell.alpha);
    put(`blocks.${k}.cell.beta1`, [net.cells], b.cell.beta1);
    put(`blocks.${k}.cell.delta`, [net.cells], b.cell.delta);
    put(`blocks.${k}.cell.s0`, [net.cells], b.cell.s0);
    put(`blocks.${k}.post.weight`, [net.width, net.cells], b.post.weight.data);
    put(`blocks.${k}.post.bias`, [net.width], b.post.bias);
  });
  put('out.weight', [net.classes, net.width], net.out.weight.data);
  put('out.bias', [net.classes], net.out.bias);
  return out;
}

/** Metadata strings of the interchange contract for a network. */
export function networkMetadata(net: Network): Record<string, string> {
  return {
    arch: net.arch,
    ...(net.arch === 'cmru-relaxed' ? { eps: String(cumulativeEps(net)) } : {}),
    blocks: String(net.blocks.length),
    skip: String(net.skip),
    unit_current_a: String(net.unitCurrentA),
    frame_s: String(net.frameS),
    cell_params: net.cellParams,
  };
}

/** Serialise a network to the JSON model format. */
export function networkToJson(net: Network, description?: string): string {
  const tensors: Record<string, unknown> = {};
  for (const name of expectedTensorNames(net.blocks.length)) {
    const t = networkTensors(net).get(name)!;
    tensors[name] = t.shape.length === 2 ? rowsOf(t) : Array.from(t.data);
  }
  const model = {
    format: JSON_MODEL_FORMAT,
    description,
    arch: net.arch,
    ...(net.arch === 'cmru-relaxed' ? { eps: cumulativeEps(net) } : {}),
    blocks: net.blocks.length,
    skip: net.skip,
    unitCurrentA: net.unitCurrentA,
    frameS: net.frameS,
    cellParams: net.cellParams,
    tensors,
  };
  return JSON.stringify(model, null, 1) + '\n';
}

function rowsOf(t: Tensor): number[][] {
  const [rows, cols] = t.shape;
  return Array.from({ length: rows }, (_, r) => Array.from(t.data.subarray(r * cols, (r + 1) * cols)));
}

/**
 * The trainable parameters as one flat Float64Array (what the optimiser updates), laid out tensor by tensor
 * under the interchange contract's names (DESIGN §1b), plus the conversions to and from a `Network`.
 *
 * Cell parameters are trained in the contract's 'raw' convention: alpha, beta1, delta and s0 may take any
 * sign and the model uses |alpha|, |beta1|, |delta| and |s0| > 0.5 (src/model/types.ts `cellThresholds`).
 * That keeps every value the optimiser can reach a valid first-quadrant cell without a projection that would
 * stall a parameter at 0. The exported model is 'realised' (|.| applied, s0 as 0/1): the same network, so
 * `runNetwork` on the file reproduces the training forward pass exactly.
 */
import { createRng } from '../util/random.js';
import { DEFAULT_FRAME_S, DEFAULT_UNIT_CURRENT_A, expectedTensorNames } from '../model/tensors.js';
import type { Block, Linear, Network } from '../model/types.js';
import { S0_ON_THRESHOLD } from '../model/types.js';

/** What a tensor is, which decides weight decay and the realisability limits applied after each step. */
export type ParamKind = 'weight' | 'bias' | 'cell' | 's0';

/** One tensor's place in the flat vector. */
export interface ParamSlot {
  readonly name: string;
  readonly kind: ParamKind;
  readonly shape: readonly number[];
  readonly offset: number;
  readonly size: number;
}

/** Network shape (the architecture of DESIGN §1: pre-projection, L blocks of S cells, classifier). */
export interface NetShape {
  /** F: input features per frame (13 MFCCs). */
  readonly inputs: number;
  /** H: model width. */
  readonly width: number;
  /** L: recurrent blocks. */
  readonly blocks: number;
  /** C: classes. */
  readonly classes: number;
  /** Residual connection around each block (DESIGN §1; S = H with skip). */
  readonly skip: boolean;
}

/** Where every tensor sits in the flat parameter vector. */
export interface ParamLayout {
  readonly shape: NetShape;
  readonly slots: readonly ParamSlot[];
  readonly bySlot: ReadonlyMap<string, ParamSlot>;
  readonly size: number;
}

/** The flat layout of a network of this shape, tensors in contract order. */
export function paramLayout(shape: NetShape): ParamLayout {
  const { inputs: F, width: H, classes: C } = shape;
  const S = H; // cells per block = width (the reference KWS network, and what skip needs)
  const shapes: Record<string, number[]> = {
    'pre.weight': [H, F],
    'pre.bias': [H],
    'out.weight': [C, H],
    'out.bias': [C],
  };
  for (let k = 0; k < shape.blocks; k++) {
    shapes[`blocks.${k}.cand.weight`] = [S, H];
    shapes[`blocks.${k}.cand.bias`] = [S];
    for (const c of ['alpha', 'beta1', 'delta', 's0']) shapes[`blocks.${k}.cell.${c}`] = [S];
    shapes[`blocks.${k}.post.weight`] = [H, S];
    shapes[`blocks.${k}.post.bias`] = [H];
  }
  let offset = 0;
  const slots = expectedTensorNames(shape.blocks).map((name): ParamSlot => {
    const dims = shapes[name];
    const size = dims.reduce((a, b) => a * b, 1);
    const slot = { name, kind: kindOf(name), shape: dims, offset, size };
    offset += size;
    return slot;
  });
  return { shape, slots, bySlot: new Map(slots.map((s) => [s.name, s])), size: offset };
}

function kindOf(name: string): ParamKind {
  if (name.endsWith('.weight')) return 'weight';
  if (name.endsWith('.bias')) return 'bias';
  if (name.endsWith('.s0')) return 's0';
  return 'cell';
}

/** Initial value ranges (software units), each with where it comes from. */
export const INIT = {
  /** Cell thresholds and ON level as src/model/random.ts draws them (sized for the reference biases). */
  betaLo: [0.15, 0.8] as [number, number],
  delta: [0.1, 0.5] as [number, number],
  alpha: [0.4, 1.2] as [number, number],
  /** He-style uniform bound sqrt(6 / fan_in) for layers feeding a ReLU, scaled down by this for the classifier. */
  outScale: 0.5,
};

/** Seeded initial parameters: He-uniform weights, zero biases, cell values in the ranges of `INIT`. */
export function initParams(layout: ParamLayout, seed: number): Float64Array {
  const rng = createRng(seed);
  const theta = new Float64Array(layout.size);
  for (const slot of layout.slots) {
    const v = theta.subarray(slot.offset, slot.offset + slot.size);
    if (slot.kind === 'weight') {
      const fanIn = slot.shape[1];
      const bound = Math.sqrt(6 / fanIn) * (slot.name === 'out.weight' ? INIT.outScale : 1);
      for (let i = 0; i < v.length; i++) v[i] = rng.uniform(-bound, bound);
    } else if (slot.kind === 'cell') {
      const range = slot.name.endsWith('.alpha') ? INIT.alpha : slot.name.endsWith('.beta1') ? INIT.betaLo : INIT.delta;
      for (let i = 0; i < v.length; i++) v[i] = rng.uniform(range[0], range[1]);
    } else if (slot.kind === 's0') {
      // Start OFF (0 < 0.5): a cell powers up low unless training finds a reason to start it high.
      v.fill(0.25);
    }
    // biases start at 0
  }
  return theta;
}

/** View of one tensor inside a flat vector (no copy). */
export function tensorView(layout: ParamLayout, theta: Float64Array, name: string): Float64Array {
  const slot = layout.bySlot.get(name);
  if (!slot) throw new RangeError(`no tensor '${name}' in this layout`);
  return theta.subarray(slot.offset, slot.offset + slot.size);
}

/**
 * The network that `theta` describes, in the 'raw' convention, sharing memory with `theta` (no copy): the
 * training forward pass reads this, so updating `theta` updates the network.
 */
export function rawNetworkView(layout: ParamLayout, theta: Float64Array): Network {
  const { inputs: F, width: H, classes: C, blocks: L, skip } = layout.shape;
  const t = (name: string) => tensorView(layout, theta, name);
  const linear = (prefix: string, rows: number, cols: number): Linear => ({
    weight: { rows, cols, data: t(`${prefix}.weight`) },
    bias: t(`${prefix}.bias`),
  });
  const blocks: Block[] = Array.from({ length: L }, (_, k) => ({
    cand: linear(`blocks.${k}.cand`, H, H),
    cell: {
      alpha: t(`blocks.${k}.cell.alpha`),
      beta1: t(`blocks.${k}.cell.beta1`),
      delta: t(`blocks.${k}.cell.delta`),
      s0: t(`blocks.${k}.cell.s0`),
    },
    post: linear(`blocks.${k}.post`, H, H),
  }));
  return {
    arch: 'fq-bmru',
    inputs: F,
    width: H,
    cells: H,
    classes: C,
    skip,
    unitCurrentA: DEFAULT_UNIT_CURRENT_A,
    frameS: DEFAULT_FRAME_S,
    cellParams: 'raw',
    pre: linear('pre', H, F),
    blocks,
    out: linear('out', C, H),
  };
}

/**
 * The exported network: a copy in the 'realised' convention (alpha, beta1, delta = |raw|; s0 = 0 or 1).
 * Computes exactly what the raw network computes (cellThresholds applies |.| and > 0.5 to both).
 */
export function realisedNetwork(layout: ParamLayout, theta: Float64Array): Network {
  const raw = rawNetworkView(layout, theta.slice());
  const abs = (v: Float64Array) => v.map(Math.abs);
  return {
    ...raw,
    cellParams: 'realised',
    blocks: raw.blocks.map((b) => ({
      ...b,
      cell: {
        alpha: abs(b.cell.alpha),
        beta1: abs(b.cell.beta1),
        delta: abs(b.cell.delta),
        s0: b.cell.s0.map((v) => (Math.abs(v) > S0_ON_THRESHOLD ? 1 : 0)),
      },
    })),
  };
}

/** Flat parameters of an existing network (to continue training a model file); shapes must match `layout`. */
export function paramsFromNetwork(layout: ParamLayout, net: Network): Float64Array {
  const theta = new Float64Array(layout.size);
  const view = rawNetworkView(layout, theta);
  const copy = (dst: Linear, src: Linear) => {
    dst.weight.data.set(src.weight.data);
    dst.bias.set(src.bias);
  };
  if (
    net.inputs !== view.inputs ||
    net.width !== view.width ||
    net.cells !== view.cells ||
    net.classes !== view.classes ||
    net.blocks.length !== view.blocks.length
  ) {
    throw new RangeError(
      `model shape F=${net.inputs} H=${net.width} S=${net.cells} C=${net.classes} L=${net.blocks.length} does not match the training shape F=${view.inputs} H=${view.width} C=${view.classes} L=${view.blocks.length}`,
    );
  }
  copy(view.pre, net.pre);
  copy(view.out, net.out);
  net.blocks.forEach((b, k) => {
    copy(view.blocks[k].cand, b.cand);
    copy(view.blocks[k].post, b.post);
    for (const c of ['alpha', 'beta1', 'delta', 's0'] as const) view.blocks[k].cell[c].set(b.cell[c]);
  });
  return theta;
}

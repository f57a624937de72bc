import { describe, expect, it } from 'vitest';
import type { Network } from '../../src/model/types.js';
import {
  INIT,
  initParams,
  paramLayout,
  paramsFromNetwork,
  rawNetworkView,
  realisedNetwork,
  tensorView,
} from '../../src/train/params.js';

/** F = 3 inputs, H = S = 2, one block, C = 2 classes, skip. */
const SHAPE = { inputs: 3, width: 2, blocks: 1, classes: 2, skip: true };

describe('paramLayout', () => {
  it('lays the tensors out back to back in contract order, each with its kind and PyTorch shape', () => {
    const layout = paramLayout(SHAPE);
    // name, kind, shape, size (rows x cols), offset (the sum of the sizes before it).
    expect(layout.slots.map((s) => [s.name, s.kind, s.shape, s.size, s.offset])).toEqual([
      ['pre.weight', 'weight', [2, 3], 6, 0],
      ['pre.bias', 'bias', [2], 2, 6],
      ['blocks.0.cand.weight', 'weight', [2, 2], 4, 8],
      ['blocks.0.cand.bias', 'bias', [2], 2, 12],
      ['blocks.0.cell.alpha', 'cell', [2], 2, 14],
      ['blocks.0.cell.beta1', 'cell', [2], 2, 16],
      ['blocks.0.cell.delta', 'cell', [2], 2, 18],
      ['blocks.0.cell.s0', 's0', [2], 2, 20],
      ['blocks.0.post.weight', 'weight', [2, 2], 4, 22],
      ['blocks.0.post.bias', 'bias', [2], 2, 26],
      ['out.weight', 'weight', [2, 2], 4, 28],
      ['out.bias', 'bias', [2], 2, 32],
    ]);
    expect(layout.size).toBe(34);
    expect(layout.shape).toBe(SHAPE);
    expect(layout.bySlot.get('out.weight')).toBe(layout.slots[10]);
    expect(layout.bySlot.size).toBe(12);
  });

  it('gives C x H classifier weights and a block per L', () => {
    const layout = paramLayout({ inputs: 13, width: 4, blocks: 2, classes: 5, skip: false });
    expect(layout.bySlot.get('out.weight')!.shape).toEqual([5, 4]);
    expect(layout.bySlot.get('pre.weight')!.shape).toEqual([4, 13]);
    // pre: 4 x 13 + 4 = 56; a block: 16 + 4 + 4 x 4 + 16 + 4 = 56; out: 5 x 4 + 5 = 25 (at C = 2, 178: DESIGN §1).
    expect(layout.bySlot.get('blocks.1.post.bias')!.offset).toBe(56 + 56 + (16 + 4 + 4 * 4 + 16));
    expect(layout.size).toBe(56 + 2 * 56 + 25);
    expect(paramLayout({ inputs: 13, width: 4, blocks: 2, classes: 2, skip: true }).size).toBe(178);
  });
});

describe('initParams', () => {
  // Wide enough that the draws reach near both ends of each range: H = 64 cells, F = 13 inputs, C = 3 classes. Built
  // inside each test, not while vitest collects the file: a layout that throws must fail a test (docs/mutation.md).
  const wide = () => paramLayout({ inputs: 13, width: 64, blocks: 1, classes: 3, skip: true });
  const view = (name: string) => Array.from(tensorView(wide(), initParams(wide(), 5), name));
  /** Expect every value in [lo, hi] and the draws to come within 5% of the range to each end. */
  const spans = (values: number[], lo: number, hi: number) => {
    const margin = 0.05 * (hi - lo);
    expect(Math.min(...values)).toBeGreaterThanOrEqual(lo);
    expect(Math.max(...values)).toBeLessThanOrEqual(hi);
    expect(Math.min(...values)).toBeLessThan(lo + margin);
    expect(Math.max(...values)).toBeGreaterThan(hi - margin);
  };

  it('draws weights uniform within +-sqrt(6 / fan-in), the classifier within half of that', () => {
    spans(view('pre.weight'), -Math.sqrt(6 / 13), Math.sqrt(6 / 13));
    spans(view('blocks.0.cand.weight'), -Math.sqrt(6 / 64), Math.sqrt(6 / 64));
    spans(view('blocks.0.post.weight'), -Math.sqrt(6 / 64), Math.sqrt(6 / 64));
    spans(view('out.weight'), -0.5 * Math.sqrt(6 / 64), 0.5 * Math.sqrt(6 / 64));
    expect(INIT.outScale).toBe(0.5);
  });

  it('draws alpha, beta1 and delta in their ranges, starts every cell OFF (s0 0.25) and every bias at 0', () => {
    expect(INIT).toMatchObject({ alpha: [0.4, 1.2], betaLo: [0.15, 0.8], delta: [0.1, 0.5] });
    spans(view('blocks.0.cell.alpha'), 0.4, 1.2);
    spans(view('blocks.0.cell.beta1'), 0.15, 0.8);
    spans(view('blocks.0.cell.delta'), 0.1, 0.5);
    expect(view('blocks.0.cell.s0').every((v) => v === 0.25)).toBe(true);
    for (const b of ['pre.bias', 'blocks.0.cand.bias', 'blocks.0.post.bias', 'out.bias'])
      expect(view(b).every((v) => v === 0)).toBe(true);
  });

  it('is the same for the same seed and differs for another', () => {
    expect(initParams(wide(), 5)).toEqual(initParams(wide(), 5));
    expect(initParams(wide(), 6)).not.toEqual(initParams(wide(), 5));
  });
});

describe('tensorView and rawNetworkView', () => {
  it('views a tensor in place, and names a tensor the layout does not have', () => {
    const layout = paramLayout(SHAPE);
    const theta = new Float64Array(layout.size);
    tensorView(layout, theta, 'blocks.0.cell.delta').set([7, 8]);
    expect(Array.from(theta.subarray(18, 20))).toEqual([7, 8]);
    expect(() => tensorView(layout, theta, 'blocks.1.cell.delta')).toThrow(
      new RangeError("no tensor 'blocks.1.cell.delta' in this layout"),
    );
  });

  it("is the network theta describes, raw, sharing theta's memory", () => {
    const layout = paramLayout(SHAPE);
    const theta = Float64Array.from({ length: layout.size }, (_, i) => i);
    const net = rawNetworkView(layout, theta);
    expect(net).toMatchObject({
      arch: 'fq-bmru',
      inputs: 3,
      width: 2,
      cells: 2,
      classes: 2,
      skip: true,
      unitCurrentA: 1e-9,
      frameS: 0.01,
      cellParams: 'raw',
    });
    expect([net.pre.weight.rows, net.pre.weight.cols]).toEqual([2, 3]);
    expect([net.blocks[0].cand.weight.rows, net.blocks[0].cand.weight.cols]).toEqual([2, 2]);
    expect([net.out.weight.rows, net.out.weight.cols]).toEqual([2, 2]);
    expect(Array.from(net.pre.weight.data)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(Array.from(net.pre.bias)).toEqual([6, 7]);
    expect(Array.from(net.blocks[0].cand.bias)).toEqual([12, 13]);
    expect(Array.from(net.blocks[0].cell.alpha)).toEqual([14, 15]);
    expect(Array.from(net.blocks[0].cell.beta1)).toEqual([16, 17]);
    expect(Array.from(net.blocks[0].cell.delta)).toEqual([18, 19]);
    expect(Array.from(net.blocks[0].cell.s0)).toEqual([20, 21]);
    expect(Array.from(net.blocks[0].post.weight.data)).toEqual([22, 23, 24, 25]);
    expect(Array.from(net.blocks[0].post.bias)).toEqual([26, 27]);
    expect(Array.from(net.out.weight.data)).toEqual([28, 29, 30, 31]);
    expect(Array.from(net.out.bias)).toEqual([32, 33]);
    theta[32] = -1;
    expect(net.out.bias[0]).toBe(-1);
    expect(rawNetworkView(paramLayout({ ...SHAPE, skip: false }), theta).skip).toBe(false);
  });
});

describe('realisedNetwork', () => {
  it('applies |.| to alpha, beta1, delta and binarises s0 at |s0| > 0.5, in a copy', () => {
    const layout = paramLayout(SHAPE);
    const theta = new Float64Array(layout.size);
    const t = (name: string, v: number[]) => tensorView(layout, theta, name).set(v);
    t('blocks.0.cell.alpha', [-1.5, 2]);
    t('blocks.0.cell.beta1', [0.3, -0.2]);
    t('blocks.0.cell.delta', [-0.4, 0.1]);
    t('blocks.0.cell.s0', [-0.6, 0.5]);
    t('pre.weight', [-1, 2, -3, 4, -5, 6]);
    const net = realisedNetwork(layout, theta);
    expect(net.cellParams).toBe('realised');
    const cell = net.blocks[0].cell;
    expect(Array.from(cell.alpha)).toEqual([1.5, 2]);
    expect(Array.from(cell.beta1)).toEqual([0.3, 0.2]);
    expect(Array.from(cell.delta)).toEqual([0.4, 0.1]);
    expect(Array.from(cell.s0)).toEqual([1, 0]); // |-0.6| > 0.5; 0.5 itself is not
    expect(Array.from(net.pre.weight.data)).toEqual([-1, 2, -3, 4, -5, 6]); // weights keep their sign
    expect([net.inputs, net.width, net.classes, net.skip]).toEqual([3, 2, 2, true]);
    theta.fill(9);
    expect(net.pre.weight.data[0]).toBe(-1);
    expect(cell.alpha[0]).toBe(1.5);
  });
});

describe('paramsFromNetwork', () => {
  it('gives back the theta of a raw network view, every tensor', () => {
    const layout = paramLayout({ inputs: 3, width: 2, blocks: 2, classes: 3, skip: true });
    const theta = Float64Array.from({ length: layout.size }, (_, i) => i - 20.5);
    expect(paramsFromNetwork(layout, rawNetworkView(layout, theta))).toEqual(theta);
  });

  it('refuses a network of another shape, naming both', () => {
    const layout = paramLayout(SHAPE);
    const net = rawNetworkView(layout, new Float64Array(layout.size));
    const expectRefused = (other: Network) =>
      expect(() => paramsFromNetwork(layout, other)).toThrow(/does not match the training shape F=3 H=2 C=2 L=1$/);
    expectRefused({ ...net, inputs: 4 });
    expectRefused({ ...net, width: 3 });
    expectRefused({ ...net, cells: 3 });
    expectRefused({ ...net, classes: 3 });
    expectRefused({ ...net, blocks: [...net.blocks, net.blocks[0]] });
    expect(() => paramsFromNetwork(layout, { ...net, inputs: 4 })).toThrow(
      new RangeError('model shape F=4 H=2 S=2 C=2 L=1 does not match the training shape F=3 H=2 C=2 L=1'),
    );
    expect(() => paramsFromNetwork(layout, { ...net, blocks: [] })).toThrow(/^model shape F=3 H=2 S=2 C=2 L=0 /);
  });
});

import { describe, expect, it, vi } from 'vitest';
import type { LineChartSpec } from '../../src/plot/index.js';
import type { Network } from '../../src/model/types.js';
import type { TrainingData } from '../../src/train/data.js';
import {
  SMALL_WEIGHT,
  accuracyPlot,
  confusionHtml,
  csvText,
  historyCsvRows,
  lossPlot,
  parameterStats,
  signalStats,
  trainingPage,
} from '../../src/train/report.js';
import type { EpochRecord, SplitScore } from '../../src/train/trainer.js';

// The charts' specs, not their SVG: each "SVG" is the spec as JSON, so the series, marks and axes can be read back.
// The page itself is the real htmlPage (plot/html.ts); the mock keeps Vega out of this file's imports.
vi.mock('../../src/plot/index.js', async () => {
  const html = await import('../../src/plot/html.js');
  return {
    escapeHtml: html.escapeHtml,
    htmlPage: html.htmlPage,
    lineChart: async (spec: LineChartSpec) => JSON.stringify(spec),
  };
});

const score = (loss: number, accuracy: number, frameAccuracy: number): SplitScore => ({
  clips: 4,
  accuracy,
  frameAccuracy,
  loss,
  confusion: [
    [1, 1],
    [0, 2],
  ],
  perClass: [0.5, 1],
});

const epoch = (n: number, over: Partial<EpochRecord> = {}): EpochRecord => ({
  epoch: n,
  steps: 10 * n,
  lr: 0.001,
  cumulative: 0,
  forwardEps: 0,
  trainLoss: 0.7,
  penalty: 0,
  train: score(0.6, 0.5, 0.55),
  gradNorm: 1,
  clamped: 0,
  elapsedS: 1,
  ...over,
});

describe('historyCsvRows and csvText', () => {
  it('writes the header, then one row per epoch rounded to its column digits, blank for a missing validation', () => {
    const rows = historyCsvRows([
      epoch(1, {
        lr: 0.001234567891, // 8 digits: 0.00123457
        cumulative: 0.123456, // 4 digits: 0.1235
        forwardEps: 0.98765, // 4 digits: 0.9877
        trainLoss: 0.69314718, // 6 digits: 0.693147
        penalty: 0.0000004, // 6 digits: 0
        train: score(0.5, 0.75, 2 / 3),
        gradNorm: 1.23456789,
        clamped: 3,
        elapsedS: 12.3456, // 2 digits: 12.35
      }),
      epoch(2, { validation: score(0.4444444444, 0.8, 0.1234567) }),
    ]);
    expect(rows[0]).toEqual([
      'epoch',
      'steps',
      'lr',
      'cumulative_eps',
      'forward_eps',
      'train_loss_batches',
      'penalty_batches',
      'train_loss',
      'train_acc',
      'train_frame_acc',
      'val_loss',
      'val_acc',
      'val_frame_acc',
      'grad_norm',
      'clamped',
      'elapsed_s',
    ]);
    expect(rows[1]).toEqual([
      1,
      10,
      0.00123457,
      0.1235,
      0.9877,
      0.693147,
      0,
      0.5,
      0.75,
      0.666667,
      '',
      '',
      '',
      1.234568,
      3,
      12.35,
    ]);
    expect(rows[2]).toEqual([2, 20, 0.001, 0, 0, 0.7, 0, 0.6, 0.5, 0.55, 0.444444, 0.8, 0.123457, 1, 0, 1]);
    expect(rows).toHaveLength(3);
  });

  it('joins cells with commas and rows with newlines, ending in one', () => {
    expect(
      csvText([
        ['a', 'b'],
        [1, 2.5],
        ['', 3],
      ]),
    ).toBe('a,b\n1,2.5\n,3\n');
    expect(csvText([])).toBe('\n');
  });
});

describe('lossPlot and accuracyPlot', () => {
  const spec = async (svg: Promise<string>) => JSON.parse(await svg) as LineChartSpec;
  const withVal = [
    epoch(1, { trainLoss: 0.9, train: score(0.8, 0.5, 0.4), validation: score(0.85, 0.25, 0.3) }),
    epoch(2, { trainLoss: 0.7, train: score(0.6, 0.75, 0.6), validation: score(0.65, 0.5, 0.45) }),
  ];

  it('plots the batch loss dashed, the train loss and the validation loss per epoch, in nats', async () => {
    const s = await spec(lossPlot(withVal, 'Loss per epoch'));
    expect(s.title).toBe('Loss per epoch');
    expect(s.x).toEqual({ label: 'epoch', integer: true });
    expect(s.y).toEqual({ label: 'per-frame cross-entropy (nats)' });
    expect(s.series).toEqual([
      { name: 'train (batches, as trained)', x: [1, 2], y: [0.9, 0.7], mark: 'dashed' },
      { name: 'train', x: [1, 2], y: [0.8, 0.6] },
      { name: 'validation', x: [1, 2], y: [0.85, 0.65] },
    ]);
  });

  it('plots clip accuracy solid and frame accuracy dashed, for train and validation, on [0, 1]', async () => {
    const s = await spec(accuracyPlot(withVal, 'Accuracy per epoch'));
    expect(s.title).toBe('Accuracy per epoch');
    expect(s.x).toEqual({ label: 'epoch', integer: true });
    expect(s.y).toEqual({ label: 'accuracy (fraction)', domain: [0, 1] });
    expect(s.series).toEqual([
      { name: 'train clips', x: [1, 2], y: [0.5, 0.75] },
      { name: 'train frames', x: [1, 2], y: [0.4, 0.6], mark: 'dashed' },
      { name: 'validation clips', x: [1, 2], y: [0.25, 0.5] },
      { name: 'validation frames', x: [1, 2], y: [0.3, 0.45], mark: 'dashed' },
    ]);
  });

  it('leaves validation out unless every epoch has it', async () => {
    const partial = [epoch(1), withVal[1]];
    expect((await spec(lossPlot(partial, 't'))).series.map((x) => x.name)).toEqual([
      'train (batches, as trained)',
      'train',
    ]);
    expect((await spec(accuracyPlot(partial, 't'))).series.map((x) => x.name)).toEqual(['train clips', 'train frames']);
  });
});

describe('confusionHtml', () => {
  it('is one table, a header row of the decisions, then a row per true class with its diagonal cell in bold', () => {
    expect(
      confusionHtml(
        [
          [3, 1],
          [0, 4],
        ],
        ['other', 'a&b'],
      ),
    ).toBe(
      [
        '<table>',
        '<tr><th>true \\ decided</th><th>other</th><th>a&amp;b</th></tr>',
        '<tr><th>other</th><td><b>3</b></td><td>1</td></tr>',
        '<tr><th>a&amp;b</th><td>0</td><td><b>4</b></td></tr>',
        '</table>',
      ].join('\n'),
    );
  });
});

describe('trainingPage', () => {
  it('has the loss and accuracy sections with their captions, then one table per confusion matrix', async () => {
    const page = await trainingPage([epoch(1)], 'Training <run>', 'the caption', [
      {
        heading: 'Test clips',
        matrix: [
          [3, 1],
          [0, 4],
        ],
        classes: ['other', 'yes'],
      },
    ]);
    expect(page).toContain('<title>Training &lt;run&gt;</title>');
    const headings = [...page.matchAll(/<h2>(.*?)<\/h2>/g)].map((m) => m[1]);
    expect(headings).toEqual(['Loss', 'Accuracy', 'Test clips']);
    const captions = [...page.matchAll(/<figcaption>(.*?)<\/figcaption>/g)].map((m) => m[1]);
    expect(captions[0]).toBe('the caption');
    expect(captions[1]).toMatch(/^Clip accuracy: majority vote of per-frame argmax/);
    expect(captions[1]).toMatch(/Frame accuracy: per-frame argmax against the clip label\.$/);
    expect(captions[2]).toMatch(/^Clips of the kept checkpoint: rows the true class, columns the decision/);
    expect(page).toContain('"title":"Loss per epoch"');
    expect(page).toContain('"title":"Accuracy per epoch"');
    expect(page).toContain('<tr><th>yes</th><td>0</td><td><b>4</b></td></tr>');
    expect(await trainingPage([epoch(1)], 't', 'c')).not.toContain('<table>');
  });
});

/** A Float64Array from numbers. */
const f = (...v: number[]) => Float64Array.from(v);

describe('parameterStats', () => {
  // F = 1, H = S = 2, one block, C = 2, raw cell parameters (the stats read |.| through cellThresholds).
  const net: Network = {
    arch: 'fq-bmru',
    inputs: 1,
    width: 2,
    cells: 2,
    classes: 2,
    skip: true,
    unitCurrentA: 1e-9,
    frameS: 0.01,
    cellParams: 'raw',
    pre: { weight: { rows: 2, cols: 1, data: f(0.5, -3) }, bias: f(0.1, -0.2) },
    blocks: [
      {
        cand: { weight: { rows: 2, cols: 2, data: f(1, 0, 0.25, -1) }, bias: f(0, 0) },
        cell: { alpha: f(-2, 0.5), beta1: f(0.3, -0.1), delta: f(-0.4, 0.8), s0: f(-0.7, 0.2) },
        post: { weight: { rows: 2, cols: 2, data: f(0.1, 1, 1, 1) }, bias: f(0.05, 0) },
      },
    ],
    out: { weight: { rows: 2, cols: 2, data: f(1, -1, 2, -0.24) }, bias: f(0.3, -1) },
  };

  it('gives the ranges of |W|, the biases and the cell values, and counts the weights below 0.25', () => {
    const s = parameterStats(net);
    // 14 weights + 8 biases + 1 block x 4 cell tensors x 2 cells.
    expect(s.parameters).toBe(30);
    // |W|: 0.5 3 | 1 0 0.25 1 | 0.1 1 1 1 | 1 1 2 0.24: from 0 to 3; below 0.25: 0, 0.1, 0.24 (0.25 itself is not).
    expect(s.absWeight).toEqual([0, 3]);
    expect(s.weightsBelow).toEqual({ threshold: SMALL_WEIGHT, count: 3, of: 14 });
    expect(SMALL_WEIGHT).toBe(0.25);
    expect(s.bias).toEqual([-1, 0.3]);
    expect(s.alpha).toEqual([0.5, 2]);
    expect(s.betaLo).toEqual([0.1, 0.3]);
    // beta_hi = |beta1| + |delta| = 0.7 and 0.9; delta = beta_hi - beta_lo = 0.4 and 0.8.
    expect(s.betaHi[0]).toBeCloseTo(0.7, 15);
    expect(s.betaHi[1]).toBeCloseTo(0.9, 15);
    expect(s.delta[0]).toBeCloseTo(0.4, 15);
    expect(s.delta[1]).toBeCloseTo(0.8, 15);
    // |s0| > 0.5: 0.7 yes, 0.2 no.
    expect(s.s0On).toBe(1);
  });

  it('takes every block: the ranges span both, s0 ON counts add up', () => {
    const second = {
      cand: { weight: { rows: 2, cols: 2, data: f(5, 1, 1, 1) }, bias: f(-4, 0) },
      cell: { alpha: f(3, 1), beta1: f(0.05, 1), delta: f(0.1, 0.1), s0: f(1, 0.6) },
      post: { weight: { rows: 2, cols: 2, data: f(1, 1, 1, 1) }, bias: f(0, 0.5) },
    };
    const s = parameterStats({ ...net, blocks: [net.blocks[0], second] });
    expect(s.parameters).toBe(30 + 8 + 4 + 8);
    expect(s.absWeight).toEqual([0, 5]);
    expect(s.weightsBelow.of).toBe(22);
    expect(s.bias).toEqual([-4, 0.5]);
    expect(s.alpha).toEqual([0.5, 3]);
    expect(s.betaLo).toEqual([0.05, 1]);
    expect(s.delta[0]).toBeCloseTo(0.1, 15);
    expect(s.s0On).toBe(3);
  });
});

describe('signalStats', () => {
  // F = H = S = 1, one block with skip, C = 2. pre: h = x. Candidate c = 2 max(x, 0); beta_lo 1, beta_hi 2, alpha 1.5,
  // s0 OFF; block output max(1.5 s - 0.5, 0) + x (DESIGN §1).
  const net: Network = {
    arch: 'fq-bmru',
    inputs: 1,
    width: 1,
    cells: 1,
    classes: 2,
    skip: true,
    unitCurrentA: 1e-9,
    frameS: 0.01,
    cellParams: 'realised',
    pre: { weight: { rows: 1, cols: 1, data: f(1) }, bias: f(0) },
    blocks: [
      {
        cand: { weight: { rows: 1, cols: 1, data: f(2) }, bias: f(0) },
        cell: { alpha: f(1.5), beta1: f(1), delta: f(1), s0: f(0) },
        post: { weight: { rows: 1, cols: 1, data: f(1) }, bias: f(-0.5) },
      },
    ],
    out: { weight: { rows: 2, cols: 1, data: f(1, -1) }, bias: f(0, 0) },
  };
  // Clip 0: x = 0.5, 1.2, -3 -> c = 1, 2.4, 0 -> s = 0 (held OFF in the band), 1, 0 -> outputs 0.5, 2.2, -3.
  // Clip 1: x = 3, 1.5, 0.2 -> c = 6, 3, 0.4 -> s = 1, 1, 0 -> outputs 4, 2.5, 0.2.
  const data: TrainingData = {
    frames: 3,
    features: 1,
    data: f(0.5, 1.2, -3, 3, 1.5, 0.2),
    target: Uint8Array.from([0, 1]),
    classes: ['other', 'yes'],
    splits: { train: Int32Array.from([0, 1]), validation: new Int32Array(0), test: new Int32Array(0) },
    files: ['no/a.wav', 'yes/b.wav'],
    keyword: 'yes',
  };

  it('gives the largest candidate, the largest |block output| and the share of unit-frames ON, per block', () => {
    expect(signalStats(net, data, [0])).toEqual({
      clips: 1,
      maxCandidate: [2.4],
      maxAbsBlockOutput: [3], // |-3| beats 2.2
      onFraction: [1 / 3],
    });
    expect(signalStats(net, data, [1])).toEqual({
      clips: 1,
      maxCandidate: [6],
      maxAbsBlockOutput: [4],
      onFraction: [2 / 3],
    });
    expect(signalStats(net, data, [0, 1])).toEqual({
      clips: 2,
      maxCandidate: [6],
      maxAbsBlockOutput: [4],
      onFraction: [3 / 6],
    });
  });

  it('runs a cumulative model (CMRU) as its own loop: a state above 0 counts as ON', () => {
    // eps = 1: s_t = s_(t-1) + 1 above beta_hi, - 1 below beta_lo, held in the band (arch.ts). Clip 1: c = 6, 3, 0.4 ->
    // s = 1, 2, 1 (the BMRU's 1, 1, 0): all 3 frames ON; outputs 1.5 - 0.5 + 3 = 4, 3 - 0.5 + 1.5 = 4, 1 + 0.2.
    expect(signalStats({ ...net, arch: 'cmru' }, data, [1])).toEqual({
      clips: 1,
      maxCandidate: [6],
      maxAbsBlockOutput: [4],
      onFraction: [1],
    });
  });

  it('counts the share ON over every cell of the block: a second cell that never turns ON halves it', () => {
    // H = S = 2: unit 0 as above, unit 1 fed nothing (candidate 0, OFF, output 0). Clip 1: 2 of 3 x 2 unit-frames ON.
    const two: Network = {
      ...net,
      width: 2,
      cells: 2,
      pre: { weight: { rows: 2, cols: 1, data: f(1, 0) }, bias: f(0, 0) },
      blocks: [
        {
          cand: { weight: { rows: 2, cols: 2, data: f(2, 0, 0, 0) }, bias: f(0, 0) },
          cell: { alpha: f(1.5, 1), beta1: f(1, 1), delta: f(1, 1), s0: f(0, 0) },
          post: { weight: { rows: 2, cols: 2, data: f(1, 0, 0, 0) }, bias: f(-0.5, 0) },
        },
      ],
      out: { weight: { rows: 2, cols: 2, data: f(1, 0, -1, 0) }, bias: f(0, 0) },
    };
    expect(signalStats(two, data, [1])).toEqual({
      clips: 1,
      maxCandidate: [6],
      maxAbsBlockOutput: [4],
      onFraction: [2 / 6],
    });
  });

  it('gives zeros, not NaN, for no clips', () => {
    expect(signalStats(net, data, [])).toEqual({
      clips: 0,
      maxCandidate: [0],
      maxAbsBlockOutput: [0],
      onFraction: [0],
    });
  });
});

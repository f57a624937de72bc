/**
 * What a training run reports besides the model: the loss curve (CSV + plots), the parameter ranges the
 * circuit will have to realise, and the signal currents the trained network drives through it.
 */
import { escapeHtml, htmlPage, lineChart, type Series } from '../plot/index.js';
import { runCumulative } from '../model/cumulative.js';
import { runNetwork } from '../model/network.js';
import { cellThresholds, type Network } from '../model/types.js';
import type { TrainingData } from './data.js';
import type { EpochRecord } from './trainer.js';

/** Mirror width ratios below this are hard to realise accurately (src/model/random.ts draws |W| >= 0.25). */
export const SMALL_WEIGHT = 0.25;

/** Header and rows of the per-epoch CSV (loss.csv). */
export function historyCsvRows(history: readonly EpochRecord[]): (string | number)[][] {
  const header = [
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
  ];
  const f = (v: number | undefined, d = 6) => (v === undefined ? '' : Number(v.toFixed(d)));
  return [
    header,
    ...history.map((r) => [
      r.epoch,
      r.steps,
      f(r.lr, 8),
      f(r.cumulative, 4),
      f(r.forwardEps, 4),
      f(r.trainLoss),
      f(r.penalty),
      f(r.train.loss),
      f(r.train.accuracy),
      f(r.train.frameAccuracy),
      f(r.validation?.loss),
      f(r.validation?.accuracy),
      f(r.validation?.frameAccuracy),
      f(r.gradNorm),
      r.clamped,
      f(r.elapsedS, 2),
    ]),
  ];
}

/** Rows as CSV text (numbers and plain header names only, so no quoting is needed). */
export function csvText(rows: readonly (readonly (string | number)[])[]): string {
  return rows.map((r) => r.join(',')).join('\n') + '\n';
}

/** The loss curve as an SVG: per-frame cross-entropy of the training and validation splits per epoch. */
export async function lossPlot(history: readonly EpochRecord[], title: string): Promise<string> {
  const epochs = history.map((r) => r.epoch);
  const series: Series[] = [
    { name: 'train (batches, as trained)', x: epochs, y: history.map((r) => r.trainLoss), mark: 'dashed' },
    { name: 'train', x: epochs, y: history.map((r) => r.train.loss) },
  ];
  if (history.every((r) => r.validation))
    series.push({ name: 'validation', x: epochs, y: history.map((r) => r.validation!.loss) });
  return lineChart({
    title,
    x: { label: 'epoch', integer: true },
    y: { label: 'per-frame cross-entropy (nats)' },
    series,
  });
}

/** Clip and frame accuracy per epoch as an SVG. */
export async function accuracyPlot(history: readonly EpochRecord[], title: string): Promise<string> {
  const epochs = history.map((r) => r.epoch);
  const series: Series[] = [
    { name: 'train clips', x: epochs, y: history.map((r) => r.train.accuracy) },
    { name: 'train frames', x: epochs, y: history.map((r) => r.train.frameAccuracy), mark: 'dashed' },
  ];
  if (history.every((r) => r.validation)) {
    series.push({ name: 'validation clips', x: epochs, y: history.map((r) => r.validation!.accuracy) });
    series.push({
      name: 'validation frames',
      x: epochs,
      y: history.map((r) => r.validation!.frameAccuracy),
      mark: 'dashed',
    });
  }
  return lineChart({
    title,
    x: { label: 'epoch', integer: true },
    y: { label: 'accuracy (fraction)', domain: [0, 1] },
    series,
  });
}

/** A confusion matrix (`m[target][decision]` clips) as an HTML table: rows the true class, columns the decision. */
export function confusionHtml(m: readonly (readonly number[])[], classes: readonly string[]): string {
  const head = ['true \\ decided', ...classes].map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const rows = m.map(
    (row, k) =>
      `<tr><th>${escapeHtml(classes[k])}</th>${row.map((v, j) => (j === k ? `<td><b>${v}</b></td>` : `<td>${v}</td>`)).join('')}</tr>`,
  );
  return [`<table>`, `<tr>${head}</tr>`, ...rows, `</table>`].join('\n');
}

/** A confusion matrix to show below the curves. */
export interface ConfusionSection {
  readonly heading: string;
  readonly matrix: readonly (readonly number[])[];
  readonly classes: readonly string[];
}

/** An HTML page with the loss and accuracy curves, then the given confusion matrices. */
export async function trainingPage(
  history: readonly EpochRecord[],
  title: string,
  caption: string,
  confusions: readonly ConfusionSection[] = [],
): Promise<string> {
  return htmlPage(title, [
    { heading: 'Loss', svg: await lossPlot(history, 'Loss per epoch'), caption },
    {
      heading: 'Accuracy',
      svg: await accuracyPlot(history, 'Accuracy per epoch'),
      caption:
        'Clip accuracy: majority vote of per-frame argmax (DESIGN §1). Frame accuracy: per-frame argmax against the clip label.',
    },
    ...confusions.map((c) => ({
      heading: c.heading,
      svg: confusionHtml(c.matrix, c.classes),
      caption: 'Clips of the kept checkpoint: rows the true class, columns the decision; the diagonal is correct.',
    })),
  ]);
}

/** min / max of a list, for ranges in the report. */
function range(values: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    lo = Math.min(lo, values[i]);
    hi = Math.max(hi, values[i]);
  }
  return [lo, hi];
}

/** Ranges of the trained parameters (software units), with how many weights fall below SMALL_WEIGHT. */
export function parameterStats(net: Network) {
  const weights = [
    net.pre.weight.data,
    ...net.blocks.flatMap((b) => [b.cand.weight.data, b.post.weight.data]),
    net.out.weight.data,
  ];
  const absW = Float64Array.from(weights.flatMap((w) => Array.from(w, Math.abs)));
  const biases = Float64Array.from(
    [net.pre.bias, ...net.blocks.flatMap((b) => [b.cand.bias, b.post.bias]), net.out.bias].flatMap((b) =>
      Array.from(b),
    ),
  );
  const th = net.blocks.map((b) => cellThresholds(b.cell));
  const cat = (f: (t: (typeof th)[number]) => ArrayLike<number>) =>
    Float64Array.from(th.flatMap((t) => Array.from(f(t))));
  const count = weights.reduce((n, w) => n + w.length, 0) + biases.length + net.blocks.length * 4 * net.cells;
  return {
    parameters: count,
    absWeight: range(absW),
    weightsBelow: { threshold: SMALL_WEIGHT, count: absW.filter((v) => v < SMALL_WEIGHT).length, of: absW.length },
    bias: range(biases),
    alpha: range(cat((t) => t.alpha)),
    betaLo: range(cat((t) => t.betaLo)),
    betaHi: range(cat((t) => t.betaHi)),
    delta: range(Float64Array.from(th.flatMap((t) => Array.from(t.betaHi, (h, j) => h - t.betaLo[j])))),
    s0On: th.reduce((n, t) => n + t.s0.reduce((a, b) => a + b, 0), 0),
  };
}

/**
 * Largest currents the network drives on `indices` (software units): candidate per block, block outputs,
 * and the share of unit-frames ON. The circuit's mirrors are accurate up to ~3 units (DESIGN §3).
 */
export function signalStats(net: Network, data: TrainingData, indices: ArrayLike<number>) {
  const size = data.frames * data.features;
  const maxCandidate = new Array<number>(net.blocks.length).fill(0);
  const maxAbsOutput = new Array<number>(net.blocks.length).fill(0);
  const on = new Array<number>(net.blocks.length).fill(0);
  for (let n = 0; n < indices.length; n++) {
    const i = indices[n];
    const clip = { frames: data.frames, features: data.features, data: data.data.subarray(i * size, (i + 1) * size) };
    // A cumulative model's state is a count, not 0/1: ON here means a positive state.
    const tr = net.arch === 'fq-bmru' ? runNetwork(net, clip) : runCumulative(net, clip);
    tr.candidates.forEach((c, k) => (maxCandidate[k] = Math.max(maxCandidate[k], range(c)[1])));
    tr.blockOutputs.forEach((o, k) => (maxAbsOutput[k] = Math.max(maxAbsOutput[k], ...range(o).map(Math.abs))));
    tr.states.forEach((s: ArrayLike<number>, k) => {
      for (let i = 0; i < s.length; i++) on[k] += s[i] > 0 ? 1 : 0;
    });
  }
  const unitFrames = indices.length * data.frames * net.cells;
  return {
    clips: indices.length,
    maxCandidate,
    maxAbsBlockOutput: maxAbsOutput,
    onFraction: on.map((v) => v / Math.max(1, unitFrames)),
  };
}

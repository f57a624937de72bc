#!/usr/bin/env node
// Software Monte Carlo of keyword models over test clips: each draw perturbs every weight, bias and cell parameter
// by the relative sigma of the mirror that realises it on the process (analysis/montecarlo.ts parameterSigmas, the
// Pelgrom coefficients of process.json), then runs the clips. Reports, per model: clip accuracy nominal and over the
// draws (mean, min, max), and the decision flip rate (draw-clip pairs whose decision differs from the nominal one).
//
//   node scripts/mc-kws.mjs models/kws/kws-w4.json [other.json ...] [--process c180] [--draws 20] [--clips 50] [--seed 1]
//                           [--split test|validation|train]   (validation: the clips `bmru train --select-by mismatch` scores)
import {
  loadModel,
  loadProcess,
  parameterSigmas,
  readFeatureFile,
  runNetworkBatch,
  selectClips,
} from '../dist/index.js';
import { createRng } from '../dist/util/random.js';
import { resolveProcessPath } from '../dist/util/paths.js';

const args = process.argv.slice(2);
const opt = (name, d) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : d;
};
const values = new Set(
  ['--process', '--draws', '--clips', '--seed', '--features', '--split'].flatMap((f) =>
    args.includes(f) ? [args.indexOf(f) + 1] : [],
  ),
);
const models = args.filter((a, i) => !a.startsWith('--') && !values.has(i));
if (models.length === 0) {
  console.error('usage: node scripts/mc-kws.mjs <model.json> [...] [--process c180] [--draws 20] [--clips 50]');
  process.exit(2);
}
const draws = Number(opt('draws', 20));
const seed = Number(opt('seed', 1));
const proc = await loadProcess(resolveProcessPath(opt('process', 'c180')));
const set = await readFeatureFile(opt('features', 'data/kws-synth/features.safetensors'));
const clipsArg = opt('clips', '50');
const split = opt('split', 'test');
if (!['test', 'validation', 'train'].includes(split)) {
  console.error(`--split: expected test, validation or train, got ${split}`);
  process.exit(2);
}
const clips = selectClips(set, split, clipsArg === 'all' ? 'all' : Number(clipsArg));
const per = set.frames * set.features;
const inputs = clips.map((c) => ({
  frames: set.frames,
  features: set.features,
  data: set.data.subarray(c.index * per, (c.index + 1) * per),
}));
// Decisions only: the batched model without its analog arrays, bit-identical to runNetwork per clip.
const decisions = (net) => runNetworkBatch(net, inputs, { keep: 'states' }).map((t) => t.decision);
const clone = (net) => structuredClone(net);
const pct = (x) => `${(100 * x).toFixed(1)}%`;
console.log(`${clips.length} ${split} clips, ${draws} draws, sigmas of ${proc.name} (seed ${seed})`);
for (const file of models) {
  const net = await loadModel(file);
  const refs = parameterSigmas(net, proc);
  const nominal = decisions(net);
  const rng = createRng(seed);
  const acc = [];
  let flips = 0;
  for (let d = 0; d < draws; d++) {
    const work = clone(net);
    for (const r of refs) r.get(work)[r.index] *= 1 + r.sigma * rng.normal();
    let correct = 0;
    decisions(work).forEach((dec, n) => {
      const c = clips[n];
      correct += dec === c.target ? 1 : 0;
      flips += dec === nominal[n] ? 0 : 1;
    });
    acc.push(correct / clips.length);
  }
  const nominalAcc = nominal.filter((d, n) => d === clips[n].target).length / clips.length;
  const mean = acc.reduce((a, b) => a + b, 0) / acc.length;
  console.log(
    `${file}: accuracy nominal ${pct(nominalAcc)}, over draws mean ${pct(mean)} (min ${pct(Math.min(...acc))}, max ${pct(Math.max(...acc))}); decision flips ${flips} of ${draws * clips.length} (${((100 * flips) / (draws * clips.length)).toFixed(2)}%)`,
  );
}

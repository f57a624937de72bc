#!/usr/bin/env node
// Software Monte Carlo of keyword models over test clips: each draw perturbs every weight, bias and cell parameter
// by the relative sigma of the mirror that realises it on the process (analysis/montecarlo.ts parameterSigmas, the
// Pelgrom coefficients of process.json), then runs the clips. Reports, per model: clip accuracy nominal and over the
// draws (mean, min, max), and the decision flip rate (draw-clip pairs whose decision differs from the nominal one).
//
// With --bootstrap N and two models or more, each model after the first also gets the ratio of its flip rate to the
// first's, a 95% interval of that ratio over N resamplings of the clips (how far the clips decide it), the clips that
// flip at all, and the share of its flips the 5 most fragile clips carry.
//
//   node scripts/mc-kws.mjs models/kws/kws-w4.json [other.json ...] [--process c180] [--draws 20] [--clips 50] [--seed 1]
//                           [--split test|validation|train]   (validation: the clips `bmru train --select-by mismatch` scores)
//                           [--bootstrap 2000]
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
  ['--process', '--draws', '--clips', '--seed', '--features', '--split', '--bootstrap'].flatMap((f) =>
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
const sum = (v) => v.reduce((a, b) => a + b, 0);
/** Each model's flips per clip, over the draws. */
const perClip = [];
console.log(`${clips.length} ${split} clips, ${draws} draws, sigmas of ${proc.name} (seed ${seed})`);
for (const file of models) {
  const net = await loadModel(file);
  const refs = parameterSigmas(net, proc);
  const nominal = decisions(net);
  const rng = createRng(seed);
  const acc = [];
  const clipFlips = new Float64Array(clips.length);
  for (let d = 0; d < draws; d++) {
    const work = clone(net);
    for (const r of refs) r.get(work)[r.index] *= 1 + r.sigma * rng.normal();
    let correct = 0;
    decisions(work).forEach((dec, n) => {
      const c = clips[n];
      correct += dec === c.target ? 1 : 0;
      clipFlips[n] += dec === nominal[n] ? 0 : 1;
    });
    acc.push(correct / clips.length);
  }
  perClip.push(clipFlips);
  const flips = sum(clipFlips);
  const nominalAcc = nominal.filter((d, n) => d === clips[n].target).length / clips.length;
  const mean = acc.reduce((a, b) => a + b, 0) / acc.length;
  console.log(
    `${file}: accuracy nominal ${pct(nominalAcc)}, over draws mean ${pct(mean)} (min ${pct(Math.min(...acc))}, max ${pct(Math.max(...acc))}); decision flips ${flips} of ${draws * clips.length} (${((100 * flips) / (draws * clips.length)).toFixed(2)}%)`,
  );
}

const bootstrapSets = Number(opt('bootstrap', 0));
/** Seeds the clip resampling, apart from the draws' seed. */
const BOOTSTRAP_SEED = 7;
/** How many of the most fragile clips the share of flips is given for. */
const FRAGILE_CLIPS = 5;
for (let m = 1; bootstrapSets > 0 && m < models.length; m++) {
  const [a, b] = [perClip[0], perClip[m]];
  const rng = createRng(BOOTSTRAP_SEED);
  const ratios = [];
  for (let k = 0; k < bootstrapSets; k++) {
    let [sa, sb] = [0, 0];
    for (let i = 0; i < clips.length; i++) {
      const j = Math.floor(rng.next() * clips.length);
      sa += a[j];
      sb += b[j];
    }
    ratios.push(sb / sa);
  }
  ratios.sort((x, y) => x - y);
  const [lo, hi] = [ratios[Math.floor(0.025 * bootstrapSets) - 1], ratios[Math.ceil(0.975 * bootstrapSets) - 1]];
  const fragile = (v) => (100 * sum([...v].sort((x, y) => y - x).slice(0, FRAGILE_CLIPS))) / sum(v);
  console.log(
    `${models[m]} / ${models[0]}: flip ratio ${(sum(b) / sum(a)).toFixed(3)}, 95% over clips ${lo.toFixed(3)}-${hi.toFixed(3)} (${bootstrapSets} resamplings); clips with any flip ${a.filter((x) => x > 0).length} / ${b.filter((x) => x > 0).length}; the ${FRAGILE_CLIPS} most fragile clips' share of the flips ${fragile(a).toFixed(0)}% / ${fragile(b).toFixed(0)}%`,
  );
}

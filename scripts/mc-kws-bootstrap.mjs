#!/usr/bin/env node
// How far the test clips decide a Monte Carlo flip ratio: per clip, the decisions that flip over 1000 software Monte
// Carlo chips (scripts/mc-kws.mjs's rule and draws, seed 1) for the plain model and the hardware-aware one, then the
// ratio of their flip rates resampled over the clips (2000 bootstrap sets) for a 95% interval, and how many clips
// carry the flips. Both kits' Pelgrom sigmas; all test clips of data/kws-synth (`bmru kws-data` first).
//
//   node scripts/mc-kws-bootstrap.mjs
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
import { clipInputs } from '../dist/audio/features.js';
const set = await readFeatureFile('data/kws-synth/features.safetensors');
const clips = selectClips(set, 'test', 'all').map((c) => clipInputs(set, c.index));
const DRAWS = 1000;
/** Resampled clip sets for the interval. */
const BOOTSTRAP_SETS = 2000;
async function perClip(file, proc) {
  const net = await loadModel(file);
  const refs = parameterSigmas(net, proc);
  const dec = (n) => runNetworkBatch(n, clips, { keep: 'states' }).map((t) => t.decision);
  const nominal = dec(net);
  const rng = createRng(1);
  const flips = new Float64Array(clips.length);
  for (let d = 0; d < DRAWS; d++) {
    const work = structuredClone(net);
    for (const r of refs) r.get(work)[r.index] *= 1 + r.sigma * rng.normal();
    dec(work).forEach((x, n) => (flips[n] += x === nominal[n] ? 0 : 1));
  }
  return flips;
}
for (const p of ['c180', 'gf180mcu']) {
  const proc = await loadProcess(resolveProcessPath(p));
  const a = await perClip('test/fixtures/models/kws-w4-startup.json', proc);
  const b = await perClip('models/kws/kws-w4.json', proc);
  const sum = (v) => v.reduce((s, x) => s + x, 0);
  const rng = createRng(7);
  const ratios = [];
  for (let k = 0; k < BOOTSTRAP_SETS; k++) {
    let sa = 0,
      sb = 0;
    for (let i = 0; i < clips.length; i++) {
      const j = Math.floor(rng.next() * clips.length);
      sa += a[j];
      sb += b[j];
    }
    ratios.push(sb / sa);
  }
  ratios.sort((x, y) => x - y);
  const top = (v) =>
    [...v]
      .map((x, i) => [x, i])
      .sort((x, y) => y[0] - x[0])
      .slice(0, 5)
      .map(([x]) => x);
  console.log(
    `${p}: plain ${((100 * sum(a)) / (DRAWS * clips.length)).toFixed(2)}%, hw-aware ${((100 * sum(b)) / (DRAWS * clips.length)).toFixed(2)}%, ratio ${(sum(b) / sum(a)).toFixed(3)}, 95% over clips ${ratios[Math.floor(0.025 * BOOTSTRAP_SETS) - 1].toFixed(3)}-${ratios[Math.ceil(0.975 * BOOTSTRAP_SETS) - 1].toFixed(3)}; clips with any flip: plain ${a.filter((x) => x > 0).length}, hw-aware ${b.filter((x) => x > 0).length}; top-5 clips' share of flips: plain ${((sum(top(a)) / sum(a)) * 100).toFixed(0)}%, hw-aware ${((sum(top(b)) / sum(b)) * 100).toFixed(0)}%`,
  );
}

#!/usr/bin/env node
// Clip accuracy of keyword models on every test clip, three ways per process: the trained network, the realised one
// (what the generator builds, as parameters: calibration-inverted, quantised) and the hardware-aware model (the
// circuit's simulator at software speed, analysis/hwmodel.ts); and the unit-frames where the hardware-aware model's
// state differs from the trained one's. Issue 16 asks realised and circuit accuracy within 0.5 point of trained;
// this measures it on all test clips where ngspice runs only 50. Per process also the worst clip: the share of its
// unit-frames where the hardware-aware model has the trained state (--clips 50: the clips `bmru kws` runs).
//
//   node scripts/accuracy-kws.mjs models/kws/kws-w4.json [other.json ...] [--clips all|N] [--features file]
import {
  hardwareAwareNetwork,
  loadModel,
  readFeatureFile,
  runHardwareAware,
  runNetwork,
  selectClips,
} from '../dist/index.js';
import { loadProcessAndCalibration } from '../dist/cli/common.js';

const args = process.argv.slice(2);
const opt = (name, d) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : d);
const valueAt = new Set(['--clips', '--features'].filter((f) => args.includes(f)).map((f) => args.indexOf(f) + 1));
const models = args.filter((a, i) => !a.startsWith('--') && !valueAt.has(i));
if (models.length === 0) {
  console.error('usage: node scripts/accuracy-kws.mjs <model.json> [...] [--clips all|N] [--features file]');
  process.exit(2);
}
const set = await readFeatureFile(opt('features', 'data/kws-synth/features.safetensors'));
const clipsArg = opt('clips', 'all');
const clips = selectClips(set, 'test', clipsArg === 'all' ? 'all' : Number(clipsArg));
const per = set.frames * set.features;
const inputsOf = (i) => ({
  frames: set.frames,
  features: set.features,
  data: set.data.subarray(i * per, (i + 1) * per),
});
const processes = [];
for (const p of ['c180', 'gf180mcu']) processes.push(await loadProcessAndCalibration({ process: p, calibrated: true }));
/** Percentage of the clips whose decision under `run` is the clip's target. */
const accuracy = (run) => {
  const right = clips.filter((c) => run(inputsOf(c.index)).decision === set.target[c.index]).length;
  return ((100 * right) / clips.length).toFixed(2);
};
console.log(`${clips.length} test clips; clip accuracy (%) of each model as trained, realised and hardware-aware`);
for (const file of models) {
  const net = await loadModel(file);
  console.log(`${file}`);
  console.log(`  trained ${accuracy((x) => runNetwork(net, x))}%`);
  for (const { process, calibration } of processes) {
    const hw = hardwareAwareNetwork(net, process, calibration);
    const realised = accuracy((x) => runNetwork(hw.realised, x));
    let differ = 0;
    // The clip whose states the hardware-aware model follows least (issue 11 asks >= 99% of every clip's).
    let worst = { share: Infinity, name: '' };
    for (const c of clips) {
      const trained = runNetwork(net, inputsOf(c.index)).states;
      let here = 0;
      let total = 0;
      runHardwareAware(hw, inputsOf(c.index)).states.forEach((s, k) =>
        s.forEach((v, i) => {
          here += v === trained[k][i] ? 0 : 1;
          total++;
        }),
      );
      differ += here;
      if (1 - here / total < worst.share) worst = { share: 1 - here / total, name: c.name };
    }
    const hwaware = accuracy((x) => runHardwareAware(hw, x));
    console.log(
      `  ${process.name} realised ${realised}% hwaware ${hwaware}%, ${differ} unit-frames differ from trained, worst clip ${(100 * worst.share).toFixed(2)}% (${worst.name})`,
    );
  }
}

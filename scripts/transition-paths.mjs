#!/usr/bin/env node
// Where the hardware-aware model's disagreements with the trained model start, and how many holding frames have a
// path between frames that crosses the threshold (the bound bptt.ts `transitionPenalty` penalises).
//
//   node scripts/transition-paths.mjs <model.json> [--process c180] [--clips all|N] [--features file]
//
// A holding frame: a cell in the same trained state at t - 1 and t. Its path crosses when the candidate with every
// input term at whichever of its two frames' values pushes it across (an ON cell below beta_lo, an OFF cell to
// beta_hi) would cross. A start: a frame where the hardware-aware state differs from the trained one and did not
// the frame before, counted at holding frames (and how many of those cross) and at switching frames.
import {
  allocTape,
  clipInputs,
  forwardClip,
  hardwareAwareNetwork,
  loadModel,
  networkThresholds,
  pathBound,
  readFeatureFile,
  runHardwareAware,
  selectClips,
} from '../dist/index.js';
import { loadProcessAndCalibration } from '../dist/cli/common.js';

const args = process.argv.slice(2);
const opt = (name, d) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : d);
const file = args[0];
if (!file || file.startsWith('--')) {
  console.error('usage: node scripts/transition-paths.mjs <model.json> [--process c180] [--clips all|N]');
  process.exit(2);
}
const { process: proc, calibration } = await loadProcessAndCalibration({
  process: opt('process', 'c180'),
  kit: opt('kit'),
  calibrated: true,
});
const net = await loadModel(file);
const set = await readFeatureFile(opt('features', 'data/kws-synth/features.safetensors'));
const clipsArg = opt('clips', 'all');
const clips = selectClips(set, 'test', clipsArg === 'all' ? 'all' : Number(clipsArg));
const hw = hardwareAwareNetwork(net, proc, calibration);
const S = net.cells;
const th = networkThresholds(net);
const tape = allocTape(net, set.frames);
const n = { hold: 0, crossing: 0, holdStarts: 0, crossingStarts: 0, switchStarts: 0 };

for (const c of clips) {
  const x = clipInputs(set, c.index);
  // The training forward pass: the trained states (runNetwork's, bit for bit) and each block's inputs max(h, 0).
  forwardClip(net, th, x.data, 0, tape, { surrogateWidth: 1 });
  const aware = runHardwareAware(hw, x);
  net.blocks.forEach((block, k) => {
    const [s, a] = [tape.s[k], aware.states[k]];
    for (let t = 1; t < x.frames; t++)
      for (let j = 0; j < S; j++) {
        const i = t * S + j;
        const start = a[i] !== s[i] && a[i - S] === s[i - S];
        if (s[i - S] !== s[i]) {
          n.switchStarts += start;
          continue;
        }
        const on = s[i] === 1;
        const bound = pathBound(block.cand, tape.xPos[k], t, j, on);
        const crossing = on ? bound < th[k].betaLo[j] : bound >= th[k].betaHi[j];
        n.hold++;
        n.crossing += crossing;
        n.holdStarts += start;
        n.crossingStarts += start && crossing;
      }
  });
}
const pct = (a, b) => `${((100 * a) / b).toFixed(2)}%`;
console.log(`${file} on ${proc.name}, ${clips.length} test clips`);
console.log(`  holding frames ${n.hold}, whose path crosses ${n.crossing} (${pct(n.crossing, n.hold)})`);
console.log(
  `  disagreements start at ${n.holdStarts} holding frames (${n.crossingStarts} of them crossing) and at ${n.switchStarts} switching frames`,
);

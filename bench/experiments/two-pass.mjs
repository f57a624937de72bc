// One or two passes per cell (the shipped `passes` option) against the monolithic run replica-drains.mjs cached.
//   npm run build && node bench/experiments/two-pass.mjs W:F passes
// docs/partition.md's width-4 knobs (drain tolerance, smoothing, swing threshold) were environment variables in a
// working copy of pipeline.ts's copyDrainWaveform, not committed (none made the second pass cheaper).
const CACHE_DIR = '/tmp/bmru-replica-drains';
import { readFileSync } from 'node:fs';
import {
  generateNetlist,
  runPartitioned,
  handoffWaveforms,
  loadCalibration,
  loadInputs,
  loadModel,
  loadProcess,
  randomInputs,
  randomNetwork,
  sampleCircuit,
  transientPlot,
} from '../../dist/index.js';
import { resolveProcessPath } from '../../dist/util/paths.js';
const process_ = await loadProcess(resolveProcessPath('c180'));
const calibration = await loadCalibration(process_.dir);
const [w, f] = process.argv[2].split(':').map(Number);
const passes = Number(process.argv[3] ?? 2);
let net, inputs;
if (w === 4) {
  net = await loadModel(new URL('../../models/example/kws-example.json', import.meta.url).pathname);
  const clip = await loadInputs(new URL('../../models/example/clip-101.csv', import.meta.url).pathname);
  inputs = { ...clip, frames: f, data: clip.data.slice(0, f * clip.features) };
} else {
  net = randomNetwork({ inputs: 13, width: w, blocks: 2, classes: 2, seed: 1 });
  inputs = randomInputs(f, 13, 1);
}
const opts = { process: process_, calibration };
const g = generateNetlist(net, inputs, opts);
const mono = JSON.parse(readFileSync(`${CACHE_DIR}/mono-w${w}f${f}.json`, 'utf8'));
const part = await runPartitioned(g.built, net, opts, g.tStopS, {}, handoffWaveforms, {
  by: 'cell',
  workers: 1,
  passes,
});
const c = sampleCircuit(transientPlot(part.run.plots), g.probes, {
  frames: g.frames,
  frameS: net.frameS,
  unitA: net.unitCurrentA,
  vddV: process_.vddV,
});
let same = 0,
  all = 0,
  cand = 0,
  where = '';
mono.states.forEach((b, k) =>
  b.forEach((s, i) => {
    all++;
    if (s === c.states[k][i]) same++;
  }),
);
mono.candidates.forEach((b, k) =>
  b.forEach((x, i) => {
    const e = Math.abs(c.candidates[k][i] - x) / Math.max(Math.abs(x), 0.1);
    if (e > cand) {
      cand = e;
      where = `b${k} f${Math.floor(i / net.width)} u${i % net.width}`;
    }
  }),
);
const tot = (s) => Object.values(s).reduce((a, b) => a + b, 0);
const cpu = part.partitions.reduce((s, p) => s + (p.cpuS ?? NaN), 0);
const fe = part.partitions[0];
console.log(
  `${w}:${f} passes ${passes} ${process.env.EXP_DRAIN_TOL ?? ''} ${process.env.EXP_TAG ?? ''}: cpu ${cpu.toFixed(2)} (front ${fe.cpuS} ${fe.points}pts) states ${same}/${all} cand ${(cand * 100).toFixed(3)}% [${where}] supply ${((tot(c.supplyMeanA) / tot(mono.supplyMeanA) - 1) * 100).toFixed(4)}%`,
);

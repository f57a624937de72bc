// Speed of the hardware-aware model against the software model (same clips, same machine, best of N).
//   npm run build && node bench/hwmodel.mjs
import { performance } from 'node:perf_hooks';
import {
  hardwareAwareNetwork,
  loadCalibration,
  loadInputs,
  loadModel,
  loadProcess,
  randomInputs,
  randomNetwork,
  runHardwareAware,
  runNetwork,
} from '../dist/index.js';
import { resolveProcessPath } from '../dist/util/paths.js';

function best(fn, ms = 1500) {
  for (let i = 0; i < 20; i++) fn();
  let bestUs = Infinity;
  const until = performance.now() + ms;
  while (performance.now() < until) {
    const n = 20;
    const t = performance.now();
    for (let i = 0; i < n; i++) fn();
    bestUs = Math.min(bestUs, ((performance.now() - t) / n) * 1000);
  }
  return bestUs;
}

const cases = [
  ['KWS kws-w4, clip-yes', 'models/kws/kws-w4.json', 'models/kws/clip-yes.csv'],
  ['example, clip-101', 'models/example/kws-example.json', 'models/example/clip-101.csv'],
  ['random width 32, 101 frames', null, null],
];
console.log('case | process | runNetwork (us/clip) | steady (x) | timed (x) | timed frames');
for (const proc of ['c180', 'gf180mcu']) {
  const process_ = await loadProcess(resolveProcessPath(proc));
  const calibration = await loadCalibration(process_.dir);
  for (const [name, model, clip] of cases) {
    const net = model
      ? await loadModel(model)
      : { ...randomNetwork({ inputs: 13, width: 32, blocks: 2, classes: 2, seed: 5 }), unitCurrentA: 2.5e-10 };
    const inputs = clip ? await loadInputs(clip) : randomInputs(101, 13, 5);
    const hw = hardwareAwareNetwork(net, process_, calibration);
    const base = best(() => runNetwork(hw.realised, inputs));
    const steady = best(() => runHardwareAware(hw, inputs, { dynamics: false }));
    const timed = best(() => runHardwareAware(hw, inputs));
    const frames = new Set();
    runHardwareAware(hw, inputs, { onStep: (t) => frames.add(t) });
    console.log(
      `${name} | ${proc} | ${base.toFixed(0)} | ${(steady / base).toFixed(1)} | ${(timed / base).toFixed(0)} | ${frames.size}/${inputs.frames}`,
    );
  }
}

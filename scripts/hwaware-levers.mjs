#!/usr/bin/env node
// Circuit levers tried in software: how many unit-frames the hardware-aware model (the circuit's simulator,
// analysis/hwmodel.ts) says differ from the trained model when one design choice moves, before anyone runs ngspice.
//
//   node scripts/hwaware-levers.mjs <model.json> [--process c180] [--clip file.csv | --clips 50] [--unit-current A]
//        [--filter 0,0.01,0.02]   cell input low-pass (F/A of beta_lo; process.json cellInputCapFPerA)
//        [--units 2.5e-10,1e-9]   I_unit
//        [--trim 300]             per-cell threshold trims measured on that many training clips (see below)
//
// Trims: on training clips (never the clips scored), at frames where the cell's block inputs and previous states
// agree with the trained model, the median of (hardware-aware margin - trained margin) to the threshold that decides
// the cell (beta_hi when it was OFF, beta_lo when ON), within 0.3 units of it; the circuit is then built for
// thresholds moved by that median, so that its systematic offsets cancel. Scored against the untrimmed model.
import {
  cellThresholds,
  clipInputs,
  hardwareAwareNetwork,
  loadInputs,
  loadModel,
  readFeatureFile,
  runHardwareAware,
  runNetwork,
  selectClips,
} from '../dist/index.js';
import { loadProcessAndCalibration } from '../dist/cli/common.js';

const args = process.argv.slice(2);
const opt = (name) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : undefined);
const file = args.find((a, i) => !a.startsWith('--') && (i === 0 || !args[i - 1].startsWith('--')));
if (!file) {
  console.error(
    'usage: node scripts/hwaware-levers.mjs <model.json> [--process p] [--clip f | --clips N] [--filter ..] [--units ..] [--trim N]',
  );
  process.exit(2);
}
const { process: proc, calibration } = await loadProcessAndCalibration({
  process: opt('process') ?? 'c180',
  kit: opt('kit'),
  calibrated: true,
});
const loaded = await loadModel(file);
const net = opt('unit-current') ? { ...loaded, unitCurrentA: Number(opt('unit-current')) } : loaded;
const set = await readFeatureFile(opt('features') ?? 'data/kws-synth/features.safetensors');
const scored = opt('clip')
  ? [await loadInputs(opt('clip'))]
  : selectClips(set, 'test', Number(opt('clips') ?? 50)).map((c) => clipInputs(set, c.index));
/** Margin window (units) within which a frame counts towards a trim: where the sign of the margin is at stake. */
const TRIM_WINDOW = 0.3;
/** Fewer samples than this near a threshold: no trim for it (a median of a handful is noise). */
const TRIM_MIN_SAMPLES = 5;

/** Unit-frames (all clips), the worst clip's count and decisions that differ, hardware-aware (timed) vs trained. */
function score(trained, circuitNet, circuit = {}) {
  const hw = hardwareAwareNetwork(circuitNet, proc, calibration, circuit);
  let differ = 0;
  let worst = 0;
  let decisions = 0;
  for (const x of scored) {
    const a = runNetwork(trained, x);
    const b = runHardwareAware(hw, x);
    let d = 0;
    for (let l = 0; l < a.states.length; l++)
      for (let i = 0; i < a.states[l].length; i++) d += a.states[l][i] !== b.states[l][i];
    differ += d;
    worst = Math.max(worst, d);
    decisions += a.decision !== b.decision;
  }
  return `${differ} unit-frames differ, worst clip ${worst}, decisions differing ${decisions}`;
}

/** Per cell (block * cells + unit): median margin error near beta_lo and near beta_hi (units). */
function measureTrims(clips) {
  const hw = hardwareAwareNetwork(net, proc, calibration);
  const S = net.cells;
  const th = net.blocks.map((b) => cellThresholds(b.cell));
  const near = Array.from({ length: net.blocks.length * S }, () => ({ lo: [], hi: [] }));
  for (const x of clips) {
    const a = runNetwork(net, x);
    const b = runHardwareAware(hw, x);
    for (let l = 0; l < net.blocks.length; l++)
      for (let t = 1; t < x.frames; t++) {
        // The cell's own bank one frame back and its inputs' bank now: where they differ, so does the candidate.
        const agree = (u, f) => a.states[u].subarray(f * S, (f + 1) * S).every((s, j) => s === b.states[u][f * S + j]);
        if (!agree(l, t - 1) || (l > 0 && !agree(l - 1, t))) continue;
        for (let j = 0; j < S; j++) {
          const on = a.states[l][(t - 1) * S + j];
          const k = l * S + j;
          const marginTrained = a.candidates[l][t * S + j] - (on ? th[l].betaLo[j] : th[l].betaHi[j]);
          if (Math.abs(marginTrained) > TRIM_WINDOW) continue;
          const marginHw = b.candidates[l][t * S + j] - (on ? hw.betaLo[k] : hw.betaHi[k]);
          (on ? near[k].lo : near[k].hi).push(marginHw - marginTrained);
        }
      }
  }
  const median = (v) => (v.length < TRIM_MIN_SAMPLES ? 0 : [...v].sort((p, q) => p - q)[v.length >> 1]);
  return near.map((c) => ({ lo: median(c.lo), hi: median(c.hi), samples: c.lo.length + c.hi.length }));
}

/** The network with every cell's thresholds moved by its trims (what the circuit is then built for). */
function trimmed(trims) {
  const S = net.cells;
  return {
    ...net,
    blocks: net.blocks.map((b, l) => {
      const th = cellThresholds(b.cell);
      const beta1 = th.betaLo.map((lo, j) => Math.max(lo + trims[l * S + j].lo, 0));
      const delta = th.betaHi.map((hi, j) => Math.max(hi + trims[l * S + j].hi - beta1[j], 0));
      return { ...b, cell: { ...b.cell, beta1, delta } };
    }),
  };
}

console.log(`${file} on ${proc.name}, I_unit ${net.unitCurrentA} A, ${scored.length} clip(s)`);
console.log(`  as shipped: ${score(net, net)}`);
for (const f of (opt('filter') ?? '').split(',').filter(Boolean))
  console.log(`  cell input filter ${f} F/A: ${score(net, net, { cellInputCapFPerA: Number(f) })}`);
for (const u of (opt('units') ?? '').split(',').filter(Boolean)) {
  const at = { ...net, unitCurrentA: Number(u) };
  console.log(`  I_unit ${u} A: ${score(at, at)}`);
}
if (opt('trim')) {
  const train = selectClips(set, 'train', Number(opt('trim'))).map((c) => clipInputs(set, c.index));
  const trims = measureTrims(train);
  const pA = (v) => ((v * net.unitCurrentA) / 1e-12).toFixed(2);
  console.log(`  trims (pA, lo / hi per cell): ${trims.map((t) => `${pA(t.lo)}/${pA(t.hi)}`).join(' ')}`);
  console.log(`  trimmed thresholds: ${score(net, trimmed(trims))}`);
}

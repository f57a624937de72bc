#!/usr/bin/env node
// Score the hardware-aware model against the circuit on a finished `bmru kws` run, clip by clip, without ngspice.
//
//   node scripts/hwaware-kws.mjs out/kws-c180 [--process c180] [--calibration file] [--record-calibration file]
//                                [--csv out/kws-c180/hwaware.csv]
//
// Each result record holds the comparison of the circuit with its verdict's reference (by default the hardware-aware
// model, before that the realised one): that model's states (recomputed here) with the listed disagreements flipped
// are the circuit's states. Against
// them: the trained model, the realised one, and the hardware-aware model (steady and timed), per unit-frame
// and per clip decision. The calibration is the process's calibration.json (its `hardware` tables) unless given.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  hardwareAwareNetwork,
  loadCalibration,
  loadInputs,
  loadModel,
  loadProcess,
  runHardwareAware,
  runNetwork,
} from '../dist/index.js';
import { resolveProcessPath } from '../dist/util/paths.js';

const args = process.argv.slice(2);
const dir = args.find((a) => !a.startsWith('--'));
const opt = (name) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
if (!dir) {
  console.error('usage: node scripts/hwaware-kws.mjs <kws output folder> [--process name] [--csv file]');
  process.exit(2);
}
// Only the current plan's jobs: results/ keeps the records of every earlier run in the folder (another circuit, other
// ids), and pooling them counted 200 clips for 50.
const current = new Set(JSON.parse(readFileSync(join(dir, 'jobs.json'), 'utf8')).jobs.map((j) => j.id));
const records = readdirSync(join(dir, 'results'))
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(join(dir, 'results', f), 'utf8')))
  .filter((r) => r.status === 'ok' && current.has(r.job.id))
  .sort((a, b) => a.job.index - b.job.index);
const procName = opt('process') ?? records[0].job.process.ref;
const proc = await loadProcess(resolveProcessPath(procName));
const calibration = opt('calibration')
  ? JSON.parse(readFileSync(opt('calibration'), 'utf8'))
  : await loadCalibration(proc.dir);
if (!calibration?.hardware)
  console.warn(
    `warning: the calibration has no hardware tables (run bmru calibrate -p ${procName}): the hardware-aware model is the realised network with per-copy gains`,
  );
const net = await loadModel(join(dir, 'model.json'));
const hw = hardwareAwareNetwork(net, proc, calibration);
// The tables the records were judged with, when they are not the ones scored here (--record-calibration).
const recordHw = opt('record-calibration')
  ? hardwareAwareNetwork(net, proc, JSON.parse(readFileSync(opt('record-calibration'), 'utf8')))
  : undefined;

const models = ['trained', 'realised', 'steady', 'hwaware'];
const total = Object.fromEntries(models.map((m) => [m, { agree: 0, decisions: 0 }]));
let unitFrames = 0;
const rows = [['clip', 'circuit_decision', ...models.flatMap((m) => [`${m}_agree`, `${m}_decision`])]];
const time = { realised: 0, steady: 0, hwaware: 0 };
for (const r of records) {
  const inputs = await loadInputs(r.job.input.file);
  let t0 = performance.now();
  const realised = runNetwork(hw.realised, inputs);
  time.realised += performance.now() - t0;
  t0 = performance.now();
  const steady = runHardwareAware(hw, inputs, { dynamics: false });
  time.steady += performance.now() - t0;
  t0 = performance.now();
  const aware = runHardwareAware(hw, inputs, process.env.STEPS ? { stepsPerFrame: +process.env.STEPS } : {});
  time.hwaware += performance.now() - t0;
  const traces = { trained: runNetwork(net, inputs), realised, steady, hwaware: aware };
  // The circuit: the states of the model the record's comparison judged against (its `reference`; records written
  // before references existed: realised), with the comparison's disagreements flipped to the circuit's. A record
  // judged against the hwaware model must have been made with the same tables this script reads, or give those as
  // --record-calibration.
  const judged =
    r.cosim.reference === 'hwaware' && recordHw
      ? runHardwareAware(recordHw, inputs)
      : traces[r.cosim.reference ?? 'realised'];
  const circuit = judged.states.map((s) => Uint8Array.from(s));
  for (const d of r.cosim.comparison.disagreements) circuit[d.block][d.frame * net.cells + d.unit] = d.circuit;
  const circuitDecision = r.cosim.comparison.circuitDecision;
  const row = [r.job.input.path.replace(/^clips\//, '').replace(/\.csv$/, ''), circuitDecision];
  unitFrames += circuit.reduce((a, s) => a + s.length, 0);
  for (const m of models) {
    const tr = traces[m];
    let agree = 0;
    tr.states.forEach((s, k) => s.forEach((v, i) => (agree += v === circuit[k][i] ? 1 : 0)));
    total[m].agree += agree;
    total[m].decisions += tr.decision === circuitDecision ? 1 : 0;
    row.push(agree, tr.decision);
  }
  rows.push(row);
}
const pct = (x) => `${(100 * x).toFixed(2)}%`;
console.log(
  `${records.length} clips of ${dir} on ${proc.name}, ${unitFrames} unit-frames (circuit = ngspice states of the kws run)`,
);
for (const m of models)
  console.log(
    `  ${m.padEnd(9)} unit-frames ${pct(total[m].agree / unitFrames).padStart(7)} (${unitFrames - total[m].agree} differ)   decisions ${total[m].decisions}/${records.length}`,
  );
console.log(
  `  time over the clips: realised ${time.realised.toFixed(1)} ms, steady ${time.steady.toFixed(1)} ms, hwaware ${time.hwaware.toFixed(1)} ms`,
);
const perClip = unitFrames / records.length;
const hwCol = 2 + 2 * models.indexOf('hwaware');
const off = rows
  .slice(1)
  .filter((r) => r[hwCol] < perClip)
  .sort((a, b) => a[hwCol] - b[hwCol]);
if (off.length > 0)
  console.log(
    `  clips where the hardware-aware model differs: ${off.map((r) => `${r[0]} (${perClip - r[hwCol]})`).join(', ')}`,
  );
const csv = opt('csv');
if (csv) {
  writeFileSync(csv, rows.map((r) => r.join(',')).join('\n') + '\n');
  console.log(`written: ${csv}`);
}

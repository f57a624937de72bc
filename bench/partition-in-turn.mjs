// Windows in turn (issue 13, pipeline.ts chainedWindows) against one deck per partition, and optionally against the
// monolithic run: the same partitioned run per cell with each --handoff-points limit given (0 = one deck each),
// states and the worst per-frame candidate (relative to max(|c|, 0.1 I_unit), as test/circuit/partition.test.ts).
//   npm run build && node bench/partition-in-turn.mjs <model.json> <clip.csv> <frames> <limit> [limit ...]
//   e.g. node bench/partition-in-turn.mjs models/kws/kws-w4.json models/kws/clip-yes.csv 48 0 300
// BENCH_MONO=1 also runs the monolithic deck and scores each run against it; BENCH_DUMP=x lists the candidates more
// than x (a fraction) apart between the first and each later run.
import { cosimulate, loadCalibration, loadInputs, loadModel, loadProcess } from '../dist/index.js';
import { resolveProcessPath } from '../dist/util/paths.js';

const FLOOR_UNITS = 0.1;
const [modelFile, clipFile, framesArg, ...limitArgs] = process.argv.slice(2);
const frames = Number(framesArg);
const limits = limitArgs.map(Number);
if (!modelFile || !clipFile || !(frames > 0) || limits.length === 0 || limits.some((l) => !(l >= 0)))
  throw new Error('usage: node bench/partition-in-turn.mjs <model.json> <clip.csv> <frames> <limit> [limit ...]');
const proc = await loadProcess(resolveProcessPath(process.env.BENCH_PROCESS ?? 'c180'));
const calibration = await loadCalibration(proc.dir);
const net = await loadModel(modelFile);
const clip = await loadInputs(clipFile);
const inputs = { ...clip, frames, data: clip.data.slice(0, frames * clip.features) };

/** Worst candidate apart (relative to max(|a|, floor)) and where, and the states the same, of b against a. */
function apart(a, b) {
  let worst = 0;
  let where = '';
  let same = 0;
  let all = 0;
  a.candidates.forEach((blk, k) =>
    blk.forEach((v, i) => {
      const d = Math.abs(b.candidates[k][i] - v) / Math.max(Math.abs(v), FLOOR_UNITS);
      if (d > worst) [worst, where] = [d, `block ${k} frame ${Math.floor(i / net.cells)} unit ${i % net.cells}`];
      all++;
      if (a.states[k][i] === b.states[k][i]) same++;
    }),
  );
  return { worst, where, same, all };
}

const runs = [];
for (const limit of limits) {
  const t0 = performance.now();
  const r = await cosimulate(net, inputs, {
    process: proc,
    calibration,
    partitioned: true,
    partitionBy: 'cell',
    workers: 2,
    timeWindows: 1,
    handoffPointsPerDeck: limit,
  });
  const inTurn = r.simulation.partitions.filter((p) => p.windowsInTurn);
  console.log(
    `limit ${limit}: wall ${((performance.now() - t0) / 1e3).toFixed(1)} s, ${inTurn.length} partitions in turn, ` +
      `${inTurn.reduce((s, p) => s + p.windowsInTurn, 0)} windows`,
  );
  runs.push(r);
}
for (let n = 1; n < runs.length; n++) {
  const x = apart(runs[0].circuit, runs[n].circuit);
  console.log(
    `limit ${limits[n]} vs ${limits[0]}: states ${x.same}/${x.all}, worst candidate ${(x.worst * 100).toFixed(3)}% (${x.where})`,
  );
  const dump = Number(process.env.BENCH_DUMP ?? NaN);
  if (dump > 0)
    runs[0].circuit.candidates.forEach((blk, k) =>
      blk.forEach((v, i) => {
        const w = runs[n].circuit.candidates[k][i];
        if (Math.abs(w - v) / Math.max(Math.abs(v), FLOOR_UNITS) > dump)
          console.log(
            `  block ${k} frame ${Math.floor(i / net.cells)} unit ${i % net.cells}: ${v.toFixed(4)} vs ${w.toFixed(4)}`,
          );
      }),
    );
}
if (process.env.BENCH_MONO) {
  const mono = await cosimulate(net, inputs, { process: proc, calibration });
  for (const [n, r] of runs.entries()) {
    const x = apart(mono.circuit, r.circuit);
    console.log(
      `limit ${limits[n]} vs monolithic: states ${x.same}/${x.all}, worst candidate ${(x.worst * 100).toFixed(3)}% (${x.where})`,
    );
  }
}

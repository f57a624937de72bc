// Partitioned vs monolithic transient (issue 13) on the embedded c180 card: ngspice CPU seconds (acct's "Total
// analysis time", summed over partitions) and agreement (unit-frame states, per-frame candidates, supply current).
//   npm run build && node bench/partition.mjs [width:frames ...]     default: 4:10 8:10 16:3
// (BENCH_VERBOSE=1: each partition's CPU seconds and time points, and where the worst candidate is, on stderr;
// BENCH_FRONT_END_CUT=w: split by cell, cut the front end per output from width w, default FRONT_END_CUT_FROM_WIDTH;
// BENCH_REPLAY=bsource: hand-offs as B sources in the decks instead of replayed from files; BENCH_ALL_OPTIONS below)
// Width 4 is the shipped example on the first frames of its clip; other widths a seeded random network of the KWS
// shape (13 inputs, 2 blocks, 2 classes) on a seeded random clip.
import {
  analysisCpuSeconds,
  cosimulate,
  loadCalibration,
  loadInputs,
  loadModel,
  loadProcess,
  randomInputs,
  randomNetwork,
  simulationLabel,
} from '../dist/index.js';
import { resolveProcessPath } from '../dist/util/paths.js';

const FLOOR_UNITS = 0.1; // as test/circuit/partition.test.ts: candidates below 0.1 I_unit compared to 0.1 I_unit

// BENCH_PROCESS=gf180mcu (or a process.json path) runs the same cases on another kit.
const process_ = await loadProcess(resolveProcessPath(process.env.BENCH_PROCESS ?? 'c180'));
const calibration = await loadCalibration(process_.dir);
const cases = (process.argv.length > 2 ? process.argv.slice(2) : ['4:10', '8:10', '16:3']).map((s) => {
  const [w, f] = s.split(':').map(Number);
  return { width: w, frames: f };
});

async function workload(width, frames) {
  if (width === 4) {
    const net = await loadModel(new URL('../models/example/kws-example.json', import.meta.url).pathname);
    const clip = await loadInputs(new URL('../models/example/clip-101.csv', import.meta.url).pathname);
    return { net, inputs: { ...clip, frames, data: clip.data.slice(0, frames * clip.features) }, name: 'example' };
  }
  const net = randomNetwork({ inputs: 13, width, blocks: 2, classes: 2, seed: 1 });
  return { net, inputs: randomInputs(frames, 13, 1), name: 'random seed 1' };
}

const cpuOf = (r) =>
  r.simulation.mode === 'partitioned'
    ? r.simulation.partitions.reduce((s, p) => s + (p.cpuS ?? NaN), 0)
    : analysisCpuSeconds(r.run.stdoutTail);

// Each partitioned mode against the one monolithic run: per block (a chain of decks) and per cell (each block's
// cells side by side), each with 1 and 2 ngspice workers. Wall seconds around cosimulate (generation, sampling and
// the comparison included), CPU seconds ngspice's own.
// BENCH_MODES=cell (a comma-separated list of name prefixes) runs only those partitioned modes
// (BENCH_MODES='cell -j1,cell 2-pass': one pass and two passes per cell).
const ALL_MODES = [
  { name: 'block -j1', partitionBy: 'block', workers: 1 },
  { name: 'block -j2', partitionBy: 'block', workers: 2 },
  { name: 'cell -j1', partitionBy: 'cell', workers: 1 },
  { name: 'cell -j2', partitionBy: 'cell', workers: 2 },
  // A block's outputs in groups of a quarter of the width (fewer ngspice starts, fewer hand-off decks).
  { name: 'cell/group -j2', partitionBy: 'cell', workers: 2, outputsPerQuarter: true },
  // Two passes: the second with the replicas' drains following the first pass's copies' drains.
  { name: 'cell 2-pass -j1', partitionBy: 'cell', workers: 1, partitionPasses: 2 },
  // The partitions that forget and run alone (front end, shared parts, classifier) cut into 2 time windows side by
  // side (netlist/window.ts); the default is one deck each (pipeline.ts DEFAULT_TIME_WINDOWS: not exact on GF180MCU).
  { name: 'cell -j2 two windows', partitionBy: 'cell', workers: 2, timeWindows: 2 },
  // The partitions' reltol 5x looser: the monolithic deck's 1e-4 for most, a cell's 2e-5 (they scale from the deck's).
  { name: 'cell loose -j2', partitionBy: 'cell', workers: 2, reltol: 5e-4 },
  // Partitions whose hand-offs hold more than BENCH_HANDOFF_POINTS (default 300) points a line run as time windows in
  // turn, each from the states the one before left (pipeline.ts chainedWindows); 'cell -j2' runs them only above the
  // default HANDOFF_POINTS_PER_DECK, which these short clips do not reach.
  {
    name: 'cell in turn -j2',
    partitionBy: 'cell',
    workers: 2,
    handoffPoints: Number(process.env.BENCH_HANDOFF_POINTS ?? 300),
  },
];
const MODES = ALL_MODES.filter(
  (m) => !process.env.BENCH_MODES || process.env.BENCH_MODES.split(',').some((x) => m.name.startsWith(x)),
);
// BENCH_PART_OPTIONS='trtol=20,...': ngspice .options for every partitioned mode (the monolithic reference keeps
// the defaults), to measure a setting against it.
/** `key=value,...` of an environment variable as ngspice .options. */
const optionsFrom = (name) =>
  Object.fromEntries(
    (process.env[name] ?? '')
      .split(',')
      .filter(Boolean)
      .map((kv) => kv.split('=')),
  );
const PART_OPTIONS = optionsFrom('BENCH_PART_OPTIONS');
// BENCH_ALL_OPTIONS='reltol=1e-5,...': .options for the monolithic reference and every partitioned mode alike, to see
// whether a difference between them is the integration's own error at the decks' tolerances (it shrinks when both
// are tightened) or the cut's (it stays).
const ALL_OPTIONS = optionsFrom('BENCH_ALL_OPTIONS');
const total = (c) => Object.values(c.supplyMeanA).reduce((s, x) => s + x, 0);

function agreement(a, b) {
  let same = 0;
  let all = 0;
  let cand = 0;
  a.states.forEach((blk, k) =>
    blk.forEach((s, i) => {
      all++;
      if (s === b.states[k][i]) same++;
    }),
  );
  // Where the worst candidate is (block, frame, unit), to trace it: candidates are [block][frame * cells + unit].
  let at = '';
  a.candidates.forEach((blk, k) =>
    blk.forEach((v, i) => {
      const rel = Math.abs(b.candidates[k][i] - v) / Math.max(Math.abs(v), FLOOR_UNITS);
      if (rel > cand) {
        cand = rel;
        const cells = blk.length / a.frames;
        at = `block ${k} frame ${Math.floor(i / cells)} unit ${i % cells}: ${b.candidates[k][i].toFixed(5)} vs ${v.toFixed(5)}`;
      }
    }),
  );
  return { same, all, cand, at, supply: total(b) / total(a) - 1 };
}

async function timed(f) {
  const t0 = performance.now();
  const r = await f();
  return { r, wallS: (performance.now() - t0) / 1e3 };
}

console.log(
  '| width | frames | transistors | run | partitions | ngspice CPU-s | wall s | states same | cand max rel | supply rel |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const { width, frames } of cases) {
  const { net, inputs, name } = await workload(width, frames);
  const opts = { process: process_, calibration, spiceOptions: ALL_OPTIONS };
  const mono = await timed(() => cosimulate(net, inputs, opts));
  const row = (run, parts, cpu, wall, ag) =>
    console.log(
      `| ${width} (${name}) | ${frames} | ${mono.r.generated.transistors} | ${run} | ${parts} | ${cpu.toFixed(2)} | ${wall.toFixed(2)} | ` +
        (ag
          ? `${ag.same}/${ag.all} | ${(ag.cand * 100).toFixed(3)}% | ${(ag.supply * 100).toFixed(4)}% |`
          : '- | - | - |'),
    );
  row('monolithic', 1, cpuOf(mono.r), mono.wallS);
  for (const m of MODES) {
    const part = await timed(() =>
      cosimulate(net, inputs, {
        ...opts,
        partitioned: true,
        partitionBy: m.partitionBy,
        workers: m.workers,
        outputsPerPartition: m.outputsPerQuarter ? Math.max(1, width / 4) : 1,
        partitionPasses: m.partitionPasses ?? 1,
        ...(m.timeWindows === undefined ? {} : { timeWindows: m.timeWindows }),
        spiceOptions: { ...ALL_OPTIONS, ...PART_OPTIONS, ...(m.reltol === undefined ? {} : { reltol: m.reltol }) },
        ...(m.handoffPoints === undefined ? {} : { handoffPointsPerDeck: m.handoffPoints }),
        ...(process.env.BENCH_FRONT_END_CUT ? { frontEndCutFromWidth: Number(process.env.BENCH_FRONT_END_CUT) } : {}),
        ...(process.env.BENCH_REPLAY ? { handoffReplay: process.env.BENCH_REPLAY } : {}),
      }),
    );
    const ag = agreement(mono.r.circuit, part.r.circuit);
    row(m.name, part.r.simulation.partitions.length, cpuOf(part.r), part.wallS, ag);
    if (process.env.BENCH_VERBOSE) console.error(`worst candidate ${m.name}: ${ag.at}`);
    if (process.env.BENCH_VERBOSE)
      console.error(
        part.r.simulation.partitions
          .map((p) => `${p.label} ${p.cpuS}s/${p.points}pts${p.windowsInTurn ? ` ${p.windowsInTurn} in turn` : ''}`)
          .join(', '),
      );
  }
}

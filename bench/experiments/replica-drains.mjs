// The replica-drain experiments of docs/partition.md ("Replica loads"): a per-cell partitioned run with one variant
// of the gate-load replicas' drains against a monolithic run cached in CACHE_DIR (the first call per W:F runs it,
// saving every cut copy's drain for the oracle variants).
//   npm run build && node bench/experiments/replica-drains.mjs W:F variant
// A record, not a tool: the variants use the runPartitioned hooks of commit 600b8a4 (schedule.replicaDrive,
// schedule.rerun, schedule.firstPassLoosen; `front2` also a schedule.firstPass filter that was never committed),
// which the shipped code replaced by `passes: 2`. Run it on a checkout of that commit.
import { mkdirSync } from 'node:fs';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import {
  analysisCpuSeconds,
  cosimulate,
  generateNetlist,
  runPartitioned,
  handoffWaveforms,
  partitionCircuit,
  loadCalibration,
  loadInputs,
  loadModel,
  loadProcess,
  randomInputs,
  randomNetwork,
  sampleCircuit,
  transientPlot,
  vector,
  compressPwl,
  GLOBAL_NODES,
} from '../../dist/index.js';
import { resolveProcessPath } from '../../dist/util/paths.js';
const process_ = await loadProcess(resolveProcessPath('c180'));
const calibration = await loadCalibration(process_.dir);
const [w, f] = process.argv[2].split(':').map(Number);
const variant = process.argv[3] ?? 'base';
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
const plan = partitionCircuit(g.built, { by: 'cell' });
const drains = [...new Set(plan.partitions.flatMap((p) => p.replicaDrains.map((d) => d.node)))].filter(
  (n) => !GLOBAL_NODES.has(n),
);
const CACHE_DIR = '/tmp/bmru-replica-drains';
mkdirSync(CACHE_DIR, { recursive: true });
const cache = `${CACHE_DIR}/mono-w${w}f${f}.json`;
if (!existsSync(cache)) {
  const m = await cosimulate(net, inputs, { ...opts, extraSaves: drains.map((n) => `v(${n})`) });
  const plot = transientPlot(m.run.plots);
  const t = vector(plot, 'time');
  const wave = Object.fromEntries(drains.map((n) => [n, compressPwl(t, vector(plot, `v(${n})`), 20e-6)]));
  const mean = Object.fromEntries(
    drains.map((n) => {
      const y = vector(plot, `v(${n})`);
      let s = 0;
      for (let i = 1; i < t.length; i++) s += 0.5 * (y[i] + y[i - 1]) * (t[i] - t[i - 1]);
      return [n, s / (t[t.length - 1] - t[0])];
    }),
  );
  const c = m.circuit;
  writeFileSync(
    cache,
    JSON.stringify({
      cpuS: analysisCpuSeconds(m.run.stdoutTail),
      states: c.states.map((x) => [...x]),
      candidates: c.candidates.map((x) => [...x]),
      supplyMeanA: c.supplyMeanA,
      wave,
      mean,
    }),
  );
  console.log(`monolithic ${w}:${f} cpu ${analysisCpuSeconds(m.run.stdoutTail)}`);
}
const mono = JSON.parse(readFileSync(cache, 'utf8'));
const globalV = (node) => (node === 'vsn' ? (process_.nmosSourceV ?? 0) : node === '0' ? 0 : process_.vddV);
const constant = (v) => [
  [0, v],
  [g.tStopS, v],
];
const supplyOf = (d) => null;
const variants = {
  base: {},
  oracleFollow: { replicaDrive: (p, first, tolV) => ({ tolV, globalV, waveform: (d) => mono.wave[d.node] }) },
  oracleMean: { replicaDrive: (p, first, tolV) => ({ tolV, globalV, waveform: (d) => constant(mono.mean[d.node]) }) },
  twoPass: {
    replicaDrive: (p, first, tolV) =>
      first && {
        tolV,
        globalV,
        waveform: (d) => {
          const pl = first[d.from];
          return compressPwl(vector(pl, 'time'), vector(pl, `v(${d.node})`), tolV);
        },
      },
    rerun: () => true,
  },
  // first pass's mean drain voltage, second pass
  twoPassMean: {
    replicaDrive: (p, first, tolV) =>
      first && {
        tolV,
        globalV,
        waveform: (d) => {
          const pl = first[d.from];
          const y = vector(pl, `v(${d.node})`);
          const t = vector(pl, 'time');
          let s = 0;
          for (let i = 1; i < t.length; i++) s += 0.5 * (y[i] + y[i - 1]) * (t[i] - t[i - 1]);
          return constant(s / (t[t.length - 1] - t[0]));
        },
      },
    rerun: () => true,
  },
};
Object.assign(
  variants,
  (await import('./replica-drains-variants.mjs').catch(() => ({ default: () => ({}) }))).default({
    mono,
    globalV,
    constant,
    plan,
    process_,
    g,
    vector,
    compressPwl,
  }),
);
const v = variants[variant];
const part = await runPartitioned(g.built, net, opts, g.tStopS, {}, handoffWaveforms, { by: 'cell', workers: 1, ...v });
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
      where = `block ${k} frame ${Math.floor(i / net.width)} unit ${i % net.width}: ${x.toFixed(4)} vs ${c.candidates[k][i].toFixed(4)}`;
    }
  }),
);
const tot = (s) => Object.values(s).reduce((a, b) => a + b, 0);
const cpu = part.partitions.reduce((s, p) => s + (p.cpuS ?? NaN), 0);
console.log(
  `${w}:${f} ${variant}: cpu ${cpu.toFixed(2)} (mono ${mono.cpuS?.toFixed(2)}, ratio ${(mono.cpuS / cpu).toFixed(2)}x) states ${same}/${all} cand ${(cand * 100).toFixed(3)}% [${where}] supply ${((tot(c.supplyMeanA) / tot(mono.supplyMeanA) - 1) * 100).toFixed(4)}%`,
);
if (process.env.VERBOSE) console.log(part.partitions.map((p) => `${p.label} ${p.cpuS}`).join(', '));

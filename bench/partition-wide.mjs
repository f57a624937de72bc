// One partitioned run of a wide random network (issue 13's width-64 target) on a short random clip: the seconds
// ngspice reports (summed over partitions, and per kind of partition; elapsed, not CPU, in Debian's build), wall
// seconds, this process's CPU and peak memory, states against the software model. For ngspice's CPU run it under
// `/usr/bin/time`: it counts the children this process waited for.
// No monolithic run (at width 64 it does not finish in useful time on this machine).
//   npm run build && node bench/partition-wide.mjs [width] [frames]     default: 64 2
// BENCH_WINDOWS=n: the partitions that forget and run alone (front end, shared parts, classifier) as n time windows
// side by side (default 1); BENCH_RELTOL=x: the deck reltol the partitions' own scale from (default the generator's);
// BENCH_OUTPUTS=n: a block's outputs n to a partition (default 1); BENCH_HANDOFF_POINTS=n: hand-off points a line
// above which a partition runs as time windows in turn (default the toolkit's: never with hand-offs replayed from
// files, HANDOFF_POINTS_PER_DECK with BENCH_REPLAY=bsource; 0 = never);
// BENCH_FRONT_END_CUT=w: cut the front end per output from width w (default FRONT_END_CUT_FROM_WIDTH; 0 = always).
// BENCH_REPLAY=bsource: hand-offs as B sources in the decks (default: replayed from files where ngspice can).
import { randomNetwork, randomInputs, loadProcess, loadCalibration, cosimulate, closeLauncher } from '../dist/index.js';
import { resolveProcessPath } from '../dist/util/paths.js';

const process_ = await loadProcess(resolveProcessPath('c180'));
const calibration = await loadCalibration(process_.dir);
const width = Number(process.argv[2] ?? 64);
const frames = Number(process.argv[3] ?? 2);
const net = randomNetwork({ inputs: 13, width, blocks: 2, classes: 2, seed: 1 });
const inputs = randomInputs(frames, 13, 1);
const t0 = performance.now();
const r = await cosimulate(net, inputs, {
  process: process_,
  calibration,
  partitioned: true,
  partitionBy: 'cell',
  workers: 2,
  maxTransistors: 1e6, // the width-64 network is over the default budget; nothing else depends on it here
  timeWindows: Number(process.env.BENCH_WINDOWS ?? 1),
  outputsPerPartition: Number(process.env.BENCH_OUTPUTS ?? 1),
  ...(process.env.BENCH_FRONT_END_CUT ? { frontEndCutFromWidth: Number(process.env.BENCH_FRONT_END_CUT) } : {}),
  ...(process.env.BENCH_HANDOFF_POINTS ? { handoffPointsPerDeck: Number(process.env.BENCH_HANDOFF_POINTS) } : {}),
  ...(process.env.BENCH_REPLAY ? { handoffReplay: process.env.BENCH_REPLAY } : {}),
  // The runner's 10-minute limit per ngspice run is for one clip's partition; before the front end was cut per output
  // (session 27) a 101-frame front end at width 64 took ~7 CPU-s a frame (2 windows of ~51 frames: ~6 min each).
  run: { timeoutMs: 2 * 3600e3 },
  ...(process.env.BENCH_RELTOL ? { spiceOptions: { reltol: Number(process.env.BENCH_RELTOL) } } : {}),
});
const wallS = (performance.now() - t0) / 1e3;
// The toolkit's share: this process's own CPU and peak memory, and the CPU of the launcher that started ngspice
// once this process had grown (src/spice/launcher.ts); ngspice's children are in neither.
const launcherCpuS = await closeLauncher();
const usage = process.resourceUsage();
const nodeCpuS = (usage.userCPUTime + usage.systemCPUTime) / 1e6 + launcherCpuS;
const ps = r.simulation.partitions;
const cpu = ps.reduce((s, p) => s + (p.cpuS ?? NaN), 0);
console.log(
  `width ${width}, ${frames} frames: ${r.generated.transistors} transistors, ${ps.length} partitions, ` +
    `ngspice-reported s ${cpu.toFixed(1)} (elapsed per run, not CPU), wall s ${wallS.toFixed(1)}, ` +
    `toolkit CPU-s ${nodeCpuS.toFixed(1)} (launcher ${launcherCpuS.toFixed(1)}), peak RSS ${(usage.maxRSS / 1024).toFixed(0)} MB`,
);
const kinds = {};
for (const p of ps) {
  const k = p.label.replace(/ cell \d+$/, ' cells').replace(/ outputs? \d+(-\d+)?$/, ' outputs');
  kinds[k] ??= { cpu: 0, n: 0, maxPoints: 0, wallS: 0, inTurn: 0 };
  kinds[k].cpu += p.cpuS ?? NaN;
  kinds[k].wallS += p.durationMs / 1e3;
  kinds[k].inTurn += p.windowsInTurn ?? 0;
  kinds[k].n++;
  kinds[k].maxPoints = Math.max(kinds[k].maxPoints, p.points);
}
for (const [k, v] of Object.entries(kinds))
  console.log(
    `  ${k}: ${v.n} partitions, ${v.cpu.toFixed(2)} ngspice-reported s, ${v.wallS.toFixed(1)} wall s summed, ` +
      `max ${v.maxPoints} points, ${v.inTurn} windows in turn`,
  );
const c = r.comparison;
console.log(
  `states vs the software model: ${(c.stateAgreement * 100).toFixed(2)}% of ${c.unitFrames} unit-frames, ` +
    `decision ${c.decisionMatch ? 'matches' : 'differs'}`,
);

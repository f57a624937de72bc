// Where a full-trace batch's time goes (issue 13, software model on 2 cores): per batch, wall time, this process's
// minor page faults and system CPU, for keep 'all' and keep 'states' on 1 and 2 workers (bench (g)'s workload:
// random network, 80 clips of 101 frames). Page faults and system time are what fresh result memory costs; the
// difference between the two keeps is the analog arrays (candidates and block outputs, 16 bytes per unit-frame).
//   npm run build && node bench/batch-memory.mjs [width ...] [--batches N]     default: 128, 10 batches
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { createModelPool, runNetworkBatch } from '../dist/model/index.js';
import { workload } from './numpy-compare.mjs';

const args = process.argv.slice(2);
const at = args.indexOf('--batches');
const batches = at >= 0 ? Number(args.splice(at, 2)[1]) : 10;
const widths = args.length > 0 ? args.map(Number) : [128];
const pools = [createModelPool(1), createModelPool(2)];
// CPU ms of this process's main thread (Linux: /proc, in clock ticks of 10 ms; NaN elsewhere): what receiving the
// workers' traces costs the thread that is not a worker. With 1 worker it has the second core to itself; with 2 it
// takes its time from theirs. Run enough batches (--batches 40) for the tick's resolution.
const CLOCK_TICK_MS = 10; // USER_HZ = 100 on Linux
function mainThreadCpuMs() {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * CLOCK_TICK_MS; // utime, stime (fields 14 and 15 of stat)
  } catch {
    return NaN;
  }
}
for (const width of widths) {
  const { net, inputs } = workload(width, 80, 101);
  for (const keep of ['all', 'states']) {
    // In this thread (no pool, no message): what the batch itself costs.
    runNetworkBatch(net, inputs, { keep });
    const d0 = process.resourceUsage();
    const dt0 = performance.now();
    for (let k = 0; k < batches; k++) runNetworkBatch(net, inputs, { keep });
    const dms = (performance.now() - dt0) / batches;
    const d1 = process.resourceUsage();
    console.log(
      `width ${width}, keep ${keep}, in this thread: ${dms.toFixed(1)} ms a batch, ` +
        `${((d1.minorPageFault - d0.minorPageFault) / batches).toFixed(0)} minor page faults`,
    );
    for (const [i, pool] of pools.entries()) {
      await pool.run(net, inputs, { keep }); // warm-up: the workers' wasm memory grown, the kernels compiled
      const r0 = process.resourceUsage();
      const m0 = mainThreadCpuMs();
      const t0 = performance.now();
      for (let k = 0; k < batches; k++) await pool.run(net, inputs, { keep });
      const ms = (performance.now() - t0) / batches;
      const r1 = process.resourceUsage();
      const mainMs = (mainThreadCpuMs() - m0) / batches;
      const per = (a, b) => (b - a) / batches;
      console.log(
        `width ${width}, keep ${keep}, ${i + 1} worker(s): ${ms.toFixed(1)} ms a batch, ` +
          `${per(r0.minorPageFault, r1.minorPageFault).toFixed(0)} minor page faults, ` +
          `system CPU ${(per(r0.systemCPUTime, r1.systemCPUTime) / 1000).toFixed(1)} ms, ` +
          `user CPU ${(per(r0.userCPUTime, r1.userCPUTime) / 1000).toFixed(1)} ms, main thread ${mainMs.toFixed(1)} ms`,
      );
    }
  }
}
await Promise.all(pools.map((p) => p.close()));

// Copy bandwidth on this machine, the operation that writes a trace's analog arrays (TypedArray.set, here of 32 MiB
// per thread): one worker thread alone, then two at once. If two threads together got no more than one, the
// full traces could not scale on 2 cores whatever the code did.
const COPY_FLOATS = 4 << 20;
const COPY_REPS = 40;
const copyWorker = `
const { parentPort } = require('node:worker_threads');
const a = new Float64Array(${COPY_FLOATS}).fill(1.5);
const b = new Float64Array(${COPY_FLOATS});
for (let i = 0; i < 5; i++) b.set(a);
parentPort.on('message', (reps) => {
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) b.set(a);
  parentPort.postMessage(performance.now() - t0);
});`;
const copiers = [0, 1].map(() => new Worker(copyWorker, { eval: true }));
const copy = (w) =>
  new Promise((resolve) => {
    w.once('message', resolve);
    w.postMessage(COPY_REPS);
  });
const copyBytes = COPY_FLOATS * 8 * COPY_REPS;
for (let round = 0; round < 3; round++) {
  const oneMs = await copy(copiers[0]);
  const t0 = performance.now();
  await Promise.all(copiers.map(copy));
  const twoMs = performance.now() - t0;
  console.log(
    `copy bandwidth: 1 thread ${(copyBytes / oneMs / 1e6).toFixed(1)} GB/s, 2 threads at once ` +
      `${((2 * copyBytes) / twoMs / 1e6).toFixed(1)} GB/s (${((2 * oneMs) / twoMs).toFixed(2)}x)`,
  );
}
await Promise.all(copiers.map((w) => w.terminate()));

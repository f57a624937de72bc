// Where a full-trace batch's time goes (issue 13, software model on 2 cores): per batch, wall time, this process's
// minor page faults and system CPU, for keep 'all' and keep 'states' on 1 and 2 workers (bench (g)'s workload:
// random network, 80 clips of 101 frames). Page faults and system time are what fresh result memory costs; the
// difference between the two keeps is the analog arrays (candidates and block outputs, 16 bytes per unit-frame).
//   npm run build && node bench/batch-memory.mjs [width ...] [--batches N]     default: 128, 10 batches
import { createModelPool } from '../dist/model/index.js';
import { workload } from './numpy-compare.mjs';

const args = process.argv.slice(2);
const at = args.indexOf('--batches');
const batches = at >= 0 ? Number(args.splice(at, 2)[1]) : 10;
const widths = args.length > 0 ? args.map(Number) : [128];
const pools = [createModelPool(1), createModelPool(2)];
for (const width of widths) {
  const { net, inputs } = workload(width, 80, 101);
  for (const keep of ['all', 'states']) {
    for (const [i, pool] of pools.entries()) {
      await pool.run(net, inputs, { keep }); // warm-up: the workers' wasm memory grown, the kernels compiled
      const r0 = process.resourceUsage();
      const t0 = performance.now();
      for (let k = 0; k < batches; k++) await pool.run(net, inputs, { keep });
      const ms = (performance.now() - t0) / batches;
      const r1 = process.resourceUsage();
      const per = (a, b) => (b - a) / batches;
      console.log(
        `width ${width}, keep ${keep}, ${i + 1} worker(s): ${ms.toFixed(1)} ms a batch, ` +
          `${per(r0.minorPageFault, r1.minorPageFault).toFixed(0)} minor page faults, ` +
          `system CPU ${(per(r0.systemCPUTime, r1.systemCPUTime) / 1000).toFixed(1)} ms, ` +
          `user CPU ${(per(r0.userCPUTime, r1.userCPUTime) / 1000).toFixed(1)} ms`,
      );
    }
  }
}
await Promise.all(pools.map((p) => p.close()));

// What one child process costs this process as its memory grows (issue 13: a width-64, 101-frame partitioned run
// spawns ngspice ~3,000 times from a node process that reaches 3.8 GB). Node spawns by fork, whose cost follows the
// parent's mapped memory; this times 20 spawns of /bin/true at each resident size (to the 'spawn' event, and this
// process's CPU per spawn).
//   node bench/spawn-cost.mjs [GB ...]     default: 0 1 2 3
import { spawn } from 'node:child_process';

const SPAWNS = 20;
const CHUNK_BYTES = 128 << 20;
const sizesGb = process.argv.length > 2 ? process.argv.slice(2).map(Number) : [0, 1, 2, 3];
const once = () =>
  new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn('/bin/true');
    p.on('spawn', () => resolve(performance.now() - t0));
    p.on('error', reject);
  });
const held = [];
for (const gb of sizesGb) {
  // Touched memory (filled), as the partitioned run's plots are.
  while (held.length * CHUNK_BYTES < gb * 2 ** 30) held.push(Buffer.alloc(CHUNK_BYTES, 1));
  const r0 = process.resourceUsage();
  let ms = 0;
  for (let i = 0; i < SPAWNS; i++) ms += await once();
  const r1 = process.resourceUsage();
  const cpuMs = (r1.userCPUTime + r1.systemCPUTime - r0.userCPUTime - r0.systemCPUTime) / 1000 / SPAWNS;
  console.log(
    `resident ${(process.memoryUsage().rss / 1e9).toFixed(2)} GB: ${(ms / SPAWNS).toFixed(1)} ms a spawn, ` +
      `${cpuMs.toFixed(1)} ms of this process's CPU`,
  );
}

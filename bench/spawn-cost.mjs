// What one child process costs this process as its memory grows (issue 13: a width-64, 101-frame partitioned run
// spawns ngspice ~3,000 times from a node process that reaches 3.8 GB). Node spawns by fork, whose cost follows the
// parent's mapped memory. At each resident size this runs /bin/true 20 times through runInGroup (src/spice/group.ts)
// both ways, side by side: spawned from this process ('direct') and from the launcher process (src/spice/launcher.ts),
// and prints the wall time per run (to its end) and this process's CPU per run, with the ratio direct/launcher.
//   npm run build && node bench/spawn-cost.mjs [GB ...]     default: 0 1 2 3
import { runInGroup } from '../dist/spice/group.js';
import { closeLauncher } from '../dist/spice/launcher.js';

const RUNS = 20;
const CHUNK_BYTES = 128 << 20;
const sizesGb = process.argv.length > 2 ? process.argv.slice(2).map(Number) : [0, 1, 2, 3];
const options = { timeoutMs: 10_000, graceMs: 1000, maxOutputBytes: 1 << 20 };

/** Mean wall ms and this process's CPU ms per run of /bin/true, `via` one way. */
async function timed(via) {
  const r0 = process.resourceUsage();
  const t0 = performance.now();
  for (let i = 0; i < RUNS; i++) {
    const o = await runInGroup('/bin/true', [], { ...options, via });
    if (o.exitCode !== 0) throw new Error(`/bin/true ended ${o.exitCode ?? o.signal}`);
  }
  const r1 = process.resourceUsage();
  const cpuMs = (r1.userCPUTime + r1.systemCPUTime - r0.userCPUTime - r0.systemCPUTime) / 1000;
  return { wallMs: (performance.now() - t0) / RUNS, cpuMs: cpuMs / RUNS };
}

await timed('launcher'); // the launcher's own start, once, outside the figures
const held = [];
console.log('| resident GB | direct ms (CPU ms) | launcher ms (CPU ms) | direct / launcher wall | CPU |');
console.log('|---|---|---|---|---|');
for (const gb of sizesGb) {
  // Touched memory (filled), as the partitioned run's plots are.
  while (held.length * CHUNK_BYTES < gb * 2 ** 30) held.push(Buffer.alloc(CHUNK_BYTES, 1));
  const direct = await timed('direct');
  const launched = await timed('launcher');
  const f = (x) => x.toFixed(1);
  console.log(
    `| ${(process.memoryUsage().rss / 1e9).toFixed(2)} | ${f(direct.wallMs)} (${f(direct.cpuMs)}) | ` +
      `${f(launched.wallMs)} (${f(launched.cpuMs)}) | ${f(direct.wallMs / launched.wallMs)}x | ` +
      `${f(direct.cpuMs / launched.cpuMs)}x |`,
  );
}
console.log(`launcher's own CPU over all its runs: ${(await closeLauncher()).toFixed(2)} s`);

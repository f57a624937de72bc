// Per-domain mean power of `analyze power --scaling`'s networks (issue 13), monolithic against partitioned (per
// cell, 2 workers), at each width: the same seeded random network and clip powerScaling builds.
//   npm run build && nice node bench/power-partitioned.mjs [width:frames ...]     default: 4:4 8:4
// ngspice CPU seconds per mode from /proc/self/stat's cutime + cstime (rusage of the ngspice processes this node
// process has waited for), not ngspice's "Total analysis time" (elapsed in this build).
import { readFileSync } from 'node:fs';
import { closeLauncher, loadCalibration, loadProcess, powerScaling } from '../dist/index.js';
import { resolveProcessPath } from '../dist/util/paths.js';

const proc = await loadProcess(resolveProcessPath('c180'));
const calibration = await loadCalibration(proc.dir);
const cases = (process.argv.length > 2 ? process.argv.slice(2) : ['4:4', '8:4']).map((s) => {
  const [w, f] = s.split(':').map(Number);
  return { width: w, frames: f };
});

/** CPU seconds of this process's waited-for children (Linux: fields 16-17 of /proc/self/stat, in clock ticks). */
function childCpuS() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); cutime and cstime are fields 16 and 17.
  const ticks = Number(fields[13]) + Number(fields[14]);
  return ticks / 100; // CLK_TCK is 100 on Linux
}

async function measured(width, frames, partitioned) {
  const before = childCpuS();
  const [p] = await powerScaling({
    process: proc,
    calibration,
    widths: [width],
    frames,
    ...(partitioned ? { partitioned: true, partitionBy: 'cell', workers: 2 } : {}),
  });
  await closeLauncher(); // ngspice runs started by a launcher count once it has exited
  return { p, cpuS: childCpuS() - before };
}

const rel = (a, b) => `${(((b - a) / a) * 100).toFixed(4)}%`;
console.log('| width | frames | transistors | domain | monolithic | partitioned | rel |');
console.log('|---|---|---|---|---|---|---|');
for (const { width, frames } of cases) {
  const mono = await measured(width, frames, false);
  const part = await measured(width, frames, true);
  for (const d of mono.p.power.domains) {
    const q = part.p.power.domains.find((x) => x.domain === d.domain);
    console.log(
      `| ${width} | ${frames} | ${mono.p.transistors} | ${d.domain} | ${(d.meanW * 1e9).toFixed(4)} nW | ${(q.meanW * 1e9).toFixed(4)} nW | ${rel(d.meanW, q.meanW)} |`,
    );
  }
  console.log(
    `| ${width} | ${frames} | ${mono.p.transistors} | core | ${(mono.p.power.coreW * 1e9).toFixed(4)} nW | ${(part.p.power.coreW * 1e9).toFixed(4)} nW | ${rel(mono.p.power.coreW, part.p.power.coreW)} |`,
  );
  console.error(
    `width ${width}: monolithic ${mono.cpuS.toFixed(1)} ngspice CPU-s (states ${(mono.p.stateAgreement * 100).toFixed(2)}%), ${part.p.simulation} ${part.cpuS.toFixed(1)} CPU-s (states ${(part.p.stateAgreement * 100).toFixed(2)}%), ratio ${(mono.cpuS / part.cpuS).toFixed(2)}x`,
  );
}

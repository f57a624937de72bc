// How many frames `analyze power --scaling --partitioned` needs (issue 13): the fitted exponents per domain over the
// same widths from clips of several lengths (powerScaling's seeded networks and clips, per cell, 2 workers).
//   npm run build && nice node bench/power-scaling-frames.mjs [widths] [frames ...]     default: 2,4,8,16 4 10
import { fitScaling, loadCalibration, loadProcess, powerScaling } from '../dist/index.js';
import { resolveProcessPath } from '../dist/util/paths.js';

const proc = await loadProcess(resolveProcessPath('c180'));
const calibration = await loadCalibration(proc.dir);
const widths = (process.argv[2] ?? '2,4,8,16').split(',').map(Number);
const frameCounts = process.argv.length > 3 ? process.argv.slice(3).map(Number) : [4, 10];

console.log('| frames | domain | power per width (nW) | k vs N | R^2 | k vs weights | R^2 |');
console.log('|---|---|---|---|---|---|---|');
for (const frames of frameCounts) {
  const points = await powerScaling({
    process: proc,
    calibration,
    widths,
    frames,
    partitioned: true,
    partitionBy: 'cell',
    workers: 2,
  });
  const power = (p, d) => (d === 'core' ? p.power.coreW : p.power.domains.find((x) => x.domain === d).meanW);
  for (const f of fitScaling(points))
    console.log(
      `| ${frames} | ${f.domain} | ${points.map((p) => (power(p, f.domain) * 1e9).toFixed(2)).join(' / ')} | ${f.exponentN.toFixed(3)} | ${f.r2N.toFixed(4)} | ${f.exponentWeights.toFixed(3)} | ${f.r2Weights.toFixed(4)} |`,
    );
}

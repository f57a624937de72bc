/**
 * Writer for a real plot as an ngspice binary rawfile (the layout spice/rawfile.ts documents and reads): what a
 * Slurm task stores for a partition that ran as time windows one after another, whose transient exists only as
 * the stitched plot (no ngspice wrote it whole).
 */
import type { RawPlot } from './rawfile.js';

const BYTES_PER_DOUBLE = 8;

/**
 * One plot as a binary rawfile, point-major little-endian float64 after ngspice's header lines.
 *
 * @throws RangeError for a complex plot or a merged one whose vectors have grids of their own (`timeOf`): neither is
 *   what a partition's deck writes, and point-major data has one scale
 */
export function encodeRawfile(plot: RawPlot): Uint8Array {
  if (plot.complex) throw new RangeError(`expected a real plot, got a complex "${plot.plotname}"`);
  if (plot.timeOf?.some((t) => t !== undefined))
    throw new RangeError('expected one time grid for every vector, got a merged plot with grids of their own');
  const n = plot.numPoints;
  const v = plot.vectors.length;
  for (const [i, r] of plot.real.entries())
    if (r.length !== n) throw new RangeError(`expected ${n} points in vector ${plot.vectors[i].name}, got ${r.length}`);
  const header = [
    `Title: ${plot.title}`,
    `Date: ${plot.date}`,
    `Plotname: ${plot.plotname}`,
    'Flags: real',
    `No. Variables: ${v}`,
    `No. Points: ${n}`,
    'Variables:',
    ...plot.vectors.map((x, i) => `\t${i}\t${x.name}\t${x.type}`),
    'Binary:',
    '',
  ].join('\n');
  const head = new TextEncoder().encode(header);
  const out = new Uint8Array(head.length + n * v * BYTES_PER_DOUBLE);
  out.set(head);
  const data = new DataView(out.buffer, head.length);
  for (let p = 0; p < n; p++)
    for (let i = 0; i < v; i++) data.setFloat64((p * v + i) * BYTES_PER_DOUBLE, plot.real[i][p], true);
  return out;
}

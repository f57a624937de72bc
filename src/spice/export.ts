/**
 * Plots as tables a person or a spreadsheet reads: unique column names (ngspice can write one name twice),
 * complex vectors as real/imaginary columns (CSV) or magnitude/phase (summary), and a deck's relative includes
 * made absolute so it can run from a work folder.
 */
import path from 'node:path';
import type { RawPlot } from './rawfile.js';

/** Column names made unique: a repeated name gets `#2`, `#3`, ... in order of appearance. */
export function uniqueNames(names: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((n) => {
    const k = (seen.get(n) ?? 0) + 1;
    seen.set(n, k);
    return k === 1 ? n : `${n}#${k}`;
  });
}

/** A plot as CSV rows, header first, at full resolution; a complex plot has `re(x)`, `im(x)` columns per vector. */
export function plotRows(plot: RawPlot): (string | number)[][] {
  const names = uniqueNames(plot.vectors.map((v) => v.name));
  const header = plot.imag ? names.flatMap((n) => [`re(${n})`, `im(${n})`]) : names;
  const rows: (string | number)[][] = [header];
  for (let i = 0; i < plot.numPoints; i++) {
    rows.push(plot.imag ? plot.real.flatMap((col, v) => [col[i], plot.imag![v][i]]) : plot.real.map((col) => col[i]));
  }
  return rows;
}

/** Summary of one vector: first, last, min and max (of the magnitude, for complex values) and the phase at the last point. */
export interface VectorSummary {
  readonly name: string;
  readonly type: string;
  readonly first: number;
  readonly last: number;
  readonly min: number;
  readonly max: number;
  /** Phase at the last point (degrees), complex vectors only. */
  readonly lastPhaseDeg?: number;
}

/** Every vector of a plot summarised; complex values by magnitude (the real part alone hides a -86 deg output). */
export function summarisePlot(plot: RawPlot): VectorSummary[] {
  const names = uniqueNames(plot.vectors.map((v) => v.name));
  return plot.vectors.map((v, k) => {
    const re = plot.real[k];
    const im = plot.imag?.[k];
    const at = (i: number) => (im ? Math.hypot(re[i], im[i]) : re[i]);
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < plot.numPoints; i++) {
      const x = at(i);
      if (x < min) min = x;
      if (x > max) max = x;
    }
    const last = plot.numPoints - 1;
    return {
      name: names[k],
      type: v.type,
      first: at(0),
      last: at(last),
      min,
      max,
      ...(im && v.type !== 'frequency' ? { lastPhaseDeg: (Math.atan2(im[last], re[last]) * 180) / Math.PI } : {}),
    };
  });
}

/** A file name part for a plot (`Transient Analysis` -> `transient-analysis`), unique among the plots given. */
export function plotFileNames(plots: readonly RawPlot[]): string[] {
  return uniqueNames(
    plots.map(
      (p) =>
        p.plotname
          .toLowerCase()
          .replace(/[^a-z0-9]+/g, '-')
          .replace(/^-|-$/g, '') || 'plot',
    ),
  ).map((n) => n.replace('#', '-'));
}

/**
 * The deck with `.include`/`.inc`/`.lib` paths that are relative made absolute against `deckDir`, as ngspice resolves
 * them from the deck's own folder: the runner runs a copy from a work folder, where they would not be found.
 */
export function absoluteIncludes(deckText: string, deckDir: string): string {
  return deckText.replace(
    /^(\s*\.(?:include|inc|lib)\s+)(["']?)([^"'\s]+)\2/gim,
    (whole, head: string, quote: string, file: string) => {
      if (path.isAbsolute(file) || file.startsWith('~')) return whole;
      return `${head}${quote}${path.resolve(deckDir, file)}${quote}`;
    },
  );
}

/** What `bmru spice` and `bmru raw` print and write about the plots of a rawfile: one table per plot, CSV, JSON. */
import { InputError } from '../errors.js';
import { plotFileNames, plotRows, summarisePlot, type VectorSummary } from '../spice/export.js';
import type { RawPlot } from '../spice/rawfile.js';
import { writeCsv } from './csv.js';
import { table } from './format.js';

/** Vectors listed per plot on the terminal; every one goes to --csv and --json. */
const MAX_ROWS_SHOWN = 40;

/** A plot with its vectors summarised. */
export interface PlotSummary {
  readonly plot: RawPlot;
  readonly vectors: VectorSummary[];
}

/**
 * Short `--plot` forms for the plot names ngspice 39 writes (seen in test/fixtures/raw/README.md and in a rawfile of
 * `.noise`, `.tf`, `.pz`); the same names as LTspice, QSPICE and Xyce write them. Matched against the whole name,
 * case-insensitively; Xyce's `.step` plots ("DC Sweep: Step 2 of 6 ... DC transfer characteristic") also count as `dc`.
 */
export const PLOT_SHORT_FORMS: readonly { readonly short: string; readonly name: RegExp }[] = [
  { short: 'op', name: /^operating point$/i },
  { short: 'dc', name: /(^|\s)dc transfer characteristic$/i },
  { short: 'ac', name: /^ac analysis$/i },
  { short: 'tran', name: /^transient analysis$/i },
  { short: 'noise', name: /^noise spectral density curves$/i },
  { short: 'inoise', name: /^integrated noise$/i },
  { short: 'tf', name: /^transfer function$/i },
  { short: 'pz', name: /^pole-zero analysis$/i },
  { short: 'sens', name: /^sensitivity analysis$/i },
];

/** The short form of a plot's name (`tran` for "Transient Analysis"), or undefined for a name without one. */
export function plotShortForm(plotname: string): string | undefined {
  return PLOT_SHORT_FORMS.find((f) => f.name.test(plotname.trim()))?.short;
}

/** The plots as `--plot` error messages list them: `1 DC transfer characteristic (dc), 2 Operating Point (op)`. */
export function describePlots(plots: readonly RawPlot[]): string {
  return plots
    .map((pl, i) => {
      const short = plotShortForm(pl.plotname);
      return `${i + 1} ${pl.plotname}${short ? ` (${short})` : ''}`;
    })
    .join(', ');
}

/**
 * The one plot `name` picks, or all of them without a name. `name` is the plot's whole name (case-insensitive),
 * its short form (`PLOT_SHORT_FORMS`: tran, ac, dc, op, noise, ...) or its number counted from 1 in the file.
 *
 * @throws InputError naming `--plot` and listing the plots there are, when none or more than one matches
 */
export function choosePlots(plots: readonly RawPlot[], name: string | undefined, what: string): RawPlot[] {
  if (name === undefined || name === '') return [...plots];
  const wanted = name.trim().toLowerCase();
  const fail = (why: string) =>
    new InputError(`${why}; ${what}: ${describePlots(plots)} (give a whole name, a short form or a number)`, {
      field: '--plot',
    });
  if (/^\d+$/.test(wanted)) {
    const index = Number(wanted);
    if (index < 1 || index > plots.length) throw fail(`no plot number ${wanted}`);
    return [plots[index - 1]];
  }
  const chosen = plots.filter(
    (pl) => pl.plotname.trim().toLowerCase() === wanted || plotShortForm(pl.plotname) === wanted,
  );
  if (chosen.length === 0) throw fail(`no plot "${name}"`);
  if (chosen.length > 1) throw fail(`${chosen.length} plots match "${name}", choose one by number`);
  return chosen;
}

/** Every chosen plot summarised (first, last, min, max; complex by magnitude, with the last phase). */
export function summarisePlots(plots: readonly RawPlot[]): PlotSummary[] {
  return plots.map((plot) => ({ plot, vectors: summarisePlot(plot) }));
}

/** One table per plot on stdout. */
export function printPlotSummaries(summaries: readonly PlotSummary[]): void {
  for (const { plot, vectors } of summaries) {
    console.log(
      `\n${plot.plotname}: ${plot.numPoints} points, ${plot.vectors.length} vectors${plot.complex ? ' (complex: magnitude, phase at the last point)' : ''}`,
    );
    const fmt = (v: number) => v.toExponential(4);
    console.log(
      table(
        ['vector', 'type', 'first', 'last', 'min', 'max', ...(plot.complex ? ['phase (deg)'] : [])],
        vectors
          .slice(0, MAX_ROWS_SHOWN)
          .map((v) => [
            v.name,
            v.type,
            fmt(v.first),
            fmt(v.last),
            fmt(v.min),
            fmt(v.max),
            ...(plot.complex ? [v.lastPhaseDeg === undefined ? '' : v.lastPhaseDeg.toFixed(1)] : []),
          ]),
      ),
    );
    if (vectors.length > MAX_ROWS_SHOWN)
      console.log(`... ${vectors.length - MAX_ROWS_SHOWN} more vectors (all of them in --csv / --json)`);
  }
}

/**
 * Writes the plots as CSV at full resolution: `csvPath` for one plot, `csvPath` with the plot's name added
 * (`out.transient-analysis.csv`) for several. Returns the files written.
 */
export async function writePlotCsvs(csvPath: string, plots: readonly RawPlot[]): Promise<string[]> {
  const names = plotFileNames(plots);
  const files = plots.length === 1 ? [csvPath] : names.map((n) => csvPath.replace(/(\.csv)?$/i, `.${n}.csv`));
  for (const [i, plot] of plots.entries()) await writeCsv(files[i], plotRows(plot));
  return files;
}

/** The summaries as plain data for --json. */
export function plotSummaryJson(summaries: readonly PlotSummary[]) {
  return summaries.map(({ plot, vectors }) => ({
    plotname: plot.plotname,
    points: plot.numPoints,
    complex: plot.complex,
    vectors,
  }));
}

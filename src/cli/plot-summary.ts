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
 * The plots whose name contains `name` (case-insensitive), or all of them without a name.
 *
 * @throws InputError naming `--plot` and listing the plots there are, when none matches
 */
export function choosePlots(plots: readonly RawPlot[], name: string | undefined, what: string): RawPlot[] {
  const chosen = name ? plots.filter((pl) => pl.plotname.toLowerCase().includes(name.toLowerCase())) : [...plots];
  if (chosen.length === 0)
    throw new InputError(`no plot named like "${name}"; ${what}: ${plots.map((pl) => pl.plotname).join(', ')}`, {
      field: '--plot',
    });
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

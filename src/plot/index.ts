/**
 * Plots people can open: SVG files and a self-contained HTML page of several SVGs.
 *
 * ```ts
 * import { lineChart, histogram, htmlPage, writePlot } from '../plot/index.js';
 *
 * const power = await lineChart({
 *   title: 'Supply power vs width',
 *   x: { label: 'width N', log: true },
 *   y: { label: 'power (W)', log: true },
 *   series: [
 *     { name: 'circuit', x: widths, y: watts, mark: 'point' },
 *     { name: 'fit P = a N^1.9', x: widths, y: fitted, mark: 'dashed' },
 *   ],
 * });
 * const mc = await histogram({ title: 'Monte Carlo agreement', x: { label: 'state agreement' }, values: runs, bins: 20 });
 * await writePlot('out/power.svg', power);
 * await writePlot('out/report.html', htmlPage('Run 12', [{ heading: 'Power', svg: power }, { heading: 'MC', svg: mc }]));
 * ```
 *
 * - `lineChart({ title, x, y, series, size? }) -> Promise<string>`: series drawn as `line` (default), `point`,
 *   `step` (sample-and-hold: y[i] holds until x[i+1]) or `dashed` (fits, references); one legend entry each.
 * - `histogram({ title, x, values, bins?, y?, size? }) -> Promise<string>`: equal-width bins (in log10 on a log
 *   axis); with `x.domain` the bins span the domain and values outside are counted in a subtitle.
 * - `htmlPage(title, [{ heading, svg, caption? }]) -> string`: SVGs inline (ids made unique per plot), no scripts,
 *   fonts or external files.
 * - `writePlot(path, content) -> Promise<void>`: writes an SVG or HTML string, creating folders.
 * - `binValues(values, axis, bins?)`: the histogram's bins, for tables next to the plot.
 * - `waveformPage({ title, summary, frameS, tStopS, rows, events })`: an interactive page of transient waveforms
 *   (waveforms.ts; Vega inlined, charts on one shared time window, drag/wheel/double-click, an event list), what
 *   `bmru compare` writes as report.html; `decimate(tS, y, { windowS, toleranceY })` is its display decimation.
 * - `rasterChart({ title, xLabel, yLabel, rows, columns, categories, cells })`: a grid of categories (row per unit,
 *   column per frame, a colour per category), what `bmru kws` draws cell states with (software vs circuit).
 * - `tradeoffPage({ title, summary, note?, chart })`: cost (log x) against value, coloured by group, shaped by
 *   series, the Pareto points joined and labelled (pareto.ts; Vega-Lite compiled here, Vega inlined), what
 *   `bmru analyze power --sweep` writes as pareto.html.
 *
 * Axes: `{ label, log?, domain?, format? }`; put the unit in the label ('power (W)'). Data the axes cannot show
 * (NaN, infinities, values <= 0 on a log axis, x/y of different length, duplicate series names) throws a
 * RangeError naming the series and the index instead of being dropped silently.
 *
 * Rendering: Vega-Lite compiled to Vega and rendered headlessly to SVG (no canvas, no DOM, a loader that refuses
 * every fetch); any Vega(-Lite) warning rejects the promise rather than yielding a silently wrong plot. Text
 * widths are estimated without a canvas, so long labels may sit a few px off. Ticks switch to SI prefixes
 * ('20µ' on 'time (s)') outside magnitudes 1e-3..1e4 unless the axis sets `format`. About 1 s and 3 MB of
 * SVG per 200k points: decimate long waveforms first.
 */
export { DEFAULT_SIZE, histogram, lineChart, type HistogramSpec, type LineChartSpec, type Size } from './charts.js';
export { binValues, defaultBins, type Axis, type Bins, type Mark, type Series } from './data.js';
export { escapeHtml, htmlPage, scopeIds, writePlot, type Section } from './html.js';
export { decimate, windowExtremes, type DecimateOptions } from './decimate.js';
export {
  waveformPage,
  type ChartRow,
  type Trace,
  type TraceKind,
  type WaveChart,
  type WaveEvent,
  type WavePageSpec,
} from './waveforms.js';
export { rasterChart, rasterRuns, rasterSpec, type RasterCategory, type RasterRun, type RasterSpec } from './raster.js';
export { tradeoffPage, tradeoffSpec, type TradeoffChart, type TradeoffPoint } from './pareto.js';

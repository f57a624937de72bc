/**
 * Line charts and histograms as SVG strings, built as Vega-Lite specs and rendered headlessly by Vega
 * (`renderer: 'none'` + `toSVG()`: no canvas, no DOM). Vega is imported on first use so that importing this
 * module costs nothing until a plot is drawn (loading Vega takes ~0.2 s).
 */
import type { Loader } from 'vega';
import type { TopLevelSpec } from 'vega-lite';
import { binValues, checkSeries, type Axis, type Mark, type Series } from './data.js';

/** Plot area size in px (axes, title and legend come on top). */
export interface Size {
  readonly width: number;
  readonly height: number;
}

export interface LineChartSpec {
  readonly title: string;
  readonly x: Axis;
  readonly y: Axis;
  readonly series: readonly Series[];
  readonly size?: Size;
}

export interface HistogramSpec {
  readonly title: string;
  readonly x: Axis;
  readonly values: ArrayLike<number>;
  /** Number of equal-width bins; default by Sturges' rule. */
  readonly bins?: number;
  /** Default label 'count'; only `label` and `format` apply (counts are linear from 0). */
  readonly y?: Pick<Axis, 'label' | 'format'>;
  readonly size?: Size;
}

/** Wide enough for ~10 x-axis labels, and a 1.6 aspect ratio that reads well beside text in an HTML page. */
export const DEFAULT_SIZE: Size = { width: 480, height: 300 };

/** Dash/gap lengths in px for `dashed` series: visibly different from solid even at thin strokes. */
const DASH_PATTERN = [6, 4];
/** A dash array that draws a solid line (Vega-Lite's strokeDash range needs one entry per series). */
const SOLID = [1, 0];
const STROKE_WIDTH = 1.5;
const POINT_SIZE = 30;
/** Vega's 10/11 px defaults are small once an SVG is scaled down in a page. */
const FONT = { title: 15, axisTitle: 13, label: 12 } as const;
/** Tick labels stay plain decimals for magnitudes in this range; outside it '0.0000013' is unreadable. */
const PLAIN_RANGE = [1e-3, 1e4] as const;
/** SI prefixes read with the unit in the label: '20µ' on 'time (s)' is 20 µs. */
const SI_FORMAT = '~s';
/** Series names are the legend; Vega's 160 px default truncates names such as fit formulas. */
const LEGEND_LABEL_LIMIT = 400;

/** Legend symbol area in px^2: a stroke swatch is sqrt(size) long, 20 px here. */
const LEGEND_SYMBOL_SIZE = 400;

/** Draw order: lines under points so markers stay visible. */
const MARK_ORDER: readonly Mark[] = ['line', 'step', 'dashed', 'dashed-step', 'point'];

type Row = { series: string; i: number; x: number; y: number };

/** Vega-Lite mark definition for one of our mark kinds. */
function vlMark(mark: Mark) {
  const line = { type: 'line', strokeWidth: STROKE_WIDTH, clip: true } as const;
  switch (mark) {
    case 'line':
      return line;
    case 'step':
      return { ...line, interpolate: 'step-after' } as const;
    case 'dashed':
      return { ...line, strokeDash: DASH_PATTERN };
    case 'dashed-step':
      return { ...line, interpolate: 'step-after', strokeDash: DASH_PATTERN } as const;
    case 'point':
      return { type: 'point', filled: true, size: POINT_SIZE, clip: true } as const;
  }
}

/** Smallest and largest value across arrays (only called on validated, non-empty data). */
function extent(arrays: readonly ArrayLike<number>[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) {
      lo = Math.min(lo, a[i]);
      hi = Math.max(hi, a[i]);
    }
  }
  return [lo, hi];
}

/** Tick format: the caller's, else SI prefixes when the axis reaches magnitudes outside the plain range. */
function tickFormat(axis: Axis, data: [number, number]): string | undefined {
  if (axis.format !== undefined) return axis.format;
  const [lo, hi] = axis.domain ?? data;
  const largest = Math.max(Math.abs(lo), Math.abs(hi));
  // A log axis spans decades, so its smallest value matters too; a linear one is read at its largest.
  const smallest = axis.log ? lo : largest;
  if (largest === 0) return undefined;
  return smallest < PLAIN_RANGE[0] || largest >= PLAIN_RANGE[1] ? SI_FORMAT : undefined;
}

/** Axis properties: the tick format, and whole-number ticks only on a count or index axis. */
function vlAxisProps(axis: Axis, data: [number, number]) {
  const format = tickFormat(axis, data) ?? (axis.integer ? 'd' : undefined);
  return { format, grid: true, ...(axis.integer ? { tickMinStep: 1 } : {}) };
}

/** Vega-Lite positional encoding for one axis. */
function vlAxis(field: string, axis: Axis, data: [number, number]) {
  return {
    field,
    type: 'quantitative',
    title: axis.label,
    scale: {
      // Fitting the data (zero: false) suits waveforms around a bias point; callers pass a domain to show zero.
      ...(axis.log ? ({ type: 'log' } as const) : ({ type: 'linear', zero: false } as const)),
      ...(axis.domain ? { domain: [...axis.domain], nice: false } : {}),
    },
    axis: vlAxisProps(axis, data),
  } as const;
}

/** Shared look: fonts large enough to read when scaled, white background for viewers that show transparency. */
export function vlConfig() {
  return {
    background: 'white',
    title: { fontSize: FONT.title, anchor: 'start' },
    axis: { titleFontSize: FONT.axisTitle, labelFontSize: FONT.label },
    legend: {
      titleFontSize: FONT.axisTitle,
      labelFontSize: FONT.label,
      labelLimit: LEGEND_LABEL_LIMIT,
      symbolType: 'stroke',
      // 20 px swatches (Vega's default is 10): two 6,4 dashes, so a dashed series reads as dashed in the legend.
      symbolSize: LEGEND_SYMBOL_SIZE,
    },
  } as const;
}

/** Whether a mark draws dashes (its legend swatch must too). */
const isDashed = (mark: Mark): boolean => mark === 'dashed' || mark === 'dashed-step';

/** How a series is drawn: a line through one point draws nothing, so a lone point is drawn as a point. */
function drawnMark(s: Series): Mark {
  const mark = s.mark ?? 'line';
  return s.x.length === 1 ? 'point' : mark;
}

/** Vega-Lite spec for a line chart: one layer per mark kind in use, one colour scale over all series names. */
export function lineChartSpec(spec: LineChartSpec): TopLevelSpec {
  checkSeries(spec.series, spec.x, spec.y);
  const rows = (s: Series): Row[] =>
    Array.from({ length: s.x.length }, (_, i) => ({ series: s.name, i, x: s.x[i], y: s.y[i] }));
  const layers = MARK_ORDER.map((mark) => ({ mark, series: spec.series.filter((s) => drawnMark(s) === mark) }))
    .filter((l) => l.series.length > 0)
    .map((l) => ({ name: l.mark, data: { values: l.series.flatMap(rows) }, mark: vlMark(l.mark) }));
  const names = spec.series.map((s) => s.name);
  // The dash as an encoding on the series too (not only on the mark), so the legend's swatch of a dashed series
  // is dashed: Vega-Lite merges it into the colour legend, which shares the field and the domain.
  const dashes = spec.series.map((s) => (isDashed(drawnMark(s)) ? DASH_PATTERN : SOLID));
  const size = spec.size ?? DEFAULT_SIZE;
  return {
    title: spec.title,
    width: size.width,
    height: size.height,
    config: vlConfig(),
    encoding: {
      x: vlAxis('x', spec.x, extent(spec.series.map((s) => s.x))),
      y: vlAxis('y', spec.y, extent(spec.series.map((s) => s.y))),
      // An explicit domain keeps colours and legend order stable across layers and equal to the input order.
      color: { field: 'series', type: 'nominal', title: null, scale: { domain: names } },
      strokeDash: { field: 'series', type: 'nominal', title: null, scale: { domain: names, range: dashes } },
      // Keep the caller's point order rather than Vega-Lite's default sort by x.
      order: { field: 'i', type: 'quantitative' },
    },
    layer: layers,
  };
}

/** Vega-Lite spec for a histogram: bins computed here (exact equal widths) and drawn as bars from edge to edge. */
export function histogramSpec(spec: HistogramSpec): TopLevelSpec {
  const bins = binValues(spec.values, spec.x, spec.bins);
  const rows = bins.counts.map((count, i) => ({ lo: bins.edges[i], hi: bins.edges[i + 1], count }));
  const size = spec.size ?? DEFAULT_SIZE;
  const subtitle =
    bins.outside > 0 ? `${bins.outside} of ${spec.values.length} values outside the x domain, not shown` : undefined;
  const xEncoding = vlAxis('lo', spec.x, [bins.edges[0], bins.edges[bins.edges.length - 1]]);
  return {
    title: { text: spec.title, subtitle },
    width: size.width,
    height: size.height,
    config: vlConfig(),
    data: { values: rows },
    mark: { type: 'rect', stroke: 'white', strokeWidth: 1 },
    encoding: {
      x: xEncoding,
      x2: { field: 'hi' },
      y: {
        field: 'count',
        type: 'quantitative',
        title: spec.y?.label ?? 'count',
        // Counts: whole-number ticks (a bar of 1 must not sit under ticks 0.2, 0.4 ...).
        axis: { format: spec.y?.format ?? 'd', tickMinStep: 1 },
        scale: { zero: true },
      },
      y2: { datum: 0 },
    },
  };
}

/** A loader that refuses every request: plots embed their data, so any fetch would be a bug (and offline here). */
function offlineLoader(): Loader {
  const refuse = (uri: string): Promise<never> =>
    Promise.reject(new Error(`plot rendering loads nothing, refused '${uri}'`));
  return { load: refuse, sanitize: refuse, http: refuse, file: refuse };
}

/**
 * Renders a Vega-Lite spec to a standalone SVG string. Vega-Lite and Vega log problems (a dropped encoding, a
 * refused load, an infinite extent) as warnings or errors and still render, which would hand back an empty
 * or wrong plot; our data is validated first, so any such message is a bug and rejects the promise instead.
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const errors: string[] = [];
  const logger = vega.logger(vega.Warn, undefined, (_method, level, args) => {
    errors.push(`${level} ${args.map(String).join(' ')}`);
  });
  const view = new vega.View(vega.parse(vegaLite.compile(spec, { logger }).spec), {
    renderer: 'none',
    loader: offlineLoader(),
    logger,
  });
  try {
    const svg = await view.toSVG();
    if (errors.length > 0) throw new Error(`plot rendering failed: ${errors.join('; ')}`);
    return svg;
  } finally {
    view.finalize();
  }
}

/** A line chart as an SVG string; throws RangeError (naming series and index) on data the axes cannot show. */
export async function lineChart(spec: LineChartSpec): Promise<string> {
  return renderSvg(lineChartSpec(spec));
}

/** A histogram as an SVG string; throws RangeError (naming the index) on values the x axis cannot show. */
export async function histogram(spec: HistogramSpec): Promise<string> {
  return renderSvg(histogramSpec(spec));
}

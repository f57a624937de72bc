/**
 * A trade-off chart as one HTML file that opens offline: cost (x, log) against value (y), one colour per group and
 * one shape per series, the Pareto-optimal points joined and labelled, a tooltip on every point. The chart is a
 * Vega-Lite spec compiled here to Vega, whose runtime is inlined as in the compare report (waveforms.ts).
 */
import type { TopLevelSpec } from 'vega-lite';
import { escapeHtml } from './html.js';
import { vegaRuntime } from './waveforms.js';

/** One point of the chart. */
export interface TradeoffPoint {
  /** Cost, on a log axis: > 0. */
  readonly x: number;
  readonly y: number;
  /** Colour (e.g. the supply). */
  readonly group: string;
  /** Shape (e.g. the unit current). */
  readonly series: string;
  readonly pareto: boolean;
  /** Written beside a Pareto point. */
  readonly label: string;
  /** Shown on hover, in this order. */
  readonly details: Readonly<Record<string, string>>;
}

export interface TradeoffChart {
  readonly title: string;
  /** A line under the title (e.g. how many points are not drawn, and why). */
  readonly subtitle?: string;
  readonly x: { readonly label: string; readonly format?: string };
  readonly y: { readonly label: string; readonly format?: string };
  /** The legend titles of the colours and the shapes. */
  readonly groupTitle: string;
  readonly seriesTitle: string;
  /** Legend order of the groups and series (also the colour order). */
  readonly groups: readonly string[];
  readonly series: readonly string[];
  readonly points: readonly TradeoffPoint[];
}

/** Plot area (px). */
const SIZE = { width: 640, height: 400 } as const;
/** Room between the outermost points and the axes (px). */
const PAD_PX = 24;
const FONT = { title: 15, axisTitle: 13, label: 12 } as const;
/** The Pareto front's line, rings and labels: dark, apart from the groups' colours. */
const FRONT_COLOR = '#333';

/**
 * The Vega-Lite spec: the Pareto points joined by a line in cost order, every point coloured by group and shaped by
 * series, the Pareto points labelled.
 *
 * @throws RangeError on a point the log x axis cannot show (x <= 0 or not finite) or a y that is not finite
 */
export function tradeoffSpec(chart: TradeoffChart): TopLevelSpec {
  chart.points.forEach((p, i) => {
    if (!(p.x > 0) || !Number.isFinite(p.x) || !Number.isFinite(p.y))
      throw new RangeError(`point ${i} (${p.label}): x ${p.x} must be finite and > 0 (log axis), y ${p.y} finite`);
  });
  const rows = chart.points.map((p) => ({
    ...p.details,
    x: p.x,
    y: p.y,
    group: p.group,
    series: p.series,
    pareto: p.pareto,
    label: p.label,
  }));
  const x = {
    field: 'x',
    type: 'quantitative',
    title: chart.x.label,
    // The data's own extent, padded so that edge points and their rings are whole (a nice log domain adds decades).
    scale: { type: 'log', nice: false, padding: PAD_PX },
    axis: { format: chart.x.format ?? '~s', grid: true },
  } as const;
  const y = {
    field: 'y',
    type: 'quantitative',
    title: chart.y.label,
    scale: { zero: false, nice: false, padding: PAD_PX },
    axis: { format: chart.y.format, grid: true },
  } as const;
  const front = { filter: 'datum.pareto' };
  const tooltip = [
    ...Object.keys(chart.points[0]?.details ?? {}).map((field) => ({ field, type: 'nominal' as const })),
  ];
  return {
    title: chart.subtitle === undefined ? chart.title : { text: chart.title, subtitle: chart.subtitle },
    width: SIZE.width,
    height: SIZE.height,
    data: { values: rows },
    config: {
      background: 'white',
      title: { fontSize: FONT.title, anchor: 'start' },
      axis: { titleFontSize: FONT.axisTitle, labelFontSize: FONT.label },
      legend: { titleFontSize: FONT.axisTitle, labelFontSize: FONT.label },
    },
    encoding: { x, y },
    layer: [
      {
        transform: [front],
        mark: { type: 'line', color: FRONT_COLOR, strokeWidth: 1.5, strokeDash: [6, 3] },
        encoding: { order: { field: 'x', type: 'quantitative' } },
      },
      {
        mark: { type: 'point', filled: true, size: 90, opacity: 0.9 },
        encoding: {
          color: {
            field: 'group',
            type: 'nominal',
            title: chart.groupTitle,
            scale: { domain: [...chart.groups], scheme: 'category10' },
          },
          shape: { field: 'series', type: 'nominal', title: chart.seriesTitle, scale: { domain: [...chart.series] } },
          tooltip,
        },
      },
      {
        transform: [front],
        mark: { type: 'point', size: 260, color: FRONT_COLOR, strokeWidth: 1.5 },
      },
      {
        transform: [front],
        mark: { type: 'text', align: 'left', dx: 9, dy: -9, fontSize: 11, color: FRONT_COLOR },
        encoding: { text: { field: 'label', type: 'nominal' } },
      },
    ],
  };
}

/** JSON safe inside a <script> element: no '</script>' or '<!--' can end or comment it. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

/** What the page's script does: render the compiled spec; `window.bmruReport` says when it is ready or failed (tests, screenshots). */
const PAGE_SCRIPT = String.raw`
(async () => {
  const spec = JSON.parse(document.getElementById('bmru-spec').textContent);
  const view = new vega.View(vega.parse(spec), { renderer: 'svg', container: document.getElementById('chart'), hover: true });
  await view.runAsync();
  window.bmruReport = { ready: true, views: 1 };
})().catch((e) => {
  window.bmruReport = { failed: String(e) };
  console.error(e);
});
`;

/**
 * The chart's page: a heading, a note, the chart, then the preformatted summary (the terminal table, failed
 * points included). Vega-Lite is compiled here; Vega's runtime is inlined, so the file opens offline.
 */
export async function tradeoffPage(
  page: { readonly title: string; readonly summary: string; readonly note?: string; readonly chart: TradeoffChart },
  runtime: string = vegaRuntime(),
): Promise<string> {
  const vegaLite = await import('vega-lite');
  const spec = vegaLite.compile(tradeoffSpec(page.chart)).spec;
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8" />',
    `<title>${escapeHtml(page.title)}</title>`,
    '<style>',
    'body { font-family: sans-serif; max-width: 1000px; margin: 1.5em auto; padding: 0 1em; color: #222; }',
    'pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; font-size: 12px; }',
    '.note { color: #555; font-size: 13px; }',
    '</style>',
    '</head>',
    '<body>',
    `<h1>${escapeHtml(page.title)}</h1>`,
    ...(page.note === undefined ? [] : [`<p class="note">${escapeHtml(page.note)}</p>`]),
    '<div id="chart"></div>',
    `<pre>${escapeHtml(page.summary)}</pre>`,
    `<script>${runtime.replace(/<\/script/gi, '<\\/script')}</script>`,
    `<script type="application/json" id="bmru-spec">${scriptJson(spec)}</script>`,
    `<script>${PAGE_SCRIPT}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

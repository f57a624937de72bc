/**
 * An interactive page of transient waveforms, one file that opens offline: Vega (already our renderer for the
 * static plots) is inlined, the charts are Vega specs built here, and the data is embedded once, compactly.
 * Every chart shares one time window: drag pans it, the wheel zooms it, a double-click shows the whole run, and
 * the event list jumps to a few frames around an event.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Spec } from 'vega';
import { decimate } from './decimate.js';
import { escapeHtml } from './html.js';

/**
 * How a trace is drawn, by what it is: a simulated node is a continuous line, a software model's per-frame value
 * is held for its frame (steps), a constant reference (VDD/2, a threshold) is a dashed level.
 */
export type TraceKind = 'circuit' | 'software' | 'level';

export interface Trace {
  readonly name: string;
  readonly kind: TraceKind;
  /** Sample times (s), increasing; a `software` trace gives each frame's start, a `level` its first and last time. */
  readonly tS: ArrayLike<number>;
  /** In the chart's unit (V or A). */
  readonly y: ArrayLike<number>;
}

export interface WaveChart {
  /** Unique in the page: chart element ids and event targets. */
  readonly id: string;
  readonly title: string;
  readonly unit: 'V' | 'A';
  readonly traces: readonly Trace[];
  /** Frames to shade (disagreements of this chart's cell). */
  readonly shadeFrames?: readonly number[];
}

/** A row of charts under one heading (a cell's V0 and candidate; the supplies). */
export interface ChartRow {
  readonly id: string;
  readonly heading: string;
  readonly charts: readonly WaveChart[];
}

/** Something worth a closer look at one frame: the event list zooms every chart to frames around it. */
export interface WaveEvent {
  readonly frame: number;
  readonly label: string;
  readonly kind: 'disagreement' | 'switch';
  /** The row to scroll to. */
  readonly row: string;
}

export interface WavePageSpec {
  readonly title: string;
  /** Preformatted text (the terminal report), shown as it is. */
  readonly summary: string;
  readonly frameS: number;
  readonly tStopS: number;
  readonly rows: readonly ChartRow[];
  readonly events: readonly WaveEvent[];
}

/**
 * Dropped samples stay within this fraction of the chart's y extent (all its traces: a flat candidate far below
 * its thresholds is not drawn to its own noise) of the drawn line: 1/2000 is 0.1 px on a 170 px chart showing
 * the whole extent, invisible until the y axis is zoomed 10x onto part of it.
 */
export const DECIMATE_TOLERANCE = 1 / 2000;
/** Values are sent as integers in steps of this fraction of the tolerance: rounding adds at most a quarter of it. */
const QUANTUM_PER_TOLERANCE = 1 / 4;
/** Times are sent as integer nanoseconds: input edges are 1 us, ngspice's steps near them ~10 ns and up. */
const TIME_QUANTUM_S = 1e-9;
/** Frames shown around an event: the one before (what the cell held), the event's, and the one after (settling). */
const EVENT_FRAMES_BEFORE = 1;
const EVENT_FRAMES_AFTER = 2;
/** Plot area (px): two charts side by side in a 1100 px page. */
const CHART = { width: 430, height: 170 } as const;

/** Px around the plot area for the axes: 7 characters of 10 px tick labels on the left, labels and title top and bottom. */
const AXIS_PADDING = { left: 58, right: 14, top: 36, bottom: 36 };

/** Stroke per kind; the legend swatches are drawn from the same table, so they match the lines. */
const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#17becf', '#7f7f7f'];
const STYLE: Record<TraceKind, { width: number; dash?: readonly number[]; opacity: number }> = {
  circuit: { width: 1.5, opacity: 1 },
  // Wide and pale, under the circuit's line: where the two agree the circuit still shows on top.
  software: { width: 3, opacity: 0.45 },
  level: { width: 1.2, dash: [6, 4], opacity: 1 },
};

/** Bottom to top: the model's steps under the levels, the circuit on top of both. */
const DRAW_ORDER: readonly TraceKind[] = ['software', 'level', 'circuit'];

/** One trace as it goes into the page: integer ns time deltas, values as integer steps of `q` above `lo`. */
export interface EncodedTrace {
  readonly name: string;
  readonly kind: TraceKind;
  readonly color: string;
  readonly lo: number;
  readonly q: number;
  readonly dtNs: number[];
  readonly yq: number[];
  /** Samples before decimation, for the page's note on what was dropped. */
  readonly samples: number;
}

/** Smallest and largest y over traces; throws RangeError on a value or time that is not finite. */
export function extentY(traces: readonly Trace[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const trace of traces) {
    const n = trace.tS.length;
    if (n === 0 || n !== trace.y.length)
      throw new RangeError(`trace '${trace.name}': ${n} times, ${trace.y.length} values`);
    for (let i = 0; i < n; i++) {
      const v = trace.y[i];
      if (!Number.isFinite(v) || !Number.isFinite(trace.tS[i]))
        throw new RangeError(`trace '${trace.name}' index ${i}: not finite`);
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  return [lo, hi];
}

/**
 * Decimates (circuit traces only: the others are few points already) and packs a trace for the page; `extent`
 * is the chart's y extent, which the tolerance is a fraction of.
 */
export function encodeTrace(trace: Trace, color: string, frameS: number, extent: [number, number]): EncodedTrace {
  const n = trace.tS.length;
  const [lo] = extentY([trace]);
  const [chartLo, chartHi] = extent;
  // A flat chart still needs a positive step; its size is then immaterial.
  const tolerance =
    (chartHi - chartLo) * DECIMATE_TOLERANCE || Math.abs(chartLo) * DECIMATE_TOLERANCE || Number.MIN_VALUE;
  const kept =
    trace.kind === 'circuit'
      ? decimate(trace.tS, trace.y, { windowS: frameS, toleranceY: tolerance })
      : Array.from({ length: n }, (_, i) => i);
  const q = tolerance * QUANTUM_PER_TOLERANCE;
  const dtNs: number[] = [];
  const yq: number[] = [];
  let prevNs = 0;
  for (const i of kept) {
    const ns = Math.round(trace.tS[i] / TIME_QUANTUM_S);
    dtNs.push(ns - prevNs);
    prevNs = ns;
    yq.push(Math.round((trace.y[i] - lo) / q));
  }
  return { name: trace.name, kind: trace.kind, color, lo, q, dtNs, yq, samples: n };
}

/**
 * An axis in engineering notation with the unit: 250ms, 1.2nA, 900mV. The SI format goes to the axis, so Vega
 * picks the digits from the tick step (a zoomed 1.79..1.80 V axis reads 1.792V, 1.794V, not 1.79V twice); the
 * unit is appended to the formatted label.
 */
function engineeringAxis(unit: string) {
  return {
    format: '~s',
    encode: { labels: { update: { text: { signal: `datum.value === 0 ? '0' : datum.label + '${unit}'` } } } },
  };
}

/**
 * The Vega spec of one chart, with its data left empty (the page fills `trace<i>` from the encoded traces).
 * `xdom` is the shared time window; `ydom` fits the traces within a frame either side of it.
 */
export function chartSpec(chart: WaveChart, colors: readonly string[], frameS: number, tStopS: number): Spec {
  const traces = chart.traces.map((t, i) => ({ ...t, data: `trace${i}` }));
  const near = `datum.t >= xdom[0] - ${frameS} && datum.t <= xdom[1] + ${frameS}`;
  return {
    $schema: 'https://vega.github.io/schema/vega/v6.json',
    width: CHART.width,
    height: CHART.height,
    // Fixed room for the axes: fitted to the labels (autosize 'pad') it is sized once, for the whole run's labels,
    // and zooming in to longer ones ('1.794V') cut them at the chart's left edge.
    padding: AXIS_PADDING,
    autosize: 'none',
    signals: [
      { name: 'xdom', value: [0, tStopS] },
      {
        name: 'down',
        value: null,
        on: [
          { events: 'mousedown', update: 'x()' },
          { events: 'window:mouseup', update: 'null' },
        ],
      },
      { name: 'startDom', value: null, on: [{ events: 'mousedown', update: 'slice(xdom)' }] },
      {
        name: 'pan',
        value: 0,
        on: [
          {
            events: [
              {
                source: 'window',
                type: 'mousemove',
                consume: true,
                between: [{ type: 'mousedown' }, { source: 'window', type: 'mouseup' }],
              },
            ],
            update: 'down === null ? 0 : (down - x()) / width',
          },
        ],
      },
      { name: 'anchor', value: 0, on: [{ events: 'wheel', update: "invert('x', x())" }] },
      {
        name: 'zoom',
        value: 1,
        on: [{ events: 'wheel!', force: true, update: 'pow(1.001, event.deltaY * pow(16, event.deltaMode))' }],
      },
      {
        name: 'xdomUpdate',
        on: [
          {
            events: { signal: 'pan' },
            update:
              'startDom === null ? xdom : [startDom[0] + span(startDom) * pan, startDom[1] + span(startDom) * pan]',
          },
          {
            events: { signal: 'zoom' },
            update: '[anchor + (xdom[0] - anchor) * zoom, anchor + (xdom[1] - anchor) * zoom]',
          },
          { events: 'dblclick', update: `[0, ${tStopS}]` },
        ],
      },
    ],
    data: [
      ...traces.map((t) => ({ name: t.data, values: [] as object[] })),
      ...traces.map((t) => ({
        name: `${t.data}near`,
        source: t.data,
        transform: [{ type: 'filter' as const, expr: near }],
      })),
      { name: 'shade', values: (chart.shadeFrames ?? []).map((f) => ({ t0: f * frameS, t1: (f + 1) * frameS })) },
    ],
    scales: [
      { name: 'x', type: 'linear', domain: { signal: 'xdom' }, range: 'width', zero: false, nice: false },
      {
        name: 'frame',
        type: 'linear',
        domain: { signal: `[xdom[0] / ${frameS}, xdom[1] / ${frameS}]` },
        range: 'width',
        zero: false,
        nice: false,
      },
      {
        name: 'y',
        type: 'linear',
        domain: { fields: traces.map((t) => ({ data: `${t.data}near`, field: 'y' })) },
        range: 'height',
        zero: false,
        nice: true,
      },
    ],
    axes: [
      // Flush: the last label ('1.01s') stays inside the chart instead of being cut at its edge.
      {
        orient: 'bottom',
        scale: 'x',
        title: 'time',
        grid: true,
        tickCount: 8,
        labelFlush: true,
        ...engineeringAxis('s'),
      },
      // Frame numbers are indices: integer ticks only.
      { orient: 'top', scale: 'frame', title: 'frame', tickMinStep: 1, format: 'd', tickCount: 8, labelFlush: true },
      // No title: the labels carry the unit and the chart's heading says what it is (a title beside labels that
      // widen on zoom, 1.79V to 1.794V, would overlap them).
      { orient: 'left', scale: 'y', grid: true, tickCount: 5, ...engineeringAxis(chart.unit) },
    ],
    marks: [
      {
        type: 'rect',
        from: { data: 'shade' },
        clip: true,
        encode: {
          update: {
            x: { scale: 'x', field: 't0' },
            x2: { scale: 'x', field: 't1' },
            y: { value: 0 },
            y2: { signal: 'height' },
            fill: { value: '#d62728' },
            fillOpacity: { value: 0.12 },
          },
        },
      },
      ...DRAW_ORDER.flatMap((kind) => traces.map((t, i) => ({ t, i })).filter(({ t }) => t.kind === kind)).map(
        ({ t, i }) => {
          const s = STYLE[t.kind];
          return {
            type: 'line' as const,
            from: { data: t.data },
            clip: true,
            encode: {
              enter: {
                stroke: { value: colors[i] },
                strokeWidth: { value: s.width },
                strokeOpacity: { value: s.opacity },
                ...(s.dash ? { strokeDash: { value: [...s.dash] } } : {}),
                ...(t.kind === 'software' ? { interpolate: { value: 'step-after' as const } } : {}),
              },
              update: { x: { scale: 'x', field: 't' }, y: { scale: 'y', field: 'y' } },
            },
          };
        },
      ),
    ],
  } as Spec;
}

/** An inline SVG swatch drawn like the trace: a step for software, dashes for levels, a line for the circuit. */
function swatch(kind: TraceKind, color: string): string {
  const s = STYLE[kind];
  const path = kind === 'software' ? 'M1,11 H12 V3 H27' : 'M1,7 H27';
  const dash = s.dash ? ` stroke-dasharray="${s.dash.join(',')}"` : '';
  return `<svg width="28" height="14" aria-hidden="true"><path d="${path}" fill="none" stroke="${color}" stroke-width="${s.width}" stroke-opacity="${s.opacity}"${dash}/></svg>`;
}

/** The Vega runtime, read from the installed package (its UMD bundle, which needs nothing else). */
export function vegaRuntime(): string {
  const entry = createRequire(import.meta.url).resolve('vega');
  return readFileSync(join(dirname(entry), 'vega.min.js'), 'utf8');
}

/** JSON safe inside a <script> element: no '</script>' or '<!--' can end or comment it. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

/** What the page's own script does (runs after Vega): decode the traces, render, share the window, jump to events. */
const PAGE_SCRIPT = String.raw`
(async () => {
  const page = JSON.parse(document.getElementById('bmru-data').textContent);
  const report = { views: 0, points: {}, errors: [] };
  window.bmruReport = report;
  const views = [];
  let syncing = false;
  const setWindow = async (dom) => {
    syncing = true;
    try {
      for (const v of views) await v.signal('xdom', dom).runAsync();
    } finally {
      syncing = false;
    }
  };
  for (const chart of page.charts) {
    const spec = chart.spec;
    chart.traces.forEach((tr, i) => {
      const rows = [];
      let ns = 0;
      for (let k = 0; k < tr.dtNs.length; k++) {
        ns += tr.dtNs[k];
        rows.push({ t: ns * 1e-9, y: tr.lo + tr.q * tr.yq[k] });
      }
      spec.data.find((d) => d.name === 'trace' + i).values = rows;
      report.points[chart.id + '/' + tr.name] = rows.length;
    });
    const view = new vega.View(vega.parse(spec), {
      renderer: 'canvas',
      container: document.getElementById('chart-' + chart.id),
      hover: false,
    });
    view.addSignalListener('xdomUpdate', (_, dom) => {
      if (!syncing && dom) setWindow(dom);
    });
    await view.runAsync();
    views.push(view);
    report.views++;
  }
  const select = document.getElementById('event');
  select.addEventListener('change', async () => {
    const o = select.selectedOptions[0];
    if (o.value === '') return setWindow([0, page.tStopS]);
    const f = Number(o.dataset.frame);
    await setWindow([Math.max(0, (f - page.before) * page.frameS), Math.min(page.tStopS, (f + page.after) * page.frameS)]);
    document.querySelectorAll('.row.picked').forEach((r) => r.classList.remove('picked'));
    const row = document.getElementById('row-' + o.dataset.row);
    row.classList.add('picked');
    row.scrollIntoView({ block: 'nearest' });
  });
  document.getElementById('whole').addEventListener('click', () => {
    select.value = '';
    setWindow([0, page.tStopS]);
  });
  // For tests and scripts: every chart's time window (they must agree).
  report.windows = () => views.map((v) => v.signal('xdom'));
  report.ready = true;
})().catch((e) => {
  window.bmruReport = { ...(window.bmruReport || {}), failed: String(e) };
  console.error(e);
});
`;

/** Page width (px): two 430 px charts with their axes side by side. */
const PAGE_WIDTH = 1100;

function pageStyle(): string {
  return [
    `body { font-family: sans-serif; max-width: ${PAGE_WIDTH}px; margin: 1.5em auto; padding: 0 1em; color: #222; }`,
    'pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; font-size: 12px; }',
    '.controls { position: sticky; top: 0; background: white; padding: 0.5em 0; z-index: 1; border-bottom: 1px solid #ddd; }',
    '.row { display: flex; flex-wrap: wrap; gap: 0 1em; border-left: 4px solid transparent; padding-left: 0.4em; }',
    '.row.picked { border-left-color: #d62728; }',
    '.row h3 { flex-basis: 100%; margin: 0.8em 0 0.2em 0; font-size: 15px; }',
    // Plot area plus axes: two side by side.
    `.chart { flex: 0 0 ${CHART.width + AXIS_PADDING.left + AXIS_PADDING.right}px; margin-bottom: 0.6em; }`,
    '.chart h4 { margin: 0; font-size: 13px; font-weight: normal; }',
    '.legend { font-size: 12px; color: #444; }',
    '.legend span { margin-right: 1em; white-space: nowrap; }',
    '.legend svg { vertical-align: middle; margin-right: 0.3em; }',
    '.note { color: #555; font-size: 13px; }',
  ].join('\n');
}

/**
 * The page: summary text, an event list and the charts in rows. Returns the HTML and how far the circuit traces were
 * decimated (samples in, points drawn).
 */
export function waveformPage(
  spec: WavePageSpec,
  runtime: string = vegaRuntime(),
): {
  html: string;
  samples: number;
  points: number;
} {
  const charts = spec.rows.flatMap((r) => r.charts);
  const ids = new Set<string>();
  for (const c of charts) {
    if (ids.has(c.id)) throw new RangeError(`chart id '${c.id}' appears twice`);
    ids.add(c.id);
  }
  const encoded = charts.map((c) => {
    const colors = c.traces.map((_, i) => PALETTE[i % PALETTE.length]);
    return {
      id: c.id,
      spec: chartSpec(c, colors, spec.frameS, spec.tStopS),
      traces: c.traces.map((t, i) => encodeTrace(t, colors[i], spec.frameS, extentY(c.traces))),
    };
  });
  const circuit = encoded.flatMap((c) => c.traces.filter((t) => t.kind === 'circuit'));
  const samples = circuit.reduce((a, t) => a + t.samples, 0);
  const points = circuit.reduce((a, t) => a + t.dtNs.length, 0);
  const byId = new Map(encoded.map((e) => [e.id, e]));
  const rowHtml = spec.rows.map((row) =>
    [
      `<div class="row" id="row-${escapeHtml(row.id)}">`,
      `<h3>${escapeHtml(row.heading)}</h3>`,
      ...row.charts.map((c) => {
        const legend = byId
          .get(c.id)!
          .traces.map((t) => `<span>${swatch(t.kind, t.color)}${escapeHtml(t.name)}</span>`)
          .join('');
        return `<div class="chart"><h4>${escapeHtml(c.title)}</h4><div class="legend">${legend}</div><div id="chart-${escapeHtml(c.id)}"></div></div>`;
      }),
      '</div>',
    ].join('\n'),
  );
  const options = spec.events.map(
    (e) =>
      `<option value="${e.kind}" data-frame="${e.frame}" data-row="${escapeHtml(e.row)}">${escapeHtml(e.label)}</option>`,
  );
  const disagreements = spec.events.filter((e) => e.kind === 'disagreement').length;
  const data = {
    frameS: spec.frameS,
    tStopS: spec.tStopS,
    before: EVENT_FRAMES_BEFORE,
    after: EVENT_FRAMES_AFTER,
    charts: encoded,
  };
  const html = [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8" />',
    `<title>${escapeHtml(spec.title)}</title>`,
    `<style>\n${pageStyle()}\n</style>`,
    '</head>',
    '<body>',
    `<h1>${escapeHtml(spec.title)}</h1>`,
    `<pre>${escapeHtml(spec.summary)}</pre>`,
    '<h2>Waveforms</h2>',
    `<p class="note">Drag a chart to pan, turn the wheel over it to zoom, double-click for the whole run; every chart shows the same time window. Disagreeing frames are shaded. Circuit waveforms are drawn from ${points.toLocaleString('en')} of their ${samples.toLocaleString('en')} samples: each frame keeps its lowest and highest sample, and a sample is dropped only where it lies within ${DECIMATE_TOLERANCE * 100}% of its chart's y extent of the line drawn (Ramer-Douglas-Peucker).</p>`,
    '<div class="controls">',
    `<label>Show ${EVENT_FRAMES_BEFORE + EVENT_FRAMES_AFTER} frames around (${disagreements} disagreement${disagreements === 1 ? '' : 's'}, ${spec.events.length - disagreements} switching events): <select id="event"><option value="">the whole run</option>${options.join('')}</select></label>`,
    ' <button id="whole" type="button">whole run</button>',
    '</div>',
    ...rowHtml,
    `<script>${runtime.replace(/<\/script/gi, '<\\/script')}</script>`,
    `<script type="application/json" id="bmru-data">${scriptJson(data)}</script>`,
    `<script>${PAGE_SCRIPT}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
  return { html, samples, points };
}

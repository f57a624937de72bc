import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  binValues,
  histogram,
  htmlPage,
  lineChart,
  rasterChart,
  rasterRuns,
  writePlot,
  type Axis,
  type RasterSpec,
  type Series,
} from '../../src/plot/index.js';
import { scratchDir } from '../helpers.js';
import { renderSvg } from '../../src/plot/charts.js';
import { byClass, findAll, parseXml, textOf, type XmlElement } from './xml.js';

const widths = [2, 4, 8, 16, 32];
const power = widths.map((n) => 1e-7 * n ** 2);

/** Text of every element of a Vega role class, e.g. 'role-legend-label'. */
function texts(svg: XmlElement, cls: string): string[] {
  return byClass(svg, cls).flatMap((g) => findAll(g, (e) => e.name === 'text').map(textOf));
}

/** The SVG paths Vega drew for one of our mark kinds (layers are named after them). */
function markPaths(svg: XmlElement, mark: string): XmlElement[] {
  return byClass(svg, `${mark}_marks`).flatMap((g) => findAll(g, (e) => e.name === 'path'));
}

/** Tick labels of the axis whose title is `title` (Vega's axis group is labelled "X-axis titled '...'"). */
function tickLabels(svg: XmlElement, title: string): string[] {
  const axis = byClass(svg, 'role-axis').find((g) => (g.attrs['aria-label'] ?? '').includes(`titled '${title}'`));
  if (!axis) throw new Error(`no axis titled '${title}'`);
  return texts(axis, 'role-axis-label');
}

/** Legend swatches (stroke symbols) in legend order. */
function legendSwatches(svg: XmlElement): XmlElement[] {
  return byClass(svg, 'role-legend-symbol').flatMap((g) =>
    findAll(g, (e) => e.name === 'path' && 'transform' in e.attrs),
  );
}

/** Number of straight segments in an SVG path made of M and L commands (what Vega writes for lines). */
function segments(d: string): number {
  return (d.match(/L/g) ?? []).length;
}

describe('the XML checker the plot tests rely on', () => {
  it('rejects malformed documents', () => {
    expect(() => parseXml('<svg><g></svg>')).toThrow(/closes/);
    expect(() => parseXml('<svg><text>a < b</text></svg>')).toThrow(/bare '<'/);
    expect(() => parseXml('<svg><text>a & b</text></svg>')).toThrow(/bare '&'/);
    expect(() => parseXml('<svg a="1" a="2"></svg>')).toThrow(/repeated/);
    expect(() => parseXml('<svg><g>')).toThrow(/never closed/);
    expect(textOf(parseXml('<svg><text>a &amp; &#60;b&gt;</text></svg>'))).toBe('a & <b>');
  });
});

describe('lineChart', () => {
  const series: Series[] = [
    { name: 'circuit', x: widths, y: power, mark: 'point' },
    { name: 'fit P = 1e-7 N^2 (power law)', x: widths, y: power, mark: 'dashed' },
    { name: 'software', x: Float64Array.from(widths), y: Float64Array.from(power), mark: 'step' },
    { name: 'reference', x: widths, y: power },
    { name: 'sampled', x: widths, y: power, mark: 'dashed-step' },
  ];

  it('renders well-formed SVG with title, axis labels, a legend of every series, and each mark kind', async () => {
    const svg = parseXml(
      await lineChart({
        title: 'Power vs width',
        x: { label: 'width N', log: true },
        y: { label: 'power (W)', log: true },
        series,
      }),
    );
    expect(svg.name).toBe('svg');
    expect(texts(svg, 'role-title-text')).toEqual(['Power vs width']);
    expect(texts(svg, 'role-axis-title').sort()).toEqual(['power (W)', 'width N']);
    expect(texts(svg, 'role-legend-label')).toEqual(series.map((s) => s.name));
    const n = widths.length;
    expect(byClass(svg, 'point_marks').flatMap((g) => findAll(g, (e) => e.name === 'path'))).toHaveLength(n);
    expect(markPaths(svg, 'dashed')[0].attrs['stroke-dasharray']).toBe('6,4');
    // Solid lines carry a dash array that draws no gap (the dash is encoded per series so the legend shows it).
    expect(markPaths(svg, 'line')[0].attrs['stroke-dasharray']).toBe('1,0');
    // A step line turns a corner at every new x: twice the segments of a straight polyline through n points.
    expect(segments(markPaths(svg, 'step')[0].attrs.d)).toBe(2 * (n - 1));
    expect(segments(markPaths(svg, 'line')[0].attrs.d)).toBe(n - 1);
    // A sampled series beside a stepped one: steps too, dashed (Vega names the layer's class dashed_step).
    expect(markPaths(svg, 'dashed_step')[0].attrs['stroke-dasharray']).toBe('6,4');
    expect(segments(markPaths(svg, 'dashed_step')[0].attrs.d)).toBe(2 * (n - 1));
  });

  it('draws the legend swatch of a dashed series dashed and of a solid one solid', async () => {
    const svg = parseXml(await lineChart({ title: 't', x: { label: 'x' }, y: { label: 'y' }, series }));
    const dashes = legendSwatches(svg).map((p) => p.attrs['stroke-dasharray'] ?? 'none');
    // series order: point, dashed, step, line, dashed-step
    expect(dashes).toEqual(['1,0', '6,4', '1,0', '1,0', '6,4']);
  });

  it('puts ticks on whole numbers only on an integer axis (frames, epochs), and not without it', async () => {
    const chart = (x: Axis) =>
      lineChart({ title: 't', x, y: { label: 'y' }, series: [{ name: 's', x: [0, 1, 2], y: [0, 1, 0] }] });
    const whole = tickLabels(parseXml(await chart({ label: 'frame', integer: true })), 'frame');
    expect(whole).toEqual(['0', '1', '2']);
    // The same data on a plain axis gets Vega's fractional ticks: the option is what removes them.
    const plain = tickLabels(parseXml(await chart({ label: 'x' })), 'x');
    expect(plain.some((t) => !/^\d+$/.test(t))).toBe(true);
  });

  it('draws a series of one point as a point, not as an invisible line', async () => {
    const svg = parseXml(
      await lineChart({
        title: 't',
        x: { label: 'x' },
        y: { label: 'y' },
        series: [
          { name: 'curve', x: [0, 1, 2], y: [0, 1, 0] },
          { name: 'lone', x: [1], y: [0.5], mark: 'dashed' },
        ],
      }),
    );
    const points = markPaths(svg, 'point');
    expect(points).toHaveLength(1);
    expect(points[0].attrs['aria-label']).toMatch(/series: lone/);
    expect(markPaths(svg, 'line')).toHaveLength(1);
    // Drawn as a point, its legend swatch is not dashed either.
    expect(legendSwatches(svg).map((p) => p.attrs['stroke-dasharray'])).toEqual(['1,0', '1,0']);
  });

  it('joins points in the order given, not sorted by x (hysteresis loops, parametric sweeps)', async () => {
    const loop = { name: 'loop', x: [0, 2, 1], y: [0, 1, 2] };
    const svg = parseXml(await lineChart({ title: 't', x: { label: 'x' }, y: { label: 'y' }, series: [loop] }));
    const xs = [...markPaths(svg, 'line')[0].attrs.d.matchAll(/[ML]([-\d.]+),/g)].map((m) => Number(m[1]));
    expect(xs).toHaveLength(3);
    expect(xs[1]).toBeGreaterThan(xs[2]);
  });

  it('labels ticks of microwatt data with SI prefixes rather than long decimals', async () => {
    const svg = parseXml(
      await lineChart({
        title: 't',
        x: { label: 'width N' },
        y: { label: 'power (W)' },
        series: [{ name: 'p', x: widths, y: power }],
      }),
    );
    const yLabels = byClass(svg, 'role-axis-label').map((g) => findAll(g, (e) => e.name === 'text').map(textOf));
    expect(yLabels.flat().some((t) => t.endsWith('µ'))).toBe(true);
    expect(yLabels.flat().some((t) => t.startsWith('0.00'))).toBe(false);
  });

  it('escapes markup in titles, labels and series names', async () => {
    const raw = await lineChart({
      title: 'a < b & c',
      x: { label: 'x <1>' },
      y: { label: 'y "q"' },
      series: [{ name: 'R&D <fit>', x: [0, 1], y: [1, 2] }],
    });
    const svg = parseXml(raw);
    expect(texts(svg, 'role-title-text')).toEqual(['a < b & c']);
    expect(texts(svg, 'role-legend-label')).toEqual(['R&D <fit>']);
  });

  it('draws inside a fixed domain and keeps the chart size', async () => {
    const svg = parseXml(
      await lineChart({
        title: 't',
        x: { label: 'x', domain: [0, 10] },
        y: { label: 'y', domain: [0, 1] },
        series: [{ name: 's', x: [1, 2], y: [0.5, 0.6] }],
        size: { width: 200, height: 100 },
      }),
    );
    const xTicks = byClass(svg, 'role-axis-label').flatMap((g) => findAll(g, (e) => e.name === 'text').map(textOf));
    expect(xTicks).toContain('10');
    expect(Number(svg.attrs.width)).toBeLessThan(400);
  });

  it('rejects non-positive values on a log axis with a RangeError naming the series and index', async () => {
    const bad = { name: 'leak', x: [1, 2, 3], y: [1e-9, 0, 1e-8] };
    const run = () =>
      lineChart({ title: 't', x: { label: 'x' }, y: { label: 'current (A)', log: true }, series: [bad] });
    await expect(run()).rejects.toThrow(RangeError);
    await expect(run()).rejects.toThrow(/series 'leak' index 1: y = 0 is not positive.*'current \(A\)'/);
    const negX = () =>
      lineChart({
        title: 't',
        x: { label: 'w', log: true },
        y: { label: 'y' },
        series: [{ name: 'w', x: [1, -2], y: [1, 1] }],
      });
    await expect(negX()).rejects.toThrow(/series 'w' index 1: x = -2 is not positive/);
  });

  it('rejects data it would otherwise drop or mislabel', async () => {
    const chart = (series: Series[], y: Axis = { label: 'y' }) =>
      lineChart({ title: 't', x: { label: 'x' }, y, series });
    await expect(chart([{ name: 'n', x: [0, 1, 2], y: [0, NaN, 1] }])).rejects.toThrow(
      /series 'n' index 1: y = NaN is not finite/,
    );
    await expect(chart([{ name: 'm', x: [0, 1], y: [0] }])).rejects.toThrow(/series 'm': x has 2 values, y has 1/);
    await expect(
      chart([
        { name: 'd', x: [0], y: [0] },
        { name: 'd', x: [1], y: [1] },
      ]),
    ).rejects.toThrow(/'d' appears twice/);
    await expect(chart([])).rejects.toThrow(RangeError);
    await expect(chart([{ name: 'e', x: [], y: [] }])).rejects.toThrow(/at least one point/);
    await expect(chart([{ name: 'a', x: [1], y: [1] }], { label: 'y', log: true, domain: [0, 1] })).rejects.toThrow(
      /log domain/,
    );
  });
});

describe('histogram', () => {
  it('bins known data into equal-width bins, the maximum into the last bin', () => {
    const b = binValues([0, 1, 2, 3, 4, 5, 6, 7, 8, 10], { label: 'x' }, 5);
    expect(b.edges).toEqual([0, 2, 4, 6, 8, 10]);
    expect(b.counts).toEqual([2, 2, 2, 2, 2]);
    expect(b.outside).toBe(0);
  });

  it('bins in decades on a log axis and counts values outside a fixed domain', () => {
    const b = binValues([1e-9, 5e-9, 1e-8, 2e-7, 1e-6], { label: 'I (A)', log: true, domain: [1e-9, 1e-7] }, 2);
    expect(b.edges.map((e) => Math.log10(e))).toEqual([-9, -8, -7].map((e) => expect.closeTo(e, 12)));
    expect(b.counts).toEqual([2, 1]);
    expect(b.outside).toBe(2);
  });

  it('makes one bin around identical values instead of dividing by zero', () => {
    const b = binValues([3, 3, 3], { label: 'x' }, 1);
    expect(b.counts).toEqual([3]);
    expect(b.edges[0]).toBeLessThan(3);
    expect(b.edges[1]).toBeGreaterThan(3);
  });

  it('renders one bar per bin with title, axis labels and bar heights in proportion to counts', async () => {
    const values = [1, 1, 1, 1, 2, 2, 3, 4];
    const svg = parseXml(await histogram({ title: 'Monte Carlo', x: { label: 'threshold (A)' }, values, bins: 4 }));
    expect(texts(svg, 'role-title-text')).toEqual(['Monte Carlo']);
    expect(texts(svg, 'role-axis-title').sort()).toEqual(['count', 'threshold (A)']);
    const bars = byClass(svg, 'marks')
      .filter((g) => (g.attrs.class ?? '').includes('mark-rect'))
      .flatMap((g) => findAll(g, (e) => e.name === 'path'));
    expect(bars).toHaveLength(4);
    // Bars are 'M x,y h w v h h -w Z' paths; heights 4:2:1:1 follow the counts.
    const heights = bars.map((p) => Number(/v([\d.]+)/.exec(p.attrs.d)?.[1]));
    expect(heights[0] / heights[1]).toBeCloseTo(2, 5);
    expect(heights[2]).toBeCloseTo(heights[3], 5);
  });

  it('labels the count axis with whole numbers when the counts are small', async () => {
    const svg = parseXml(await histogram({ title: 't', x: { label: 'v' }, values: [1, 2, 2, 3], bins: 3 }));
    const counts = tickLabels(svg, 'count');
    expect(counts.length).toBeGreaterThan(1);
    expect(counts.every((t) => /^\d+$/.test(t))).toBe(true);
  });

  it('names the index of a value a log axis cannot show', async () => {
    await expect(histogram({ title: 't', x: { label: 'x', log: true }, values: [1, 2, -1] })).rejects.toThrow(
      /values index 2: x = -1 is not positive/,
    );
    await expect(histogram({ title: 't', x: { label: 'x' }, values: [] })).rejects.toThrow(RangeError);
    await expect(histogram({ title: 't', x: { label: 'x' }, values: [1], bins: 0 })).rejects.toThrow(/bins = 0/);
  });
});

describe('rendering offline', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('renders without fetching anything', async () => {
    const fetch = vi.fn(() => Promise.reject(new Error('network used')));
    vi.stubGlobal('fetch', fetch);
    const svg = await lineChart({
      title: 't',
      x: { label: 'x' },
      y: { label: 'y' },
      series: [{ name: 's', x: [0, 1], y: [0, 1] }],
    });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(fetch).not.toHaveBeenCalled();
  });

  it('refuses any data load instead of rendering an empty plot', async () => {
    const fetch = vi.fn(() => Promise.reject(new Error('network used')));
    vi.stubGlobal('fetch', fetch);
    const spec = {
      data: { url: 'http://127.0.0.1:9/data.json' },
      mark: 'point',
      encoding: { x: { field: 'a', type: 'quantitative' } },
    } as const;
    await expect(renderSvg(spec)).rejects.toThrow(/refused 'http:\/\/127\.0\.0\.1:9\/data\.json'/);
    expect(fetch).not.toHaveBeenCalled();
  });
});

describe('htmlPage and writePlot', () => {
  it('embeds each SVG inline in one well-formed page without scripts or external files', async () => {
    const a = await lineChart({
      title: 'Chart A',
      x: { label: 'x' },
      y: { label: 'y' },
      series: [{ name: 's', x: [0, 1], y: [0, 1] }],
    });
    const b = await histogram({ title: 'Chart B', x: { label: 'v' }, values: [1, 2, 2, 3] });
    const page = htmlPage('Report <1> & more', [
      { heading: 'First', svg: a, caption: 'caption with <tags>' },
      { heading: 'Second & <last>', svg: b },
      { heading: 'Again', svg: a },
    ]);
    const doc = parseXml(page, ['meta']);
    expect(doc.name).toBe('html');
    expect(textOf(findAll(doc, (e) => e.name === 'title')[0])).toBe('Report <1> & more');
    expect(findAll(doc, (e) => e.name === 'h2').map(textOf)).toEqual(['First', 'Second & <last>', 'Again']);
    expect(findAll(doc, (e) => e.name === 'figcaption').map(textOf)).toEqual(['caption with <tags>']);
    const svgs = findAll(doc, (e) => e.name === 'svg');
    expect(svgs.map((s) => texts(s, 'role-title-text')[0])).toEqual(['Chart A', 'Chart B', 'Chart A']);
    expect(findAll(doc, (e) => ['script', 'link', 'img', 'iframe'].includes(e.name))).toEqual([]);
    expect(page).not.toMatch(/@import|url\((?!#)/);
  });

  it('keeps ids unique in the page so a clip path cannot resolve to another plot', async () => {
    const clipped = await lineChart({
      title: 't',
      x: { label: 'x', domain: [0, 1] },
      y: { label: 'y' },
      series: [{ name: 's', x: [0, 2], y: [0, 1] }],
    });
    expect(clipped).toMatch(/url\(#/);
    const doc = parseXml(
      htmlPage('p', [
        { heading: 'a', svg: clipped },
        { heading: 'b', svg: clipped },
      ]),
      ['meta'],
    );
    const ids = findAll(doc, (e) => e.attrs.id !== undefined).map((e) => e.attrs.id);
    expect(ids.length).toBeGreaterThan(1);
    expect(new Set(ids).size).toBe(ids.length);
    for (const svg of findAll(doc, (e) => e.name === 'svg')) {
      const own = new Set(findAll(svg, (e) => e.attrs.id !== undefined).map((e) => e.attrs.id));
      const refs = findAll(svg, (e) => e.attrs['clip-path'] !== undefined).map(
        (e) => /url\(#(.+)\)/.exec(e.attrs['clip-path'])?.[1],
      );
      expect(refs.length).toBeGreaterThan(0);
      for (const r of refs) expect(own.has(r ?? '')).toBe(true);
    }
  });

  it('writes a plot into folders it creates', async () => {
    const dir = scratchDir('bmru-plot-');
    const path = join(dir, 'a', 'b', 'chart.svg');
    await writePlot(path, '<svg xmlns="http://www.w3.org/2000/svg"></svg>');
    expect(readFileSync(path, 'utf8')).toBe('<svg xmlns="http://www.w3.org/2000/svg"></svg>');
  });
});

describe('rasterChart', () => {
  const spec: RasterSpec = {
    title: 'states',
    xLabel: 'frame',
    yLabel: 'cell',
    rows: ['unit 0', 'unit 1'],
    columns: 4,
    categories: [
      { name: 'OFF', color: '#eeeeee' },
      { name: 'ON', color: '#4c78a8' },
      { name: 'differ', color: '#e45756' },
    ],
    // unit 0: OFF OFF ON ON; unit 1: ON differ differ ON
    cells: [0, 0, 1, 1, 1, 2, 2, 1],
  };

  it('merges equal neighbours of a row into one run, worked by hand', () => {
    expect(rasterRuns(spec)).toEqual([
      { row: 'unit 0', from: 0, to: 2, category: 'OFF' },
      { row: 'unit 0', from: 2, to: 4, category: 'ON' },
      { row: 'unit 1', from: 0, to: 1, category: 'ON' },
      { row: 'unit 1', from: 1, to: 3, category: 'differ' },
      { row: 'unit 1', from: 3, to: 4, category: 'ON' },
    ]);
  });

  it('draws one rectangle per run in its category colour, spanning its frames, rows in the given order', async () => {
    const svg = parseXml(await rasterChart(spec));
    const rects = byClass(svg, 'mark-rect').flatMap((g) => findAll(g, (e) => e.name === 'path'));
    expect(rects.map((r) => r.attrs.fill)).toEqual(['#eeeeee', '#4c78a8', '#4c78a8', '#e45756', '#4c78a8']);
    // 'M x,y h w v h h -w Z': widths in proportion to the frames each run spans (2, 2, 1, 2, 1).
    const widthsPx = rects.map((r) => Number(/h([\d.]+)/.exec(r.attrs.d)?.[1]));
    expect(widthsPx[0] / widthsPx[2]).toBeCloseTo(2, 5);
    expect(widthsPx[3] / widthsPx[4]).toBeCloseTo(2, 5);
    const top = (r: XmlElement) => Number(/M[-\d.]+,([-\d.]+)/.exec(r.attrs.d)?.[1]);
    expect(top(rects[0])).toBeLessThan(top(rects[2]));
    expect(texts(svg, 'role-legend-label')).toEqual(['OFF', 'ON', 'differ']);
    expect(tickLabels(svg, 'frame')).toEqual(['0', '1', '2', '3', '4']);
  });

  it('names the row and column of a cell that is not a category, and refuses a grid of the wrong size', () => {
    expect(() => rasterRuns({ ...spec, cells: [0, 0, 1, 1, 1, 3, 2, 1] })).toThrow(
      /row 'unit 1' column 1: 3 is not a category index 0..2/,
    );
    expect(() => rasterRuns({ ...spec, cells: [0, 0, 1, 1, 1, 0.5, 2, 1] })).toThrow(/column 1: 0.5/);
    expect(() => rasterRuns({ ...spec, cells: [0, 0, 1] })).toThrow(/3 values for 2 rows x 4 columns/);
    expect(() => rasterRuns({ ...spec, rows: ['a', 'a'] })).toThrow(/unique/);
    expect(() => rasterRuns({ ...spec, rows: [], cells: [] })).toThrow(/at least one row/);
  });
});

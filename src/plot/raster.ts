/**
 * A raster of categories over frames: one row per item (a cell, a unit), one column per frame, each cell of the
 * grid coloured by its category. What a designer reads a network's states from: which unit is ON when, and where
 * two runs disagree, without stacking 0/1 lines at made-up heights.
 */
import type { TopLevelSpec } from 'vega-lite';
import { DEFAULT_SIZE, renderSvg, vlConfig, type Size } from './charts.js';

/** Row height in px, about a line of text: a 4-unit raster stays compact; 64 rows share the chart's 300 px. */
const ROW_HEIGHT_PX = 24;

/** One category: its legend name and its colour (any CSS colour). */
export interface RasterCategory {
  readonly name: string;
  readonly color: string;
}

export interface RasterSpec {
  readonly title: string;
  /** x axis label; column c spans [c, c + 1) on it (frame c). */
  readonly xLabel: string;
  readonly yLabel: string;
  /** Row names, drawn top to bottom in this order. */
  readonly rows: readonly string[];
  readonly columns: number;
  readonly categories: readonly RasterCategory[];
  /** rows.length * columns category indices, row-major: cells[r * columns + c]. */
  readonly cells: ArrayLike<number>;
  readonly size?: Size;
}

/** One drawn rectangle: a run of equal categories in one row. */
export interface RasterRun {
  readonly row: string;
  readonly from: number;
  readonly to: number;
  readonly category: string;
}

/** Throws a RangeError naming the row and column of the first cell that is not a category index. */
function checkRaster(spec: RasterSpec): void {
  const { rows, columns, categories, cells } = spec;
  if (rows.length === 0 || !(Number.isInteger(columns) && columns >= 1))
    throw new RangeError(`a raster needs at least one row and one column, got ${rows.length} x ${columns}`);
  if (new Set(rows).size !== rows.length) throw new RangeError('raster row names must be unique');
  if (cells.length !== rows.length * columns)
    throw new RangeError(`raster cells: ${cells.length} values for ${rows.length} rows x ${columns} columns`);
  for (let i = 0; i < cells.length; i++) {
    const v = cells[i];
    if (!(Number.isInteger(v) && v >= 0 && v < categories.length)) {
      const where = `row '${rows[Math.floor(i / columns)]}' column ${i % columns}`;
      throw new RangeError(`raster ${where}: ${v} is not a category index 0..${categories.length - 1}`);
    }
  }
}

/** The grid as runs of equal neighbours along each row: a 64-unit, 101-frame raster is ~500 rectangles, not 6,464. */
export function rasterRuns(spec: RasterSpec): RasterRun[] {
  checkRaster(spec);
  const runs: RasterRun[] = [];
  spec.rows.forEach((row, r) => {
    let from = 0;
    for (let c = 1; c <= spec.columns; c++) {
      const v = spec.cells[r * spec.columns + from];
      if (c < spec.columns && spec.cells[r * spec.columns + c] === v) continue;
      runs.push({ row, from, to: c, category: spec.categories[v].name });
      from = c;
    }
  });
  return runs;
}

/** Vega-Lite spec of the raster: rectangles from run start to end, rows in the given order, every category in the legend. */
export function rasterSpec(spec: RasterSpec): TopLevelSpec {
  const runs = rasterRuns(spec);
  const size = spec.size ?? DEFAULT_SIZE;
  return {
    title: spec.title,
    width: size.width,
    height: Math.min(size.height, ROW_HEIGHT_PX * spec.rows.length),
    config: vlConfig(),
    data: { values: runs },
    mark: { type: 'rect', stroke: 'white', strokeWidth: 0.5 },
    encoding: {
      x: {
        field: 'from',
        type: 'quantitative',
        title: spec.xLabel,
        scale: { domain: [0, spec.columns], nice: false, zero: false },
        axis: { format: 'd', tickMinStep: 1, grid: false },
      },
      x2: { field: 'to' },
      y: { field: 'row', type: 'nominal', title: spec.yLabel, sort: [...spec.rows] },
      color: {
        field: 'category',
        type: 'nominal',
        title: null,
        scale: { domain: spec.categories.map((c) => c.name), range: spec.categories.map((c) => c.color) },
        legend: { symbolType: 'square' },
      },
    },
  };
}

/** A category raster as an SVG string; throws RangeError (naming row and column) on a cell that is not a category. */
export async function rasterChart(spec: RasterSpec): Promise<string> {
  return renderSvg(rasterSpec(spec));
}

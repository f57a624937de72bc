/**
 * Physical ranges a process can realise, and the check of a network's currents and frame time against them,
 * run before any deck is written. Without it, I_unit = 1 kA reached ngspice and ended in an operating-point
 * error naming no file or field, 1e-30 A or frame_s = 1e-300 went through without a word, and thresholds
 * beyond the calibrated grid (kws-w4 at I_unit 2 nA: block 1's beta_hi up to 3.7 nA) were clamped to the
 * grid's last row silently by the inverse mapping (calibration.ts `bracket`, `cellInverse`).
 *
 * The current range is the calibration's measured one (the I_thresh rows of `calibration.json`'s cell grid),
 * narrowed by a range `process.json` states (`currentRangeA`); a process without calibration uses its stated
 * range, else DEFAULT_CURRENT_RANGE_A. The frame range is `process.json`'s `frameRangeS`, else
 * DEFAULT_FRAME_RANGE_S. Checked, in A (software value x I_unit):
 *   I_unit                   in the range: the current of one unit, every weight and threshold scales it
 *   |bias|                   at most the top: a bias below the bottom is realised as closely as the process
 *                            allows and its error reported in the mapping table (DESIGN §1b), not refused
 *   beta_hi, alpha           in the range: the cell's threshold (I_thresh) and ON level (I_gain)
 *   beta_lo                  at least what the widest measured hysteresis leaves at that beta_hi
 *   frame_s                  in the frame range
 * With `clamp`, each value outside is moved to the nearest end and listed; without, the first is an
 * InputError naming the file, the field, the value in A and the range.
 */
import { InputError } from '../errors.js';
import type { Network } from '../model/types.js';
import { cellThresholds } from '../model/types.js';
import { cellForward, cellInverse, type Calibration, type CellGrid } from './calibration.js';
import type { MappingRow } from './mapping.js';
import type { Process } from './process.js';

/**
 * Currents (A) a process without a calibration is held to. Below ~10 pA a bias is at a cell's OFF leakage
 * (3-5 pA, DESIGN §3) and at what a 2 um diode-connected device passes at V_GS = 0 (5.6 pA, c180 notes);
 * above ~10 nA the 2 um / 8 um mirror devices leave weak inversion (~0.1 of their specific current, ~130 nA
 * on a 180 nm card), which the cell's design assumes (DESIGN §3, "subthreshold").
 */
export const DEFAULT_CURRENT_RANGE_A: readonly [number, number] = [10e-12, 10e-9];

/**
 * Frame times (s) when `process.json` states none. Measured here on the example network at I_unit = 1 nA
 * (c180, 3 frames): 100 us frames agreed 100% with the model, 10 us frames 75% (the cells had not settled),
 * and 1e-300 s failed ngspice's operating point after 35 s; 1000 s frames simulated as fast as 10 ms ones,
 * 1e4 s took 3.7x as long and 1e6 s had not finished after 5 min. DESIGN §3: cells settle 0.3-4 ms after a
 * frame edge at 10-500 pA biases, so the bottom end is a floor, not a recommendation.
 */
export const DEFAULT_FRAME_RANGE_S: readonly [number, number] = [1e-4, 100];

/** A closed interval with where it comes from, for messages. */
export interface Range {
  readonly min: number;
  readonly max: number;
  readonly source: string;
}

export interface PhysicalRanges {
  readonly currentA: Range;
  readonly frameS: Range;
  /** The calibrated cell grid, when there is one: it sets the lowest realisable beta_lo. */
  readonly grid?: CellGrid;
}

/** The ranges of a process (and its calibration, when the run inverts one). */
export function physicalRanges(process: Process, calibration?: Calibration): PhysicalRanges {
  const grid = calibration?.cell.grid;
  const stated = process.currentRangeA;
  let currentA: Range;
  if (grid) {
    const measured = { min: Math.min(...grid.thresh), max: Math.max(...grid.thresh) };
    const cal = `the ${process.name} calibration's measured I_thresh rows`;
    currentA = stated
      ? {
          min: Math.max(measured.min, stated[0]),
          max: Math.min(measured.max, stated[1]),
          source: `${cal} within process.json currentRangeA`,
        }
      : { ...measured, source: cal };
  } else {
    currentA = stated
      ? { min: stated[0], max: stated[1], source: `${process.name} process.json currentRangeA` }
      : {
          min: DEFAULT_CURRENT_RANGE_A[0],
          max: DEFAULT_CURRENT_RANGE_A[1],
          source: 'the default for an uncalibrated process',
        };
  }
  const frameS = process.frameRangeS
    ? { min: process.frameRangeS[0], max: process.frameRangeS[1], source: `${process.name} process.json frameRangeS` }
    : { min: DEFAULT_FRAME_RANGE_S[0], max: DEFAULT_FRAME_RANGE_S[1], source: 'the default frame range' };
  return { currentA, frameS, grid };
}

/** One value moved into its range by `clamp`. */
export interface Clamp {
  /** As the mapping table names it: `unit_current_a`, `frame_s`, `pre.bias[2]`, `blocks.1.cell.beta_hi[3]`, ... */
  readonly parameter: string;
  /** In the unit of `unit` (A or s). */
  readonly from: number;
  readonly to: number;
  readonly unit: 'A' | 's';
  /** One line for the terminal and the output files. */
  readonly message: string;
  /** Mapping-table rows the clamp changes, with their trained (pre-clamp) targets in software units. */
  readonly rows: readonly { readonly parameter: string; readonly target: number }[];
}

/** Where the network came from, for errors: its file and the names of its I_unit and frame-time fields. */
export interface RangeSource {
  readonly file?: string;
  /** Default: the model format's name (`unitCurrentA` in a .json model, else `__metadata__.unit_current_a`). */
  readonly unitField?: string;
  readonly frameField?: string;
  /** The file that sets the frame period when it is not the model's (a plan's `framePeriods`); default `file`. */
  readonly frameFile?: string;
  /** What the error tells the user to do about a value out of range; default: the `--clamp` flag of the commands. */
  readonly remedy?: string;
}

/** The commands' way out of a range error. */
const CLAMP_REMEDY = 'use --clamp to build it at the nearest end of the range';

export interface RangeCheck {
  /** The network to build: the one given, or with clamped values. */
  readonly net: Network;
  readonly clamps: readonly Clamp[];
}

/** A current or time with an SI prefix: `3.67 nA`, `250 pA`, `1e-30 A`. */
export function formatSi(v: number, unit: string): string {
  const prefixes: [number, string][] = [
    [1, ''],
    [1e-3, 'm'],
    [1e-6, 'u'],
    [1e-9, 'n'],
    [1e-12, 'p'],
    [1e-15, 'f'],
  ];
  const a = Math.abs(v);
  if (a === 0) return `0 ${unit}`;
  if (a >= 1e3 || a < 1e-15)
    return `${v
      .toPrecision(3)
      .replace(/\.?0+e/, 'e')
      .replace('e+', 'e')} ${unit}`;
  const [scale, p] = prefixes.find(([s]) => a >= s) ?? prefixes[prefixes.length - 1];
  return `${Number((v / scale).toPrecision(3))} ${p}${unit}`;
}

const rangeText = (r: Range, unit: string) => `${formatSi(r.min, unit)} .. ${formatSi(r.max, unit)} (${r.source})`;

/**
 * Checks a network against a process's ranges. Without `clamp` the first value outside is an InputError; with
 * it every such value is moved to the nearest end of its range and listed.
 */
export function checkPhysicalRanges(
  net: Network,
  ranges: PhysicalRanges,
  opts: RangeSource & { readonly clamp?: boolean } = {},
): RangeCheck {
  const file = opts.file;
  const json = file?.toLowerCase().endsWith('.json') ?? false;
  const unitField = opts.unitField ?? (json ? 'unitCurrentA' : '__metadata__.unit_current_a');
  const frameField = opts.frameField ?? (json ? 'frameS' : '__metadata__.frame_s');
  const clamps: Clamp[] = [];
  /** A value outside [lo, hi]: an error, or (clamp) the nearest end, listed. */
  const fit = (
    value: number,
    lo: number,
    hi: number,
    what: {
      file?: string;
      field: string;
      index?: number;
      parameter: string;
      label: string;
      range: string;
      unit: 'A' | 's';
      rows?: Clamp['rows'];
    },
  ): number => {
    if (value >= lo && value <= hi) return value;
    const side = value < lo ? 'below' : 'above';
    const rule = `${what.label} = ${formatSi(value, what.unit)} is ${side} the range ${what.range}`;
    if (!opts.clamp)
      throw new InputError(`${rule}; ${opts.remedy ?? CLAMP_REMEDY}`, {
        file: what.file ?? file,
        field: what.field,
        index: what.index,
      });
    const to = value < lo ? lo : hi;
    clamps.push({
      parameter: what.parameter,
      from: value,
      to,
      unit: what.unit,
      message: `${what.parameter}: ${rule}: clamped to ${formatSi(to, what.unit)}`,
      rows: what.rows ?? [],
    });
    return to;
  };

  const { currentA: cur, frameS: fr } = ranges;
  const curText = rangeText(cur, 'A');
  const unitA = fit(net.unitCurrentA, cur.min, cur.max, {
    field: unitField,
    parameter: 'unit_current_a',
    label: 'I_unit',
    range: curText,
    unit: 'A',
  });
  const frameS = fit(net.frameS, fr.min, fr.max, {
    file: opts.frameFile,
    field: frameField,
    parameter: 'frame_s',
    label: 'the frame time frame_s',
    range: rangeText(fr, 's'),
    unit: 's',
  });

  const biasInRange = (bias: Float64Array, name: string): Float64Array =>
    bias.map((b, i) => {
      const a = fit(Math.abs(b) * unitA, 0, cur.max, {
        field: name,
        index: i,
        parameter: `${name}[${i}]`,
        label: `|bias| x I_unit`,
        range: `0 .. ${formatSi(cur.max, 'A')} (${cur.source})`,
        unit: 'A',
        rows: [{ parameter: `${name}[${i}]`, target: b }],
      });
      return (Math.sign(b) * a) / unitA;
    });

  const pre = { weight: net.pre.weight, bias: biasInRange(net.pre.bias, 'pre.bias') };
  const blocks = net.blocks.map((block, k) => {
    const th = cellThresholds(block.cell);
    const cell = {
      alpha: Float64Array.from(block.cell.alpha),
      beta1: Float64Array.from(block.cell.beta1),
      delta: Float64Array.from(block.cell.delta),
      s0: block.cell.s0,
    };
    const p = `blocks.${k}.cell`;
    for (let j = 0; j < th.alpha.length; j++) {
      const deltaU = th.betaHi[j] - th.betaLo[j];
      const rows = [
        { parameter: `${p}.beta_hi[${j}]`, target: th.betaHi[j] },
        { parameter: `${p}.delta[${j}]`, target: deltaU },
      ];
      const before = clamps.length;
      const hiA = fit(th.betaHi[j] * unitA, cur.min, cur.max, {
        field: `${p}.beta_hi`,
        index: j,
        parameter: `${p}.beta_hi[${j}]`,
        label: 'beta_hi = (|beta1| + |delta|) x I_unit',
        range: curText,
        unit: 'A',
        rows,
      });
      const floorA = lowestBetaLoA(ranges.grid, hiA);
      const loRange = `${formatSi(floorA, 'A')} .. ${formatSi(hiA, 'A')} (at beta_hi = ${formatSi(hiA, 'A')}: the widest hysteresis the ${ranges.grid ? 'calibrated cell holds' : 'cell holds'})`;
      const loA = fit(Math.min(th.betaLo[j] * unitA, hiA), floorA, hiA, {
        field: `${p}.beta1`,
        index: j,
        parameter: `${p}.beta_lo[${j}]`,
        label: 'beta_lo = |beta1| x I_unit',
        range: loRange,
        unit: 'A',
        rows,
      });
      const alphaA = fit(th.alpha[j] * unitA, cur.min, cur.max, {
        field: `${p}.alpha`,
        index: j,
        parameter: `${p}.alpha[${j}]`,
        label: 'alpha = |alpha| x I_unit',
        range: curText,
        unit: 'A',
        rows: [{ parameter: `${p}.alpha[${j}]`, target: th.alpha[j] }],
      });
      if (clamps.length === before && unitA === net.unitCurrentA) continue;
      // Written as magnitudes, which read the same under either cell_params convention (|.| of a magnitude is itself).
      cell.beta1[j] = loA / unitA;
      cell.delta[j] = (hiA - loA) / unitA;
      cell.alpha[j] = alphaA / unitA;
    }
    return {
      cand: { weight: block.cand.weight, bias: biasInRange(block.cand.bias, `blocks.${k}.cand.bias`) },
      cell,
      post: { weight: block.post.weight, bias: biasInRange(block.post.bias, `blocks.${k}.post.bias`) },
    };
  });
  const out = { weight: net.out.weight, bias: biasInRange(net.out.bias, 'out.bias') };
  if (clamps.length === 0) return { net, clamps };
  return { net: { ...net, unitCurrentA: unitA, frameS, pre, blocks, out }, clamps };
}

/**
 * The lowest beta_lo (A) a cell realises at this beta_hi: the widest hysteresis the calibration measured
 * (I_width up to the grid's last fraction of I_thresh; cellInverse never asks for more). Without a grid the
 * identity transfer realises any width, down to beta_lo = 0.
 */
export function lowestBetaLoA(grid: CellGrid | undefined, betaHiA: number): number {
  if (!grid || betaHiA <= 0) return 0;
  const { threshA, widthA } = cellInverse(grid, betaHiA, betaHiA);
  const got = cellForward(grid, threshA, widthA);
  return Math.max(got.betaHiA - got.deltaA, 0);
}

/**
 * The mapping table with each clamp written into it: a row the clamp changed keeps the trained value as its
 * target (so its error shows what the clamp cost) and says so in its realisation; I_unit and frame-time clamps,
 * which no element carries, get a row of their own (target and realised in A or s).
 */
export function annotateMapping(mapping: readonly MappingRow[], clamps: readonly Clamp[]): MappingRow[] {
  const byRow = new Map<string, { target: number; notes: string[] }>();
  for (const c of clamps) {
    for (const r of c.rows) {
      const entry = byRow.get(r.parameter) ?? { target: r.target, notes: [] };
      entry.notes.push(`${c.parameter} ${formatSi(c.from, c.unit)} -> ${formatSi(c.to, c.unit)}`);
      byRow.set(r.parameter, entry);
    }
  }
  const rows = mapping.map((row) => {
    const e = byRow.get(row.parameter);
    if (!e) return row;
    return {
      ...row,
      realisation: `${row.realisation} [clamped: ${e.notes.join('; ')}]`,
      target: e.target,
      error: row.realised - e.target,
    };
  });
  const globals = clamps
    .filter((c) => c.parameter === 'unit_current_a' || c.parameter === 'frame_s')
    .map((c) => ({
      parameter: c.parameter,
      element: '(every source)',
      realisation: `${c.parameter === 'unit_current_a' ? 'I_unit' : 'frame time'} [clamped: ${formatSi(c.from, c.unit)} -> ${formatSi(c.to, c.unit)}]`,
      target: c.from,
      realised: c.to,
      setting: `${formatSi(c.to, c.unit)}`,
      error: c.to - c.from,
    }));
  return [...globals, ...rows];
}

/**
 * The cell limits of the processes (each with its calibration) at every I_unit of `unitCurrentsA`: the tightest of
 * them. The widest hysteresis a cell holds is not proportional to its current, so a model built at several I_unit
 * (a power sweep) must be trained inside all of them. In software units (1 = I_unit), the shape of train/hardware.ts
 * `CellLimits` (which this stage cannot import).
 */
export function processCellLimits(
  processes: readonly { process: Process; calibration?: Calibration }[],
  unitCurrentsA: readonly number[],
) {
  const ranges = processes.map((p) => physicalRanges(p.process, p.calibration));
  const lowest = Math.min(...unitCurrentsA);
  const highest = Math.max(...unitCurrentsA);
  return {
    processes: processes.map((p) => p.process.name),
    minCurrent: Math.max(...ranges.map((r) => r.currentA.min)) / lowest,
    maxCurrent: Math.min(...ranges.map((r) => r.currentA.max)) / highest,
    betaLoFloor: (betaHi: number) =>
      Math.max(...ranges.flatMap((r) => unitCurrentsA.map((u) => lowestBetaLoA(r.grid, betaHi * u) / u))),
  };
}

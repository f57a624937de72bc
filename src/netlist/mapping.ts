import { writeToString } from 'fast-csv';
import { writeFileAtomic } from '../util/output.js';

/** One row of the parameter -> element table that comes with every netlist (DESIGN §2). */
export interface MappingRow {
  /** Model parameter, e.g. `blocks.0.cand.weight[1,2]` or `blocks.1.cell.beta_hi[0]`. */
  readonly parameter: string;
  /** Netlist element(s) that realise it. */
  readonly element: string;
  /** How it is realised, e.g. `pmos mirror width`, `bias current`. */
  readonly realisation: string;
  /** Trained value (software units). */
  readonly target: number;
  /** What the circuit realises after quantisation and calibration (software units). */
  readonly realised: number;
  /** The element's setting, with unit (e.g. `w=2.34u`, `I=351.2p`). */
  readonly setting: string;
  /** realised - target (software units). */
  readonly error: number;
}

export const MAPPING_COLUMNS = [
  'parameter',
  'element',
  'realisation',
  'target',
  'realised',
  'setting',
  'error',
] as const;

/** Write the mapping table as CSV. */
export async function writeMappingCsv(path: string, rows: readonly MappingRow[]): Promise<void> {
  await writeFileAtomic(path, await writeToString(rows as MappingRow[], { headers: [...MAPPING_COLUMNS] }));
}

/** The worst realised-vs-trained errors of a mapping table, each ranked in the unit where it acts (mappingSummary). */
export interface MappingSummary {
  readonly rows: number;
  /** The current source (setting `I=`) whose current is furthest off, and by how much (A). */
  readonly worstCurrent?: { readonly row: MappingRow; readonly errorA: number };
  /** The mirror (setting `w=`) whose gain is furthest off, relative to its target. */
  readonly worstGain?: { readonly row: MappingRow; readonly relError: number };
}

/**
 * Worst realised-vs-trained error, ranked by effect rather than by relative parameter error. A current source (a
 * bias, a cell's I_thresh/I_width/I_gain) moves the current at its node by |error| * I_unit, which compares directly
 * with a candidate's margin to a threshold: these rank in amperes, so a 0.1 pA hysteresis width realised at 0.2 pA
 * (100% off, no effect on any state) does not outrank a 10 pA shift of a 1 nA threshold (1% off). A mirror scales
 * whatever it copies, so its effect is proportional to the signal: these rank by relative gain error. Dropped
 * weights (element `(none)`) are a rounding choice, not an element error; initial states are not currents.
 */
export function mappingSummary(rows: readonly MappingRow[], unitCurrentA: number): MappingSummary {
  let worstCurrent: MappingSummary['worstCurrent'];
  let worstGain: MappingSummary['worstGain'];
  for (const row of rows) {
    if (row.element === '(none)') continue;
    const errorA = Math.abs(row.error) * unitCurrentA;
    const relError = row.target !== 0 ? Math.abs(row.error / row.target) : 0;
    if (row.setting.startsWith('I=') && errorA > (worstCurrent?.errorA ?? 0)) worstCurrent = { row, errorA };
    if (row.setting.startsWith('w=') && relError > (worstGain?.relError ?? 0)) worstGain = { row, relError };
  }
  return { rows: rows.length, worstCurrent, worstGain };
}

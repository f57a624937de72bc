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

export const MAPPING_COLUMNS = ['parameter', 'element', 'realisation', 'target', 'realised', 'setting', 'error'] as const;

/** Write the mapping table as CSV. */
export async function writeMappingCsv(path: string, rows: readonly MappingRow[]): Promise<void> {
  await writeFileAtomic(path, await writeToString(rows as MappingRow[], { headers: [...MAPPING_COLUMNS] }));
}

/** Summary of quantisation/calibration error over the table (largest absolute and relative error). */
export function mappingSummary(rows: readonly MappingRow[]): { rows: number; maxAbsError: number; maxRelError: number; worst?: MappingRow } {
  let maxAbsError = 0;
  let maxRelError = 0;
  let worst: MappingRow | undefined;
  for (const r of rows) {
    // A weight dropped as below half the narrowest mirror is a rounding choice, not an error of the element.
    if (r.element === '(none)') continue;
    const rel = r.target !== 0 ? Math.abs(r.error / r.target) : 0;
    if (Math.abs(r.error) > maxAbsError) maxAbsError = Math.abs(r.error);
    if (rel > maxRelError) {
      maxRelError = rel;
      worst = r;
    }
  }
  return { rows: rows.length, maxAbsError, maxRelError, worst };
}

import { writeToString } from 'fast-csv';
import { writeFileAtomic } from '../util/output.js';

/** Write rows (header first) as a CSV file, atomically (util/output.ts); resolves when the file is complete. */
export async function writeCsv(
  path: string,
  rows: readonly (readonly (string | number | boolean | null)[])[],
): Promise<void> {
  await writeFileAtomic(path, await writeToString(rows as (string | number | boolean | null)[][]));
}

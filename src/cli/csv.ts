import { writeToPath } from 'fast-csv';

/** Write rows (header first) as a CSV file; resolves when the file is complete. */
export function writeCsv(path: string, rows: readonly (readonly (string | number | boolean | null)[])[]): Promise<void> {
  return new Promise<void>((resolve, reject) => writeToPath(path, rows as (string | number | boolean | null)[][]).on('error', reject).on('finish', () => resolve()));
}

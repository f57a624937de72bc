import { readFile } from 'node:fs/promises';
import { parseString } from 'fast-csv';
import { InputError } from '../errors.js';
import { MAX_FRAMES } from './limits.js';
import type { InputSequence } from './network.js';

/**
 * Parse an input sequence CSV: one row per frame, one column per feature, an optional header row
 * (recognised by a cell that is not a number). Errors name the file, the row (1-based, as an editor shows it)
 * and the column.
 */
export async function parseInputsCsv(text: string, file?: string): Promise<InputSequence & { header?: string[] }> {
  // Blank rows are skipped here rather than by fast-csv's ignoreEmpty, so that each row keeps its line number
  // (with ignoreEmpty a blank line made every later error name the row above the bad one).
  const rows = await new Promise<{ cells: string[]; line: number }[]>((resolve, reject) => {
    const acc: { cells: string[]; line: number }[] = [];
    let line = 0;
    parseString(text, { trim: true })
      .on('error', (e) => reject(new InputError(`malformed CSV (${e.message})`, { file })))
      .on('data', (cells: string[]) => {
        line++;
        if (cells.some((c) => c !== '')) acc.push({ cells, line });
      })
      .on('end', () => resolve(acc));
  });
  if (rows.length === 0) throw new InputError('expected at least one frame, the file is empty', { file });
  const hasHeader = rows[0].cells.some((cell) => cell === '' || !Number.isFinite(Number(cell)));
  const header = hasHeader ? rows[0].cells : undefined;
  const body = hasHeader ? rows.slice(1) : rows;
  const features = rows[0].cells.length;
  if (body.length === 0) throw new InputError('expected at least one frame after the header', { file });
  if (body.length > MAX_FRAMES)
    throw new InputError(
      `has ${body.length} frames: expected at most ${MAX_FRAMES} (the toolkit's limit, src/model/limits.ts)`,
      { file },
    );
  const data = new Float64Array(body.length * features);
  body.forEach(({ cells: row, line }, t) => {
    if (row.length !== features) {
      throw new InputError(`expected ${features} columns, got ${row.length}`, { file, field: `row ${line}` });
    }
    row.forEach((cell, f) => {
      const v = Number(cell);
      if (cell === '' || !Number.isFinite(v)) {
        throw new InputError(`expected a finite number, got '${cell}'`, {
          file,
          field: `row ${line}, column ${header?.[f] ?? f + 1}`,
        });
      }
      data[t * features + f] = v;
    });
  });
  return { frames: body.length, features, data, header };
}

/** Load an input sequence CSV file. */
export async function loadInputs(path: string): Promise<InputSequence & { header?: string[] }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read inputs file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, {
      file: path,
    });
  }
  return parseInputsCsv(text, path);
}

/**
 * An input sequence as CSV text: a `c0,c1,...` header, then one row per frame, 8 significant digits, or with `exact`
 * the shortest text that reads back as the same double (a run another process must rebuild bit for bit).
 */
export function inputsCsv(seq: InputSequence, opts: { exact?: boolean } = {}): string {
  const header = Array.from({ length: seq.features }, (_, i) => `c${i}`).join(',');
  const text = opts.exact ? String : (v: number) => v.toPrecision(8);
  const rows = Array.from({ length: seq.frames }, (_, t) =>
    Array.from(seq.data.subarray(t * seq.features, (t + 1) * seq.features), text).join(','),
  );
  return `${header}\n${rows.join('\n')}\n`;
}

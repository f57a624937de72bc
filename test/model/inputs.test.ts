/**
 * Input CSV files (model/inputs.ts): the header rule, blank rows, the limits and each error, written out from
 * errors.ts's format (`<file> '<field>': <rule>`); the writer's header and 8 significant digits by hand.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { inputsCsv, loadInputs, parseInputsCsv } from '../../src/model/inputs.js';
import { MAX_FRAMES } from '../../src/model/limits.js';
import { scratchDir } from '../helpers.js';

/** The message of the InputError the promise rejects with (fails when it resolves or rejects with another kind). */
async function inputError(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(InputError);
  return (e as Error).message;
}

describe('parseInputsCsv', () => {
  it('reads one frame per row, one feature per column, row-major', async () => {
    const seq = await parseInputsCsv('1,2,3\n-4.5,5e-3,0\n');
    expect(seq.frames).toBe(2);
    expect(seq.features).toBe(3);
    expect(Array.from(seq.data)).toEqual([1, 2, 3, -4.5, 0.005, 0]);
    expect(seq.header).toBeUndefined();
  });

  it('takes the first row as a header when one of its cells is not a finite number, or is empty', async () => {
    for (const [head, names] of [
      ['a,b', ['a', 'b']],
      ['1,b', ['1', 'b']], // one name is enough
      ['x,Infinity', ['x', 'Infinity']],
      ['1,', ['1', '']], // an empty cell: a header whose second name is blank
      ['NaN,2', ['NaN', '2']],
    ] as const) {
      const seq = await parseInputsCsv(`${head}\n7,8\n`);
      expect(seq.header, head).toEqual(names);
      expect(Array.from(seq.data), head).toEqual([7, 8]);
      expect(seq.frames, head).toBe(1);
    }
  });

  it('trims blanks around cells and skips blank rows', async () => {
    const seq = await parseInputsCsv(' a , b \n\n 1 , 2 \n,\n3,4\n');
    expect(seq.header).toEqual(['a', 'b']);
    expect(Array.from(seq.data)).toEqual([1, 2, 3, 4]);
  });

  it('refuses an empty file, and a header with no frame after it', async () => {
    expect(await inputError(parseInputsCsv('', 'in.csv'))).toBe(
      'in.csv: expected at least one frame, the file is empty',
    );
    expect(await inputError(parseInputsCsv('\n \n', 'in.csv'))).toBe(
      'in.csv: expected at least one frame, the file is empty',
    );
    expect(await inputError(parseInputsCsv('a,b\n\n', 'in.csv'))).toBe(
      'in.csv: expected at least one frame after the header',
    );
  });

  it('names the row (as an editor numbers it) and the column (by header name, else from 1) of a bad cell', async () => {
    expect(await inputError(parseInputsCsv('1,2\n3,x\n', 'in.csv'))).toBe(
      "in.csv 'row 2, column 2': expected a finite number, got 'x'",
    );
    expect(await inputError(parseInputsCsv('p,q\n1,2\n1e999,0\n', 'in.csv'))).toBe(
      "in.csv 'row 3, column p': expected a finite number, got '1e999'",
    );
    expect(await inputError(parseInputsCsv('1,2\n3,\n', 'in.csv'))).toBe(
      "in.csv 'row 2, column 2': expected a finite number, got ''",
    );
  });

  it('names a row with more or fewer columns than the first', async () => {
    expect(await inputError(parseInputsCsv('1,2\n3,4,5\n', 'in.csv'))).toBe(
      "in.csv 'row 2': expected 2 columns, got 3",
    );
  });

  it('takes MAX_FRAMES frames and refuses one more', async () => {
    const rows = (n: number) => 'x\n' + '1\n'.repeat(n);
    expect((await parseInputsCsv(rows(MAX_FRAMES))).frames).toBe(100_000);
    expect(await inputError(parseInputsCsv(rows(MAX_FRAMES + 1), 'in.csv'))).toBe(
      "in.csv: has 100001 frames: expected at most 100000 (the toolkit's limit, src/model/limits.ts)",
    );
  });

  it('reports malformed CSV (an unterminated quote) as an InputError naming the file', async () => {
    expect(await inputError(parseInputsCsv('1,"2\n3,4\n', 'in.csv'))).toMatch(/^in\.csv: malformed CSV \(.+\)$/);
  });
});

describe('loadInputs', () => {
  const dir = scratchDir('bmru-inputs-');

  it('reads a file and names it in errors', async () => {
    const path = join(dir, 'clip.csv');
    writeFileSync(path, 'a\n0.5\n');
    expect(Array.from((await loadInputs(path)).data)).toEqual([0.5]);
    writeFileSync(path, 'a\nz\n');
    expect(await inputError(loadInputs(path))).toBe(`${path} 'row 2, column a': expected a finite number, got 'z'`);
  });

  it('reports an unreadable path with the OS error code', async () => {
    const path = join(dir, 'absent.csv');
    expect(await inputError(loadInputs(path))).toBe(`${path}: cannot read inputs file (ENOENT)`);
    expect(await inputError(loadInputs(dir))).toBe(`${dir}: cannot read inputs file (EISDIR)`);
  });
});

describe('inputsCsv', () => {
  it('writes a c0,c1,... header and each frame to 8 significant digits', () => {
    const csv = inputsCsv({ frames: 2, features: 3, data: Float64Array.of(1, -0.5, 1 / 3, 123456789, 2e-9, 0) });
    expect(csv).toBe('c0,c1,c2\n1.0000000,-0.50000000,0.33333333\n1.2345679e+8,2.0000000e-9,0.0000000\n');
  });

  it('round-trips through parseInputsCsv to 8 digits', async () => {
    const data = Float64Array.of(0.125, -3, 7.5, 1e-3);
    const back = await parseInputsCsv(inputsCsv({ frames: 2, features: 2, data }));
    expect(back.header).toEqual(['c0', 'c1']);
    expect(Array.from(back.data)).toEqual([0.125, -3, 7.5, 0.001]);
  });

  it('with exact, reads back bit for bit, where 8 digits do not', async () => {
    // The first three need 16-17 significant digits (8 give 0.3, -0.33333333, 1.2345679); the smallest subnormal
    // has one, and reads back from 8 digits too.
    const data = Float64Array.of(0.1 + 0.2, -1 / 3, 1.2345678901234567, 5e-324);
    const exact = await parseInputsCsv(inputsCsv({ frames: 2, features: 2, data }, { exact: true }));
    expect(Array.from(exact.data)).toEqual(Array.from(data));
    const rounded = await parseInputsCsv(inputsCsv({ frames: 2, features: 2, data }));
    expect(Array.from(rounded.data).filter((v, i) => v !== data[i])).toHaveLength(3);
  });
});

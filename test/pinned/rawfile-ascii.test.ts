/**
 * An ascii rawfile whose header promises more points than its data holds is damaged (ngspice rewrites
 * `No. Points` when an analysis ends; only an aborted run leaves 0 there): the reader must say so, not return
 * the shorter data as if it were the whole run.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRawfile, RawfileError, readRawfile } from '../../src/spice/rawfile.js';

/** An ascii transient of two vectors whose header says `points` points, followed by the data lines given. */
const ascii = (points: number, data: string[]) =>
  Buffer.from(
    [
      'Title: * t',
      'Date: d',
      'Plotname: Transient Analysis',
      'Flags: real',
      'No. Variables: 2',
      `No. Points: ${points}`,
      'Variables:',
      '\t0\ttime\ttime',
      '\t1\tv(out)\tvoltage',
      'Values:',
      ...data,
      '',
    ].join('\n'),
  );
const TWO_POINTS = [
  '0\t0.000000000000000e+00',
  '\t1.000000000000000e+00',
  '1\t1.000000000000000e-03',
  '\t2.000000000000000e+00',
];

function rawfileError(f: () => unknown): RawfileError {
  try {
    f();
  } catch (e) {
    if (e instanceof RawfileError) return e;
    throw e;
  }
  throw new Error('no RawfileError was thrown');
}

describe('an ascii rawfile whose "No. Points" exceeds its data', () => {
  it('reads a file whose count matches (the control case): 2 points', () => {
    const [plot] = parseRawfile(ascii(2, TWO_POINTS));
    expect(plot.numPoints).toBe(2);
    expect(Array.from(plot.real[1])).toEqual([1, 2]);
  });

  it('is an error naming the promised count and what was found, when the file ends early', () => {
    const e = rawfileError(() => parseRawfile(ascii(3, TWO_POINTS), 'cut.raw'));
    expect(e.source).toBe('cut.raw');
    expect(e.expected).toBe('3 points (as "No. Points" says)');
    expect(e.found).toBe('only 2 points before the end of the data');
  });

  it('is an error when the next plot starts early, too', () => {
    const next = [
      'Title: * second',
      'Date: d',
      'Plotname: Operating Point',
      'Flags: real',
      'No. Variables: 1',
      'No. Points: 1',
      'Variables:',
      '\t0\tv(out)\tvoltage',
      'Values:',
      '0\t1.0',
    ];
    const e = rawfileError(() => parseRawfile(ascii(3, [...TWO_POINTS, ...next])));
    expect(e.expected).toBe('3 points (as "No. Points" says)');
  });

  describe("through readRawfile (the runner's reader)", () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'bmru-ascii-raw-'));
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));

    it('rejects the file, naming its path', async () => {
      const file = path.join(dir, 'out.raw');
      await writeFile(file, ascii(5, TWO_POINTS));
      await expect(readRawfile(file)).rejects.toThrow(`${file}: `);
      await expect(readRawfile(file)).rejects.toBeInstanceOf(RawfileError);
      await expect(readRawfile(file, { vectors: ['v(out)'] })).rejects.toThrow(
        'expected 5 points (as "No. Points" says)',
      );
    });
  });
});

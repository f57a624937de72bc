/**
 * The rawfile reader against files built byte by byte from the format (src/spice/rawfile.ts's header comment,
 * which follows what ngspice 39 writes: the fixtures in test/fixtures/raw are ngspice's own), for the cases the
 * fixtures do not hold: escapes in error excerpts, header lines in any case and order, CRLF, ascii complex values
 * and non-finite numbers, a second plot whose header is damaged, a header larger than the streamed reader's first
 * read, and every error message's wording.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  canonicalVectorName,
  MissingVectorError,
  parseRawfile,
  parseRawHeader,
  printableExcerpt,
  RawfileError,
  readRawfile,
  transientPlot,
  vector,
} from '../../src/spice/rawfile.js';
import { REPO_ROOT } from '../helpers.js';

const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'raw');

/** Header lines of a plot, each ended by "\n". */
const head = (lines: string[]) => Buffer.from(lines.map((l) => `${l}\n`).join(''), 'latin1');
/** Little-endian float64 bytes of the values, in the order given (point-major, as the format stores them). */
const doubles = (...xs: number[]) => Buffer.from(Float64Array.from(xs).buffer);

/** A header of `vars` (name, type) with the flags and point count given, ending in `Binary:` or `Values:`. */
function header(vars: [string, string][], o: { flags?: string; points: number | string; data: 'Binary' | 'Values' }) {
  return head([
    'Title: * t',
    'Date: Sat Dec  5 12:00:00  2026',
    'Plotname: Transient Analysis',
    `Flags: ${o.flags ?? 'real'}`,
    `No. Variables: ${vars.length}`,
    `No. Points: ${o.points}`,
    'Variables:',
    ...vars.map(([n, t], i) => `\t${i}\t${n}\t${t}`),
    `${o.data}:`,
  ]);
}
const TV: [string, string][] = [
  ['time', 'time'],
  ['v(out)', 'voltage'],
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

describe('printableExcerpt', () => {
  it('keeps printable ASCII from space to tilde, escapes quotes and backslashes', () => {
    expect(printableExcerpt(' azAZ09~')).toBe(' azAZ09~');
    expect(printableExcerpt('a"b\\c')).toBe('a\\"b\\\\c');
  });

  it('writes control characters and Latin-1 as \\xNN, the rest of the BMP as \\uNNNN, beyond as \\u{...}', () => {
    expect(printableExcerpt('\x00\x1b[1m\x1f\x7f\x9b\xff')).toBe('\\x00\\x1b[1m\\x1f\\x7f\\x9b\\xff');
    expect(printableExcerpt('\u0100\ufffd')).toBe('\\u0100\\ufffd');
    expect(printableExcerpt('\u{1f600}')).toBe('\\u{1f600}');
  });

  it('shows at most maxChars characters and counts the UTF-16 units left out', () => {
    expect(printableExcerpt('a'.repeat(60))).toBe('a'.repeat(60));
    expect(printableExcerpt('a'.repeat(61))).toBe(`${'a'.repeat(60)}... (1 more characters)`);
    expect(printableExcerpt('abcdef', 4)).toBe('abcd... (2 more characters)');
    // 70 astral characters are 140 UTF-16 units; 60 of them (120 units) are shown.
    expect(printableExcerpt('\u{1f600}'.repeat(70))).toBe(`${'\\u{1f600}'.repeat(60)}... (20 more characters)`);
  });
});

describe('error messages', () => {
  it('RawfileError: source, place, what was expected, and what was found when known', () => {
    expect(new RawfileError('a.raw', 'byte 3', 'a header').message).toBe('a.raw: byte 3: expected a header');
    expect(new RawfileError('a.raw', 'line 2 (byte 9)', 'x', 'y\x1b').message).toBe(
      'a.raw: line 2 (byte 9): expected x, found "y\\x1b"',
    );
  });

  it('MissingVectorError lists what there is, or says none', () => {
    expect(new MissingVectorError('vector "a"', [], 'plot "p"').message).toBe(
      'no vector "a" in plot "p"; available: none',
    );
    expect(new MissingVectorError('vector "a"', ['b', 'c'], 'plot "p"').message).toBe(
      'no vector "a" in plot "p"; available: b, c',
    );
  });
});

describe('header lines', () => {
  it('reads keys in any case, trims values, skips blank and unknown lines, and reads CRLF files', () => {
    const text = [
      'TITLE:   * t  ',
      '',
      'date: d',
      'PlotName: AC Analysis',
      'flags: Complex',
      'Dimensions: 1',
      'Command: version 39',
      'Option: reltol=1e-4',
      'no. variables: 1',
      'NO. POINTS: 1',
      'variables:',
      '\t0\tfrequency\tfrequency\tgrid=3',
      'binary:',
      '',
    ].join('\r\n');
    const [p] = parseRawfile(Buffer.concat([Buffer.from(text, 'latin1'), doubles(5, 7)]));
    expect(p).toMatchObject({ title: '* t', date: 'd', plotname: 'AC Analysis', complex: true, numPoints: 1 });
    expect(p.vectors).toEqual([{ name: 'frequency', type: 'frequency' }]);
    expect([p.real[0][0], p.imag![0][0]]).toEqual([5, 0]); // the scale's imaginary part is dropped
  });

  it('takes extra flag words, and `real` when both could be read', () => {
    const bytes = Buffer.concat([header(TV, { flags: 'Real Forward', points: 1, data: 'Binary' }), doubles(1, 2)]);
    expect(parseRawfile(bytes)[0].complex).toBe(false);
  });

  it('gives empty strings for a missing Title, Date and Plotname', () => {
    const bytes = head([
      'Flags: real',
      'No. Variables: 1',
      'No. Points: 0',
      'Variables:',
      '\t0\ttime\ttime',
      'Binary:',
    ]);
    expect(parseRawfile(bytes)[0]).toMatchObject({ title: '', date: '', plotname: '', numPoints: 0 });
    expect(parseRawHeader(bytes).plotname).toBe('');
  });

  it('counts lines across blank ones: the bad line is named by its number and byte', () => {
    const e = rawfileError(() => parseRawfile(Buffer.from('Title: t\n\n\nno colon here\n'), 'h.raw'));
    expect([e.source, e.where, e.expected, e.found]).toEqual([
      'h.raw',
      'line 4 (byte 11)',
      'a "Key: value" header line',
      'no colon here',
    ]);
  });

  it('refuses Variables: before No. Variables:, and data before Variables:', () => {
    const e1 = rawfileError(() => parseRawfile(head(['Title: t', 'Variables:', '\t0\ttime\ttime'])));
    expect([e1.where, e1.expected, e1.found]).toEqual([
      'line 2 (byte 9)',
      'a "no. variables:" header line with a non-negative integer before this line',
      undefined,
    ]);
    const e2 = rawfileError(() => parseRawfile(head(['Title: t', 'Flags: real', 'No. Points: 0', 'Binary:'])));
    expect([e2.where, e2.expected, e2.found]).toEqual([
      'line 4 (byte 35)',
      'a "Variables:" section before the data',
      'Binary:',
    ]);
  });

  it('refuses a point count that is empty, negative, fractional or not a number', () => {
    for (const points of ['', '-1', '1.5', 'many']) {
      const e = rawfileError(() => parseRawfile(header(TV, { points, data: 'Binary' })));
      expect(e.expected).toBe('a "no. points:" header line with a non-negative integer before this line');
      expect(e.found).toBe(points);
    }
  });

  it('refuses a missing Flags line, naming the line', () => {
    const bytes = head(['No. Variables: 1', 'No. Points: 0', 'Variables:', '\t0\ttime\ttime', 'Binary:']);
    const e = rawfileError(() => parseRawfile(bytes));
    expect([e.where, e.expected, e.found]).toEqual([
      'line 5 (byte 55)',
      'a "Flags:" header line saying real or complex',
      undefined,
    ]);
  });

  it('refuses a variable line whose index is not the next, or with fewer than 3 fields, or cut by the end', () => {
    const base = ['Flags: real', 'No. Variables: 2', 'No. Points: 0', 'Variables:'];
    const swapped = rawfileError(() => parseRawfile(head([...base, '\t1\tv(out)\tvoltage', '\t0\ttime\ttime'])));
    expect([swapped.where, swapped.expected, swapped.found]).toEqual([
      'line 5 (byte 54)',
      'variable 0 of 2 as "<index> <name> <type>"',
      '\t1\tv(out)\tvoltage',
    ]);
    const short = rawfileError(() => parseRawfile(head([...base, '\t0\ttime\ttime', '\t1\tv(out)'])));
    expect([short.where, short.expected]).toEqual(['line 6 (byte 67)', 'variable 1 of 2 as "<index> <name> <type>"']);
    const cut = rawfileError(() => parseRawfile(head([...base, '\t0\ttime\ttime'])));
    expect([cut.where, cut.found]).toEqual(['line 6 (byte 67)', 'end of file']);
  });

  it('says where a header that never reaches its data ends', () => {
    const e = rawfileError(() => parseRawfile(head(['Title: t', 'Flags: real'])));
    expect([e.where, e.found]).toEqual(['line 3 (byte 21)', 'end of file']);
  });
});

describe('binary data', () => {
  it('reads point-major doubles into one array per vector', () => {
    const bytes = Buffer.concat([header(TV, { points: 3, data: 'Binary' }), doubles(0, 1.5, 1e-3, -2.5, 2e-3, 3.25)]);
    const [p] = parseRawfile(bytes);
    expect(p.numPoints).toBe(3);
    expect(p.imag).toBeUndefined();
    expect(p.real.map((a) => [...a])).toEqual([
      [0, 1e-3, 2e-3],
      [1.5, -2.5, 3.25],
    ]);
  });

  it('reads a (re, im) pair per vector when complex, and zeroes only the frequency vectors imaginary parts', () => {
    const vars: [string, string][] = [
      ['frequency', 'frequency'],
      ['v(out)', 'voltage'],
    ];
    const data = doubles(10, -6e157, 0.5, -0.25, 20, 1e31, 0.75, -0.125);
    const [p] = parseRawfile(Buffer.concat([header(vars, { flags: 'complex', points: 2, data: 'Binary' }), data]));
    expect(p.real.map((a) => [...a])).toEqual([
      [10, 20],
      [0.5, 0.75],
    ]);
    expect(p.imag!.map((a) => [...a])).toEqual([
      [0, 0],
      [-0.25, -0.125],
    ]);
  });

  it('reads a second plot whose Title: follows the last data byte, and ignores blanks at the end', () => {
    const first = Buffer.concat([header(TV, { points: 1, data: 'Binary' }), doubles(1, 2)]);
    const second = Buffer.concat([
      header(TV, { points: 2, data: 'Binary' }),
      doubles(3, 4, 5, 6),
      Buffer.from(' \t\r\n\n'),
    ]);
    const plots = parseRawfile(Buffer.concat([first, second]));
    expect(plots.map((p) => [...p.real[1]])).toEqual([[2], [4, 6]]);
  });

  it('names the byte, not a line, of a damaged header after binary data', () => {
    const first = Buffer.concat([header(TV, { points: 1, data: 'Binary' }), doubles(1, 2)]);
    const e = rawfileError(() => parseRawfile(Buffer.concat([first, Buffer.from('garbage\n')])));
    expect([e.where, e.found]).toEqual([`byte ${first.length}`, 'garbage']);
  });

  it('with No. Points: 0, ends the data at a Plotname: line on a point boundary too', () => {
    const aborted = Buffer.concat([header(TV, { points: 0, data: 'Binary' }), doubles(1, 2, 3, 4)]);
    const next = head(['Plotname: Operating Point', 'Flags: real', 'No. Variables: 1', 'No. Points: 1', 'Variables:']);
    const plots = parseRawfile(Buffer.concat([aborted, next, head(['\t0\tv(out)\tvoltage', 'Binary:']), doubles(9)]));
    expect(plots.map((p) => [p.plotname, p.numPoints])).toEqual([
      ['Transient Analysis', 2],
      ['Operating Point', 1],
    ]);
  });

  it('with No. Points: 0, does not end the data at "Title:" bytes inside a point', () => {
    // "Title:" spelled from the 5th byte of the first point: not a point boundary, so data.
    const point = Buffer.concat([doubles(1, 2)]);
    Buffer.from('Title:', 'latin1').copy(point, 4);
    const plots = parseRawfile(Buffer.concat([header(TV, { points: 0, data: 'Binary' }), point, doubles(3, 4)]));
    expect(plots).toHaveLength(1);
    expect(plots[0].numPoints).toBe(2);
    expect(plots[0].real[0][1]).toBe(3);
  });

  it('reads a plot of no vectors and no points', () => {
    const bytes = head(['Flags: real', 'No. Variables: 0', 'No. Points: 0', 'Variables:', 'Binary:']);
    expect(parseRawfile(bytes)[0]).toMatchObject({ numPoints: 0, vectors: [], real: [] });
  });
});

describe('ascii data', () => {
  it('reads `re,im` values of a complex plot and zeroes the frequency scale', () => {
    const vars: [string, string][] = [
      ['frequency', 'frequency'],
      ['v(out)', 'voltage'],
    ];
    const text = ['0\t1.0e+01,-1.2e+31', '\t5.0e-01,-2.5e-01', '1\t2.0e+01,3.0e+00', '\t7.5e-01,-1.25e-01', ''];
    const [p] = parseRawfile(
      Buffer.concat([header(vars, { flags: 'complex', points: 2, data: 'Values' }), Buffer.from(text.join('\n'))]),
    );
    expect(p.real.map((a) => [...a])).toEqual([
      [10, 20],
      [0.5, 0.75],
    ]);
    expect(p.imag!.map((a) => [...a])).toEqual([
      [0, 0],
      [-0.25, -0.125],
    ]);
  });

  it('reads nan, -nan, inf, +inf and -inf as glibc prints them, in any case', () => {
    const text = ['0\t0', '\tnan', '1\t1', '\t-NaN', '2\t2', '\tinf', '3\t3', '\t+Inf', '4\t4', '\t-inf', ''];
    const [p] = parseRawfile(Buffer.concat([header(TV, { points: 5, data: 'Values' }), Buffer.from(text.join('\n'))]));
    expect([...p.real[1]]).toEqual([NaN, NaN, Infinity, Infinity, -Infinity]);
  });

  it('reads tokens however they are spread over lines', () => {
    const [p] = parseRawfile(
      Buffer.concat([header(TV, { points: 2, data: 'Values' }), Buffer.from('0 0 1.5 1\n1e-3\n  2.5\n')]),
    );
    expect(p.real.map((a) => [...a])).toEqual([
      [0, 1e-3],
      [1.5, 2.5],
    ]);
  });

  it('with No. Points: 0, counts whole points up to the next header line and drops a cut one', () => {
    const data = Buffer.from(['0\t0', '\t1', '1\t1e-3', '\t2', '2\t2e-3', ''].join('\n'));
    const next = Buffer.concat([header(TV, { points: 1, data: 'Values' }), Buffer.from('0\t5\n\t6\n')]);
    const plots = parseRawfile(Buffer.concat([header(TV, { points: 0, data: 'Values' }), data, next]));
    expect(plots.map((p) => p.numPoints)).toEqual([2, 1]);
    expect([...plots[0].real[1]]).toEqual([1, 2]);
    expect([...plots[1].real[1]]).toEqual([6]);
  });

  it('names the token and line of a wrong point index, a missing imaginary part and an empty number', () => {
    const bad = (vars: [string, string][], flags: string, lines: string[]) =>
      rawfileError(() =>
        parseRawfile(
          Buffer.concat([header(vars, { flags, points: 1, data: 'Values' }), Buffer.from(lines.join('\n'))]),
          'a.raw',
        ),
      );
    const index = bad(TV, 'real', ['1\t0', '\t1', '']);
    expect([index.where, index.expected, index.found]).toEqual([
      'line 11 (byte 165)',
      'the index 0 of the next point',
      '1',
    ]);
    const complex = bad(TV, 'complex', ['0\t1,2', '\t3', '']);
    expect([complex.where, complex.expected, complex.found]).toEqual([
      'line 12 (byte 174)',
      'a complex value "re,im"',
      '3',
    ]);
    const real = bad(TV, 'real', ['0\t1,2', '']);
    expect([real.expected, real.found]).toEqual(['a real value', '1,2']);
    const empty = bad(TV, 'complex', ['0\t1,', '']);
    expect([empty.expected, empty.found]).toEqual(['a number', '']);
  });
});

describe('readRawfile (streamed) on files the fixtures do not cover', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'bmru-raw-format-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));
  const write = async (name: string, bytes: Uint8Array) => {
    const file = path.join(dir, name);
    await writeFile(file, bytes);
    return file;
  };

  it('reads a header larger than its first 64 kB read', async () => {
    // 3000 vectors of 30-character names: a ~110 kB header, then one point whose value k is k.
    const vars = Array.from({ length: 3000 }, (_, k): [string, string] => [
      `v(${'n'.repeat(24)}${k})`.padEnd(30, 'x'),
      'voltage',
    ]);
    vars[0] = ['time', 'time'];
    const file = await write(
      'wide.raw',
      Buffer.concat([header(vars, { points: 1, data: 'Binary' }), doubles(...vars.map((_, k) => k))]),
    );
    const [p] = await readRawfile(file, { vectors: [vars[2999][0]] });
    expect(p.vectors.map((v) => v.name)).toEqual(['time', vars[2999][0]]);
    expect([p.real[0][0], p.real[1][0]]).toEqual([0, 2999]);
  });

  it('stops at trailing blanks, and reads a file of blanks or nothing as no rawfile', async () => {
    const bytes = Buffer.concat([header(TV, { points: 1, data: 'Binary' }), doubles(1, 2), Buffer.from('\n \n')]);
    expect((await readRawfile(await write('trail.raw', bytes))).map((p) => p.numPoints)).toEqual([1]);
    for (const [name, content] of [
      ['empty.raw', ''],
      ['blank.raw', ' \n\t\r\n'],
    ]) {
      const file = await write(name, Buffer.from(content));
      await expect(readRawfile(file)).rejects.toThrow(
        `${file}: byte 0: expected a rawfile header (Title:, Plotname:, ...), found "an empty file"`,
      );
    }
  });

  // A file larger than 2 GiB - 1 bytes (the most one read may ask for: Node 20 aborts, not throws, above it) whose
  // first line is no header line: the error is that line, read from the first 64 kB piece, however large the file.
  // The file is sparse (one line, then a hole), so it takes no disk space.
  it('refuses a 2.2 GB file at its first line that is not "Key: value", without reading on', async () => {
    const file = await write('big.raw', Buffer.from('Title: t\nhello\n'));
    await truncate(file, 2_200_000_000);
    await expect(readRawfile(file)).rejects.toThrow(
      `${file}: line 2 (byte 9): expected a "Key: value" header line, found "hello"`,
    );
  });

  it('names the end of a file whose header stops before Binary:, as the whole-file parser does', async () => {
    const file = await write('short.raw', head(['Title: t', 'Flags: real']));
    await expect(readRawfile(file)).rejects.toThrow(
      `${file}: line 3 (byte 21): expected a "Binary:" or "Values:" line ending the header, found "end of file"`,
    );
  });

  it('reads a header whose first 64 kB piece has no newline after Binary:', async () => {
    // 5000 points of (1, -0.5): float64 bytes 00 .. 00 f0 3f and 00 .. 00 e0 bf, so no 0x0a byte in 80 kB of data.
    const values = Array.from({ length: 5000 }, () => [1, -0.5]).flat();
    const bytes = Buffer.concat([header(TV, { points: 5000, data: 'Binary' }), doubles(...values)]);
    expect(bytes.indexOf(0x0a, bytes.indexOf('Binary:\n') + 8)).toBe(-1);
    const [p] = await readRawfile(await write('nolf.raw', bytes));
    expect([p.numPoints, p.real[0][4999], p.real[1][0]]).toEqual([5000, 1, -0.5]);
  });

  it('names the line and byte of a bad line in the first header', async () => {
    const file = await write('bad.raw', Buffer.from('Title: t\nhello\n'));
    await expect(readRawfile(file)).rejects.toThrow(
      `${file}: line 2 (byte 9): expected a "Key: value" header line, found "hello"`,
    );
  });

  it('reads an aborted run (No. Points: 0) whole, cut to the vectors asked for', async () => {
    const [op, tran] = await readRawfile(path.join(FIXTURES, 'aborted.bin.raw'), { vectors: ['v(x)'] });
    expect([op.plotname, op.numPoints]).toEqual(['Operating Point', 1]);
    expect(tran.vectors.map((v) => v.name)).toEqual(['time', 'v(x)']);
    // The run stopped with "Timestep too small; time = 4.00948e-07" (test/fixtures/raw/README.md).
    expect(tran.real[0][tran.numPoints - 1]).toBeCloseTo(4.00948e-7, 11);
  });

  it('names the byte in the file of a damaged second header', async () => {
    const first = readFileSync(path.join(FIXTURES, 'rc_tran.bin.raw'));
    const file = await write('two.raw', Buffer.concat([first, Buffer.from('garbage\n')]));
    await expect(readRawfile(file)).rejects.toThrow(
      `${file}: byte ${first.length}: expected a "Key: value" header line, found "garbage"`,
    );
  });

  it('cuts ascii and complex plots down to the vectors asked for, with their imaginary parts', async () => {
    for (const name of ['ac_rc.ascii.raw', 'ac_rc.bin.raw']) {
      const [p] = await readRawfile(path.join(FIXTURES, name), { vectors: ['i(v1)'] });
      expect(p.vectors.map((v) => v.name)).toEqual(['frequency', 'i(v1)']);
      expect(p.imag).toHaveLength(2);
      // i(v1) = -(v(in) - v(out)) / R = -(jwRC / (1 + jwRC)) / 1 kohm: imaginary part -wRC / (1 + (wRC)^2) / 1 kohm.
      const wrc = 2 * Math.PI * 10 * 1e-3;
      expect(p.imag![1][0]).toBeCloseTo(wrc / (1 + wrc * wrc) / -1e3, 12);
      expect(p.imag![0][0]).toBe(0);
    }
    const [ascii] = await readRawfile(path.join(FIXTURES, 'rc_tran.ascii.raw'), { vectors: ['v(out)'] });
    expect(ascii.vectors.map((v) => v.name)).toEqual(['time', 'v(out)']);
    expect(ascii.imag).toBeUndefined();
  });

  // The plots list only what was read: each plot's scale (v(v-sweep), v(in), time) and v(out), each name once.
  it('names a vector no plot has and lists every name read, once', async () => {
    const file = path.join(FIXTURES, 'multi.bin.raw');
    await expect(readRawfile(file, { vectors: ['v(out)', 'v(nowhere)'] })).rejects.toThrow(
      'no vector "v(nowhere)" in any plot of the rawfile; available: v(v-sweep), v(out), v(in), time',
    );
    await expect(readRawfile(path.join(FIXTURES, 'multi.ascii.raw'), { vectors: ['v(nowhere)'] })).rejects.toThrow(
      MissingVectorError,
    );
  });
});

describe('vector names', () => {
  it('canonicalVectorName: trims, lower-cases, v(x) -> x, i(x) -> x#branch', () => {
    expect(canonicalVectorName(' V( Out ) ')).toBe('out');
    expect(canonicalVectorName('I( V1 )')).toBe('v1#branch');
    expect(canonicalVectorName('Time')).toBe('time');
    expect(canonicalVectorName('v()')).toBe('v()');
    expect(canonicalVectorName('xv(a)')).toBe('xv(a)');
    expect(canonicalVectorName('v(a)b')).toBe('v(a)b');
  });

  it('vector: the first of two equal names wins', () => {
    const vars: [string, string][] = [
      ['time', 'time'],
      ['v(a)', 'voltage'],
      ['a', 'voltage'],
    ];
    const [p] = parseRawfile(Buffer.concat([header(vars, { points: 1, data: 'Binary' }), doubles(0, 1, 2)]));
    expect(vector(p, 'A')[0]).toBe(1);
  });
});

describe('what the first Stryker run left alive (docs/mutation.md)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'bmru-raw-alive-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));
  const write = async (name: string, bytes: Uint8Array) => {
    const file = path.join(dir, name);
    await writeFile(file, bytes);
    return file;
  };
  const oneVar = (lines: string[]) =>
    head(['Flags: real', 'No. Variables: 1', 'No. Points: 0', 'Variables:', ...lines]);

  it('error classes carry their own names, and a buffer without a name is <buffer>', () => {
    expect(new RawfileError('a', 'b', 'c').name).toBe('RawfileError');
    expect(new MissingVectorError('a', [], 'b').name).toBe('MissingVectorError');
    expect(rawfileError(() => parseRawfile(Buffer.from('x\n'))).source).toBe('<buffer>');
    expect(rawfileError(() => parseRawHeader(Buffer.from('x\n'))).source).toBe('<buffer>');
    expect(printableExcerpt('\uffff')).toBe('\\uffff');
  });

  it('parseRawHeader names the byte where the Binary: line lacks its newline', () => {
    const bytes = oneVar(['\t0\ttime\ttime', 'Binary:']).subarray(0, -1);
    expect(rawfileError(() => parseRawHeader(bytes, 'w.raw')).message).toBe(
      `w.raw: byte ${bytes.length}: expected a newline ending the "Binary:" or "Values:" line, found "end of file"`,
    );
  });

  it('readHeader: blank-only and colon-first lines, keys with blanks, a first empty line, a CR inside a line', () => {
    const bytes = Buffer.concat([
      Buffer.from('\n \t\n: no key\n Plotname : p\nTitle: a\rb\n'),
      oneVar(['  0   time    time', 'Binary:']),
    ]);
    const [p] = parseRawfile(bytes);
    expect([p.plotname, p.title, p.vectors[0].name]).toEqual(['p', 'a\rb', 'time']);
  });

  it('names what a bad Flags line says, and the byte of short binary data', () => {
    const bad = head(['Flags: weird', 'No. Variables: 1', 'No. Points: 1', 'Variables:', '\t0\ttime\ttime', 'Binary:']);
    expect(rawfileError(() => parseRawfile(bad)).found).toBe('weird');
    const good = bad.toString('latin1').replace('weird', 'real');
    const short = Buffer.concat([Buffer.from(good, 'latin1'), doubles(1).subarray(0, 5)]);
    expect(rawfileError(() => parseRawfile(short)).where).toBe(`byte ${good.length}`);
  });

  it('a plot of no vectors takes whatever bytes follow as its (empty) data', () => {
    const bytes = head(['Flags: real', 'No. Variables: 0', 'No. Points: 0', 'Variables:', 'Binary:', 'junk']);
    expect(parseRawfile(bytes).map((p) => p.numPoints)).toEqual([0]);
  });

  it('ascii data past a non-zero No. Points is not read as points', () => {
    const text = ['0\t0', '\t1', '1\t1e-3', '\t2', ''].join('\n');
    const e = rawfileError(() =>
      parseRawfile(Buffer.concat([header(TV, { points: 1, data: 'Values' }), Buffer.from(text)])),
    );
    expect([e.expected, e.found]).toEqual(['a "Key: value" header line', '1\t1e-3']);
  });

  it('transientPlot over plots without vectors lists them as empty', () => {
    const empty = parseRawfile(
      head(['Plotname: Operating Point', 'Flags: real', 'No. Variables: 0', 'No. Points: 0', 'Variables:', 'Binary:']),
    );
    expect(() => transientPlot(empty)).toThrow(
      'no transient plot (a plot whose scale is time) in the rawfile; available: Operating Point (empty)',
    );
  });

  it('canonicalVectorName anchors i(...) at both ends', () => {
    expect(canonicalVectorName('xi(a)')).toBe('xi(a)');
    expect(canonicalVectorName('i(a)b')).toBe('i(a)b');
  });

  it('readRawfile: an aborted first plot, a header ending at EOF, blanks between plots, vectors in file order', async () => {
    const aborted = await write(
      'ab.raw',
      Buffer.concat([header(TV, { points: 0, data: 'Binary' }), doubles(1, 2, 3, 4)]),
    );
    expect((await readRawfile(aborted)).map((p) => [...p.real[1]])).toEqual([[2, 4]]);
    const bare = await write('bare.raw', header(TV, { points: 0, data: 'Binary' }).subarray(0, -1));
    expect((await readRawfile(bare)).map((p) => p.numPoints)).toEqual([0]);
    const plot = Buffer.concat([header(TV, { points: 1, data: 'Binary' }), doubles(1, 2)]);
    const spaced = await write('spaced.raw', Buffer.concat([plot, Buffer.from('\n'.repeat(70_000)), plot]));
    expect((await readRawfile(spaced)).map((p) => p.numPoints)).toEqual([1, 1]);
    const [rc] = await readRawfile(path.join(FIXTURES, 'rc_tran.bin.raw'), { vectors: ['i(v1)', 'v(in)'] });
    expect(rc.vectors.map((v) => v.name)).toEqual(['time', 'v(in)', 'i(v1)']);
    const [, , tran] = await readRawfile(path.join(FIXTURES, 'multi.bin.raw'), { vectors: ['time'] });
    expect(tran.vectors.map((v) => v.name)).toEqual(['time']);
  });

  it('readRawfile: the exact shortfall of cut binary data, and a damaged second header at byte >= 10 of its piece', async () => {
    const bytes = readFileSync(path.join(FIXTURES, 'rc_tran.bin.raw'));
    const dataStart = bytes.indexOf('Binary:\n') + 8;
    const cut = await write('cut.raw', bytes.subarray(0, bytes.length - 100));
    await expect(readRawfile(cut)).rejects.toThrow(
      `${cut}: byte ${dataStart}: expected 79 points of 32 bytes (as "No. Points" says), found "only ${79 * 32 - 100} bytes of data"`,
    );
    const two = await write('two.raw', Buffer.concat([bytes, Buffer.from('Title: a long title\ngarbage\n')]));
    await expect(readRawfile(two)).rejects.toThrow(
      `${two}: byte ${bytes.length + 20}: expected a "Key: value" header line`,
    );
  });

  it('readRawfile reads more when its first 64 kB end just before the newline of Binary:', async () => {
    const plain = header(TV, { points: 1, data: 'Binary' });
    // Lengthen the title so that "Binary:" ends at byte 65536 and its newline is the first byte of the next piece.
    const title = `Title: * ${'t'.repeat(65538 - plain.length)}`;
    const bytes = Buffer.concat([
      Buffer.from(plain.toString('latin1').replace('Title: * t', title), 'latin1'),
      doubles(7, 8),
    ]);
    expect(bytes.indexOf('Binary:\n') + 7).toBe(65536);
    const [p] = await readRawfile(await write('edge.raw', bytes));
    expect([p.real[0][0], p.real[1][0]]).toEqual([7, 8]);
  });

  it('readRawfile closes the file it opened', async () => {
    if (!existsSync('/proc/self/fd')) return; // Linux: the open descriptors of this process
    const before = readdirSync('/proc/self/fd').length;
    for (let i = 0; i < 20; i++) await readRawfile(path.join(FIXTURES, 'rc_tran.bin.raw'));
    expect(readdirSync('/proc/self/fd').length).toBeLessThan(before + 5);
  });
});

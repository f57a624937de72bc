/**
 * Rawfiles of other simulators (src/spice/rawother.ts) on files Xyce, LTspice and QSPICE wrote
 * (test/fixtures/raw-other, README there). Expected values come from the files' own text through the tiny
 * regex parse below (not the reader), from the RC circuits the files simulate (analytic), and from the three
 * simulators agreeing with one another. LTspice binary files could not be obtained: those tests build the bytes
 * from the layout the reader's comment describes, and say so.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRawfile, RawfileError, readRawfile, vector, type RawPlot } from '../../src/spice/rawfile.js';
import { parseAnyRawfile, readAnyRawfile, UnsupportedRawfileError, type AnyRawfile } from '../../src/spice/rawother.js';
import { REPO_ROOT } from '../helpers.js';

const DIR = path.join(REPO_ROOT, 'test', 'fixtures', 'raw-other');
const bytes = (name: string) => readFileSync(path.join(DIR, name));
const read = (name: string) => parseAnyRawfile(bytes(name), name);

/** The RC of the AC files: R1 100 Ohm, C1 10 uF (QSPICE's `.alias I(R1) (0.01mho*V(in,out))`, corner 159 Hz). */
const AC_RC_S = 100 * 10e-6;
/** The RC of tran_xyce: I(VIN) = -1 mA at 1 V (R1 = 1 kOhm), 63 % at ~1 ms (C1 = 1 uF). */
const TRAN_R_OHM = 1e3;
const TRAN_TAU_S = 1e-3;
/** The source's 0 -> 1 V ramp lasts 10 ns (V(IN) = 1 from t = 1e-8 on): the step is delayed by half of it. */
const TRAN_RISE_S = 1e-8;
/** Largest error of Xyce's integration against the analytic step (2.4e-4 at t = 3.8 ms, steps of 0.34 ms). */
const XYCE_TRAN_ERROR_V = 5e-4;

/**
 * Every number of the data section, in file order, read with a regex and nothing else: the independent view of
 * what the file says. Point indices are integers without an exponent, so they do not match.
 */
function numbersInFile(text: string): number[] {
  const data = text.slice(text.indexOf('Values:'));
  return [...data.matchAll(/[-+]?\d\.\d+e[-+]\d+/gi)].map((m) => Number(m[0]));
}

/** The plot's values in the order the file writes them: point by point, re (and im where written) per vector. */
function inFileOrder(plot: RawPlot, scaleWrittenReal: boolean): number[] {
  const out: number[] = [];
  for (let p = 0; p < plot.numPoints; p++) {
    for (let v = 0; v < plot.vectors.length; v++) {
      out.push(plot.real[v][p]);
      if (plot.imag && !(v === 0 && scaleWrittenReal)) out.push(plot.imag[v][p]);
    }
  }
  return out;
}

const FILES: { file: string; writer: AnyRawfile['writer']; points: number; scaleWrittenReal?: boolean }[] = [
  { file: 'tran_xyce.ascii.raw', writer: 'Xyce', points: 63 },
  { file: 'ac_xyce.ascii.raw', writer: 'Xyce', points: 51 },
  { file: 'dc_xyce.ascii.raw', writer: 'Xyce', points: 6 },
  { file: 'sens_xyce.ascii.raw', writer: 'Xyce', points: 11 },
  { file: 'dc_ltspice.ascii.raw', writer: 'LTspice', points: 6 },
  { file: 'ac_ltspice.ascii.raw', writer: 'LTspice', points: 51 },
  { file: 'dc_qspice.ascii.qraw', writer: 'QSPICE', points: 6 },
  { file: 'ac_qspice.ascii.qraw', writer: 'QSPICE', points: 50, scaleWrittenReal: true },
];

describe('rawfiles written by Xyce, LTspice and QSPICE', () => {
  it.each(FILES)('$file: writer $writer, $points points, every value as the file prints it', (f) => {
    const raw = read(f.file);
    expect(raw.writer).toBe(f.writer);
    expect(raw.encoding).toBe('utf-8');
    expect(raw.plots).toHaveLength(1);
    const [plot] = raw.plots;
    expect(plot.numPoints).toBe(f.points);
    const values = inFileOrder(plot, f.scaleWrittenReal ?? false);
    expect(values).toEqual(numbersInFile(bytes(f.file).toString('utf8')).slice(0, values.length));
  });

  it('Xyce transient: the RC step 1 - exp(-t/tau), and I(VIN) = -(V(IN) - V(OUT)) / R at every point', () => {
    const [tran] = read('tran_xyce.ascii.raw').plots;
    const t = vector(tran, 'time');
    const vIn = vector(tran, 'v(in)');
    const vOut = vector(tran, 'out');
    const iIn = vector(tran, 'i(vin)');
    let checked = 0;
    for (let i = 0; i < tran.numPoints; i++) {
      expect(iIn[i]).toBeCloseTo(-(vIn[i] - vOut[i]) / TRAN_R_OHM, 9);
      if (t[i] < TRAN_RISE_S) continue;
      const analytic = 1 - Math.exp(-(t[i] - TRAN_RISE_S / 2) / TRAN_TAU_S);
      expect(Math.abs(vOut[i] - analytic), `t = ${t[i]}`).toBeLessThan(XYCE_TRAN_ERROR_V);
      checked += 1;
    }
    expect(checked).toBe(55);
    expect(t[tran.numPoints - 1]).toBe(5e-3);
  });

  it('AC (all three): V(out) = 1 / (1 + j 2 pi f RC), and the three simulators agree point by point', () => {
    const out = {
      xyce: read('ac_xyce.ascii.raw').plots[0],
      ltspice: read('ac_ltspice.ascii.raw').plots[0],
      qspice: read('ac_qspice.ascii.qraw').plots[0],
    };
    const outIndex = { xyce: 2, ltspice: 1, qspice: 2 }; // OUT, V(out), V(out) in each file's Variables:
    const byFrequency = new Map<string, { re: number; im: number }[]>();
    for (const [who, plot] of Object.entries(out)) {
      expect(plot.complex, who).toBe(true);
      const k = outIndex[who as keyof typeof outIndex];
      expect(plot.vectors[k].name.toLowerCase(), who).toMatch(/^(v\()?out\)?$/);
      for (let p = 0; p < plot.numPoints; p++) {
        const f = plot.real[0][p];
        expect(plot.imag![0][p], `${who}: frequency is real`).toBe(0);
        const wrc = 2 * Math.PI * f * AC_RC_S;
        const re = plot.real[k][p];
        const im = plot.imag![k][p];
        expect(re, `${who} re at ${f} Hz`).toBeCloseTo(1 / (1 + wrc * wrc), 7);
        expect(im, `${who} im at ${f} Hz`).toBeCloseTo(-wrc / (1 + wrc * wrc), 7);
        const key = f.toPrecision(6);
        byFrequency.set(key, [...(byFrequency.get(key) ?? []), { re, im }]);
      }
    }
    const all3 = [...byFrequency.values()].filter((v) => v.length === 3);
    expect(all3.length).toBe(50); // QSPICE has 50 of the 51 frequencies
    for (const [a, b, c] of all3) {
      expect(Math.abs(a.re - b.re) + Math.abs(a.im - b.im)).toBeLessThan(1e-8); // Xyce prints 9 digits
      expect(Math.abs(b.re - c.re) + Math.abs(b.im - c.im)).toBeLessThan(1e-13);
    }
  });

  it('DC (all three): V(r) = V1 and I(V1) = -V1 / 1 kOhm; QSPICE also P(R1) = V1^2 / 1 kOhm', () => {
    const plots = ['dc_xyce.ascii.raw', 'dc_ltspice.ascii.raw', 'dc_qspice.ascii.qraw'].map((f) => read(f).plots[0]);
    for (const plot of plots) {
      const v1 = plot.real[0];
      expect([...v1]).toEqual([0, 1, 2, 3, 4, 5]);
      expect([...vector(plot, 'v(r)')]).toEqual([...v1]);
      expect([...vector(plot, 'i(v1)')].map((i) => i * 1e3)).toEqual([...v1].map((v) => (v === 0 ? 0 : -v)));
    }
    expect([...vector(plots[2], 'p(r1)')].map((p) => p * 1e3)).toEqual(
      [0, 1, 4, 9, 16, 25].map((x) => expect.closeTo(x, 12)),
    );
  });

  it("Xyce's .SENS table after the data is left out with a warning naming where it starts", () => {
    const raw = read('sens_xyce.ascii.raw');
    expect(raw.plots).toHaveLength(1);
    expect(raw.warnings).toHaveLength(1);
    expect(raw.warnings[0]).toMatch(
      /4 lines after the last point of "Transient Analysis" \(line 68 on\).*\.SENS.*TIME,V\(1\)/,
    );
    const [tran] = raw.plots;
    for (let i = 0; i < tran.numPoints; i++)
      expect(vector(tran, 'v(2)')[i]).toBeCloseTo(vector(tran, 'v(1)')[i] / 2, 5);
  });

  it('says how the writer was told: the Command: line, or the digits Xyce prints', () => {
    expect(read('ac_ltspice.ascii.raw').writerEvidence).toBe('Command: Linear Technology Corporation LTspice');
    expect(read('ac_qspice.ascii.qraw').writerEvidence).toBe('Command: QSPICE64, Build Feb 11 2025 08:06:48');
    expect(read('ac_xyce.ascii.raw').writerEvidence).toMatch(
      /no Command: line; values printed with 9 significant digits/,
    );
  });
});

describe('ngspice files go to the ngspice reader unchanged', () => {
  const NGSPICE = path.join(REPO_ROOT, 'test', 'fixtures', 'raw');
  it.each([
    ['ac_rc.ascii.raw', 'ngspice', 'ascii'],
    ['multi.bin.raw', 'ngspice or Xyce', 'binary'],
    ['aborted.ascii.raw', 'ngspice', 'ascii'],
    ['aborted.bin.raw', 'ngspice or Xyce', 'binary'],
  ])('%s: writer %s, %s, the same plots as readRawfile', async (name, writer, layout) => {
    const file = path.join(NGSPICE, name);
    const raw = await readAnyRawfile(file);
    expect(raw).toMatchObject({ writer, layout, encoding: 'utf-8' });
    expect(raw.plots).toEqual(await readRawfile(file));
  });
});

describe('LTspice text encodings (the real LTspice files, re-encoded as LTspice writes them)', () => {
  const utf8 = bytes('ac_ltspice.ascii.raw').toString('utf8');
  const reference = read('ac_ltspice.ascii.raw').plots[0];
  const cases: { name: string; encode: () => Buffer; encoding: AnyRawfile['encoding'] }[] = [
    { name: 'UTF-16LE without BOM', encode: () => Buffer.from(utf8, 'utf16le'), encoding: 'utf-16le' },
    {
      name: 'UTF-16LE with BOM and CRLF line ends',
      encode: () => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(utf8.replace(/\n/g, '\r\n'), 'utf16le')]),
      encoding: 'utf-16le with BOM',
    },
    {
      name: 'UTF-8 with BOM',
      encode: () => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(utf8)]),
      encoding: 'utf-8 with BOM',
    },
  ];
  it.each(cases)('$name: same plot, encoding reported', ({ encode, encoding }) => {
    const raw = parseAnyRawfile(encode(), 'ac_ltspice.ascii.raw');
    expect(raw.encoding).toBe(encoding);
    expect(raw.writer).toBe('LTspice');
    expect(raw.plots[0].vectors).toEqual(reference.vectors);
    expect(raw.plots[0].real).toEqual(reference.real);
    expect(raw.plots[0].imag).toEqual(reference.imag);
  });
});

/**
 * An LTspice binary rawfile as the layout says (UTF-16LE header, then the data). Written here because no file
 * LTspice wrote could be obtained: these tests check the reader against the described layout, not against LTspice.
 */
function ltspiceBinary(opts: {
  flags: string;
  vectors: [string, string][];
  columns: number[][];
  imag?: number[][];
  sizes: number[];
  fast: boolean;
}): Buffer {
  const n = opts.columns[0].length;
  const header =
    `Title: * test\nDate: Thu Jan  1 00:00:00 2026\nPlotname: Transient Analysis\nFlags: ${opts.flags}\n` +
    `No. Variables: ${opts.vectors.length}\nNo. Points: ${n}\nOffset:   0.0000000000000000e+000\n` +
    `Command: Linear Technology Corporation LTspice XVII\nVariables:\n` +
    opts.vectors.map(([name, type], i) => `\t${i}\t${name}\t${type}\n`).join('') +
    'Binary:\n';
  const data = Buffer.alloc(n * opts.sizes.reduce((a, b) => a + b, 0));
  let at = 0;
  const put = (v: number, p: number) => {
    const size = opts.sizes[v];
    if (size === 4) data.writeFloatLE(opts.columns[v][p], at);
    else data.writeDoubleLE(opts.columns[v][p], at);
    if (size === 16) data.writeDoubleLE(opts.imag![v][p], at + 8);
    at += size;
  };
  if (opts.fast) for (let v = 0; v < opts.vectors.length; v++) for (let p = 0; p < n; p++) put(v, p);
  else for (let p = 0; p < n; p++) for (let v = 0; v < opts.vectors.length; v++) put(v, p);
  return Buffer.concat([Buffer.from(header, 'utf16le'), data]);
}

describe('LTspice binary layout (files written by this test: untested on a file LTspice wrote)', () => {
  // Values float32 cannot hold exactly, so a float64 read of float32 bytes (or the reverse) shows.
  const timeS = [0, 1.0000000001e-9, -2.5e-6, 1e-3]; // LTspice sets the sign of some time values
  const vOut = [0, 0.1, 0.30000001, 0.7];
  const iR = [0, 1e-4, 3e-4, 7e-4];
  const vectors: [string, string][] = [
    ['time', 'time'],
    ['V(out)', 'voltage'],
    ['I(R1)', 'device_current'],
  ];
  const f32 = (x: number) => Math.fround(x);

  it.each([false, true])('real, float64 time and float32 vectors, fastaccess %s', (fast) => {
    const buf = ltspiceBinary({
      flags: fast ? 'real forward fastaccess' : 'real forward',
      vectors,
      columns: [timeS, vOut, iR],
      sizes: [8, 4, 4],
      fast,
    });
    const raw = parseAnyRawfile(buf, 't.raw');
    expect(raw).toMatchObject({
      writer: 'LTspice',
      encoding: 'utf-16le',
      valueFormat: 'float64 scale, float32 others',
    });
    expect(raw.layout).toBe(fast ? 'binary fastaccess' : 'binary');
    const [p] = raw.plots;
    expect([...p.real[0]]).toEqual(timeS.map(Math.abs));
    expect([...p.real[1]]).toEqual(vOut.map(f32));
    expect([...p.real[2]]).toEqual(iR.map(f32));
  });

  it('real with Flags: double (numdgt > 6): every vector float64', () => {
    const buf = ltspiceBinary({
      flags: 'real forward double',
      vectors,
      columns: [timeS, vOut, iR],
      sizes: [8, 8, 8],
      fast: false,
    });
    const [p] = parseAnyRawfile(buf, 't.raw').plots;
    expect([...p.real[1]]).toEqual(vOut);
    expect([...p.real[2]]).toEqual(iR);
  });

  it('complex: a float64 pair for every vector, the frequency included', () => {
    const buf = ltspiceBinary({
      flags: 'complex forward log',
      vectors: [
        ['frequency', 'frequency'],
        ['V(out)', 'voltage'],
      ],
      columns: [
        [1, 10],
        [0.5, 0.25],
      ],
      imag: [
        [0, 0],
        [-0.5, -0.125],
      ],
      sizes: [16, 16],
      fast: false,
    });
    const [p] = parseAnyRawfile(buf, 't.raw').plots;
    expect([...p.real[1]]).toEqual([0.5, 0.25]);
    expect([...p.imag![1]]).toEqual([-0.5, -0.125]);
  });

  it('a real plot whose data has exactly the size of all-float32 values is read so, with a warning', () => {
    const buf = ltspiceBinary({
      flags: 'real',
      vectors: [
        ['V(out)', 'voltage'],
        ['I(R1)', 'device_current'],
      ],
      columns: [[0.30000001], [3e-4]],
      sizes: [4, 4],
      fast: false,
    });
    const raw = parseAnyRawfile(buf, 'op.raw');
    expect([...raw.plots[0].real[0]]).toEqual([f32(0.30000001)]);
    expect([...raw.plots[0].real[1]]).toEqual([f32(3e-4)]);
    expect(raw.valueFormat).toBe('float32');
    expect(raw.warnings).toEqual([
      '"Flags: real" means float64 scale, float32 others, 12 bytes of data, but the file holds 8, exactly 1 points of float32: read as float32',
    ]);
  });

  it('data shorter than No. Points says: an error naming the file, the byte and the layout assumed', () => {
    const buf = ltspiceBinary({
      flags: 'real forward',
      vectors,
      columns: [timeS, vOut, iR],
      sizes: [8, 4, 4],
      fast: false,
    });
    const cut = buf.subarray(0, buf.length - 3);
    expect(() => parseAnyRawfile(cut, 'cut.raw')).toThrow(
      /^cut\.raw: byte \d+: expected 4 points of 16 bytes \(float64 scale, float32 others, as LTspice writes for "Flags: real forward"\), found "only 61 bytes of data"/,
    );
  });
});

describe('refused rawfiles: the error names the file, the writer and the cause', () => {
  it('QSPICE binary data (header of the real dc_qspice file, "Binary:" instead of "Values:")', () => {
    const text = bytes('dc_qspice.ascii.qraw').toString('utf8');
    const head = text.slice(0, text.indexOf('Values:')) + 'Binary:\n';
    const buf = Buffer.concat([Buffer.from(head), Buffer.alloc(6 * 5 * 8)]);
    const e = catchError(() => parseAnyRawfile(buf, 'dc.bin.qraw'));
    expect(e).toBeInstanceOf(UnsupportedRawfileError);
    expect(e.message).toMatch(
      /^dc\.bin\.qraw: written by QSPICE \(Command: QSPICE64, Build Mar 15 2025 08:08:41\): binary \.qraw data is not supported/,
    );
  });

  it('binary data under a UTF-16 header that does not name LTspice', () => {
    const text = bytes('dc_xyce.ascii.raw').toString('utf8');
    const head = text.slice(0, text.indexOf('Values:')) + 'Binary:\n';
    const buf = Buffer.concat([Buffer.from(head, 'utf16le'), Buffer.alloc(6 * 3 * 8)]);
    expect(() => parseAnyRawfile(buf, 'x.raw')).toThrow(
      /^x\.raw: written by ngspice or Xyce \(binary data and no Command: line naming LTspice or QSPICE: read as ngspice's float64 layout\): binary data in a utf-16le file is not supported/,
    );
  });

  it('UTF-16 big-endian text', () => {
    const buf = Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from('Title: x\n', 'utf16le').swap16()]);
    expect(() => parseAnyRawfile(buf, 'be.raw')).toThrow(
      /^be\.raw: byte 0: expected UTF-8 or UTF-16LE text, found "a UTF-16 big-endian byte-order mark"/,
    );
  });

  it('a real file cut inside its data: the line, the points promised and the points found', () => {
    const text = bytes('ac_xyce.ascii.raw').toString('utf8');
    const cut = text.slice(0, text.indexOf('\n10\t'));
    const e = catchError(() => parseAnyRawfile(Buffer.from(cut), 'ac_cut.raw'));
    expect(e).toBeInstanceOf(RawfileError);
    expect(e.message).toMatch(
      /^ac_cut\.raw: line \d+: expected 51 points \(as "No\. Points" says\), found "the end of the file after 10 points"/,
    );
  });
});

function catchError(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('the ngspice reader (compare --from-raw) on these files names who wrote them', () => {
  const HINT = '(this reader reads ngspice rawfiles; this one was written by';
  it('QSPICE: its Command: line, where the .param line stops the ngspice reader', () => {
    expect(() => parseRawfile(bytes('ac_qspice.ascii.qraw'), 'ac.qraw')).toThrow(
      `${HINT} QSPICE (Command: QSPICE64, Build Feb 11 2025 08:06:48): \`bmru raw\` reads it), found ".param temp=27"`,
    );
  });

  it('Xyce (no Command: line): by its 8-decimal values, where "re, im" stops the ngspice reader', async () => {
    await expect(readRawfile(path.join(DIR, 'ac_xyce.ascii.raw'))).rejects.toThrow(
      `${HINT} Xyce, most likely (values printed as %.8e; ngspice prints %.15e): \`bmru raw\` reads it)`,
    );
  });

  it('LTspice in UTF-16LE, read from disk', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rawother-'));
    try {
      const file = path.join(dir, 'ac16.raw');
      writeFileSync(file, Buffer.from(bytes('ac_ltspice.ascii.raw').toString('utf8'), 'utf16le'));
      await expect(readRawfile(file)).rejects.toThrow(
        `${HINT} LTspice (Command: Linear Technology Corporation LTspice): \`bmru raw\` reads it)`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

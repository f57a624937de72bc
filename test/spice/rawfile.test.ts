import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  parseRawfile,
  parseRawHeader,
  RawfileError,
  readRawfile,
  vector,
  type RawPlot,
} from '../../src/spice/rawfile.js';

// Every rawfile here was written by ngspice 39.3: see test/fixtures/raw/README.md.
const fixtureDir = fileURLToPath(new URL('../fixtures/raw/', import.meta.url));
const fixturePath = (name: string) => `${fixtureDir}${name}`;
const fixtureBytes = (name: string) => readFileSync(fixturePath(name));
const parseFixture = (name: string) => parseRawfile(fixtureBytes(name), fixturePath(name));

const TAU_S = 1e3 * 1e-6; // R1 * C1 of rc_tran.cir and ac_rc.cir

function last(values: Float64Array): number {
  return values[values.length - 1];
}

// Fixtures are parsed inside each test, not in describe blocks: code run while vitest collects tests is covered by
// no test, and Stryker then reruns every related suite for each of its mutants (docs/mutation.md).
const rcTran = () => parseFixture('rc_tran.bin.raw')[0];

describe('parseRawfile on an ngspice transient', () => {
  it('reads the header: title, plot name, flags, vectors with their types', () => {
    const tran = rcTran();
    expect(tran.title).toBe('* rc_tran: 1 kohm / 1 uf step response, tau = 1 ms'); // ngspice 39 lower-cases it
    expect(tran.date).toMatch(/\d{4}$/);
    expect(tran.plotname).toBe('Transient Analysis');
    expect(tran.complex).toBe(false);
    expect(tran.imag).toBeUndefined();
    expect(tran.vectors).toEqual([
      { name: 'time', type: 'time' },
      { name: 'v(in)', type: 'voltage' },
      { name: 'v(out)', type: 'voltage' },
      { name: 'i(v1)', type: 'current' },
    ]);
  });

  it('reads one array per vector, as many points as the header says', () => {
    const tran = rcTran();
    expect(tran.numPoints).toBe(79);
    expect(tran.real).toHaveLength(4);
    for (const values of tran.real) expect(values).toHaveLength(79);
  });

  it('reads point-major float64 values: time runs 0 .. tstop and v(out) follows 1 - exp(-t/RC)', () => {
    const tran = rcTran();
    const time = vector(tran, 'time');
    expect(time[0]).toBe(0);
    expect(last(time)).toBe(5e-3);
    const vOut = vector(tran, 'v(out)');
    time.forEach((t, k) => expect(Math.abs(vOut[k] - (1 - Math.exp(-t / TAU_S)))).toBeLessThan(2e-3));
  });
});

describe('parseRawfile on an ascii rawfile', () => {
  for (const deck of ['rc_tran', 'ac_rc', 'multi', 'aborted']) {
    it(`gives the same plots as the binary file of the same run (${deck})`, () => {
      const ascii = parseFixture(`${deck}.ascii.raw`);
      const binary = parseFixture(`${deck}.bin.raw`);
      expect(ascii.map(shape)).toEqual(binary.map(shape));
      ascii.forEach((plot, p) => {
        expectClose(plot.real, binary[p].real);
        if (plot.imag) expectClose(plot.imag, binary[p].imag!);
      });
    });
  }

  /** Everything but the values and the date (each file has its own). */
  function shape(plot: RawPlot) {
    return {
      title: plot.title,
      plotname: plot.plotname,
      complex: plot.complex,
      vectors: plot.vectors,
      numPoints: plot.numPoints,
    };
  }

  /** ngspice's ascii format prints 16 significant digits (`%.15e`). */
  function expectClose(actual: Float64Array[], expected: Float64Array[]) {
    actual.forEach((values, v) =>
      values.forEach((x, k) =>
        expect(Math.abs(x - expected[v][k])).toBeLessThanOrEqual(1e-15 * Math.abs(expected[v][k])),
      ),
    );
  }
});

describe('parseRawfile on an AC analysis', () => {
  const acRc = () => parseFixture('ac_rc.bin.raw')[0];

  it('reads every vector of a complex plot as a (re, im) pair', () => {
    const ac = acRc();
    expect(ac.plotname).toBe('AC Analysis');
    expect(ac.complex).toBe(true);
    expect(ac.numPoints).toBe(21);
    expect(ac.imag).toHaveLength(4);
    expect(ac.vectors[0]).toEqual({ name: 'frequency', type: 'frequency' });
  });

  it('reads the frequency scale as real (ngspice 39 writes garbage as its imaginary part)', () => {
    const ac = acRc();
    const raw = fixtureBytes('ac_rc.bin.raw');
    const firstImag = raw.readDoubleLE(raw.indexOf('Binary:\n') + 8 + 8);
    expect(firstImag).not.toBe(0); // the checked-in file holds -6.09e157 there
    expect(ac.imag![0].every((x) => x === 0)).toBe(true);
  });

  it('gives v(out) = 1 / (1 + j w RC) at each frequency', () => {
    const ac = acRc();
    const frequency = vector(ac, 'frequency');
    const outIndex = ac.vectors.findIndex((v) => v.name === 'v(out)');
    expect(frequency[0]).toBeCloseTo(10, 12);
    expect(last(frequency)).toBeCloseTo(100e3, 6);
    frequency.forEach((f, k) => {
      const wrc = 2 * Math.PI * f * TAU_S;
      const denominator = 1 + wrc * wrc;
      expect(ac.real[outIndex][k]).toBeCloseTo(1 / denominator, 9);
      expect(ac.imag![outIndex][k]).toBeCloseTo(-wrc / denominator, 9);
    });
  });
});

describe('parseRawfile on a file with several plots', () => {
  it('returns one plot per analysis, in the order ngspice ran them (not deck order)', () => {
    const plots = parseFixture('multi.bin.raw');
    expect(plots.map((p) => [p.plotname, p.numPoints])).toEqual([
      ['DC transfer characteristic', 5],
      ['Operating Point', 1],
      ['Transient Analysis', 78],
    ]);
  });

  it('reads each plot with its own vectors', () => {
    const [dc, op, tran] = parseFixture('multi.bin.raw');
    expect(Array.from(vector(dc, 'v(v-sweep)'))).toEqual([0, 0.25, 0.5, 0.75, 1]);
    vector(dc, 'out').forEach((v, k) => expect(v).toBeCloseTo(k * 0.125, 12));
    expect(vector(op, 'out')[0]).toBe(0);
    expect(last(vector(tran, 'time'))).toBe(2e-3);
  });
});

describe('parseRawfile on the partial rawfile of an aborted run', () => {
  // aborted.cir's transient stopped with "Timestep too small; time = 4.00948e-07": the header still says
  // "No. Points: 0" but the data of every accepted time point is there.
  const bytes = fixtureBytes('aborted.bin.raw');
  const aborted = () => parseRawfile(bytes);
  const pointBytes = 4 * 8;

  it('counts the points from the data when the header says 0', () => {
    const [op, tran] = aborted();
    expect(op.numPoints).toBe(1);
    expect(tran.plotname).toBe('Transient Analysis');
    expect(tran.numPoints).toBeGreaterThan(50);
    expect(last(vector(tran, 'time'))).toBeCloseTo(4.00948e-7, 11);
  });

  it('drops a last point that the abort cut short', () => {
    const [, tran] = aborted();
    const [, cut] = parseRawfile(bytes.subarray(0, bytes.length - 5));
    expect(cut.numPoints).toBe(tran.numPoints - 1);
    expect(Array.from(cut.real[1])).toEqual(Array.from(tran.real[1].subarray(0, cut.numPoints)));
  });

  it('reads a header with no data after it as a plot of 0 points', () => {
    const [, tran] = aborted();
    const headerEnd = bytes.length - tran.numPoints * pointBytes;
    const [, empty] = parseRawfile(bytes.subarray(0, headerEnd));
    expect(empty.numPoints).toBe(0);
    expect(empty.real.map((v) => v.length)).toEqual([0, 0, 0, 0]);
  });

  it('finds the next plot after a 0-point header at a point boundary', () => {
    const [, tran] = aborted();
    const joined = Buffer.concat([bytes, fixtureBytes('rc_tran.bin.raw')]);
    const plots = parseRawfile(joined);
    expect(plots.map((p) => p.numPoints)).toEqual([1, tran.numPoints, 79]);
    expect(last(vector(plots[2], 'time'))).toBe(5e-3);
  });
});

describe('vector', () => {
  const bareFile = () =>
    parseRawfile(
      Buffer.from(
        'Title: t\nDate: d\nPlotname: Transient Analysis\nFlags: real\nNo. Variables: 3\nNo. Points: 0\n' +
          'Variables:\n\t0\ttime\ttime\n\t1\tout\tvoltage\n\t2\tvdd#branch\tcurrent\nBinary:\n',
      ),
    )[0];

  it('finds a node voltage as v(x) or x, in any case', () => {
    const [tran, bare] = [rcTran(), bareFile()];
    expect(vector(tran, 'V(OUT)')).toBe(tran.real[2]);
    expect(vector(tran, 'out')).toBe(tran.real[2]);
    expect(vector(bare, 'v(out)')).toBe(bare.real[1]);
  });

  it('finds a source current as i(v) or v#branch', () => {
    const [tran, bare] = [rcTran(), bareFile()];
    expect(vector(tran, 'v1#branch')).toBe(tran.real[3]);
    expect(vector(tran, 'I(V1)')).toBe(tran.real[3]);
    expect(vector(bare, 'i(vdd)')).toBe(bare.real[2]);
  });

  it('throws an error listing the available names', () => {
    const tran = rcTran();
    expect(() => vector(tran, 'v(nowhere)')).toThrow(
      'no vector "v(nowhere)" in plot "Transient Analysis"; available: time, v(in), v(out), i(v1)',
    );
  });
});

describe('parseRawfile errors', () => {
  const header = (lines: string[]) => Buffer.from(lines.join('\n') + '\n');
  const good = [
    'Title: t',
    'Date: d',
    'Plotname: p',
    'Flags: real',
    'No. Variables: 2',
    'No. Points: 1',
    'Variables:',
    '\t0\ttime\ttime',
    '\t1\tout\tvoltage',
  ];

  function errorOf(buf: Uint8Array, source?: string): RawfileError {
    try {
      parseRawfile(buf, source);
    } catch (error) {
      if (error instanceof RawfileError) return error;
      throw error;
    }
    throw new Error('parseRawfile did not throw');
  }

  it('names the file and says what was expected for an empty file', () => {
    expect(errorOf(new Uint8Array(0), '/tmp/x.raw').message).toBe(
      '/tmp/x.raw: byte 0: expected a rawfile header (Title:, Plotname:, ...), found "an empty file"',
    );
  });

  it('points at the header line that is not "Key: value"', () => {
    const error = errorOf(Buffer.from('Title: t\nhello world\n'), 'x.raw');
    expect(error.where).toBe('line 2 (byte 9)');
    expect(error.found).toBe('hello world');
  });

  it('rejects a header that never reaches Binary: or Values:', () => {
    expect(errorOf(header(good)).expected).toBe('a "Binary:" or "Values:" line ending the header');
  });

  it('rejects a variable list shorter than No. Variables', () => {
    const error = errorOf(header([...good.slice(0, 4), 'No. Variables: 3', ...good.slice(5), 'Binary:']));
    expect(error.where).toBe('line 10 (byte 111)');
    expect(error.expected).toBe('variable 2 of 3 as "<index> <name> <type>"');
    expect(error.found).toBe('Binary:');
  });

  it('rejects flags that are neither real nor complex', () => {
    const error = errorOf(header([...good.slice(0, 3), 'Flags: weird', ...good.slice(4), 'Binary:']));
    expect(error.expected).toBe('a "Flags:" header line saying real or complex');
  });

  it('rejects binary data shorter than a non-zero No. Points (a damaged file)', () => {
    const buf = Buffer.concat([header([...good, 'Binary:']), Buffer.alloc(8)]);
    expect(errorOf(buf).message).toMatch(/expected 1 points of 16 bytes .*, found "only 8 bytes of data"/);
  });

  it('rejects an ascii value that is not a number, naming its line', () => {
    const error = errorOf(header([...good, 'Values:', '0\t\t0.0', '\tabc']));
    expect(error.where).toMatch(/^line 12 /);
    expect(error.expected).toBe('a number');
  });

  it('readRawfile reports the path of a missing file', async () => {
    await expect(readRawfile('/nonexistent/out.raw')).rejects.toThrow(/ENOENT.*\/nonexistent\/out\.raw/);
  });
});

describe('parseRawHeader on the start of a rawfile ngspice is still writing', () => {
  const bytes = fixtureBytes('rc_tran.bin.raw');
  const rcHeader = () => parseRawHeader(bytes, 'rc_tran.bin.raw');

  it('gives the plot, its vectors, where the data starts and the size of a point', () => {
    const header = rcHeader();
    expect(header).toMatchObject({ plotname: 'Transient Analysis', complex: false, format: 'binary', numPoints: 79 });
    expect(header.vectors.map((v) => v.name)).toEqual(['time', 'v(in)', 'v(out)', 'i(v1)']);
    expect(header.pointBytes).toBe(4 * 8);
    expect(bytes.subarray(header.dataStart - 8, header.dataStart).toString('latin1')).toBe('Binary:\n');
    expect(header.dataStart + 79 * header.pointBytes).toBe(bytes.length);
  });

  it('reads a header followed by a cut point', () => {
    const header = rcHeader();
    expect(parseRawHeader(bytes.subarray(0, header.dataStart + 5)).dataStart).toBe(header.dataStart);
  });

  it('counts 16 bytes per vector in a complex plot', () => {
    const ac = parseRawHeader(fixtureBytes('ac_rc.bin.raw'));
    expect(ac.pointBytes).toBe(ac.vectors.length * 16);
  });

  it('raises RawfileError while the header is incomplete, even when only its last newline is missing', () => {
    const header = rcHeader();
    expect(() => parseRawHeader(bytes.subarray(0, 40))).toThrow(RawfileError);
    expect(() => parseRawHeader(bytes.subarray(0, header.dataStart - 1))).toThrow(/newline ending the "Binary:"/);
  });
});

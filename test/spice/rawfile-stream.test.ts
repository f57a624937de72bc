/**
 * The streamed reader (readRawfile) against the whole-file parser on the rawfiles ngspice itself wrote
 * (test/fixtures/raw): the same plots, vectors and values, whole or cut down to the vectors asked for.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  gather,
  MissingVectorError,
  parseRawfile,
  RawfileError,
  readRawfile,
  type RawPlot,
} from '../../src/spice/rawfile.js';
import { REPO_ROOT } from '../helpers.js';

const DIR = path.join(REPO_ROOT, 'test', 'fixtures', 'raw');
const FIXTURES = readdirSync(DIR).filter((f) => f.endsWith('.raw'));

const summary = (plots: RawPlot[]) =>
  plots.map((p) => ({
    plotname: p.plotname,
    names: p.vectors.map((v) => v.name),
    numPoints: p.numPoints,
    real: p.real.map((a) => [...a]),
    imag: p.imag?.map((a) => [...a]),
  }));

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'bmru-raw-stream-'));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

describe('readRawfile (streamed) vs parseRawfile (whole file)', () => {
  it('finds the fixtures', () => expect(FIXTURES.length).toBeGreaterThanOrEqual(8));

  for (const name of FIXTURES) {
    it(`reads ${name} exactly as the whole-file parser does`, async () => {
      const file = path.join(DIR, name);
      expect(summary(await readRawfile(file))).toEqual(summary(parseRawfile(readFileSync(file), file)));
    });
  }

  it('keeps only the scale and the vectors asked for, in file order, with their values', async () => {
    const file = path.join(DIR, 'rc_tran.bin.raw');
    const whole = parseRawfile(readFileSync(file), file)[0];
    const [cut] = await readRawfile(file, { vectors: ['V(OUT)'] });
    expect(cut.vectors.map((v) => v.name)).toEqual(['time', 'v(out)']);
    expect([...cut.real[1]]).toEqual([...whole.real[whole.vectors.findIndex((v) => v.name === 'v(out)')]]);
  });

  it('takes each wanted vector from the plots that have it, and names one that no plot has', async () => {
    const file = path.join(DIR, 'multi.bin.raw');
    const whole = parseRawfile(readFileSync(file), file);
    const someName = whole[whole.length - 1].vectors[1].name;
    const cut = await readRawfile(file, { vectors: [someName] });
    expect(cut).toHaveLength(whole.length);
    await expect(readRawfile(file, { vectors: ['v(nowhere)'] })).rejects.toThrow(MissingVectorError);
  });

  it('reads data in chunks: a plot larger than one chunk comes back whole', async () => {
    // A synthetic binary rawfile of 3 vectors x 300 000 points (7.2 MB, two 4 MiB chunks).
    const n = 300_000;
    const header = `Title: big\nDate: x\nPlotname: Transient Analysis\nFlags: real\nNo. Variables: 3\nNo. Points: ${n}\nVariables:\n\t0\ttime\ttime\n\t1\tv(a)\tvoltage\n\t2\ti(v1)\tcurrent\nBinary:\n`;
    const data = new Float64Array(3 * n);
    for (let p = 0; p < n; p++) data.set([p * 1e-6, Math.sin(p), -p], 3 * p);
    const file = path.join(tmp, 'big.raw');
    await writeFile(file, Buffer.concat([Buffer.from(header, 'latin1'), Buffer.from(data.buffer)]));
    const [plot] = await readRawfile(file, { vectors: ['i(v1)'] });
    expect(plot.numPoints).toBe(n);
    expect(plot.vectors.map((v) => v.name)).toEqual(['time', 'i(v1)']);
    expect(plot.real[1][n - 1]).toBe(-(n - 1));
    expect(plot.real[0][123_457]).toBe(123_457 * 1e-6);
  });

  // readRawfile's contract: peak memory is the vectors read plus one read buffer of at most a sixteenth of them (64 KiB
  // at least, 4 MiB at most), never the file. Buffer.alloc is where the reader takes its read buffers (header pieces
  // and data chunks); the arrays it keeps are Float64Arrays. A 7.2 MB plot is larger than one 4 MiB chunk, so a reader
  // that held the plot, or read the header in pieces grown to the end of the file, would ask for more at once.
  it('reads with a buffer of at most a sixteenth of the vectors kept, whatever the plot holds besides', async () => {
    const n = 300_000;
    const header = `Title: big\nDate: x\nPlotname: Transient Analysis\nFlags: real\nNo. Variables: 3\nNo. Points: ${n}\nVariables:\n\t0\ttime\ttime\n\t1\tv(a)\tvoltage\n\t2\ti(v1)\tcurrent\nBinary:\n`;
    const data = new Float64Array(3 * n);
    for (let p = 0; p < n; p++) data.set([p, 2 * p, -p], 3 * p);
    const file = path.join(tmp, 'bounded.raw');
    await writeFile(file, Buffer.concat([Buffer.from(header, 'latin1'), Buffer.from(data.buffer)]));
    const largestBuffer = async (vectors?: string[]) => {
      const alloc = vi.spyOn(Buffer, 'alloc');
      try {
        const [plot] = await readRawfile(file, vectors ? { vectors } : {});
        expect(plot.real[0][n - 1]).toBe(n - 1);
        const last: Record<string, number> = { time: n - 1, 'v(a)': 2 * (n - 1), 'i(v1)': -(n - 1) };
        expect(plot.real.at(-1)![n - 1]).toBe(last[plot.vectors.at(-1)!.name]);
        return Math.max(...alloc.mock.calls.map(([size]) => size));
      } finally {
        alloc.mockRestore();
      }
    };
    // time and v(a): 4.8 MB kept, so 300 kB a read (whole points of 24 bytes); all three: 450 kB.
    expect(await largestBuffer(['v(a)'])).toBe(Math.floor(300_000 / 24) * 24);
    expect(await largestBuffer()).toBe(Math.floor(450_000 / 24) * 24);
    // The scale alone (2.4 MB) would make 150 kB reads.
    expect(await largestBuffer([])).toBe(Math.floor(150_000 / 24) * 24);
  });

  it('says how much data is missing when a binary plot is cut short, with the byte in the file', async () => {
    const file = path.join(tmp, 'cut.raw');
    const bytes = readFileSync(path.join(DIR, 'rc_tran.bin.raw'));
    await writeFile(file, bytes.subarray(0, bytes.length - 100));
    await expect(readRawfile(file)).rejects.toThrow(RawfileError);
    await expect(readRawfile(file)).rejects.toThrow(/points of \d+ bytes/);
  });
});

describe('gather', () => {
  it('takes a column the same through the Float64Array view and through the DataView (the big-endian path)', () => {
    const stride = 3;
    const count = 5;
    const src = new Float64Array(stride * count).map((_, i) => i * 1.5 - 7);
    const viewed = new Float64Array(count + 2);
    const read = new Float64Array(count + 2);
    gather(viewed, 2, src, new DataView(src.buffer), 1, stride, count);
    gather(read, 2, undefined, new DataView(src.buffer), 1, stride, count);
    expect([...viewed]).toEqual([0, 0, ...Array.from({ length: count }, (_, p) => src[p * stride + 1])]);
    expect([...read]).toEqual([...viewed]);
  });
});

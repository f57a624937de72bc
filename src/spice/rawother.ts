/**
 * Reader for rawfiles of any SPICE-family writer: ngspice, Xyce, LTspice (.raw) and QSPICE (.qraw). They all
 * share the SPICE3 layout of rawfile.ts (a `Key: value` header, `Variables:`, then `Values:` text or `Binary:`
 * data), and differ in ways that broke the ngspice reader:
 *
 * - Encoding. LTspice XVII writes its header (and ASCII data) in UTF-16LE, with no byte-order mark; the text is
 *   told apart by its zero high bytes (`T\0i\0t\0...`). A BOM (FF FE, or EF BB BF for UTF-8) is skipped.
 * - Who wrote it. LTspice says `Command: Linear Technology Corporation LTspice`, QSPICE `Command: QSPICE64, ...`,
 *   old ngspice `Command: version N`. ngspice 39 and Xyce write no `Command:` line; their ASCII values differ:
 *   ngspice prints `%.15e` (16 significant digits), Xyce `%.8e` (9) and complex values as `re, im` with a space.
 * - QSPICE puts `.param`/`.alias` lines among the header lines, and `Abscissa:`; in a complex plot it writes the
 *   scale (frequency) as one real number where the others write `re,im`.
 * - Xyce appends `.SENS` results (a CSV table: `TIME,V(1),...`) after the last point: kept out, with a warning.
 * - LTspice binary data is not all float64: in a real plot the scale (time, or the swept source) is a float64
 *   and every other vector a float32, unless `Flags:` says `double` (`.options numdgt` > 6) when all are float64;
 *   a complex plot has a (float64, float64) pair for every vector. `Flags: fastaccess` stores the data vector by
 *   vector (all points of the scale, then all of the next vector, ...) instead of point by point. LTspice uses the
 *   sign of a time value as a flag of its own, so the time scale is read as its absolute value.
 *
 * What was tested on files those tools wrote (test/fixtures/raw-other, spicelib's test files): Xyce, LTspice and
 * QSPICE ASCII files. LTspice binary (float32 and fastaccess) is implemented from the layout above and tested only
 * on files written by the tests: no LTspice binary file was obtainable here. QSPICE binary data is refused
 * (UnsupportedRawfileError): its layout is not documented where it could be read, and no file was available.
 * ngspice files, and binary files with no `Command:` line, go to rawfile.ts's reader: that is ngspice's float64
 * layout; Xyce's binary files (which no Xyce binary file here could confirm) are assumed to follow it.
 */
import { open, readFile } from 'node:fs/promises';
import { BmruError } from '../errors.js';
import {
  headerInt,
  parseAsciiNumber,
  parseRawfile,
  printableExcerpt,
  RawfileError,
  readRawfile,
  readLine as readUtf8Line,
  type RawPlot,
  type RawVector,
} from './rawfile.js';

/**
 * Who wrote a rawfile. `ngspice or Xyce`: binary data with no `Command:` line, read in ngspice's float64 layout
 * (assumed, untested, for Xyce). `unknown`: ASCII with no `Command:` line, printed neither as ngspice nor as Xyce prints.
 */
export type RawWriter = 'ngspice' | 'Xyce' | 'LTspice' | 'QSPICE' | 'ngspice or Xyce' | 'unknown';

/** How the text of a rawfile is encoded. */
export type RawEncoding = 'utf-8' | 'utf-8 with BOM' | 'utf-16le' | 'utf-16le with BOM';

/** How the values are stored: text, point by point, or (LTspice `fastaccess`) vector by vector. */
export type RawLayout = 'ascii' | 'binary' | 'binary fastaccess';

/** A rawfile read whatever wrote it: its plots, and what the reader found out about the file on the way. */
export interface AnyRawfile {
  writer: RawWriter;
  /** What told the writer: the `Command:` line, or how the values are printed. */
  writerEvidence: string;
  encoding: RawEncoding;
  layout: RawLayout;
  /** Binary files: bytes per value, e.g. `float64 scale, float32 others`. */
  valueFormat?: string;
  plots: RawPlot[];
  /** Things read past or assumed (trailing text, extra bytes, stepped data), one sentence each. */
  warnings: string[];
}

/** A rawfile in a form this reader knows and refuses: names the file, the writer and what is not supported. */
export class UnsupportedRawfileError extends BmruError {
  override name = 'UnsupportedRawfileError';
  constructor(
    readonly source: string,
    readonly writer: string,
    readonly unsupported: string,
  ) {
    super(`${source}: written by ${writer}: ${unsupported}`, 'rawfile');
  }
}

/** The header of one plot, as any writer spells it. */
interface Header {
  fields: Map<string, string>;
  /** QSPICE's `.param`/`.alias` lines. */
  directives: string[];
  vectors: RawVector[];
  /** Lower-cased words of `Flags:`: real, complex, forward, log, stepped, double, fastaccess. */
  flags: Set<string>;
  complex: boolean;
  numPoints: number;
  data: 'ascii' | 'binary';
  /** Byte offset just past the `Values:`/`Binary:` line. */
  dataStart: number;
  /** 1-based line number of the first data line. */
  dataLine: number;
}

/** Text encoding as the byte-level reader needs it: how wide a character is and where the text starts. */
interface Encoding {
  name: RawEncoding;
  utf16: boolean;
  start: number;
}

const UTF16_BOM = [0xff, 0xfe];
const UTF8_BOM = [0xef, 0xbb, 0xbf];
const NEWLINE = 0x0a;

/**
 * Reads a rawfile from disk, whoever wrote it. ngspice files (and binary files with no `Command:` line) go through
 * readRawfile, which streams binary plots; the others are parsed whole.
 *
 * @throws RawfileError when the file is not a rawfile; UnsupportedRawfileError for QSPICE binary data
 */
export async function readAnyRawfile(path: string): Promise<AnyRawfile> {
  const head = await readHead(path, PROBE_BYTES);
  if (head.whole) return parseAnyRawfile(head.bytes, path);
  let probe: Probe;
  try {
    probe = probeRawfile(head.bytes, path);
  } catch (e) {
    // A header longer than the piece read (thousands of vectors): read the whole file.
    if (e instanceof RawfileError && e.found === END_OF_FILE) return parseAnyRawfile(await readFile(path), path);
    throw e;
  }
  if (probe.delegate) return { ...probe.result, plots: await readRawfile(path) };
  return parseAnyRawfile(await readFile(path), path);
}

/** Bytes read to find the writer of a large file before streaming it: headers of a few thousand vectors. */
const PROBE_BYTES = 1 << 20;
const END_OF_FILE = 'the end of the file';

async function readHead(path: string, maxBytes: number): Promise<{ bytes: Uint8Array; whole: boolean }> {
  const file = await open(path, 'r');
  try {
    const size = (await file.stat()).size;
    const bytes = Buffer.alloc(Math.min(size, maxBytes));
    await file.read(bytes, 0, bytes.length, 0);
    return { bytes, whole: bytes.length === size };
  } finally {
    await file.close();
  }
}

/**
 * Parses a rawfile held in memory, whoever wrote it (see the file comment for what each writer does).
 *
 * @throws RawfileError when the bytes are not a rawfile; UnsupportedRawfileError for QSPICE binary data
 * @example
 *   const raw = parseAnyRawfile(await readFile('ac.qraw'), 'ac.qraw'); // raw.writer === 'QSPICE'
 */
export function parseAnyRawfile(buf: Uint8Array, source = '<buffer>'): AnyRawfile {
  const probe = probeRawfile(buf, source);
  if (probe.delegate) return { ...probe.result, plots: parseRawfile(buf, source) };
  const { result, enc } = probe;
  const plots: RawPlot[] = [];
  let offset = enc.start;
  let line = 1;
  for (;;) {
    const h = readHeader(buf, offset, line, enc, source);
    if (h.flags.has('stepped')) {
      result.warnings.push(
        `"${h.fields.get('plotname')}" is stepped (.step): its runs follow one another in one plot and are summarised together`,
      );
    }
    if (h.data === 'binary') {
      const bin = readLtspiceBinary(buf, h, result.writer, source, result.warnings);
      plots.push(makePlot(h, bin.real, bin.imag, h.numPoints));
      result.valueFormat = bin.valueFormat;
      result.layout = h.flags.has('fastaccess') ? 'binary fastaccess' : 'binary';
      if (bin.extraBytes > 0)
        result.warnings.push(`${bin.extraBytes} bytes after the last point of "${h.fields.get('plotname')}" not read`);
      break; // LTspice writes one plot per file; its binary data runs to the end
    }
    const data = readAscii(buf, h, enc, source);
    plots.push(makePlot(h, data.real, data.imag, data.numPoints));
    const next = skipBlankLines(buf, data.end, data.endLine, enc);
    if (next.offset >= buf.length) break;
    if (!/^(Title|Plotname):/i.test(next.text)) {
      const rest = countLines(buf, next.offset, enc);
      result.warnings.push(
        `${rest} lines after the last point of "${h.fields.get('plotname')}" (line ${next.line} on) are not rawfile data and were not read` +
          (result.writer === 'Xyce' ? ' (Xyce appends .SENS results there)' : '') +
          `: "${printableExcerpt(next.text)}"`,
      );
      break;
    }
    offset = next.offset;
    line = next.line;
  }
  return { ...result, plots };
}

type Probe =
  | { delegate: true; result: Omit<AnyRawfile, 'plots'> }
  | { delegate: false; enc: Encoding; result: Omit<AnyRawfile, 'plots'> };

/** Encoding, writer and data kind from the first plot's header; ngspice's own files go to rawfile.ts. */
function probeRawfile(buf: Uint8Array, source: string): Probe {
  const enc = detectEncoding(buf, source);
  const h = readHeader(buf, enc.start, 1, enc, source);
  const { writer, evidence } = detectWriter(buf, h, enc);
  const base = { writer, writerEvidence: evidence, encoding: enc.name, warnings: [] as string[] };
  if (writer === 'QSPICE' && h.data === 'binary') {
    throw new UnsupportedRawfileError(
      source,
      `QSPICE (${evidence})`,
      'binary .qraw data is not supported (its layout is not documented where this reader was written, and no QSPICE binary file was available to test one on); write the file as ASCII instead',
    );
  }
  if ((writer === 'ngspice' || writer === 'ngspice or Xyce') && enc.name === 'utf-8') {
    return { delegate: true, result: { ...base, layout: h.data === 'binary' ? 'binary' : 'ascii' } };
  }
  if (h.data === 'binary' && writer !== 'LTspice') {
    throw new UnsupportedRawfileError(
      source,
      `${writer} (${evidence})`,
      `binary data in a ${enc.name} file is not supported (only LTspice writes binary rawfiles with a UTF-16 header)`,
    );
  }
  return { delegate: false, enc, result: { ...base, layout: h.data === 'binary' ? 'binary' : 'ascii' } };
}

/** UTF-16LE (with or without BOM) or UTF-8 (with or without BOM), from the first bytes. */
function detectEncoding(buf: Uint8Array, source: string): Encoding {
  const starts = (bytes: number[]) => bytes.every((b, i) => buf[i] === b);
  if (starts(UTF16_BOM)) return { name: 'utf-16le with BOM', utf16: true, start: 2 };
  if (starts(UTF8_BOM)) return { name: 'utf-8 with BOM', utf16: false, start: 3 };
  if (buf[0] === 0xfe && buf[1] === 0xff) {
    throw new RawfileError(source, 'byte 0', 'UTF-8 or UTF-16LE text', 'a UTF-16 big-endian byte-order mark');
  }
  // ASCII letters in UTF-16LE: a printable byte then a zero byte, twice.
  const utf16 = buf.length >= 4 && buf[0] !== 0 && buf[1] === 0 && buf[2] !== 0 && buf[3] === 0;
  return utf16 ? { name: 'utf-16le', utf16: true, start: 0 } : { name: 'utf-8', utf16: false, start: 0 };
}

/** Significant digits ngspice prints (`%.15e`) and Xyce prints (`%.8e`), told apart in an ASCII file. */
const NGSPICE_DIGITS = 16;
const XYCE_DIGITS = 9;

function detectWriter(buf: Uint8Array, h: Header, enc: Encoding): { writer: RawWriter; evidence: string } {
  const command = h.fields.get('command');
  if (command !== undefined) {
    const said = `Command: ${command}`;
    if (/ltspice/i.test(command)) return { writer: 'LTspice', evidence: said };
    if (/qspice/i.test(command)) return { writer: 'QSPICE', evidence: said };
    if (/ngspice|^version\b/i.test(command)) return { writer: 'ngspice', evidence: said };
  }
  if (h.data === 'binary') {
    return {
      writer: 'ngspice or Xyce',
      evidence: "binary data and no Command: line naming LTspice or QSPICE: read as ngspice's float64 layout",
    };
  }
  const first = firstValue(buf, h, enc);
  const digits = first ? significantDigits(first) : 0;
  if (digits === XYCE_DIGITS) {
    return {
      writer: 'Xyce',
      evidence: `no Command: line; values printed with ${digits} significant digits ("${first}")`,
    };
  }
  if (digits === NGSPICE_DIGITS) {
    return {
      writer: 'ngspice',
      evidence: `no Command: line; values printed with ${digits} significant digits ("${first}")`,
    };
  }
  return {
    writer: 'unknown',
    evidence: `no Command: line, and values printed with ${digits} digits, as neither ngspice nor Xyce does`,
  };
}

/** The first value after the first point's index, e.g. `0.00000000e+00`. */
function firstValue(buf: Uint8Array, h: Header, enc: Encoding): string | undefined {
  let offset = h.dataStart;
  while (offset < buf.length) {
    const { text, next } = readLine(buf, offset, enc);
    const tokens = text.trim().split(/[\s,]+/);
    if (tokens.length >= 2) return tokens[1];
    offset = next;
  }
  return undefined;
}

function significantDigits(number: string): number {
  const mantissa = /^[-+]?(\d)\.?(\d*)e/i.exec(number);
  return mantissa ? 1 + mantissa[2].length : 0;
}

// ---------------------------------------------------------------------------------------------- text

/** The line at `offset` (without its `\n` or `\r\n`) and the offset of the next one. */
function readLine(buf: Uint8Array, offset: number, enc: Encoding): { text: string; next: number } {
  let end = offset;
  if (enc.utf16) {
    while (end + 1 < buf.length && !(buf[end] === NEWLINE && buf[end + 1] === 0)) end += 2;
    const text = Buffer.from(buf.buffer, buf.byteOffset + offset, Math.min(end, buf.length) - offset).toString(
      'utf16le',
    );
    return { text: text.replace(/\r$/, ''), next: Math.min(end + 2, buf.length) };
  }
  return readUtf8Line(buf, offset);
}

function skipBlankLines(buf: Uint8Array, start: number, startLine: number, enc: Encoding) {
  let offset = start;
  let line = startLine;
  while (offset < buf.length) {
    const { text, next } = readLine(buf, offset, enc);
    if (text.trim() !== '') return { offset, line, text };
    offset = next;
    line += 1;
  }
  return { offset, line, text: '' };
}

function countLines(buf: Uint8Array, start: number, enc: Encoding): number {
  let n = 0;
  for (let offset = start; offset < buf.length; n++) offset = readLine(buf, offset, enc).next;
  return n;
}

/** Reads `Key: value` lines (and QSPICE's `.directive` lines) up to and including `Binary:` or `Values:`. */
function readHeader(buf: Uint8Array, start: number, startLine: number, enc: Encoding, source: string): Header {
  const fields = new Map<string, string>();
  const directives: string[] = [];
  let vectors: RawVector[] | undefined;
  let offset = start;
  let line = startLine;
  for (;;) {
    if (offset >= buf.length) {
      throw new RawfileError(source, `line ${line}`, 'a "Binary:" or "Values:" line ending the header', END_OF_FILE);
    }
    const { text, next } = readLine(buf, offset, enc);
    const here = `line ${line}`;
    offset = next;
    line += 1;
    if (text.trim() === '') continue;
    if (text.startsWith('.')) {
      directives.push(text.trim());
      continue;
    }
    const colon = text.indexOf(':');
    if (colon < 0) throw new RawfileError(source, here, 'a "Key: value" header line', text);
    const key = text.slice(0, colon).trim().toLowerCase();
    const value = text.slice(colon + 1).trim();
    if (key === 'variables') {
      const count = headerInt(fields, 'no. variables', source, here);
      for (vectors = []; vectors.length < count;) {
        const v = readLine(buf, offset, enc);
        const parts = v.text.trim().split(/\s+/);
        if (offset >= buf.length || parts.length < 3 || Number(parts[0]) !== vectors.length) {
          const expected = `variable ${vectors.length} of ${count} as "<index> <name> <type>"`;
          throw new RawfileError(source, `line ${line}`, expected, offset >= buf.length ? END_OF_FILE : v.text);
        }
        vectors.push({ name: parts[1], type: parts[2] });
        offset = v.next;
        line += 1;
      }
    } else if (key === 'binary' || key === 'values') {
      if (!vectors) throw new RawfileError(source, here, 'a "Variables:" section before the data', text);
      const flags = new Set((fields.get('flags') ?? '').toLowerCase().split(/\s+/).filter(Boolean));
      if (!flags.has('real') && !flags.has('complex')) {
        throw new RawfileError(source, here, 'a "Flags:" header line saying real or complex', fields.get('flags'));
      }
      return {
        fields,
        directives,
        vectors,
        flags,
        complex: flags.has('complex'),
        numPoints: headerInt(fields, 'no. points', source, here),
        data: key === 'binary' ? 'binary' : 'ascii',
        dataStart: offset,
        dataLine: line,
      };
    } else {
      fields.set(key, value);
    }
  }
}

function makePlot(h: Header, real: Float64Array[], imag: Float64Array[] | undefined, numPoints: number): RawPlot {
  const plot: RawPlot = {
    title: h.fields.get('title') ?? '',
    date: h.fields.get('date') ?? '',
    plotname: h.fields.get('plotname') ?? '',
    complex: h.complex,
    vectors: h.vectors,
    numPoints,
    real,
  };
  if (imag) plot.imag = imag;
  return plot;
}

// ---------------------------------------------------------------------------------------------- ascii

/**
 * `Values:` data: each point is its index, then one value per vector. A complex value is `re,im` (Xyce: `re, im`);
 * QSPICE writes the scale of a complex plot as a lone real, read with a zero imaginary part. Reads exactly
 * `No. Points` points.
 */
function readAscii(buf: Uint8Array, h: Header, enc: Encoding, source: string) {
  const n = h.vectors.length;
  const real = h.vectors.map(() => new Float64Array(h.numPoints));
  const imag = h.complex ? h.vectors.map(() => new Float64Array(h.numPoints)) : undefined;
  let point = 0;
  let v = -1; // -1: the point's index comes next
  let offset = h.dataStart;
  let line = h.dataLine;
  while (point < h.numPoints) {
    if (offset >= buf.length) {
      throw new RawfileError(
        source,
        `line ${line}`,
        `${h.numPoints} points (as "No. Points" says)`,
        `the end of the file after ${point} points`,
      );
    }
    const { text, next } = readLine(buf, offset, enc);
    const where = `line ${line}`;
    for (const token of text.replace(/,\s+/g, ',').split(/\s+/).filter(Boolean)) {
      if (v < 0) {
        if (Number(token) !== point)
          throw new RawfileError(source, where, `the index ${point} of the next point`, token);
        v = 0;
        continue;
      }
      const parts = token.split(',');
      const loneScale = h.complex && v === 0 && parts.length === 1;
      if (parts.length !== (h.complex && !loneScale ? 2 : 1)) {
        const expected = h.complex
          ? `a complex value "re,im" for ${h.vectors[v].name}`
          : `a real value for ${h.vectors[v].name}`;
        throw new RawfileError(source, where, expected, token);
      }
      real[v][point] = parseAsciiNumber(parts[0], source, where);
      if (imag) imag[v][point] = parts.length === 2 ? parseAsciiNumber(parts[1], source, where) : 0;
      v += 1;
      if (v === n) {
        v = -1;
        point += 1;
        if (point === h.numPoints) break;
      }
    }
    offset = next;
    line += 1;
  }
  return { real, imag, numPoints: point, end: offset, endLine: line };
}

// ---------------------------------------------------------------------------------------------- LTspice binary

const FLOAT64_BYTES = 8;
const FLOAT32_BYTES = 4;
const COMPLEX_BYTES = 2 * FLOAT64_BYTES;

interface ValueBytes {
  bytes: number[];
  valueFormat: string;
}

/** Bytes of each vector's value in LTspice binary data as the flags say; see the file comment. */
function ltspiceValueBytes(h: Header): ValueBytes {
  const n = h.vectors.length;
  if (h.complex) return { bytes: Array(n).fill(COMPLEX_BYTES), valueFormat: 'complex float64 pairs' };
  if (h.flags.has('double')) return ALL_FLOAT64(n);
  return {
    bytes: [FLOAT64_BYTES, ...Array(n - 1).fill(FLOAT32_BYTES)],
    valueFormat: 'float64 scale, float32 others',
  };
}

const ALL_FLOAT64 = (n: number): ValueBytes => ({ bytes: Array(n).fill(FLOAT64_BYTES), valueFormat: 'float64' });
const ALL_FLOAT32 = (n: number): ValueBytes => ({ bytes: Array(n).fill(FLOAT32_BYTES), valueFormat: 'float32' });

/**
 * The value sizes to read a real plot with: the flags' rule when the data is exactly that size, else the other
 * real layout (all float64, all float32) whose size the data has exactly (a `.op` plot, say, whose scale is no
 * sweep), with a warning; else the flags' rule, which then reports short data or leaves extra bytes.
 */
function chooseValueBytes(h: Header, dataBytes: number, warnings: string[]): ValueBytes {
  const stated = ltspiceValueBytes(h);
  const size = (b: ValueBytes) => h.numPoints * b.bytes.reduce((a, x) => a + x, 0);
  if (h.complex || size(stated) === dataBytes) return stated;
  const n = h.vectors.length;
  const other = [ALL_FLOAT64(n), ALL_FLOAT32(n)].find(
    (b) => b.valueFormat !== stated.valueFormat && size(b) === dataBytes,
  );
  if (!other) return stated;
  warnings.push(
    `"Flags: ${[...h.flags].join(' ')}" means ${stated.valueFormat}, ${size(stated)} bytes of data, but the file holds ${dataBytes}, ` +
      `exactly ${h.numPoints} points of ${other.valueFormat}: read as ${other.valueFormat}`,
  );
  return other;
}

/** LTspice binary data, point by point or (fastaccess) vector by vector. */
function readLtspiceBinary(buf: Uint8Array, h: Header, writer: RawWriter, source: string, warnings: string[]) {
  const found = buf.length - h.dataStart;
  const { bytes, valueFormat } = chooseValueBytes(h, found, warnings);
  const pointBytes = bytes.reduce((a, b) => a + b, 0);
  const needed = h.numPoints * pointBytes;
  if (found < needed) {
    throw new RawfileError(
      source,
      `byte ${h.dataStart}`,
      `${h.numPoints} points of ${pointBytes} bytes (${valueFormat}, as ${writer} writes for "Flags: ${[...h.flags].join(' ')}")`,
      `only ${found} bytes of data`,
    );
  }
  const fast = h.flags.has('fastaccess');
  const view = new DataView(buf.buffer, buf.byteOffset + h.dataStart, needed);
  const real = h.vectors.map(() => new Float64Array(h.numPoints));
  const imag = h.complex ? h.vectors.map(() => new Float64Array(h.numPoints)) : undefined;
  let vectorStart = 0; // fastaccess: where this vector's points begin
  let column = 0; // point by point: where this vector's value sits in a point
  for (const [v, size] of bytes.entries()) {
    for (let p = 0; p < h.numPoints; p++) {
      const at = fast ? vectorStart + p * size : p * pointBytes + column;
      real[v][p] = size === FLOAT32_BYTES ? view.getFloat32(at, true) : view.getFloat64(at, true);
      if (imag) imag[v][p] = view.getFloat64(at + FLOAT64_BYTES, true);
    }
    vectorStart += h.numPoints * size;
    column += size;
  }
  if (h.vectors[0]?.type === 'time') real[0] = real[0].map(Math.abs);
  return { real, imag, valueFormat, extraBytes: found - needed };
}

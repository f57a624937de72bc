/**
 * Reader for ngspice rawfiles (the file `ngspice -b -r out.raw deck.cir` writes).
 *
 * A rawfile is a sequence of plots, one per analysis that ran (`.op`, `.dc`, `.tran`, `.ac`, ...), written
 * back to back with no separator. Each plot is a text header followed by its data:
 *
 *     Title: * rc step                  <- the deck's first line (ngspice 39 lower-cases it)
 *     Date: Wed Nov 25 12:54:01  2026
 *     Plotname: Transient Analysis      <- what kind of analysis the plot holds
 *     Flags: real                       <- `real` or `complex`
 *     No. Variables: 4
 *     No. Points: 526                   <- 0 in a file left by an aborted run (see below)
 *     Variables:
 *     	0	time	time                  <- tab, index, name, type [, extra key=value fields such as grid=3]
 *     	1	v(out)	voltage
 *     	...
 *     Binary:                           <- or `Values:` for an ascii file
 *     <data>
 *
 * ngspice may add `Dimensions:`, `Command:` or `Option:` lines before `Variables:`; they are skipped. The
 * header is plain text, one `Key: value` per line; the index of the first variable is 0 and the first
 * variable is the scale (time, frequency or the swept source).
 *
 * Binary data is point-major: for each point, one value per variable in variable order. A value is a
 * little-endian IEEE-754 float64, or, when the plot's flags say `complex`, a pair of them (real, imaginary)
 * for *every* variable, the scale included. ngspice (unlike LTspice) never writes float32 values. The next
 * plot's `Title:` line follows the last byte of data directly, without a newline.
 *
 * Ascii data (`Values:`) has one value per line: the first value of each point is preceded by the point's
 * index, the others by a tab; a complex value is written `re,im`. The next plot's header starts on a new line.
 *
 * In a complex plot the scale (`frequency`) is real; ngspice 39 writes uninitialised memory as its imaginary
 * part (a different value each run, e.g. -6.1e157), so the reader sets that part to 0.
 *
 * ngspice writes `No. Points` when a plot starts and rewrites it when the analysis ends, so a run that
 * aborted (e.g. "Timestep too small") leaves `No. Points: 0` in front of real data. The number of points
 * is then counted from the data itself, up to the end of the file or the next plot's header, and a last
 * point cut short by the abort is dropped. With a non-zero count, missing data is an error: the file was
 * damaged after ngspice wrote it.
 */
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { BmruError } from '../errors.js';

/** One saved quantity of a plot, as listed under `Variables:`. */
export interface RawVector {
  /** As ngspice wrote it, e.g. `time`, `v(out)`, `i(v1)`, `v1#branch`, `frequency`. */
  name: string;
  /** `time`, `frequency`, `voltage`, `current`, ... */
  type: string;
}

/** One analysis of a rawfile. */
export interface RawPlot {
  title: string;
  date: string;
  /** E.g. `Transient Analysis`, `AC Analysis`, `Operating Point`, `DC transfer characteristic`. */
  plotname: string;
  complex: boolean;
  vectors: RawVector[];
  numPoints: number;
  /** One array per vector, in `vectors` order: the values, or the real parts when `complex`. */
  real: Float64Array[];
  /** The imaginary parts, one array per vector; present only when `complex`. */
  imag?: Float64Array[];
  /**
   * Each vector's own time grid, where it is not `real[0]`: only a merged plot of several decks (spice/merge.ts)
   * has it, so that each partition's waveform stays on the points its deck computed instead of being resampled
   * onto the union of every grid. Read such vectors with `series`.
   */
  timeOf?: (Float64Array | undefined)[];
}

/** A waveform with its own time grid (s, ascending): what `series` reads. */
export interface Series {
  readonly timeS: Float64Array;
  readonly y: Float64Array;
}

/** A rawfile that does not follow the format: names the file, the place and what was expected there. */
export class RawfileError extends BmruError {
  override name = 'RawfileError';
  constructor(
    /** File path, or `<buffer>` when parsing bytes of unknown origin. */
    readonly source: string,
    /** Where in the file: `line 6 (byte 120)`, or `byte 1234` past binary data where lines mean nothing. */
    readonly where: string,
    readonly expected: string,
    readonly found?: string,
  ) {
    super(
      `${source}: ${where}: expected ${expected}${found === undefined ? '' : `, found "${printableExcerpt(found)}"`}`,
      'rawfile',
    );
  }
}

/** A vector or an analysis that a run's plots do not hold; the message lists what they do hold. */
export class MissingVectorError extends BmruError {
  override name = 'MissingVectorError';
  constructor(
    readonly wanted: string,
    readonly available: readonly string[],
    where: string,
  ) {
    super(`no ${wanted} in ${where}; available: ${available.join(', ') || 'none'}`, 'missing-vector');
  }
}

/** Characters of a bad line shown in an error: enough to recognise it, not a screenful of binary data. */
const EXCERPT_CHARS = 60;

/**
 * What a rawfile held where text was expected, safe to print: at most EXCERPT_CHARS characters, every one
 * outside printable ASCII written as an escape (`\x1b`, `\x9b` (U+009B), `\ufffd` for bytes that are not UTF-8),
 * so binary data neither floods the terminal nor sends it control sequences.
 */
export function printableExcerpt(text: string, maxChars = EXCERPT_CHARS): string {
  const head = Array.from(text.slice(0, 2 * maxChars)).slice(0, maxChars);
  const shown = head.map((c) => {
    const code = c.codePointAt(0)!;
    if (c === '"' || c === '\\') return `\\${c}`;
    if (code >= 0x20 && code < 0x7f) return c;
    if (code < 0x100) return `\\x${code.toString(16).padStart(2, '0')}`;
    return code <= 0xffff ? `\\u${code.toString(16).padStart(4, '0')}` : `\\u{${code.toString(16)}}`;
  });
  const rest = text.length - head.join('').length;
  return shown.join('') + (rest > 0 ? `... (${rest} more characters)` : '');
}

const BYTES_PER_DOUBLE = 8;
const NEWLINE = 0x0a;
/** What a header error found when the bytes ran out: the streamed reader then reads a larger piece. */
const END_OF_FILE = 'end of file';

/** What the header says; `dataStart` is the byte offset just past the `Binary:`/`Values:` line. */
interface Header {
  fields: Map<string, string>;
  vectors: RawVector[];
  complex: boolean;
  numPoints: number;
  format: 'binary' | 'ascii';
  dataStart: number;
  /** 1-based line number of the first data line; undefined once binary data has made lines meaningless. */
  dataLine: number | undefined;
}

/** Data of one plot: values per vector and where the plot ended. */
interface PlotData {
  real: Float64Array[];
  imag?: Float64Array[];
  numPoints: number;
  end: number;
  endLine: number | undefined;
}

/**
 * Parses every plot of an ngspice rawfile, binary or ascii.
 *
 * @param buf the whole file
 * @param source the file's path, used in error messages
 * @throws RawfileError when the bytes are not a rawfile
 * @example
 *   const [tran] = parseRawfile(await readFile('out.raw'), 'out.raw');
 *   const vOut = vector(tran, 'v(out)');
 */
export function parseRawfile(buf: Uint8Array, source = '<buffer>'): RawPlot[] {
  try {
    return parseNgspiceRawfile(buf, source);
  } catch (e) {
    throw withForeignHint(e, buf);
  }
}

function parseNgspiceRawfile(buf: Uint8Array, source: string): RawPlot[] {
  const plots: RawPlot[] = [];
  let offset = 0;
  let line: number | undefined = 1;
  while (!onlyWhitespace(buf, offset)) {
    const header = readHeader(buf, offset, line, source);
    const data = header.format === 'binary' ? readBinary(buf, header, source) : readAscii(buf, header, source);
    plots.push(makePlot(header, data));
    offset = data.end;
    line = data.endLine;
  }
  if (plots.length === 0) {
    throw new RawfileError(source, 'byte 0', 'a rawfile header (Title:, Plotname:, ...)', 'an empty file');
  }
  return plots;
}

/** What to read of a rawfile on disk. */
export interface ReadRawOptions {
  /**
   * Only these vectors (any of ngspice's spellings, see `vector`), plus each plot's scale; the plots then list
   * only what was read. Default: every vector.
   */
  readonly vectors?: readonly string[];
}

/** Most bytes of binary data decoded per read: large enough to amortise the syscalls. */
const CHUNK_BYTES = 1 << 22;
/** Fewest bytes per read (unless the plot is smaller): 1,500 reads for a 100 MB file. */
const MIN_CHUNK_BYTES = 1 << 16;
/**
 * The read buffer is at most this fraction of the vectors kept, so that reading 10 of 101 vectors (11 MB) does not
 * hold a 4 MiB buffer beside them: a read after a first one in the same process peaked at 1.40x the vectors read with
 * 4 MiB reads, 1.07x with this (`BMRU_BENCH_SECTIONS=b node bench/run.mjs`, docs/analyses.md).
 */
const CHUNK_FRACTION_OF_KEPT = 1 / 16;
/** First guess at a header's size; doubled until the header fits (a plot of 10 000 vectors has ~400 kB). */
const HEADER_GUESS_BYTES = 1 << 16;

/**
 * Reads a rawfile from disk. Binary plots are streamed: the file is never held whole, and only the vectors
 * asked for are kept, so peak memory is the vectors read plus one chunk (the whole-file parse held the file
 * and a copy of every vector, 2.15x the file). Ascii files and plots of an aborted run (`No. Points: 0`,
 * counted from the data) are parsed whole, as `parseRawfile` does.
 *
 * @throws RawfileError when the file is not a rawfile (and the usual fs errors when it cannot be read)
 */
export async function readRawfile(path: string, opts: ReadRawOptions = {}): Promise<RawPlot[]> {
  const file = await open(path, 'r');
  try {
    return await readNgspiceRawfile(file, path, opts);
  } catch (e) {
    const head = Buffer.alloc(FOREIGN_PROBE_BYTES);
    const { bytesRead } = await file.read(head, 0, head.length, 0).catch(() => ({ bytesRead: 0 }));
    throw withForeignHint(e, head.subarray(0, bytesRead));
  } finally {
    await file.close();
  }
}

async function readNgspiceRawfile(file: FileHandle, path: string, opts: ReadRawOptions): Promise<RawPlot[]> {
  const size = (await file.stat()).size;
  const plots: RawPlot[] = [];
  let offset = 0;
  while (offset < size) {
    const head = await readHeaderAt(file, offset, size, path);
    if (head === 'whitespace') break;
    if (head.format !== 'binary' || head.numPoints === 0)
      return selectVectors(parseNgspiceRawfile(await readFile(path), path), opts.vectors);
    const plot = await readBinaryPlot(file, head, size, opts.vectors, path);
    plots.push(plot.plot);
    offset = plot.end;
  }
  if (plots.length === 0)
    throw new RawfileError(path, 'byte 0', 'a rawfile header (Title:, Plotname:, ...)', 'an empty file');
  return checkFound(plots, opts.vectors);
}

/** Bytes of a file's start searched for the signs of another simulator when the ngspice reader fails. */
const FOREIGN_PROBE_BYTES = 4096;

/**
 * Another simulator's rawfile, from its first bytes: a `Command:` line naming LTspice or QSPICE, UTF-16 text
 * (LTspice), or ASCII values with Xyce's 8 decimals. Undefined for anything else.
 */
function foreignWriter(head: Uint8Array): string | undefined {
  const utf16 = (head[0] === 0xff && head[1] === 0xfe) || (head[0] !== 0 && head[1] === 0 && head[3] === 0);
  const text = Buffer.from(head.buffer, head.byteOffset, head.byteLength).toString(utf16 ? 'utf16le' : 'latin1');
  const command = /^Command:\s*(.*(?:LTspice|QSPICE).*?)\r?$/im.exec(text)?.[1];
  if (command) return `${/qspice/i.test(command) ? 'QSPICE' : 'LTspice'} (Command: ${command.trim()})`;
  if (utf16) return 'LTspice, most likely (UTF-16LE text, which ngspice never writes)';
  const first = /^Values:\r?\n\s*\d+\s+[-+]?\d\.(\d+)e/im.exec(text)?.[1];
  if (first?.length === XYCE_DECIMALS) return 'Xyce, most likely (values printed as %.8e; ngspice prints %.15e)';
  return undefined;
}

/** Decimals of Xyce's ASCII values (`%.8e`), which ngspice never prints (`%.15e`). */
const XYCE_DECIMALS = 8;

/** A RawfileError on another simulator's file, with that named: the ngspice reader's complaint alone hides it. */
function withForeignHint(e: unknown, head: Uint8Array): unknown {
  const writer = foreignWriter(head);
  if (!(e instanceof RawfileError) || writer === undefined) return e;
  const hint = ` (this reader reads ngspice rawfiles; this one was written by ${writer}: \`bmru raw\` reads it)`;
  return new RawfileError(e.source, e.where, e.expected + hint, e.found);
}

/** The header of the plot at `offset` (read in growing pieces), or 'whitespace' when only blanks are left. */
async function readHeaderAt(
  file: FileHandle,
  offset: number,
  size: number,
  source: string,
): Promise<Header | 'whitespace'> {
  for (let length = HEADER_GUESS_BYTES; ; length *= 2) {
    const buf = Buffer.alloc(Math.min(length, size - offset));
    await file.read(buf, 0, buf.length, offset);
    const atEnd = offset + buf.length >= size;
    if (onlyWhitespace(buf, 0)) {
      if (atEnd) return 'whitespace';
      continue;
    }
    // A piece cut inside the file is read up to its last newline, so every line it holds is whole: an error there
    // is final, and only running out of lines ("end of file") asks for a larger piece. Growing the piece on any
    // error read a bad file to its end, and aborted Node once a read passed 2 GiB.
    const lines = atEnd ? buf : buf.subarray(0, buf.lastIndexOf(NEWLINE) + 1);
    try {
      const h = readHeader(lines, 0, offset === 0 ? 1 : undefined, source);
      return { ...h, dataStart: offset + h.dataStart }; // offsets in the file, not in this piece
    } catch (e) {
      if (atEnd || !(e instanceof RawfileError) || e.found !== END_OF_FILE) throw shifted(e, offset);
    }
  }
}

/** A RawfileError from a piece read at `offset`, with its byte position made a position in the file. */
function shifted(e: unknown, offset: number): unknown {
  if (!(e instanceof RawfileError) || offset === 0) return e;
  const where = e.where.replace(/byte (\d+)/, (_, b: string) => `byte ${Number(b) + offset}`);
  return new RawfileError(e.source, where, e.expected, e.found);
}

/** One binary plot with a known point count, decoded chunk by chunk into the selected vectors only. */
async function readBinaryPlot(
  file: FileHandle,
  h: Header,
  size: number,
  wanted: readonly string[] | undefined,
  source: string,
): Promise<{ plot: RawPlot; end: number }> {
  const doublesPerValue = h.complex ? 2 : 1;
  const pointBytes = h.vectors.length * doublesPerValue * BYTES_PER_DOUBLE;
  const end = h.dataStart + h.numPoints * pointBytes;
  if (end > size) {
    const expected = `${h.numPoints} points of ${pointBytes} bytes (as "No. Points" says)`;
    throw new RawfileError(source, `byte ${h.dataStart}`, expected, `only ${size - h.dataStart} bytes of data`);
  }
  const keep = selectedIndices(h.vectors, wanted);
  const real = keep.map(() => new Float64Array(h.numPoints));
  const imag = h.complex ? keep.map(() => new Float64Array(h.numPoints)) : undefined;
  const keptBytes = keep.length * doublesPerValue * BYTES_PER_DOUBLE * h.numPoints;
  const chunkBytes = Math.min(CHUNK_BYTES, Math.max(MIN_CHUNK_BYTES, keptBytes * CHUNK_FRACTION_OF_KEPT));
  const pointsPerChunk = Math.max(1, Math.floor(chunkBytes / Math.max(pointBytes, 1)));
  // Buffer.alloc never takes from the shared pool: the buffer starts an ArrayBuffer of its own, which a Float64Array
  // can view (the offset is 0, a multiple of 8).
  const bytes = Buffer.alloc(Math.min(pointsPerChunk, h.numPoints) * pointBytes);
  const doubles =
    LITTLE_ENDIAN && bytes.byteOffset % BYTES_PER_DOUBLE === 0
      ? new Float64Array(bytes.buffer, bytes.byteOffset, bytes.length / BYTES_PER_DOUBLE)
      : undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const stride = pointBytes / BYTES_PER_DOUBLE;
  for (let p0 = 0; p0 < h.numPoints; p0 += pointsPerChunk) {
    const points = Math.min(pointsPerChunk, h.numPoints - p0);
    await file.read(bytes, 0, points * pointBytes, h.dataStart + p0 * pointBytes);
    for (let k = 0; k < keep.length; k++) {
      const col = keep[k] * doublesPerValue;
      gather(real[k], p0, doubles, view, col, stride, points);
      if (imag) gather(imag[k], p0, doubles, view, col + 1, stride, points);
    }
  }
  const header = { ...h, vectors: keep.map((i) => h.vectors[i]) };
  return { plot: makePlot(header, { real, imag, numPoints: h.numPoints, end, endLine: undefined }), end };
}

/** Whether this machine stores doubles little-endian, as binary rawfiles hold them: they can then be read in place. */
const LITTLE_ENDIAN = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f;

/**
 * `count` doubles from column `col` of a chunk of points `stride` doubles apart into `dst` from `at`: from a
 * Float64Array view where the machine is little-endian, else through the DataView.
 */
export function gather(
  dst: Float64Array,
  at: number,
  doubles: Float64Array | undefined,
  view: DataView,
  col: number,
  stride: number,
  count: number,
): void {
  if (doubles) for (let p = 0; p < count; p++) dst[at + p] = doubles[p * stride + col];
  else for (let p = 0; p < count; p++) dst[at + p] = view.getFloat64((p * stride + col) * BYTES_PER_DOUBLE, true);
}

/** Indices of the scale and those of the wanted vectors this plot has (all, when none are named). */
function selectedIndices(vectors: readonly RawVector[], wanted: readonly string[] | undefined): number[] {
  if (!wanted) return vectors.map((_, i) => i);
  const byName = new Map(vectors.map((v, i) => [canonicalVectorName(v.name), i]));
  const picked = new Set<number>([0]);
  for (const name of wanted) {
    const i = byName.get(canonicalVectorName(name));
    if (i !== undefined) picked.add(i);
  }
  return [...picked].sort((a, b) => a - b);
}

/** Whole-file plots cut down to the wanted vectors, as the streamed reader returns them. */
function selectVectors(plots: RawPlot[], wanted: readonly string[] | undefined): RawPlot[] {
  if (!wanted) return plots;
  const cut = plots.map((plot) => {
    const keep = selectedIndices(plot.vectors, wanted);
    return {
      ...plot,
      vectors: keep.map((i) => plot.vectors[i]),
      real: keep.map((i) => plot.real[i]),
      ...(plot.imag ? { imag: keep.map((i) => plot.imag![i]) } : {}),
    };
  });
  return checkFound(cut, wanted);
}

/** Every wanted vector must be in some plot (an analysis may lack one: `.op` has no time). */
function checkFound(plots: RawPlot[], wanted: readonly string[] | undefined): RawPlot[] {
  for (const name of wanted ?? []) {
    const c = canonicalVectorName(name);
    if (!plots.some((p) => p.vectors.some((v) => canonicalVectorName(v.name) === c))) {
      throw new MissingVectorError(
        `vector "${name}"`,
        [...new Set(plots.flatMap((p) => p.vectors.map((v) => v.name)))],
        'any plot of the rawfile',
      );
    }
  }
  return plots;
}

/** What the header of a rawfile's first plot says: enough to read its data piecemeal while ngspice writes it. */
export interface RawHeader {
  plotname: string;
  vectors: RawVector[];
  complex: boolean;
  format: 'binary' | 'ascii';
  /** As the header says when read: 0 while ngspice is still running the analysis. */
  numPoints: number;
  /** Byte offset of the first data byte, just past the `Binary:` or `Values:` line. */
  dataStart: number;
  /** Bytes per point of binary data: 8 per vector, 16 when complex. */
  pointBytes: number;
}

/**
 * Parses the header of the first plot from the start of a rawfile that may be cut anywhere after it
 * (a file ngspice is still writing).
 *
 * @throws RawfileError when the bytes hold no complete header (yet)
 * @example
 *   const h = parseRawHeader(firstBytes, 'out.raw');
 *   const points = Math.floor((fileBytes - h.dataStart) / h.pointBytes);
 */
export function parseRawHeader(buf: Uint8Array, source = '<buffer>'): RawHeader {
  const h = readHeader(buf, 0, 1, source);
  if (buf[h.dataStart - 1] !== NEWLINE) {
    throw new RawfileError(
      source,
      `byte ${h.dataStart}`,
      'a newline ending the "Binary:" or "Values:" line',
      END_OF_FILE,
    );
  }
  const pointBytes = h.vectors.length * (h.complex ? 2 : 1) * BYTES_PER_DOUBLE;
  const { vectors, complex, format, numPoints, dataStart } = h;
  return { plotname: h.fields.get('plotname') ?? '', vectors, complex, format, numPoints, dataStart, pointBytes };
}

/**
 * The values (real parts, for complex plots) of one vector, found by name case-insensitively and in any
 * of ngspice's spellings: `v(out)` or `out` for a node voltage, `i(vdd)` or `vdd#branch` for the current
 * through a voltage source.
 *
 * @throws MissingVectorError listing the plot's vector names when there is no such vector
 * @example vector(tran, 'V(OUT)') // same as vector(tran, 'out')
 */
export function vector(plot: RawPlot, name: string): Float64Array {
  const index = indexOf(plot, name);
  const own = plot.timeOf?.[index];
  // Paired with the plot's scale, a vector on another grid would be read at the wrong times, silently.
  if (own !== undefined && own !== plot.real[0])
    throw new RangeError(
      `vector "${name}" of merged plot "${plot.plotname}" has its own time grid: read it with series()`,
    );
  return plot.real[index];
}

/**
 * A transient vector with the time grid it was computed on: the plot's scale, or for a merged plot the grid of
 * the deck that wrote it. Found by name as `vector` finds it.
 *
 * @throws MissingVectorError listing the plot's vector names when there is no such vector
 */
export function series(plot: RawPlot, name: string): Series {
  const index = indexOf(plot, name);
  return { timeS: plot.timeOf?.[index] ?? plot.real[0], y: plot.real[index] };
}

function indexOf(plot: RawPlot, name: string): number {
  const index = vectorIndex(plot).get(canonicalVectorName(name)) ?? -1;
  if (index < 0)
    throw new MissingVectorError(
      `vector "${name}"`,
      plot.vectors.map((v) => v.name),
      `plot "${plot.plotname}"`,
    );
  return index;
}

/**
 * The transient plot of a run: the one whose scale (first vector) is time. A deck with `.op` or `.ac` as well
 * writes several plots, in ngspice's order rather than the deck's, so position says nothing.
 *
 * @throws MissingVectorError listing the plots there are
 */
export function transientPlot(plots: readonly RawPlot[]): RawPlot {
  const plot = plots.find((p) => p.vectors[0]?.type === 'time');
  if (!plot)
    throw new MissingVectorError(
      'transient plot (a plot whose scale is time)',
      plots.map((p) => `${p.plotname} (${p.vectors[0]?.type ?? 'empty'})`),
      'the rawfile',
    );
  return plot;
}

/** Each plot's name -> index map, built on the first lookup: a comparison looks up hundreds of probes. */
const INDEXES = new WeakMap<RawPlot, Map<string, number>>();

function vectorIndex(plot: RawPlot): Map<string, number> {
  let index = INDEXES.get(plot);
  if (!index) {
    index = new Map();
    // The first of equal names wins, as the linear search did (ngspice can write one name twice).
    for (const [i, v] of plot.vectors.entries())
      if (!index.has(canonicalVectorName(v.name))) index.set(canonicalVectorName(v.name), i);
    INDEXES.set(plot, index);
  }
  return index;
}

/** One spelling per quantity: `v(x)` -> `x`, `i(x)` -> `x#branch`, lower case. */
export function canonicalVectorName(name: string): string {
  const n = name.trim().toLowerCase();
  const voltage = /^v\((.+)\)$/.exec(n);
  if (voltage) return voltage[1].trim();
  const current = /^i\((.+)\)$/.exec(n);
  if (current) return `${current[1].trim()}#branch`;
  return n;
}

function makePlot(header: Header, data: PlotData): RawPlot {
  const plot: RawPlot = {
    title: header.fields.get('title') ?? '',
    date: header.fields.get('date') ?? '',
    plotname: header.fields.get('plotname') ?? '',
    complex: header.complex,
    vectors: header.vectors,
    numPoints: data.numPoints,
    real: data.real,
  };
  if (data.imag) {
    for (const [i, v] of header.vectors.entries()) if (v.type === 'frequency') data.imag[i].fill(0);
    plot.imag = data.imag;
  }
  return plot;
}

// ---------------------------------------------------------------------------------------------- header

/** Reads `Key: value` lines from `offset` up to and including `Binary:` or `Values:`. */
function readHeader(buf: Uint8Array, start: number, startLine: number | undefined, source: string): Header {
  const fields = new Map<string, string>();
  let vectors: RawVector[] | undefined;
  let offset = start;
  let line = startLine;
  for (;;) {
    const here = place(line, offset);
    if (offset >= buf.length) {
      throw new RawfileError(source, here, 'a "Binary:" or "Values:" line ending the header', END_OF_FILE);
    }
    const { text, next } = readLine(buf, offset);
    offset = next;
    line = line === undefined ? undefined : line + 1;
    if (text.trim() === '') continue;
    const colon = text.indexOf(':');
    if (colon < 0) throw new RawfileError(source, here, 'a "Key: value" header line', text);
    const key = text.slice(0, colon).trim().toLowerCase();
    const value = text.slice(colon + 1).trim();
    if (key === 'variables') {
      const count = headerInt(fields, 'no. variables', source, here);
      ({ vectors, offset, line } = readVariables(buf, offset, line, count, source));
    } else if (key === 'binary' || key === 'values') {
      if (!vectors) throw new RawfileError(source, here, 'a "Variables:" section before the data', text);
      return {
        fields,
        vectors,
        complex: parseFlags(fields, source, here),
        numPoints: headerInt(fields, 'no. points', source, here),
        format: key === 'binary' ? 'binary' : 'ascii',
        dataStart: offset,
        dataLine: line,
      };
    } else {
      fields.set(key, value);
    }
  }
}

/** Reads the `count` lines `<tab>index<tab>name<tab>type[<tab>extra...]` after `Variables:`. */
function readVariables(buf: Uint8Array, start: number, startLine: number | undefined, count: number, source: string) {
  const vectors: RawVector[] = [];
  let offset = start;
  let line = startLine;
  while (vectors.length < count) {
    const { text, next } = readLine(buf, offset);
    const fields = text.trim().split(/\s+/);
    if (offset >= buf.length || fields.length < 3 || Number(fields[0]) !== vectors.length) {
      const expected = `variable ${vectors.length} of ${count} as "<index> <name> <type>"`;
      throw new RawfileError(source, place(line, offset), expected, offset >= buf.length ? END_OF_FILE : text);
    }
    vectors.push({ name: fields[1], type: fields[2] });
    offset = next;
    line = line === undefined ? undefined : line + 1;
  }
  return { vectors, offset, line };
}

/** A header field that must be a non-negative integer (`No. Points`, `No. Variables`). */
export function headerInt(fields: Map<string, string>, key: string, source: string, where: string): number {
  const text = fields.get(key);
  const value = Number(text);
  if (text === undefined || text === '' || !Number.isInteger(value) || value < 0) {
    throw new RawfileError(source, where, `a "${key}:" header line with a non-negative integer before this line`, text);
  }
  return value;
}

/** `Flags: real` or `Flags: complex`, possibly with more words (e.g. `real forward`). */
function parseFlags(fields: Map<string, string>, source: string, where: string): boolean {
  const words = (fields.get('flags') ?? '').toLowerCase().split(/\s+/);
  if (words.includes('complex')) return true;
  if (words.includes('real')) return false;
  throw new RawfileError(source, where, 'a "Flags:" header line saying real or complex', fields.get('flags'));
}

/** `line 6 (byte 120)` while lines can be counted, else `byte 120`. */
function place(line: number | undefined, offset: number): string {
  return line === undefined ? `byte ${offset}` : `line ${line} (byte ${offset})`;
}

/** The text of the line at `offset` (without its newline) and the offset of the next line. */
/** The UTF-8 line at `offset` (without its `\n` or `\r\n`) and where the next one starts. */
export function readLine(buf: Uint8Array, offset: number): { text: string; next: number } {
  let end = buf.indexOf(NEWLINE, offset);
  if (end < 0) end = buf.length;
  const text = Buffer.from(buf.buffer, buf.byteOffset + offset, end - offset).toString('utf8');
  return { text: text.replace(/\r$/, ''), next: Math.min(end + 1, buf.length) };
}

function onlyWhitespace(buf: Uint8Array, offset: number): boolean {
  for (let i = offset; i < buf.length; i++) {
    if (buf[i] !== 0x20 && buf[i] !== 0x09 && buf[i] !== 0x0a && buf[i] !== 0x0d) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------- binary

function readBinary(buf: Uint8Array, header: Header, source: string): PlotData {
  const doublesPerValue = header.complex ? 2 : 1;
  const pointBytes = header.vectors.length * doublesPerValue * BYTES_PER_DOUBLE;
  const start = header.dataStart;
  const counted = header.numPoints > 0 ? undefined : countBinaryPoints(buf, start, pointBytes);
  const numPoints = counted?.numPoints ?? header.numPoints;
  const end = counted?.end ?? start + numPoints * pointBytes;
  if (end > buf.length) {
    const expected = `${numPoints} points of ${pointBytes} bytes (as "No. Points" says)`;
    throw new RawfileError(source, `byte ${start}`, expected, `only ${buf.length - start} bytes of data`);
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const real = header.vectors.map(() => new Float64Array(numPoints));
  const imag = header.complex ? header.vectors.map(() => new Float64Array(numPoints)) : undefined;
  let pos = start;
  for (let p = 0; p < numPoints; p++) {
    for (let v = 0; v < header.vectors.length; v++) {
      real[v][p] = view.getFloat64(pos, true);
      pos += BYTES_PER_DOUBLE;
      if (imag) {
        imag[v][p] = view.getFloat64(pos, true);
        pos += BYTES_PER_DOUBLE;
      }
    }
  }
  // Binary data holds arbitrary 0x0a bytes: line numbers mean nothing past it, so later errors give bytes.
  return { real, imag, numPoints, end, endLine: undefined };
}

/**
 * Whole points between `start` and the next plot's header, or the end of the file (where the bytes of a
 * point cut short are skipped). The next header can only begin on a point boundary, so only those offsets
 * are checked for `Title:`/`Plotname:`: doubles whose bytes happen to spell one elsewhere do not end the data.
 */
function countBinaryPoints(buf: Uint8Array, start: number, pointBytes: number): { numPoints: number; end: number } {
  let numPoints = 0;
  for (let pos = start; pos < buf.length; pos += pointBytes) {
    if (startsPlotHeader(buf, pos)) return { numPoints, end: pos };
    if (pointBytes === 0 || pos + pointBytes > buf.length) break;
    numPoints += 1;
  }
  return { numPoints, end: buf.length };
}

const HEADER_STARTS = ['Title:', 'Plotname:'].map((s) => Buffer.from(s, 'latin1'));

function startsPlotHeader(buf: Uint8Array, pos: number): boolean {
  return HEADER_STARTS.some((word) => word.every((byte, i) => buf[pos + i] === byte));
}

// ---------------------------------------------------------------------------------------------- ascii

/**
 * Reads `Values:` data token by token: each point is its index followed by one value per vector, however
 * the tokens are spread over lines. Stops at the end of the file or at a line starting with a letter (the
 * next plot's header); values themselves (`nan`, `inf`) never start a line.
 */
function readAscii(buf: Uint8Array, header: Header, source: string): PlotData {
  const numVectors = header.vectors.length;
  const columns: { re: number[]; im: number[] }[] = header.vectors.map(() => ({ re: [], im: [] }));
  let point: { re: number; im: number }[] = [];
  let complete = 0;
  let expectIndex = true;
  let offset = header.dataStart;
  let line = header.dataLine ?? 0;
  while (offset < buf.length && (header.numPoints === 0 || complete < header.numPoints)) {
    const { text, next } = readLine(buf, offset);
    if (/^[A-Za-z]/.test(text)) break;
    for (const token of text.split(/\s+/).filter((t) => t !== '')) {
      const where = place(line, offset);
      if (expectIndex) {
        if (Number(token) !== complete) {
          throw new RawfileError(source, where, `the index ${complete} of the next point`, token);
        }
        expectIndex = false;
        continue;
      }
      point.push(parseAsciiValue(token, header.complex, source, where));
      if (point.length === numVectors) {
        point.forEach((value, v) => {
          columns[v].re.push(value.re);
          columns[v].im.push(value.im);
        });
        point = [];
        complete += 1;
        expectIndex = true;
      }
    }
    offset = next;
    line += 1;
  }
  if (header.numPoints > 0 && complete < header.numPoints) {
    const expected = `${header.numPoints} points (as "No. Points" says)`;
    throw new RawfileError(source, place(line, offset), expected, `only ${complete} points before the end of the data`);
  }
  return {
    real: columns.map((c) => Float64Array.from(c.re)),
    imag: header.complex ? columns.map((c) => Float64Array.from(c.im)) : undefined,
    numPoints: complete,
    end: offset,
    endLine: line,
  };
}

function parseAsciiValue(token: string, complex: boolean, source: string, where: string): { re: number; im: number } {
  const parts = token.split(',');
  if (parts.length !== (complex ? 2 : 1)) {
    throw new RawfileError(source, where, complex ? 'a complex value "re,im"' : 'a real value', token);
  }
  const [re, im] = parts.map((part) => parseAsciiNumber(part, source, where));
  return { re, im: im ?? 0 };
}

/** A C `%e` number; glibc prints non-finite values as `nan`, `inf`, `-inf`. */
export function parseAsciiNumber(text: string, source: string, where: string): number {
  const lower = text.toLowerCase();
  if (lower === 'nan' || lower === '-nan') return Number.NaN;
  if (lower === 'inf' || lower === '+inf') return Number.POSITIVE_INFINITY;
  if (lower === '-inf') return Number.NEGATIVE_INFINITY;
  const value = Number(text);
  if (text.trim() === '' || Number.isNaN(value)) throw new RawfileError(source, where, 'a number', text);
  return value;
}

/**
 * RIFF WAVE reader and writer.
 *
 * A WAV file is a RIFF container: `"RIFF"`, a u32 size, `"WAVE"`, then chunks, each a 4-byte id, a u32
 * little-endian byte count and that many bytes (plus one pad byte when the count is odd). Two chunks matter:
 *   `fmt `  format tag (1 = integer PCM, 3 = IEEE float, 0xFFFE = extensible, whose sub-format GUID starts
 *           with the real tag), channels, sample rate (Hz), byte rate, block align (bytes per frame of all
 *           channels), bits per sample;
 *   `data`  the samples, interleaved by channel, little-endian.
 * Other chunks (LIST, fact, cue, ...) are skipped.
 *
 * Samples are returned as float64 in [-1, 1) with the convention torchaudio and soundfile use, so features
 * match the reference pipeline: signed n-bit integers are divided by 2^(n-1), 8-bit (unsigned, offset 128)
 * by 128, floats are taken as they are. Several channels are averaged into one.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { InputError } from '../errors.js';

/** Format tags of the `fmt ` chunk (Microsoft's mmreg.h). */
const WAVE_FORMAT_PCM = 0x0001;
const WAVE_FORMAT_IEEE_FLOAT = 0x0003;
const WAVE_FORMAT_ALAW = 0x0006;
const WAVE_FORMAT_MULAW = 0x0007;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
/**
 * A 'data' chunk size a streaming writer leaves when it cannot seek back (0, or all ones): the samples run to the
 * end of the file.
 */
const STREAMED_SIZES = [0, 0xffffffff];

/** Bytes of RIFF header (`RIFF`, size, `WAVE`) and of a chunk header (id, size). */
const RIFF_HEADER_BYTES = 12;
const CHUNK_HEADER_BYTES = 8;
/** The `fmt ` chunk of plain PCM is 16 bytes; extensible adds cbSize, valid bits, channel mask and a GUID. */
const FMT_PCM_BYTES = 16;
const FMT_EXTENSIBLE_BYTES = 40;

export type SampleEncoding = 'pcm' | 'float' | 'mulaw' | 'alaw';

/** A decoded WAV file: mono samples in [-1, 1) and what the file held. */
export interface WavAudio {
  readonly sampleRateHz: number;
  /** Channels in the file (the samples are their average). */
  readonly channels: number;
  readonly bitsPerSample: number;
  readonly encoding: SampleEncoding;
  /** Mono samples, float64 in [-1, 1). */
  readonly samples: Float64Array;
}

interface FmtChunk {
  encoding: SampleEncoding;
  channels: number;
  sampleRateHz: number;
  blockAlignBytes: number;
  bitsPerSample: number;
}

const fourcc = (view: DataView, offset: number): string =>
  String.fromCharCode(
    view.getUint8(offset),
    view.getUint8(offset + 1),
    view.getUint8(offset + 2),
    view.getUint8(offset + 3),
  );

/**
 * Decode the bytes of a WAV file (integer PCM of 8, 16, 24 or 32 bits, float of 32 or 64 bits, or 8-bit G.711
 * mu-law / A-law; any channel count, averaged to mono; a 'data' size of 0 or 0xFFFFFFFF, as streaming writers leave
 * it, reads to the end of the file). Every problem is an InputError naming `file` and what was wrong.
 *
 * @example const { sampleRateHz, samples } = parseWav(await readFile('yes/0a7c2a8d_nohash_0.wav'), 'yes/...');
 */
export function parseWav(buf: Uint8Array, file?: string): WavAudio {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.byteLength < RIFF_HEADER_BYTES || fourcc(view, 0) !== 'RIFF' || fourcc(view, 8) !== 'WAVE') {
    const head =
      buf.byteLength >= 4 ? `starts with ${JSON.stringify(fourcc(view, 0))}` : `is ${buf.byteLength} bytes long`;
    throw new InputError(`expected a WAV file (RIFF/WAVE header), the file ${head}`, { file });
  }
  let fmt: FmtChunk | undefined;
  let offset = RIFF_HEADER_BYTES;
  while (offset + CHUNK_HEADER_BYTES <= buf.byteLength) {
    const id = fourcc(view, offset);
    const sizeBytes = view.getUint32(offset + 4, true);
    const body = offset + CHUNK_HEADER_BYTES;
    const remaining = buf.byteLength - body;
    if (id === 'fmt ') {
      if (sizeBytes > remaining)
        throw new InputError(`'fmt ' chunk declares ${sizeBytes} bytes, only ${remaining} remain (truncated file?)`, {
          file,
        });
      fmt = parseFmt(view, body, sizeBytes, file);
    } else if (id === 'data') {
      if (!fmt) throw new InputError("the 'data' chunk comes before any 'fmt ' chunk", { file });
      if (STREAMED_SIZES.includes(sizeBytes)) {
        const frames = Math.floor(remaining / fmt.blockAlignBytes);
        return { ...fmt, samples: decodeSamples(view, body, frames, fmt) };
      }
      if (sizeBytes > remaining) {
        throw new InputError(`'data' chunk declares ${sizeBytes} bytes, only ${remaining} remain (truncated file?)`, {
          file,
        });
      }
      if (sizeBytes % fmt.blockAlignBytes !== 0) {
        throw new InputError(
          `'data' chunk holds ${sizeBytes} bytes, not a whole number of ${fmt.blockAlignBytes}-byte frames`,
          { file },
        );
      }
      return { ...fmt, samples: decodeSamples(view, body, sizeBytes / fmt.blockAlignBytes, fmt) };
    }
    offset = body + sizeBytes + (sizeBytes % 2);
  }
  throw new InputError(fmt ? "no 'data' chunk (truncated file?)" : "no 'fmt ' chunk (truncated file?)", { file });
}

const ENCODINGS: Readonly<Record<number, SampleEncoding>> = {
  [WAVE_FORMAT_PCM]: 'pcm',
  [WAVE_FORMAT_IEEE_FLOAT]: 'float',
  [WAVE_FORMAT_MULAW]: 'mulaw',
  [WAVE_FORMAT_ALAW]: 'alaw',
};

/** ITU-T G.711 mu-law byte to its 16-bit linear value (-32124 .. 32124). */
export function mulawToLinear(byte: number): number {
  const u = ~byte & 0xff;
  const exponent = (u >> 4) & 7;
  const magnitude = (((u & 0x0f) << 3) + 0x84) << exponent;
  return u & 0x80 ? 0x84 - magnitude : magnitude - 0x84;
}

/** ITU-T G.711 A-law byte to its 16-bit linear value (-32256 .. 32256). */
export function alawToLinear(byte: number): number {
  const a = byte ^ 0x55;
  const exponent = (a >> 4) & 7;
  const mantissa = a & 0x0f;
  const magnitude = exponent === 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1);
  return a & 0x80 ? magnitude : -magnitude;
}

function parseFmt(view: DataView, at: number, sizeBytes: number, file?: string): FmtChunk {
  if (sizeBytes < FMT_PCM_BYTES)
    throw new InputError(`'fmt ' chunk is ${sizeBytes} bytes, expected at least ${FMT_PCM_BYTES}`, { file });
  let tag = view.getUint16(at, true);
  const channels = view.getUint16(at + 2, true);
  const sampleRateHz = view.getUint32(at + 4, true);
  const blockAlignBytes = view.getUint16(at + 12, true);
  const bitsPerSample = view.getUint16(at + 14, true);
  if (tag === WAVE_FORMAT_EXTENSIBLE) {
    if (sizeBytes < FMT_EXTENSIBLE_BYTES)
      throw new InputError(`extensible 'fmt ' chunk is ${sizeBytes} bytes, expected ${FMT_EXTENSIBLE_BYTES}`, { file });
    tag = view.getUint16(at + 24, true); // first two bytes of the sub-format GUID
  }
  const encoding = ENCODINGS[tag];
  if (!encoding)
    throw new InputError(
      `unsupported WAV format tag 0x${tag.toString(16)} (expected integer PCM, IEEE float, mu-law or A-law)`,
      { file },
    );
  const supportedBits = { pcm: [8, 16, 24, 32], float: [32, 64], mulaw: [8], alaw: [8] }[encoding];
  if (!supportedBits.includes(bitsPerSample)) {
    throw new InputError(
      `unsupported ${bitsPerSample}-bit ${encoding} samples (expected ${supportedBits.join(', ')} bits)`,
      { file },
    );
  }
  if (channels < 1) throw new InputError('the file declares 0 channels', { file });
  if (sampleRateHz < 1) throw new InputError('the file declares a sample rate of 0 Hz', { file });
  if (blockAlignBytes !== channels * (bitsPerSample / 8)) {
    throw new InputError(
      `block align is ${blockAlignBytes} bytes, expected ${channels} channels x ${bitsPerSample / 8} bytes`,
      { file },
    );
  }
  return { encoding, channels, sampleRateHz, blockAlignBytes, bitsPerSample };
}

/** One sample at byte `at`, scaled to [-1, 1) (torchaudio's convention for integer formats). */
function sampleReader(view: DataView, fmt: FmtChunk): (at: number) => number {
  if (fmt.encoding === 'float')
    return fmt.bitsPerSample === 32 ? (at) => view.getFloat32(at, true) : (at) => view.getFloat64(at, true);
  if (fmt.encoding === 'mulaw') return (at) => mulawToLinear(view.getUint8(at)) / 32768;
  if (fmt.encoding === 'alaw') return (at) => alawToLinear(view.getUint8(at)) / 32768;
  switch (fmt.bitsPerSample) {
    case 8:
      return (at) => (view.getUint8(at) - 128) / 128;
    case 16:
      return (at) => view.getInt16(at, true) / 32768;
    case 24:
      // Low two bytes unsigned, top byte signed.
      return (at) => (view.getUint16(at, true) + view.getInt8(at + 2) * 65536) / 8388608;
    default:
      return (at) => view.getInt32(at, true) / 2147483648;
  }
}

function decodeSamples(view: DataView, at: number, frames: number, fmt: FmtChunk): Float64Array {
  const read = sampleReader(view, fmt);
  const bytes = fmt.bitsPerSample / 8;
  const out = new Float64Array(frames);
  for (let t = 0; t < frames; t++) {
    let acc = 0;
    for (let c = 0; c < fmt.channels; c++) acc += read(at + t * fmt.blockAlignBytes + c * bytes);
    out[t] = acc / fmt.channels;
  }
  return out;
}

/** Read and decode a WAV file; a missing or unreadable file is an InputError naming it too. */
export async function readWav(path: string): Promise<WavAudio> {
  let buf: Uint8Array;
  try {
    buf = await readFile(path);
  } catch (e) {
    throw new InputError(`cannot read WAV file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, {
      file: path,
    });
  }
  return parseWav(buf, path);
}

/** What `encodeWav` writes: 16-bit integer PCM (what Speech Commands ships) or 32-bit float. */
export type WavOutputFormat = 'pcm16' | 'float32';

/**
 * Encode mono samples in [-1, 1) as a WAV file. For `pcm16`, values are rounded to the nearest step of
 * 1/32768 and clipped to [-32768, 32767], so `parseWav(encodeWav(x))` returns x exactly when x is already on
 * that grid (as every sample read from a 16-bit file is).
 */
export function encodeWav(
  samples: ArrayLike<number>,
  sampleRateHz: number,
  format: WavOutputFormat = 'pcm16',
): Uint8Array {
  if (!Number.isInteger(sampleRateHz) || sampleRateHz < 1)
    throw new RangeError(`sample rate must be a positive integer (Hz), got ${sampleRateHz}`);
  const bytesPerSample = format === 'pcm16' ? 2 : 4;
  const dataBytes = samples.length * bytesPerSample;
  const out = new Uint8Array(RIFF_HEADER_BYTES + CHUNK_HEADER_BYTES + FMT_PCM_BYTES + CHUNK_HEADER_BYTES + dataBytes);
  const view = new DataView(out.buffer);
  const ascii = (at: number, s: string) => [...s].forEach((ch, i) => view.setUint8(at + i, ch.charCodeAt(0)));
  ascii(0, 'RIFF');
  view.setUint32(4, out.byteLength - 8, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, FMT_PCM_BYTES, true);
  view.setUint16(20, format === 'pcm16' ? WAVE_FORMAT_PCM : WAVE_FORMAT_IEEE_FLOAT, true);
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, sampleRateHz, true);
  view.setUint32(28, sampleRateHz * bytesPerSample, true);
  view.setUint16(32, bytesPerSample, true);
  view.setUint16(34, bytesPerSample * 8, true);
  ascii(36, 'data');
  view.setUint32(40, dataBytes, true);
  const at = 44;
  for (let i = 0; i < samples.length; i++) {
    if (format === 'float32') view.setFloat32(at + 4 * i, samples[i], true);
    else view.setInt16(at + 2 * i, Math.max(-32768, Math.min(32767, Math.round(samples[i] * 32768))), true);
  }
  return out;
}

/** Write mono samples as a WAV file, atomically (a temp file renamed into place), so no reader sees half a file. */
export async function writeWav(
  path: string,
  samples: ArrayLike<number>,
  sampleRateHz: number,
  format: WavOutputFormat = 'pcm16',
): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, encodeWav(samples, sampleRateHz, format));
  await rename(tmp, path);
}

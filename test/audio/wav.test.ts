import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { alawToLinear, encodeWav, mulawToLinear, parseWav, readWav, writeWav } from '../../src/audio/wav.js';

/** A WAV file built field by field, so tests can write formats encodeWav does not (8/24-bit, stereo, extensible). */
function rawWav(o: {
  tag?: number;
  channels: number;
  rateHz: number;
  bits: number;
  data: Uint8Array;
  extensibleTag?: number;
  extraChunk?: boolean;
}): Uint8Array {
  const fmtBytes = o.extensibleTag === undefined ? 16 : 40;
  const extra = o.extraChunk ? 8 + 3 + 1 : 0; // a 3-byte LIST chunk plus its pad byte
  const out = new Uint8Array(12 + 8 + fmtBytes + extra + 8 + o.data.length);
  const v = new DataView(out.buffer);
  const ascii = (at: number, s: string) => [...s].forEach((c, i) => v.setUint8(at + i, c.charCodeAt(0)));
  ascii(0, 'RIFF');
  v.setUint32(4, out.length - 8, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  v.setUint32(16, fmtBytes, true);
  v.setUint16(20, o.extensibleTag === undefined ? (o.tag ?? 1) : 0xfffe, true);
  v.setUint16(22, o.channels, true);
  v.setUint32(24, o.rateHz, true);
  v.setUint32(28, o.rateHz * o.channels * (o.bits / 8), true);
  v.setUint16(32, o.channels * (o.bits / 8), true);
  v.setUint16(34, o.bits, true);
  if (o.extensibleTag !== undefined) {
    v.setUint16(36, 22, true); // cbSize
    v.setUint16(38, o.bits, true); // valid bits
    v.setUint32(40, 0, true); // channel mask
    v.setUint16(44, o.extensibleTag, true); // GUID starts with the real format tag
  }
  let at = 20 + fmtBytes;
  if (o.extraChunk) {
    ascii(at, 'LIST');
    v.setUint32(at + 4, 3, true);
    at += 12;
  }
  ascii(at, 'data');
  v.setUint32(at + 4, o.data.length, true);
  out.set(o.data, at + 8);
  return out;
}

describe('WAV round trip', () => {
  it('returns 16-bit samples exactly after encode then parse (values on the 1/32768 grid)', () => {
    const samples = Float64Array.from([0, 1 / 32768, -1, 32767 / 32768, -12345 / 32768, 0.5]);
    const wav = parseWav(encodeWav(samples, 16000));
    expect(wav).toMatchObject({ sampleRateHz: 16000, channels: 1, bitsPerSample: 16, encoding: 'pcm' });
    expect(Array.from(wav.samples)).toEqual(Array.from(samples));
  });

  it('rounds 16-bit values to the nearest step and clips to [-1, 32767/32768]', () => {
    const wav = parseWav(encodeWav([0.3, 1.5, -2], 8000));
    expect(wav.samples[0]).toBe(Math.round(0.3 * 32768) / 32768);
    expect(Array.from(wav.samples.slice(1))).toEqual([32767 / 32768, -1]);
  });

  it('keeps float32 samples to float32 precision', () => {
    const samples = Float64Array.from({ length: 100 }, (_, i) => Math.sin(i / 7) * 0.9);
    const wav = parseWav(encodeWav(samples, 22050, 'float32'));
    expect(wav).toMatchObject({ sampleRateHz: 22050, bitsPerSample: 32, encoding: 'float' });
    wav.samples.forEach((s, i) => expect(s).toBe(Math.fround(samples[i])));
  });

  it('writes a file readWav reads back', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'bmru-wav-'));
    try {
      const file = path.join(dir, 'x.wav');
      await writeWav(file, [0.25, -0.25], 16000);
      expect(Array.from((await readWav(file)).samples)).toEqual([0.25, -0.25]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('WAV formats', () => {
  it('reads 8-bit unsigned PCM with 128 as zero', () => {
    const wav = parseWav(rawWav({ channels: 1, rateHz: 8000, bits: 8, data: Uint8Array.from([128, 255, 0, 192]) }));
    expect(Array.from(wav.samples)).toEqual([0, 127 / 128, -1, 0.5]);
  });

  it('reads 24-bit PCM, sign-extending the top byte', () => {
    const data = Uint8Array.from([0x00, 0x00, 0x40, 0xff, 0xff, 0xff, 0x00, 0x00, 0x80]); // 2^22, -1, -2^23
    expect(Array.from(parseWav(rawWav({ channels: 1, rateHz: 48000, bits: 24, data })).samples)).toEqual([
      0.5,
      -1 / 8388608,
      -1,
    ]);
  });

  it('averages the channels of a stereo file', () => {
    const data = new Uint8Array(8);
    const v = new DataView(data.buffer);
    [16384, -16384, 8192, 8192].forEach((s, i) => v.setInt16(2 * i, s, true)); // (L, R) frames
    const wav = parseWav(rawWav({ channels: 2, rateHz: 16000, bits: 16, data }));
    expect(wav.channels).toBe(2);
    expect(Array.from(wav.samples)).toEqual([0, 0.25]);
  });

  it('reads the extensible format (its sub-format names PCM) and skips unknown chunks', () => {
    const data = new Uint8Array(4);
    new DataView(data.buffer).setInt16(0, -16384, true);
    const wav = parseWav(rawWav({ channels: 1, rateHz: 16000, bits: 16, data, extensibleTag: 1, extraChunk: true }));
    expect(Array.from(wav.samples)).toEqual([-0.5, 0]);
  });

  it('reads 64-bit float', () => {
    const data = new Uint8Array(16);
    new DataView(data.buffer).setFloat64(0, 0.123456789, true);
    expect(parseWav(rawWav({ tag: 3, channels: 1, rateHz: 16000, bits: 64, data })).samples[0]).toBe(0.123456789);
  });
});

describe('WAV errors name the file and what was wrong', () => {
  const file = 'clips/yes/broken.wav';
  const expectError = (buf: Uint8Array, ...parts: string[]) => {
    let error: unknown;
    try {
      parseWav(buf, file);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InputError);
    const message = (error as Error).message;
    expect(message.startsWith(`${file}: `), message).toBe(true);
    for (const p of parts) expect(message).toContain(p);
  };
  const good = encodeWav(new Float64Array(100), 16000);

  it('a file cut short inside the data chunk', () =>
    expectError(good.subarray(0, 100), "'data' chunk declares 200 bytes, only 56 remain", 'truncated'));
  it('a file cut short before the data chunk', () => expectError(good.subarray(0, 36), "no 'data' chunk", 'truncated'));
  it('a file that is not RIFF/WAVE', () =>
    expectError(new TextEncoder().encode('ID3\u0004 this is an mp3'), 'expected a WAV file', '"ID3'));
  it('an empty file', () => expectError(new Uint8Array(0), 'expected a WAV file', '0 bytes'));
  it('a compressed format (ADPCM, tag 2)', () =>
    expectError(
      rawWav({ tag: 2, channels: 1, rateHz: 8000, bits: 4, data: new Uint8Array(4) }),
      'unsupported WAV format tag 0x2',
      'mu-law or A-law',
    ));
  it('mu-law that is not 8-bit', () =>
    expectError(
      rawWav({ tag: 7, channels: 1, rateHz: 8000, bits: 16, data: new Uint8Array(4) }),
      'unsupported 16-bit mulaw samples',
    ));
  it('an unsupported bit depth', () =>
    expectError(
      rawWav({ channels: 1, rateHz: 8000, bits: 12, data: new Uint8Array(4) }),
      'unsupported 12-bit pcm samples',
    ));
  it('data that is not a whole number of frames', () =>
    expectError(
      rawWav({ channels: 1, rateHz: 8000, bits: 16, data: new Uint8Array(3) }),
      'not a whole number of 2-byte frames',
    ));

  let dir: string;
  beforeAll(async () => (dir = await mkdtemp(path.join(os.tmpdir(), 'bmru-wav-'))));
  afterAll(() => rm(dir, { recursive: true, force: true }));
  it('a missing file, and a truncated file on disk (the path in the message)', async () => {
    await expect(readWav(path.join(dir, 'nope.wav'))).rejects.toThrow(
      `${path.join(dir, 'nope.wav')}: cannot read WAV file (ENOENT)`,
    );
    const cut = path.join(dir, 'cut.wav');
    await writeFile(cut, good.subarray(0, 60));
    await expect(readWav(cut)).rejects.toThrow(
      `${cut}: 'data' chunk declares 200 bytes, only 16 remain (truncated file?)`,
    );
  });
});

describe('G.711 (ITU-T G.711 tables)', () => {
  it('mu-law: 0xFF and 0x7F are zero, 0x80 / 0x00 the extremes +-32124, 0xFE / 0x7E the first step +-8', () => {
    expect([mulawToLinear(0xff), mulawToLinear(0x7f)]).toEqual([0, 0]);
    expect([mulawToLinear(0x80), mulawToLinear(0x00)]).toEqual([32124, -32124]);
    // 0xFE: exponent 0, mantissa 1 -> (1 << 3) + 132 - 132 = 8.
    expect([mulawToLinear(0xfe), mulawToLinear(0x7e)]).toEqual([8, -8]);
    // Odd-symmetric: the sign bit alone flips the value.
    for (let b = 0; b < 128; b++) expect(mulawToLinear(b) + mulawToLinear(b | 0x80)).toBe(0);
  });

  it('A-law: 0xD5 / 0x55 the smallest +-8, 0xAA / 0x2A the extremes +-32256; the segments double', () => {
    expect([alawToLinear(0xd5), alawToLinear(0x55)]).toEqual([8, -8]);
    expect([alawToLinear(0xaa), alawToLinear(0x2a)]).toEqual([32256, -32256]);
    // Segment 1 starts where segment 0 ends (+16 steps), then each segment's step doubles.
    const seg = (e: number, m: number) => alawToLinear(((0x80 | (e << 4) | m) ^ 0x55) & 0xff);
    expect([seg(0, 15), seg(1, 0), seg(1, 1), seg(2, 1) - seg(2, 0)]).toEqual([248, 264, 280, 32]);
    for (let b = 0; b < 128; b++) expect(alawToLinear(b) + alawToLinear(b | 0x80)).toBe(0);
  });
});

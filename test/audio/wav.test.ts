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

/** Little-endian bytes of a WAV file assembled from raw chunks (RIFF spec: id, u32 size, body, pad to even). */
function riff(chunks: { id: string; body: Uint8Array; size?: number }[], form = 'WAVE'): Uint8Array {
  const parts = chunks.map(({ id, body, size }) => {
    const out = new Uint8Array(8 + body.length + (body.length % 2));
    const v = new DataView(out.buffer);
    [...id].forEach((c, i) => v.setUint8(i, c.charCodeAt(0)));
    v.setUint32(4, size ?? body.length, true);
    out.set(body, 8);
    return out;
  });
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(12 + total);
  const v = new DataView(out.buffer);
  [...'RIFF'].forEach((c, i) => v.setUint8(i, c.charCodeAt(0)));
  v.setUint32(4, 4 + total, true);
  [...form].forEach((c, i) => v.setUint8(8 + i, c.charCodeAt(0)));
  let at = 12;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A 16-byte PCM `fmt ` body; blockAlign defaults to what the spec says: channels x bits / 8. */
function fmtBody(o: { tag: number; channels: number; rateHz: number; bits: number; blockAlign?: number }): Uint8Array {
  const body = new Uint8Array(16);
  const v = new DataView(body.buffer);
  const align = o.blockAlign ?? (o.channels * o.bits) / 8;
  v.setUint16(0, o.tag, true);
  v.setUint16(2, o.channels, true);
  v.setUint32(4, o.rateHz, true);
  v.setUint32(8, o.rateHz * align, true);
  v.setUint16(12, align, true);
  v.setUint16(14, o.bits, true);
  return body;
}

const PCM16_MONO = { tag: 1, channels: 1, rateHz: 16000, bits: 16 };
const int16s = (...xs: number[]) => {
  const b = new Uint8Array(2 * xs.length);
  xs.forEach((x, i) => new DataView(b.buffer).setInt16(2 * i, x, true));
  return b;
};

describe('WAV chunks and formats (the RIFF WAVE layout, Microsoft mmreg.h tags)', () => {
  it('reads a file of 0 samples: the data chunk header is the last 8 bytes', () => {
    const wav = parseWav(
      riff([
        { id: 'fmt ', body: fmtBody(PCM16_MONO) },
        { id: 'data', body: new Uint8Array(0) },
      ]),
    );
    expect(wav.samples).toHaveLength(0);
  });

  it('reads a streamed data size (0xFFFFFFFF or 0) to the end of the file, dropping a partial frame', () => {
    for (const size of [0xffffffff, 0]) {
      // 3 stereo frames of 4 bytes and 2 stray bytes (an even count: no pad byte)
      const body = new Uint8Array([...int16s(16384, 16384, -8192, -8192, 4096, 4096), 0x12, 0x34]);
      const wav = parseWav(
        riff([
          { id: 'fmt ', body: fmtBody({ ...PCM16_MONO, channels: 2 }) },
          { id: 'data', body, size },
        ]),
      );
      expect(Array.from(wav.samples)).toEqual([0.5, -0.25, 0.125]);
    }
  });

  it('reads 32-bit integer PCM divided by 2^31', () => {
    const body = new Uint8Array(8);
    new DataView(body.buffer).setInt32(0, 0x40000000, true);
    new DataView(body.buffer).setInt32(4, -0x80000000, true);
    const fmt = fmtBody({ tag: 1, channels: 1, rateHz: 8000, bits: 32 });
    expect(
      Array.from(
        parseWav(
          riff([
            { id: 'fmt ', body: fmt },
            { id: 'data', body },
          ]),
        ).samples,
      ),
    ).toEqual([0.5, -1]);
  });

  it('reads G.711 mu-law (tag 7) and A-law (tag 6) bytes as their linear value / 32768', () => {
    const mu = parseWav(
      riff([
        { id: 'fmt ', body: fmtBody({ tag: 7, channels: 1, rateHz: 8000, bits: 8 }) },
        { id: 'data', body: Uint8Array.from([0xff, 0x80, 0xfe]) }, // 0, +32124, +8 (G.711 table)
      ]),
    );
    expect(mu.encoding).toBe('mulaw');
    expect(Array.from(mu.samples)).toEqual([0, 32124 / 32768, 8 / 32768]);
    const a = parseWav(
      riff([
        { id: 'fmt ', body: fmtBody({ tag: 6, channels: 1, rateHz: 8000, bits: 8 }) },
        { id: 'data', body: Uint8Array.from([0xd5, 0x2a]) }, // +8, -32256
      ]),
    );
    expect(a.encoding).toBe('alaw');
    expect(Array.from(a.samples)).toEqual([8 / 32768, -32256 / 32768]);
  });

  it('averages 24-bit stereo frame by frame, each channel 3 bytes after the last', () => {
    // (L, R) = (2^22, 0) then (-2^23, 2^22): 0.5 and 0 average to 0.25, -1 and 0.5 to -0.25.
    const body = Uint8Array.from([0x00, 0x00, 0x40, 0, 0, 0, 0x00, 0x00, 0x80, 0x00, 0x00, 0x40]);
    const fmt = fmtBody({ tag: 1, channels: 2, rateHz: 48000, bits: 24 });
    expect(
      Array.from(
        parseWav(
          riff([
            { id: 'fmt ', body: fmt },
            { id: 'data', body },
          ]),
        ).samples,
      ),
    ).toEqual([0.25, -0.25]);
  });

  it('skips an odd-sized chunk and its pad byte before fmt', () => {
    const wav = parseWav(
      riff([
        { id: 'junk', body: Uint8Array.from([1, 2, 3, 4, 5]) },
        { id: 'fmt ', body: fmtBody(PCM16_MONO) },
        { id: 'data', body: int16s(-16384) },
      ]),
    );
    expect(Array.from(wav.samples)).toEqual([-0.5]);
  });

  it('takes the sample rate and channel count from fmt', () => {
    const wav = parseWav(
      riff([
        { id: 'fmt ', body: fmtBody({ tag: 1, channels: 3, rateHz: 44100, bits: 16 }) },
        { id: 'data', body: int16s(3, 6, 9) },
      ]),
    );
    expect(wav).toMatchObject({ sampleRateHz: 44100, channels: 3, bitsPerSample: 16, encoding: 'pcm' });
    expect(Array.from(wav.samples)).toEqual([6 / 32768]);
  });
});

describe('WAV format errors name what the file declares', () => {
  const message = (buf: Uint8Array): string => {
    try {
      parseWav(buf, 'a.wav');
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      return (e as Error).message;
    }
    throw new Error('parseWav did not throw');
  };

  it('a RIFF file of another form (AVI)', () =>
    expect(message(riff([], 'AVI '))).toBe(
      'a.wav: expected a WAV file (RIFF/WAVE header), the file starts with "RIFF"',
    ));
  it('a file of 4 bytes says what it starts with, of 3 how long it is', () => {
    expect(message(new TextEncoder().encode('RIFF'))).toContain('the file starts with "RIFF"');
    expect(message(new TextEncoder().encode('RIF'))).toContain('the file is 3 bytes long');
  });
  it('a header of exactly 12 bytes and no chunk', () =>
    expect(message(riff([]))).toBe("a.wav: no 'fmt ' chunk (truncated file?)"));
  it('a fmt chunk cut short', () =>
    expect(message(riff([{ id: 'fmt ', body: fmtBody(PCM16_MONO), size: 40 }]))).toBe(
      "a.wav: 'fmt ' chunk declares 40 bytes, only 16 remain (truncated file?)",
    ));
  it('a fmt chunk shorter than 16 bytes', () =>
    expect(message(riff([{ id: 'fmt ', body: fmtBody(PCM16_MONO).subarray(0, 14) }]))).toBe(
      "a.wav: 'fmt ' chunk is 14 bytes, expected at least 16",
    ));
  it('an extensible fmt chunk shorter than 40 bytes', () => {
    const body = new Uint8Array(24);
    body.set(fmtBody(PCM16_MONO));
    new DataView(body.buffer).setUint16(0, 0xfffe, true);
    expect(message(riff([{ id: 'fmt ', body }]))).toBe("a.wav: extensible 'fmt ' chunk is 24 bytes, expected 40");
  });
  it('data before fmt', () =>
    expect(message(riff([{ id: 'data', body: int16s(1) }]))).toBe(
      "a.wav: the 'data' chunk comes before any 'fmt ' chunk",
    ));
  it('0 channels', () =>
    expect(message(riff([{ id: 'fmt ', body: fmtBody({ ...PCM16_MONO, channels: 0 }) }]))).toBe(
      'a.wav: the file declares 0 channels',
    ));
  it('a sample rate of 0', () =>
    expect(message(riff([{ id: 'fmt ', body: fmtBody({ ...PCM16_MONO, rateHz: 0 }) }]))).toBe(
      'a.wav: the file declares a sample rate of 0 Hz',
    ));
  it('a block align that is not channels x bytes per sample', () =>
    expect(message(riff([{ id: 'fmt ', body: fmtBody({ ...PCM16_MONO, channels: 2, blockAlign: 2 }) }]))).toBe(
      'a.wav: block align is 2 bytes, expected 2 channels x 2 bytes',
    ));
  it('an unsupported float width lists the supported ones', () =>
    expect(message(riff([{ id: 'fmt ', body: fmtBody({ tag: 3, channels: 1, rateHz: 8000, bits: 16 }) }]))).toBe(
      'a.wav: unsupported 16-bit float samples (expected 32, 64 bits)',
    ));
  it('an unknown extensible sub-format names the sub-format tag', () => {
    const data = new Uint8Array(4);
    expect(message(rawWav({ channels: 1, rateHz: 8000, bits: 16, data, extensibleTag: 0x55 }))).toBe(
      'a.wav: unsupported WAV format tag 0x55 (expected integer PCM, IEEE float, mu-law or A-law)',
    );
  });
  it('a missing file names the error code', async () => {
    await expect(readWav('/nonexistent/dir/x.wav')).rejects.toThrow(
      '/nonexistent/dir/x.wav: cannot read WAV file (ENOENT)',
    );
  });
});

describe('encodeWav writes the canonical 44-byte header (RIFF WAVE spec)', () => {
  const u32 = (b: Uint8Array, at: number) => new DataView(b.buffer).getUint32(at, true);
  const u16 = (b: Uint8Array, at: number) => new DataView(b.buffer).getUint16(at, true);
  const text = (b: Uint8Array, at: number) => String.fromCharCode(...b.subarray(at, at + 4));

  it('pcm16: tag 1, byte rate = rate x 2, block align 2, 16 bits, RIFF size = 36 + data bytes', () => {
    const b = encodeWav([0, 0.5, -0.5], 16000);
    expect(b.length).toBe(44 + 6);
    expect([text(b, 0), text(b, 8), text(b, 12), text(b, 36)]).toEqual(['RIFF', 'WAVE', 'fmt ', 'data']);
    expect([u32(b, 4), u32(b, 16), u16(b, 20), u16(b, 22), u32(b, 24), u32(b, 28), u16(b, 32), u16(b, 34)]).toEqual([
      42, 16, 1, 1, 16000, 32000, 2, 16,
    ]);
    expect(u32(b, 40)).toBe(6);
    expect([...b.subarray(44)]).toEqual([0x00, 0x00, 0x00, 0x40, 0x00, 0xc0]);
  });

  it('float32: tag 3, byte rate = rate x 4, block align 4, 32 bits', () => {
    const b = encodeWav([0.25], 8000, 'float32');
    expect([u32(b, 4), u16(b, 20), u32(b, 24), u32(b, 28), u16(b, 32), u16(b, 34), u32(b, 40)]).toEqual([
      40, 3, 8000, 32000, 4, 32, 4,
    ]);
    expect(new DataView(b.buffer).getFloat32(44, true)).toBe(0.25);
  });

  it('rejects a sample rate that is not a positive integer', () => {
    expect(() => encodeWav([0], 0)).toThrow('sample rate must be a positive integer (Hz), got 0');
    expect(() => encodeWav([0], 16000.5)).toThrow(RangeError);
    expect(() => encodeWav([0], 1)).not.toThrow();
  });

  it('writeWav leaves no temporary file beside the result', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'bmru-wav-'));
    try {
      await writeWav(path.join(dir, 'y.wav'), [0.5], 8000, 'float32');
      const { readdir } = await import('node:fs/promises');
      expect(await readdir(dir)).toEqual(['y.wav']);
      expect((await readWav(path.join(dir, 'y.wav'))).encoding).toBe('float');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('what the Stryker run left alive (docs/mutation.md)', () => {
  it('refuses a big-endian RIFX file, reads a 1 Hz rate, and reads 24-bit samples little-endian', () => {
    const rifx = riff([
      { id: 'fmt ', body: fmtBody(PCM16_MONO) },
      { id: 'data', body: int16s(1) },
    ]);
    rifx.set([0x52, 0x49, 0x46, 0x58]); // "RIFX"
    expect(() => parseWav(rifx, 'x.wav')).toThrow(
      'x.wav: expected a WAV file (RIFF/WAVE header), the file starts with "RIFX"',
    );
    const slow = parseWav(
      riff([
        { id: 'fmt ', body: fmtBody({ ...PCM16_MONO, rateHz: 1 }) },
        { id: 'data', body: int16s(2) },
      ]),
    );
    expect(slow.sampleRateHz).toBe(1);
    // Bytes 01 02 00: 0x000201 = 513 little-endian (big-endian low half would read 0x0102 = 258).
    const fmt = fmtBody({ tag: 1, channels: 1, rateHz: 8000, bits: 24 });
    const body = Uint8Array.from([0x01, 0x02, 0x00]);
    const wav = parseWav(
      riff([
        { id: 'fmt ', body: fmt },
        { id: 'data', body },
      ]),
    );
    expect(Array.from(wav.samples)).toEqual([513 / 8388608]);
  });
});

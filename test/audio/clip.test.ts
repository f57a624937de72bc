import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLIP_SAMPLES, fitLength, loadClip, resample, type ClipWarning } from '../../src/audio/clip.js';
import { writeWav } from '../../src/audio/wav.js';

const tone = (hz: number, rateHz: number, n: number, amp = 0.5) =>
  Float64Array.from({ length: n }, (_, i) => amp * Math.sin((2 * Math.PI * hz * i) / rateHz));
const rms = (x: Float64Array) => Math.sqrt(x.reduce((a, v) => a + v * v, 0) / x.length);

describe('resample', () => {
  it('carries a 1 kHz tone from 22.05 kHz to 16 kHz to within 1e-3 away from the ends', () => {
    const out = resample(tone(1000, 22050, 22050), 22050, 16000);
    expect(out.length).toBe(16000);
    const want = tone(1000, 16000, 16000);
    for (let i = 200; i < 15800; i++) expect(Math.abs(out[i] - want[i])).toBeLessThan(1e-3);
  });

  it('carries a tone up from 8 kHz to 16 kHz (ceil(n x 2) samples)', () => {
    const out = resample(tone(440, 8000, 801), 8000, 16000);
    expect(out.length).toBe(1602);
    const want = tone(440, 16000, 1602);
    for (let i = 100; i < 1500; i++) expect(Math.abs(out[i] - want[i])).toBeLessThan(1e-3);
  });

  it('removes a tone above the new Nyquist frequency (10 kHz from 44.1 kHz to 16 kHz: below -40 dB)', () => {
    const out = resample(tone(10000, 44100, 44100), 44100, 16000);
    expect(rms(out.subarray(200, 15800)) / rms(tone(10000, 44100, 44100))).toBeLessThan(0.01);
  });

  it('keeps DC at unit gain, and returns a copy when the rates agree', () => {
    const out = resample(new Float64Array(4410).fill(0.25), 44100, 16000);
    expect(out[800]).toBeCloseTo(0.25, 3);
    const x = Float64Array.from([1, 2, 3]);
    const same = resample(x, 16000, 16000);
    expect(Array.from(same)).toEqual([1, 2, 3]);
    expect(same).not.toBe(x);
  });
});

describe('fitLength', () => {
  it('pads a short clip with zeros at the end and cuts a long one at the end', () => {
    expect(Array.from(fitLength(Float64Array.from([1, 2]), 4))).toEqual([1, 2, 0, 0]);
    expect(Array.from(fitLength(Float64Array.from([1, 2, 3, 4, 5]), 4))).toEqual([1, 2, 3, 4]);
  });
});

describe('loadClip', () => {
  it('gives exactly 16000 samples at 16 kHz from a short 16 kHz file and from a long 22.05 kHz one', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'bmru-clip-'));
    try {
      await writeWav(path.join(dir, 'short.wav'), tone(500, 16000, 12000), 16000);
      await writeWav(path.join(dir, 'long.wav'), tone(500, 22050, 30000), 22050);
      const short = await loadClip(path.join(dir, 'short.wav'));
      expect(short.length).toBe(CLIP_SAMPLES);
      expect(short[11999]).not.toBe(0);
      expect(short.subarray(12000).every((v) => v === 0)).toBe(true);
      const long = await loadClip(path.join(dir, 'long.wav'));
      expect(long.length).toBe(CLIP_SAMPLES);
      const want = tone(500, 16000, 16000);
      for (let i = 200; i < 16000; i += 97) expect(Math.abs(long[i] - want[i])).toBeLessThan(2e-3); // 16-bit steps + resampling
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** A mono 8-bit (unsigned) PCM WAV file, written by hand: the toolkit's writer has no 8-bit format. */
function pcm8Wav(samples: Float64Array, rateHz: number): Buffer {
  const b = Buffer.alloc(44 + samples.length);
  b.write('RIFF', 0, 'ascii');
  b.writeUInt32LE(36 + samples.length, 4);
  b.write('WAVEfmt ', 8, 'ascii');
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20); // PCM
  b.writeUInt16LE(1, 22); // mono
  b.writeUInt32LE(rateHz, 24);
  b.writeUInt32LE(rateHz, 28); // bytes per second
  b.writeUInt16LE(1, 32); // block align
  b.writeUInt16LE(8, 34);
  b.write('data', 36, 'ascii');
  b.writeUInt32LE(samples.length, 40);
  samples.forEach((v, i) => b.writeUInt8(Math.max(0, Math.min(255, Math.round(128 + 127 * v))), 44 + i));
  return b;
}

describe('clip warnings', () => {
  it('names a long clip, a low rate, 8-bit samples and digital silence in the first second, and nothing else', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'bmru-clipw-'));
    const heard = async (file: string): Promise<ClipWarning[]> => {
      const out: ClipWarning[] = [];
      await loadClip(path.join(dir, file), (w) => out.push(w));
      return out;
    };
    try {
      await writeWav(path.join(dir, 'ok.wav'), tone(500, 16000, 16000), 16000);
      await writeWav(path.join(dir, 'ok-44k.wav'), tone(500, 44100, 44100), 44100);
      await writeWav(path.join(dir, 'long.wav'), tone(500, 16000, 16001), 16000);
      await writeWav(path.join(dir, 'long-8k.wav'), tone(500, 8000, 8001), 8000);
      await writeFile(path.join(dir, 'byte.wav'), pcm8Wav(tone(500, 16000, 16000), 16000));
      // 1 s of zeros, then a word: silent where the features look, and long.
      const late = new Float64Array(32000);
      late.set(tone(500, 16000, 16000), 16000);
      await writeWav(path.join(dir, 'late.wav'), late, 16000);
      expect(await heard('ok.wav')).toEqual([]);
      expect(await heard('ok-44k.wav')).toEqual([]);
      expect(await heard('long.wav')).toEqual(['long']);
      expect(await heard('long-8k.wav')).toEqual(['long', 'low-rate']);
      expect(await heard('byte.wav')).toEqual(['8-bit']);
      expect(await heard('late.wav')).toEqual(['long', 'silent']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

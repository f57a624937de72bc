import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLIP_SAMPLES, fitLength, loadClip, resample } from '../../src/audio/clip.js';
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

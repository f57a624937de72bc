import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CLIP_SAMPLES,
  CLIP_WARNING_TEXT,
  clipWarnings,
  fitLength,
  loadClip,
  resample,
  type ClipWarning,
} from '../../src/audio/clip.js';
import { writeWav, type WavAudio } from '../../src/audio/wav.js';
import { createRng } from '../../src/util/random.js';

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

/**
 * resample's doc as a formula, summed over every input sample: out[j] = (fc / fIn) sum_i x[i] k((i - j fIn / fOut) fc
 * / fIn), fc = 0.99 min(fIn, fOut), k(u) = sinc(u) cos^2(pi u / 12) for |u| <= 6 and 0 beyond (torchaudio's
 * sinc_interp_hann, 6 zero crossings). No index window and no clamp: samples outside the kernel are skipped by |u|.
 */
function resampleByDefinition(x: Float64Array, fromHz: number, toHz: number): Float64Array {
  const zeroCrossings = 6;
  const cutoffHz = 0.99 * Math.min(fromHz, toHz);
  const out = new Float64Array(Math.ceil((x.length * toHz) / fromHz));
  for (let j = 0; j < out.length; j++) {
    let acc = 0;
    for (let i = 0; i < x.length; i++) {
      const u = ((i - (j * fromHz) / toHz) * cutoffHz) / fromHz;
      if (Math.abs(u) > zeroCrossings) continue;
      const sinc = u === 0 ? 1 : Math.sin(Math.PI * u) / (Math.PI * u);
      acc += x[i] * sinc * Math.cos((Math.PI * u) / (2 * zeroCrossings)) ** 2;
    }
    out[j] = (acc * cutoffHz) / fromHz;
  }
  return out;
}

describe('resample against its definition', () => {
  const noise = (n: number, seed: number) => {
    const rng = createRng(seed);
    return Float64Array.from({ length: n }, () => rng.uniform(-1, 1));
  };

  for (const [fromHz, toHz, n] of [
    [22050, 16000, 300],
    [44100, 16000, 400],
    [8000, 16000, 120],
    [16000, 8000, 200],
    [16000, 11025, 150],
  ] as const) {
    it(`gives the windowed-sinc sum over every input sample, ${fromHz} Hz -> ${toHz} Hz, ends included`, () => {
      const x = noise(n, fromHz + toHz);
      const got = resample(x, fromHz, toHz);
      const want = resampleByDefinition(x, fromHz, toHz);
      expect(got.length).toBe(want.length);
      for (let j = 0; j < want.length; j++) expect(Math.abs(got[j] - want[j]), `sample ${j}`).toBeLessThan(1e-12);
    });
  }

  it('puts an impulse through the kernel: gain fc / fIn at its own instant, 0 at the 6th zero crossing and beyond', () => {
    // 32 kHz -> 16 kHz: fc = 0.99 x 16000 = 15840 Hz, gain 15840 / 32000 = 0.495; output j sits at input 2j, so input
    // 100 is output 50's centre (u = 0) and output 50 + m is u = -2m x 0.495 = -0.99 m away.
    const x = new Float64Array(200);
    x[100] = 1;
    const out = resample(x, 32000, 16000);
    expect(out.length).toBe(100);
    expect(out[50]).toBe(0.495);
    const u = -0.99;
    expect(out[51]).toBeCloseTo(
      0.495 * (Math.sin(Math.PI * u) / (Math.PI * u)) * Math.cos((Math.PI * u) / 12) ** 2,
      15,
    );
    // |u| = 0.99 x 6 = 5.94 <= 6 for m = 6 (inside), 6.93 for m = 7 (outside the kernel: exactly 0).
    expect(Math.abs(out[56])).toBeGreaterThan(0);
    // (Past the kernel the code clamps u to +-6, where sinc x window is ~1e-49, not 0: below any audible level.)
    for (const j of [0, 40, 43, 57, 60, 99]) expect(Math.abs(out[j]), `output ${j}`).toBeLessThan(1e-30);
  });

  it('gives ceil(n x toHz / fromHz) samples', () => {
    // 3 x 16000 / 44100 = 1.09 -> 2; 5 x 16000 / 22050 = 3.63 -> 4; 7 x 16000 / 8000 = 14 exactly.
    expect(resample(new Float64Array(3), 44100, 16000).length).toBe(2);
    expect(resample(new Float64Array(5), 22050, 16000).length).toBe(4);
    expect(resample(new Float64Array(7), 8000, 16000).length).toBe(14);
    expect(resample(new Float64Array(0), 22050, 16000).length).toBe(0);
  });

  it('refuses a rate of 0 Hz, a negative rate or NaN, naming both rates', () => {
    const x = new Float64Array(4);
    expect(() => resample(x, 0, 16000)).toThrow(new RangeError('sample rates must be > 0 Hz, got 0 -> 16000'));
    expect(() => resample(x, 16000, 0)).toThrow(new RangeError('sample rates must be > 0 Hz, got 16000 -> 0'));
    expect(() => resample(x, -8000, 16000)).toThrow(RangeError);
    expect(() => resample(x, 16000, Number.NaN)).toThrow(RangeError);
    expect(() => resample(x, Number.NaN, 16000)).toThrow(RangeError);
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

describe('clipWarnings', () => {
  const wav = (over: Partial<WavAudio>): WavAudio => ({
    sampleRateHz: 16000,
    channels: 1,
    bitsPerSample: 16,
    encoding: 'pcm',
    samples: new Float64Array(16000).fill(0.1),
    ...over,
  });

  it('counts a second at the file own rate: 22050 samples at 22.05 kHz are not long, 22051 are', () => {
    expect(clipWarnings(wav({ sampleRateHz: 22050, samples: new Float64Array(22050).fill(0.1) }))).toEqual([]);
    expect(clipWarnings(wav({ sampleRateHz: 22050, samples: new Float64Array(22051).fill(0.1) }))).toEqual(['long']);
    expect(clipWarnings(wav({ samples: new Float64Array(16001).fill(0.1) }))).toEqual(['long']);
  });

  it('names 8-bit PCM only: 8-bit mu-law and A-law are companded, not 8-bit quantised', () => {
    expect(clipWarnings(wav({ bitsPerSample: 8 }))).toEqual(['8-bit']);
    expect(clipWarnings(wav({ bitsPerSample: 8, encoding: 'mulaw' }))).toEqual([]);
    expect(clipWarnings(wav({ bitsPerSample: 8, encoding: 'alaw' }))).toEqual([]);
    expect(clipWarnings(wav({ bitsPerSample: 24 }))).toEqual([]);
  });

  it('calls a clip silent only when its first second is all zeros: one sample at the end of it is enough', () => {
    const last = new Float64Array(16000);
    last[15999] = 1e-9;
    expect(clipWarnings(wav({ samples: last }))).toEqual([]);
    const after = new Float64Array(16001);
    after[16000] = 0.5;
    expect(clipWarnings(wav({ samples: after }))).toEqual(['long', 'silent']);
    expect(clipWarnings(wav({ sampleRateHz: 8000, samples: new Float64Array(100) }))).toEqual(['low-rate', 'silent']);
  });

  it('has a text for each warning saying what it changes', () => {
    expect(CLIP_WARNING_TEXT.long).toMatch(/longer than 1 s/);
    expect(CLIP_WARNING_TEXT['low-rate']).toMatch(/below 16 kHz/);
    expect(CLIP_WARNING_TEXT['8-bit']).toMatch(/8-bit samples/);
    expect(CLIP_WARNING_TEXT.silent).toMatch(/digital silence/);
  });
});

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

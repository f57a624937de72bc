import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  REFERENCE_MFCC,
  clipFeatures,
  dctIIOrtho,
  frameCount,
  hannWindow,
  hzToMel,
  logMelSpectrogram,
  melFilterbank,
  melToHz,
  mfcc,
  normalisePerFeature,
  powerSpectrogram,
  reflectPad,
} from '../../src/audio/mfcc.js';
import { createRng } from '../../src/util/random.js';
import { REPO_ROOT } from '../helpers.js';

const SR = 16000;
const tone = (hz: number, n = SR, amp = 0.5) =>
  Float64Array.from({ length: n }, (_, i) => amp * Math.sin((2 * Math.PI * hz * i) / SR));
const column = (d: Float64Array, cols: number, c: number) =>
  Array.from({ length: d.length / cols }, (_, r) => d[r * cols + c]);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const std = (xs: number[]) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));

describe('framing', () => {
  it('gives 101 frames of 13 coefficients for 16000 samples (centred STFT, hop 160)', () => {
    expect(frameCount(16000, 160)).toBe(101);
    const c = mfcc(tone(1000));
    expect([c.frames, c.features, c.data.length]).toEqual([101, 13, 101 * 13]);
  });

  it('reflect-pads without repeating the edge sample, as numpy and torch do', () => {
    expect(Array.from(reflectPad(Float64Array.from([1, 2, 3, 4]), 2))).toEqual([3, 2, 1, 2, 3, 4, 3, 2]);
  });

  it('uses the periodic Hann window (torch.hann_window): w[0] = 0, w[N/2] = 1, no second zero', () => {
    const w = hannWindow(512);
    expect(w[0]).toBe(0);
    expect(w[256]).toBeCloseTo(1, 15);
    expect(w[511]).toBeCloseTo(w[1], 15);
  });
});

describe('settings other than the reference pipeline', () => {
  it('makes the symmetric Hann window (N - 1 in the denominator) and a 1-sample one of [1], as numpy.hanning does', () => {
    // n = 0..4 over 4: 0.5 - 0.5 cos(0, pi/2, pi, 3 pi/2, 2 pi) = 0, 0.5, 1, 0.5, 0.
    const w = Array.from(hannWindow(5, false));
    [0, 0.5, 1, 0.5, 0].forEach((v, i) => expect(w[i]).toBeCloseTo(v, 15));
    expect(Array.from(hannWindow(1, false))).toEqual([1]); // numpy.hanning(1) = [1.]; 0/0 otherwise
    // The periodic one of the same length divides by 5: w[1] = 0.5 - 0.5 cos(2 pi / 5) = 0.3454915...
    expect(hannWindow(5)[1]).toBeCloseTo(0.3454915028, 9);
  });

  it('reflect-pads by up to n - 1 samples and refuses n, naming both counts', () => {
    expect(Array.from(reflectPad(Float64Array.from([1, 2, 3]), 2))).toEqual([3, 2, 1, 2, 3, 2, 1]);
    expect(() => reflectPad(Float64Array.from([1, 2, 3]), 3)).toThrow(
      new RangeError('reflect padding of 3 samples needs more than 3 samples, got 3'),
    );
  });

  it('refuses an FFT length that is not a power of two, and a window longer than the FFT', () => {
    const x = new Float64Array(2000);
    expect(() => powerSpectrogram(x, { ...REFERENCE_MFCC, nFft: 500 })).toThrow(
      new RangeError('nFft must be a power of two, got 500'),
    );
    expect(() => powerSpectrogram(x, { ...REFERENCE_MFCC, winSamples: 513 })).toThrow(
      new RangeError('winSamples (513) must be <= nFft (512)'),
    );
  });

  it('centres a window shorter than the FFT in the frame, zero-padded both sides (torch.stft)', () => {
    // A unit impulse at sample s lands at index s + 256 - 160 t of frame t (256 samples of reflect padding);
    // a single non-zero value v gives |X[k]|^2 = v^2 in every bin, v being the window there. The 256-sample
    // window sits at indices 128..383 of the 512-sample frame.
    const opts = { ...REFERENCE_MFCC, winSamples: 256 };
    const x = new Float64Array(SR);
    x[8040] = 1;
    const p = powerSpectrogram(x, opts);
    const frameBins = (t: number) => Array.from(p.data.subarray(t * 257, (t + 1) * 257));
    // Frame 50: index 296, window sample 296 - 128 = 168 of 256.
    const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * 168) / 256);
    frameBins(50).forEach((v) => expect(v).toBeCloseTo(w * w, 12));
    // Frame 49: index 456, past the window's end (383); frame 51: index 136, window sample 8.
    frameBins(49).forEach((v) => expect(v).toBe(0));
    const w51 = 0.5 - 0.5 * Math.cos((2 * Math.PI * (136 - 128)) / 256);
    frameBins(51).forEach((v) => expect(v).toBeCloseTo(w51 * w51, 12));
  });
});

describe('power spectrogram', () => {
  it('puts a tone on its bin in every frame clear of the padding (1000 Hz = bin 32 at 31.25 Hz per bin)', () => {
    const p = powerSpectrogram(tone(1000));
    expect([p.rows, p.cols]).toEqual([101, 257]);
    // Frames 2..98 lie wholly inside the clip; the edge frames see the reflection, a phase-flipped copy.
    for (let t = 2; t <= 98; t++) {
      const row = Array.from(p.data.subarray(t * p.cols, (t + 1) * p.cols));
      expect(row.indexOf(Math.max(...row))).toBe(32);
    }
  });

  it('gives a mid-clip frame of an on-bin tone the power of its windowed DFT: (A N / 4)^2 for a periodic Hann', () => {
    // Hann's DFT has coherent gain N/2 at the centre bin, so a sine of amplitude A gives |X| = A/2 x N/2.
    const p = powerSpectrogram(tone(1000, SR, 1));
    expect(p.data[50 * 257 + 32]).toBeCloseTo(((1 * 512) / 4) ** 2, 3);
  });
});

describe('mel filterbank (HTK scale, no area normalisation)', () => {
  const fb = melFilterbank(257, 0, 8000, 40, SR);
  const bins = (m: number) => Array.from(fb.data.subarray(m * fb.cols, (m + 1) * fb.cols));

  it('inverts the HTK mel scale (1000 Hz is 1000 mel)', () => {
    expect(hzToMel(1000)).toBeCloseTo(1000, 0);
    expect(melToHz(hzToMel(3456))).toBeCloseTo(3456, 9);
  });

  it('has centres strictly increasing and equally spaced in mel from 0 to 8000 Hz', () => {
    expect(fb.edgesHz[0]).toBe(0);
    expect(fb.edgesHz[41]).toBeCloseTo(8000, 9);
    const mels = Array.from(fb.centresHz, hzToMel);
    mels.slice(1).forEach((m, i) => expect(m - mels[i]).toBeCloseTo(hzToMel(8000) / 41, 9));
  });

  it('makes each filter a triangle peaking at 1 at its centre: rising then falling, at most 1, zero outside its edges', () => {
    for (let m = 0; m < 40; m++) {
      const w = bins(m);
      const peak = w.indexOf(Math.max(...w));
      w.forEach((v, k) => {
        const f = k * 31.25;
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
        if (f <= fb.edgesHz[m] || f >= fb.edgesHz[m + 2]) expect(v).toBe(0);
        if (k > 0 && k <= peak) expect(v).toBeGreaterThanOrEqual(w[k - 1]);
        if (k > peak) expect(v).toBeLessThanOrEqual(w[k - 1]);
      });
      // The triangle's value on the bin grid is 1 - distance to the centre over the half width.
      const k = peak;
      const halfWidth =
        k * 31.25 <= fb.centresHz[m] ? fb.centresHz[m] - fb.edgesHz[m] : fb.edgesHz[m + 2] - fb.centresHz[m];
      expect(w[k]).toBeCloseTo(1 - Math.abs(k * 31.25 - fb.centresHz[m]) / halfWidth, 12);
    }
    // A filter whose centre falls on a bin peaks at exactly 1 there: one filter from 500 to 1500 Hz has its
    // centre at mel(1000 Hz) halfway, near but not on bin 32; put the edges so the centre is 1000 Hz exactly.
    const one = melFilterbank(257, melToHz(hzToMel(1000) - 100), melToHz(hzToMel(1000) + 100), 1, SR);
    expect(one.centresHz[0]).toBeCloseTo(1000, 9);
    expect(one.data[32]).toBeCloseTo(1, 9);
  });

  it('gives every one of the 40 filters at least two non-zero bins at n_fft 512 (why 40 and not 128)', () => {
    for (let m = 0; m < 40; m++) expect(bins(m).filter((v) => v > 0).length).toBeGreaterThanOrEqual(2);
    const dense = melFilterbank(257, 0, 8000, 128, SR);
    const empty = Array.from({ length: 128 }, (_, m) =>
      dense.data.subarray(m * 257, (m + 1) * 257).every((v) => v === 0),
    ).filter(Boolean);
    expect(empty.length).toBeGreaterThan(0);
  });
});

describe('DCT-II, orthonormal', () => {
  it('maps a constant vector c of length N to [c sqrt(N), 0, 0, ...]', () => {
    const d = dctIIOrtho(13, 40);
    for (let k = 0; k < 13; k++) {
      let acc = 0;
      for (let n = 0; n < 40; n++) acc += d.data[k * 40 + n] * 3;
      expect(acc).toBeCloseTo(k === 0 ? 3 * Math.sqrt(40) : 0, 12);
    }
  });

  it('has orthonormal rows', () => {
    const d = dctIIOrtho(40, 40);
    for (let i = 0; i < 40; i++) {
      for (let j = 0; j < 40; j++) {
        let dot = 0;
        for (let n = 0; n < 40; n++) dot += d.data[i * 40 + n] * d.data[j * 40 + n];
        expect(dot).toBeCloseTo(i === j ? 1 : 0, 12);
      }
    }
  });
});

describe('MFCC values', () => {
  it('matches the straightforward computation (O(n^2) DFT, filter and DCT sums) on a tiny case', () => {
    // 64 samples, n_fft 32, hop 16, 8 filters, 4 coefficients: every step written out by its definition.
    const opts = { ...REFERENCE_MFCC, nFft: 32, winSamples: 32, hopSamples: 16, nMels: 8, nMfcc: 4 };
    const rng = createRng(7);
    const x = Float64Array.from({ length: 64 }, () => rng.uniform(-0.5, 0.5));
    const padded = [
      ...[16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1].map((i) => x[i]),
      ...x,
      ...Array.from({ length: 16 }, (_, i) => x[62 - i]),
    ];
    const frames = 1 + Math.floor(64 / 16);
    const hz = (k: number) => (k * 8000) / 16;
    const mel = (f: number) => 2595 * Math.log10(1 + f / 700);
    const edges = Array.from({ length: 10 }, (_, i) => 700 * (10 ** ((mel(8000) * i) / 9 / 2595) - 1));
    const logMel: number[][] = [];
    for (let t = 0; t < frames; t++) {
      const power = Array.from({ length: 17 }, (_, k) => {
        let re = 0;
        let im = 0;
        for (let n = 0; n < 32; n++) {
          const v = padded[t * 16 + n] * (0.5 - 0.5 * Math.cos((2 * Math.PI * n) / 32));
          re += v * Math.cos((2 * Math.PI * k * n) / 32);
          im -= v * Math.sin((2 * Math.PI * k * n) / 32);
        }
        return re * re + im * im;
      });
      logMel.push(
        Array.from({ length: 8 }, (_, m) => {
          let e = 0;
          for (let k = 0; k < 17; k++) {
            const w = Math.max(
              0,
              Math.min(
                (hz(k) - edges[m]) / (edges[m + 1] - edges[m]),
                (edges[m + 2] - hz(k)) / (edges[m + 2] - edges[m + 1]),
              ),
            );
            e += w * power[k];
          }
          return 10 * Math.log10(Math.max(e, 1e-10));
        }),
      );
    }
    const top = Math.max(...logMel.flat());
    const want = logMel.map((row) =>
      Array.from(
        { length: 4 },
        (_, k) =>
          row.reduce((acc, v, n) => acc + Math.max(v, top - 80) * Math.cos((Math.PI * (n + 0.5) * k) / 8), 0) *
          Math.sqrt(2 / 8) *
          (k === 0 ? Math.SQRT1_2 : 1),
      ),
    );
    const got = mfcc(x, opts);
    expect([got.frames, got.features]).toEqual([5, 4]);
    want.flat().forEach((v, i) => expect(got.data[i]).toBeCloseTo(v, 9));
  });

  it('matches an independent numpy/scipy implementation of the reference pipeline (fixture) to 1e-6', () => {
    const ref = JSON.parse(
      readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'audio', 'mfcc-reference.json'), 'utf8'),
    );
    const x = Float64Array.from({ length: SR }, (_, n) => {
      const t = n / SR;
      return n >= 12800
        ? 0
        : 0.3 * Math.sin(2 * Math.PI * 440 * t) + 0.2 * Math.sin(2 * Math.PI * (300 * t + 2000 * t * t));
    });
    const raw = mfcc(x);
    expect([raw.frames, raw.features]).toEqual([ref.frames, ref.features]);
    ref.mfcc.forEach((v: number, i: number) =>
      expect(Math.abs(raw.data[i] - v)).toBeLessThan(1e-6 * Math.max(1, Math.abs(v))),
    );
    const norm = clipFeatures(x);
    ref.normalised.forEach((v: number, i: number) => expect(Math.abs(norm.data[i] - v)).toBeLessThan(1e-6));
  });

  it('gives a low tone a positive c1 and a high tone a negative c1 (c1 weighs low filters +, high filters -)', () => {
    const c1 = (hz: number) => mean(column(mfcc(tone(hz)).data, 13, 1));
    expect(c1(300)).toBeGreaterThan(0);
    expect(c1(5000)).toBeLessThan(0);
  });

  it('floors silence at the top_db limit: an all-zero clip has every log-mel value at 10 log10(1e-10) = -100 dB', () => {
    const lm = logMelSpectrogram(new Float64Array(SR));
    expect(lm.data.every((v) => v === -100)).toBe(true);
    expect(mfcc(new Float64Array(SR)).data[0]).toBeCloseTo(-100 * Math.sqrt(40), 9); // c0 of a constant
  });

  it('keeps the dynamic range within 80 dB of the clip maximum', () => {
    const x = tone(1000);
    x.fill(0, 8000); // half tone, half digital silence
    const lm = logMelSpectrogram(x).data;
    const max = Math.max(...lm);
    expect(Math.min(...lm)).toBeCloseTo(max - 80, 9);
  });
});

describe('per-clip normalisation', () => {
  it('gives every coefficient of a speech-like clip mean 0 and standard deviation 1 over its 101 frames', () => {
    const rng = createRng(3);
    const x = Float64Array.from(
      { length: SR },
      (_, n) => (n > 4000 && n < 9000 ? 0.3 * Math.sin(n / 5) * Math.sin(n / 300) : 0) + 0.001 * rng.normal(),
    );
    const f = clipFeatures(x);
    expect([f.frames, f.features]).toEqual([101, 13]);
    for (let c = 0; c < 13; c++) {
      expect(mean(column(f.data, 13, c))).toBeCloseTo(0, 12);
      expect(std(column(f.data, 13, c))).toBeCloseTo(1, 4);
    }
  });

  it('maps a constant coefficient to 0 rather than dividing by zero', () => {
    const f = normalisePerFeature({ frames: 3, features: 2, data: Float64Array.from([5, 1, 5, 2, 5, 3]) });
    expect(Array.from(column(f.data, 2, 0))).toEqual([0, 0, 0]);
  });

  it('pads a short clip to 1 s before computing features', () => {
    expect(clipFeatures(tone(700, 9000)).frames).toBe(101);
  });
});

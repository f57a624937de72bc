import { describe, expect, it } from 'vitest';
import { fftInPlace, isPowerOfTwo, powerSpectrum } from '../../src/audio/fft.js';
import { createRng } from '../../src/util/random.js';

/** The DFT by its definition, O(n^2): the reference the fast path must match. */
function dft(re: Float64Array, im: Float64Array): [Float64Array, Float64Array] {
  const n = re.length;
  const outRe = new Float64Array(n);
  const outIm = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    for (let t = 0; t < n; t++) {
      const a = (-2 * Math.PI * k * t) / n;
      outRe[k] += re[t] * Math.cos(a) - im[t] * Math.sin(a);
      outIm[k] += re[t] * Math.sin(a) + im[t] * Math.cos(a);
    }
  }
  return [outRe, outIm];
}

describe('fftInPlace', () => {
  it.each([1, 2, 8, 64, 512])('matches the O(n^2) DFT of random complex data (n = %i)', (n) => {
    const rng = createRng(n);
    const re = Float64Array.from({ length: n }, () => rng.normal());
    const im = Float64Array.from({ length: n }, () => rng.normal());
    const [wantRe, wantIm] = dft(re, im);
    fftInPlace(re, im);
    for (let k = 0; k < n; k++) {
      expect(re[k]).toBeCloseTo(wantRe[k], 9);
      expect(im[k]).toBeCloseTo(wantIm[k], 9);
    }
  });

  it('refuses a size that is not a power of two', () => {
    expect(() => fftInPlace(new Float64Array(12), new Float64Array(12))).toThrow('power of two');
  });

  it('refuses imaginary parts of another length than the real parts', () => {
    expect(() => fftInPlace(new Float64Array(8), new Float64Array(4))).toThrow(/got 8 and 4/);
    expect(() => fftInPlace(new Float64Array(0), new Float64Array(0))).toThrow(RangeError);
  });
});

describe('powerSpectrum', () => {
  it('puts a cosine on bin k0 with power (n/2)^2 and nothing elsewhere', () => {
    const n = 512;
    const k0 = 37; // 37 x 31.25 Hz = 1156.25 Hz at 16 kHz
    const frame = Float64Array.from({ length: n }, (_, t) => Math.cos((2 * Math.PI * k0 * t) / n));
    const p = powerSpectrum(frame);
    expect(p.length).toBe(257);
    expect(p[k0]).toBeCloseTo((n / 2) ** 2, 6);
    p.forEach((v, k) => k !== k0 && expect(v).toBeLessThan(1e-12));
  });

  it('puts a constant on bin 0 with power n^2', () => {
    const p = powerSpectrum(new Float64Array(64).fill(0.5));
    expect(p[0]).toBeCloseTo(32 ** 2, 9);
  });
});

describe('isPowerOfTwo', () => {
  it('holds for 1, 2, 4, ..., 2^30 and for nothing else', () => {
    for (let e = 0; e <= 30; e++) expect(isPowerOfTwo(2 ** e), String(2 ** e)).toBe(true);
    for (const n of [0, -2, 3, 6, 12, 0.5, 2.5, NaN, 2 ** 20 + 1]) expect(isPowerOfTwo(n), String(n)).toBe(false);
  });
});

describe('powerSpectrum at Nyquist', () => {
  it('keeps bin n/2: an alternating +1/-1 frame has power n^2 there and none elsewhere', () => {
    const n = 16;
    const p = powerSpectrum(Float64Array.from({ length: n }, (_, t) => (t % 2 === 0 ? 1 : -1)));
    expect(p.length).toBe(n / 2 + 1);
    expect(p[n / 2]).toBeCloseTo(n ** 2, 9);
    for (let k = 0; k < n / 2; k++) expect(p[k]).toBeLessThan(1e-20);
  });
});

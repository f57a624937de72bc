/**
 * Radix-2 FFT. The MFCC front end needs one size (512) about a hundred times per clip, so a plain iterative
 * Cooley-Tukey with cached tables is fast enough (~10 us per transform); the test suite checks it against the
 * O(n^2) DFT.
 */

interface FftTables {
  /** Bit-reversed index of each position. */
  readonly reversed: Uint32Array;
  /** cos(2 pi k / n) and sin(2 pi k / n) for k < n / 2. */
  readonly cos: Float64Array;
  readonly sin: Float64Array;
}

const tablesBySize = new Map<number, FftTables>();

function tables(n: number): FftTables {
  let t = tablesBySize.get(n);
  if (t) return t;
  const bits = Math.log2(n);
  const reversed = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    let r = 0;
    for (let b = 0; b < bits; b++) r |= ((i >>> b) & 1) << (bits - 1 - b);
    reversed[i] = r;
  }
  const cos = new Float64Array(n / 2);
  const sin = new Float64Array(n / 2);
  for (let k = 0; k < n / 2; k++) {
    cos[k] = Math.cos((2 * Math.PI * k) / n);
    sin[k] = Math.sin((2 * Math.PI * k) / n);
  }
  t = { reversed, cos, sin };
  tablesBySize.set(n, t);
  return t;
}

/** True for 1, 2, 4, 8, ... */
export const isPowerOfTwo = (n: number): boolean => Number.isInteger(n) && n >= 1 && (n & (n - 1)) === 0;

/**
 * In-place forward DFT of the complex sequence (re, im), X[k] = sum_n x[n] exp(-2 pi i k n / N), with
 * N = re.length a power of two (no 1/N scaling, numpy's and torch's convention).
 */
export function fftInPlace(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  if (!isPowerOfTwo(n) || im.length !== n)
    throw new RangeError(`FFT size must be a power of two with re and im alike, got ${n} and ${im.length}`);
  const { reversed, cos, sin } = tables(n);
  for (let i = 0; i < n; i++) {
    const j = reversed[i];
    if (j > i) {
      const r = re[i];
      re[i] = re[j];
      re[j] = r;
      const m = im[i];
      im[i] = im[j];
      im[j] = m;
    }
  }
  for (let size = 2; size <= n; size *= 2) {
    const half = size / 2;
    const step = n / size; // stride through the twiddle table
    for (let start = 0; start < n; start += size) {
      for (let k = 0; k < half; k++) {
        const wr = cos[k * step];
        const wi = -sin[k * step];
        const a = start + k;
        const b = a + half;
        const tr = re[b] * wr - im[b] * wi;
        const ti = re[b] * wi + im[b] * wr;
        re[b] = re[a] - tr;
        im[b] = im[a] - ti;
        re[a] += tr;
        im[a] += ti;
      }
    }
  }
}

/**
 * |X[k]|^2 for k = 0..n/2 of a real frame of n samples (n a power of two): the one-sided power spectrum
 * without scaling, torch.stft(...).abs() ** 2.
 */
export function powerSpectrum(frame: Float64Array): Float64Array {
  const n = frame.length;
  const re = Float64Array.from(frame);
  const im = new Float64Array(n);
  fftInPlace(re, im);
  const out = new Float64Array(n / 2 + 1);
  for (let k = 0; k <= n / 2; k++) out[k] = re[k] * re[k] + im[k] * im[k];
  return out;
}

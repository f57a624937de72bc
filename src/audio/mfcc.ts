/**
 * MFCC features of the reference keyword-spotting pipeline, computed exactly as
 *
 *   torchaudio.transforms.MFCC(sample_rate=16000, n_mfcc=13,
 *                              melkwargs={"n_fft": 512, "hop_length": 160, "n_mels": 40})
 *
 * computes them with torchaudio's defaults for everything not named (torchaudio 0.10 to 2.x):
 *   1. STFT, center=True: the clip is reflect-padded by n_fft/2 = 256 samples each side, so 16000 samples give
 *      1 + 16000 / 160 = 101 frames, frame t centred on sample 160 t (every 10 ms);
 *   2. window: periodic Hann of win_length = n_fft = 512 samples (32 ms; torchaudio's default win_length);
 *   3. power spectrum |X[k]|^2, k = 0..256 (bin spacing 31.25 Hz), no normalisation;
 *   4. 40 triangular mel filters on the HTK mel scale (mel = 2595 log10(1 + f / 700)), 0 to 8000 Hz, each
 *      filter's peak 1 (norm=None: no Slaney area normalisation), edges at 42 points equally spaced in mel;
 *   5. dB: 10 log10(max(p, 1e-10)), then every value floored at the clip's maximum minus 80 dB (top_db=80,
 *      the floor taken over all frames and filters of the clip);
 *   6. DCT-II with orthonormal scaling over the 40 log-mel values, the first 13 coefficients (c0..c12).
 * Then, per clip, each coefficient is normalised over its 101 frames: (c - mean) / (std + 1e-5), with the
 * population standard deviation (divide by 101), so every coefficient has mean 0 and standard deviation 1.
 *
 * Why 40 filters: torchaudio's default (128) leaves the lowest filters with no FFT bin inside them at
 * n_fft = 512 (torchaudio warns about all-zero filters); 40 is the usual keyword-spotting choice (the default
 * filterbank_channel_count of TensorFlow's Mfcc op, which its Speech Commands example uses), and every one of
 * its filters covers at least two bins.
 * Input samples are floats in [-1, 1) (16-bit PCM / 32768, as torchaudio.load returns them); scale changes only
 * shift the dB values, which the per-clip normalisation removes (except where the 1e-10 floor bites).
 */
import type { InputSequence } from '../model/network.js';
import { CLIP_SAMPLES, KWS_SAMPLE_RATE_HZ, fitLength } from './clip.js';
import { isPowerOfTwo, powerSpectrum } from './fft.js';

/** Every setting of the MFCC front end; `REFERENCE_MFCC` holds the reference pipeline's values. */
export interface MfccOptions {
  readonly sampleRateHz: number;
  /** FFT length (samples); the spectrum has nFft / 2 + 1 bins. */
  readonly nFft: number;
  /** Hann window length (samples), <= nFft; a shorter window is zero-padded to nFft, centred (torch.stft). */
  readonly winSamples: number;
  /** Samples between frame centres. */
  readonly hopSamples: number;
  readonly nMels: number;
  /** Coefficients kept, c0 first. */
  readonly nMfcc: number;
  readonly fMinHz: number;
  readonly fMaxHz: number;
  /** Dynamic range kept below the clip's loudest mel value (dB); torchaudio MFCC's fixed 80. */
  readonly topDb: number;
  /** Floor on power before the log (torchaudio AmplitudeToDB's amin). */
  readonly aminPower: number;
}

/** The reference pipeline (see the file comment for where each value comes from). */
export const REFERENCE_MFCC: MfccOptions = Object.freeze({
  sampleRateHz: KWS_SAMPLE_RATE_HZ,
  nFft: 512,
  winSamples: 512,
  hopSamples: 160,
  nMels: 40,
  nMfcc: 13,
  fMinHz: 0,
  fMaxHz: KWS_SAMPLE_RATE_HZ / 2,
  topDb: 80,
  aminPower: 1e-10,
});

/** Added to each coefficient's standard deviation before dividing, so a constant coefficient maps to 0. */
export const NORMALISE_EPS = 1e-5;

/** Frames of a centred STFT: 1 + floor(n / hop), 101 for a 16000-sample clip at hop 160. */
export const frameCount = (nSamples: number, hopSamples: number): number => 1 + Math.floor(nSamples / hopSamples);

/** Hann window, periodic (torch.hann_window's default: w[n] = 0.5 - 0.5 cos(2 pi n / N)) or symmetric (N - 1). */
export function hannWindow(length: number, periodic = true): Float64Array {
  const denom = periodic ? length : length - 1;
  return Float64Array.from({ length }, (_, n) => (denom === 0 ? 1 : 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / denom)));
}

/** numpy/torch 'reflect' padding: the edge sample is not repeated ([a b c] padded by 2 is [c b a b c b a]). */
export function reflectPad(samples: Float64Array, pad: number): Float64Array {
  const n = samples.length;
  if (pad >= n) throw new RangeError(`reflect padding of ${pad} samples needs more than ${pad} samples, got ${n}`);
  const out = new Float64Array(n + 2 * pad);
  out.set(samples, pad);
  for (let i = 1; i <= pad; i++) {
    out[pad - i] = samples[i];
    out[pad + n - 1 + i] = samples[n - 1 - i];
  }
  return out;
}

/** A row-major matrix of float64 values. */
export interface Matrix2 {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
}

/** Centred STFT power: [frames x (nFft / 2 + 1)], frame t = window x padded[t hop .. t hop + nFft). */
export function powerSpectrogram(samples: Float64Array, opts: MfccOptions = REFERENCE_MFCC): Matrix2 {
  const { nFft, winSamples, hopSamples } = opts;
  if (!isPowerOfTwo(nFft)) throw new RangeError(`nFft must be a power of two, got ${nFft}`);
  if (winSamples > nFft) throw new RangeError(`winSamples (${winSamples}) must be <= nFft (${nFft})`);
  const padded = reflectPad(samples, nFft / 2);
  const window = new Float64Array(nFft);
  window.set(hannWindow(winSamples), Math.floor((nFft - winSamples) / 2));
  const frames = frameCount(samples.length, hopSamples);
  const bins = nFft / 2 + 1;
  const data = new Float64Array(frames * bins);
  const frame = new Float64Array(nFft);
  for (let t = 0; t < frames; t++) {
    for (let i = 0; i < nFft; i++) frame[i] = padded[t * hopSamples + i] * window[i];
    data.set(powerSpectrum(frame), t * bins);
  }
  return { rows: frames, cols: bins, data };
}

/** HTK mel scale: 2595 log10(1 + f / 700). */
export const hzToMel = (hz: number): number => 2595 * Math.log10(1 + hz / 700);
export const melToHz = (mel: number): number => 700 * (10 ** (mel / 2595) - 1);

/** A mel filterbank: `weights` is [nMels x nFreqs]; filter m rises from edge m to `centresHz[m]`, falls to m + 2. */
export interface MelFilterbank extends Matrix2 {
  /** nMels + 2 edge frequencies (Hz), equally spaced in mel. */
  readonly edgesHz: Float64Array;
  readonly centresHz: Float64Array;
}

/**
 * Triangular filters as torchaudio's `melscale_fbanks(norm=None, mel_scale="htk")`: bin k sits at
 * k x (sampleRate / 2) / (nFreqs - 1) Hz, and filter m's weight there is max(0, min(rise, fall)), the triangle
 * through (edge m, 0), (edge m+1, 1), (edge m+2, 0). A filter's peak on the bin grid is 1 only when a bin
 * falls on its centre.
 */
export function melFilterbank(
  nFreqs: number,
  fMinHz: number,
  fMaxHz: number,
  nMels: number,
  sampleRateHz: number,
): MelFilterbank {
  const melMin = hzToMel(fMinHz);
  const melMax = hzToMel(fMaxHz);
  const edgesHz = Float64Array.from({ length: nMels + 2 }, (_, i) =>
    melToHz(melMin + ((melMax - melMin) * i) / (nMels + 1)),
  );
  const data = new Float64Array(nMels * nFreqs);
  for (let m = 0; m < nMels; m++) {
    const [lo, mid, hi] = [edgesHz[m], edgesHz[m + 1], edgesHz[m + 2]];
    for (let k = 0; k < nFreqs; k++) {
      const f = (k * (sampleRateHz / 2)) / (nFreqs - 1);
      data[m * nFreqs + k] = Math.max(0, Math.min((f - lo) / (mid - lo), (hi - f) / (hi - mid)));
    }
  }
  return { rows: nMels, cols: nFreqs, data, edgesHz, centresHz: edgesHz.slice(1, nMels + 1) };
}

/**
 * DCT-II with orthonormal scaling as [nOut x nIn] (torchaudio `create_dct(norm="ortho")`, scipy
 * `dct(type=2, norm="ortho")`): D[k][n] = sqrt(2 / nIn) cos(pi (n + 1/2) k / nIn), row 0 times 1 / sqrt(2).
 */
export function dctIIOrtho(nOut: number, nIn: number): Matrix2 {
  const data = new Float64Array(nOut * nIn);
  for (let k = 0; k < nOut; k++) {
    const scale = Math.sqrt(2 / nIn) * (k === 0 ? Math.SQRT1_2 : 1);
    for (let n = 0; n < nIn; n++) data[k * nIn + n] = scale * Math.cos((Math.PI * (n + 0.5) * k) / nIn);
  }
  return { rows: nOut, cols: nIn, data };
}

/** C = A B^T for row-major A [r x n] and B [c x n]: applies filters or DCT rows to every frame. Skips B's zeros
 *  at the ends of each row (a mel filter is non-zero over a few bins only). */
function timesTransposed(a: Matrix2, b: Matrix2): Matrix2 {
  const data = new Float64Array(a.rows * b.rows);
  for (let j = 0; j < b.rows; j++) {
    const row = b.data.subarray(j * b.cols, (j + 1) * b.cols);
    let lo = 0;
    let hi = b.cols;
    while (lo < hi && row[lo] === 0) lo++;
    while (hi > lo && row[hi - 1] === 0) hi--;
    for (let i = 0; i < a.rows; i++) {
      let acc = 0;
      for (let k = lo; k < hi; k++) acc += a.data[i * a.cols + k] * row[k];
      data[i * b.rows + j] = acc;
    }
  }
  return { rows: a.rows, cols: b.rows, data };
}

/** Power to dB in place, torchaudio `AmplitudeToDB("power", top_db)`: 10 log10(max(p, amin)), floored at max - topDb. */
export function powerToDbInPlace(values: Float64Array, aminPower: number, topDb: number): void {
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    values[i] = 10 * Math.log10(Math.max(values[i], aminPower));
    if (values[i] > max) max = values[i];
  }
  const floor = max - topDb;
  for (let i = 0; i < values.length; i++) if (values[i] < floor) values[i] = floor;
}

/** Filterbanks and DCT matrices are built once per settings object. */
const cache = new WeakMap<MfccOptions, { fb: MelFilterbank; dct: Matrix2 }>();

function frontEnd(opts: MfccOptions) {
  let fe = cache.get(opts);
  if (!fe) {
    fe = {
      fb: melFilterbank(opts.nFft / 2 + 1, opts.fMinHz, opts.fMaxHz, opts.nMels, opts.sampleRateHz),
      dct: dctIIOrtho(opts.nMfcc, opts.nMels),
    };
    cache.set(opts, fe);
  }
  return fe;
}

/** Log-mel spectrogram in dB: [frames x nMels] (steps 1-5 of the file comment). */
export function logMelSpectrogram(samples: Float64Array, opts: MfccOptions = REFERENCE_MFCC): Matrix2 {
  const mel = timesTransposed(powerSpectrogram(samples, opts), frontEnd(opts).fb);
  powerToDbInPlace(mel.data, opts.aminPower, opts.topDb);
  return mel;
}

/**
 * Raw (not normalised) MFCCs of any number of samples: [frames x nMfcc], frames = 1 + floor(n / hop).
 *
 * @example mfcc(new Float64Array(16000)).frames // 101
 */
export function mfcc(samples: Float64Array, opts: MfccOptions = REFERENCE_MFCC): InputSequence {
  const c = timesTransposed(logMelSpectrogram(samples, opts), frontEnd(opts).dct);
  return { frames: c.rows, features: c.cols, data: c.data };
}

/** Each feature (column) to mean 0 and standard deviation 1 over the frames: (x - mean) / (population std + eps). */
export function normalisePerFeature(seq: InputSequence, eps: number = NORMALISE_EPS): InputSequence {
  const { frames, features } = seq;
  const data = new Float64Array(seq.data.length);
  for (let f = 0; f < features; f++) {
    let mean = 0;
    for (let t = 0; t < frames; t++) mean += seq.data[t * features + f];
    mean /= frames;
    let sumSq = 0;
    for (let t = 0; t < frames; t++) sumSq += (seq.data[t * features + f] - mean) ** 2;
    const scale = 1 / (Math.sqrt(sumSq / frames) + eps);
    for (let t = 0; t < frames; t++) data[t * features + f] = (seq.data[t * features + f] - mean) * scale;
  }
  return { frames, features, data };
}

/**
 * The network's input for one clip: the samples padded or cut at the end to 1 s (16000), 13 MFCCs per 10 ms
 * frame, each normalised over the clip. Shape [101 x 13], ready for `runNetwork`.
 *
 * @example const inputs = clipFeatures(await loadClip('yes/0a7c2a8d_nohash_0.wav')); // { frames: 101, features: 13 }
 */
export function clipFeatures(samples: Float64Array, opts: MfccOptions = REFERENCE_MFCC): InputSequence {
  return normalisePerFeature(mfcc(fitLength(samples, CLIP_SAMPLES), opts));
}

/**
 * One keyword-spotting clip: 1 s of mono audio at 16 kHz, whatever the file held.
 */
import { readWav, type WavAudio } from './wav.js';

/** Speech Commands' sample rate, and the reference pipeline's. */
export const KWS_SAMPLE_RATE_HZ = 16_000;
/** Speech Commands clips are at most 1 s long: 16000 samples at 16 kHz. */
export const CLIP_SAMPLES = KWS_SAMPLE_RATE_HZ;

/**
 * Sinc-interpolation settings, torchaudio's `resample` defaults (`sinc_interp_hann`): the kernel reaches
 * 6 zero crossings each side and the low-pass sits at 99 % of the lower Nyquist frequency.
 */
export const RESAMPLE_ZERO_CROSSINGS = 6;
export const RESAMPLE_ROLLOFF = 0.99;

/**
 * Resample by band-limited (windowed-sinc) interpolation, the method of torchaudio's `resample` with
 * `sinc_interp_hann` (its default): every output sample is the input convolved with a sinc low-pass at
 * `RESAMPLE_ROLLOFF` x min(fromHz, toHz) / 2, Hann-windowed over `RESAMPLE_ZERO_CROSSINGS` zero crossings each
 * side, evaluated at the output instant. The output has ceil(n x toHz / fromHz) samples.
 *
 * Limits: the short window leaves a transition band (about 1 % below the new Nyquist frequency is attenuated,
 * content just above it is not fully removed), and samples beyond either end count as zeros, so the first and
 * last ~6 input periods ring slightly. Fine for speech features; not a mastering-grade converter.
 * O(n x kernel width): about 13 taps per output sample when going down to 16 kHz from 22.05 kHz.
 */
export function resample(samples: Float64Array, fromHz: number, toHz: number): Float64Array {
  if (!(fromHz > 0) || !(toHz > 0)) throw new RangeError(`sample rates must be > 0 Hz, got ${fromHz} -> ${toHz}`);
  if (fromHz === toHz) return Float64Array.from(samples);
  const cutoffHz = RESAMPLE_ROLLOFF * Math.min(fromHz, toHz); // torchaudio's base_freq: 2 x the cut-off (Hz)
  const halfWidthIn = Math.ceil((RESAMPLE_ZERO_CROSSINGS * fromHz) / cutoffHz); // input samples each side
  const gain = cutoffHz / fromHz; // keeps DC at unit gain
  const out = new Float64Array(Math.ceil((samples.length * toHz) / fromHz));
  for (let j = 0; j < out.length; j++) {
    const centre = (j * fromHz) / toHz; // the output instant, in input samples
    const first = Math.max(0, Math.floor(centre) - halfWidthIn);
    const last = Math.min(samples.length - 1, Math.ceil(centre) + halfWidthIn);
    let acc = 0;
    for (let i = first; i <= last; i++) {
      // Distance in units of the cut-off's half period, where the sinc's zero crossings fall.
      const x = Math.max(
        -RESAMPLE_ZERO_CROSSINGS,
        Math.min(RESAMPLE_ZERO_CROSSINGS, ((i - centre) * cutoffHz) / fromHz),
      );
      const window = Math.cos((Math.PI * x) / (2 * RESAMPLE_ZERO_CROSSINGS)) ** 2;
      const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
      acc += samples[i] * sinc * window;
    }
    out[j] = acc * gain;
  }
  return out;
}

/**
 * Exactly `length` samples: a shorter clip is padded with zeros at the end, a longer one cut at the end.
 * This is what the Speech Commands pipelines do (TensorFlow's `decode_wav(desired_samples=16000)`, and the
 * PyTorch tutorial's right zero-padding): clips are recorded word-first, so the end is the side to fill or cut.
 */
export function fitLength(samples: Float64Array, length: number = CLIP_SAMPLES): Float64Array {
  if (samples.length === length) return samples;
  const out = new Float64Array(length);
  out.set(samples.length > length ? samples.subarray(0, length) : samples);
  return out;
}

/** Something about a clip that changes its features without being an error. */
export type ClipWarning = 'long' | 'low-rate' | '8-bit' | 'silent';

/** What each warning means, for messages. */
export const CLIP_WARNING_TEXT: Readonly<Record<ClipWarning, string>> = {
  long: 'longer than 1 s: only the first second is used (a word after it is not heard)',
  'low-rate':
    'recorded below 16 kHz: upsampled, with nothing above its Nyquist frequency (MFCCs differ from a 16 kHz recording)',
  '8-bit': '8-bit samples: quantisation noise changes the quieter MFCCs',
  silent:
    'digital silence in its first second: every feature is 0 after normalisation, whatever the model then says is not about speech',
};

/** The warnings a decoded WAV file earns as a keyword-spotting clip. */
export function clipWarnings(wav: WavAudio): ClipWarning[] {
  const out: ClipWarning[] = [];
  const samplesAtRate = Math.round((wav.sampleRateHz * CLIP_SAMPLES) / KWS_SAMPLE_RATE_HZ);
  if (wav.samples.length > samplesAtRate) out.push('long');
  if (wav.sampleRateHz < KWS_SAMPLE_RATE_HZ) out.push('low-rate');
  if (wav.bitsPerSample === 8 && wav.encoding === 'pcm') out.push('8-bit');
  if (!wav.samples.subarray(0, samplesAtRate).some((v) => v !== 0)) out.push('silent');
  return out;
}

/**
 * Load a WAV file as a keyword-spotting clip: averaged to mono, resampled to 16 kHz when the file has another
 * rate, padded or cut at the end to exactly 16000 samples. Errors are InputErrors naming the file; `onWarning` hears
 * each `clipWarnings` of the file.
 *
 * @example const samples = await loadClip('speech_commands/yes/0a7c2a8d_nohash_0.wav'); // Float64Array(16000)
 */
export async function loadClip(path: string, onWarning?: (w: ClipWarning) => void): Promise<Float64Array> {
  const wav = await readWav(path);
  if (onWarning) for (const w of clipWarnings(wav)) onWarning(w);
  const at16k =
    wav.sampleRateHz === KWS_SAMPLE_RATE_HZ ? wav.samples : resample(wav.samples, wav.sampleRateHz, KWS_SAMPLE_RATE_HZ);
  return fitLength(at16k, CLIP_SAMPLES);
}

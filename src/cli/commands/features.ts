import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Argv } from 'yargs';
import { CLIP_WARNING_TEXT, loadClip, type ClipWarning } from '../../audio/clip.js';
import { KEYWORD, type BackgroundNoise } from '../../audio/dataset.js';
import { DEFAULT_FEATURES_FILE, computeFeatures, splitCounts, writeFeatureFile } from '../../audio/features.js';
import { clipFeatures } from '../../audio/mfcc.js';
import { InputError } from '../../errors.js';
import { inputsCsv } from '../../model/inputs.js';
import { table } from '../format.js';
import { progress } from '../progress.js';
import { writeFileAtomic } from '../../util/output.js';

export function builder(y: Argv) {
  return y
    .positional('path', {
      type: 'string',
      demandOption: true,
      describe: 'a data set folder laid out as Speech Commands (<label>/<file>.wav), or one .wav file',
    })
    .option('out', {
      alias: 'o',
      type: 'string',
      describe: `folder: the features file (safetensors); .wav: a CSV of 101 rows x 13 columns for \`bmru simulate -i\``,
      defaultDescription: `<folder>/${DEFAULT_FEATURES_FILE}; for a .wav, standard output`,
    })
    .option('keyword', {
      // No yargs default, so that --keywords can conflict with it.
      type: 'string',
      defaultDescription: KEYWORD,
      describe: `label of class 1 in the target tensor (every other label, silence included, is 0; default ${KEYWORD}; not with --keywords)`,
    })
    .option('keywords', {
      type: 'string',
      describe:
        'comma-separated labels of an N-class set (replaces --keyword): class 0 _silence_, 1 _unknown_ (every other label), then these in order, as the Speech Commands 12-class task',
    })
    .conflicts('keywords', 'keyword')
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no progress line' })
    .option('skip-bad', {
      type: 'boolean',
      default: false,
      describe: 'leave out clips that cannot be read, listing each one, instead of stopping at the first',
    })
    .option('background-noise', {
      choices: ['skip', 'slice'] as const,
      default: 'skip' as const,
      describe: "Speech Commands' _background_noise_ folder: leave it out, or cut each file into 1 s _silence_ clips",
    })
    .example(
      '$0 features data/kws-synth',
      `features of the synthetic set (bmru kws-data) into data/kws-synth/${DEFAULT_FEATURES_FILE}`,
    )
    .example(
      '$0 features data/kws-core --keywords yes,no,up,down -o kws6.safetensors',
      '6 classes: _silence_, _unknown_, yes, no, up, down (the names are in the file\'s metadata "classes")',
    )
    .example(
      '$0 features ~/speech_commands_v0.02 -o sc.safetensors --background-noise slice',
      'all of Speech Commands, with silence clips cut from its noise recordings',
    )
    .example(
      '$0 features data/kws-synth/yes/0b1eb487_nohash_0.wav -o clip.csv',
      'one clip as an inputs CSV; then: bmru simulate -i clip.csv',
    )
    .epilogue(
      [
        'Features: 13 MFCCs per 10 ms frame, 101 frames per 1 s clip, as torchaudio.transforms.MFCC(sample_rate=16000, n_mfcc=13,',
        'melkwargs={n_fft: 512, hop_length: 160, n_mels: 40}) computes them (512-sample periodic Hann, HTK mel filters 0-8000 Hz,',
        'dB with an 80 dB floor, orthonormal DCT-II), then each coefficient normalised over the clip to mean 0 and std 1.',
        'Clips are averaged to mono, resampled to 16 kHz if needed, and padded or cut at the end to 1 s.',
        '',
        'The features file is safetensors: mfcc F32 [N, 101, 13], label [N] (index into metadata "labels"), target [N]',
        '(1 = keyword; with --keywords the index into metadata "classes"), split [N] (0 train, 1 validation, 2 test: from validation_list.txt / testing_list.txt when the folder',
        'has them, else Speech Commands\' hash of the speaker id); metadata "files" lists the clips in order.',
        'Python: safetensors.numpy.load_file(path); safetensors.safe_open(path, "np").metadata().',
      ].join('\n'),
    );
}

interface Args {
  path: string;
  out?: string;
  keyword?: string;
  keywords?: string;
  backgroundNoise: BackgroundNoise;
  skipBad: boolean;
  quiet?: boolean;
}

/** Warnings summed over a folder: how many clips and the first few of each kind. */
function warningTally() {
  const seen = new Map<ClipWarning, string[]>();
  return {
    add(file: string, w: ClipWarning) {
      const files = seen.get(w) ?? [];
      files.push(file);
      seen.set(w, files);
    },
    lines(): string[] {
      return [...seen].map(([w, files]) => {
        const shown = files.slice(0, SHOWN_FILES).join(', ');
        const more = files.length > SHOWN_FILES ? `, ... (${files.length - SHOWN_FILES} more)` : '';
        return `warning: ${files.length} clip(s) ${CLIP_WARNING_TEXT[w]}: ${shown}${more}`;
      });
    },
  };
}

/** Files named per warning or skip line before "... (n more)". */
const SHOWN_FILES = 5;

export async function handler(a: Args): Promise<void> {
  const info = await stat(a.path).catch((e: NodeJS.ErrnoException) => {
    throw new InputError(`cannot read (${e.code ?? e.message})`, { file: a.path });
  });
  if (info.isDirectory()) await folderFeatures(a);
  else await clipCsv(a);
}

/** A data set folder to a features file, with a per-label, per-split count. */
export async function folderFeatures(a: Args): Promise<void> {
  const out = a.out ?? path.join(a.path, DEFAULT_FEATURES_FILE);
  const p = progress(`features of ${a.path}`, a.quiet);
  const warnings = warningTally();
  const skipped: string[] = [];
  const set = await computeFeatures(a.path, {
    keyword: a.keyword ?? KEYWORD,
    keywords: a.keywords?.split(',').map((k) => k.trim()),
    backgroundNoise: a.backgroundNoise,
    onProgress: (done, total) => p.update(`${done}/${total} clips`),
    onWarning: (file, w) => warnings.add(file, w),
    onBadClip: a.skipBad ? (_file, e) => skipped.push(e.message) : undefined,
  }).catch((e: unknown) => {
    p.stop();
    throw e;
  });
  p.done(`${set.files.length} clips`);
  for (const line of warnings.lines()) console.error(line);
  if (skipped.length > 0) {
    console.error(`skipped ${skipped.length} unreadable clip(s) (--skip-bad):`);
    for (const m of skipped) console.error(`  ${m}`);
  }
  await writeFeatureFile(out, set);
  const rows = splitCounts(set);
  console.log(table(['label', 'train', 'validation', 'test'], rows));
  const perClass = set.classes.map((c, k) => `${set.target.filter((t) => t === k).length} '${c}'`);
  const what = a.keywords === undefined ? perClass[1] : `classes ${perClass.join(', ')}`;
  console.log(`${set.files.length} clips (${what}), ${set.frames} frames x ${set.features} MFCCs each; wrote ${out}`);
}

async function clipCsv(a: Args): Promise<void> {
  if (!a.path.toLowerCase().endsWith('.wav'))
    throw new InputError('expected a folder or a .wav file', { file: a.path });
  const f = clipFeatures(await loadClip(a.path, (w) => console.error(`warning: ${a.path}: ${CLIP_WARNING_TEXT[w]}`)));
  const csv = inputsCsv(f);
  if (a.out) {
    await writeFileAtomic(a.out, csv);
    console.log(`${f.frames} frames x ${f.features} MFCCs of ${a.path}; wrote ${a.out}`);
  } else process.stdout.write(csv);
}

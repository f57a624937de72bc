import path from 'node:path';
import type { Argv } from 'yargs';
import {
  AUXILIARY_WORDS,
  CORE_WORDS,
  DEFAULT_SYNTH,
  ESPEAK_VARIANTS,
  ESPEAK_VOICES,
  generateSynthSet,
  planCounts,
  settingsProblem,
  type SynthSettings,
} from '../../audio/synth.js';
import { table } from '../format.js';
import { progress } from '../progress.js';
import { DEFAULT_FEATURES_FILE } from '../../audio/features.js';
import { folderFeatures } from './features.js';

const d = DEFAULT_SYNTH;

export function builder(y: Argv) {
  return y
    .option('out', {
      alias: 'o',
      type: 'string',
      default: 'data/kws-synth',
      describe: 'output folder: <label>/<speaker>_nohash_<n>.wav, split lists, manifest.json',
    })
    .option('keyword', {
      // No yargs default, so that --keywords can conflict with it: settingsOf falls back to d.keyword.
      type: 'string',
      defaultDescription: d.keyword,
      describe: `the word of class 1 (default ${d.keyword}; not with --keywords)`,
    })
    .option('keywords', {
      type: 'string',
      describe: `comma-separated keywords of an N-class set, each spoken --keyword-clips times (replaces --keyword; "core" = the ten Speech Commands core words ${CORE_WORDS.join(',')})`,
    })
    .option('others', {
      type: 'string',
      default: d.others.join(','),
      describe: `comma-separated words of the "other" (unknown) class, spoken in turn ("auxiliary" = Speech Commands' 20 auxiliary words)`,
    })
    .conflicts('keywords', 'keyword')
    .option('keyword-clips', { type: 'number', default: d.keywordClips, describe: 'clips of each keyword' })
    .option('other-clips', {
      type: 'number',
      default: d.otherClips,
      describe: 'clips of other words (spread evenly over them)',
    })
    .option('silence-clips', {
      type: 'number',
      default: d.silenceClips,
      describe: 'clips of background noise only, label _silence_',
    })
    .option('speakers', {
      type: 'number',
      default: d.speakers,
      describe: `synthetic speakers (${ESPEAK_VOICES.length} voices x ${ESPEAK_VARIANTS.length} variants, each with its own pitch and speed)`,
    })
    .option('validation', {
      type: 'number',
      default: d.validationPercent,
      describe: 'percent of speakers (and silence clips) in the validation split',
    })
    .option('test', {
      type: 'number',
      default: d.testPercent,
      describe: 'percent of speakers (and silence clips) in the test split',
    })
    .option('seed', {
      type: 'number',
      default: d.seed,
      describe: 'seed of every random draw: the same seed and tool versions give the same files, byte for byte',
    })
    .option('workers', {
      alias: ['j', 'jobs'],
      type: 'number',
      describe: 'clips made at once (--jobs is the old name)',
      defaultDescription: 'one per core',
    })
    .option('force', {
      type: 'boolean',
      default: false,
      describe: 'regenerate every clip, and write into a folder that holds other files',
    })
    .option('features', {
      type: 'string',
      describe: `also write the features file (as \`bmru features\`); give a path, or "" for <out>/${DEFAULT_FEATURES_FILE}`,
    })
    .check((a) => {
      if (a.workers !== undefined && (!Number.isInteger(a.workers) || a.workers < 1))
        return `--workers must be an integer >= 1, got ${a.workers}`;
      // yargs also sets the camel-case keys (keywordClips for --keyword-clips); its types list only the flags.
      return settingsProblem(settingsOf(a as unknown as Args)) ?? true;
    })
    .example(
      '$0 kws-data',
      `the default set in data/kws-synth: ${d.keywordClips} "yes", ${d.otherClips} others, ${d.silenceClips} silence (about 1 min on 2 cores)`,
    )
    .example(
      '$0 kws-data -o data/kws-core --keywords core --others auxiliary --keyword-clips 300 --other-clips 600 --silence-clips 300',
      'the Speech Commands 12-class task shape: ten core words, unknown words, silence; then bmru features data/kws-core --keywords yes,no,...',
    )
    .example(
      '$0 kws-data --others no,up,down,yet,yeah,less --other-clips 600 --features ""',
      'harder negatives (yes-like words), then the features file',
    )
    .example(
      '$0 kws-data -o data/kws-small --keyword-clips 200 --other-clips 200 --silence-clips 50 --speakers 40',
      'a quarter-size set (~15 s; ~88% held-out accuracy at width 4, too few test clips for bmru kws --clips 50)',
    )
    .example(
      '$0 kws-data -o /tmp/tiny --keyword-clips 4 --other-clips 4 --silence-clips 2 --speakers 3',
      'a tiny set for a quick test',
    )
    .epilogue(
      [
        "Each word clip: espeak-ng speaks the word (a speaker's voice and variant, its speed and pitch varied per clip, a",
        'statement, exclamation or question), sox resamples it to 16 kHz, trims the pauses, sets its peak level (-20 to -3',
        'dBFS), shifts it in time within the 1 s, and in 3 of 4 clips mixes in 1 s of white, pink or brown noise (RMS -60 to',
        '-30 dBFS) cut from the noise beds in _background_noise_. Silence clips are noise only (-75 to -35 dBFS).',
        'Splits are by speaker, as in Speech Commands (validation_list.txt, testing_list.txt; all else is training).',
        '',
        'Cached: manifest.json holds a hash of the settings and of the espeak-ng and sox versions; running again with the',
        'same settings only makes missing clips (delete a clip to remake it), other settings replace the set.',
        'Needs espeak-ng and sox (Debian/Ubuntu: apt-get install -y espeak-ng sox; BMRU_ESPEAK / BMRU_SOX name other paths).',
        "Read it with `bmru features <out>` or the library's listClips/loadDataset, exactly as the real Speech Commands.",
      ].join('\n'),
    );
}

interface Args {
  out: string;
  keyword?: string;
  keywords?: string;
  others: string;
  keywordClips: number;
  otherClips: number;
  silenceClips: number;
  speakers: number;
  validation: number;
  test: number;
  seed: number;
  workers?: number;
  force: boolean;
  features?: string;
}

/** A comma-separated word list, with the named lists `core` and `auxiliary` expanded. */
function words(list: string): string[] {
  return list
    .split(',')
    .map((w) => w.trim())
    .filter((w) => w.length > 0)
    .flatMap((w) => (w === 'core' ? [...CORE_WORDS] : w === 'auxiliary' ? [...AUXILIARY_WORDS] : [w]));
}

/** The keywords of the command line: --keywords, else --keyword. */
const keywordsOf = (a: Pick<Args, 'keyword' | 'keywords'>): string[] =>
  a.keywords === undefined ? [a.keyword ?? d.keyword] : words(a.keywords);

/** The generator's settings from the command line. */
function settingsOf(a: Omit<Args, 'out' | 'workers' | 'force' | 'features'>): SynthSettings {
  const [keyword = '', ...more] = keywordsOf(a);
  return {
    seed: a.seed,
    keyword,
    // Only with --keywords: the 2-class settings keep their JSON, and so their cache hash.
    ...(more.length === 0 ? {} : { moreKeywords: more }),
    keywordClips: a.keywordClips,
    others: words(a.others),
    otherClips: a.otherClips,
    silenceClips: a.silenceClips,
    speakers: a.speakers,
    validationPercent: a.validation,
    testPercent: a.test,
  };
}

export async function handler(a: Args): Promise<void> {
  const settings = settingsOf(a);
  const p = progress(`kws-data ${a.out}`);
  const startedMs = Date.now();
  const r = await generateSynthSet(a.out, settings, {
    concurrency: a.workers,
    force: a.force,
    onProgress: ({ done, total }) => p.update(`${done}/${total} clips`),
  }).catch((e: unknown) => {
    p.stop();
    throw e;
  });
  p.done(r.generated > 0 ? `${r.generated} clips` : 'up to date');
  console.log(table(['label', 'train', 'validation', 'test'], planCounts(r.manifest.clips)));
  const seconds = ((Date.now() - startedMs) / 1000).toFixed(1);
  const what =
    r.generated === 0
      ? `all ${r.reused} clips were there already (same settings hash ${r.manifest.hash})`
      : `made ${r.generated} clips${r.reused ? `, kept ${r.reused}` : ''} in ${seconds} s`;
  console.log(
    `${what}; espeak-ng ${r.manifest.tools.espeak}, sox ${r.manifest.tools.sox}; ${path.join(a.out, 'manifest.json')}`,
  );
  if (a.features !== undefined)
    await folderFeatures({
      path: a.out,
      out: a.features || undefined,
      keyword: a.keyword ?? d.keyword,
      keywords: a.keywords === undefined ? undefined : keywordsOf(a).join(','),
      backgroundNoise: 'skip',
      skipBad: false,
    });
}

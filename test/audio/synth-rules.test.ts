import { describe, expect, it } from 'vitest';
import {
  AUXILIARY_WORDS,
  CORE_WORDS,
  DEFAULT_SYNTH,
  planClips,
  planCounts,
  planSpeakers,
  settingsProblem,
  type ClipSpec,
  type SynthSettings,
} from '../../src/audio/synth.js';

// The synthetic set's rules with expectations worked out by hand: every refusal of settingsProblem with its message
// and the boundary it sits on, how clips and speakers are shared out among splits and words, and the word lists
// against their source (mutation testing, session 24).

const S = DEFAULT_SYNTH;
const problem = (over: Partial<SynthSettings>) => settingsProblem({ ...S, ...over });

describe('settingsProblem: each rule, its boundary and its message', () => {
  it('refuses a negative or fractional clip count, naming it; zero is allowed', () => {
    expect(problem({ keywordClips: -1 })).toBe('keyword clips must be an integer >= 0, got -1');
    expect(problem({ otherClips: 1.5 })).toBe('other clips must be an integer >= 0, got 1.5');
    expect(problem({ silenceClips: -1 })).toBe('silence clips must be an integer >= 0, got -1');
    expect(problem({ keywordClips: 0, silenceClips: 0 })).toBeUndefined();
  });

  it('refuses a fractional seed', () => {
    expect(problem({ seed: 1.5 })).toBe('the seed must be an integer, got 1.5');
  });

  it('refuses negative percentages and a sum over 100; exactly 100 is allowed', () => {
    const msg = (v: number, t: number) =>
      `validation and test percentages must be >= 0 and add up to <= 100, got ${v} and ${t}`;
    expect(problem({ validationPercent: -1 })).toBe(msg(-1, 10));
    expect(problem({ testPercent: -1 })).toBe(msg(10, -1));
    expect(problem({ validationPercent: 60, testPercent: 41 })).toBe(msg(60, 41));
    expect(problem({ validationPercent: 60, testPercent: 40 })).toBeUndefined();
    // 0 is a percentage, not a refusal: the split is just not used.
    expect(problem({ validationPercent: 0, testPercent: 0 })).toBeUndefined();
  });

  it('asks one speaker per split in use: 3 with both held-out splits, 2 with one, 1 with none', () => {
    const msg = (n: number, got: number) => `speakers must be an integer >= ${n} (one per split at least), got ${got}`;
    expect(problem({ speakers: 3 })).toBeUndefined();
    expect(problem({ speakers: 2 })).toBe(msg(3, 2));
    expect(problem({ validationPercent: 0, speakers: 2 })).toBeUndefined();
    expect(problem({ validationPercent: 0, speakers: 1 })).toBe(msg(2, 1));
    expect(problem({ testPercent: 0, speakers: 1 })).toBe(msg(2, 1));
    expect(problem({ validationPercent: 0, testPercent: 0, speakers: 1 })).toBeUndefined();
    expect(problem({ validationPercent: 0, testPercent: 0, speakers: 0 })).toBe(msg(1, 0));
    expect(problem({ speakers: 3.5 })).toBe(msg(3, 3.5));
  });

  it('asks for an other word only when there are other clips', () => {
    expect(problem({ others: [] })).toBe('other clips need at least one other word');
    expect(problem({ others: [], otherClips: 0 })).toBeUndefined();
  });

  it('takes letters, digits, apostrophes, spaces and hyphens (any case), starting with a letter or digit', () => {
    expect(problem({ others: ["o'clock", 'well-done', 'two words', 'Go2'] })).toBeUndefined();
    const msg = (w: string) => `a word must be letters, digits, ' - or spaces, got ${JSON.stringify(w)}`;
    expect(problem({ others: ['ab!'] })).toBe(msg('ab!'));
    expect(problem({ others: ["'a"] })).toBe(msg("'a"));
    // The silence label is not a word by this rule either, so it cannot take the silence folder.
    expect(problem({ others: ['_silence_'] })).toBe(msg('_silence_'));
    expect(problem({ keyword: 'x/y' })).toBe(msg('x/y'));
  });

  it('lists the words when two are the same', () => {
    expect(problem({ others: ['no', 'yes'] })).toBe(
      'the keywords and the other words must be distinct, got yes, no, yes',
    );
  });

  it('planClips refuses settings with a problem, with its message', () => {
    expect(() => planClips({ ...S, seed: 0.5 })).toThrow(new RangeError('the seed must be an integer, got 0.5'));
  });
});

describe('the word lists, against their source', () => {
  it('CORE_WORDS are the ten command words of Speech Commands (Warden 2018, arXiv 1804.03209)', () => {
    expect([...CORE_WORDS]).toEqual(['yes', 'no', 'up', 'down', 'left', 'right', 'on', 'off', 'stop', 'go']);
  });

  it("AUXILIARY_WORDS are v0.01's twenty auxiliary words", () => {
    expect([...AUXILIARY_WORDS]).toEqual(
      'bed bird cat dog eight five four happy house marvin nine one seven sheila six three tree two wow zero'.split(
        ' ',
      ),
    );
  });
});

describe('sharing out: speakers, clips per word, splits', () => {
  it('gives each held-out split one speaker at least, and round(n x percent) where that is more', () => {
    const splits = (over: Partial<SynthSettings>) => planSpeakers({ ...S, ...over }).map((sp) => sp.split);
    // 3 speakers at 10%: round(0.3) = 0, raised to 1 each.
    expect(splits({ speakers: 3 })).toEqual(['validation', 'test', 'train']);
    // A split at 0% gets none.
    expect(splits({ speakers: 2, validationPercent: 0 })).toEqual(['test', 'train']);
    // 20 speakers at 10%: round(2) = 2 each, the first two validation, the next two test.
    const twenty = splits({ speakers: 20 });
    expect(twenty.slice(0, 4)).toEqual(['validation', 'validation', 'test', 'test']);
    expect(twenty.slice(4).every((x) => x === 'train')).toBe(true);
  });

  it('does not raise a split of clips to one: 3 clips of a word at 10% are all training clips', () => {
    const clips = planClips({ ...S, keywordClips: 3, otherClips: 0, silenceClips: 0 });
    expect(clips.map((c) => c.split)).toEqual(['train', 'train', 'train']);
  });

  it('shares the other clips out as evenly as it can, the first words taking the remainder', () => {
    const count = (others: string[], otherClips: number) => {
      const clips = planClips({ ...S, keywordClips: 0, silenceClips: 0, others, otherClips });
      return others.map((w) => clips.filter((c) => c.label === w).length);
    };
    // 7 over 3 words: floor(7/3) = 2 each, the remainder 1 to the first word.
    expect(count(['left', 'right', 'up'], 7)).toEqual([3, 2, 2]);
    expect(count(['left', 'right', 'up'], 2)).toEqual([1, 1, 0]);
    expect(count(['left', 'right'], 6)).toEqual([3, 3]);
  });

  it("splits each other word's clips by that word's own count: 5 clips over 2 words at 50% are 3 + 2", () => {
    const clips = planClips({
      ...S,
      keywordClips: 0,
      silenceClips: 0,
      others: ['left', 'right'],
      otherClips: 5,
      validationPercent: 50,
      testPercent: 0,
    });
    const splitsOf = (w: string) => clips.filter((c) => c.label === w).map((c) => c.split);
    // left: n = 3, round(1.5) = 2 validation; right: n = 2, round(1) = 1.
    expect(splitsOf('left')).toEqual(['validation', 'validation', 'train']);
    expect(splitsOf('right')).toEqual(['validation', 'train']);
  });

  it("keeps each clip's voice near its speaker's: speed within 15 wpm, pitch within 8 and 0-99, both varied", () => {
    const speakers = new Map(planSpeakers(S).map((sp) => [sp.id, sp]));
    const speech = planClips(S).flatMap((c) => (c.kind === 'speech' ? [c] : []));
    for (const c of speech) {
      const sp = speakers.get(c.file.split('/')[1].slice(0, 8))!;
      expect(Math.abs(c.speedWpm - sp.speedWpm)).toBeLessThanOrEqual(15);
      expect(Math.abs(c.pitch - sp.pitch)).toBeLessThanOrEqual(8);
      expect(c.pitch).toBeGreaterThanOrEqual(0);
      expect(c.pitch).toBeLessThanOrEqual(99);
    }
    // The jitter is drawn from [-range, range]: a speaker's clips do not all take one speed.
    const first = speech.filter((c) => c.file.split('/')[1].startsWith(speech[0].file.split('/')[1].slice(0, 8)));
    expect(new Set(first.map((c) => c.speedWpm)).size).toBeGreaterThan(1);
  });

  it("numbers a speaker's clips per word from 0 (Speech Commands' <speaker>_nohash_<n>)", () => {
    const firstN = new Map<string, number>();
    for (const c of planClips(S)) {
      if (c.kind !== 'speech') continue;
      const [label, name] = c.file.split('/');
      const key = `${label}/${name.slice(0, 8)}`;
      const n = Number(/_nohash_(\d+)\.wav$/.exec(name)![1]);
      firstN.set(key, Math.min(firstN.get(key) ?? Infinity, n));
    }
    expect([...new Set(firstN.values())]).toEqual([0]);
  });

  it('cuts 1 s of noise that fits in its 30 s bed: every offset at most 29 s', () => {
    const offsets = planClips(S).flatMap((c) => (c.noise ? [c.noise.offsetS] : []));
    expect(Math.max(...offsets)).toBeLessThanOrEqual(29);
    expect(Math.min(...offsets)).toBeGreaterThanOrEqual(0);
  });

  it("shuffles the voice pairs: the default's first 12 speakers come from more than two of the 7 base voices", () => {
    // Unshuffled, the first 12 pairs are en-us with its 11 variants (one base voice).
    const bases = planSpeakers(S)
      .slice(0, 12)
      .map((sp) => sp.voice.split('+')[0]);
    expect(new Set(bases).size).toBeGreaterThan(2);
  });

  it('ends the spoken text with each of the four endings (none, . ! ?) somewhere in the default plan', () => {
    const endings = new Set(
      planClips(S).flatMap((c) => (c.kind === 'speech' ? [/[.!?]$/.exec(c.text)?.[0] ?? 'none'] : [])),
    );
    expect([...endings].sort()).toEqual(['!', '.', '?', 'none']);
  });

  it('adds noise to about 3 in 4 spoken clips (SYNTH_RANGES.noiseShare 0.75)', () => {
    const speech = planClips(S).filter((c) => c.kind === 'speech');
    const share = speech.filter((c) => c.noise !== undefined).length / speech.length;
    // 1600 draws of p = 0.75: sigma = sqrt(0.75 x 0.25 / 1600) = 1.1 points; +-4 sigma.
    expect(share).toBeGreaterThan(0.7);
    expect(share).toBeLessThan(0.8);
  });
});

describe('planCounts', () => {
  it('counts clips per label and split, labels in order of first appearance', () => {
    const clip = (label: string, split: ClipSpec['split']) => ({ label, split }) as ClipSpec;
    const clips = [clip('a', 'train'), clip('a', 'test'), clip('b', 'validation'), clip('a', 'train')];
    expect(planCounts(clips)).toEqual([
      ['a', 2, 0, 1],
      ['b', 0, 1, 0],
    ]);
    expect(planCounts([])).toEqual([]);
  });
});

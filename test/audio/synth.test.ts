import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SYNTH,
  planClips,
  planSpeakers,
  settingsHash,
  settingsProblem,
  type SynthSettings,
} from '../../src/audio/synth.js';

/** The earlier default (a quarter of today's): round numbers to check the plan against. */
const QUARTER: SynthSettings = { ...DEFAULT_SYNTH, keywordClips: 200, otherClips: 200, silenceClips: 50, speakers: 40 };

describe('the plan (pure: no tools needed; the generator with espeak-ng and sox is tested in synth-tools.test.ts)', () => {
  it('is the same for the same settings and changes with the seed', () => {
    expect(planClips(DEFAULT_SYNTH)).toEqual(planClips({ ...DEFAULT_SYNTH }));
    expect(planClips({ ...DEFAULT_SYNTH, seed: 2 })).not.toEqual(planClips(DEFAULT_SYNTH));
  });

  it('has the asked counts, unique Speech Commands-style file names, and the words round-robin', () => {
    const clips = planClips(QUARTER);
    expect(clips).toHaveLength(450);
    expect(new Set(clips.map((c) => c.file)).size).toBe(450);
    for (const c of clips) expect(c.file).toMatch(/^[a-z_]+\/[0-9a-f]{8}_nohash_\d+\.wav$/);
    const count = (label: string) => clips.filter((c) => c.label === label).length;
    expect([count('yes'), count('_silence_')]).toEqual([200, 50]);
    for (const w of QUARTER.others) expect(count(w)).toBeGreaterThanOrEqual(22);
  });

  it('stratifies splits per label (10 % / 10 %) and keeps each speaker in one split', () => {
    const clips = planClips(QUARTER);
    const yes = clips.filter((c) => c.label === 'yes');
    expect(['train', 'validation', 'test'].map((s) => yes.filter((c) => c.split === s).length)).toEqual([160, 20, 20]);
    const speakerSplit = new Map(planSpeakers(QUARTER).map((s) => [s.id, s.split]));
    for (const c of clips)
      if (c.kind === 'speech') expect(speakerSplit.get(c.file.split('/')[1].slice(0, 8))).toBe(c.split);
  });

  it('draws from the documented ranges, with distinct voices per speaker', () => {
    const speakers = planSpeakers(QUARTER);
    expect(new Set(speakers.map((s) => s.voice)).size).toBe(40);
    for (const c of planClips(QUARTER)) {
      if (c.kind !== 'speech') continue;
      expect(c.speedWpm).toBeGreaterThanOrEqual(115);
      expect(c.speedWpm).toBeLessThanOrEqual(205);
      expect(c.peakDbfs).toBeGreaterThanOrEqual(-20);
      expect(c.peakDbfs).toBeLessThanOrEqual(-3);
      expect(c.text).toMatch(/^[a-z]+[.!?]?$/);
    }
  });

  it('makes the default set large enough for bmru kws: 1800 clips, 80 keyword clips in the test split, 84 voices', () => {
    const clips = planClips(DEFAULT_SYNTH);
    expect(clips).toHaveLength(1800);
    expect(clips.filter((c) => c.label === 'yes' && c.split === 'test')).toHaveLength(80);
    expect(clips.filter((c) => c.split === 'test').length).toBeGreaterThanOrEqual(50);
    expect(new Set(planSpeakers(DEFAULT_SYNTH).map((s) => s.voice)).size).toBe(84);
  });

  it('says what is wrong with bad settings', () => {
    expect(settingsProblem(DEFAULT_SYNTH)).toBeUndefined();
    expect(settingsProblem({ ...DEFAULT_SYNTH, speakers: 2 })).toBe(
      'speakers must be an integer >= 3 (one per split at least), got 2',
    );
    expect(settingsProblem({ ...DEFAULT_SYNTH, others: ['no', 'yes'] })).toContain('must be distinct');
    expect(settingsProblem({ ...DEFAULT_SYNTH, others: ['../x'] })).toContain('a word must be letters');
  });

  it('N-class settings: every keyword gets its clips, the keyword folders of the first are the 2-class ones', () => {
    const multi: SynthSettings = { ...QUARTER, moreKeywords: ['no', 'up'], others: ['left', 'bed'] };
    const clips = planClips(multi);
    const count = (label: string) => clips.filter((c) => c.label === label).length;
    expect(['yes', 'no', 'up', 'left', 'bed', '_silence_'].map(count)).toEqual([200, 200, 200, 100, 100, 50]);
    // The first keyword's clips are drawn before any other: the same as the 2-class plan's.
    const yes = (cs: typeof clips) => cs.filter((c) => c.label === 'yes');
    expect(yes(clips)).toEqual(yes(planClips({ ...QUARTER, others: ['left', 'bed'] })));
    expect(settingsProblem({ ...multi, moreKeywords: ['no', 'left'] })).toContain('must be distinct');
  });

  it('keeps the cache hash of the default set (data/kws-synth/manifest.json of espeak-ng 1.51, sox 14.4.2, written before N-class settings)', () => {
    expect(settingsHash(DEFAULT_SYNTH, { espeak: '1.51', sox: '14.4.2' })).toBe('3e5ea38cfd30ecc7');
  });
});

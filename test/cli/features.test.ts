import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFeatureFile } from '../../src/audio/features.js';
import { writeWav } from '../../src/audio/wav.js';
import { cliFixture, EXIT_ERROR, expectOneErrorLine, type CliFixture } from './fixture.js';

const tone = (hz: number, n: number) =>
  Float64Array.from({ length: n }, (_, i) => 0.3 * Math.sin((2 * Math.PI * hz * i) / 16000));

// The real binary in a temp dir: see fixture.ts (dist/ must be built; npm test does).
let cli: CliFixture;
beforeAll(async () => {
  cli = await cliFixture();
  const put = async (file: string, samples: Float64Array) => {
    await mkdir(path.dirname(path.join(cli.dir, 'set', file)), { recursive: true });
    await writeWav(path.join(cli.dir, 'set', file), samples, 16000);
  };
  await put('yes/a_nohash_0.wav', tone(500, 16000));
  await put('yes/c_nohash_0.wav', tone(500, 24000)); // 1.5 s: cut
  await put('no/a_nohash_0.wav', tone(300, 16000));
  await writeFile(path.join(cli.dir, 'set', 'yes', 'b_nohash_0.wav'), 'RIFF, but not a WAV file');
});
afterAll(() => cli.cleanUp());

describe('bmru features on a folder', () => {
  it('stops at an unreadable clip, naming it and the flag that skips it', async () => {
    const r = await cli.run(['features', 'set', '-o', 'f.safetensors']);
    expect(r.exitCode).toBe(EXIT_ERROR);
    expect(r.stderr).toContain('b_nohash_0.wav');
  });

  it('--skip-bad leaves it out and lists it; a clip longer than 1 s is named in a warning', async () => {
    const r = await cli.run(['features', 'set', '-o', 'f.safetensors', '--skip-bad', '-q']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain('skipped 1 unreadable clip(s) (--skip-bad):');
    expect(r.stderr).toMatch(/^ {2}.*b_nohash_0\.wav/m);
    expect(r.stderr).toContain('warning: 1 clip(s) longer than 1 s: only the first second is used');
    expect(r.stderr).toContain('yes/c_nohash_0.wav');
    const set = await readFeatureFile(path.join(cli.dir, 'f.safetensors'));
    expect(set.files).toEqual(['no/a_nohash_0.wav', 'yes/a_nohash_0.wav', 'yes/c_nohash_0.wav']);
  });

  it('refuses a keyword that no clip has', async () => {
    expectOneErrorLine(
      await cli.run(['features', 'set', '-o', 'g.safetensors', '--skip-bad', '--keyword', 'banana']),
      "has no clips of the keyword 'banana' (labels: no, yes)",
    );
  });

  it('--keywords gives the N-class targets (silence, unknown, keywords) and records the class names', async () => {
    const r = await cli.run(['features', 'set', '-o', 'n.safetensors', '--skip-bad', '-q', '--keywords', 'no']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain("classes 0 '_silence_', 2 '_unknown_', 1 'no'");
    const set = await readFeatureFile(path.join(cli.dir, 'n.safetensors'));
    expect(set.classes).toEqual(['_silence_', '_unknown_', 'no']);
    // Files in code-point order: no/a (keyword 'no': class 2), yes/a and yes/c (unknown: class 1).
    expect(Array.from(set.target)).toEqual([2, 1, 1]);
  });

  it('refuses keywords that no clip has, naming them and the labels present, and --keyword beside --keywords', async () => {
    expectOneErrorLine(
      await cli.run(['features', 'set', '-o', 'h.safetensors', '--skip-bad', '--keywords', 'yes,up,down']),
      "has no clips of 'up', 'down' (labels: no, yes)",
    );
    expectOneErrorLine(
      await cli.run(['features', 'set', '-o', 'h.safetensors', '--keywords', 'yes,no,yes']),
      "names 'yes' twice",
    );
    expectOneErrorLine(
      await cli.run(['features', 'set', '-o', 'h.safetensors', '--keyword', 'yes', '--keywords', 'no']),
      'mutually exclusive',
    );
  });
});

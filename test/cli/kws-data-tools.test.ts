/**
 * bmru kws-data making a set with espeak-ng and sox, then bmru features and bmru simulate on it. Needs both
 * tools: vitest.config.ts skips this file without them, and fails the run in CI.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFeatureFile } from '../../src/audio/features.js';
import { cliFixture, expectOneErrorLine, TINY_KWS_SET as TINY, type CliFixture } from './fixture.js';

// The real binary in a temp dir: see fixture.ts (dist/ must be built; npm test does).
let cli: CliFixture;
beforeAll(async () => {
  cli = await cliFixture();
});
afterAll(() => cli.cleanUp());

describe('bmru kws-data, then bmru features and bmru simulate on what it wrote', () => {
  it('generates a set, prints counts per label and split, writes the features file; a second run reuses it', async () => {
    const r = await cli.run(['kws-data', '-o', 'set', ...TINY, '--features', '']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^label\s+train\s+validation\s+test$/m);
    expect(r.stdout).toMatch(/^yes\s+1\s+1\s+1$/m);
    expect(r.stdout).toMatch(/^made 6 clips in [\d.]+ s; espeak-ng 1\.\d+, sox 14\.\d+\.\d+; set\/manifest\.json$/m);
    expect(r.stdout).toContain("6 clips (3 'yes'), 101 frames x 13 MFCCs each; wrote set/features.safetensors");
    const set = await readFeatureFile(path.join(cli.dir, 'set', 'features.safetensors'));
    expect(set.labels).toEqual(['_silence_', 'no', 'up', 'yes']);

    const again = await cli.run(['kws-data', '-o', 'set', ...TINY]);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^all 6 clips were there already \(same settings hash [0-9a-f]{16}\)/m);
  });

  it('turns one generated clip into an inputs CSV that bmru simulate runs', async () => {
    const manifest = JSON.parse(await readFile(path.join(cli.dir, 'set', 'manifest.json'), 'utf8'));
    const clip = path.join('set', manifest.clips[0].file);
    const r = await cli.run(['features', clip, '-o', 'clip.csv']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe(`101 frames x 13 MFCCs of ${clip}; wrote clip.csv\n`);
    const rows = (await readFile(path.join(cli.dir, 'clip.csv'), 'utf8')).trimEnd().split('\n');
    expect(rows[0]).toBe('c0,c1,c2,c3,c4,c5,c6,c7,c8,c9,c10,c11,c12');
    expect(rows).toHaveLength(102);
    const sim = await cli.run(['simulate', '-i', 'clip.csv']);
    expect(sim.stdout, sim.stderr).toMatch(/^101 frames, 2 blocks x 4 cells/);
  });

  it('refuses to write into a folder that holds other files, naming it', async () => {
    await cli.write('README.md', 'mine\n');
    expectOneErrorLine(await cli.run(['kws-data', '-o', '.', ...TINY]), 'holds files but no manifest.json', '--force');
  });
});

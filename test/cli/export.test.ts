import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliFixture, exampleClip, type CliFixture } from './fixture.js';

// The real binary in a temp dir: see fixture.ts (dist/ must be built; npm test does). The exported deck
// runs through the real ngspice on a 5-frame clip (about 10 s; the shipped 101-frame clip takes minutes).
const FRAMES = 5;
const FRAME_S = 0.01; // frameS of the shipped example

let cli: CliFixture;
let clip: string;
beforeAll(async () => {
  cli = await cliFixture();
  clip = await cli.write('clip5.csv', exampleClip(FRAMES));
});
afterAll(() => cli.cleanUp());

/** Every string in a JSON value (the probe vector names of probes.json). */
const strings = (v: unknown): string[] =>
  typeof v === 'string' ? [v] : Array.isArray(v) ? v.flatMap(strings) : v && typeof v === 'object' ? Object.values(v).flatMap(strings) : [];

describe('bmru export, then bmru spice on the exported deck', () => {
  it('writes the deck, the mapping (CSV and JSON), the probes and the realised model, and the deck runs in ngspice', async () => {
    const exported = await cli.run(['export', '-i', clip, '-o', 'exp']);
    expect(exported, exported.stderr).toMatchObject({ exitCode: 0, stderr: '' });
    expect(exported.stdout).toMatch(/^c180: \d+ transistors, \d+ mapped elements/);
    expect(exported.stdout).toContain('wrote exp/deck.cir, mapping.csv, mapping.json, probes.json, realised.json');
    const dir = path.join(cli.dir, 'exp');
    expect((await readdir(dir)).sort()).toEqual(['deck.cir', 'mapping.csv', 'mapping.json', 'probes.json', 'realised.json']);
    const read = (name: string) => readFile(path.join(dir, name), 'utf8');
    const deck = await read('deck.cir');
    expect(deck).toMatch(new RegExp(`^\\.tran \\S+ ${FRAMES * FRAME_S}\\b`, 'm'));
    expect((await read('mapping.csv')).split('\n')[0]).toBe('parameter,element,realisation,target,realised,setting,error');
    const mapping = JSON.parse(await read('mapping.json'));
    expect(mapping[0]).toMatchObject({ parameter: expect.any(String), element: expect.any(String), realised: expect.any(Number) });
    const probes = strings(JSON.parse(await read('probes.json')));
    expect(probes.length).toBeGreaterThan(0);

    // The realised parameters are a model the software can run.
    const realised = await cli.run(['simulate', '-m', 'exp/realised.json', '-i', clip]);
    expect(realised.stdout, realised.stderr).toMatch(/^5 frames, 2 blocks x 4 cells/);

    const run = await cli.run(['spice', 'exp/deck.cir', '--timeout', '120', '--csv', 'waves.csv']);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^Transient Analysis: \d+ points, \d+ vectors$/m);
    expect(run.stdout).toMatch(/^ngspice 39\S*, [\d.]+ s$/m);
    expect(run.stderr).toMatch(/^ngspice exp\/deck\.cir done \([\d.]+ s\)$/m);
    const waves = (await readFile(path.join(cli.dir, 'waves.csv'), 'utf8')).trimEnd().split('\n');
    const columns = waves[0].toLowerCase().split(',');
    for (const probe of probes) expect(columns).toContain(probe.toLowerCase());
    expect(Number(waves.at(-1)!.split(',')[0])).toBeCloseTo(FRAMES * FRAME_S, 12);
  });
});

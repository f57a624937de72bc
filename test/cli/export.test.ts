import { mkdir, readdir, readFile, rename } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers.js';
import { cliFixture, exampleClip, TINY_CLIP, tinyModel, type CliFixture } from './fixture.js';

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
  typeof v === 'string'
    ? [v]
    : Array.isArray(v)
      ? v.flatMap(strings)
      : v && typeof v === 'object'
        ? Object.values(v).flatMap(strings)
        : [];

describe('bmru export, then bmru spice on the exported deck', () => {
  it('writes the deck, the mapping (CSV and JSON), the probes and the realised model, and the deck runs in ngspice', async () => {
    const exported = await cli.run(['export', '-i', clip, '-o', 'exp']);
    expect(exported, exported.stderr).toMatchObject({ exitCode: 0, stderr: '' });
    expect(exported.stdout).toMatch(/^c180: \d+ transistors, \d+ mapped elements/);
    expect(exported.stdout).toContain(
      'wrote exp/deck.cir, c180.lib, mapping.csv, mapping.json, probes.json, realised.json, near-ties.csv',
    );
    const dir = path.join(cli.dir, 'exp');
    expect((await readdir(dir)).sort()).toEqual([
      'c180.lib',
      'deck.cir',
      'mapping.csv',
      'mapping.json',
      'near-ties.csv',
      'probes.json',
      'realised.json',
    ]);
    const read = (name: string) => readFile(path.join(dir, name), 'utf8');
    const deck = await read('deck.cir');
    // Portable: the embedded card beside the deck, included by name; no path of this machine in the deck.
    expect(deck.split('\n').slice(0, 4)).toContain('.include c180.lib');
    expect(await read('c180.lib')).toBe(await readFile(path.join(REPO_ROOT, 'models/c180/c180.lib'), 'utf8'));
    expect(deck).not.toContain(cli.dir);
    expect(deck).not.toContain(REPO_ROOT);
    expect(deck).toMatch(new RegExp(`^\\.tran \\S+ ${FRAMES * FRAME_S}\\b`, 'm'));
    expect((await read('mapping.csv')).split('\n')[0]).toBe(
      'parameter,element,realisation,target,realised,setting,error',
    );
    const mapping = JSON.parse(await read('mapping.json'));
    expect(mapping[0]).toMatchObject({
      parameter: expect.any(String),
      element: expect.any(String),
      realised: expect.any(Number),
    });
    const probes = strings(JSON.parse(await read('probes.json')));
    expect(probes.length).toBeGreaterThan(0);

    // The realised parameters are a model the software can run.
    const realised = await cli.run(['simulate', '-m', 'exp/realised.json', '-i', clip]);
    expect(realised.stdout, realised.stderr).toMatch(/^5 frames, 2 blocks x 4 cells/);

    // The folder runs where it is moved to.
    await mkdir(path.join(cli.dir, 'elsewhere'));
    await rename(dir, path.join(cli.dir, 'elsewhere', 'exp'));
    const run = await cli.run(['spice', 'elsewhere/exp/deck.cir', '--timeout', '120', '--csv', 'waves.csv']);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^Transient Analysis: \d+ points, \d+ vectors$/m);
    expect(run.stdout).toMatch(/^ngspice 39\S*, [\d.]+ s$/m);
    expect(run.stderr).toMatch(/^ngspice elsewhere\/exp\/deck\.cir done \([\d.]+ s\)$/m);
    const waves = (await readFile(path.join(cli.dir, 'waves.csv'), 'utf8')).trimEnd().split('\n');
    const columns = waves[0].toLowerCase().split(',');
    for (const probe of probes) expect(columns).toContain(probe.toLowerCase());
    expect(Number(waves.at(-1)!.split(',')[0])).toBeCloseTo(FRAMES * FRAME_S, 12);
  });
});

describe('bmru export: a portable deck', () => {
  it('moved elsewhere and run by plain ngspice from another folder, it gives what compare gives, value for value', async () => {
    expect((await cli.run(['export', '-i', clip, '-o', 'pexp'])).exitCode).toBe(0);
    await mkdir(path.join(cli.dir, 'away'));
    await rename(path.join(cli.dir, 'pexp'), path.join(cli.dir, 'away', 'pexp'));
    const deck = path.join(cli.dir, 'away', 'pexp', 'deck.cir');
    const raw = path.join(cli.dir, 'plain.raw');
    const ng = spawnSync('ngspice', ['-b', '-r', raw, deck], { cwd: tmpdir(), encoding: 'utf8', timeout: 120_000 });
    expect(ng.status, ng.stderr).toBe(0);
    const fromPlain = await cli.run(['compare', '-i', clip, '-o', 'cmp-plain', '--from-raw', raw]);
    const own = await cli.run(['compare', '-i', clip, '-o', 'cmp-own', '--timeout', '120']);
    expect([fromPlain.exitCode, own.exitCode], fromPlain.stderr + own.stderr).toEqual([own.exitCode, own.exitCode]);
    const frames = (d: string) => readFile(path.join(cli.dir, d, 'frames.csv'), 'utf8');
    const plainFrames = await frames('cmp-plain');
    expect(plainFrames.split('\n').length).toBeGreaterThan(FRAMES * 8); // frames x 2 blocks x 4 cells
    expect(plainFrames).toBe(await frames('cmp-own'));
  });
});

describe('bmru export: near ties', () => {
  it('lists a threshold that a candidate sits within the process resolution of, with the unit-frames it decides, and writes near-ties.csv', async () => {
    // The tiny cell with its candidate bias at 0.505: the realised candidate is 0.505 in every frame (its input weight
    // is left out), 0.005 units (5 pA) above beta_hi = 0.5, inside beta_hi's resolution of 3% = 15 pA. It decides
    // frame 0 only: the cell starts OFF and turns ON there; afterwards it is ON on either side of beta_hi.
    const model = await cli.write('near.json', tinyModel(0.505));
    const clip = await cli.write('near.csv', TINY_CLIP);
    const r = await cli.run(['export', '-m', model, '-i', clip, '-o', 'near']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      "near ties: 1 of 6 unit-frames are decided by a candidate within the process's resolution (3% or 5.00 pA) of a threshold, 1 threshold:",
    );
    expect(r.stdout).toMatch(/^blocks\.0\.cell\.beta_hi\[0\] +0\.5000 +0\.5000 +15\.00 pA +1 +[\d.]+ pA +0$/m);
    const csv = (await readFile(path.join(cli.dir, 'near', 'near-ties.csv'), 'utf8')).trim().split('\n');
    expect(csv[0]).toBe('parameter,block,unit,threshold,trained,realised,resolution,unit_frames,closest_margin,frames');
    expect(csv).toHaveLength(2);
    expect(csv[1]).toMatch(/^blocks\.0\.cell\.beta_hi\[0\],0,0,beta_hi,0\.5,0\.5\d*,0\.015\d*,1,0\.00\d+,0$/);

    // 20 pA further from the threshold nothing is within the resolution.
    const far = await cli.run(['export', '-m', await cli.write('far.json', tinyModel(0.525)), '-i', clip, '-o', 'far']);
    expect(far.stdout).toContain('near ties: none');
    expect((await readFile(path.join(cli.dir, 'far', 'near-ties.csv'), 'utf8')).trim().split('\n')).toHaveLength(1);
  });
});

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../src/model/load.js';
import { writeToyFeatureFile } from '../train/toy.js';
import { cliFixture, exampleClip, expectOneErrorLine, type CliFixture } from './fixture.js';

// The real binary in a temp dir: see fixture.ts (dist/ must be built; npm test does).
let cli: CliFixture;
let toy: string;
const trainFlags = ['--epochs', '12', '--batch-size', '8', '--lr', '0.03', '--warmup-steps', '5', '-q'];
beforeAll(async () => {
  cli = await cliFixture();
  toy = path.join(cli.dir, 'toy.safetensors');
  await writeToyFeatureFile(toy);
});
afterAll(() => cli.cleanUp());

describe('bmru train --arch cmru', () => {
  it('writes a cmru file that simulate runs and every circuit command refuses, naming the file, arch and what to do', async () => {
    const r = await cli.run(['train', '-f', toy, '--arch', 'cmru', ...trainFlags, '-o', 'cmru.json']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect((await loadModel(path.join(cli.dir, 'cmru.json'))).arch).toBe('cmru');
    const file = JSON.parse(await readFile(path.join(cli.dir, 'cmru.json'), 'utf8'));
    expect(file.description).toMatch(/^CMRU keyword spotter/);
    const clip = await cli.write('clip5.csv', exampleClip(5));
    const sim = await cli.run(['simulate', '-m', 'cmru.json', '-i', clip]);
    expect(sim.exitCode, sim.stderr).toBe(0);
    expect(sim.stdout).toContain('5 frames, 2 blocks x 4 cells (arch cmru)');
    for (const args of [
      ['export', '-m', 'cmru.json', '-i', clip, '-o', 'exp'],
      ['compare', '-m', 'cmru.json', '-i', clip, '-o', 'cmp'],
      ['kws', '-m', 'cmru.json', '-f', toy, '-o', 'kws'],
    ])
      expectOneErrorLine(
        await cli.run(args),
        'cmru.json',
        "'__metadata__.arch'",
        "arch 'cmru' (eps = 1) has no circuit",
        '--anneal',
      );
  });

  it('refuses --eps outside (0, 1) for cmru-relaxed', async () => {
    expectOneErrorLine(
      await cli.run(['train', '-f', toy, '--arch', 'cmru-relaxed', '--eps', '1', '-o', 'x.json']),
      '--eps must be in (0, 1)',
    );
  });
});

describe('an annealed CMRU through the circuit (real ngspice)', () => {
  it('trains cmru --anneal into an fq-bmru file that compare co-simulates on c180', async () => {
    const t = await cli.run(['train', '-f', toy, '--arch', 'cmru', '--anneal', ...trainFlags, '-o', 'annealed.json']);
    expect(t.exitCode, t.stderr).toBe(0);
    const net = await loadModel(path.join(cli.dir, 'annealed.json'));
    expect(net.arch).toBe('fq-bmru');
    const clip = await cli.write('clip8.csv', exampleClip(8));
    const r = await cli.run(['compare', '-m', 'annealed.json', '-i', clip, '-o', 'cmp', '--timeout', '180']);
    expect([0, 1], r.stderr).toContain(r.exitCode);
    expect(r.stderr).toMatch(/^ngspice: 8 frames on c180 done/m);
    expect(r.stdout).toMatch(/^state agreement +[\d.]+% of 64 unit-frames/m); // 8 frames x 2 blocks x 4 cells
    const report = JSON.parse(await readFile(path.join(cli.dir, 'cmp', 'report.json'), 'utf8'));
    expect(report.ngspiceVersion).toMatch(/^39/);
    // The circuit computes what the annealed model computes: the same decision, and the states of the trained
    // model on nearly every unit-frame (a switching edge may differ; DESIGN §5: ~2 of 800 on the reference model).
    const trained = report.references.trained;
    expect(trained.decisionMatch, JSON.stringify(trained)).toBe(true);
    expect(trained.stateAgreement, JSON.stringify(trained)).toBeGreaterThanOrEqual(0.95);
  }, 300_000);
});

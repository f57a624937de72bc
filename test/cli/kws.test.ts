import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliFixture, EXIT_ERROR, type CliFixture } from './fixture.js';
import { toyFeatureSet, toyMultiFeatureSet, writeToyFeatureFile } from '../train/toy.js';
import { saveModel } from '../../src/model/load.js';
import { trainingData } from '../../src/train/data.js';
import { trainNetwork } from '../../src/train/trainer.js';

// The real binary and real ngspice on the shipped KWS model, with short (6-frame) clips so the test stays quick.
let cli: CliFixture;
beforeAll(async () => {
  cli = await cliFixture();
  await writeToyFeatureFile(path.join(cli.dir, 'toy.safetensors'), toyFeatureSet(40, 6));
  // 3 classes (silence, unknown, yes), 6-frame clips, and a width-4 model of them (its accuracy does not matter here).
  const multi = toyMultiFeatureSet(['yes'], 10, 6);
  await writeToyFeatureFile(path.join(cli.dir, 'toy3.safetensors'), multi);
  const r = await trainNetwork(trainingData(multi, 'toy3'), { epochs: 2, batchSize: 8, seed: 1 });
  await saveModel({ ...r.network, unitCurrentA: 2.5e-10 }, path.join(cli.dir, 'toy3.json'), 'toy 3-class model');
});
afterAll(() => cli.cleanUp());

describe('bmru kws', () => {
  it('scores clips in software and circuit, writes per-clip results, and resumes instead of simulating again', async () => {
    const args = ['kws', '-f', 'toy.safetensors', '--clips', '2', '-o', 'k', '-q', '--min-agreement', '0'];
    const r = await cli.run(args);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^clips: 2 \(2 simulated\)/m);
    expect(r.stdout).toMatch(/^circuit \(ngspice\) +\d\/2 = [\d.]+%$/m);
    expect(r.stdout).toMatch(/^decision agreement with hwaware, the verdict's reference: \d\/2/m);
    expect(r.stdout).toMatch(/^trained +\d\/2 = [\d.]+% +[\d.]+% +[\d.]+%$/m);
    expect(r.stdout).toMatch(/^realised +\d\/2 = [\d.]+% +[\d.]+% +[\d.]+%$/m);
    expect(r.stdout).toMatch(/^hwaware \(verdict\) +\d\/2 = [\d.]+% +[\d.]+% +[\d.]+%$/m);
    expect(r.stdout).toMatch(/^unit-frames that disagree with hwaware, over all clips, by cause/m);
    expect(r.stdout).toMatch(/^carried +\d+ +\d+ +\d+ +\d+ +still holds a wrong state/m);
    expect(r.stdout).toMatch(/^RNN core \(cell \+ ff \+ bias\): [\d.]+ nW, total [\d.]+ nW; energy per inference/m);
    const csv = (await readFile(path.join(cli.dir, 'k', 'kws.csv'), 'utf8')).trim().split('\n');
    expect(csv).toHaveLength(3);
    expect(csv[1]).toMatch(/^no__toy_nohash_8,no\/toy_nohash_8\.wav,no,0,[01],[01],[01],[\d.]+,[\d.]+,/);
    const json = JSON.parse(await readFile(path.join(cli.dir, 'k', 'kws.json'), 'utf8'));
    expect(json.unitCurrentA).toBe(2.5e-10);
    expect(json.summary.simulated).toBe(2);
    expect(json.reference).toBe('hwaware');
    expect(Object.keys(json.summary.references)).toEqual(['trained', 'realised', 'hwaware']);
    expect(csv[0]).toMatch(
      /,reference,decision_trained,state_agreement_trained,decision_realised,state_agreement_realised,decision_hwaware,state_agreement_hwaware$/,
    );
    const html = await readFile(path.join(cli.dir, 'k', 'kws.html'), 'utf8');
    expect(html.match(/<svg/g)!.length).toBeGreaterThanOrEqual(4); // logits, two blocks' states, agreement, power
    // The shown clip as waveforms (the compare page): one V0 chart per cell, in seconds over the whole clip.
    expect(r.stdout).toContain('waveforms.html (');
    const waves = await readFile(path.join(cli.dir, 'k', 'waveforms.html'), 'utf8');
    expect(waves).not.toContain(cli.dir);
    const data = JSON.parse(/<script type="application\/json" id="bmru-data">([\s\S]*?)<\/script>/.exec(waves)![1]) as {
      charts: { id: string }[];
    };
    const ids = data.charts.map((c) => c.id);
    for (const id of ['b0u0-v0', 'b0u3-cand', 'b1u3-v0']) expect(ids).toContain(id);
    expect(await readdir(path.join(cli.dir, 'k', 'results'))).toHaveLength(2);

    const again = await cli.run(args);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^clips: 2 \(2 simulated, 2 of them by an earlier run\)/m);

    // Another I_unit in the same folder: new jobs, and the other current's results are not mixed in.
    const other = await cli.run([...args, '--unit-current', '1e-9']);
    expect(other.exitCode, other.stderr).toBe(0);
    expect(other.stdout).toMatch(/^clips: 2 \(2 simulated\)/m);
    expect(JSON.parse(await readFile(path.join(cli.dir, 'k', 'kws.json'), 'utf8')).unitCurrentA).toBe(1e-9);
    expect(await readdir(path.join(cli.dir, 'k', 'results'))).toHaveLength(4);
  });

  it('rejects an unknown --show clip before simulating anything', async () => {
    const r = await cli.run([
      'kws',
      '-f',
      'toy.safetensors',
      '--clips',
      '2',
      '-o',
      'typo',
      '-q',
      '--show',
      'yes__nope',
    ]);
    expect(r.exitCode).toBe(EXIT_ERROR);
    expect(r.stderr).toMatch(/--show.*not one of the 2 chosen clips \(e\.g\. no__toy_nohash_8\)/);
    await expect(readdir(path.join(cli.dir, 'typo'))).rejects.toThrow(/ENOENT/);
  });

  it('tells how to make the default features file when it is missing', async () => {
    const r = await cli.run(['kws']);
    expect(r.exitCode).toBe(EXIT_ERROR);
    expect(r.stderr).toMatch(/data\/kws-synth\/features\.safetensors.*bmru kws-data --features ""/);
  });

  it('runs a 3-class model on the circuit: per-class accuracy and the confusion matrix of each decision source', async () => {
    const r = await cli.run([
      'kws',
      '-m',
      'toy3.json',
      '-f',
      'toy3.safetensors',
      '--clips',
      '3',
      '-o',
      'k3',
      '-q',
      '--clamp',
      '--min-agreement',
      '0',
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^clips: 3 \(3 simulated\); 3 classes \(_silence_, _unknown_, yes\)/m);
    expect(r.stdout).toMatch(/^_silence_ +[01]\/1 +[01]\/1 +[01]\/1$/m);
    expect(r.stdout).toMatch(/^true \\ decided +_silence_ +_unknown_ +yes$/m);
    const json = JSON.parse(await readFile(path.join(cli.dir, 'k3', 'kws.json'), 'utf8'));
    for (const source of ['trained', 'software', 'circuit']) {
      const m = json.summary.byClass[source].confusion as number[][];
      expect(m.map((row) => row.length)).toEqual([3, 3, 3]);
      // The 3 test clips are one of each class (clip i is class i mod 3): every row sums to 1.
      expect(m.map((row) => row.reduce((a, b) => a + b, 0))).toEqual([1, 1, 1]);
    }
    const html = await readFile(path.join(cli.dir, 'k3', 'kws.html'), 'utf8');
    expect(html).toContain('Decisions per class: circuit (ngspice)');
    expect(html).toContain('<tr><th>true \\ decided</th><th>_silence_</th><th>_unknown_</th><th>yes</th></tr>');
  });

  it("refuses features whose class count is not the model's, before simulating anything", async () => {
    const r = await cli.run(['kws', '-f', 'toy3.safetensors', '--clips', '2', '-o', 'mismatch', '-q']);
    expect(r.exitCode).toBe(EXIT_ERROR);
    expect(r.stderr).toContain('has 3 classes (_silence_, _unknown_, yes), the model');
    expect(r.stderr).toContain('has 2 outputs');
    await expect(readdir(path.join(cli.dir, 'mismatch'))).rejects.toThrow(/ENOENT/);
  });
});

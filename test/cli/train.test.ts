import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../src/model/load.js';
import { runNetwork } from '../../src/model/network.js';
import { toyFeatureSet, writeToyFeatureFile } from '../train/toy.js';
import { cliFixture, expectOneErrorLine, type CliFixture } from './fixture.js';

// The real binary in a temp dir: see fixture.ts (dist/ must be built; npm test does).
let cli: CliFixture;
beforeAll(async () => {
  cli = await cliFixture();
  await writeToyFeatureFile(path.join(cli.dir, 'toy.safetensors'));
});
afterAll(() => cli.cleanUp());

/** A 12-epoch run on the toy set (test/train/toy.ts), which these settings learn to 100% on every split. */
const toyTraining = () => [
  'train',
  '-f',
  path.join(cli.dir, 'toy.safetensors'),
  '--epochs',
  '12',
  '--batch-size',
  '8',
  '--lr',
  '0.03',
  '--warmup-steps',
  '5',
];

describe('bmru train', () => {
  it('trains, reports the splits, and writes the model, report, loss CSV and plots', async () => {
    const r = await cli.run([...toyTraining(), '-o', 'out/toy.json']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^test\s+8\s+100\.00%/m);
    expect(r.stdout).toContain(
      'wrote out/toy.json, out/toy.report.json, out/toy.loss.csv, out/toy.loss.svg, out/toy.training.html',
    );
    expect(r.stderr).toContain('24 train / 8 validation / 8 test clips');
    expect(r.stderr).toMatch(/train 12 epochs in [\d.]+ s, kept epoch \d+/);
    const net = await loadModel(path.join(cli.dir, 'out/toy.json'));
    expect([net.width, net.blocks.length, net.cellParams]).toEqual([4, 2, 'realised']);
    // The features file by name only, so the model file does not depend on the folder training ran in.
    const file = JSON.parse(await readFile(path.join(cli.dir, 'out/toy.json'), 'utf8'));
    expect(file.description).toContain(' on toy.safetensors; test accuracy');
    const report = JSON.parse(await readFile(path.join(cli.dir, 'out/toy.report.json'), 'utf8'));
    expect(report.scores.test.accuracy).toBe(1);
    expect(report.parameters.parameters).toBe(178); // the reference KWS network's count (DESIGN §1)
    expect(report.options.seed).toBe(1);
    // Hardware-aware by default: both shipped kits' cell limits, checkpoint chosen by their hardware-aware models.
    expect(report.options.cellLimits.processes).toEqual(['c180', 'gf180mcu']);
    expect(report.options.margin).toBe(0.2);
    expect(r.stdout).toMatch(/^hardware-aware selection on c180,gf180mcu: \d+ checkpoints within 1\.00% /m);
    expect(report.hardwareSelection.length).toBeGreaterThan(0);
    for (const h of report.hardwareSelection) expect(h.score).toBeGreaterThan(0.5);
    expect(report.hardwareSelection.map((h: { epoch: number }) => h.epoch)).toContain(report.bestEpoch);
    // The silence guard's verdict is the saved model's own decision on all-zero features.
    const frames = report.clips.frames;
    const silent = runNetwork(net, { frames, features: 13, data: new Float64Array(frames * 13) }).decision;
    expect(report.silence.decision).toBe(silent);
    expect(report.silence.class).toBe(['other', 'yes'][silent]);
    expect(r.stdout).toContain(`a digitally silent clip (all-zero features) is decided '${report.silence.class}'`);
    const csv = (await readFile(path.join(cli.dir, 'out/toy.loss.csv'), 'utf8')).trim().split('\n');
    expect(csv).toHaveLength(13);
    expect(csv[0]).toMatch(/^epoch,steps,lr,/);
    expect(await readFile(path.join(cli.dir, 'out/toy.loss.svg'), 'utf8')).toMatch(/^<svg/);
  });

  it('--select-by mismatch keeps the checkpoint whose validation decisions flip least over the Monte Carlo chips', async () => {
    const r = await cli.run([
      ...toyTraining(),
      '--select-by',
      'mismatch',
      '--select-draws',
      '5',
      '--select-slack',
      '1',
      '-q',
      '-o',
      'out/toy-mc.json',
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^mismatch-aware selection on c180,gf180mcu: \d+ checkpoints within 100\.00% of the best validation accuracy; their validation decisions hold on [\d.]+% \.\. [\d.]+% of 5 Monte Carlo chips x clips/m,
    );
    expect(r.stdout).toContain('fewest validation decisions flipped by mismatch');
    const report = JSON.parse(await readFile(path.join(cli.dir, 'out/toy-mc.report.json'), 'utf8'));
    expect(report.selectBy).toEqual({ rule: 'mismatch', draws: 5 });
    const scored: { epoch: number; score: number }[] = report.hardwareSelection;
    // A score is 1 - a flip fraction of 5 chips x 8 validation clips: a whole number of 40ths.
    // With every checkpoint in the pool (--select-slack 1) some early ones flip: the scores tell them apart.
    for (const h of scored) expect(Math.abs(h.score * 40 - Math.round(h.score * 40))).toBeLessThan(1e-9);
    expect(Math.min(...scored.map((h) => h.score))).toBeLessThan(1);
    const kept = scored.find((h) => h.epoch === report.bestEpoch)!;
    expect(kept.score).toBe(Math.max(...scored.map((h) => h.score)));
    const bad = await cli.run(['train', '--select-draws', '0']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('--select-draws must be an integer >= 1, got 0');
  });

  it('--checkpoints writes every checkpoint the selection chose among, the kept one as the model file holds it', async () => {
    const r = await cli.run([...toyTraining(), '--checkpoints', 'out/ck', '-q', '-o', 'out/toy-ck.json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const csv = (await readFile(path.join(cli.dir, 'out/ck/checkpoints.csv'), 'utf8')).trim().split('\n');
    expect(csv[0]).toBe('epoch,accuracy,loss,score,kept,silence,file');
    const rows = csv.slice(1).map((l) => l.split(','));
    // Training without annealing: every epoch is a checkpoint.
    expect(rows.map((c) => Number(c[0]))).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(r.stdout).toContain('wrote 12 checkpoints and checkpoints.csv to out/ck');
    const report = JSON.parse(await readFile(path.join(cli.dir, 'out/toy-ck.report.json'), 'utf8'));
    expect(rows.filter((c) => c[4] === '1').map((c) => Number(c[0]))).toEqual([report.bestEpoch]);
    // The selection's scores, for the checkpoints it scored only.
    const scored = new Map(report.hardwareSelection.map((h: { epoch: number; score: number }) => [h.epoch, h.score]));
    for (const c of rows) expect(c[3] === '' ? undefined : Number(c[3])).toBe(scored.get(Number(c[0])));
    expect(rows[2][6]).toBe('epoch-03.json');
    // The kept checkpoint decides silence as the report says; a checkpoint the guard left out decides 'yes'.
    expect(rows.find((c) => c[4] === '1')![5]).toBe(report.silence.class);
    for (const c of rows) expect(['other', 'yes']).toContain(c[5]);
    const kept = await loadModel(path.join(cli.dir, 'out/ck', rows.find((c) => c[4] === '1')![6]));
    const model = await loadModel(path.join(cli.dir, 'out/toy-ck.json'));
    expect(kept).toEqual(model);
    // Another checkpoint is another network (epoch 1 is far from the kept one on this set).
    const first = await loadModel(path.join(cli.dir, 'out/ck/epoch-01.json'));
    expect(first.blocks[0].cand.weight.data).not.toEqual(model.blocks[0].cand.weight.data);
  });

  it('--focus-margin marks where the circuits leave the network every --focus-every epochs from --focus-after', async () => {
    const args = [...toyTraining(), '--focus-margin', '0.5', '--focus-every', '4', '--focus-after', '0.25', '-q'];
    const r = await cli.run([...args, '-o', 'out/toy-focus.json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const report = JSON.parse(await readFile(path.join(cli.dir, 'out/toy-focus.report.json'), 'utf8'));
    // 12 epochs of 3 steps: the first step at or after 25% of the 36 is step 9, the first of epoch 4; then 8, 12.
    const marks: { epoch: number; unitFrames: number }[] = report.focusMarks;
    expect(marks.map((m) => m.epoch)).toEqual([4, 8, 12]);
    for (const m of marks) expect(Number.isInteger(m.unitFrames) && m.unitFrames >= 0).toBe(true);
    expect(r.stdout).toContain(
      `margin focus: the circuits left the network on ${marks.map((m) => m.unitFrames).join(', ')} training unit-frames at epochs 4, 8, 12`,
    );
    expect(report.options.focus).toMatchObject({ every: 4, after: 0.25, margin: 0.5, weight: 1 });
    // Without --focus-margin nothing is marked and the report says nothing of it.
    const plain = JSON.parse(await readFile(path.join(cli.dir, 'out/toy.report.json'), 'utf8'));
    expect(plain.focusMarks).toBeUndefined();
    const none = await cli.run([...args, '--process', 'none', '-o', 'out/toy-none.json']);
    expect(none.exitCode).toBe(2);
    expect(none.stderr).toContain('--focus-margin needs a --process');
  });

  it('names the features file and the field it cannot use', async () => {
    const set = toyFeatureSet();
    set.target[2] = 3;
    await writeToyFeatureFile(path.join(cli.dir, 'bad.safetensors'), set);
    expectOneErrorLine(
      await cli.run(['train', '-f', 'bad.safetensors', '--epochs', '1']),
      'bad.safetensors',
      "'target'",
      'index 2',
    );
    expectOneErrorLine(await cli.run(['train', '-f', 'nowhere.safetensors']), 'nowhere.safetensors', 'cannot read');
  });

  it('refuses bad options with the rule, and a starting model of another shape', async () => {
    const r = await cli.run(['train', '--width', '0']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('--width must be an integer >= 1, got 0');
    const b = await cli.run(['train', '--build-at', '5e-10,1x']);
    expect(b.exitCode).toBe(2);
    expect(b.stderr).toContain("--build-at must be currents in A (> 0), comma-separated, got '1x'");
    expectOneErrorLine(
      await cli.run([
        'train',
        '-f',
        'toy.safetensors',
        '--epochs',
        '1',
        '-q',
        '--process',
        'c180,nowhere/process.json',
      ]),
      'nowhere/process.json',
    );
    // out/toy.json is the width-4 model the first test wrote.
    expectOneErrorLine(
      await cli.run(['train', '-f', 'toy.safetensors', '--init', 'out/toy.json', '--width', '2']),
      'out/toy.json',
      'H=4',
      'H=2',
      '--width',
    );
  });
});

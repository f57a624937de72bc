import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliFixture, exampleClip, expectOneErrorLine, TINY_CLIP, tinyModel, type CliFixture } from './fixture.js';

// The real binary in a temp dir: see fixture.ts (dist/ must be built; npm test does). One end-to-end run
// on a 5-frame clip (about 10 s). The fidelity numbers are not checked: the circuit is still being
// calibrated, so only the report's shape, the files and the exit code's meaning are.
let cli: CliFixture;
beforeAll(async () => {
  cli = await cliFixture();
});
afterAll(() => cli.cleanUp());

describe('bmru compare', () => {
  it('co-simulates a 5-frame clip, prints the agreement and a verdict, and writes report.json', async () => {
    const clip = await cli.write('clip5.csv', exampleClip(5));
    const r = await cli.run(['compare', '-i', clip, '-o', 'cmp', '--timeout', '120']);
    expect([0, 1], r.stderr).toContain(r.exitCode);
    expect(r.stdout).toMatch(/^state agreement +[\d.]+% of 40 unit-frames/m); // 5 frames x 2 blocks x 4 cells
    const verdict = /^verdict: (PASS|FAIL) \(the circuit judged against the hwaware model/m.exec(r.stdout)?.[1];
    expect(verdict).toBe(r.exitCode === 0 ? 'PASS' : 'FAIL');
    expect(r.stdout).toContain('report: cmp/report.json');
    expect(r.stderr).toMatch(/^ngspice: 5 frames on c180 done \([\d.]+ s\)$/m);
    const report = JSON.parse(await readFile(path.join(cli.dir, 'cmp', 'report.json'), 'utf8'));
    expect(report.verdict.pass).toBe(verdict === 'PASS');
    expect(report).toMatchObject({ process: 'c180', ngspiceVersion: expect.stringMatching(/^39/) });
  });
});

describe('bmru compare: three references', () => {
  const compareTiny = (model: string, clip: string, out: string, ...more: string[]) =>
    cli.run(['compare', '-m', model, '-i', clip, '-o', out, ...more]);
  it('scores the circuit against the trained, the realised and the table-built hwaware model, judges hwaware by default, and --reference switches the verdict', async () => {
    const model = await cli.write('tiny.json', tinyModel(0.2));
    const clip = await cli.write('tiny.csv', TINY_CLIP);
    const byDefault = await compareTiny(model, clip, 'ref-default', '--timeout', '60');
    expect(byDefault.exitCode, byDefault.stderr).toBe(0);
    expect(byDefault.stdout).toMatch(/^trained +33\.33% +4 +33\.33% +1 \/ 0 DIFFERENT$/m);
    expect(byDefault.stdout).toMatch(/^realised +100\.00% +0 +100\.00% +0 \/ 0 same$/m);
    expect(byDefault.stdout).toMatch(/^hwaware \(verdict\) +100\.00% +0 +100\.00% +0 \/ 0 same$/m);
    expect(byDefault.stdout).toMatch(/^verdict: PASS \(the circuit judged against the hwaware model/m);
    const report = JSON.parse(await readFile(path.join(cli.dir, 'ref-default', 'report.json'), 'utf8'));
    expect(report.reference).toBe('hwaware');
    expect(Object.keys(report.references)).toEqual(['trained', 'realised', 'hwaware']);
    expect(report.comparison.stateAgreement).toBe(1);
    expect(report.references.trained).toMatchObject({
      stateAgreement: 2 / 6,
      decisionMatch: false,
      softwareDecision: 1,
      circuitDecision: 0,
    });
    expect(report.references.realised).toMatchObject({ stateAgreement: 1, voteAgreement: 1, decisionMatch: true });

    const trained = await compareTiny(model, clip, 'ref-trained', '--timeout', '60', '--reference', 'trained');
    expect(trained.exitCode, trained.stderr).toBe(1);
    expect(trained.stdout).toMatch(/^trained \(verdict\) +33\.33%/m);
    expect(trained.stdout).toContain(
      "note: realised predicts the circuit's states better than trained, the verdict's reference (100.00% vs 33.33%)",
    );
    expect(trained.stdout).toMatch(/^verdict: FAIL \(the circuit judged against the trained model/m);
    const tr = JSON.parse(await readFile(path.join(cli.dir, 'ref-trained', 'report.json'), 'utf8'));
    expect(tr).toMatchObject({ reference: 'trained', verdict: { pass: false }, comparison: { stateAgreement: 2 / 6 } });
    expect(tr.references.realised.stateAgreement).toBe(1);
  });

  it('scores a hardware-aware model file as the hwaware reference, and refuses --reference hwaware where there is none', async () => {
    const model = await cli.write('tiny-hw.json', tinyModel(0.2));
    const clip = await cli.write('tiny-hw.csv', TINY_CLIP);
    // Any model of the same shape and I_unit is accepted; the realised parameters stand in for a fitted one.
    const exported = await cli.run(['export', '-m', model, '-i', clip, '-o', 'hw-exp']);
    expect(exported.exitCode, exported.stderr).toBe(0);
    const r = await compareTiny(
      model,
      clip,
      'ref-hw',
      '--timeout',
      '60',
      '--hwaware-model',
      'hw-exp/realised.json',
      '--reference',
      'hwaware',
    );
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^hwaware \(verdict\) +100\.00%/m);
    const report = JSON.parse(await readFile(path.join(cli.dir, 'ref-hw', 'report.json'), 'utf8'));
    expect(Object.keys(report.references)).toEqual(['trained', 'realised', 'hwaware']);
    expect(report).toMatchObject({ reference: 'hwaware', hwawareModel: 'hw-exp/realised.json' });

    // Without calibration tables there is no table-built model: asking for hwaware names what would provide one.
    expectOneErrorLine(
      await compareTiny(model, clip, 'ref-none', '--no-calibrated', '--reference', 'hwaware'),
      'reference',
      'hardware tables give none for process c180',
      'bmru calibrate -p c180',
      '--hwaware-model',
    );
    const other = await cli.write(
      'other.json',
      JSON.stringify({ ...JSON.parse(tinyModel(0.2)), unitCurrentA: 2.5e-10 }),
    );
    expectOneErrorLine(
      await compareTiny(model, clip, 'ref-other', '--hwaware-model', other),
      'other.json',
      'unitCurrentA',
      'not a hardware-aware model of this network',
    );
  });

  it('says in --help which reference the verdict uses by default', async () => {
    const r = await cli.run(['compare', '--help']);
    expect(r.stdout).toMatch(/--reference[\s\S]*trained[\s\S]*realised[\s\S]*hwaware/);
    expect(r.stdout).toMatch(
      /default: the best predictor available for the process: hwaware where its calibration has hardware tables/,
    );
  });
});

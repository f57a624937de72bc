import { readdir, readFile, stat } from 'node:fs/promises';
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

describe('bmru compare --unit-current', () => {
  it("builds the network at that I_unit instead of the model's and records it in report.json", async () => {
    const clip = await cli.write('clip3.csv', exampleClip(3));
    // SPICE notation, as ngspice reads it: 500p with the unit's letter after it.
    const r = await cli.run(['compare', '-i', clip, '-o', 'at500p', '--unit-current', '500pA', '--timeout', '120']);
    expect([0, 1], r.stderr).toContain(r.exitCode);
    const deck = await readFile(path.join(cli.dir, 'at500p', 'deck.cir'), 'utf8');
    expect(deck.split('\n')[2]).toMatch(/; I_unit = 5e-10 A$/); // the example model's own is 1e-9
    const report = JSON.parse(await readFile(path.join(cli.dir, 'at500p', 'report.json'), 'utf8'));
    expect(report.unitCurrentA).toBe(5e-10);
  });
});

describe('bmru compare --spice-option', () => {
  it('writes the options over the defaults into the deck, records them, and refuses what is not name=value', async () => {
    const clip = await cli.write('clip3o.csv', exampleClip(3));
    const r = await cli.run([
      'compare',
      '-i',
      clip,
      '-o',
      'loose',
      '--spice-option',
      'reltol=1e-3',
      '--spice-option',
      'abstol=1e-13',
      '--timeout',
      '120',
    ]);
    expect([0, 1], r.stderr).toContain(r.exitCode);
    const options = (await readFile(path.join(cli.dir, 'loose', 'deck.cir'), 'utf8'))
      .split('\n')
      .find((l) => l.startsWith('.options'))!;
    // the two given replace the defaults (1e-4, 1e-15); the others stay
    expect(options).toMatch(/ reltol=0\.001 /);
    expect(options).toMatch(/ abstol=1e-13 /);
    expect(options).toMatch(/ gmin=1e-15 /);
    expect(options).not.toMatch(/reltol=0\.0001|abstol=1e-15/);
    const report = JSON.parse(await readFile(path.join(cli.dir, 'loose', 'report.json'), 'utf8'));
    expect(report.spiceOptions).toEqual({ reltol: 0.001, abstol: 1e-13 });
    for (const bad of ['reltol', 'reltol=', '=1e-3', 'reltol=1e-3 .include /etc/passwd'])
      expectOneErrorLine(await cli.run(['compare', '--spice-option', bad]), '--spice-option expects name=value');
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

/** The page's embedded data (plot/waveforms.ts): per chart, its traces decoded to seconds and volts/amperes. */
function pageTraces(html: string): Map<string, Map<string, { tS: number[]; y: number[]; kind: string }>> {
  const json = /<script type="application\/json" id="bmru-data">([\s\S]*?)<\/script>/.exec(html)?.[1];
  expect(json, 'report.html embeds its data').toBeDefined();
  const page = JSON.parse(json!) as {
    charts: {
      id: string;
      traces: { name: string; kind: string; lo: number; q: number; dtNs: number[]; yq: number[] }[];
    }[];
  };
  return new Map(
    page.charts.map((c) => [
      c.id,
      new Map(
        c.traces.map((t) => {
          let ns = 0;
          const tS = t.dtNs.map((d) => (ns += d) * 1e-9);
          return [t.name, { tS, y: t.yq.map((v) => t.lo + t.q * v), kind: t.kind }];
        }),
      ),
    ]),
  );
}

describe('bmru compare: waveform page and rawfile', () => {
  it('writes report.html with the cell V0 and candidate waveforms, keeps the rawfile with --keep-raw, and --from-raw scores it again without ngspice', async () => {
    const model = await cli.write('tiny-wave.json', tinyModel(0.2));
    const clip = await cli.write('tiny-wave.csv', TINY_CLIP);
    const args = ['-m', model, '-i', clip, '--reference', 'trained', '--timeout', '60'];
    const r = await cli.run(['compare', ...args, '-o', 'wave', '--keep-raw', '--waveforms', 'b0c0_in, i(vvdd_cell)']);
    expect(r.exitCode, r.stderr).toBe(1); // against the trained model the tiny circuit disagrees (see tinyModel)
    expect(r.stdout).toContain('waveforms: wave/report.html');
    expect(r.stdout).toContain('rawfile kept: wave/circuit.raw (bmru compare --from-raw wave/circuit.raw');
    expect((await stat(path.join(cli.dir, 'wave', 'circuit.raw'))).size).toBeGreaterThan(1000);
    // --keep-raw alone keeps the rawfile, not ngspice's work directory.
    expect((await readdir(cli.dir)).filter((f) => f.startsWith('bmru-ngspice-compare-'))).toEqual([]);

    const html = await readFile(path.join(cli.dir, 'wave', 'report.html'), 'utf8');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/); // one file: nothing to fetch
    expect(html).not.toContain(cli.dir); // no absolute paths in titles
    expect(html).toContain('verdict: FAIL (the circuit judged against the trained model');
    const charts = pageTraces(html);
    const v0 = charts.get('b0u0-v0')!.get('circuit v(b0c0_v0)')!;
    expect(v0.kind).toBe('circuit');
    expect(v0.tS.at(-1)).toBeCloseTo(0.06, 9); // 6 frames of 10 ms
    // The realised cell never turns on (see tinyModel): its V0 stays low all run.
    expect(Math.max(...v0.y)).toBeLessThan(0.9);
    const cand = charts.get('b0u0-cand')!;
    const circuit = cand.get('circuit i(vm_b0c0_in)')!;
    expect(circuit.tS.length).toBeGreaterThan(6);
    // Realised: 0.2 nA (the input weight is left out), below beta_lo = 0.3 nA.
    expect(circuit.y.at(-1)! * 1e9).toBeCloseTo(0.2, 1);
    expect(cand.get('beta_lo x I_unit = 300.00 pA')!.y).toEqual([expect.closeTo(3e-10, 12), expect.closeTo(3e-10, 12)]);
    expect(cand.get('beta_hi x I_unit = 500.00 pA')!.kind).toBe('level');
    // The trained model's candidate as one step per frame: 0.005 x + 0.2 nA on x = 0 80 80 0 80 80.
    const steps = cand.get('trained model candidate')!;
    expect(steps.kind).toBe('software');
    expect(steps.y.slice(0, 6).map((a) => Number((a * 1e9).toFixed(3)))).toEqual([0.2, 0.6, 0.6, 0.2, 0.6, 0.6]);
    expect(steps.tS.slice(0, 3).map((t) => Number(t.toFixed(9)))).toEqual([0, 0.01, 0.02]);
    expect([...charts.keys()]).toEqual(
      expect.arrayContaining(['supply-cell', 'supply-ff', 'supply-bias', 'supply-in', 'extra-0', 'extra-1']),
    );
    expect([...charts.get('extra-0')!.keys()]).toEqual(['circuit v(b0c0_in)']);
    expect(html.match(/<option value="disagreement"/g)).toHaveLength(4);

    const again = await cli.run(['compare', ...args, '-o', 'wave-again', '--from-raw', 'wave/circuit.raw']);
    expect(again.exitCode, again.stderr).toBe(1);
    expect(again.stderr).not.toContain('ngspice:');
    const [first, second] = await Promise.all(
      ['wave', 'wave-again'].map(async (d) => JSON.parse(await readFile(path.join(cli.dir, d, 'report.json'), 'utf8'))),
    );
    expect(second.comparison).toEqual(first.comparison);
    expect(second.references).toEqual(first.references);
  });

  it('refuses a --waveforms entry that is not a vector name, and a rawfile of another clip', async () => {
    const model = await cli.write('tiny-wave2.json', tinyModel(0.2));
    const clip = await cli.write('tiny-wave2.csv', TINY_CLIP);
    expectOneErrorLine(
      await cli.run(['compare', '-m', model, '-i', clip, '-o', 'bad', '--waveforms', 'v(a) .include x']),
      'waveforms',
      'expected a vector to save',
    );
    const shorter = await cli.write('tiny-wave3.csv', 'x\n0\n80\n');
    await cli.run(['compare', '-m', model, '-i', clip, '-o', 'w6', '--keep-raw', '--timeout', '60']);
    expectOneErrorLine(
      await cli.run(['compare', '-m', model, '-i', shorter, '-o', 'w2', '--from-raw', 'w6/circuit.raw']),
      'w6/circuit.raw',
      'not a rawfile of this run',
    );
  });
});

describe('bmru compare --partitioned', () => {
  it('simulates partition by partition, says so in the summary and report.json, and refuses --keep-raw with it', async () => {
    const clip = await cli.write('clip3p.csv', exampleClip(3));
    const r = await cli.run(['compare', '-i', clip, '-o', 'parted', '--partitioned', '--timeout', '120']);
    expect([0, 1], r.stderr).toContain(r.exitCode);
    expect(r.stdout).toMatch(
      /^ngspice [\d.]+, partitioned \(4 partitions\) on local pool \(2 workers\): \d+ transistors, 3 frames/m,
    );
    // One deck per partition unless asked: a window from its operating point is exact only where nodes forget.
    expect(r.stdout).toMatch(
      /^ {2}front end \d+ tr\. [\d.]+ s, block 0 \d+ tr\. [\d.]+ s, block 1 \d+ tr\. [\d.]+ s, classifier \d+ tr\. [\d.]+ s$/m,
    );
    const report = JSON.parse(await readFile(path.join(cli.dir, 'parted', 'report.json'), 'utf8'));
    expect(report.simulation).toBe('partitioned (4 partitions)');
    expect(report.executor).toBe('local pool (2 workers)');
    expect(report.partitions.map((p: { label: string }) => p.label)).toEqual([
      'front end',
      'block 0',
      'block 1',
      'classifier',
    ]);
    expect(report.partitions.map((p: { windows?: number }) => p.windows ?? 1)).toEqual([1, 1, 1, 1]);
    // Hand-offs replayed from files where ngspice has its code models (it does here); the front end reads none.
    expect(report.partitions.map((p: { handoffReplay?: string }) => p.handoffReplay)).toEqual([
      undefined,
      'file',
      'file',
      'file',
    ]);
    const bsource = await cli.run([
      'compare',
      '-i',
      clip,
      '-o',
      'bsrc',
      '--partitioned',
      '--handoff-replay',
      'bsource',
    ]);
    expect([0, 1], bsource.stderr).toContain(bsource.exitCode);
    expect(bsource.stdout).toMatch(
      /^ngspice [\d.]+, partitioned \(4 partitions, hand-offs as B sources\) on local pool/m,
    );
    const bsourceReport = JSON.parse(await readFile(path.join(cli.dir, 'bsrc', 'report.json'), 'utf8'));
    expect(bsourceReport.partitions.map((p: { handoffReplay?: string }) => p.handoffReplay)).toEqual([
      undefined,
      'bsource',
      'bsource',
      'bsource',
    ]);
    // Asked for, the front end and the classifier (they forget and run alone) are cut in two; blocks hold cells.
    const cut = await cli.run(['compare', '-i', clip, '-o', 'cut', '--partitioned', '--time-windows', '2']);
    expect([0, 1], cut.stderr).toContain(cut.exitCode);
    expect(cut.stdout).toMatch(
      /^ {2}front end \d+ tr\. [\d.]+ s \(2 time windows\), block 0 \d+ tr\. [\d.]+ s, block 1 \d+ tr\. [\d.]+ s, classifier \d+ tr\. [\d.]+ s \(2 time windows\)$/m,
    );
    const mono = await cli.run(['compare', '-i', clip, '-o', 'mono', '--timeout', '120']);
    expect(mono.stdout).toMatch(/^ngspice [\d.]+, monolithic: /m);
    const refused = await cli.run(['compare', '-i', clip, '-o', 'x', '--partitioned', '--keep-raw']);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('--partitioned does not go with --from-raw, --keep-raw or --waveforms yet');
  });

  it('splits each block per cell with --partition-by cell, runs them on -j workers, and refuses -j 0', async () => {
    const clip = await cli.write('clip3c.csv', exampleClip(3));
    const r = await cli.run([
      'compare',
      '-i',
      clip,
      '-o',
      'cells',
      '--partitioned',
      '--partition-by',
      'cell',
      '-j',
      '2',
      '--timeout',
      '120',
    ]);
    expect([0, 1], r.stderr).toContain(r.exitCode);
    const report = JSON.parse(await readFile(path.join(cli.dir, 'cells', 'report.json'), 'utf8'));
    // The example: 4 cells and 4 outputs per block, each with a shared part: front end + 2 x (1 + 4 + 1 + 4) +
    // classifier.
    expect(report.simulation).toBe('partitioned (22 partitions)');
    expect(report.partitions.map((p: { label: string }) => p.label).slice(0, 12)).toEqual([
      'front end',
      'block 0 shared',
      'block 0 cell 0',
      'block 0 cell 1',
      'block 0 cell 2',
      'block 0 cell 3',
      'block 0 outputs shared',
      'block 0 output 0',
      'block 0 output 1',
      'block 0 output 2',
      'block 0 output 3',
      'block 1 shared',
    ]);
    const refused = await cli.run(['compare', '-i', clip, '-o', 'x', '--partitioned', '-j', '0']);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('--workers must be an integer >= 1, got 0');
  });
});

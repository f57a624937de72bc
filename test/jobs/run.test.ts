/**
 * The batch runner on real ngspice, with jobs of 2-frame clips (a few seconds each). A fake ngspice (a shell
 * script that kills itself with SIGSEGV, once or always) stands in for a crashing simulator.
 */
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expandPlan, parsePlan, type ExpandedPlan } from '../../src/jobs/plan.js';
import { runBatch } from '../../src/jobs/run.js';
import { outPaths, readAllResults } from '../../src/jobs/store.js';
import { REPO_ROOT } from '../helpers.js';
import { TINY_CLIP, tinyModel } from '../cli/fixture.js';
import { aggregate, openBatch } from '../../src/jobs/report.js';
import { buildDatasheet } from '../../src/jobs/datasheet.js';
import { CSV_HEADER, csvRow } from '../../src/jobs/store.js';

const EXAMPLE = path.join(REPO_ROOT, 'models', 'example');
const MODEL = path.join(EXAMPLE, 'kws-example.json');
const CLIP = path.join(EXAMPLE, 'clip-101.csv');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'bmru-run-test-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** A plan in the temp dir with its own output folder: the example model on 2-frame noisy clips. */
async function planOf(
  name: string,
  extra: string,
  opts: { seeds?: number; models?: string } = {},
): Promise<ExpandedPlan> {
  const text = [
    `name: ${name}`,
    'process: c180',
    `models: [${opts.models ?? MODEL}]`,
    `inputs: [{ file: ${CLIP}, frames: 2, noiseSd: 0.05 }]`,
    `seeds: { count: ${opts.seeds ?? 2} }`,
    `out: out-${name}`,
    extra,
  ].join('\n');
  return expandPlan(await parsePlan(text, path.join(dir, `${name}.yaml`)));
}

/**
 * switching.json / switching.csv in the temp dir: one cell whose input the circuit keeps (weights 1, unlike the
 * fixture's tinyModel): the candidate is x itself, thresholds beta_lo 0.3 / beta_hi 0.5, so on
 * x = 0 0.8 0.8 0 0.8 0.8 the model's states are 0 1 1 0 1 1 and class 1 (ON) decides. A circuit that never
 * switched would agree on 2 of 6 frames.
 */
async function writeSwitchingModel(): Promise<void> {
  const model = JSON.parse(tinyModel(0)) as { tensors: Record<string, unknown> };
  model.tensors['pre.weight'] = [[1]];
  await writeFile(path.join(dir, 'switching.json'), JSON.stringify(model));
  await writeFile(path.join(dir, 'switching.csv'), 'x\n0\n0.8\n0.8\n0\n0.8\n0.8\n');
}

/** A shell script standing in for ngspice: answers `-v` like ngspice 39, then crashes `crashes` times (-1: always). */
async function fakeNgspice(name: string, crashes: number): Promise<string> {
  const file = path.join(dir, name);
  const count = path.join(dir, `${name}.count`);
  await writeFile(
    file,
    [
      '#!/bin/sh',
      'if [ "$1" = "-v" ]; then echo "ngspice-39 : fake for tests"; exit 0; fi',
      `n=$(cat ${count} 2>/dev/null || echo 0); echo $((n + 1)) > ${count}`,
      `if [ ${crashes} -lt 0 ] || [ "$n" -lt ${crashes} ]; then kill -SEGV $$; fi`,
      'exec ngspice "$@"',
      '',
    ].join('\n'),
  );
  await chmod(file, 0o755);
  return file;
}

describe('runBatch', () => {
  it('runs every job once, publishes a record and a stream line per job, and a rerun skips them all', async () => {
    const e = await planOf('resume', '');
    const first = await runBatch(e, { workers: 2, workRoot: dir });
    expect(first).toMatchObject({ total: 2, skipped: 0, ok: 2, failed: 0, pending: 0, interrupted: false });
    const paths = outPaths(e.plan.outDir);
    const records = await readAllResults(paths);
    expect([...records.keys()].sort()).toEqual(e.jobs.map((j) => j.id).sort());
    for (const r of records.values()) {
      expect(r.status).toBe('ok');
      expect(r.cosim?.frames).toBe(2);
      expect(r.ngspiceVersion).toMatch(/^\d+/);
      expect(r.attempts).toHaveLength(1);
    }
    const before = await readFile(paths.jsonl, 'utf8');
    expect(before.trimEnd().split('\n')).toHaveLength(2);

    const second = await runBatch(e, { workers: 2, workRoot: dir });
    expect(second).toMatchObject({ total: 2, skipped: 2, ok: 0, failed: 0, pending: 0 });
    expect(await readFile(paths.jsonl, 'utf8')).toBe(before); // rebuilt from the same records: same lines
    const again = await readAllResults(paths);
    for (const [id, r] of again) expect(r.finishedAt).toBe(records.get(id)!.finishedAt); // not rerun
  });

  it('stops on abort: the running job gets no record, the next run does the rest', async () => {
    const e = await planOf('abort', '', { seeds: 3 });
    const controller = new AbortController();
    const first = await runBatch(e, {
      workers: 1,
      workRoot: dir,
      signal: controller.signal,
      onRecord: () => controller.abort(),
    });
    expect(first).toMatchObject({ ok: 1, interrupted: true, pending: 2 });
    const second = await runBatch(e, { workers: 2, workRoot: dir });
    expect(second).toMatchObject({ skipped: 1, ok: 2, pending: 0 });
    const lines = (await readFile(outPaths(e.plan.outDir).jsonl, 'utf8')).trimEnd().split('\n');
    expect(lines.map((l) => JSON.parse(l).id).sort()).toEqual(e.jobs.map((j) => j.id).sort());
  });

  it('retries a timeout up to the limit and records the class and every attempt', async () => {
    const e = await planOf('timeout', 'timeoutS: 0.001\nretries: 1', { seeds: 1 });
    const s = await runBatch(e, { workers: 1, workRoot: dir });
    expect(s).toMatchObject({ ok: 0, failed: 1 });
    const [r] = (await readAllResults(outPaths(e.plan.outDir))).values();
    expect(r.status).toBe('failed');
    expect(r.failure).toMatchObject({ class: 'timeout', retryable: true });
    expect(r.attempts.map((a) => a.failure?.class)).toEqual(['timeout', 'timeout']);
    expect(s.failures.map((f) => f.id)).toEqual([r.id]);
  });

  it('does not retry bad input: a model that does not validate fails its job once, as bad-input', async () => {
    const broken = JSON.parse(await readFile(MODEL, 'utf8'));
    broken.tensors['pre.bias'] = [1, 2]; // wrong length
    await writeFile(path.join(dir, 'broken.json'), JSON.stringify(broken));
    const e = await planOf('bad', 'retries: 2', { seeds: 1, models: 'broken.json' });
    await runBatch(e, { workers: 1, workRoot: dir });
    const [r] = (await readAllResults(outPaths(e.plan.outDir))).values();
    expect(r.failure).toMatchObject({ class: 'bad-input', retryable: false });
    expect(r.failure?.message).toContain('broken.json');
    expect(r.failure?.message).toContain('pre.bias');
    expect(r.attempts).toHaveLength(1);
  });

  it('retries a crash: one SIGSEGV then success is an ok job with two attempts; crashing always fails after 1 + retries', async () => {
    const once = await runBatch(await planOf('crash-once', 'retries: 2', { seeds: 1 }), {
      workers: 1,
      workRoot: dir,
      ngspiceBin: await fakeNgspice('crash-once.sh', 1),
    });
    expect(once).toMatchObject({ ok: 1, failed: 0 });
    const [ok] = (await readAllResults(once.paths)).values();
    expect(ok.attempts.map((a) => a.failure?.class ?? 'ok')).toEqual(['crash', 'ok']);

    const always = await runBatch(await planOf('crash-always', 'retries: 2', { seeds: 1 }), {
      workers: 1,
      workRoot: dir,
      ngspiceBin: await fakeNgspice('crash-always.sh', -1),
    });
    expect(always).toMatchObject({ ok: 0, failed: 1 });
    const [bad] = (await readAllResults(always.paths)).values();
    expect(bad.failure).toMatchObject({ class: 'crash', kind: 'crash' });
    expect(bad.failure?.message).toContain('SIGSEGV');
    expect(bad.attempts).toHaveLength(3);
  });

  it('sweeps VDD and temperature into the decks it runs, one record and one report row per combination', async () => {
    // A wrapper that keeps each deck's supply and temperature lines, then runs the real ngspice.
    const spy = path.join(dir, 'spy.sh');
    const log = path.join(dir, 'spy.log');
    await writeFile(
      spy,
      [
        '#!/bin/sh',
        'if [ "$1" = "-v" ]; then exec ngspice -v; fi',
        'for a; do last="$a"; done',
        `{ echo "deck"; grep -E '^(\\.temp |Vvdd_cell )' "$last"; } >> ${log}`,
        'exec ngspice "$@"',
        '',
      ].join('\n'),
    );
    await chmod(spy, 0o755);
    const e = await planOf('sweep', 'vdd: [0.7, 0.9]\ntemperatures: [27, 85]', { seeds: 1 });
    const r = await runBatch(e, { workers: 1, workRoot: dir, ngspiceBin: spy });
    expect(r).toMatchObject({ ok: 4, failed: 0 });
    const decks = (await readFile(log, 'utf8'))
      .split('deck\n')
      .slice(1)
      .map((d) => d.trim().split('\n').sort());
    expect(decks.map((d) => d.join(' | ')).sort()).toEqual([
      '.temp 27 | Vvdd_cell vdd_cell 0 dc 0.7',
      '.temp 27 | Vvdd_cell vdd_cell 0 dc 0.9',
      '.temp 85 | Vvdd_cell vdd_cell 0 dc 0.7',
      '.temp 85 | Vvdd_cell vdd_cell 0 dc 0.9',
    ]);
    const rows = aggregate(e.jobs, await readAllResults(r.paths), e.plan.tolerances);
    expect(rows.map((row) => row.condition)).toEqual(['700 mV 27 C', '700 mV 85 C', '900 mV 27 C', '900 mV 85 C']);
  });

  it('sweeps the frame period into the deck (input steps, tstop) and the sampling: the circuit still agrees at 10 and 5 ms', async () => {
    await writeSwitchingModel();
    const spy = path.join(dir, 'frame-spy.sh');
    const log = path.join(dir, 'frame-spy.log');
    await writeFile(
      spy,
      [
        '#!/bin/sh',
        'if [ "$1" = "-v" ]; then exec ngspice -v; fi',
        'for a; do last="$a"; done',
        `{ echo "deck"; grep -E '^\\.tran ' "$last"; grep -A1 '^Ix0p_n ' "$last" | tail -1; } >> ${log}`,
        'exec ngspice "$@"',
        '',
      ].join('\n'),
    );
    await chmod(spy, 0o755);
    const text = 'name: frames\nprocess: c180\nmodels: [switching.json]\ninputs: [switching.csv]\nout: out-frames\n';
    const e = await expandPlan(await parsePlan(`${text}framePeriods: [0.01, 0.005]\n`, path.join(dir, 'frames.yaml')));
    const r = await runBatch(e, { workers: 1, workRoot: dir, ngspiceBin: spy });
    expect(r).toMatchObject({ ok: 2, failed: 0 });
    // tstop = 6 frames x the period, the step limit a 50th of a frame (netlist/generate.ts MAX_STEPS_PER_FRAME) and the
    // print step a tenth of that; the
    // input current (0.8 x 1 nA) steps at the frame edges with the 1 us input edge.
    const decks = (await readFile(log, 'utf8'))
      .split('deck\n')
      .slice(1)
      .map((d) => d.trim())
      .sort();
    expect(decks).toEqual([
      '.tran 0.00001 0.03 0 0.0001\n+ 0 0 0.005 0 0.005001 8e-10 0.015 8e-10 0.015001 0 0.02 0 0.020001 8e-10 0.03 8e-10 )',
      '.tran 0.00002 0.06 0 0.0002\n+ 0 0 0.01 0 0.010001 8e-10 0.03 8e-10 0.030001 0 0.04 0 0.040001 8e-10 0.06 8e-10 )',
    ]);
    const records = await readAllResults(r.paths);
    for (const [job, periodS] of e.jobs.map((j, i) => [j, [0.01, 0.005][i]] as const)) {
      const rec = records.get(job.id)!;
      expect(rec.job.framePeriodS).toBe(periodS);
      expect(rec.cosim?.frames).toBe(6);
      expect(rec.cosim?.references?.trained).toMatchObject({
        stateAgreement: 1,
        softwareDecision: 1,
        circuitDecision: 1,
      });
    }
    const rows = aggregate(e.jobs, records, e.plan.tolerances);
    expect(rows.map((row) => row.condition)).toEqual(['frame 10 ms', 'frame 5 ms']);
    // The datasheet from the output folder alone: jobs.json keeps the model's own 10 ms, the typical condition.
    const opened = await openBatch(e.plan.outDir);
    const sheet = buildDatasheet('frames', opened.jobs, records, {}, opened.nominalVddV!, {
      modelFrameS: opened.modelFrameS,
    });
    expect(sheet.sections[0].conditions.filter((c) => c.typical).map((c) => c.label)).toEqual(['frame 10 ms']);

    // A period below the process's range fails its job as bad input, naming the plan's field, before ngspice.
    const short = await expandPlan(await parsePlan(`${text}framePeriods: [1e-5]\n`, path.join(dir, 'short.yaml')));
    const s = await runBatch(short, { workers: 1, workRoot: dir, ngspiceBin: spy });
    const [bad] = s.failures;
    expect(bad.failure).toMatchObject({ class: 'bad-input' });
    expect(bad.failure?.message).toContain('framePeriods');
    expect(bad.failure?.message).toContain('short.yaml');
    expect(bad.failure?.message).toContain('10 us');
  });

  it('builds each sizes entry into the deck it runs, with the one calibration, and the circuit still agrees', async () => {
    await writeSwitchingModel();
    const spy = path.join(dir, 'sizes-spy.sh');
    const log = path.join(dir, 'sizes-spy.log');
    await writeFile(
      spy,
      [
        '#!/bin/sh',
        'if [ "$1" = "-v" ]; then exec ngspice -v; fi',
        'for a; do last="$a"; done',
        `{ echo "deck"; grep -E '^Md_x0p_p ' "$last"; } >> ${log}`,
        'exec ngspice "$@"',
        '',
      ].join('\n'),
    );
    await chmod(spy, 0o755);
    const text = [
      'name: sizes',
      'process: c180',
      'models: [switching.json]',
      'inputs: [switching.csv]',
      'out: out-sizes',
      'sizes: [{ mirrorLengthUm: 8 }, { mirrorLengthUm: 12 }]',
      '',
    ].join('\n');
    const e = await expandPlan(await parsePlan(text, path.join(dir, 'sizes.yaml')));
    const r = await runBatch(e, { workers: 1, workRoot: dir, ngspiceBin: spy });
    expect(r).toMatchObject({ ok: 2, failed: 0 });
    // The input's PMOS diode is a mirror device: W = unitWidthUm 2 um, L as the entry says; junctions from W and
    // c180's 0.48 um diffusion (AD = 2 x 0.48 = 0.96 p, PD = 2 (2 + 0.48) = 4.96 u) do not depend on L.
    const decks = (await readFile(log, 'utf8'))
      .split('deck\n')
      .slice(1)
      .map((d) => d.trim())
      .sort();
    expect(decks).toEqual([
      'Md_x0p_p x0p_p x0p_p vdd_in vdd_in pch_c180 w=2u l=12u ad=0.96p as=0.96p pd=4.96u ps=4.96u',
      'Md_x0p_p x0p_p x0p_p vdd_in vdd_in pch_c180 w=2u l=8u ad=0.96p as=0.96p pd=4.96u ps=4.96u',
    ]);
    const records = await readAllResults(r.paths);
    for (const job of e.jobs) {
      const rec = records.get(job.id)!;
      expect(rec.job.sizing).toEqual(job.sizing);
      // Both built with c180's one calibration.json (the jobs share its hash).
      expect(rec.job.process.calibrationSha256).toBe(e.jobs[0].process.calibrationSha256);
      expect(rec.cosim?.references?.trained).toMatchObject({ stateAgreement: 1, circuitDecision: 1 });
    }
    expect(aggregate(e.jobs, records, e.plan.tolerances).map((row) => row.condition)).toEqual([
      'mirrorLengthUm=8',
      'mirrorLengthUm=12',
    ]);
    const opened = await openBatch(e.plan.outDir);
    const sheet = buildDatasheet('sizes', opened.jobs, records, {}, opened.nominalVddV!, {
      sizing: opened.nominalSizing,
    });
    // c180's own mirrors are 8 um long (models/c180/process.json sizing).
    expect(sheet.sections[0].conditions.filter((c) => c.typical).map((c) => c.label)).toEqual(['mirrorLengthUm=8']);
  });

  it('reruns failed jobs only when asked', async () => {
    const e = await planOf('retry-failed', 'timeoutS: 0.001\nretries: 0', { seeds: 1 });
    await runBatch(e, { workers: 1, workRoot: dir });
    expect(await runBatch(e, { workers: 1, workRoot: dir })).toMatchObject({
      skipped: 1,
      failed: 0,
      failures: [expect.anything()],
    });
    const rerun = await runBatch(e, { workers: 1, workRoot: dir, retryFailed: true, timeoutS: 600 });
    expect(rerun).toMatchObject({ skipped: 0, ok: 1, failures: [] });
    const lines = (await readFile(outPaths(e.plan.outDir).jsonl, 'utf8')).trimEnd().split('\n');
    expect(lines.map((l) => JSON.parse(l).status)).toEqual(['ok']); // the old failure is replaced, not listed twice
  });

  it('records the circuit against every reference and judges the one the plan names (the tiny cell whose input weight the circuit leaves out)', async () => {
    await writeFile(path.join(dir, 'tiny.json'), tinyModel(0.2));
    await writeFile(path.join(dir, 'tiny.csv'), TINY_CLIP);
    const plan = (name: string, extra: string) =>
      parsePlan(
        `name: ${name}\nprocess: c180\nmodels: [tiny.json]\ninputs: [tiny.csv]\nout: out-${name}\n${extra}`,
        path.join(dir, `${name}.yaml`),
      ).then(expandPlan);
    const byDefault = await plan('ref-default', '');
    const trained = await plan('ref-trained', 'reference: trained\n');
    expect((await runBatch(byDefault, { workers: 1, workRoot: dir })).belowTolerance).toBe(0);
    expect((await runBatch(trained, { workers: 1, workRoot: dir })).belowTolerance).toBe(1);
    const rec = async (e: ExpandedPlan) => (await readAllResults(outPaths(e.plan.outDir))).get(e.jobs[0].id)!;
    const d = (await rec(byDefault)).cosim!;
    const t = (await rec(trained)).cosim!;
    expect(d).toMatchObject({ pass: true, reference: 'realised', comparison: { stateAgreement: 1 } });
    expect(t).toMatchObject({ pass: false, reference: 'trained', comparison: { stateAgreement: 2 / 6 } });
    for (const c of [d, t]) {
      expect(c.references?.trained).toMatchObject({ stateAgreement: 2 / 6, decisionMatch: false });
      expect(c.references?.realised).toMatchObject({ stateAgreement: 1, decisionMatch: true });
    }
    const row = csvRow(await rec(trained));
    expect(row[CSV_HEADER.indexOf('reference')]).toBe('trained');
    expect(row[CSV_HEADER.indexOf('state_agreement_realised')]).toBe(1);
    expect(row[CSV_HEADER.indexOf('decision_match_trained')]).toBe('false');
    const [group] = aggregate(
      trained.jobs,
      await readAllResults(outPaths(trained.plan.outDir)),
      trained.plan.tolerances,
    );
    expect(group).toMatchObject({
      pass: 0,
      verdictReferences: ['trained'],
      references: {
        trained: { stateAgreementMean: 2 / 6, decisionMatchRate: 0 },
        realised: { stateAgreementMean: 1, decisionMatchRate: 1 },
      },
    });
  });
});

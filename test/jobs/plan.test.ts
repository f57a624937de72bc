import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import {
  canonicalJson,
  codeDigest,
  expandPlan,
  GENERATOR,
  jobId,
  loadPlan,
  parsePlan,
  parseSlice,
  sliceJobs,
  TOOLKIT_VERSION,
} from '../../src/jobs/plan.js';
import { REPO_ROOT, SHARED_DIR } from '../helpers.js';
import { existsSync, readFileSync } from 'node:fs';

const EXAMPLE = path.join(REPO_ROOT, 'models', 'example');
const MODEL = path.join(EXAMPLE, 'kws-example.json');
const CLIP = path.join(EXAMPLE, 'clip-101.csv');
const GF180_KIT = path.join(SHARED_DIR, 'pdk', 'gf180mcu');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'bmru-plan-test-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Writes a plan into the temp dir and loads it. */
async function plan(name: string, text: string) {
  const file = path.join(dir, name);
  await writeFile(file, text);
  return loadPlan(file);
}

/** The InputError a promise rejects with. */
async function inputError(p: Promise<unknown>): Promise<InputError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(InputError);
  return e as InputError;
}

const BASE = `name: t\nprocess: c180\nmodels: [${MODEL}]\n`;

describe('plan validation', () => {
  it('names the plan file and the field of a wrong entry', async () => {
    const e = await inputError(
      plan('bad-input.yaml', `${BASE}inputs:\n  - ${CLIP}\n  - { random: { frames: 0 } }\nseeds: [1]\n`),
    );
    expect(e.file).toBe(path.join(dir, 'bad-input.yaml'));
    expect(e.field).toBe('inputs.1.random.frames');
    expect(e.message).toMatch(/>=\s*1/);
  });

  it('explains the accepted forms of an input entry that matches none', async () => {
    const e = await inputError(plan('bad-kind.yaml', `${BASE}inputs:\n  - ${CLIP}\n  - 42\n`));
    expect(e.field).toBe('inputs.1');
    expect(e.message).toContain('expected a CSV path, {file: path');
  });

  it('rejects a misspelt key instead of ignoring it', async () => {
    const e = await inputError(plan('typo.yaml', `${BASE}inputs: [${CLIP}]\ncorner: [tt]\n`));
    expect(e.message).toMatch(/corner/);
    expect(e.file).toBe(path.join(dir, 'typo.yaml'));
  });

  it('names a process that does not exist by its place in the plan: process, or processes.<i> even in a list of one', async () => {
    const cases: [string, string][] = [
      ['process: nope', 'process'],
      ['processes: [nope]', 'processes.0'],
      ['processes: [c180, nope]', 'processes.1'],
    ];
    for (const [i, [line, field]] of cases.entries()) {
      const p = await plan(`no-process-${i}.yaml`, `name: t\n${line}\nmodels: [${MODEL}]\ninputs: [${CLIP}]\n`);
      const e = await inputError(expandPlan(p));
      expect([e.field, e.rule]).toEqual([field, expect.stringContaining("no shipped process 'nope'")]);
    }
  });

  it('refuses a random clip longer than the frame limit before generating it', async () => {
    const e = await inputError(plan('long.yaml', `${BASE}inputs:\n  - { random: { frames: 1000000000, seed: 1 } }\n`));
    expect(e.field).toBe('inputs.0.random.frames');
    expect(e.message).toContain('at most 100000 frames');
  });

  it('needs exactly one of process and processes', async () => {
    const e = await inputError(
      plan('two.yaml', `name: t\nprocess: c180\nprocesses: [c180]\nmodels: [${MODEL}]\ninputs: [${CLIP}]\n`),
    );
    expect(e.field).toBe('processes');
  });

  it('says where YAML itself is broken', async () => {
    const e = await inputError(plan('yaml.yaml', `${BASE}inputs: [${CLIP}\n`));
    expect(e.message).toMatch(/invalid YAML/);
  });

  it('asks for seeds when a random clip has none', async () => {
    const e = await inputError(plan('noseed.yaml', `${BASE}inputs:\n  - random: { frames: 3 }\n`));
    expect(e.field).toBe('inputs.0.random.seed');
  });

  it('names inline tolerance fields as they sit in the plan', async () => {
    const e = await inputError(plan('tol.yaml', `${BASE}inputs: [${CLIP}]\ntolerances: { minStateAgreement: 2 }\n`));
    expect(e.field).toBe('tolerances.minStateAgreement');
  });

  it('rejects a misspelt inline tolerance instead of running with its default, listing the known keys', async () => {
    const e = await inputError(
      plan('tol-typo.yaml', `${BASE}inputs: [${CLIP}]\ntolerances: { minStateAgrement: 0.9 }\n`),
    );
    expect(e.field).toBe('tolerances');
    expect(e.rule).toMatch(/^unknown key "minStateAgrement": expected minStateAgreement, requireDecisionMatch, /);
  });

  it('lists the keys a plan may have when it has an unknown one', async () => {
    const e = await inputError(plan('workers.yaml', `${BASE}inputs: [${CLIP}]\nworkers: 2\n`));
    expect(e.rule).toMatch(/^unknown key "workers": expected name, process, processes, kit, /);
  });

  it('rejects at plan time a corner the process lacks, listing what it has', async () => {
    const p = await plan('corner.yaml', `${BASE}inputs: [${CLIP}]\ncorners: [tt, xx]\n`);
    const e = await inputError(expandPlan(p));
    expect(e.field).toBe('corners.1');
    expect(e.message).toContain('c180');
    expect(e.message).toContain("no corner 'xx': it has tt, ff, ss, fs, sf"); // c180's skewed-device corners
  });

  it.skipIf(!existsSync(GF180_KIT))('accepts the corners of gf180mcu and rejects others by name', async () => {
    const ok = await expandPlan(
      await plan('gf.yaml', `name: t\nprocess: gf180mcu\nmodels: [${MODEL}]\ninputs: [${CLIP}]\ncorners: [tt, ss]\n`),
    );
    expect(ok.jobs.map((j) => j.corner)).toEqual(['tt', 'ss']);
    // Different corners pull different .lib sections: the ids differ.
    expect(new Set(ok.jobs.map((j) => j.id)).size).toBe(2);
    expect(new Set(ok.jobs.map((j) => j.process.deckSha256)).size).toBe(2);
    expect(ok.jobs.every((j) => j.spiceSeed === 1)).toBe(true); // X devices: always an explicit seed
    const e = await inputError(
      expandPlan(
        await plan(
          'gf-bad.yaml',
          `name: t\nprocess: gf180mcu\nmodels: [${MODEL}]\ninputs: [${CLIP}]\ncorners: [tt, xx]\n`,
        ),
      ),
    );
    expect(e.field).toBe('corners.1');
    expect(e.message).toContain('tt, ff, ss, fs, sf');
  });

  it('names a missing model file and its field', async () => {
    const p = await plan('missing.yaml', `name: t\nprocess: c180\nmodels: [${MODEL}, nope.json]\ninputs: [${CLIP}]\n`);
    const e = await inputError(expandPlan(p));
    expect(e.field).toBe('models.1');
    expect(e.message).toContain('nope.json');
  });
});

describe('plan expansion', () => {
  const text = (model: string, clip: string) =>
    `name: t\nprocess: c180\nmodels: [${model}]\ninputs:\n  - ${clip}\n  - { file: ${clip}, frames: 3, noiseSd: 0.1 }\n  - random: { frames: 4 }\nseeds: { count: 3, start: 5 }\n`;

  it('lists models x inputs x processes x corners x seeds in plan order, seeds innermost', async () => {
    const e = await expandPlan(await plan('x.yaml', text(MODEL, CLIP)));
    expect(e.jobs).toHaveLength(9);
    expect(e.jobs.map((j) => j.seed)).toEqual([5, 6, 7, 5, 6, 7, 5, 6, 7]);
    expect(e.jobs.map((j) => j.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(e.jobs[6].input).toEqual({ kind: 'random', frames: 4, seed: 5 });
    expect(e.jobs[3].label).toBe('kws-example clip-101.csv[:3]+noise0.1#5 c180 seed 5');
    expect(e.jobs.every((j) => j.spiceSeed === null)).toBe(true); // c180: M devices, no mismatch
  });

  it('gives the same ids for the same content wherever the files sit, and on every expansion', async () => {
    const a = await expandPlan(await plan('a.yaml', text(MODEL, CLIP)));
    const again = await expandPlan(await plan('a.yaml', text(MODEL, CLIP)));
    await copyFile(MODEL, path.join(dir, 'renamed-model.json'));
    await copyFile(CLIP, path.join(dir, 'renamed-clip.csv'));
    const moved = await expandPlan(await plan('b.yaml', text('renamed-model.json', 'renamed-clip.csv')));
    expect(again.jobs.map((j) => j.id)).toEqual(a.jobs.map((j) => j.id));
    expect(moved.jobs.map((j) => j.id)).toEqual(a.jobs.map((j) => j.id));
    expect(a.jobs.every((j) => /^[0-9a-f]{16}$/.test(j.id))).toBe(true);
    expect(new Set(a.jobs.map((j) => j.id)).size).toBe(a.jobs.length);
  });

  it('changes the id when the content changes', async () => {
    const a = await expandPlan(await plan('c.yaml', text(MODEL, CLIP)));
    await writeFile(
      path.join(dir, 'edited-clip.csv'),
      `${(await import('node:fs')).readFileSync(CLIP, 'utf8')}0,0,0,0,0,0,0,0,0,0,0,0,0\n`,
    );
    const edited = await expandPlan(await plan('d.yaml', text(MODEL, 'edited-clip.csv')));
    // Jobs on the file changed; the random clips (no file) did not.
    expect(edited.jobs.slice(0, 6).map((j) => j.id)).not.toEqual(
      expect.arrayContaining(a.jobs.slice(0, 6).map((j) => j.id)),
    );
    expect(edited.jobs.slice(6).map((j) => j.id)).toEqual(a.jobs.slice(6).map((j) => j.id));
    const uncal = await expandPlan(await plan('e.yaml', `${text(MODEL, CLIP)}calibrated: false\n`));
    expect(uncal.jobs.map((j) => j.id)).not.toEqual(expect.arrayContaining([a.jobs[0].id]));
  });

  it('drops a job that another entry already produces', async () => {
    const e = await expandPlan(
      await plan('dup.yaml', `name: t\nprocess: c180\nmodels: [${MODEL}]\ninputs: [${CLIP}, ${CLIP}]\n`),
    );
    expect(e.jobs).toHaveLength(1);
    expect(e.duplicates).toBe(1);
  });

  it('resolves paths against the plan file and the default output folder against the current directory', async () => {
    await copyFile(MODEL, path.join(dir, 'm.json'));
    const p = await parsePlan(
      `name: rel\nprocess: c180\nmodels: [m.json]\ninputs: [${CLIP}]\n`,
      path.join(dir, 'rel.yaml'),
    );
    expect(p.models[0].file).toBe(path.join(dir, 'm.json'));
    expect(p.outDir).toBe(path.resolve('out', 'batch-rel'));
    const q = await parsePlan(
      `name: rel\nprocess: c180\nmodels: [m.json]\ninputs: [${CLIP}]\nout: results\n`,
      path.join(dir, 'rel.yaml'),
    );
    expect(q.outDir).toBe(path.join(dir, 'results'));
  });
});

describe('plan references', () => {
  const text = `name: t\nprocess: c180\nmodels: [${MODEL}]\ninputs: [${CLIP}]\n`;

  it('keeps the ids of plans that name no reference, and gives a chosen reference and a hardware-aware model jobs of their own', async () => {
    const plain = await expandPlan(await plan('r0.yaml', text));
    expect(plain.jobs[0]).toMatchObject({ reference: null, hwaware: null });
    expect(plain.jobs[0].id).toBe(jobId({ ...plain.jobs[0], reference: undefined, hwaware: undefined }, true));
    const trained = await expandPlan(await plan('r1.yaml', `${text}reference: trained\n`));
    expect(trained.jobs[0].reference).toBe('trained');
    expect(trained.jobs[0].label).toBe('kws-example clip-101.csv c180 vs trained');
    expect(trained.jobs[0].id).not.toBe(plain.jobs[0].id);
    const overridden = await expandPlan(await loadPlan(path.join(dir, 'r0.yaml'), { reference: 'trained' }));
    expect(overridden.jobs[0].id).toBe(trained.jobs[0].id);
    await copyFile(MODEL, path.join(dir, 'hw.json'));
    const hw = await expandPlan(await plan('r2.yaml', `${text}hwawareModel: hw.json\n`));
    expect(hw.jobs[0].hwaware).toMatchObject({
      path: 'hw.json',
      file: path.join(dir, 'hw.json'),
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(hw.jobs[0].id).not.toBe(plain.jobs[0].id);
  });

  it('--unit-current gives jobs of their own, labelled with it; without it the ids stay as they were', async () => {
    const plain = await expandPlan(await plan('u0.yaml', text));
    expect(plain.jobs[0].unitCurrentA).toBeNull();
    expect(plain.jobs[0].id).toBe(jobId({ ...plain.jobs[0], unitCurrentA: undefined }, true));
    const at = await expandPlan(await loadPlan(path.join(dir, 'u0.yaml'), { unitCurrentA: 5e-10 }));
    expect(at.plan.unitCurrentA).toBe(5e-10);
    expect(at.jobs[0]).toMatchObject({ unitCurrentA: 5e-10, label: 'kws-example clip-101.csv c180 at 500 pA' });
    expect(at.jobs[0].id).not.toBe(plain.jobs[0].id);
    const other = await expandPlan(await loadPlan(path.join(dir, 'u0.yaml'), { unitCurrentA: 1e-9 }));
    expect(other.jobs[0].id).not.toBe(at.jobs[0].id);
  });

  it('sweeps I_unit, VDD and temperature: one job per combination, labelled, ids of their own; none of them: ids as before', async () => {
    const swept = await expandPlan(
      await plan('s0.yaml', `${text}unitCurrents: [2.5e-10, 5e-10]\nvdd: [0.8, 0.9]\ntemperatures: [27, 85]\n`),
    );
    expect(swept.jobs).toHaveLength(8);
    // Plan order: I_unit outermost, then VDD, then temperature.
    expect(swept.jobs.map((j) => [j.unitCurrentA, j.vddV, j.temperatureC])).toEqual([
      [2.5e-10, 0.8, 27],
      [2.5e-10, 0.8, 85],
      [2.5e-10, 0.9, 27],
      [2.5e-10, 0.9, 85],
      [5e-10, 0.8, 27],
      [5e-10, 0.8, 85],
      [5e-10, 0.9, 27],
      [5e-10, 0.9, 85],
    ]);
    expect(new Set(swept.jobs.map((j) => j.id)).size).toBe(8);
    expect(swept.jobs[5].label).toBe('kws-example clip-101.csv c180 at 500 pA VDD 800 mV 85 C');
    const plain = await expandPlan(await plan('s1.yaml', text));
    expect([plain.jobs[0].vddV, plain.jobs[0].temperatureC]).toEqual([null, null]);
    expect(plain.jobs[0].id).toBe(jobId({ ...plain.jobs[0], vddV: undefined, temperatureC: undefined }, true));
    // One value of an axis is a job of its own, not the plain one.
    const hot = await expandPlan(await plan('s2.yaml', `${text}temperatures: [85]\n`));
    expect(hot.jobs[0].id).not.toBe(plain.jobs[0].id);
  });

  it('sweeps frame periods innermost: one job per value, labelled in ms, ids of their own; none: ids as before', async () => {
    const swept = await expandPlan(await plan('f0.yaml', `${text}vdd: [0.8, 0.9]\nframePeriods: [0.01, 0.005]\n`));
    expect(swept.jobs).toHaveLength(4);
    expect(swept.jobs.map((j) => [j.vddV, j.framePeriodS])).toEqual([
      [0.8, 0.01],
      [0.8, 0.005],
      [0.9, 0.01],
      [0.9, 0.005],
    ]);
    expect(swept.jobs.map((j) => j.index)).toEqual([0, 1, 2, 3]);
    expect(new Set(swept.jobs.map((j) => j.id)).size).toBe(4);
    expect(swept.jobs[1].label).toBe('kws-example clip-101.csv c180 VDD 800 mV frame 5 ms');
    expect(swept.jobs[2].label).toBe('kws-example clip-101.csv c180 VDD 900 mV frame 10 ms');
    // The example model's own frame period (models/example/kws-example.json "frameS": 0.01), for the datasheet's typ.
    expect(swept.modelFrameS).toEqual({ [MODEL]: 0.01 });
    const plain = await expandPlan(await plan('f1.yaml', text));
    expect(plain.jobs[0].framePeriodS).toBeNull();
    expect(plain.modelFrameS).toEqual({});
    expect(plain.jobs[0].id).toBe(jobId({ ...plain.jobs[0], framePeriodS: undefined }, true));
    // Even the model's own period, named in the plan, is a job of its own (as one VDD value is).
    const own = await expandPlan(await plan('f2.yaml', `${text}framePeriods: [0.01]\n`));
    expect(own.jobs[0].id).not.toBe(plain.jobs[0].id);
    expect(own.jobs[0].id).not.toBe(swept.jobs[0].id); // that one also sweeps VDD
  });

  it('refuses frame periods that are not positive numbers, naming the field', async () => {
    expect((await inputError(plan('f3.yaml', `${text}framePeriods: [0.01, 0]\n`))).field).toBe('framePeriods.1');
    expect((await inputError(plan('f4.yaml', `${text}framePeriods: []\n`))).field).toBe('framePeriods');
    const e = await inputError(plan('f5.yaml', `${text}framePeriods: [5ms]\n`));
    expect(e.field).toBe('framePeriods.0');
    expect(e.file).toBe(path.join(dir, 'f5.yaml'));
    expect((await inputError(plan('f6.yaml', `${text}framePeriod: [0.01]\n`))).message).toContain('framePeriod');
  });

  it('refuses a swept I_unit together with --unit-current, and out-of-range axis values, naming the field', async () => {
    await writeFile(path.join(dir, 's3.yaml'), `${text}unitCurrents: [2.5e-10]\n`);
    const e = await inputError(loadPlan(path.join(dir, 's3.yaml'), { unitCurrentA: 1e-9 }));
    expect(e.field).toBe('unitCurrents');
    expect(e.message).toContain('--unit-current');
    expect((await inputError(plan('s4.yaml', `${text}vdd: [0]\n`))).field).toBe('vdd.0');
    expect((await inputError(plan('s5.yaml', `${text}temperatures: [-300]\n`))).field).toBe('temperatures.0');
    expect((await inputError(plan('s6.yaml', `${text}unitCurrents: []\n`))).field).toBe('unitCurrents');
  });

  it('sweeps device sizes innermost: one job per entry, labelled with the fields it sets; none: ids as before', async () => {
    const swept = await expandPlan(
      await plan(
        'z0.yaml',
        `${text}framePeriods: [0.01, 0.005]\nsizes:\n  - { mirrorLengthUm: 8 }\n  - { mirrorLengthUm: 12, switchWidthUm: 0.5 }\n`,
      ),
    );
    expect(swept.jobs).toHaveLength(4);
    expect(swept.jobs.map((j) => [j.framePeriodS, j.sizing])).toEqual([
      [0.01, { mirrorLengthUm: 8 }],
      [0.01, { mirrorLengthUm: 12, switchWidthUm: 0.5 }],
      [0.005, { mirrorLengthUm: 8 }],
      [0.005, { mirrorLengthUm: 12, switchWidthUm: 0.5 }],
    ]);
    expect(new Set(swept.jobs.map((j) => j.id)).size).toBe(4);
    expect(swept.jobs[3].label).toBe('kws-example clip-101.csv c180 frame 5 ms mirrorLengthUm=12 switchWidthUm=0.5');
    const plain = await expandPlan(await plan('z1.yaml', text));
    expect(plain.jobs[0].sizing).toBeNull();
    expect(plain.jobs[0].id).toBe(jobId({ ...plain.jobs[0], sizing: undefined }, true));
    // The key order of an entry does not change the id (canonical JSON).
    const a = await expandPlan(await plan('z2.yaml', `${text}sizes: [{ mirrorLengthUm: 12, switchWidthUm: 0.5 }]\n`));
    const b = await expandPlan(await plan('z3.yaml', `${text}sizes: [{ switchWidthUm: 0.5, mirrorLengthUm: 12 }]\n`));
    expect(a.jobs[0].id).toBe(b.jobs[0].id);
    expect(a.jobs[0].id).not.toBe(plain.jobs[0].id);
  });

  it('refuses sizes entries with unknown or missing fields, non-numbers, and devices the process cannot draw', async () => {
    const unknown = await inputError(plan('z4.yaml', `${text}sizes: [{ mirrorLength: 8 }]\n`));
    expect(unknown.field).toBe('sizes.0');
    expect(unknown.message).toContain('mirrorLength');
    expect(unknown.message).toContain('unitWidthUm, mirrorLengthUm, switchWidthUm, switchLengthUm');
    const empty = await inputError(plan('z5.yaml', `${text}sizes: [{ mirrorLengthUm: 8 }, {}]\n`));
    expect(empty.field).toBe('sizes.1');
    expect(empty.message).toContain('at least one of');
    expect((await inputError(plan('z6.yaml', `${text}sizes: [{ unitWidthUm: -2 }]\n`))).field).toBe(
      'sizes.0.unitWidthUm',
    );
    expect((await inputError(plan('z7.yaml', `${text}sizes: [{ switchLengthUm: 8um }]\n`))).field).toBe(
      'sizes.0.switchLengthUm',
    );
    // c180's process.json: minLengthUm 0.18, minWidthUm 0.22 (models/c180/process.json).
    const short = await inputError(expandPlan(await plan('z8.yaml', `${text}sizes: [{ mirrorLengthUm: 0.1 }]\n`)));
    expect(short).toMatchObject({ file: path.join(dir, 'z8.yaml'), field: 'sizes.0.mirrorLengthUm' });
    expect(short.message).toContain('>= 0.18 um');
    expect(short.message).toContain('got 0.1');
    const narrow = await inputError(expandPlan(await plan('z9.yaml', `${text}sizes: [{ switchWidthUm: 0.2 }]\n`)));
    expect(narrow.field).toBe('sizes.0.switchWidthUm');
    expect(narrow.message).toContain('>= 0.22 um');
  });

  it("calibrateSizes: a copy folder per entry but the process's own sizes, flagged in the id; none: ids as before", async () => {
    const sizes = `sizes: [{ mirrorLengthUm: 8 }, { mirrorLengthUm: 4, switchWidthUm: 0.5 }]\n`;
    const own = await expandPlan(await plan('c0.yaml', `${text}${sizes}`));
    const off = await expandPlan(await plan('c1.yaml', `${text}${sizes}calibrateSizes: false\n`));
    const on = await expandPlan(await plan('c2.yaml', `${text}${sizes}calibrateSizes: true\n`));
    expect(off.plan.calibrateSizes).toBe(false);
    expect(own.plan.calibrateSizes).toBe(false);
    expect(off.jobs.map((j) => j.id)).toEqual(own.jobs.map((j) => j.id));
    expect(own.jobs.map((j) => j.sizesCalibration)).toEqual([undefined, undefined]);
    // c180's own mirror length is 8 um (models/c180/process.json): that entry keeps the process's calibration and id.
    expect(on.jobs[0].sizesCalibration).toBeUndefined();
    expect(on.jobs[0].id).toBe(own.jobs[0].id);
    const c180 = path.join(REPO_ROOT, 'models', 'c180', 'process.json');
    const hash8 = createHash('sha256').update(readFileSync(c180)).digest('hex').slice(0, 8);
    expect(on.jobs[1].sizesCalibration).toBe(`calibrations/c180-${hash8}/mirrorLengthUm=4_switchWidthUm=0.5`);
    expect(on.jobs[1].id).not.toBe(own.jobs[1].id);
    expect(on.jobs[1].label).toBe('kws-example clip-101.csv c180 mirrorLengthUm=4 switchWidthUm=0.5 calibrated there');
    expect(own.jobs[1].label).toBe('kws-example clip-101.csv c180 mirrorLengthUm=4 switchWidthUm=0.5');
  });

  it('refuses calibrateSizes without sizes or on an uncalibrated plan, naming the field', async () => {
    const none = await inputError(plan('c3.yaml', `${text}calibrateSizes: true\n`));
    expect(none).toMatchObject({ file: path.join(dir, 'c3.yaml'), field: 'calibrateSizes' });
    expect(none.message).toContain('give sizes');
    const uncal = await inputError(
      plan('c4.yaml', `${text}calibrated: false\nsizes: [{ mirrorLengthUm: 4 }]\ncalibrateSizes: true\n`),
    );
    expect(uncal.field).toBe('calibrateSizes');
    expect(uncal.message).toContain('calibrated: true');
  });

  it('expands the shipped frame-period and sizes examples: 3 jobs each, typ among them', async () => {
    const frames = await expandPlan(await loadPlan(path.join(EXAMPLE, 'frame-example.yaml')));
    expect(frames.jobs.map((j) => j.framePeriodS)).toEqual([0.01, 0.005, 0.0025]);
    expect(frames.modelFrameS).toEqual({ 'kws-example.json': 0.01 });
    const sizes = await expandPlan(await loadPlan(path.join(EXAMPLE, 'sizes-example.yaml')));
    expect(sizes.jobs.map((j) => j.sizing?.mirrorLengthUm)).toEqual([8, 4, 16]);
    expect(sizes.jobs.map((j) => j.label)).toEqual([
      'kws-example clip-101.csv c180 mirrorLengthUm=8',
      'kws-example clip-101.csv c180 mirrorLengthUm=4',
      'kws-example clip-101.csv c180 mirrorLengthUm=16',
    ]);
    // The same sweep re-calibrated: its 8 um job is the plain example's (c180's own sizes and tables), the others not.
    const calibrated = await expandPlan(await loadPlan(path.join(EXAMPLE, 'sizes-calibrated-example.yaml')));
    expect(calibrated.jobs[0].id).toBe(sizes.jobs[0].id);
    expect(calibrated.jobs.map((j) => j.sizesCalibration?.split('/').at(-1))).toEqual([
      undefined,
      'mirrorLengthUm=4',
      'mirrorLengthUm=16',
    ]);
  });

  it('refuses the hwaware reference without a hardware-aware model, and an unknown reference', async () => {
    const e = await inputError(plan('r3.yaml', `${text}reference: hwaware\n`));
    expect(e.field).toBe('reference');
    expect(e.message).toContain('hwawareModel');
    expect((await inputError(plan('r4.yaml', `${text}reference: ideal\n`))).field).toBe('reference');
  });
});

describe('slices', () => {
  it('parses i/n and deals jobs round-robin, every job in exactly one slice', () => {
    const jobs = Array.from({ length: 10 }, (_, index) => ({ index }));
    const slices = [0, 1, 2].map((i) => sliceJobs(jobs, parseSlice(`${i}/3`)).map((j) => j.index));
    expect(slices).toEqual([
      [0, 3, 6, 9],
      [1, 4, 7],
      [2, 5, 8],
    ]);
    expect(sliceJobs(jobs)).toHaveLength(10);
  });

  it('rejects a slice outside 0 <= i < n', () => {
    for (const bad of ['3/3', '1/0', 'a/2', '1', '-1/2']) expect(() => parseSlice(bad), bad).toThrow(/0 <= i < n/);
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every level and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: undefined } })).toBe(
      '{"a":{"d":[1,{"y":2,"z":1}]},"b":1}',
    );
  });
});

describe('the toolkit digest in every job id', () => {
  it('changes with the content of any compiled file, not with source maps, and comes back with the same code', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'bmru-digest-'));
    await writeFile(path.join(dir, 'a.js'), 'export const a = 1;\n');
    await writeFile(path.join(dir, 'b.js'), 'export const b = 2;\n');
    await writeFile(path.join(dir, 'a.js.map'), '{}');
    const first = codeDigest(dir);
    expect(first).toMatch(/^[0-9a-f]{12}$/);
    await writeFile(path.join(dir, 'a.js.map'), '{"x":1}'); // not code
    expect(codeDigest(dir)).toBe(first);
    await writeFile(path.join(dir, 'b.js'), 'export const b = 3;\n');
    const second = codeDigest(dir);
    expect(second).not.toBe(first);
    await writeFile(path.join(dir, 'b.js'), 'export const b = 2;\n');
    expect(codeDigest(dir)).toBe(first);
    expect(codeDigest(path.join(dir, 'none'))).toBe('nodist');
    await rm(dir, { recursive: true });
  });
});

// Cases Stryker found no test for (src/jobs/plan.ts); expectations from the documented rules, worked by hand.
describe('plan rules at their edges', () => {
  const head = `name: t\nprocess: c180\nmodels: [${MODEL}]\n`;

  it('takes seeds up to 2^31 - 1 (a C int), from a list or from {count, start}, and names seeds past it', async () => {
    expect((await plan('s0.yaml', `${head}inputs: [${CLIP}]\nseeds: [2147483647]\n`)).seeds).toEqual([2147483647]);
    expect((await inputError(plan('s1.yaml', `${head}inputs: [${CLIP}]\nseeds: [2147483648]\n`))).field).toBe(
      'seeds.0',
    );
    // start 2147483645, count 3: the last seed is 2147483647, allowed; one more start and it is 2147483648.
    const last = await plan('s2.yaml', `${head}inputs: [${CLIP}]\nseeds: { count: 3, start: 2147483645 }\n`);
    expect(last.seeds).toEqual([2147483645, 2147483646, 2147483647]);
    const e = await inputError(plan('s3.yaml', `${head}inputs: [${CLIP}]\nseeds: { count: 3, start: 2147483646 }\n`));
    expect([e.file, e.field]).toEqual([path.join(dir, 's3.yaml'), 'seeds']);
    expect(e.rule).toBe('start + count - 1 must be <= 2147483647');
    expect((await plan('s4.yaml', `${head}inputs: [${CLIP}]\nseeds: { count: 2 }\n`)).seeds).toEqual([1, 2]);
  });

  it('asks for plan seeds for input noise, and needs none for a file without noise or a random clip with its own seed', async () => {
    const e = await inputError(plan('n0.yaml', `${head}inputs:\n  - { file: ${CLIP}, noiseSd: 0.1 }\n`));
    expect([e.file, e.field]).toEqual([path.join(dir, 'n0.yaml'), 'inputs.0.noiseSd']);
    expect(e.rule).toContain('give the plan seeds');
    const r = await inputError(plan('n1.yaml', `${head}inputs:\n  - random: { frames: 3 }\n`));
    expect(r.rule).toContain('a random clip needs a seed');
    const ok = await plan(
      'n2.yaml',
      `${head}inputs:\n  - { file: ${CLIP}, frames: 3 }\n  - random: { frames: 4, seed: 7 }\n`,
    );
    expect(ok.inputs).toEqual([
      { kind: 'file', path: CLIP, file: CLIP, frames: 3, noiseSd: null },
      { kind: 'random', frames: 4, seed: 7 },
    ]);
    const jobs = (await expandPlan(ok)).jobs;
    expect(jobs.map((j) => j.input)).toMatchObject([{ noiseSd: null, noiseSeed: null }, { seed: 7 }]);
    // Without noise no noise seed, even with plan seeds.
    const seeded = await expandPlan(await plan('n3.yaml', `${head}inputs: [${CLIP}]\nseeds: [4]\n`));
    expect(seeded.jobs[0].input).toMatchObject({ noiseSd: null, noiseSeed: null });
  });

  it('refuses duplicate keys and says where the YAML is broken, naming the plan file', async () => {
    const dup = await inputError(plan('dup-key.yaml', `${head}name: u\ninputs: [${CLIP}]\n`));
    expect(dup.file).toBe(path.join(dir, 'dup-key.yaml'));
    expect(dup.rule).toMatch(/^invalid YAML: Map keys must be unique/);
    const broken = await inputError(plan('broken.yaml', `${head}inputs: [${CLIP}\n`));
    expect(broken.file).toBe(path.join(dir, 'broken.yaml'));
    expect(broken.rule).toMatch(/^invalid YAML: .{10,} at line \d+, column \d+/);
  });

  it('takes the hwaware reference with a hardware-aware model, and leaves out what the plan does not set', async () => {
    await copyFile(MODEL, path.join(dir, 'hw2.json'));
    const p = await plan('h0.yaml', `${head}inputs: [${CLIP}]\nreference: hwaware\nhwawareModel: hw2.json\n`);
    expect(p.reference).toBe('hwaware');
    expect(p.hwawareModel).toEqual({ path: 'hw2.json', file: path.join(dir, 'hw2.json') });
    const bare = await plan('h1.yaml', `${head}inputs: [${CLIP}]\n`);
    for (const key of ['reference', 'hwawareModel', 'unitCurrentA']) expect(Object.keys(bare)).not.toContain(key);
  });

  it('labels jobs with the model name without its last extension, the random clip, and process/corner', async () => {
    await copyFile(MODEL, path.join(dir, 'kws.v2.json'));
    const e = await expandPlan(
      await plan(
        'l0.yaml',
        `name: t\nprocess: c180\nmodels: [kws.v2.json]\ninputs:\n  - random: { frames: 4, seed: 9 }\ncorners: [ss]\n`,
      ),
    );
    expect(e.jobs[0].label).toBe('kws.v2 random4#9 c180/ss');
  });

  it('hashes a file named twice once, and names the field of an unreadable hardware-aware model', async () => {
    const twice = await expandPlan(
      await plan('t0.yaml', `name: t\nprocess: c180\nmodels: [${MODEL}, ${MODEL}]\ninputs: [${CLIP}]\n`),
    );
    expect(twice.jobs).toHaveLength(1);
    expect(twice.duplicates).toBe(1);
    const p = await plan('t1.yaml', `${head}inputs: [${CLIP}]\nhwawareModel: missing-hw.json\n`);
    const e = await inputError(expandPlan(p));
    expect([e.file, e.field]).toEqual([path.join(dir, 't1.yaml'), 'hwawareModel']);
    expect(e.rule).toBe(`cannot read ${path.join(dir, 'missing-hw.json')} (ENOENT)`);
  });

  it('names an unreadable plan file by its error code', async () => {
    const e = await inputError(loadPlan(path.join(dir, 'no-such-plan.yaml')));
    expect([e.file, e.rule]).toEqual([path.join(dir, 'no-such-plan.yaml'), 'cannot read plan file (ENOENT)']);
  });
});

describe('slices at their edges', () => {
  it('reads multi-digit i/n, blanks around it, and 0/1', () => {
    expect(parseSlice('12/20')).toEqual({ index: 12, count: 20 });
    expect(parseSlice(' 1/3 ')).toEqual({ index: 1, count: 3 });
    expect(parseSlice('0/1')).toEqual({ index: 0, count: 1 });
  });

  it('refuses trailing text and names --slice', () => {
    for (const bad of ['1/3x', '1/3/4']) {
      let err: unknown;
      try {
        parseSlice(bad);
      } catch (e) {
        err = e;
      }
      expect(err, bad).toBeInstanceOf(InputError);
      expect((err as InputError).field).toBe('--slice');
    }
  });
});

describe('canonicalJson key order', () => {
  it('sorts many keys given in reverse and shuffled order by code unit', () => {
    expect(canonicalJson({ e: 5, d: 4, c: 3, b: 2, a: 1 })).toBe('{"a":1,"b":2,"c":3,"d":4,"e":5}');
    expect(canonicalJson({ b: 0, Z: 0, a: 0, A: 0, c: 0, _: 0 })).toBe('{"A":0,"Z":0,"_":0,"a":0,"b":0,"c":0}');
  });
});

describe('the toolkit digest names', () => {
  it('changes when a compiled file is renamed or sits in a subfolder, and is the package version plus the dist digest', async () => {
    const d = await mkdtemp(path.join(os.tmpdir(), 'bmru-digest2-'));
    await writeFile(path.join(d, 'a.js'), 'x\n');
    const first = codeDigest(d);
    await rm(path.join(d, 'a.js'));
    await writeFile(path.join(d, 'b.js'), 'x\n');
    expect(codeDigest(d)).not.toBe(first); // same content, another name
    await mkdir(path.join(d, 'sub'));
    const before = codeDigest(d);
    await writeFile(path.join(d, 'sub', 'c.js'), 'y\n');
    expect(codeDigest(d)).not.toBe(before);
    await rm(d, { recursive: true });
    const version = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).version as string;
    expect(TOOLKIT_VERSION).toBe(`bmru-cosim@${version}`);
    expect(GENERATOR).toBe(`bmru-cosim@${version}+${codeDigest(path.join(REPO_ROOT, 'dist'))}`);
  });
});

describe('plan fields at their limits', () => {
  const head = `process: c180\nmodels: [${MODEL}]\ninputs: [${CLIP}]\n`;

  it('takes a name of letters, digits, _ . - only, since it names a folder', async () => {
    expect((await plan('f0.yaml', `name: a_b.c-1\n${head}`)).name).toBe('a_b.c-1');
    for (const [i, name] of ['"a b"', '"x/y"', '"ok!"'].entries()) {
      const e = await inputError(plan(`f1-${i}.yaml`, `name: ${name}\n${head}`));
      expect([e.field, e.rule]).toEqual(['name', 'expected letters, digits, _ . - only (it names a folder)']);
    }
  });

  it('takes a kit path, a tolerance file, seed lists and 0..10 retries; says which forms it wanted', async () => {
    await writeFile(path.join(dir, 'tol.json'), '{"minStateAgreement": 0.5}');
    const p = await plan('f2.yaml', `name: t\n${head}kit: pdk\ntolerances: tol.json\nseeds: [3, 4]\nretries: 10\n`);
    expect([p.kit, p.tolerances.minStateAgreement, p.seeds, p.retries]).toEqual([
      path.join(dir, 'pdk'),
      0.5,
      [3, 4],
      10,
    ]);
    expect((await plan('f3.yaml', `name: t\n${head}retries: 0\n`)).retries).toBe(0);
    expect((await plan('f4.yaml', `name: t\n${head}`)).retries).toBe(2);
    for (const [i, bad] of ['-1', '11'].entries()) {
      expect((await inputError(plan(`f5-${i}.yaml`, `name: t\n${head}retries: ${bad}\n`))).field).toBe('retries');
    }
    const s = await inputError(plan('f6.yaml', `name: t\n${head}seeds: seven\n`));
    expect(s.rule).toBe('expected a list of integers >= 0 or {count: integer >= 1, start?: integer >= 0}');
    const two = await inputError(plan('f7.yaml', `name: t\n${head}processes: [c180]\n`));
    expect(two.rule).toBe('give exactly one of process (one name or path) and processes (a list)');
  });

  it('names the input whose file cannot be read', async () => {
    const p = await plan('f8.yaml', `name: t\nprocess: c180\nmodels: [${MODEL}]\ninputs: [${CLIP}, gone.csv]\n`);
    const e = await inputError(expandPlan(p));
    expect([e.field, e.rule]).toEqual(['inputs.1', `cannot read ${path.join(dir, 'gone.csv')} (ENOENT)`]);
  });
});

describe('the deck hash in a job id', () => {
  /** A copy of c180's process in `sub` with these deck lines (and c180.lib beside it, or `lib` as its text). */
  async function processCopy(sub: string, deckLines: string[], edit: Record<string, unknown> = {}, lib?: string) {
    const src = path.join(REPO_ROOT, 'models', 'c180');
    await mkdir(path.join(dir, sub), { recursive: true });
    const json = { ...JSON.parse(readFileSync(path.join(src, 'process.json'), 'utf8')), deckLines, ...edit };
    for (const key of Object.keys(edit)) if (edit[key] === undefined) delete json[key];
    await writeFile(path.join(dir, sub, 'process.json'), JSON.stringify(json));
    if (lib === undefined) await copyFile(path.join(src, 'c180.lib'), path.join(dir, sub, 'c180.lib'));
    else await writeFile(path.join(dir, sub, 'c180.lib'), lib);
    return `${sub}/process.json`;
  }
  const deckOf = async (ref: string, extra = '') =>
    (
      await expandPlan(
        await plan(
          `deck-${ref.replace(/\W/g, '-')}.yaml`,
          `name: t\nprocess: ${ref}\ncalibrated: false\nmodels: [${MODEL}]\ninputs: [${CLIP}]\n${extra}`,
        ),
      )
    ).jobs[0].process.deckSha256;

  it('hashes included files by content, not path, with blank runs as one blank and line ends trimmed', async () => {
    const a = await deckOf(await processCopy('pa', ['.include {dir}/c180.lib', '.param a=1 b=2']));
    // Another folder, the include indented and spaced out, blanks doubled and trailing: the same deck.
    const b = await deckOf(await processCopy('pb', ['  .include   {dir}/c180.lib', '.param  a=1   b=2 ']));
    expect(b).toBe(a);
    // A comment that mentions .include names no file to read.
    const c = await deckOf(
      await processCopy('pc', ['.include {dir}/c180.lib', '.param a=1 b=2', '* .include gone.lib']),
    );
    expect(c).not.toBe(a);
    // Blanks are not nothing; the included file's content counts.
    expect(await deckOf(await processCopy('pd', ['.include {dir}/c180.lib', '.param a=1b=2']))).not.toBe(a);
    const edited = `${readFileSync(path.join(REPO_ROOT, 'models', 'c180', 'c180.lib'), 'utf8')}\n* edited\n`;
    expect(await deckOf(await processCopy('pe', ['.include {dir}/c180.lib', '.param a=1 b=2'], {}, edited))).not.toBe(
      a,
    );
  });

  it('names the deck line field when an included file cannot be read', async () => {
    const ref = await processCopy('pf', ['.include {dir}/c180.lib', '.lib {dir}/missing.lib tt']);
    const e = await inputError(
      expandPlan(
        await plan(
          'deck-missing.yaml',
          `name: t\nprocess: ${ref}\ncalibrated: false\nmodels: [${MODEL}]\ninputs: [${CLIP}]\n`,
        ),
      ),
    );
    expect([e.field, e.rule]).toEqual(['deckLines', `cannot read ${path.join(dir, 'pf', 'missing.lib')} (ENOENT)`]);
  });

  it('says a process defines no corners when it has neither corner sections nor skewed-device corners', async () => {
    const ref = await processCopy('pg', ['.include {dir}/c180.lib'], { skewCorners: undefined });
    const e = await inputError(
      expandPlan(
        await plan(
          'deck-nocorner.yaml',
          `name: t\nprocess: ${ref}\ncalibrated: false\nmodels: [${MODEL}]\ninputs: [${CLIP}]\ncorners: [tt]\n`,
        ),
      ),
    );
    expect(e.rule).toContain("has no corner 'tt': it defines no corners (omit corners to run its typical models)");
  });
});

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clipInputs } from '../../src/audio/features.js';
import {
  clipName,
  clipToShow,
  kwsRows,
  kwsSummary,
  namedClip,
  prepareKwsRun,
  selectClips,
  type CauseCounts,
  type KwsClip,
  type KwsRow,
} from '../../src/analysis/kws.js';
import { DEFAULT_TOLERANCES } from '../../src/compare/tolerance.js';
import { InputError } from '../../src/errors.js';
import {
  DISAGREEMENT_CAUSES,
  MARGIN_CLASS_NAMES,
  type DisagreementCause,
  type MarginClass,
} from '../../src/compare/metrics.js';
import { expandPlan, loadPlan } from '../../src/jobs/plan.js';
import type { ResultRecord } from '../../src/jobs/store.js';
import { loadInputs } from '../../src/model/inputs.js';
import { loadModel } from '../../src/model/load.js';
import { runNetwork } from '../../src/model/network.js';
import { REPO_ROOT } from '../helpers.js';
import { toyFeatureSet } from '../train/toy.js';

const KWS_MODEL = path.join(REPO_ROOT, 'models', 'kws', 'kws-w4.json');

describe('selectClips', () => {
  const set = toyFeatureSet(40, 5); // test split: pairs 4, 9, 14, 19 -> clips 8, 9, 18, 19, 28, 29, 38, 39

  it('takes clips of the split only, evenly spaced, so both classes keep their share', () => {
    const all = selectClips(set, 'test', 'all');
    expect(all.map((c) => c.index)).toEqual([8, 9, 18, 19, 28, 29, 38, 39]);
    const four = selectClips(set, 'test', 4);
    expect(four.map((c) => c.index)).toEqual([8, 18, 28, 38]);
    const sorted = selectClips(
      { ...set, target: Uint8Array.from(set.target).sort(), split: new Uint8Array(40).fill(2) },
      'test',
      10,
    );
    expect(sorted.filter((c) => c.target === 1)).toHaveLength(5); // half the clips are keywords, half the sample too
  });

  it('gives every clip of the split when asked for more, and names each clip after its file', () => {
    expect(selectClips(set, 'test', 100)).toHaveLength(8);
    const c = selectClips(set, 'test', 1)[0];
    expect(c).toEqual({ index: 8, name: 'no__toy_nohash_8', file: 'no/toy_nohash_8.wav', label: 'no', target: 0 });
  });

  it('keeps names unique when two paths map to one name', () => {
    const files = [...set.files];
    files[9] = 'no/toy nohash 8.wav'; // clipName gives index 8's name again
    files[8] = 'no/toy_nohash_8.wav';
    const clips = selectClips({ ...set, files }, 'test', 2 * 4);
    expect(clips.slice(0, 2).map((c) => c.name)).toEqual(['no__toy_nohash_8', 'no__toy_nohash_8__9']);
    expect(new Set(clips.map((c) => c.name)).size).toBe(clips.length);
  });

  it('names the file and the split when the split is empty', () => {
    const noTest = { ...set, split: new Uint8Array(40) };
    expect(() => selectClips(noTest, 'test', 5, 'toy.safetensors')).toThrow(
      /toy\.safetensors.*split.*no clips in the test split/,
    );
  });
});

describe('clipName', () => {
  it('makes a file-system-safe name that keeps the label and the clip', () => {
    expect(clipName('yes/494e04a3_nohash_0.wav')).toBe('yes__494e04a3_nohash_0');
    expect(clipName('_background_noise_/white noise.wav#3')).toBe('_background_noise___white_noise__3');
  });
});

const clip = (i: number, target: number): KwsClip => ({
  index: i,
  name: `c${i}`,
  file: `x/c${i}.wav`,
  label: target ? 'yes' : 'no',
  target,
});
/** Cause counts with every cell 0 except those given. */
const causes = (some: Partial<Record<DisagreementCause, Partial<Record<MarginClass, number>>>>): CauseCounts =>
  Object.fromEntries(
    DISAGREEMENT_CAUSES.map((c) => [c, Object.fromEntries(MARGIN_CLASS_NAMES.map((m) => [m, some[c]?.[m] ?? 0]))]),
  ) as CauseCounts;
const row = (
  i: number,
  target: number,
  trained: number,
  sw: number | null,
  circuit: number | null,
  coreW = 60e-9,
): KwsRow => ({
  clip: clip(i, target),
  trainedDecision: trained,
  softwareDecision: sw,
  circuitDecision: circuit,
  reference: circuit === null ? null : 'realised',
  references:
    circuit === null || sw === null
      ? {}
      : {
          trained: { decision: trained, stateAgreement: 0.9, voteAgreement: 0.9 },
          realised: { decision: sw, stateAgreement: 0.99 - i / 100, voteAgreement: 1 },
        },
  stateAgreement: circuit === null ? null : 0.99 - i / 100,
  voteAgreement: circuit === null ? null : 1,
  // Clip i: i + 1 glitches at >= 20% and 2 carried at < 1%; a failed clip has none.
  byCause: circuit === null ? null : causes({ glitch: { '>=20%': i + 1 }, carried: { '<1%': 2 } }),
  powerW: circuit === null ? null : { cell: coreW / 4, ff: coreW / 2, bias: coreW / 4, in: 10e-9 },
  ngspiceS: circuit === null ? null : 10,
  failure: circuit === null ? 'timeout: killed' : null,
});

describe('kwsSummary', () => {
  it('scores each decision source against the labels and the circuit against the software, over simulated clips', () => {
    const rows = [
      row(0, 1, 1, 1, 1, 40e-9),
      row(1, 0, 0, 0, 1, 80e-9), // circuit differs from software: a false alarm
      row(2, 0, 1, 0, 0, 60e-9), // realised parameters fixed a trained-model error
      row(3, 1, 1, 1, null), // failed: counts for the trained model only
    ];
    const s = kwsSummary(rows, 1.01);
    expect(s).toMatchObject({ clips: 4, simulated: 3, failed: 1 });
    expect(s.trained).toEqual({ correct: 3, clips: 4, accuracy: 0.75 });
    expect(s.software).toEqual({ correct: 3, clips: 3, accuracy: 1 });
    expect(s.circuit.correct).toBe(2);
    expect(s.agreement.correct).toBe(2);
    expect(s.agreementTrained.correct).toBe(1);
    expect(s.stateAgreementMin).toBeCloseTo(0.97, 12);
    expect(s.stateAgreementMean).toBeCloseTo(0.98, 12);
    expect(s.coreW).toBeCloseTo(60e-9, 18);
    expect(s.totalW).toBeCloseTo(70e-9, 18);
    expect(s.coreEnergyJ).toBeCloseTo(60e-9 * 1.01, 18);
    expect(s.ngspiceS).toBe(30);
    expect(s.reference).toBe('realised');
    expect(s.references.realised).toMatchObject({
      agreement: { correct: 2, clips: 3 },
      stateAgreementMin: expect.closeTo(0.97, 12),
    });
    expect(s.references.trained).toMatchObject({ agreement: { correct: 1, clips: 3 }, stateAgreementMean: 0.9 });
    // Summed over the three simulated clips: 1 + 2 + 3 glitches, 3 x 2 carried; every other cell stays 0.
    expect(s.byCause).toEqual(causes({ glitch: { '>=20%': 6 }, carried: { '<1%': 6 } }));
  });

  it('with no clip simulated, scores the trained model alone and leaves every circuit figure empty', () => {
    const s = kwsSummary([row(0, 1, 1, 1, null), row(1, 0, 1, 0, null)], 1.01);
    expect(s).toMatchObject({ clips: 2, simulated: 0, failed: 2, reference: null });
    expect([s.references, s.powerW]).toEqual([{}, {}]);
    expect(s.trained).toEqual({ correct: 1, clips: 2, accuracy: 0.5 });
    expect(s.circuit.clips).toBe(0);
    expect(s.circuit.accuracy).toBeNaN();
    expect(s.stateAgreementMin).toBeNaN();
    expect(s.stateAgreementMean).toBeNaN();
    expect([s.coreW, s.totalW, s.totalEnergyJ, s.ngspiceS]).toEqual([0, 0, 0, 0]);
  });

  it('reports a reference only when every simulated clip has it, and the energies as power x clip time', () => {
    const rows = [row(0, 1, 1, 1, 1, 40e-9), row(1, 0, 0, 0, 0, 80e-9)];
    const hw = { decision: 1, stateAgreement: 0.95, voteAgreement: 1 };
    const one = [{ ...rows[0], references: { ...rows[0].references, hwaware: hw } }, rows[1]];
    expect(Object.keys(kwsSummary(one, 1.01).references).sort()).toEqual(['realised', 'trained']);
    const both = one.map((r) => ({ ...r, references: { ...r.references, hwaware: hw } }));
    expect(kwsSummary(both, 1.01).references.hwaware).toMatchObject({
      agreement: { correct: 1, clips: 2 },
      stateAgreementMean: 0.95,
    });
    // Mean power: core 60 nW, total 70 nW (the 10 nW input domain); over a 2.5 s clip.
    const s = kwsSummary(rows, 2.5);
    expect(s.totalEnergyJ).toBeCloseTo(70e-9 * 2.5, 18);
    expect(s.coreEnergyJ).toBeCloseTo(60e-9 * 2.5, 18);
  });

  it("judges decision agreement against the verdict's reference", () => {
    // Judged against trained: clip 2's circuit says 0, the trained model 1.
    const rows = [row(0, 1, 1, 1, 1), row(1, 0, 0, 0, 0), row(2, 0, 1, 0, 0)].map((r) => ({
      ...r,
      reference: 'trained' as const,
    }));
    const s = kwsSummary(rows, 1.01);
    expect(s.reference).toBe('trained');
    expect(s.agreement).toEqual({ correct: 2, clips: 3, accuracy: 2 / 3 });
    expect(s.references.realised?.agreement.correct).toBe(3);
  });
});

describe('kwsSummary with more than two classes', () => {
  it('gives per-class accuracy and a confusion matrix for the trained model, the realised software and the circuit', () => {
    // 3 classes (silence, unknown, yes). (target, trained, software, circuit):
    const rows = [
      row(0, 0, 0, 0, 0),
      row(1, 1, 1, 1, 2), // circuit hears the keyword in an unknown word
      row(2, 2, 2, 2, 2),
      row(3, 2, 1, 2, 2), // the trained model misses it; realised and circuit do not
      row(4, 1, 1, 1, null), // failed: trained only
    ];
    const s = kwsSummary(rows, 1.01, 3);
    expect(s.byClass.trained.confusion).toEqual([
      [1, 0, 0],
      [0, 2, 0],
      [0, 1, 1],
    ]);
    expect(s.byClass.software.confusion).toEqual([
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 2],
    ]);
    expect(s.byClass.circuit.confusion).toEqual([
      [1, 0, 0],
      [0, 0, 1],
      [0, 0, 2],
    ]);
    expect(s.byClass.circuit.perClass).toEqual([1, 0, 1]);
    expect(s.byClass.trained.perClass).toEqual([1, 1, 0.5]);
    expect(s.circuit).toEqual({ correct: 3, clips: 4, accuracy: 0.75 });
  });
});

describe('clipToShow', () => {
  it('prefers the named clip, then a disagreement, then the first keyword clip', () => {
    const agree = [row(0, 0, 0, 0, 0), row(1, 1, 1, 1, 1), row(2, 1, 1, 1, 1)];
    expect(clipToShow(agree).clip.index).toBe(1);
    expect(clipToShow([...agree, row(3, 0, 0, 0, 1)]).clip.index).toBe(3);
    expect(clipToShow(agree, 'x/c2.wav').clip.index).toBe(2);
    expect(() => clipToShow(agree, 'nope')).toThrow(/--show.*not one of the 3 chosen clips/);
    // a clip without a circuit result has nothing to show beside the software
    expect(clipToShow([row(0, 1, 1, 1, null), row(1, 0, 0, 0, 0), row(2, 1, 1, 1, 1)]).clip.index).toBe(2);
    expect(clipToShow([row(0, 0, 0, 0, null), row(1, 1, 1, 1, null)]).clip.index).toBe(1);
  });

  it('in an N-class set, the first keyword clip is one of a keyword, not of _unknown_ (class 1)', () => {
    const classes = ['_silence_', '_unknown_', 'yes', 'no'];
    const rows = [row(0, 0, 0, 0, 0), row(1, 1, 1, 1, 1), row(2, 3, 3, 3, 3), row(3, 2, 2, 2, 2)];
    expect(clipToShow(rows, undefined, classes).clip.index).toBe(2);
    expect(clipToShow(rows.slice(0, 2), undefined, classes).clip.index).toBe(0);
  });

  it('finds a clip for --show by name or path, and names --show when it is neither', () => {
    const clips = [clip(0, 0), clip(1, 1)];
    expect(namedClip(clips, 'c1')).toBe(clips[1]);
    expect(namedClip(clips, 'x/c0.wav')).toBe(clips[0]);
    expect(() => namedClip(clips, 'c7')).toThrow(
      /--show.*'c7' is not one of the 2 chosen clips \(e\.g\. c0\); --clips all/,
    );
    expect(() => namedClip([], 'c7')).toThrow(InputError);
    expect(() => namedClip([], 'c7')).toThrow(/'c7' is not one of the 0 chosen clips/);
  });
});

describe('prepareKwsRun', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'bmru-kws-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('writes a plan whose jobs run the model on exactly the chosen clips, with the same ids on a rerun', async () => {
    const net = { ...(await loadModel(KWS_MODEL)), unitCurrentA: 3e-10 };
    const set = toyFeatureSet(40, 5);
    const clips = selectClips(set, 'test', 3);
    const opts = { outDir: dir, processRef: 'c180', tolerances: DEFAULT_TOLERANCES, timeoutS: 60, name: 'kws' };
    const files = await prepareKwsRun(net, set, clips, opts);
    const expanded = await expandPlan(await loadPlan(files.plan));
    expect(expanded.plan.outDir).toBe(dir);
    expect(expanded.jobs).toHaveLength(3);
    expect((await loadModel(files.model)).unitCurrentA).toBe(3e-10);
    for (const [i, job] of expanded.jobs.entries()) {
      expect(job.input.kind === 'file' && path.basename(job.input.file)).toBe(`${clips[i].name}.csv`);
      const back = await loadInputs(path.join(files.clipsDir, `${clips[i].name}.csv`));
      const want = clipInputs(set, clips[i].index);
      expect(back.frames).toBe(want.frames);
      back.data.forEach((v, k) => expect(v).toBeCloseTo(want.data[k], 6));
    }
    const again = await expandPlan(await loadPlan((await prepareKwsRun(net, set, clips, opts)).plan));
    expect(again.jobs.map((j) => j.id)).toEqual(expanded.jobs.map((j) => j.id));
    expect(expanded.plan.calibrated).toBe(true);
    expect(expanded.plan.maxTransistors).toBe(10_000); // the default: the plan says nothing
    const raised = await loadPlan((await prepareKwsRun(net, set, clips, { ...opts, maxTransistors: 20_000 })).plan);
    expect(raised.maxTransistors).toBe(20_000);
    const uncal = await expandPlan(
      await loadPlan((await prepareKwsRun(net, set, clips, { ...opts, calibrated: false })).plan),
    );
    expect(uncal.plan.calibrated).toBe(false); // --no-calibrated reaches the batch jobs
    expect(uncal.jobs[0].id).not.toBe(expanded.jobs[0].id);
    const trained = await expandPlan(
      await loadPlan(
        (await prepareKwsRun(net, set, clips, { ...opts, reference: 'trained', hwawareModel: KWS_MODEL })).plan,
      ),
    );
    // The plan file says what it runs: calibrated tables unless asked otherwise, the kit only when one is given;
    // the model file says what it is.
    const text = await readFile(files.plan, 'utf8');
    expect(text).toMatch(/^calibrated: true$/m);
    expect(text).not.toMatch(/^kit:/m);
    const kitPlan = await readFile((await prepareKwsRun(net, set, clips, { ...opts, kit: '/pdk/kit' })).plan, 'utf8');
    expect(kitPlan).toMatch(/^kit: \/pdk\/kit$/m);
    expect(JSON.parse(await readFile(files.model, 'utf8')).description).toBe(
      'bmru kws: the network under test (I_unit 3e-10 A)',
    );
    expect(trained.plan.reference).toBe('trained'); // --reference and --hwaware-model reach the batch jobs
    expect(trained.jobs[0]).toMatchObject({ reference: 'trained', hwaware: { file: KWS_MODEL } });
  });

  it('joins batch records to clips by the SHA-256 of the inputs file the job ran, and marks failed and missing clips', async () => {
    const net = await loadModel(KWS_MODEL);
    const set = toyFeatureSet(40, 5);
    const clips = selectClips(set, 'test', 4);
    const files = await prepareKwsRun(net, set, clips, {
      outDir: path.join(dir, 'join'),
      processRef: 'c180',
      tolerances: DEFAULT_TOLERANCES,
      timeoutS: 60,
      name: 'kws',
    });
    const jobs = (await expandPlan(await loadPlan(files.plan))).jobs;
    const rec = (i: number, status: 'ok' | 'failed') =>
      ({
        status,
        job: jobs[i],
        cosim:
          status === 'ok'
            ? {
                ngspiceS: 2,
                supplyMeanA: { cell: 1e-9, in: 2e-9 },
                comparison: { softwareDecision: 1, circuitDecision: 0, stateAgreement: 0.9, voteAgreement: 0.8 },
              }
            : undefined,
        failure: status === 'failed' ? { class: 'timeout', message: 'killed after 60 s' } : undefined,
      }) as unknown as ResultRecord;
    const rows = kwsRows(net, set, clips, [rec(0, 'ok'), rec(1, 'failed')], 2);
    expect(rows[0]).toMatchObject({
      softwareDecision: 1,
      circuitDecision: 0,
      stateAgreement: 0.9,
      powerW: { cell: 2e-9, in: 4e-9 },
      failure: null,
    });
    expect(rows[0].trainedDecision).toBe(runNetwork(net, clipInputs(set, clips[0].index)).decision);
    expect(rows[1]).toMatchObject({ circuitDecision: null, failure: 'timeout: killed after 60 s' });
    expect(rows[2]).toMatchObject({ circuitDecision: null, failure: 'not run' });
    // A failed record that says nothing of why still reads as failed.
    const bare = { ...rec(1, 'failed'), failure: undefined } as unknown as ResultRecord;
    expect(kwsRows(net, set, clips, [bare], 2)[1].failure).toBe('failed: ');

    // Clip 3 with clip 0's features: the plan keeps one job for both, and both clips get its result.
    const same = { ...set, data: Float64Array.from(set.data) };
    const F = set.frames * set.features;
    same.data.copyWithin(clips[3].index * F, clips[0].index * F, (clips[0].index + 1) * F);
    const sameFiles = await prepareKwsRun(net, same, clips, {
      outDir: path.join(dir, 'same'),
      processRef: 'c180',
      tolerances: DEFAULT_TOLERANCES,
      timeoutS: 60,
      name: 'kws',
    });
    const sameJobs = (await expandPlan(await loadPlan(sameFiles.plan))).jobs;
    expect(sameJobs).toHaveLength(3);
    const both = kwsRows(net, same, clips, [{ ...rec(0, 'ok'), job: sameJobs[0] }], 2);
    expect(both[3]).toMatchObject({ circuitDecision: 0, failure: null });
  });
});

/**
 * End-to-end keyword spotting at transistor level (issue 5 §4): test clips of a feature set run through the
 * trained network in software and through its circuit in ngspice, scored per clip and over the set.
 *
 * The circuit runs are an ordinary batch (src/jobs): `prepareKwsRun` writes each clip as an inputs CSV, the
 * model and a plan into the output folder, so a kws run streams each clip's result to disk as it finishes,
 * resumes after Ctrl-C or a crash, and can be sent to Slurm like any plan. The functions here only choose
 * the clips and turn the batch records into accuracies, agreements and power.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { FeatureSet } from '../audio/features.js';
import { clipInputs } from '../audio/features.js';
import { SPLITS, isKeywordClass, type Split } from '../audio/dataset.js';
import { InputError } from '../errors.js';
import { saveModel } from '../model/load.js';
import { inputsCsv } from '../model/inputs.js';
import { runNetwork } from '../model/network.js';
import type { Network } from '../model/types.js';
import { recordReference, type ResultRecord } from '../jobs/store.js';
import { REFERENCE_NAMES, type ReferenceName } from '../compare/references.js';
import type { Tolerances } from '../compare/tolerance.js';
import {
  DISAGREEMENT_CAUSES,
  MARGIN_CLASS_NAMES,
  type DisagreementCause,
  type MarginClass,
} from '../compare/metrics.js';
import { CORE_DOMAINS } from './power.js';
import { confusionMatrix, perClassAccuracy } from '../util/confusion.js';
import { ensureWritableDir, makeDir, writeFileAtomic } from '../util/output.js';

/** Clips of the reference's circuit-level check (49 of 50 decisions agreed): the default count. */
export const DEFAULT_KWS_CLIPS = 50;

/** One chosen clip: where it is in the feature set and the CSV the batch reads. */
export interface KwsClip {
  /** Index in the feature set. */
  readonly index: number;
  /** File-system-safe name, unique within the set: `yes__494e04a3_nohash_0`. */
  readonly name: string;
  /** The clip's path in the data set, as the split lists write it. */
  readonly file: string;
  readonly label: string;
  /** Index into the feature set's classes (2-class: 1 for the keyword, 0 otherwise). */
  readonly target: number;
}

/**
 * `n` clips of a split, evenly spaced through it. The feature set lists clips label by label, so even spacing
 * keeps each label's share (a stratified sample) and is the same every run. `n` larger than the split: all.
 */
export function selectClips(set: FeatureSet, split: Split, n: number | 'all', file = set.source): KwsClip[] {
  const splitIndex = SPLITS.indexOf(split);
  const pool: number[] = [];
  for (let i = 0; i < set.files.length; i++) if (set.split[i] === splitIndex) pool.push(i);
  if (pool.length === 0) throw new InputError(`has no clips in the ${split} split`, { file, field: 'split' });
  const count = n === 'all' ? pool.length : Math.min(n, pool.length);
  const picked = Array.from({ length: count }, (_, k) => pool[Math.floor((k * pool.length) / count)]);
  // Two paths can map to one name (`a b.wav`, `a_b.wav`): the later one gets its index appended, so every clip
  // keeps its own inputs file.
  const taken = new Set<string>();
  return picked.map((index) => {
    let name = clipName(set.files[index]);
    if (taken.has(name)) name = `${name}__${index}`;
    taken.add(name);
    return { index, name, file: set.files[index], label: set.labels[set.label[index]], target: set.target[index] };
  });
}

/** `yes/494e04a3_nohash_0.wav` -> `yes__494e04a3_nohash_0` (a background-noise slice `x.wav#3` -> `x__3`). */
export function clipName(file: string): string {
  return file
    .replace(/\.wav(#|$)/i, '$1')
    .replace(/[/\\#]/g, '__')
    .replace(/[^A-Za-z0-9_.-]/g, '_');
}

export interface KwsRunFiles {
  readonly plan: string;
  readonly model: string;
  readonly clipsDir: string;
}

/**
 * Writes what the batch reads into `outDir`: `model.json` (the network as given, I_unit included),
 * `clips/<name>.csv` (each clip's MFCCs) and `plan.yaml` (this model on every clip, on `processRef`).
 * Files already there with the same content are rewritten identically, so job ids, and with them every
 * finished result, survive a rerun.
 */
export async function prepareKwsRun(
  net: Network,
  set: FeatureSet,
  clips: readonly KwsClip[],
  opts: {
    readonly outDir: string;
    readonly processRef: string;
    readonly kit?: string;
    readonly calibrated?: boolean;
    readonly tolerances: Tolerances;
    readonly timeoutS: number;
    readonly name: string;
    readonly maxTransistors?: number;
    /** The verdict's reference (absent: the toolkit's default) and a hardware-aware model file (absolute path). */
    readonly reference?: ReferenceName;
    readonly hwawareModel?: string;
  },
): Promise<KwsRunFiles> {
  const clipsDir = join(opts.outDir, 'clips');
  await ensureWritableDir(opts.outDir); // an unwritable folder stops the command here, before any ngspice run
  await makeDir(clipsDir);
  for (const c of clips) await writeFileAtomic(join(clipsDir, `${c.name}.csv`), clipCsv(set, c));
  const model = join(opts.outDir, 'model.json');
  await saveModel(net, model, `bmru kws: the network under test (I_unit ${net.unitCurrentA} A)`);
  const plan = join(opts.outDir, 'plan.yaml');
  const body = {
    name: opts.name,
    process: opts.processRef,
    ...(opts.kit === undefined ? {} : { kit: opts.kit }),
    calibrated: opts.calibrated ?? true,
    models: ['model.json'],
    inputs: clips.map((c) => `clips/${c.name}.csv`),
    tolerances: opts.tolerances,
    timeoutS: opts.timeoutS,
    ...(opts.maxTransistors === undefined ? {} : { maxTransistors: opts.maxTransistors }),
    ...(opts.reference === undefined ? {} : { reference: opts.reference }),
    ...(opts.hwawareModel === undefined ? {} : { hwawareModel: opts.hwawareModel }),
    out: '.',
  };
  await writeFileAtomic(
    plan,
    `# Written by bmru kws: the model on each chosen clip. Paths are relative to this file.\n${stringify(body)}`,
  );
  return { plan, model, clipsDir };
}

/** One clip's outcome. Decisions: majority vote of per-frame argmax (DESIGN §1); null where the job failed. */
export interface KwsRow {
  readonly clip: KwsClip;
  /** The trained model, as `bmru train` scored it. */
  readonly trainedDecision: number;
  /** The software model with the parameters the circuit realises. */
  readonly softwareDecision: number | null;
  readonly circuitDecision: number | null;
  /** The reference the clip's verdict judged the circuit against (null where the job failed). */
  readonly reference: ReferenceName | null;
  /** Against that reference. */
  readonly stateAgreement: number | null;
  readonly voteAgreement: number | null;
  /** The circuit against every reference scored: the reference's decision and the agreements. */
  readonly references: Partial<
    Record<
      ReferenceName,
      { readonly decision: number; readonly stateAgreement: number; readonly voteAgreement: number }
    >
  >;
  /** Against the verdict's reference: disagreeing unit-frames by cause and margin class (compare/metrics.ts). */
  readonly byCause: CauseCounts | null;
  /** Mean delivered power per supply domain (W). */
  readonly powerW: Readonly<Record<string, number>> | null;
  readonly ngspiceS: number | null;
  readonly failure: string | null;
}

/** Disagreeing unit-frames by cause and by the model candidate's margin to the threshold in question. */
export type CauseCounts = Readonly<Record<DisagreementCause, Readonly<Record<MarginClass, number>>>>;

/** Cause counts summed over clips (clips without counts add nothing). */
export function sumCauses(counts: readonly (CauseCounts | null)[]): CauseCounts {
  return Object.fromEntries(
    DISAGREEMENT_CAUSES.map((cause) => [
      cause,
      Object.fromEntries(MARGIN_CLASS_NAMES.map((m) => [m, counts.reduce((s, c) => s + (c?.[cause][m] ?? 0), 0)])),
    ]),
  ) as CauseCounts;
}

/** A clip's inputs file as `prepareKwsRun` writes it. */
const clipCsv = (set: FeatureSet, clip: KwsClip) => inputsCsv(clipInputs(set, clip.index));

/**
 * Joins each clip with its batch record and the trained model's decision. Records are matched by the SHA-256
 * of the clip's inputs file, which the job carries: two clips with identical features share one job (the plan
 * drops the duplicate id) and both get its result.
 */
export function kwsRows(
  trained: Network,
  set: FeatureSet,
  clips: readonly KwsClip[],
  records: Iterable<ResultRecord>,
  vddV: number,
): KwsRow[] {
  const bySha = new Map<string, ResultRecord>();
  for (const r of records) if (r.job.input.kind === 'file') bySha.set(r.job.input.sha256, r);
  return clips.map((clip) => {
    const r = bySha.get(createHash('sha256').update(clipCsv(set, clip)).digest('hex'));
    const c = r?.status === 'ok' ? r.cosim : undefined;
    const reference = c ? recordReference(c) : null;
    // Records from before references scored the realised model only, as their comparison.
    const figures = c?.references ?? (c ? { [reference!]: c.comparison } : {});
    const references = Object.fromEntries(
      Object.entries(figures).map(([n, f]) => [
        n,
        { decision: f.softwareDecision, stateAgreement: f.stateAgreement, voteAgreement: f.voteAgreement },
      ]),
    ) as KwsRow['references'];
    return {
      clip,
      trainedDecision: runNetwork(trained, clipInputs(set, clip.index)).decision,
      softwareDecision: references.realised?.decision ?? null,
      circuitDecision: c?.comparison.circuitDecision ?? null,
      reference,
      references,
      stateAgreement: c?.comparison.stateAgreement ?? null,
      voteAgreement: c?.comparison.voteAgreement ?? null,
      byCause: c?.comparison.disagreementsByCause ?? null,
      powerW: c ? Object.fromEntries(Object.entries(c.supplyMeanA).map(([d, i]) => [d, i * vddV])) : null,
      ngspiceS: c?.ngspiceS ?? null,
      failure:
        r?.status === 'failed'
          ? `${r.failure?.class ?? 'failed'}: ${r.failure?.message ?? ''}`
          : r === undefined
            ? 'not run'
            : null,
    };
  });
}

/** Per decision source: `confusion[target][decision]` clips and each class's accuracy (util/confusion.ts). */
export interface ClassScores {
  readonly confusion: number[][];
  /** Fraction of each class's clips decided as it; null for a class with no clip. */
  readonly perClass: (number | null)[];
}

/** Accuracy of one decision source: correct / clips, over the clips that source has a decision for. */
export interface Score {
  readonly correct: number;
  readonly clips: number;
  readonly accuracy: number;
}

export interface KwsSummary {
  readonly clips: number;
  /** Clips with a circuit result. */
  readonly simulated: number;
  readonly failed: number;
  readonly trained: Score;
  readonly software: Score;
  readonly circuit: Score;
  /** Per class, for the trained model (every clip) and the realised software and circuit (simulated clips). */
  readonly byClass: { readonly trained: ClassScores; readonly software: ClassScores; readonly circuit: ClassScores };
  /** The reference the verdicts judged against (the first simulated clip's; null: none simulated). */
  readonly reference: ReferenceName | null;
  /** Circuit decision = the verdict reference's decision, over simulated clips. */
  readonly agreement: Score;
  /** Circuit decision = trained-model decision (the trained model run in software here, on every simulated clip). */
  readonly agreementTrained: Score;
  /** Against the verdict's reference: per-frame state agreement over all unit-frames of the simulated clips (each clip weighs the same). */
  readonly stateAgreementMean: number;
  readonly stateAgreementMin: number;
  readonly voteAgreementMean: number;
  /** Against the verdict's reference: disagreeing unit-frames over all simulated clips, by cause and margin class. */
  readonly byCause: CauseCounts;
  /** Per reference scored on every simulated clip: decision agreement and state agreement (mean, worst clip). */
  readonly references: Partial<
    Record<
      ReferenceName,
      { readonly agreement: Score; readonly stateAgreementMean: number; readonly stateAgreementMin: number }
    >
  >;
  /** Mean over clips of each domain's mean power (W). */
  readonly powerW: Readonly<Record<string, number>>;
  readonly coreW: number;
  readonly totalW: number;
  /** Mean power times the clip's duration (J): one inference. */
  readonly coreEnergyJ: number;
  readonly totalEnergyJ: number;
  readonly ngspiceS: number;
}

/** A decision source's confusion matrix and per-class accuracy over `classes` classes. */
function classScores(pairs: readonly [number, number][], classes: number): ClassScores {
  const confusion = confusionMatrix(pairs, classes);
  return { confusion, perClass: perClassAccuracy(confusion) };
}

/**
 * Accuracies, agreements and power over the rows; `clipS` is one clip's duration (frames x frame time), `classes`
 * the model's class count (the size of the confusion matrices).
 */
export function kwsSummary(rows: readonly KwsRow[], clipS: number, classes = 2): KwsSummary {
  const sim = rows.filter((r) => r.circuitDecision !== null);
  const score = (pairs: readonly [number, number][]): Score => {
    const correct = pairs.filter(([a, b]) => a === b).length;
    return { correct, clips: pairs.length, accuracy: pairs.length === 0 ? NaN : correct / pairs.length };
  };
  const mean = (v: readonly number[]) => (v.length === 0 ? NaN : v.reduce((s, x) => s + x, 0) / v.length);
  const domains = sim.length === 0 ? [] : Object.keys(sim[0].powerW!);
  const powerW = Object.fromEntries(domains.map((d) => [d, mean(sim.map((r) => r.powerW![d] ?? 0))]));
  const coreW = CORE_DOMAINS.reduce((s, d) => s + (powerW[d] ?? 0), 0);
  const totalW = Object.values(powerW).reduce((s, w) => s + w, 0);
  return {
    clips: rows.length,
    simulated: sim.length,
    failed: rows.length - sim.length,
    trained: score(rows.map((r) => [r.trainedDecision, r.clip.target])),
    software: score(sim.map((r) => [r.softwareDecision!, r.clip.target])),
    circuit: score(sim.map((r) => [r.circuitDecision!, r.clip.target])),
    byClass: {
      trained: classScores(
        rows.map((r) => [r.clip.target, r.trainedDecision]),
        classes,
      ),
      software: classScores(
        sim.map((r) => [r.clip.target, r.softwareDecision!]),
        classes,
      ),
      circuit: classScores(
        sim.map((r) => [r.clip.target, r.circuitDecision!]),
        classes,
      ),
    },
    reference: sim[0]?.reference ?? null,
    agreement: score(sim.map((r) => [r.circuitDecision!, r.references[r.reference!]!.decision])),
    agreementTrained: score(sim.map((r) => [r.circuitDecision!, r.trainedDecision])),
    references: Object.fromEntries(
      REFERENCE_NAMES.flatMap((n) => {
        if (sim.length === 0 || sim.some((r) => r.references[n] === undefined)) return [];
        const states = sim.map((r) => r.references[n]!.stateAgreement);
        return [
          [
            n,
            {
              agreement: score(sim.map((r) => [r.circuitDecision!, r.references[n]!.decision])),
              stateAgreementMean: mean(states),
              stateAgreementMin: Math.min(...states),
            },
          ],
        ];
      }),
    ),
    stateAgreementMean: mean(sim.map((r) => r.stateAgreement!)),
    stateAgreementMin: sim.length === 0 ? NaN : Math.min(...sim.map((r) => r.stateAgreement!)),
    voteAgreementMean: mean(sim.map((r) => r.voteAgreement!)),
    byCause: sumCauses(sim.map((r) => r.byCause)),
    powerW,
    coreW,
    totalW,
    coreEnergyJ: coreW * clipS,
    totalEnergyJ: totalW * clipS,
    ngspiceS: sim.reduce((s, r) => s + r.ngspiceS!, 0),
  };
}

/** The chosen clip with this name or data-set path (`--show`). @throws InputError naming `--show` when none is. */
export function namedClip(clips: readonly KwsClip[], name: string): KwsClip {
  const c = clips.find((x) => x.name === name || x.file === name);
  if (!c)
    throw new InputError(
      `'${name}' is not one of the ${clips.length} chosen clips (e.g. ${clips[0]?.name}); --clips all chooses every test clip`,
      {
        field: '--show',
      },
    );
  return c;
}

/**
 * The clip a figure should show: the named one, else among the simulated clips the first whose circuit
 * decision differs from the verdict reference's (the interesting case), else the first keyword clip (a class
 * `isKeywordClass` of `classes`: class 1 of a 2-class set, a keyword after _silence_ and _unknown_ of an N-class
 * one), else the first.
 */
export function clipToShow(
  rows: readonly KwsRow[],
  name?: string,
  classes: readonly string[] = ['other', 'keyword'],
): KwsRow {
  if (name !== undefined) {
    const c = namedClip(
      rows.map((r) => r.clip),
      name,
    );
    return rows.find((r) => r.clip === c)!;
  }
  const keyword = (r: KwsRow) => isKeywordClass(classes[r.clip.target] ?? '');
  const simulated = rows.filter((r) => r.circuitDecision !== null);
  return (
    simulated.find((r) => r.circuitDecision !== r.references[r.reference!]?.decision) ??
    simulated.find(keyword) ??
    simulated[0] ??
    rows.find(keyword) ??
    rows[0]
  );
}

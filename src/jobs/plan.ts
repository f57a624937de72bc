/**
 * Batch plans: a YAML file naming models x input sets x processes x corners x seeds (x I_unit x VDD x temperature x
 * frame period x device sizes), expanded into jobs whose ids are content hashes. An id depends on what the job
 * computes (file contents, process files, corner, seed, sweep values, toolkit version), never on paths, order or
 * machine, so a rerun, a second machine or a Slurm array task finds the same id for the same work and skips it when
 * its result exists.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { InputError, parseWith } from '../errors.js';
import { strictObject } from '../util/schema.js';
import { loadProcess, SizingSchema, type Process, type Sizing } from '../netlist/process.js';
import { CALIBRATION_FILE, loadCalibration, type Calibration } from '../netlist/calibration.js';
import { DEFAULT_TOLERANCES, loadTolerances, parseTolerances, type Tolerances } from '../compare/tolerance.js';
import { PACKAGE_ROOT } from '../util/paths.js';
import { processCorners } from '../netlist/corners.js';
import { MAX_FRAMES } from '../model/limits.js';
import { loadModel } from '../model/load.js';
import { DEFAULT_MAX_TRANSISTORS } from '../netlist/budget.js';
import { formatSi } from '../netlist/ranges.js';
import { REFERENCE_NAMES, type ReferenceName } from '../compare/references.js';
import { SpecsSchema, type SpecLimits } from './specs.js';

/** Largest seed: ngspice reads `.options seed` as a C int. */
const MAX_SEED = 2 ** 31 - 1;
const SeedSchema = z.number().int().min(0).max(MAX_SEED);

/** Frames of a plan's clip: a random clip allocates frames x features values before anything else checks it. */
const FramesSchema = z
  .number()
  .int()
  .min(1)
  .max(MAX_FRAMES, { error: `expected at most ${MAX_FRAMES} frames (the toolkit's limit, src/model/limits.ts)` });

const InputEntrySchema = z.union(
  [
    z.string().min(1),
    z.strictObject({
      file: z.string().min(1),
      frames: FramesSchema.optional(),
      noiseSd: z.number().positive().optional(),
    }),
    z.strictObject({ random: z.strictObject({ frames: FramesSchema, seed: SeedSchema.optional() }) }),
  ],
  {
    error: `expected a CSV path, {file: path, frames?: integer 1..${MAX_FRAMES}, noiseSd?: number > 0} or {random: {frames: integer 1..${MAX_FRAMES}, seed?: integer >= 0}}`,
  },
);

/** The fields of process.json `sizing` a plan's `sizes` entry may override (um). */
const SIZING_FIELDS = Object.keys(SizingSchema.shape) as (keyof Sizing)[];

/** One `sizes` entry: some fields of the process's `sizing` (um), at least one. */
const SizesEntrySchema = SizingSchema.partial().refine((o) => Object.keys(o).length > 0, {
  error: `expected at least one of ${SIZING_FIELDS.join(', ')} (um)`,
});

const PlanSchema = strictObject({
  /** Names the default output folder `out/batch-<name>`. */
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'expected letters, digits, _ . - only (it names a folder)'),
  process: z.string().min(1).optional(),
  processes: z.array(z.string().min(1)).min(1).optional(),
  /** PDK folder for processes whose deck lines use {kit}. */
  kit: z.string().min(1).optional(),
  calibrated: z.boolean().default(true),
  models: z.array(z.string().min(1)).min(1),
  inputs: z.array(InputEntrySchema).min(1),
  corners: z.array(z.string().min(1)).min(1).optional(),
  seeds: z
    .union(
      [z.array(SeedSchema).min(1), z.strictObject({ count: z.number().int().min(1), start: SeedSchema.default(1) })],
      {
        error: 'expected a list of integers >= 0 or {count: integer >= 1, start?: integer >= 0}',
      },
    )
    .optional(),
  /** Sweep axes: I_unit (A) for every model instead of its own, supply voltage (V) instead of the process's, temperature (C). */
  unitCurrents: z.array(z.number().positive()).min(1).optional(),
  vdd: z.array(z.number().positive()).min(1).optional(),
  temperatures: z.array(z.number().min(-273.15)).min(1).optional(),
  /** Frame period (s) for every model instead of its own `frameS`: input steps, reset releases and sampling follow it. */
  framePeriods: z.array(z.number().positive()).min(1).optional(),
  /**
   * Device sizes (um) replacing fields of each process's `sizing`, built with the process's own calibration unless
   * `calibrateSizes`.
   */
  sizes: z.array(SizesEntrySchema).min(1).optional(),
  /**
   * Calibrate a copy of each process at each sizes entry (in the output folder, kept for reruns) and build the entry's
   * jobs with it; false: every entry uses the process's own calibration, measured at its own sizes.
   */
  calibrateSizes: z.boolean().default(false),
  /** A tolerance JSON path or the tolerances inline. */
  tolerances: z.union([z.string().min(1), z.record(z.string(), z.unknown())]).optional(),
  timeoutS: z.number().positive().default(1800),
  /** Refuse jobs whose circuit would have more transistors (netlist/budget.ts; default DEFAULT_MAX_TRANSISTORS). */
  maxTransistors: z.number().int().min(1).default(DEFAULT_MAX_TRANSISTORS),
  retries: z.number().int().min(0).max(10).default(2),
  out: z.string().min(1).optional(),
  /**
   * The software model each job's verdict judges the circuit against (compare/references.ts); absent: the best
   * predictor available for the process (realised today). Every reference available is recorded either way.
   */
  reference: z.enum(REFERENCE_NAMES).optional(),
  /** A fitted hardware-aware model (`bmru analyze hwaware` writes hwaware-model.json), scored as the hwaware reference. */
  hwawareModel: z.string().min(1).optional(),
  /** Datasheet limits per spec (jobs/specs.ts): `batch report --datasheet` judges every swept condition against them. */
  specs: SpecsSchema.optional(),
})
  .refine((p) => (p.process === undefined) !== (p.processes === undefined), {
    error: 'give exactly one of process (one name or path) and processes (a list)',
    path: ['processes'],
  })
  .refine((p) => !p.calibrateSizes || p.sizes !== undefined, {
    error: 'calibrateSizes calibrates a process copy per sizes entry: give sizes, or leave calibrateSizes out',
    path: ['calibrateSizes'],
  })
  .refine((p) => !p.calibrateSizes || p.calibrated, {
    error: 'calibrateSizes needs calibrated: true (an uncalibrated plan reads no tables)',
    path: ['calibrateSizes'],
  });

type RawPlan = z.infer<typeof PlanSchema>;
type InputEntry = z.infer<typeof InputEntrySchema>;

/** A validated plan with every path made absolute (plan paths are relative to the plan file). */
export interface Plan {
  readonly name: string;
  /** The plan file (absolute). */
  readonly file: string;
  readonly processes: readonly string[];
  /** Where each process sits in the plan, for errors: `process`, or `processes.<i>`. */
  readonly processFields: readonly string[];
  readonly kit?: string;
  readonly calibrated: boolean;
  readonly models: readonly { readonly path: string; readonly file: string }[];
  readonly inputs: readonly PlanInput[];
  readonly corners?: readonly string[];
  readonly seeds?: readonly number[];
  readonly tolerances: Tolerances;
  readonly timeoutS: number;
  readonly retries: number;
  /** Jobs whose circuit would have more transistors fail as bad input before building it. */
  readonly maxTransistors: number;
  /** The output folder (absolute). */
  readonly outDir: string;
  /** The verdict's reference; undefined: the toolkit's default for the process (compare/references.ts `defaultReference`). */
  readonly reference?: ReferenceName;
  /** A hardware-aware model file for the hwaware reference. */
  readonly hwawareModel?: { readonly path: string; readonly file: string };
  /** I_unit (A) for every model instead of each model's own (`--unit-current`); undefined: the models'. */
  readonly unitCurrentA?: number;
  /** Sweep axes (each job takes one value of each): I_unit (A), VDD (V), temperature (C); undefined: not swept. */
  readonly unitCurrents?: readonly number[];
  readonly vddV?: readonly number[];
  readonly temperaturesC?: readonly number[];
  /** Frame periods (s) replacing each model's own; undefined: not swept. */
  readonly framePeriodsS?: readonly number[];
  /** Overrides of the processes' `sizing` (um), one job each; undefined: not swept. */
  readonly sizes?: readonly Partial<Sizing>[];
  /** Each sizes entry other than a process's own sizes is built with a copy of the process calibrated there. */
  readonly calibrateSizes: boolean;
  /** Datasheet limits per spec; empty when the plan has no `specs:`. */
  readonly specs: SpecLimits;
}

/** An input set as the plan names it. */
export type PlanInput =
  | {
      readonly kind: 'file';
      readonly path: string;
      readonly file: string;
      readonly frames: number | null;
      readonly noiseSd: number | null;
    }
  | { readonly kind: 'random'; readonly frames: number; readonly seed: number | null };

/** Overrides from the command line; paths relative to the current directory. */
export interface PlanOverrides {
  readonly kit?: string;
  readonly out?: string;
  readonly reference?: ReferenceName;
  readonly hwawareModel?: string;
  /** `--unit-current`: I_unit (A) for every model of the plan. */
  readonly unitCurrentA?: number;
}

/**
 * Reads and validates a plan file. Errors name the plan file and the field (`inputs.1`, `corners.0`, ...).
 * Paths inside the plan are relative to the plan file; the default output folder, like every command's
 * default output, is relative to the current directory.
 */
export async function loadPlan(file: string, overrides: PlanOverrides = {}): Promise<Plan> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read plan file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, {
      file,
    });
  }
  return parsePlan(text, file, overrides);
}

/** Validates plan text (YAML, so JSON too); `file` locates relative paths and names the file in errors. */
export async function parsePlan(text: string, file: string, overrides: PlanOverrides = {}): Promise<Plan> {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) throw new InputError(`invalid YAML: ${doc.errors[0].message.split('\n')[0]}`, { file });
  const raw = parseWith(PlanSchema, doc.toJS(), file);
  const dir = dirname(resolve(file));
  const at = (p: string) => resolve(dir, p);
  const seeds = expandSeeds(raw.seeds, file);
  const inputs = raw.inputs.map((entry, i) =>
    planInput(entry, at, { file, field: `inputs.${i}` }, seeds !== undefined),
  );
  const reference = overrides.reference ?? raw.reference;
  const hwawareModel =
    overrides.hwawareModel !== undefined
      ? { path: overrides.hwawareModel, file: resolve(overrides.hwawareModel) }
      : raw.hwawareModel !== undefined
        ? { path: raw.hwawareModel, file: at(raw.hwawareModel) }
        : undefined;
  if (raw.unitCurrents !== undefined && overrides.unitCurrentA !== undefined)
    throw new InputError('the plan sweeps unitCurrents and --unit-current would replace them: give one of the two', {
      file,
      field: 'unitCurrents',
    });
  if (reference === 'hwaware' && hwawareModel === undefined) {
    throw new InputError(
      'hwaware needs a hardware-aware model: give hwawareModel (a hwaware-model.json of bmru analyze hwaware) or --hwaware-model',
      { file, field: 'reference' },
    );
  }
  return {
    name: raw.name,
    file: resolve(file),
    processes: raw.processes ?? [raw.process!],
    processFields: raw.processes?.map((_, i) => `processes.${i}`) ?? ['process'],
    kit: overrides.kit !== undefined ? resolve(overrides.kit) : raw.kit !== undefined ? at(raw.kit) : undefined,
    calibrated: raw.calibrated,
    models: raw.models.map((path) => ({ path, file: at(path) })),
    inputs,
    corners: raw.corners,
    seeds,
    tolerances: await planTolerances(raw.tolerances, at, file),
    timeoutS: raw.timeoutS,
    retries: raw.retries,
    maxTransistors: raw.maxTransistors,
    outDir:
      overrides.out !== undefined
        ? resolve(overrides.out)
        : raw.out !== undefined
          ? at(raw.out)
          : resolve('out', `batch-${raw.name}`),
    ...(reference === undefined ? {} : { reference }),
    ...(hwawareModel === undefined ? {} : { hwawareModel }),
    ...(overrides.unitCurrentA === undefined ? {} : { unitCurrentA: overrides.unitCurrentA }),
    ...(raw.unitCurrents === undefined ? {} : { unitCurrents: raw.unitCurrents }),
    ...(raw.vdd === undefined ? {} : { vddV: raw.vdd }),
    ...(raw.temperatures === undefined ? {} : { temperaturesC: raw.temperatures }),
    ...(raw.framePeriods === undefined ? {} : { framePeriodsS: raw.framePeriods }),
    ...(raw.sizes === undefined ? {} : { sizes: raw.sizes }),
    calibrateSizes: raw.calibrateSizes,
    specs: (raw.specs ?? {}) as SpecLimits,
  };
}

/** `{count, start}` -> the list of seeds. */
function expandSeeds(seeds: RawPlan['seeds'], file: string): number[] | undefined {
  if (seeds === undefined || Array.isArray(seeds)) return seeds;
  if (seeds.start + seeds.count - 1 > MAX_SEED)
    throw new InputError(`start + count - 1 must be <= ${MAX_SEED}`, { file, field: 'seeds' });
  return Array.from({ length: seeds.count }, (_, i) => seeds.start + i);
}

function planInput(
  entry: InputEntry,
  at: (p: string) => string,
  where: { file: string; field: string },
  haveSeeds: boolean,
): PlanInput {
  if (typeof entry === 'string') return { kind: 'file', path: entry, file: at(entry), frames: null, noiseSd: null };
  if ('file' in entry) {
    // The noise is drawn from the job's seed: without seeds every job would get the same "random" noise.
    if (entry.noiseSd !== undefined && !haveSeeds) {
      throw new InputError('noiseSd perturbs the clip with each job seed: give the plan seeds', {
        ...where,
        field: `${where.field}.noiseSd`,
      });
    }
    return {
      kind: 'file',
      path: entry.file,
      file: at(entry.file),
      frames: entry.frames ?? null,
      noiseSd: entry.noiseSd ?? null,
    };
  }
  if (entry.random.seed === undefined && !haveSeeds) {
    throw new InputError('a random clip needs a seed: give random.seed or the plan seeds', {
      ...where,
      field: `${where.field}.random.seed`,
    });
  }
  return { kind: 'random', frames: entry.random.frames, seed: entry.random.seed ?? null };
}

async function planTolerances(t: RawPlan['tolerances'], at: (p: string) => string, file: string): Promise<Tolerances> {
  if (t === undefined) return DEFAULT_TOLERANCES;
  if (typeof t === 'string') return loadTolerances(at(t));
  try {
    return parseTolerances(t, file);
  } catch (e) {
    // Name the field as it sits in the plan.
    if (e instanceof InputError)
      throw new InputError(e.rule, { file, field: `tolerances.${e.field ?? ''}`.replace(/\.\(root\)$|\.$/, '') });
    throw e;
  }
}

/** A process as the jobs use it, with the hashes that identify its content. */
export interface PlanProcess {
  /** As written in the plan: a shipped name or a path. */
  readonly ref: string;
  /** Its process.json (absolute). */
  readonly file: string;
  readonly process: Process;
  readonly calibration?: Calibration;
  readonly sha256: string;
  readonly calibrationSha256: string | null;
}

/** One unit of work: one model on one input set, one process corner, one seed. */
export interface Job {
  /** Content hash (16 hex digits) of what the job computes, this code included; see `jobId`. */
  readonly id: string;
  /**
   * The same hash with the toolkit's version but not its code digest: what a fidelity baseline records, so that
   * its cases read `changed` when model, inputs, process, calibration or toolkit version change, not on every
   * edit of the code (the batch store, keyed by `id`, still never reuses another code's result).
   */
  readonly fingerprint: string;
  /** Position in plan order (models x inputs x processes x corners x seeds x the sweeps); `--slice` uses it. */
  readonly index: number;
  /** Short human-readable description. */
  readonly label: string;
  readonly model: { readonly path: string; readonly file: string; readonly sha256: string };
  readonly input: JobInput;
  readonly process: {
    readonly ref: string;
    readonly name: string;
    readonly sha256: string;
    readonly calibrationSha256: string | null;
    readonly deckSha256: string;
  };
  readonly corner: string | null;
  /** The job's seed (draws a random clip or input noise; later Monte Carlo), null when the plan has none. */
  readonly seed: number | null;
  /** The `.options seed=N` written to the deck: set for processes with mismatch-capable (X) devices. */
  readonly spiceSeed: number | null;
  /** The verdict's reference as the plan asks for it; null (or absent in older jobs): the toolkit's default. */
  readonly reference?: ReferenceName | null;
  /** The hardware-aware model scored beside the others; null (or absent): none. */
  readonly hwaware?: { readonly path: string; readonly file: string; readonly sha256: string } | null;
  /** I_unit (A) the job runs the model at instead of the model's (`--unit-current`); null (or absent): the model's. */
  readonly unitCurrentA?: number | null;
  /** Supply (V) instead of the process's (plan `vdd`); null (or absent): the process's. */
  readonly vddV?: number | null;
  /** Temperature (C) of the simulation (plan `temperatures`); null (or absent): the process's nominal. */
  readonly temperatureC?: number | null;
  /** Frame period (s) instead of the model's `frameS` (plan `framePeriods`); null (or absent): the model's. */
  readonly framePeriodS?: number | null;
  /**
   * Fields of the process's `sizing` replaced for this job (um, plan `sizes`); null (or absent): the process's. The
   * calibration stays the process's, measured at its own sizes, unless `sizesCalibration` names another.
   */
  readonly sizing?: Partial<Sizing> | null;
  /**
   * The folder (relative to the output folder) of the process copy calibrated at this job's sizes, whose tables the job
   * is built with (plan `calibrateSizes`); null (or absent): the process's own calibration.
   */
  readonly sizesCalibration?: string | null;
}

/** An input set resolved for one job: a file's hash, or the parameters of a generated clip. */
export type JobInput =
  | {
      readonly kind: 'file';
      readonly path: string;
      readonly file: string;
      readonly sha256: string;
      /** Use only the first `frames` frames; null: all. */
      readonly frames: number | null;
      readonly noiseSd: number | null;
      readonly noiseSeed: number | null;
    }
  | { readonly kind: 'random'; readonly frames: number; readonly seed: number };

/** A plan with its processes loaded and its jobs listed (duplicates, e.g. one file named twice, removed). */
export interface ExpandedPlan {
  readonly plan: Plan;
  readonly processes: ReadonlyMap<string, PlanProcess>;
  readonly jobs: readonly Job[];
  /** Jobs dropped because an earlier one has the same id. */
  readonly duplicates: number;
  /**
   * Each model's own frame period (s) by its plan path, read only when the plan sweeps frame periods (the datasheet's
   * typical condition); a model that does not load is left out here and fails its own jobs.
   */
  readonly modelFrameS: Readonly<Record<string, number>>;
}

/**
 * What produces the deck and the comparison: the package version and a digest of the compiled code. Part of
 * every job id, so any change to the generator, the calibration inversion or the comparator reruns every job
 * instead of reusing a result the new code would not have produced (with the version alone, a rerun after a
 * generator change within one version silently reused the old records: seen on the fidelity baseline).
 */
export const TOOLKIT_VERSION = `bmru-cosim@${packageVersion()}`;
export const GENERATOR = `${TOOLKIT_VERSION}+${codeDigest(join(PACKAGE_ROOT, 'dist'))}`;

/**
 * SHA-256 (12 hex digits) over the names and contents of the `.js` files below `dir`, in name order; `nodist`
 * where there is no such folder (sources run directly, e.g. by the test runner).
 */
export function codeDigest(dir: string): string {
  if (!existsSync(dir)) return 'nodist';
  const files = (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.js')).sort();
  const h = createHash('sha256');
  for (const f of files) h.update(`${f}\0`).update(readFileSync(join(dir, f)));
  return h.digest('hex').slice(0, 12);
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/**
 * Loads the plan's processes, checks its corners and hashes its files, then lists the jobs in plan order.
 * A corner that a process lacks is an error here, before anything runs. Models and input files are hashed,
 * not parsed: a model that does not validate fails its own jobs (class bad-input), not the whole batch.
 */
export async function expandPlan(plan: Plan): Promise<ExpandedPlan> {
  const processes = new Map<string, PlanProcess>();
  for (const [i, ref] of plan.processes.entries()) {
    processes.set(ref, await planProcess(ref, plan, i));
  }
  for (const p of processes.values()) {
    checkCorners(p, plan);
    checkSizes(p, plan);
  }
  const fileHashes = new Map<string, Promise<string>>();
  const hashFile = (file: string, field: string) => {
    if (!fileHashes.has(file)) fileHashes.set(file, sha256File(file, { file: plan.file, field }));
    return fileHashes.get(file)!;
  };
  const models = await Promise.all(
    plan.models.map(async (m, i) => ({ ...m, sha256: await hashFile(m.file, `models.${i}`) })),
  );
  const deckHash = memo((p: PlanProcess, corner: string | null) =>
    deckFilesSha256(corner === null ? p.process.deckLines : (p.process.corners[corner] ?? p.process.deckLines)),
  );
  const inputFileHashes = await Promise.all(
    plan.inputs.map((input, i) => (input.kind === 'file' ? hashFile(input.file, `inputs.${i}`) : Promise.resolve(''))),
  );
  const hwaware =
    plan.hwawareModel === undefined
      ? null
      : { ...plan.hwawareModel, sha256: await hashFile(plan.hwawareModel.file, 'hwawareModel') };

  const jobs: Job[] = [];
  const seen = new Set<string>();
  let duplicates = 0;
  for (const model of models) {
    for (const [i, input] of plan.inputs.entries()) {
      for (const p of processes.values()) {
        for (const corner of plan.corners ?? [null]) {
          for (const seed of plan.seeds ?? [null]) {
            for (const sweep of planSweeps(plan)) {
              const sizesCalibration = sizesCalibrationFolder(plan, p, sweep.sizing);
              const content = {
                model,
                input: jobInput(input, inputFileHashes[i], seed),
                process: {
                  ref: p.ref,
                  name: p.process.name,
                  sha256: p.sha256,
                  calibrationSha256: p.calibrationSha256,
                  deckSha256: await deckHash(p, corner),
                },
                corner,
                seed,
                spiceSeed: p.process.instance === 'X' ? (seed ?? 1) : null,
                reference: plan.reference ?? null,
                hwaware,
                ...sweep,
                ...(sizesCalibration === null ? {} : { sizesCalibration }),
              };
              const id = jobId(content, plan.calibrated);
              if (seen.has(id)) {
                duplicates++;
                continue;
              }
              seen.add(id);
              const fingerprint = jobId(content, plan.calibrated, TOOLKIT_VERSION);
              jobs.push({ id, fingerprint, index: jobs.length, label: jobLabel(content), ...content });
            }
          }
        }
      }
    }
  }
  const modelFrameS = plan.framePeriodsS === undefined ? {} : await modelFramePeriods(plan);
  return { plan, processes, jobs, duplicates, modelFrameS };
}

/** Where calibrated process copies live, inside a batch's output folder. */
export const SIZES_CALIBRATION_DIR = 'calibrations';

/**
 * The folder (relative to the output folder) of the copy of `p` calibrated at a sizes entry,
 * `calibrations/<process>-<8 hex of its process.json>/<fields>` (the hash keeps two processes of one name apart);
 * null when the plan does not calibrate sizes or the entry is the process's own sizes (its own calibration serves).
 */
export function sizesCalibrationFolder(
  plan: Pick<Plan, 'calibrateSizes'>,
  p: Pick<PlanProcess, 'process' | 'sha256'>,
  sizing: Partial<Sizing> | null,
): string | null {
  if (!plan.calibrateSizes || sizing === null || ownSizing(sizing, p.process.sizing)) return null;
  const entry = sizingText(sizing).replace(/ /g, '_');
  return `${SIZES_CALIBRATION_DIR}/${p.process.name}-${p.sha256.slice(0, 8)}/${entry}`;
}

/** Two sizes this close (relative) are one: a plan's 8 and a process.json's 8.0. */
const SIZE_MATCH_REL = 1e-9;

/** Whether every field a sizes entry sets is the process's own value. */
export function ownSizing(entry: Partial<Sizing>, sizing: Sizing): boolean {
  return (Object.entries(entry) as [keyof Sizing, number][]).every(
    ([field, um]) => Math.abs(um - sizing[field]) <= SIZE_MATCH_REL * sizing[field],
  );
}

/** One point of a plan's sweep axes: null where the axis is not swept. */
export interface PlanSweepValues {
  readonly unitCurrentA: number | null;
  readonly vddV: number | null;
  readonly temperatureC: number | null;
  readonly framePeriodS: number | null;
  readonly sizing: Partial<Sizing> | null;
}

/**
 * The plan's sweep points in plan order: I_unit outermost, then VDD, temperature, frame period, sizes innermost (one
 * point of nulls without sweeps; `--unit-current` stands in for an unswept I_unit).
 */
export function planSweeps(
  plan: Pick<Plan, 'unitCurrents' | 'unitCurrentA' | 'vddV' | 'temperaturesC' | 'framePeriodsS' | 'sizes'>,
): PlanSweepValues[] {
  const points: PlanSweepValues[] = [];
  for (const unitCurrentA of plan.unitCurrents ?? [plan.unitCurrentA ?? null])
    for (const vddV of plan.vddV ?? [null])
      for (const temperatureC of plan.temperaturesC ?? [null])
        for (const framePeriodS of plan.framePeriodsS ?? [null])
          for (const sizing of plan.sizes ?? [null])
            points.push({ unitCurrentA, vddV, temperatureC, framePeriodS, sizing });
  return points;
}

/** Each model's own frame period by plan path; models that do not load are left out (their jobs fail as bad input). */
async function modelFramePeriods(plan: Plan): Promise<Record<string, number>> {
  const entries = await Promise.all(
    plan.models.map(async (m) => {
      try {
        return [[m.path, (await loadModel(m.file)).frameS] as const];
      } catch {
        return [];
      }
    }),
  );
  return Object.fromEntries(entries.flat());
}

async function planProcess(ref: string, plan: Plan, i: number): Promise<PlanProcess> {
  const file = resolvePlanProcess(ref, dirname(plan.file));
  const field = plan.processFields[i];
  if (!existsSync(file))
    throw new InputError(`no shipped process '${ref}' (c180, gf180mcu) and no file ${file}`, {
      file: plan.file,
      field,
    });
  const process = await loadProcess(file, plan.kit);
  const calibration = plan.calibrated ? await loadCalibration(process.dir, process) : undefined;
  const calibrationFile = join(process.dir, CALIBRATION_FILE);
  return {
    ref,
    file,
    process,
    calibration,
    sha256: await sha256File(file, { file: plan.file, field }),
    // Uncalibrated jobs do not read the tables, so their content must not change the id.
    calibrationSha256: calibration ? await sha256File(calibrationFile, { file: plan.file, field }) : null,
  };
}

/** A shipped process name (`c180`, `gf180mcu`) or a path relative to the plan file. */
export function resolvePlanProcess(ref: string, planDir: string): string {
  const shipped = resolve(PACKAGE_ROOT, 'models', ref, 'process.json');
  return existsSync(shipped) ? shipped : resolve(planDir, ref);
}

function checkCorners(p: PlanProcess, plan: Plan): void {
  // Kit corner sections, or skewed-device corners for cards that have none (analysis/corners.ts).
  const have = processCorners(p.process);
  plan.corners?.forEach((corner, i) => {
    if (!have.includes(corner)) {
      const offer =
        have.length > 0
          ? `it has ${have.join(', ')}`
          : 'it defines no corners (omit corners to run its typical models)';
      throw new InputError(`process ${p.process.name} (${p.ref}) has no corner '${corner}': ${offer}`, {
        file: plan.file,
        field: `corners.${i}`,
      });
    }
  });
}

/**
 * Every `sizes` entry applied to a process must give devices the process can draw: widths >= minWidthUm, lengths
 * >= minLengthUm and <= maxLengthUm (where the kit's models end).
 */
function checkSizes(p: PlanProcess, plan: Plan): void {
  const { minWidthUm, minLengthUm, maxLengthUm } = p.process;
  plan.sizes?.forEach((entry, i) => {
    for (const [field, um] of Object.entries(entry) as [keyof Sizing, number][]) {
      const length = field.endsWith('LengthUm');
      const min = length ? minLengthUm : minWidthUm;
      const max = length ? maxLengthUm : undefined;
      if (um >= min && (max === undefined || um <= max)) continue;
      const range = `>= ${min} um${max === undefined ? '' : ` and <= ${max} um`}`;
      const rules = length ? `minLengthUm${max === undefined ? '' : ', maxLengthUm'}` : 'minWidthUm';
      throw new InputError(`expected ${range} (process ${p.process.name}, ${p.ref}: its ${rules}), got ${um}`, {
        file: plan.file,
        field: `sizes.${i}.${field}`,
      });
    }
  });
}

function jobInput(input: PlanInput, sha256: string, seed: number | null): JobInput {
  if (input.kind === 'random') return { kind: 'random', frames: input.frames, seed: input.seed ?? seed! };
  return {
    kind: 'file',
    path: input.path,
    file: input.file,
    sha256,
    frames: input.frames,
    noiseSd: input.noiseSd,
    noiseSeed: input.noiseSd === null ? null : seed,
  };
}

type JobContent = Omit<Job, 'id' | 'fingerprint' | 'index' | 'label'>;

/**
 * The job id: the first 16 hex digits (64 bits) of the SHA-256 of the canonical JSON of what determines the
 * result: file contents (not paths), generated-clip parameters, process and calibration and included model
 * files, corner, seeds, calibration on/off and the toolkit version, and the verdict's reference and the
 * hardware-aware model's content where the plan names them (absent otherwise, so that jobs judged against the
 * default reference keep the ids they had before references could be chosen; the default itself belongs to the
 * toolkit version), and the sweep values (I_unit, VDD, temperature, frame period, sizes entry; each absent when not
 * swept, so adding an axis leaves the ids of plans without it as they were; a flag where the job is built with a copy
 * calibrated at its sizes, absent otherwise, so plans without `calibrateSizes` keep their ids). Paths, labels and plan order are left out so that the same work has the same id wherever the
 * files sit.
 */
export function jobId(job: JobContent, calibrated: boolean, generator: string = GENERATOR): string {
  const input =
    job.input.kind === 'file'
      ? {
          sha256: job.input.sha256,
          frames: job.input.frames,
          noiseSd: job.input.noiseSd,
          noiseSeed: job.input.noiseSeed,
        }
      : job.input;
  const content = {
    v: 1,
    generator,
    model: job.model.sha256,
    input,
    process: {
      sha256: job.process.sha256,
      calibration: calibrated ? job.process.calibrationSha256 : null,
      deck: job.process.deckSha256,
    },
    corner: job.corner,
    seed: job.seed,
    spiceSeed: job.spiceSeed,
    reference: job.reference ?? undefined,
    hwaware: job.hwaware?.sha256,
    // Absent without --unit-current, so that jobs at the model's own I_unit keep their ids; likewise the others.
    unitCurrentA: job.unitCurrentA ?? undefined,
    vddV: job.vddV ?? undefined,
    temperatureC: job.temperatureC ?? undefined,
    framePeriodS: job.framePeriodS ?? undefined,
    sizing: job.sizing ?? undefined,
    // A copy calibrated at the job's sizes: its tables are measured by this toolkit (the generator above) from the
    // process's files and the sizes entry, both already in the id, so a flag says it; absent for the process's own.
    sizesCalibration: job.sizesCalibration != null ? true : undefined,
  };
  return createHash('sha256').update(canonicalJson(content)).digest('hex').slice(0, 16);
}

/** JSON with object keys sorted at every level: equal content gives equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function jobLabel(job: JobContent): string {
  const model = basename(job.model.path).replace(/\.[^.]+$/, '');
  const input =
    job.input.kind === 'random'
      ? `random${job.input.frames}#${job.input.seed}`
      : `${basename(job.input.path)}${job.input.frames === null ? '' : `[:${job.input.frames}]`}${job.input.noiseSd === null ? '' : `+noise${job.input.noiseSd}#${job.input.noiseSeed}`}`;
  const where = job.corner === null ? job.process.name : `${job.process.name}/${job.corner}`;
  return [
    model,
    input,
    where,
    ...(job.seed === null ? [] : [`seed ${job.seed}`]),
    ...(job.reference ? [`vs ${job.reference}`] : []),
    ...(job.unitCurrentA != null ? [`at ${formatSi(job.unitCurrentA, 'A')}`] : []),
    ...(job.vddV != null ? [`VDD ${formatSi(job.vddV, 'V')}`] : []),
    ...(job.temperatureC != null ? [`${job.temperatureC} C`] : []),
    ...(job.framePeriodS != null ? [`frame ${formatSi(job.framePeriodS, 's')}`] : []),
    ...(job.sizing != null ? [sizingText(job.sizing)] : []),
    ...(job.sizesCalibration != null ? ['calibrated there'] : []),
  ].join(' ');
}

/** A sizes entry as labels and conditions show it: `mirrorLengthUm=12 switchWidthUm=0.5`, in schema order. */
export function sizingText(sizing: Partial<Sizing>): string {
  return SIZING_FIELDS.filter((f) => sizing[f] !== undefined)
    .map((f) => `${f}=${sizing[f]}`)
    .join(' ');
}

/**
 * The SHA-256 of the files a process's deck lines pull in (`.include` and `.lib` targets), in order. Files
 * those include in turn are not followed: the kits name their sections from the top-level file.
 */
export async function deckFilesSha256(deckLines: readonly string[]): Promise<string> {
  const h = createHash('sha256');
  for (const line of deckLines) {
    const target = /^\s*\.(?:include|inc|lib)\s+("?)([^"\s]+)\1/i.exec(line)?.[2];
    // The file's content stands in for its path (paths differ by machine); the rest (a .lib section) stays.
    const text = target === undefined ? line : line.replace(target, await sha256File(target, { field: 'deckLines' }));
    h.update(`${text.replace(/\s+/g, ' ').trim()}\n`);
  }
  return h.digest('hex');
}

async function sha256File(file: string, where: { file?: string; field: string }): Promise<string> {
  try {
    return createHash('sha256')
      .update(await readFile(file))
      .digest('hex');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new InputError(`cannot read ${file} (${code})`, { file: where.file ?? file, field: where.field });
  }
}

/** Caches an async function of two arguments by identity of the first and value of the second. */
function memo<A, B, R>(f: (a: A, b: B) => Promise<R>): (a: A, b: B) => Promise<R> {
  const cache = new Map<A, Map<B, Promise<R>>>();
  return (a, b) => {
    let inner = cache.get(a);
    if (!inner) cache.set(a, (inner = new Map()));
    let r = inner.get(b);
    if (!r) inner.set(b, (r = f(a, b)));
    return r;
  };
}

/** Which share of a plan one worker process runs: jobs whose index % count === index. */
export interface Slice {
  readonly index: number;
  readonly count: number;
}

/**
 * Parses `i/n` (0 <= i < n, 0-based like `SLURM_ARRAY_TASK_ID` from `sbatch --array=0-(n-1)`).
 * Jobs are dealt round-robin so each slice gets a mix of every model, corner and seed.
 */
export function parseSlice(text: string): Slice {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || !(count >= 1) || !(index < count)) {
    throw new InputError(`expected i/n with 0 <= i < n (e.g. 0/4 ... 3/4), got '${text}'`, { field: '--slice' });
  }
  return { index, count };
}

/** The jobs of one slice (all of them without a slice). */
export function sliceJobs<T extends { index: number }>(jobs: readonly T[], slice?: Slice): T[] {
  return slice === undefined ? [...jobs] : jobs.filter((j) => j.index % slice.count === slice.index);
}

/**
 * The one-way data flow of the toolkit: parameters -> netlist -> ngspice -> waveforms -> comparison -> verdict.
 * ngspice runs the network as one deck, or (`partitioned`, issue 13) as the partitions of netlist/partition.ts: each
 * run through ngspice in dependency order (front end, block 0, ..., classifier) with the rails it reads replayed from
 * the rawfiles of the partitions before it, and their plots merged into the one plot the comparator reads.
 * Partitions that do not read each other (the cells of a block, split by cell) run at once, up to `workers` ngspice
 * processes, with the monolithic deck's options but a tighter reltol (`partitionReltol`). Where they run is a
 * `PartitionExecutor`'s business: this machine (`localPool`) or Slurm arrays (jobs/partition-slurm.ts); the merged plot
 * is scored here either way.
 */
import { rm } from 'node:fs/promises';
import type { Network } from './model/types.js';
import type { InputSequence, Trace } from './model/network.js';
import {
  DEFAULT_SPICE_OPTIONS,
  generateNetlist,
  networkDeck,
  type BuiltCircuit,
  type GeneratedNetlist,
  type GenerateOptions,
} from './netlist/generate.js';
import { currentProbe, voltageProbe, writeDeckFiles } from './netlist/deck.js';
import {
  CELL_HANDOFF_TOLERANCE_V,
  compressPwl,
  GLOBAL_NODES,
  HANDOFF_TOLERANCE_V,
  keptPoints,
  partitionCircuit,
  frameEdgeBreakpoints,
  partitionElements,
  partitionWaves,
  type Handoff,
  type Partition,
  type PartitionBy,
  type PartitionPlan,
  type Pwl,
  type ReplicaDrive,
} from './netlist/partition.js';
import { runMany } from './util/pool.js';
import { DOMAINS, NMOS_SOURCE_NODE, SUPPLY } from './netlist/supplies.js';
import { mergeTransientPlots, stitchTransientPlots } from './spice/merge.js';
import { terminals, type Element } from './netlist/elements.js';
import { forgets, frameWindows, windowElements, type TimeWindow } from './netlist/window.js';
import { runNgspice, type RunOptions, type RunProgress, type RunResult } from './spice/runner.js';
import { filesourceCodemodel } from './spice/filesource.js';
import { canonicalVectorName, transientPlot, vector, type RawPlot } from './spice/rawfile.js';
import { nonFiniteVectors, sampleCircuit, valueAt, type CircuitFrames } from './compare/sample.js';
import { SpiceConvergenceError, SpiceCrashError } from './spice/errors.js';
import { compareRun, traceStateAgreement, type Comparison } from './compare/metrics.js';
import { judge, DEFAULT_TOLERANCES, type Tolerances, type Verdict } from './compare/tolerance.js';
import {
  defaultReference,
  networkReference,
  referenceFigures,
  type HwawareSource,
  type ReferenceModel,
  type ReferenceName,
  type ReferenceTable,
} from './compare/references.js';
import { InputError } from './errors.js';

export interface CosimOptions extends GenerateOptions {
  readonly tolerances?: Tolerances;
  /** Runner settings (timeout, work directory policy, binary...). */
  readonly run?: Omit<RunOptions, 'netlist' | 'expectTStopS' | 'expectVectors'>;
  readonly sampleFraction?: number;
  /**
   * The reference the verdict judges the circuit against (compare/references.ts). Default: the best predictor
   * available for the process (`defaultReference`: the hardware-aware model where one is given by the process).
   */
  readonly reference?: ReferenceName;
  /** A hardware-aware model, scored as the `hwaware` reference beside the trained and the realised model. */
  readonly hwaware?: HwawareSource;
  /**
   * Score these plots (a rawfile kept from an earlier run of the same network, inputs and options) instead of
   * running ngspice. The transient must reach the deck's tstop and hold every probe, else the run is refused.
   */
  readonly fromRaw?: { readonly plots: RawPlot[]; readonly file: string };
  /**
   * Simulate the circuit in partitions (front end, each block, classifier) in dependency order instead of as one
   * deck (partitioned.ts, issue 13); the monolithic deck stays the reference. Not with noise, variation, supply
   * probes, extra saves or a stored rawfile (yet).
   */
  readonly partitioned?: boolean;
  /** With `partitioned`: a partition per block (`block`, the default) or each block also per cell (`cell`). */
  readonly partitionBy?: PartitionBy;
  /** With `partitioned`: ngspice processes at once (partitions that do not read each other). Default: 2. */
  readonly workers?: number;
  /** With `partitionBy: 'cell'`: a block's outputs per partition (default 1: one partition per output). */
  readonly outputsPerPartition?: number;
  /** With `partitionBy: 'cell'`: the width from which the front end is cut per output (`FRONT_END_CUT_FROM_WIDTH`). */
  readonly frontEndCutFromWidth?: number;
  /** With `partitioned`: 2 runs every partition again with the replicas' drains following (`PartitionPasses`). */
  readonly partitionPasses?: PartitionPasses;
  /**
   * With `partitioned`: the partitions that forget their past and run alone in their stage (the front end, shared
   * parts, classifier) as this many time windows side by side (`PartitionSchedule.timeWindows`). Default
   * `DEFAULT_TIME_WINDOWS` (one deck each; a Slurm task runs its partition as one deck whatever this says).
   */
  readonly timeWindows?: number;
  /**
   * With `partitioned`: a partition whose longest hand-off holds more points than this runs as time windows one after
   * another, each from the states the one before left (`chainedWindows`); 0: never. Default `HANDOFF_POINTS_PER_DECK`
   * with hand-offs as `B` sources, 0 when they are replayed from files.
   */
  readonly handoffPointsPerDeck?: number;
  /** With `partitioned`: how hand-offs are replayed (`HandoffReplay`). Default 'file' where ngspice can. */
  readonly handoffReplay?: HandoffReplay;
  /**
   * With `partitioned`: where the partitions run. Default: `localPool(workers)`, this machine. Whatever runs them,
   * the merged plot is scored by the same code.
   */
  readonly partitionExecutor?: PartitionExecutor;
}

/** ngspice processes a partitioned run starts at once unless told (the cells of a block run side by side). */
export const DEFAULT_PARTITION_WORKERS = 2;

/** How the circuit was simulated: one deck (the reference), or partition by partition. */
export type Simulation =
  | { readonly mode: 'monolithic' }
  | {
      readonly mode: 'partitioned';
      readonly partitions: readonly PartitionRunInfo[];
      /** 1, or 2 when every partition ran again with drain-following replicas (`PartitionPasses`). */
      readonly passes?: PartitionPasses;
      /** Where the partitions ran (`PartitionExecutor.label`): `local pool (2 workers)`, `Slurm (...)`. */
      readonly executor?: string;
    };

/**
 * "monolithic" or "partitioned (N partitions)" (", 2 passes" when there were; ", hand-offs as B sources" when they were
 * not replayed from files; ", K at a looser abstol" when K partitions ran at `RETRY_ABSTOLS_A`), as reports say it.
 */
export function simulationLabel(s: Simulation): string {
  if (s.mode === 'monolithic') return 'monolithic';
  const bsource = s.partitions.some((p) => p.handoffReplay === 'bsource') ? ', hand-offs as B sources' : '';
  const retried = s.partitions.filter((p) => p.abstolRetriedA !== undefined).length;
  const looser = retried > 0 ? `, ${retried} at a looser abstol` : '';
  return `partitioned (${s.partitions.length} partitions${(s.passes ?? 1) > 1 ? `, ${s.passes} passes` : ''}${bsource}${looser})`;
}

/** `simulationLabel` and, for partitions, where they ran: "partitioned (22 partitions) on local pool (2 workers)". */
export function simulationWhere(s: Simulation): string {
  return `${simulationLabel(s)}${s.mode === 'partitioned' && s.executor ? ` on ${s.executor}` : ''}`;
}

/** The circuit scored against one software model. */
export interface ReferenceRun {
  /** The reference's network (a hardware-aware model's is the realised one, whose thresholds it reads). */
  readonly net: Network;
  readonly software: Trace;
  readonly comparison: Comparison;
}

export interface CosimResult {
  readonly generated: GeneratedNetlist;
  readonly run: RunResult;
  readonly simulation: Simulation;
  /** The verdict's reference's trace (`references[reference].software`). */
  readonly software: Trace;
  readonly circuit: CircuitFrames;
  /** The circuit against the verdict's reference (`references[reference].comparison`). */
  readonly comparison: Comparison;
  /** Judges `comparison`. */
  readonly verdict: Verdict;
  /** Which software model the verdict judges the circuit against. */
  readonly reference: ReferenceName;
  /** The circuit against every reference available: trained and realised always, hwaware when given. */
  readonly references: Partial<Record<ReferenceName, ReferenceRun>>;
  /** Fraction of unit-frames where the model with the realised parameters keeps the trained model's state on these inputs. */
  readonly mappingStateAgreement: number;
}

/** Generate, simulate and score one network on one input sequence. */
export async function cosimulate(net: Network, inputs: InputSequence, opts: CosimOptions): Promise<CosimResult> {
  const generated = generateNetlist(net, inputs, opts);
  // Every reference is known before ngspice runs: asking for one that is not there must not cost a simulation.
  const { reference, ...models } = referenceModels(net, generated.realised, opts);
  let simulation: Simulation = { mode: 'monolithic' };
  let run: RunResult;
  if (opts.partitioned) {
    const workers = checkedWorkers(opts.workers);
    const executor = opts.partitionExecutor ?? localPool(workers);
    const windows = opts.timeWindows ?? DEFAULT_TIME_WINDOWS;
    const parted = await executor.run(cosimPartitionContext(generated, net, { ...opts, timeWindows: windows }));
    run = parted.run;
    simulation = {
      mode: 'partitioned',
      partitions: parted.partitions,
      passes: opts.partitionPasses ?? 1,
      executor: executor.label,
    };
  } else
    run = opts.fromRaw
      ? storedRun(opts.fromRaw, generated.tStopS)
      : await runNgspice({
          ...opts.run,
          netlist: generated.deck,
          extraArgs: [...opts.process.ngspiceArgs, ...(opts.run?.extraArgs ?? [])],
          expectTStopS: generated.tStopS,
          expectVectors: [...(opts.extraSaves ?? [])],
        });
  const plot = transientPlot(run.plots);
  const bad = nonFiniteVectors(plot, generated.probes);
  if (bad.length > 0) {
    const first = bad[0];
    const message = `ngspice exited ${run.exitCode} but wrote non-finite values in ${bad.length} probed vector${bad.length > 1 ? 's' : ''} (first: ${first.name} = ${first.value} at point ${first.point}${Number.isFinite(first.timeS) ? `, t = ${first.timeS} s` : ''}): the simulation diverged, nothing to compare`;
    throw new SpiceCrashError('incomplete', message, run.exitCode, null, {
      workDir: run.workDir,
      stderrTail: run.stderrTail,
    });
  }
  const circuit = sampleCircuit(plot, generated.probes, {
    frames: generated.frames,
    frameS: net.frameS,
    unitA: net.unitCurrentA,
    vddV: opts.process.vddV,
    sampleFraction: opts.sampleFraction,
    inputEdgeS: opts.inputEdgeS,
  });
  const references: Partial<Record<ReferenceName, ReferenceRun>> = {};
  for (const [name, model] of Object.entries(models) as [ReferenceName, ReferenceModel][]) {
    const software = model.run(inputs);
    references[name] = { net: model.net, software, comparison: compareRun(model.net, software, circuit, inputs) };
  }
  const { software, comparison } = references[reference]!;
  const mappingStateAgreement = traceStateAgreement(references.trained!.software, references.realised!.software);
  return {
    generated,
    run,
    simulation,
    software,
    circuit,
    comparison,
    verdict: judge(comparison, opts.tolerances ?? DEFAULT_TOLERANCES),
    reference,
    references,
    mappingStateAgreement,
  };
}

/**
 * What a partitioned `cosimulate` splits and runs, from its options: the Slurm tasks and the merge build the same.
 *
 * @throws InputError for an option a partitioned run does not support, or a bad schedule
 */
export function cosimPartitionContext(generated: GeneratedNetlist, net: Network, opts: CosimOptions): PartitionContext {
  checkPartitionable(opts);
  return partitionSetup(generated.built, net, opts, generated.tStopS, opts.run, handoffWaveforms, {
    by: opts.partitionBy,
    outputsPerPartition: opts.outputsPerPartition,
    frontEndCutFromWidth: opts.frontEndCutFromWidth,
    passes: opts.partitionPasses,
    timeWindows: opts.timeWindows,
    handoffPointsPerDeck: opts.handoffPointsPerDeck,
    handoffReplay: opts.handoffReplay,
  });
}

/**
 * A kept rawfile standing in for a run: refused unless its transient reaches this deck's tstop, the cheapest sign
 * that it came from another clip (probes of another network are refused when sampled, by name).
 */
function storedRun(raw: { readonly plots: RawPlot[]; readonly file: string }, tStopS: number): RunResult {
  const plot = transientPlot(raw.plots);
  const time = vector(plot, 'time');
  const lastS = time[time.length - 1];
  if (!(Math.abs(lastS - tStopS) <= tStopS * RAW_TSTOP_REL_TOL)) {
    throw new InputError(
      `${raw.file}: the transient ends at t = ${lastS} s, but this model and clip simulate to ${tStopS} s: not a rawfile of this run`,
      { file: raw.file },
    );
  }
  return {
    plots: raw.plots,
    exitCode: 0,
    durationMs: 0,
    ngspiceVersion: `unknown (read from ${raw.file})`,
    messages: [],
    stdoutTail: '',
    stderrTail: '',
  };
}

/**
 * A partitioned run splits the circuit `buildCircuit` places; the passes `generateNetlist` makes over it afterwards
 * (noise, variation, supply probes) and saves of arbitrary nodes are not split yet.
 *
 * @throws InputError naming the option
 */
function checkPartitionable(opts: CosimOptions): void {
  const refused = [
    ['noise', opts.noise !== undefined],
    ['variation', opts.variation !== undefined],
    ['supplyProbes', opts.supplyProbes === true],
    ['extraSaves', (opts.extraSaves?.length ?? 0) > 0],
    ['fromRaw', opts.fromRaw !== undefined],
  ] as const;
  const bad = refused.find(([, on]) => on);
  if (bad)
    throw new InputError(`a partitioned simulation does not support ${bad[0]} yet: run it monolithic`, {
      field: bad[0],
    });
}

/** How far a stored transient's last point may be from tstop (relative), as the runner checks a fresh one. */
const RAW_TSTOP_REL_TOL = 1e-9;

/** Per reference, its figures (what report.json and the batch records keep of the other references). */
export function referenceTable(r: Pick<CosimResult, 'references'>): ReferenceTable {
  return Object.fromEntries(
    Object.entries(r.references).map(([name, run]) => [name, referenceFigures(run.comparison)]),
  ) as ReferenceTable;
}

/**
 * The software models to score the circuit against, and the verdict's: the trained network as given, the
 * realised one, and the hardware-aware one when there is one.
 *
 * @throws InputError when the asked reference is hwaware and there is no hardware-aware model
 */
function referenceModels(
  net: Network,
  realised: Network,
  opts: CosimOptions,
): { trained: ReferenceModel; realised: ReferenceModel; hwaware?: ReferenceModel; reference: ReferenceName } {
  const hw = opts.hwaware;
  const hwaware = hw === undefined ? undefined : hw.origin === 'file' ? networkReference(hw.net) : hw.build(net, opts);
  const reference = opts.reference ?? defaultReference(hwaware === undefined ? undefined : hw!.origin);
  if (reference === 'hwaware' && hwaware === undefined) {
    const why =
      hw === undefined
        ? 'give a fitted model (--hwaware-model, written by bmru analyze hwaware)'
        : `${hw.source} give none for process ${opts.process.name} (measure them: bmru calibrate -p ${opts.process.name}; or give a fitted --hwaware-model)`;
    throw new InputError(`the hwaware reference needs a hardware-aware model: ${why}`, { field: 'reference' });
  }
  return {
    trained: networkReference(net),
    realised: networkReference(realised),
    ...(hwaware === undefined ? {} : { hwaware }),
    reference,
  };
}

// --- Partitioned simulation (issue 13) ---

/** What one partition's run cost and held. */
export interface PartitionRunInfo {
  readonly index: number;
  readonly label: string;
  readonly transistors: number;
  readonly replicas: number;
  readonly handoffs: number;
  /** PWL points over all its hand-off sources, after `compressPwl`. */
  readonly handoffPoints: number;
  /** Wall time of its ngspice run (ms). */
  readonly durationMs: number;
  /**
   * ngspice's own "Total analysis time" (s), when it printed one. Despite the field's name this is wall-clock time:
   * ngspice 39 measures it as elapsed (`node bench/partition-slurm-wide.mjs 128 1`: 137.0 s reported, 72.7 CPU-s by
   * rusage), so it grows with the machine's load and with partitions run side by side; CPU time needs rusage
   * (jobs/partition-slurm.ts).
   */
  readonly cpuS?: number;
  /** Time points ngspice wrote (a windowed partition: kept after stitching). */
  readonly points: number;
  /** Time windows it ran as, side by side (`PartitionContext.windows`), when more than one. */
  readonly windows?: number;
  /** Time windows it ran as one after another (`chainedWindows`: long hand-offs), when more than one. */
  readonly windowsInTurn?: number;
  /** How its hand-offs were replayed (`HandoffReplay`), when it had any. */
  readonly handoffReplay?: HandoffReplay;
  /** The abstol (A) it ran at after its deck's own stopped with "Timestep too small" (`RETRY_ABSTOLS_A`), if it did. */
  readonly abstolRetriedA?: number;
  /**
   * Its kept work directory (deck, rawfile), when the runner kept it (`keepWorkDir: 'always'`); of a partition run as
   * time windows, the last window's, whose rawfile covers only that window (the others are kept beside it).
   */
  readonly workDir?: string;
}

export interface PartitionedRun {
  /** The merged result: one transient plot of every partition's vectors, supplies summed; `durationMs` the wall time. */
  readonly run: RunResult;
  readonly partitions: readonly PartitionRunInfo[];
}

/** The seconds ngspice's `acct` statistics give for the analysis ("Total analysis time (seconds) = 1.23"): elapsed, not CPU. */
export function analysisCpuSeconds(stdout: string): number | undefined {
  const m = /Total analysis time \(seconds\)\s*=\s*([0-9.eE+-]+)/.exec(stdout);
  const v = m ? Number(m[1]) : NaN;
  return Number.isFinite(v) ? v : undefined;
}

/**
 * A partition's reltol as a fraction of the monolithic deck's. Alone, a partition has less going on to keep its
 * steps short, and the rails it hands on carry its truncation error into every later partition. Measured on the
 * example's full clip (c180, 808 candidate-frames): at the monolithic reltol (1e-4) 3 candidate-frames differed from
 * the monolithic run by more than 0.5% (worst 0.76%, small candidates still rising at the sample point), at a fifth
 * of it none did (worst 0.31%), for ~18% more partition CPU time; the monolithic run itself moved < 0.005% at a fifth.
 */
export const PARTITION_RELTOL_FACTOR = 0.2;

/**
 * Split by cell, a block's cells run at a further fifth of `partitionReltol`. Alone, a cell and its
 * candidate take few time points (300-800 where the block took 1400-2100), and a candidate settles slowly; on the
 * width-16 bench network one block-0 candidate came out 0.46% off the per-block run at `partitionReltol`, 0.07% with
 * block 0's cell and shared partitions at a fifth of it (block 0's rest at a fifth alone: unchanged). They are the
 * cheap partitions (0.02-0.1 CPU-s each at width 8), so this costs little. Not the shared part: at width 32 its deck
 * (many rail conversions, each gate rail replayed) aborted at 4e-6 with "Timestep too small" on a hand-off's branch.
 */
export const CELL_RELTOL_FACTOR = 0.2;

/**
 * abstol (A) for a partition whose deck stopped with "Timestep too small", tried in turn. A partition is a small
 * circuit whose supply branches can carry little current, so their convergence test is abstol alone: the width-64
 * power sweep's front-end partition (`analyze power --scaling`, seed 1, 10 frames; 25 PMOS bias replicas at V_DS = 0
 * on a supply of 625 pA) stopped at t = 10 us with trouble on `vvdd_bias#branch` at the default 1e-15 A after 37 s,
 * and ran in 1.0 s at 1e-14, 0.7 s at 1e-13 (session 30). What it costs, with every partition of the width-16 bench
 * network at it (bench/partition.mjs 16:3): worst candidate against the monolithic deck 0.874% -> 0.882% at 1e-14,
 * 1.005% at 1e-13, the same states (docs/partition.md). The report says which partitions ran so; the monolithic
 * reference never retries.
 */
export const RETRY_ABSTOLS_A: readonly number[] = [1e-14, 1e-13];

/**
 * How many passes a partitioned run makes. In one, each cut copy's replica in the partition that computes its gate
 * rail sits at V_DS = 0, so the rail misses the copy's gate-drain coupling: where the copy's drain swings (a summing
 * node following its current's log, e.g. the next block's ReLU input reading the input rails), the real copy injects
 * C_gd dV_D/dt onto the rail, which on a weakly driven rail settles over the frame. A second pass runs every partition
 * again with the replicas' drains following the first pass's copies' drains (`drivenReplicas`). Measured on the
 * width-16 bench network (docs/partition.md): worst candidate 0.598% -> 0.123% off the monolithic run, for ~2.2x the
 * CPU of one pass.
 */
export type PartitionPasses = 1 | 2;

/** Both passes' CPU seconds, undefined unless ngspice printed both. */
const bothPasses = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined || b === undefined ? undefined : a + b;

/** The waveform of a copy's drain from the first pass's plot of the partition holding the copy (a global node: its DC). */
function copyDrainWaveform(
  plot: RawPlot,
  node: string,
  tolV: number,
  globalV: (node: string) => number,
  tStopS: number,
): Pwl {
  if (GLOBAL_NODES.has(node))
    return [
      [0, globalV(node)],
      [tStopS, globalV(node)],
    ];
  return compressPwl(vector(plot, 'time'), vector(plot, voltageProbe(node)), tolV);
}

/** The reltol partitions run at: `PARTITION_RELTOL_FACTOR` x the deck's (given, or the generator's default). */
export function partitionReltol(spiceOptions: GenerateOptions['spiceOptions']): number {
  const given = Number(spiceOptions?.reltol ?? DEFAULT_SPICE_OPTIONS.reltol);
  if (!(given > 0))
    throw new InputError(`expected reltol > 0, got ${String(spiceOptions?.reltol)}`, { field: 'reltol' });
  return given * PARTITION_RELTOL_FACTOR;
}

/**
 * What turns earlier partitions' plots into the waveforms of a partition's hand-offs (node -> PWL). `railsFrom`:
 * every rail any partition reads from partition `from` (default: the ones asked for).
 */
export type HandoffSource = (
  handoffs: readonly Handoff[],
  plots: readonly RawPlot[],
  tolV: number,
  railsFrom?: (from: number) => readonly string[],
) => Map<string, Pwl>;

/**
 * Each hand-off's rail as a PWL, from the plot of the partition that computes it: the rails of one plot on one
 * shared set of its points (`keptPoints` over every rail `railsFrom` names), so that their breakpoints coincide
 * and so that a rail is one waveform whichever subset of them a partition reads (each output partition of a wide
 * block reads its own subset of the shared part's rails). The same rails from the same plot come back as the same
 * arrays, compressed once and printed once (netlist/elements.ts keeps each recorded waveform's text).
 */
export function handoffWaveforms(
  handoffs: readonly Handoff[],
  plots: readonly RawPlot[],
  tolV: number,
  railsFrom?: (from: number) => readonly string[],
): Map<string, Pwl> {
  const out = new Map<string, Pwl>();
  for (const from of new Set(handoffs.map((h) => h.from))) {
    const asked = handoffs.filter((h) => h.from === from).map((h) => h.node);
    // In one order, so that partitions reading one set of rails in another order share them.
    const rails = [...new Set([...(railsFrom?.(from) ?? []), ...asked])].sort();
    const plot = plots[from];
    const key = `${tolV} ${rails.join(' ')}`;
    let byRails = HANDOFF_PWLS.get(plot);
    if (byRails === undefined) HANDOFF_PWLS.set(plot, (byRails = new Map()));
    let pwls = byRails.get(key);
    if (pwls === undefined) {
      const time = vector(plot, 'time');
      const ys = rails.map((node) => vector(plot, voltageProbe(node)));
      const kept = keptPoints(time, ys, tolV);
      pwls = new Map(rails.map((node, w) => [node, kept.map((i) => [time[i], ys[w][i]] as const)]));
      byRails.set(key, pwls);
    }
    for (const node of asked) out.set(node, pwls.get(node)!);
  }
  return out;
}

/** Hand-off PWLs by source plot, then by tolerance and rail list (`handoffWaveforms`); gone with the plot. */
const HANDOFF_PWLS = new WeakMap<RawPlot, Map<string, Map<string, Pwl>>>();

/** Every rail read from each partition over the whole plan, by the partition that computes it (`railsFrom`). */
export function railsByProducer(plan: PartitionPlan): Map<number, string[]> {
  const sets = new Map<number, Set<string>>();
  for (const p of plan.partitions)
    for (const h of p.handoffs) sets.set(h.from, (sets.get(h.from) ?? new Set()).add(h.node));
  return new Map([...sets].map(([from, nodes]) => [from, [...nodes].sort()]));
}

/** What every partition's deck of one partitioned run is built from; `partitionSetup` checks it. */
export interface PartitionContext {
  /** What the partition decks need of the circuit as `buildCircuit` placed it (the plan holds its elements). */
  readonly built: Pick<BuiltCircuit, 'flatCells'>;
  readonly net: Network;
  readonly opts: GenerateOptions;
  readonly tStopS: number;
  /** Runner settings the monolithic run would get (timeout per partition, work directories...). */
  readonly run: Omit<RunOptions, 'netlist' | 'expectTStopS' | 'expectVectors'>;
  /** Makes the hand-off waveforms from the earlier partitions' plots (handed in, so a test can break it). */
  readonly handoff: HandoffSource;
  readonly plan: PartitionPlan;
  /**
   * Every rail any partition reads from partition `from` (`railsByProducer` of the whole plan): a hand-off's
   * points are chosen over all of them, so one rail is one waveform in every deck that replays it.
   */
  readonly railsFrom: (from: number) => readonly string[];
  /** Hand-off thinning tolerance (V): `CELL_HANDOFF_TOLERANCE_V` per cell, else `HANDOFF_TOLERANCE_V`. */
  readonly tolV: number;
  readonly passes: PartitionPasses;
  /**
   * Partitions cut into time windows that run side by side (netlist/window.ts), by index: the ones that forget their
   * past and run alone in their stage (front end, shared parts, classifier). Absent: every partition is one deck (a
   * Slurm task's is).
   */
  readonly windows?: ReadonlyMap<number, readonly TimeWindow[]>;
  /**
   * Hand-off points per line above which a partition not cut side by side runs as time windows in turn
   * (`chainedWindows`); 0: never. Default `HANDOFF_POINTS_PER_DECK` with `B` sources, 0 with files.
   */
  readonly handoffPointsPerDeck?: number;
  /** How hand-offs are replayed; default 'file' where the ngspice in use has `filesource` (`filesourceCodemodel`). */
  readonly handoffReplay?: HandoffReplay;
}

/**
 * How a partition's deck replays the rails handed to it: 'file', each from a data file by an XSPICE `filesource`
 * (read once at set-up; falls back to 'bsource' when ngspice's code models are not found), or 'bsource', each as
 * `B ... V = pwl(time, ...)` in the deck, whose parse is quadratic in the points on ngspice 39 (docs/partition.md).
 */
export type HandoffReplay = 'file' | 'bsource';

/** How finely and how often a partitioned run cuts and runs (`runPartitioned`'s `schedule`). */
export interface PartitionSchedule {
  readonly by?: PartitionBy;
  readonly workers?: number;
  readonly outputsPerPartition?: number;
  /** Split by cell: the width from which the front end is cut per output too (`FRONT_END_CUT_FROM_WIDTH`). */
  readonly frontEndCutFromWidth?: number;
  /** 1, or 2: a second pass with the replicas' drains following the first pass's copies' drains (`PartitionPasses`). */
  readonly passes?: PartitionPasses;
  /**
   * Time windows a partition that forgets its past and runs alone in its stage (the front end, shared parts,
   * classifier) is cut into, run side by side (`timeWindowPlan`). Default 1: none.
   */
  readonly timeWindows?: number;
  /** Hand-off points per line above which a partition runs as time windows in turn (`PartitionContext`). */
  readonly handoffPointsPerDeck?: number;
  /** How hand-offs are replayed (`PartitionContext`). */
  readonly handoffReplay?: HandoffReplay;
}

/**
 * The checked plan and settings of a partitioned run of `built`.
 *
 * @throws InputError for outputsPerPartition not an integer >= 1 or passes not 1 or 2
 */
export function partitionSetup(
  built: BuiltCircuit,
  net: Network,
  opts: GenerateOptions,
  tStopS: number,
  run: PartitionContext['run'] = {},
  handoff: HandoffSource = handoffWaveforms,
  schedule: PartitionSchedule = {},
): PartitionContext {
  const by = schedule.by ?? 'block';
  const per = schedule.outputsPerPartition ?? 1;
  if (!Number.isInteger(per) || per < 1)
    throw new InputError(`expected outputsPerPartition to be an integer >= 1, got ${per}`, {
      field: 'outputsPerPartition',
    });
  const passes = schedule.passes ?? 1;
  if (passes !== 1 && passes !== 2)
    throw new InputError(`expected partition passes to be 1 or 2, got ${String(passes)}`, { field: 'partitionPasses' });
  const windows = schedule.timeWindows ?? 1;
  if (!Number.isInteger(windows) || windows < 1)
    throw new InputError(`expected time windows to be an integer >= 1, got ${windows}`, { field: 'timeWindows' });
  const perDeck = schedule.handoffPointsPerDeck;
  if (perDeck !== undefined && !(Number.isInteger(perDeck) && perDeck >= 0))
    throw new InputError(`expected hand-off points per deck to be an integer >= 0, got ${perDeck}`, {
      field: 'handoffPointsPerDeck',
    });
  const plan = partitionCircuit(built, {
    by,
    outputsPerPartition: per,
    frontEndCutFromWidth: schedule.frontEndCutFromWidth,
  });
  const tolV = by === 'cell' ? CELL_HANDOFF_TOLERANCE_V : HANDOFF_TOLERANCE_V;
  const rails = railsByProducer(plan);
  return {
    built,
    net,
    opts,
    tStopS,
    run,
    handoff,
    plan,
    railsFrom: (from) => rails.get(from) ?? [],
    tolV,
    passes,
    ...(windows > 1 ? { windows: timeWindowPlan(plan, windows, net.frameS, tStopS) } : {}),
    ...(schedule.handoffPointsPerDeck === undefined ? {} : { handoffPointsPerDeck: schedule.handoffPointsPerDeck }),
    ...(schedule.handoffReplay === undefined ? {} : { handoffReplay: schedule.handoffReplay }),
  };
}

/**
 * Time windows side by side for a partition that runs alone in its stage, unless asked for more: one, i.e. not cut in
 * time. A window starts from its operating point a warm-up frame early, which is where the whole-clip run is only if
 * every node has forgotten its past by then. On GF180MCU they have not: a ReLU rail off at fA currents is still
 * discharging frames later (C UT / I: seconds), and how far it got decides how fast it wakes. Measured
 * (`BENCH_PROCESS=gf180mcu node bench/partition.mjs`, per cell, against the monolithic run): the example's first 10
 * frames with two windows 11.7% off (block 0 frame 8, unit 3: 33.4 pA where the monolithic run has 21.7), with one
 * 0.017%; width 8, 1.24% against 0.073%. On c180 two windows had stayed within 0.05% of one (docs/partition.md);
 * `--time-windows` still cuts there, for what it buys on wide networks (width 64, 10 frames: 1.10x).
 */
export const DEFAULT_TIME_WINDOWS = 1;

/**
 * Frames of warm-up before a time window's own (`frameWindows`): a partition that forgets follows a new input within
 * a fraction of a frame, so from its operating point one frame before, a window is where the whole-clip run is.
 * Measured (docs/partition.md, example, 10 frames, 3 windows against one deck): worst candidate 0.049% apart with
 * one frame, 0.051% with three, 0.079% with none.
 */
export const WARM_UP_FRAMES = 1;

/**
 * Which partitions run as `windows` time windows side by side: each that forgets its past (`forgets`) and runs
 * alone in its stage, where the other workers would otherwise wait. By partition index.
 */
export function timeWindowPlan(
  plan: PartitionPlan,
  windows: number,
  frameS: number,
  tStopS: number,
): Map<number, TimeWindow[]> {
  const frames = Math.round(tStopS / frameS);
  const out = new Map<number, TimeWindow[]>();
  for (const wave of partitionWaves(plan))
    if (wave.length === 1 && forgets(plan.partitions[wave[0]]))
      out.set(wave[0], frameWindows(frames, windows, frameS, tStopS, WARM_UP_FRAMES));
  return out;
}

/**
 * Hand-off points per PWL line a partition's deck may hold before it runs in turn as time windows
 * (`chainedWindows`). ngspice 39's expression parser is quadratic in a line's tokens: one `pwl(time, ...)` of 8k /
 * 16k / 32k points took 0.09 / 0.41 / 1.78 CPU-s to parse (docs/partition.md), so a width-64 cell deck over the
 * 101-frame clip (65 rails, ~13k points each) spent ~20 of its ~25 CPU-s parsing. Cut to windows of at most this
 * many points a line, the parse falls with the window count, and so does ngspice's evaluation of each `pwl` (its
 * cost per time point grows with the points); each window adds an ngspice start and an operating point. Applies to
 * hand-offs as `B` sources only: replayed from files (`HandoffReplay`) they cost neither, and no partition runs in turn
 * unless asked.
 */
export const HANDOFF_POINTS_PER_DECK = 2000;

/** The most points any one of `pwls` holds (0 for none). */
export function longestPwl(pwls: Iterable<Pwl>): number {
  let most = 0;
  for (const w of pwls) most = Math.max(most, w.length);
  return most;
}

/**
 * The time windows a partition whose longest hand-off holds `longestPoints` points runs as, one after another:
 * enough that each window's lines hold about `pointsPerDeck` (the points spread evenly over the clip), never more
 * than the clip's frames; none (`[]`) when one deck is short enough, or for `pointsPerDeck` 0. No warm-up: each window
 * starts where the one before stopped, in its node voltages (`carriedNodes`).
 */
export function chainedWindows(
  longestPoints: number,
  pointsPerDeck: number,
  frameS: number,
  tStopS: number,
): TimeWindow[] {
  if (pointsPerDeck <= 0 || longestPoints <= pointsPerDeck) return [];
  const frames = Math.round(tStopS / frameS);
  const n = Math.min(frames, Math.ceil(longestPoints / pointsPerDeck));
  return n > 1 ? frameWindows(frames, n, frameS, tStopS, 0) : [];
}

/**
 * `.ic` entries for `nodes` carried on from the plot of the window before at `atS` (that plot's own time): each node
 * at the voltage it had there, so the next window starts where this one stopped.
 */
export function carriedConditions(
  nodes: readonly string[],
  before: RawPlot,
  atS: number,
): Partition['initialConditions'] {
  const time = vector(before, 'time');
  return nodes.map((node) => ({ node, voltageV: valueAt(time, vector(before, voltageProbe(node)), atS) }));
}

/**
 * The nodes whose voltages a window in turn starts from (`.ic`), read from the window before: every node a device
 * or capacitor touches, but the global ones (driven by ideal supplies) and those a voltage source sets from them
 * (hand-offs). Carrying only the cells' state nodes and solving the rest from the operating point lost the slow tails
 * of nodes that sit at fA currents (a ReLU long off still drifting towards its operating point), and put a few-pA
 * candidate up to 1.1% (of 0.1 I_unit) off one deck's even after two warm-up frames (the keyword model at 250 pA, 48
 * frames of its "yes" clip, windows of ~5 frames); every node carried, 0.147% without warm-up.
 */
export function carriedNodes(elements: readonly Element[]): string[] {
  // A source from a driven node drives its other end too (a hand-off onto ground); a 0 V probe between two free
  // nodes drives neither, and both are carried at (to interpolation) the same voltage.
  const driven = new Set<string>(GLOBAL_NODES);
  const sources = elements.filter((e) => e.type === 'vsrc' || e.type === 'recorded');
  for (let grew = true; grew;) {
    grew = false;
    for (const e of sources)
      if (driven.has(e.plus) !== driven.has(e.minus)) {
        driven.add(e.plus).add(e.minus);
        grew = true;
      }
  }
  const nodes = new Set<string>();
  for (const e of elements) for (const t of terminals(e)) if (!driven.has(t.node)) nodes.add(t.node);
  return [...nodes].sort();
}

/**
 * Run `windows` one after another through `runWindow`: the first from the partition's own `.ic` entries (`ics`, the
 * cells' initial states), each later one from the voltages `carried` nodes had in the window before where it stopped
 * (`carriedConditions`). Returns each window's run, in order.
 */
export async function runWindowsInTurn(
  windows: readonly TimeWindow[],
  ics: Partition['initialConditions'],
  carried: readonly string[],
  runWindow: (w: TimeWindow, k: number, ics: Partition['initialConditions']) => Promise<RunResult>,
): Promise<RunResult[]> {
  const pieces: RunResult[] = [];
  for (const [k, w] of windows.entries()) {
    const before = k === 0 ? undefined : transientPlot(pieces[k - 1].plots);
    const start = before ? carriedConditions(carried, before, w.startS - windows[k - 1].startS) : ics;
    pieces.push(await runWindow(w, k, start));
  }
  return pieces;
}

/** Partitions that can run at once, in one pass: a wave of `partitionWaves` (a Slurm array each). */
export interface PartitionStage {
  /** 1, or 2 for the second pass's waves. */
  readonly pass: number;
  /** Indices into `plan.partitions`. */
  readonly partitions: readonly number[];
  /** `block 0 shared`, or `block 0 cell 0 .. block 0 cell 3` for several; `pass 2: ` before it in a second pass. */
  readonly label: string;
}

/** The stages of a run in the order they must run: every pass's waves, pass by pass. */
export function partitionStages(ctx: Pick<PartitionContext, 'plan' | 'passes'>): PartitionStage[] {
  const waves = partitionWaves(ctx.plan);
  const stages: PartitionStage[] = [];
  for (let pass = 1; pass <= ctx.passes; pass++)
    for (const wave of waves) {
      const labels = wave.map((i) => ctx.plan.partitions[i].label);
      const what = labels.length === 1 ? labels[0] : `${labels[0]} .. ${labels[labels.length - 1]}`;
      stages.push({ pass, partitions: wave, label: `${pass > 1 ? `pass ${pass}: ` : ''}${what}` });
    }
  return stages;
}

/** The plot of partition `index` in pass `pass`, which has run before the partition asking (in memory or stored). */
export type PlotSource = (pass: number, index: number) => Promise<RawPlot>;

/** One partition's run in one pass. */
export interface PartitionPassRun {
  readonly result: RunResult;
  /** This pass's figures only (`combinePasses` adds the passes up). */
  readonly info: PartitionRunInfo;
}

/** The partitions (with their pass) whose plots partition `index` reads in pass `pass`: its hand-offs' and, in a second pass, its replicas' copies'. */
export function partitionInputs(
  ctx: Pick<PartitionContext, 'plan'>,
  pass: number,
  index: number,
): { readonly pass: number; readonly index: number }[] {
  const p = ctx.plan.partitions[index];
  const drains = pass > 1 ? [...new Set(p.replicaDrains.map((d) => d.from))].map((i) => ({ pass: 1, index: i })) : [];
  return [...p.after.map((i) => ({ pass, index: i })), ...drains];
}

/**
 * Build partition `index`'s deck for pass `pass` from the plots of the partitions it reads (`plotOf`) and run it
 * through ngspice. `onProgress` hears its progress (its own fraction; 1 when done).
 *
 * @throws whatever `runNgspice` throws (its deck kept as for any run)
 */
export async function runPartition(
  ctx: PartitionContext,
  pass: number,
  index: number,
  plotOf: PlotSource,
  onProgress?: (p: RunProgress) => void,
): Promise<PartitionPassRun> {
  const { built, net, opts, tStopS, run, plan, tolV } = ctx;
  const n = plan.partitions.length;
  const p = plan.partitions[index];
  const plots: RawPlot[] = [];
  for (const i of p.after) plots[i] = await plotOf(pass, i);
  const first: RawPlot[] = [];
  if (pass > 1) for (const d of p.replicaDrains) first[d.from] ??= await plotOf(1, d.from);
  const pwls = ctx.handoff(p.handoffs, plots, tolV, ctx.railsFrom);
  const globalV = (node: string): number =>
    node === '0' ? 0 : node === NMOS_SOURCE_NODE ? (opts.process.nmosSourceV ?? 0) : opts.process.vddV;
  const drive: ReplicaDrive | undefined =
    pass > 1
      ? { tolV, globalV, waveform: (d) => copyDrainWaveform(first[d.from], d.node, tolV, globalV, tStopS) }
      : undefined;
  // Hand-offs set no breakpoints: a source of frame-edge corners makes the solver stop at each edge, as the
  // monolithic deck does at its inputs' (`frameEdgeBreakpoints`).
  const elements = [
    ...partitionElements(p, (h) => pwls.get(h.node)!, drive),
    ...(p.handoffs.length > 0 ? [frameEdgeBreakpoints(net.frameS, tStopS)] : []),
  ];
  const handoffPoints = [...pwls.values()].reduce((s, w) => s + w.length, 0);
  const replayCodemodel =
    ctx.handoffReplay === 'bsource' || p.handoffs.length === 0 ? undefined : await filesourceCodemodel(run.ngspiceBin);
  const windows = ctx.windows?.get(index) ?? [];
  const inTurn =
    windows.length > 1
      ? []
      : chainedWindows(
          longestPwl(pwls.values()),
          ctx.handoffPointsPerDeck ?? (replayCodemodel === undefined ? HANDOFF_POINTS_PER_DECK : 0),
          net.frameS,
          tStopS,
        );
  // Two passes: the first saves the cut copies' drains, which the second's replicas follow.
  const kept = ctx.passes === 2 ? [...p.saves, ...p.copyDrainSaves] : [...p.saves];
  // Windows in turn hand on every node that holds charge (`carriedNodes`), so each saves them too.
  const carried = inTurn.length > 1 ? carriedNodes(elements) : [];
  const keptSet = new Set(kept);
  const carriedOnly = carried.map(voltageProbe).filter((v) => !keptSet.has(v));
  const saves = [...kept, ...carriedOnly];
  const deckOpts: GenerateOptions = {
    ...opts,
    spiceOptions: {
      ...opts.spiceOptions,
      reltol: partitionReltol(opts.spiceOptions) * (p.kind === 'cell' ? CELL_RELTOL_FACTOR : 1),
    },
    title: `${opts.title ?? 'bmru-cosim FQ-BMRU network'}: partition ${p.index + 1} of ${n} (${p.label})`,
  };
  let abstolRetriedA: number | undefined;
  const runDeckOnce = (
    els: readonly Element[],
    ics: Partition['initialConditions'],
    stopS: number,
    name: string,
    progress?: (p: RunProgress) => void,
  ) => {
    const deck = networkDeck(
      { transistors: p.transistors, flatCells: built.flatCells, initialConditions: ics, saves },
      els,
      abstolRetriedA === undefined
        ? deckOpts
        : { ...deckOpts, spiceOptions: { ...deckOpts.spiceOptions, abstol: abstolRetriedA } },
      net,
      stopS,
    );
    const { netlist, dataFiles } = writeDeckFiles({ ...deck, replayCodemodel }, opts.process);
    return runNgspice({
      ...run,
      onProgress: progress,
      name,
      netlist,
      dataFiles,
      extraArgs: [...opts.process.ngspiceArgs, ...(run.extraArgs ?? [])],
      expectTStopS: stopS,
      expectVectors: saves,
    });
  };
  const deckAbstolA = Number(deckOpts.spiceOptions?.abstol ?? DEFAULT_SPICE_OPTIONS.abstol);
  // A window that starts after a retry runs at its abstol too (`abstolRetriedA` only grows); the info gives the loosest.
  const runDeck: typeof runDeckOnce = async (...args) => {
    for (;;) {
      try {
        return await runDeckOnce(...args);
      } catch (e) {
        const next = RETRY_ABSTOLS_A.find((a) => a > (abstolRetriedA ?? deckAbstolA));
        if (!(e instanceof SpiceConvergenceError) || e.kind !== 'timestep-too-small' || next === undefined) throw e;
        // The stopped run's kept work directory: the retry is what the report gives, and says so.
        if (e.workDir !== undefined) await rm(e.workDir, { recursive: true, force: true });
        abstolRetriedA = next;
      }
    }
  };
  const name = `${run.name ?? 'run'}-part${p.index}`;
  let r: RunResult;
  let cpuS: number | undefined;
  if (windows.length > 1) {
    // Side by side; progress: the clip time covered, summed over the windows.
    const started = performance.now();
    const doneS = new Float64Array(windows.length);
    const pieces = await runMany(
      windows,
      (w, k) =>
        runDeck(
          windowElements(elements, w.startS, w.stopS),
          p.initialConditions,
          w.stopS - w.startS,
          `${name}-w${k}`,
          onProgress &&
            ((x) => {
              doneS[k] = Math.max(0, Math.min(x.timeS + w.startS, w.stopS) - w.keepFromS);
              const timeS = doneS.reduce((a, b) => a + b, 0);
              onProgress({ ...x, timeS, fraction: timeS / tStopS });
            }),
        ),
      { concurrency: windows.length },
    );
    r = stitchedRun(pieces, windows, performance.now() - started);
    cpuS = pieces.reduce<number | undefined>((a, x) => bothPasses(a, analysisCpuSeconds(x.stdoutTail)), 0);
  } else if (inTurn.length > 1) {
    const started = performance.now();
    const pieces = await runWindowsInTurn(inTurn, p.initialConditions, carried, (w, k, ics) =>
      runDeck(
        windowElements(elements, w.startS, w.stopS),
        ics,
        w.stopS - w.startS,
        `${name}-w${k}`,
        onProgress && ((x) => onProgress({ ...x, timeS: w.startS + x.timeS, fraction: (w.startS + x.timeS) / tStopS })),
      ),
    );
    // The carried nodes were for the next window only: the partitions after this one read the kept vectors.
    const stitched = stitchedRun(pieces, inTurn, performance.now() - started);
    r = { ...stitched, plots: [withoutVectors(transientPlot(stitched.plots), carriedOnly)] };
    cpuS = pieces.reduce<number | undefined>((a, x) => bothPasses(a, analysisCpuSeconds(x.stdoutTail)), 0);
  } else {
    r = await runDeck(elements, p.initialConditions, tStopS, name, onProgress);
    cpuS = analysisCpuSeconds(r.stdoutTail);
  }
  const points = transientPlot(r.plots).numPoints;
  onProgress?.({ timeS: tStopS, fraction: 1, points });
  return {
    result: r,
    info: {
      index: p.index,
      label: p.label,
      transistors: p.transistors,
      replicas: p.replicas.length,
      handoffs: p.handoffs.length,
      handoffPoints,
      durationMs: r.durationMs,
      cpuS,
      points,
      ...(windows.length > 1 ? { windows: windows.length } : {}),
      ...(inTurn.length > 1 ? { windowsInTurn: inTurn.length } : {}),
      ...(p.handoffs.length > 0 ? { handoffReplay: replayCodemodel === undefined ? 'bsource' : 'file' } : {}),
      ...(abstolRetriedA === undefined ? {} : { abstolRetriedA }),
      ...(r.workDir === undefined ? {} : { workDir: r.workDir }),
    },
  };
}

/** `plot` without the vectors named (any spelling `vector` accepts): what a partition saved for itself alone. */
export function withoutVectors(plot: RawPlot, names: readonly string[]): RawPlot {
  const drop = new Set(names.map(canonicalVectorName));
  const keep = plot.vectors.flatMap((v, i) => (i > 0 && drop.has(canonicalVectorName(v.name)) ? [] : [i]));
  return {
    ...plot,
    vectors: keep.map((i) => plot.vectors[i]),
    real: keep.map((i) => plot.real[i]),
    imag: plot.imag && keep.map((i) => plot.imag![i]),
    timeOf: plot.timeOf && keep.map((i) => plot.timeOf![i]),
  };
}

/** One run of a partition's time windows (in clip order): their transients stitched (`joinedRun`), the last one's work directory. */
function stitchedRun(pieces: readonly RunResult[], windows: readonly TimeWindow[], durationMs: number): RunResult {
  const plot = stitchTransientPlots(
    pieces.map((x, k) => ({
      plot: transientPlot(x.plots),
      offsetS: windows[k].startS,
      keepFromS: windows[k].keepFromS,
    })),
  );
  const workDir = pieces[pieces.length - 1].workDir;
  return { ...joinedRun(pieces, plot, durationMs), ...(workDir === undefined ? {} : { workDir }) };
}

/** Several ngspice runs as one result holding `plot`: the worst exit code, every message, the last run's tails. */
function joinedRun(runs: readonly RunResult[], plot: RawPlot, durationMs: number): RunResult {
  const last = runs[runs.length - 1];
  return {
    plots: [plot],
    exitCode: Math.max(...runs.map((r) => r.exitCode)),
    durationMs,
    ngspiceVersion: last.ngspiceVersion,
    messages: runs.flatMap((r) => r.messages),
    stdoutTail: last.stdoutTail,
    stderrTail: last.stderrTail,
  };
}

/** One partition's figures over its passes (in order): time and CPU summed, the last pass's points and work directory. */
export function combinePasses(passes: readonly PartitionRunInfo[]): PartitionRunInfo {
  const last = passes[passes.length - 1];
  return passes.reduce((a, b) => ({
    ...b,
    durationMs: a.durationMs + b.durationMs,
    cpuS: bothPasses(a.cpuS, b.cpuS),
    points: last.points,
  }));
}

/**
 * The merged run of every partition's last pass (`last[i]` for partition i): one transient plot of their vectors on
 * the union of their time grids, supplies summed. `durationMs`: the run's wall time.
 */
export function mergePartitionRuns(
  last: readonly RunResult[],
  infos: readonly PartitionRunInfo[],
  durationMs: number,
): PartitionedRun {
  const merged = mergeTransientPlots(
    last.map((r) => transientPlot(r.plots)),
    DOMAINS.map((d) => currentProbe(SUPPLY[d])),
  );
  return {
    run: joinedRun(last, merged, durationMs),
    partitions: infos,
  };
}

/**
 * Run `built` (the network's circuit as `buildCircuit` placed it) partition by partition up to `tStopS`, on this
 * machine. `run` carries the runner settings the monolithic run would get (timeout per partition, work
 * directories...); `handoff` makes the hand-off waveforms from the earlier partitions' plots (handed in, so a test can
 * break it). `schedule.by` cuts per block (default) or each block also per cell; the partitions run stage by stage
 * (`partitionStages`), each stage's on up to `schedule.workers` ngspice processes (default 2); with `schedule.passes`
 * 2, all of them run again with the replicas' drains following the first pass's copies' drains (each partition's
 * CPU seconds and wall time then cover both passes). A stage of one partition that forgets its past runs as
 * `schedule.timeWindows` time windows side by side (default `DEFAULT_TIME_WINDOWS`).
 *
 * @throws InputError for workers not an integer >= 1; whatever `runNgspice` throws for the first partition that
 *   fails (its deck is kept as for any run; the other partitions of its wave are awaited first)
 */
export async function runPartitioned(
  built: BuiltCircuit,
  net: Network,
  opts: GenerateOptions,
  tStopS: number,
  run: Omit<RunOptions, 'netlist' | 'expectTStopS' | 'expectVectors'> = {},
  handoff: HandoffSource = handoffWaveforms,
  schedule: PartitionSchedule = {},
): Promise<PartitionedRun> {
  const workers = checkedWorkers(schedule.workers);
  return localPool(workers).run(
    partitionSetup(built, net, opts, tStopS, run, handoff, {
      ...schedule,
      timeWindows: schedule.timeWindows ?? DEFAULT_TIME_WINDOWS,
    }),
  );
}

/**
 * The local pool's ngspice processes: `workers`, or `DEFAULT_PARTITION_WORKERS`.
 *
 * @throws InputError for workers not an integer >= 1
 */
function checkedWorkers(workers: number | undefined): number {
  const w = workers ?? DEFAULT_PARTITION_WORKERS;
  if (!Number.isInteger(w) || w < 1)
    throw new InputError(`expected workers to be an integer >= 1, got ${w}`, { field: 'workers' });
  return w;
}

/** Runs a partitioned simulation's partitions somewhere and returns them merged, as the comparison reads them. */
export interface PartitionExecutor {
  /** Where, as reports say it: `local pool (2 workers)`, `Slurm (11 job arrays)`. */
  readonly label: string;
  run(ctx: PartitionContext): Promise<PartitionedRun>;
}

/** This machine: each stage's partitions on up to `workers` ngspice processes at once, plots kept in memory. */
export function localPool(workers: number = DEFAULT_PARTITION_WORKERS): PartitionExecutor {
  return {
    label: `local pool (${workers} worker${workers === 1 ? '' : 's'})`,
    run: async (ctx) => {
      const n = ctx.plan.partitions.length;
      const byPass: PartitionPassRun[][] = [];
      // One progress across the partitions: the mean of their fractions.
      const fractions = new Float64Array(n);
      const onProgress = ctx.run.onProgress;
      const started = performance.now();
      const plotOf: PlotSource = (pass, i) => Promise.resolve(transientPlot(byPass[pass - 1][i].result.plots));
      for (const stage of partitionStages(ctx)) {
        const runs = (byPass[stage.pass - 1] ??= []);
        await runMany(
          stage.partitions,
          async (i) => {
            runs[i] = await runPartition(
              ctx,
              stage.pass,
              i,
              plotOf,
              onProgress &&
                ((x) => {
                  fractions[i] = x.fraction ?? 0;
                  onProgress({ ...x, fraction: fractions.reduce((s, f) => s + f, 0) / n });
                }),
            );
          },
          { concurrency: workers },
        );
      }
      const last = byPass[byPass.length - 1];
      const infos = last.map((_, i) => combinePasses(byPass.map((runs) => runs[i].info)));
      return mergePartitionRuns(
        last.map((r) => r.result),
        infos,
        performance.now() - started,
      );
    },
  };
}

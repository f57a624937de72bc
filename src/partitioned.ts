/**
 * A partitioned transient (issue 13): the circuit split by `partitionCircuit`, each partition run through ngspice in
 * dependency order (front end, block 0, ..., classifier) with the rails it reads replayed from the rawfiles of the
 * partitions before it, and the partitions' plots merged into the one plot the comparator reads. Sequential for
 * now: one ngspice at a time, with the same options as the monolithic deck.
 */
import type { Network } from './model/types.js';
import { networkDeck, type BuiltCircuit, type GenerateOptions } from './netlist/generate.js';
import { writeDeck } from './netlist/deck.js';
import {
  HANDOFF_TOLERANCE_V,
  keptPoints,
  partitionCircuit,
  partitionElements,
  type Handoff,
  type Pwl,
} from './netlist/partition.js';
import { DOMAINS, SUPPLY } from './netlist/supplies.js';
import { currentProbe, voltageProbe } from './netlist/deck.js';
import { runNgspice, type RunOptions, type RunResult } from './spice/runner.js';
import { transientPlot, vector, type RawPlot } from './spice/rawfile.js';
import { mergeTransientPlots } from './spice/merge.js';

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
  /** ngspice's own CPU time for the analysis (s; `acct`'s "Total analysis time"), when it printed one. */
  readonly cpuS?: number;
  /** Time points ngspice wrote. */
  readonly points: number;
}

export interface PartitionedRun {
  /** The merged result: one transient plot of every partition's vectors, supplies summed; durations summed. */
  readonly run: RunResult;
  readonly partitions: readonly PartitionRunInfo[];
}

/** The CPU seconds ngspice's `acct` statistics give for the analysis ("Total analysis time (seconds) = 1.23"). */
export function analysisCpuSeconds(stdout: string): number | undefined {
  const m = /Total analysis time \(seconds\)\s*=\s*([0-9.eE+-]+)/.exec(stdout);
  const v = m ? Number(m[1]) : NaN;
  return Number.isFinite(v) ? v : undefined;
}

/**
 * Each hand-off's rail as a PWL, from the plot of the partition that computes it: the rails from one plot on one
 * shared set of its points (`keptPoints`), so that their breakpoints coincide.
 */
export function handoffWaveforms(
  handoffs: readonly Handoff[],
  plots: readonly RawPlot[],
  tolV: number,
): Map<string, Pwl> {
  const out = new Map<string, Pwl>();
  for (const from of new Set(handoffs.map((h) => h.from))) {
    const group = handoffs.filter((h) => h.from === from);
    const time = vector(plots[from], 'time');
    const ys = group.map((h) => vector(plots[from], voltageProbe(h.node)));
    const kept = keptPoints(time, ys, tolV);
    group.forEach((h, w) =>
      out.set(
        h.node,
        kept.map((i) => [time[i], ys[w][i]] as const),
      ),
    );
  }
  return out;
}

/**
 * Run `built` (the network's circuit as `buildCircuit` placed it) partition by partition up to `tStopS`.
 * `run` carries the runner settings the monolithic run would get (timeout per partition, work directories...).
 *
 * @throws whatever `runNgspice` throws for the first partition that fails (its deck is kept as for any run)
 */
export async function runPartitioned(
  built: BuiltCircuit,
  net: Network,
  opts: GenerateOptions,
  tStopS: number,
  run: Omit<RunOptions, 'netlist' | 'expectTStopS' | 'expectVectors'> = {},
): Promise<PartitionedRun> {
  const plan = partitionCircuit(built);
  const plots: RawPlot[] = [];
  const results: RunResult[] = [];
  const infos: PartitionRunInfo[] = [];
  for (const p of plan.partitions) {
    const pwls = handoffWaveforms(p.handoffs, plots, HANDOFF_TOLERANCE_V);
    const elements = partitionElements(p, (h) => pwls.get(h.node)!);
    const handoffPoints = [...pwls.values()].reduce((s, w) => s + w.length, 0);
    const n = plan.partitions.length;
    const deck = networkDeck(
      {
        transistors: p.transistors,
        flatCells: built.flatCells,
        initialConditions: p.initialConditions,
        saves: p.saves,
      },
      elements,
      {
        ...opts,
        title: `${opts.title ?? 'bmru-cosim FQ-BMRU network'}: partition ${p.index + 1} of ${n} (${p.label})`,
      },
      net,
      tStopS,
    );
    const r = await runNgspice({
      ...run,
      name: `${run.name ?? 'run'}-part${p.index}`,
      netlist: writeDeck(deck, opts.process),
      extraArgs: [...opts.process.ngspiceArgs, ...(run.extraArgs ?? [])],
      expectTStopS: tStopS,
      expectVectors: [...p.saves],
    });
    const plot = transientPlot(r.plots);
    plots.push(plot);
    results.push(r);
    infos.push({
      index: p.index,
      label: p.label,
      transistors: p.transistors,
      replicas: p.replicas.length,
      handoffs: p.handoffs.length,
      handoffPoints,
      durationMs: r.durationMs,
      cpuS: analysisCpuSeconds(r.stdoutTail),
      points: plot.numPoints,
    });
  }
  const merged = mergeTransientPlots(
    plots,
    DOMAINS.map((d) => currentProbe(SUPPLY[d])),
  );
  const last = results[results.length - 1];
  return {
    run: {
      plots: [merged],
      exitCode: Math.max(...results.map((r) => r.exitCode)),
      durationMs: results.reduce((s, r) => s + r.durationMs, 0),
      ngspiceVersion: last.ngspiceVersion,
      messages: results.flatMap((r) => r.messages),
      stdoutTail: last.stdoutTail,
      stderrTail: last.stderrTail,
    },
    partitions: infos,
  };
}

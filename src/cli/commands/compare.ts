import { copyFile, rm } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Argv } from 'yargs';
import {
  cosimPartitionContext,
  cosimulate,
  DEFAULT_PARTITION_WORKERS,
  HANDOFF_POINTS_PER_DECK,
  handoffWaveforms,
  referenceTable,
  simulationLabel,
  type CosimOptions,
  type CosimResult,
  type HandoffReplay,
  type PartitionContext,
} from '../../pipeline.js';
import { BmruError } from '../../errors.js';
import { generateNetlist } from '../../netlist/generate.js';
import type { Network } from '../../model/types.js';
import { makeDir, readTextIfExists } from '../../util/output.js';
import { PACKAGE_ROOT } from '../../util/paths.js';
import { dependencyArgs, slurmDir, submitSbatch } from '../../jobs/slurm.js';
import {
  missingError,
  missingPartitions,
  openPartitionStore,
  parsePartitionKey,
  partitionStoreDir,
  removeStageScripts,
  runStoredPartition,
  slurmScripts,
  storedPartitions,
  storedTaskContext,
  storePartitionPlan,
  submittedPath,
  type Submitted,
} from '../../jobs/partition-slurm.js';
import { EXIT_ERROR } from '../exit.js';
import { interruptible } from '../interrupt.js';
import { nearTies, nearTiesCsvRows, unitFrameKey, type NearTies } from '../../compare/neartie.js';
import { writeMappingCsv } from '../../netlist/mapping.js';
import { ensureWritableDir, outputError, writeFileAtomic } from '../../util/output.js';
import { DEFAULT_TOLERANCES, loadTolerances } from '../../compare/tolerance.js';
import { progress, transientProgress } from '../progress.js';
import { writeCsv } from '../csv.js';
import { formatCosim, LISTED_NEAR_TIES } from '../report.js';
import { comparePageSpec } from '../compare-page.js';
import { waveformPage } from '../../plot/waveforms.js';
import { readRawfile, transientPlot } from '../../spice/rawfile.js';
import { saveVector } from '../../netlist/deck.js';
import { annotateMapping, type Clamp } from '../../netlist/ranges.js';
import {
  checkCircuit,
  intAtLeast,
  loadModelAndInputs,
  loadProcessAndCalibration,
  loadReferences,
  outName,
  modelOptions,
  processOptions,
  referenceOptions,
  timeoutOption,
  unitCurrentOption,
  spiceOptionOption,
  spiceOptionsFrom,
  withUnitCurrent,
  writeClamps,
  slurmSubmitOptions,
  circuitArgv,
  SLURM_SUBMIT_FLAGS,
  type AnalysisArgs,
  type ReferenceArgs,
  type SlurmSubmitArgs,
} from '../common.js';

export function builder(y: Argv) {
  const withSlurm = spiceOptionOption(
    unitCurrentOption(referenceOptions(timeoutOption(processOptions(modelOptions(y)), 1800))),
  )
    .option('tolerances', {
      alias: 't',
      type: 'string',
      describe:
        'tolerance JSON (minStateAgreement, requireDecisionMatch, minVoteAgreement, maxDisagreements, maxSwitchDelayS)',
      defaultDescription: '>= 99.5% states, same decision, >= 95% votes, no miss at >= 20% margin',
    })
    .option('out', {
      alias: 'o',
      type: 'string',
      describe: 'folder for report.json, report.html, frames.csv, near-ties.csv, deck.cir, mapping.csv',
      defaultDescription: 'out/compare-<model>-<inputs>-<process>',
    })
    .option('keep', {
      type: 'boolean',
      default: false,
      describe: 'keep ngspice work directory, and print where (also kept on failure)',
    })
    .option('keep-raw', {
      type: 'boolean',
      default: false,
      describe: `keep the rawfile as ${RAW_NAME} in the output folder (--from-raw reads it back)`,
    })
    .option('from-raw', {
      type: 'string',
      describe:
        'score a kept rawfile instead of running ngspice (same model, clip, process and options as the run that wrote it)',
    })
    .option('waveforms', {
      type: 'string',
      describe: 'more vectors to save and chart in report.html, comma-separated: v(node), i(vname) or a node name',
    })
    .option('partitioned', {
      type: 'boolean',
      default: false,
      describe:
        'simulate the circuit partition by partition (front end, each block, classifier; rails handed on as recorded voltages) instead of as one deck',
    })
    .option('partition-by', {
      choices: ['cell', 'block'] as const,
      default: 'block' as const,
      describe:
        'with --partitioned: a partition per block, or each block split per cell (its cells run side by side; from width 16 the front end per output too; faster, but see docs/partition.md on accuracy)',
    })
    .option('partition-passes', {
      type: 'number',
      choices: [1, 2] as const,
      default: 1 as const,
      describe:
        "with --partitioned: 2 runs every partition again with the gate-load replicas' drains following the first pass's copies' drains (closer to the monolithic run, ~2x the CPU; docs/partition.md)",
    })
    .option('workers', {
      alias: 'j',
      type: 'number',
      // No yargs default: the flags table would print a default equal to this machine's core count as "all cores".
      describe: `with --partitioned: ngspice processes at once (partitions that do not read each other); default ${DEFAULT_PARTITION_WORKERS}`,
    })
    .check((a) => intAtLeast('workers', a.workers, 1))
    .option('time-windows', {
      type: 'number',
      describe:
        'with --partitioned: the partitions that forget their past and run alone in their stage (front end, shared parts, classifier) cut into this many time windows run side by side, each starting a frame early from its operating point; default 1 (off): exact only where every node forgets within that frame, which on GF180MCU it does not (11.7% off; docs/partition.md)',
    })
    .check((a) => intAtLeast('time-windows', a['time-windows'], 1))
    .check((a) =>
      a.slurm && a['time-windows'] !== undefined && a['time-windows'] > 1
        ? '--time-windows goes with the local pool: with --slurm each partition runs as one task'
        : true,
    )
    .option('handoff-points', {
      type: 'number',
      describe: `with --partitioned: a partition whose longest hand-off (a rail replayed from an earlier partition) holds more time points than this runs as time windows one after another, each starting from every node voltage the one before stopped at (ngspice 39 parses a B source's line in time that grows with the square of its length: docs/partition.md); 0 is off; default ${HANDOFF_POINTS_PER_DECK} with --handoff-replay bsource, 0 when the hand-offs are replayed from files`,
    })
    .check((a) => intAtLeast('handoff-points', a['handoff-points'], 0))
    .option('handoff-replay', {
      type: 'string',
      choices: ['file', 'bsource'] as const,
      describe:
        "with --partitioned: how a partition's deck replays the rails handed to it: 'file', each from a data file beside the deck by ngspice's XSPICE filesource (read once; the default where ngspice's code models are found, else B sources), or 'bsource', each as a B source pwl(time, ...) in the deck (quadratic to parse in its points on ngspice 39; docs/partition.md)",
    })
    .option('slurm', {
      type: 'boolean',
      default: false,
      describe:
        "with --partitioned: run the partitions as Slurm job arrays instead of here, one array per stage (front end, each block's cells side by side, ..., classifier), each after the one before, then a merge job that compares and writes the reports into -o (a folder every node sees)",
    });
  return slurmSubmitOptions(withSlurm)
    .option('wait', {
      type: 'boolean',
      default: false,
      describe: 'with --slurm: wait for the merge job, then print its summary and exit with its code',
    })
    .option('dry-run', {
      type: 'boolean',
      default: false,
      describe:
        'with --slurm: write the scripts (<out>/slurm/: a script per stage, merge.sbatch, submit.sh), submit nothing',
    })
    .option('slurm-part', {
      type: 'string',
      hidden: true,
      describe: 'internal, run by the stage scripts: run partition <pass>:<index> into <out>/partitions/',
    })
    .option('slurm-merge', {
      type: 'boolean',
      default: false,
      hidden: true,
      describe: 'internal, run by merge.sbatch: merge <out>/partitions/ and compare',
    })
    .check((a) =>
      (a.slurm || a['slurm-part'] !== undefined || a['slurm-merge']) && !a.partitioned
        ? '--slurm needs --partitioned: only a partitioned simulation is split into Slurm tasks (bmru batch submit --slurm runs whole compares as an array)'
        : true,
    )
    .check((a) => {
      const needSlurm =
        SLURM_SUBMIT_FLAGS.find((f) => a[f] !== undefined) ?? (a.wait ? 'wait' : a['dry-run'] ? 'dry-run' : undefined);
      return needSlurm !== undefined && !a.slurm ? `--${needSlurm} goes with --slurm` : true;
    })
    .check((a) =>
      a.partitioned && (a['from-raw'] !== undefined || a['keep-raw'] || a.waveforms !== undefined)
        ? '--partitioned does not go with --from-raw, --keep-raw or --waveforms yet'
        : true,
    )
    .option('near-ties', {
      type: 'number',
      default: LISTED_NEAR_TIES,
      describe: 'near-tie thresholds listed on the terminal (all of them go to near-ties.csv)',
    })
    .check((a) => intAtLeast('near-ties', a['near-ties'], 0))
    .example('$0 compare', 'the shipped example on the embedded 180 nm card')
    .example(
      '$0 compare -p gf180mcu -m my.safetensors -i clip.csv -t tol.json',
      'your model on the GF180MCU kit with your tolerances',
    )
    .example('$0 compare --partitioned', 'the same comparison from a partitioned simulation (faster on wide networks)')
    .example(
      '$0 compare --partitioned --partition-by cell --slurm -o /scratch/$USER/cmp --wait',
      'the partitions as Slurm arrays (the cells of a block in parallel), then the same report; --dry-run only writes the scripts',
    )
    .example('$0 compare --reference trained', 'judge the circuit against the model as trained')
    .example('$0 compare --unit-current 5e-10', 'the same network at I_unit = 0.5 nA: half the currents')
    .example(
      '$0 compare --spice-option reltol=1e-3',
      'a looser ngspice tolerance: faster; check the states stay the same',
    )
    .example('$0 compare --keep-raw --waveforms b0c0_in,i(vm_b0c0)', 'chart two more vectors, keep the rawfile')
    .example(
      '$0 compare --from-raw out/compare-kws-example-clip-101-c180/circuit.raw',
      'rewrite the reports without ngspice',
    )
    .example(
      '$0 compare --hwaware-model out/hwaware-kws-example-clip-101-c180/hwaware-model.json',
      'also score the hardware-aware model of bmru analyze hwaware',
    )
    .epilogue(
      [
        'The circuit is scored against every reference available: trained, realised (the parameters the circuit realises) and',
        "hwaware (the circuit's simulator at software speed, built from the calibration's hardware tables; or a fitted",
        '--hwaware-model file). The verdict (and the exit code) judges one: by default hwaware where the process has the tables',
        '(both shipped kits: it predicts the circuit best, 99.7% / 99.5% of unit-frames on 50 KWS clips), else realised;',
        "--reference chooses another. The report lists each, and says so when another predicts the circuit better than the verdict's.",
        "Near ties: thresholds whose realised value a candidate of the clip sits within the process's resolution of (3% or 5 pA,",
        'the calibration verify rule), with the unit-frames they decide (near-ties.csv).',
        'On Slurm (--partitioned --slurm): each stage is a job array, one task (1 CPU) per partition, started when the stage',
        'before has ended ok (sbatch --dependency=afterok); partitions hand their rails on through <out>/partitions/, and a',
        'last job merges them and writes the same reports as a local run (report.json says which executor ran it). Submitting',
        'again reruns only partitions without a result. Logs: <out>/slurm/<job>_<task>.out; docs/slurm.md.',
        'Exit code: 0 pass, 1 fidelity below tolerance, 2 error (bad input, ngspice failure, a Slurm task that left no result).',
      ].join('\n'),
    );
}

interface Args extends AnalysisArgs, ReferenceArgs, SlurmSubmitArgs {
  tolerances?: string;
  keep: boolean;
  keepRaw: boolean;
  fromRaw?: string;
  waveforms?: string;
  nearTies: number;
  partitioned: boolean;
  partitionBy: 'cell' | 'block';
  partitionPasses: 1 | 2;
  workers?: number;
  timeWindows?: number;
  handoffPoints?: number;
  handoffReplay?: HandoffReplay;
  unitCurrent?: number;
  spiceOption?: string[];
  slurm: boolean;
  wait: boolean;
  dryRun: boolean;
  slurmPart?: string;
  slurmMerge: boolean;
}

/** The kept rawfile's name in the output folder. */
const RAW_NAME = 'circuit.raw';

/** The --waveforms list as rawfile vector names (empty entries ignored). */
function waveformVectors(list: string | undefined): string[] {
  return (list ?? '')
    .split(',')
    .filter((s) => s.trim() !== '')
    .map(saveVector);
}

export async function handler(a: Args): Promise<void> {
  const loaded = await loadModelAndInputs(a);
  const inputs = loaded.inputs;
  const { process: proc, calibration } = await loadProcessAndCalibration(a);
  const tolerances = a.tolerances ? await loadTolerances(a.tolerances) : DEFAULT_TOLERANCES;
  const asked = withUnitCurrent(loaded.net, a.unitCurrent);
  const { net, clamps } = checkCircuit(asked.net, proc, calibration, a, asked.source);
  const refs = await loadReferences(a, net);
  const out = a.out ?? join('out', outName('compare', a.model, proc.name, a.inputs));
  const extraSaves = waveformVectors(a.waveforms);
  await ensureWritableDir(out); // before ngspice runs, not after
  const fromRaw = a.fromRaw === undefined ? undefined : { plots: await readRawfile(a.fromRaw), file: a.fromRaw };
  const options: CosimOptions = {
    process: proc,
    calibration,
    tolerances,
    ...refs,
    title: `bmru compare ${basename(a.model)}`,
    maxTransistors: a.maxTransistors,
    extraSaves,
    spiceOptions: spiceOptionsFrom(a.spiceOption),
    fromRaw,
    partitioned: a.partitioned,
    partitionBy: a.partitionBy,
    partitionPasses: a.partitionPasses,
    workers: a.workers,
    timeWindows: a.timeWindows,
    handoffPointsPerDeck: a.handoffPoints,
    handoffReplay: a.handoffReplay,
    run: {
      name: 'compare',
      timeoutMs: a.timeout * 1000,
      keepWorkDir: a.keep || a.keepRaw ? 'always' : 'onFailure',
    },
  };
  // A task loads its partition as the submission cut it rather than building and cutting the whole circuit again.
  if (a.slurmPart !== undefined) return slurmTask(net, options, out, a);
  if (a.slurm) return slurmSubmit(cosimPartitionContext(generateNetlist(net, inputs, options), net, options), out, a);
  const p = progress(
    fromRaw
      ? `reading ${a.fromRaw}`
      : a.slurmMerge
        ? `merging the partitions in ${join(out, 'partitions')}`
        : `ngspice${a.partitioned ? ' (partitioned)' : ''}: ${inputs.frames} frames on ${proc.name}`,
  );
  const r: CosimResult = await cosimulate(net, inputs, {
    ...options,
    ...(a.slurmMerge ? { partitionExecutor: storedPartitions(resolve(out)) } : {}),
    run: { ...options.run, onProgress: transientProgress(p) },
  }).catch((e: unknown) => {
    p.stop();
    throw e;
  });
  p.done();
  const near = nearTies(net, r.generated.realised, r.references.realised!.software);
  const meta = {
    model: a.model,
    inputs: a.inputs,
    process: proc.name,
    calibrated: Boolean(calibration),
    ...(a.unitCurrent === undefined ? {} : { unitCurrentA: a.unitCurrent }),
    ...(a.spiceOption === undefined ? {} : { spiceOptions: spiceOptionsFrom(a.spiceOption) }),
    ...(a.hwawareModel === undefined ? {} : { hwawareModel: a.hwawareModel }),
  };
  const kept = await keepRaw(r, out, a);
  const summary = formatCosim(r, proc.vddV, near, a.nearTies);
  const page = waveformPage(
    comparePageSpec(r, transientPlot(r.run.plots), {
      // The model as given on the command line: a title must not carry this machine's absolute paths.
      title: `bmru compare: ${basename(a.model)} on ${basename(a.inputs)}, ${proc.name}`,
      summary,
      vddV: proc.vddV,
      extraVectors: extraSaves,
    }),
  );
  await writeOutputs(out, r, meta, clamps, near, page.html);
  console.log(summary);
  console.log(
    `report: ${join(out, 'report.json')}, waveforms: ${join(out, 'report.html')}, per-frame values: ${join(out, 'frames.csv')}, near ties: ${join(out, 'near-ties.csv')}`,
  );
  if (kept.workDir) console.log(`ngspice work directory kept: ${kept.workDir}`);
  if (r.simulation.mode === 'partitioned')
    for (const part of r.simulation.partitions)
      if (part.workDir) console.log(`ngspice work directory of ${part.label} kept: ${part.workDir}`);
  if (kept.raw)
    console.log(
      `rawfile kept: ${kept.raw} (bmru compare --from-raw ${kept.raw} rewrites these reports without ngspice)`,
    );
  if (!r.verdict.pass) process.exitCode = 1;
}

/**
 * With --keep-raw, copies the run's rawfile into the output folder; the work directory then goes unless --keep
 * asked for it. Returns what was kept, to print.
 */
async function keepRaw(r: CosimResult, out: string, a: Args): Promise<{ raw?: string; workDir?: string }> {
  const { workDir, rawFile } = r.run;
  if (workDir === undefined || rawFile === undefined) return {};
  if (!a.keepRaw) return { workDir };
  const raw = join(out, RAW_NAME);
  await copyFile(rawFile, raw).catch((e: unknown) => {
    throw outputError(e, raw);
  });
  if (a.keep) return { raw, workDir };
  await rm(workDir, { recursive: true, force: true });
  return { raw };
}

/**
 * Writes the run's files, each atomically, report.json last: a report with a verdict means every other file of
 * the same run is complete. The previous run's report goes first, so it never vouches for a mix of two runs.
 */
async function writeOutputs(
  out: string,
  r: CosimResult,
  meta: Record<string, unknown>,
  clamps: readonly Clamp[],
  near: NearTies,
  html: string,
): Promise<void> {
  const reportFile = join(out, 'report.json');
  await rm(reportFile, { force: true }).catch((e: unknown) => {
    throw outputError(e, reportFile);
  });
  const report = {
    ...meta,
    ngspiceVersion: r.run.ngspiceVersion,
    ngspiceSeconds: r.run.durationMs / 1000,
    /** `monolithic` (one deck, the reference) or `partitioned (N partitions)`, with each partition's cost. */
    simulation: simulationLabel(r.simulation),
    /** Where the partitions ran: `local pool (N workers)` or `Slurm (...)`. */
    ...(r.simulation.mode === 'partitioned' ? { executor: r.simulation.executor } : {}),
    ...(r.simulation.mode === 'partitioned' ? { partitions: r.simulation.partitions } : {}),
    transistors: r.generated.transistors,
    verdict: r.verdict,
    /** The reference `verdict` and `comparison` are about. */
    reference: r.reference,
    comparison: r.comparison,
    /** The circuit against every reference scored (the verdict's included). */
    references: referenceTable(r),
    mappingStateAgreement: r.mappingStateAgreement,
    nearTies: {
      resolution: near.resolution,
      unitFrames: near.unitFrames,
      unitFramesDisagreeing: r.references.realised!.comparison.disagreements.filter((d) =>
        near.decided.has(unitFrameKey(d.block, d.frame, d.unit)),
      ).length,
      thresholds: near.ties.length,
    },
    supplyMeanA: r.circuit.supplyMeanA,
    ...(clamps.length > 0 ? { clamped: clamps.map((c) => c.message) } : {}),
  };
  await writeFileAtomic(join(out, 'deck.cir'), r.generated.deck);
  await writeMappingCsv(join(out, 'mapping.csv'), annotateMapping(r.generated.mapping, clamps));
  await writeClamps(out, clamps);
  await writeCsv(join(out, 'near-ties.csv'), nearTiesCsvRows(near));
  // `_model` columns are the verdict's reference; one state column per reference follows.
  const refs = Object.entries(r.references);
  const rows: (string | number)[][] = [
    [
      'frame',
      'block',
      'unit',
      'candidate_model',
      'candidate_circuit',
      'state_model',
      'state_circuit',
      'state_current_circuit',
      ...refs.map(([n]) => `state_${n}`),
    ],
  ];
  const S = r.generated.realised.cells;
  for (let t = 0; t < r.software.frames; t++) {
    r.software.states.forEach((states, k) => {
      for (let j = 0; j < S; j++) {
        const i = t * S + j;
        rows.push([
          t,
          k,
          j,
          r.software.candidates[k][i],
          r.circuit.candidates[k][i],
          states[i],
          r.circuit.states[k][i],
          r.circuit.stateCurrents[k][i],
          ...refs.map(([, x]) => x.software.states[k][i]),
        ]);
      }
    });
  }
  await writeCsv(join(out, 'frames.csv'), rows);
  await writeFileAtomic(join(out, 'report.html'), html);
  await writeFileAtomic(reportFile, JSON.stringify(report, null, 1) + '\n');
}

// --- Partitioned runs on Slurm (docs/slurm.md) ---

/**
 * The compare command line every Slurm task of this run repeats (the partition or `--slurm-merge` follows): the
 * same model, clip, process and options, every path absolute (a task starts on another node, in the toolkit's
 * folder).
 */
export function slurmTaskArgs(a: Args, out: string): string[] {
  return [
    ...['-m', resolve(a.model), '-i', resolve(a.inputs)],
    ...circuitArgv(a),
    ...(a.unitCurrent === undefined ? [] : ['--unit-current', String(a.unitCurrent)]),
    ...(a.spiceOption ?? []).flatMap((o) => ['--spice-option', o]),
    ...(a.reference === undefined ? [] : ['--reference', a.reference]),
    ...(a.hwawareModel === undefined ? [] : ['--hwaware-model', resolve(a.hwawareModel)]),
    ...(a.tolerances === undefined ? [] : ['-t', resolve(a.tolerances)]),
    ...['--near-ties', String(a.nearTies)],
    ...(a.keep ? ['--keep'] : []),
    '--partitioned',
    ...['--partition-by', a.partitionBy, '--partition-passes', String(a.partitionPasses)],
    ...(a.handoffPoints === undefined ? [] : ['--handoff-points', String(a.handoffPoints)]),
    ...(a.handoffReplay === undefined ? [] : ['--handoff-replay', a.handoffReplay]),
    ...['-o', resolve(out)],
  ];
}

/** One Slurm task: its partition into `<out>/partitions/`, unless it is there already. */
async function slurmTask(net: Network, options: CosimOptions, out: string, a: Args): Promise<void> {
  const k = parsePartitionKey(a.slurmPart!);
  const dir = partitionStoreDir(resolve(out));
  const stored = await storedTaskContext(dir, k.index, {
    net,
    opts: options,
    run: options.run ?? {},
    handoff: handoffWaveforms,
  });
  // The submission's --handoff-points, which the scripts pass on: they decide the partition's time windows (and so its
  // result, within 0.15% of power), so they are in the sources' hash and a task given another value was refused above.
  const ctx: PartitionContext = {
    ...stored,
    ...(a.handoffPoints === undefined ? {} : { handoffPointsPerDeck: a.handoffPoints }),
    ...(a.handoffReplay === undefined ? {} : { handoffReplay: a.handoffReplay }),
  };
  const label = `partition ${k.pass}:${k.index} (${ctx.plan.partitions[k.index]?.label ?? '?'})`;
  const started = performance.now();
  // A time limit or scancel sends SIGTERM to node (the script execs it): stop ngspice, which runs in a process group
  // of its own, rather than leave it running after the task.
  const did = await interruptible(
    (signal) => runStoredPartition({ ...ctx, run: { ...ctx.run, signal } }, dir, k, a.keep),
    (text) => console.error(text),
  );
  console.log(
    did === 'done'
      ? `${label}: has a result in ${dir} already, nothing to do`
      : `${label}: done in ${((performance.now() - started) / 1000).toFixed(1)} s, rawfile and record in ${dir}`,
  );
}

/**
 * Writes the scripts of a partitioned run on Slurm and submits them in dependency order (a stage array per stage
 * with partitions left, then the merge); with --wait, prints the merge's summary or names the task that failed.
 */
async function slurmSubmit(ctx: PartitionContext, outGiven: string, a: Args): Promise<void> {
  const out = resolve(outGiven);
  const dir = await openPartitionStore(ctx, out);
  await storePartitionPlan(ctx, dir);
  const todo = await missingPartitions(ctx, dir);
  const scripts = slurmScripts(todo, out, slurmTaskArgs(a, out), {
    jobName: `bmru-${basename(out).replace(/[^A-Za-z0-9_.,+-]/g, '_')}`,
    cpusPerTask: 1,
    time: a.time,
    partition: a.slurmPartition,
    account: a.account,
    sbatchArgs: a.sbatchArg,
    setup: a.setup,
    projectRoot: PACKAGE_ROOT,
    bin: join(PACKAGE_ROOT, 'bin', 'bmru.js'),
  });
  await makeDir(slurmDir(out));
  await removeStageScripts(out);
  for (const f of [...scripts.stages, scripts.merge, scripts.driver])
    await writeFileAtomic(f.file, f.text, { mode: 0o755 });
  const left = todo.reduce((s, t) => s + t.missing.length, 0);
  console.error(
    `${ctx.plan.partitions.length} partitions${ctx.passes > 1 ? ` x ${ctx.passes} passes` : ''} in ${todo.length} stages, ${left} without a result: ${scripts.stages.length} stage array(s) and the merge; scripts in ${slurmDir(out)}`,
  );
  if (a.dryRun) {
    console.log(`wrote the scripts (not submitted); submit them in order with: bash ${scripts.driver.file}`);
    return;
  }
  const submitted: Submitted = { stages: [] };
  let prev: string | undefined;
  for (const st of scripts.stages) {
    const r = await submitSbatch(st.file, { args: prev === undefined ? [] : dependencyArgs(prev) }).catch(
      (e: unknown) => {
        throw new BmruError(`stage ${st.stage} (${st.label}): ${(e as Error).message}`, 'slurm-submit');
      },
    );
    console.error(`stage ${st.stage} (${st.label}): Slurm job ${r.jobId}, ${st.tasks.length} task(s)`);
    submitted.stages.push({ stage: st.stage, label: st.label, job: r.jobId, tasks: [...st.tasks] });
    await writeFileAtomic(submittedPath(out), JSON.stringify(submitted, null, 1) + '\n');
    prev = r.jobId;
  }
  const merge = await submitSbatch(scripts.merge.file, {
    args: prev === undefined ? [] : dependencyArgs(prev),
    wait: a.wait,
    onSubmitted: (id) => {
      console.error(`merge: Slurm job ${id}${a.wait ? '; waiting for it to end' : ''}`);
      submitted.merge = id;
    },
  }).catch((e: unknown) => {
    throw new BmruError(`the merge job: ${(e as Error).message}`, 'slurm-submit');
  });
  await writeFileAtomic(submittedPath(out), JSON.stringify(submitted, null, 1) + '\n');
  const mergeLog = join(slurmDir(out), `${merge.jobId}_0.out`);
  console.error(`sbatch submissions: ${scripts.stages.length + 1}`);
  if (!a.wait) {
    console.log(
      [
        `submitted ${scripts.stages.length} stage array(s) and the merge (Slurm job ${merge.jobId}); logs ${slurmDir(out)}/<job>_<task>.out`,
        `follow it: squeue -j ${[...submitted.stages.map((s) => s.job), merge.jobId].join(',')}`,
        `when job ${merge.jobId} has ended: ${join(out, 'report.json')} (its summary: ${mergeLog})`,
      ].join('\n'),
    );
    return;
  }
  const failed = await missingError(ctx, out);
  if (failed) throw failed;
  const log = await readTextIfExists(mergeLog);
  if (log === undefined || merge.exitCode === null || merge.exitCode > 1)
    throw new BmruError(
      `the merge job ${merge.jobId} ended with ${merge.exitCode === null ? 'no exit code' : `exit ${merge.exitCode}`}: see ${mergeLog}`,
      'slurm-task',
    );
  console.log(
    log
      .split('\n')
      .filter((l) => !l.startsWith('== bmru:') && !l.startsWith('merging the partitions'))
      .join('\n')
      .trimEnd(),
  );
  process.exitCode = merge.exitCode === 0 ? 0 : merge.exitCode === 1 ? 1 : EXIT_ERROR;
}

/**
 * `bmru analyze power --sweep`: the model on its clip at every (VDD, I_unit) of a grid, core power against state
 * agreement, the Pareto-optimal operating points marked (analysis/sweep.ts does the work, this file the flags,
 * progress and reports).
 */
import os from 'node:os';
import { basename, join, resolve } from 'node:path';
import { calibrate } from '../../../calibrate/calibrate.js';
import { calibrationMethod } from '../../../calibrate/method.js';
import { tableHwaware } from '../../../analysis/hwmodel.js';
import {
  defaultUnitCurrentsA,
  defaultVddsV,
  modelStem,
  prepareSweepRun,
  sameVdd,
  sweepPoints,
  vddFolder,
  type SweepCell,
  type SweepPoint,
} from '../../../analysis/sweep.js';
import { REFERENCE_NAMES, type ReferenceName } from '../../../compare/references.js';
import { DEFAULT_TOLERANCES } from '../../../compare/tolerance.js';
import { InputError } from '../../../errors.js';
import { expandPlan, loadPlan } from '../../../jobs/plan.js';
import { runBatch } from '../../../jobs/run.js';
import { readResults, type ResultRecord } from '../../../jobs/store.js';
import { checkTransistorBudget, shapeOf } from '../../../netlist/budget.js';
import { loadProcess } from '../../../netlist/process.js';
import { calibratedCopy, writeProcessCopy } from '../../../netlist/process-copy.js';
import { formatSi } from '../../../netlist/ranges.js';
import { tradeoffPage, type TradeoffChart } from '../../../plot/pareto.js';
import { spiceNumber } from '../../../spice/deck.js';
import { ensureWritableDir, writeFileAtomic } from '../../../util/output.js';
import { resolveProcessPath } from '../../../util/paths.js';
import { loadModelAndInputs, outName, warnStalePlanTables, type AnalysisArgs } from '../../common.js';
import { writeCsv } from '../../csv.js';
import { EXIT_ERROR, EXIT_INTERRUPTED } from '../../exit.js';
import { pct, table, watts } from '../../format.js';
import { interruptible } from '../../interrupt.js';
import { batchProgressText, progress } from '../../progress.js';

/** What `analyze power --sweep` reads of the flags. */
export interface SweepArgs extends AnalysisArgs {
  vdd?: string;
  unitCurrents?: string;
  reference?: string;
  workers?: number;
}

/**
 * A comma-separated list of positive quantities, each a number with an optional SPICE scale suffix (`250p`,
 * `1n`, `2.5e-10`, `0.9`), all different. Returns the values, or the message for a yargs `.check`.
 *
 * @example quantityList('125p,250p', 'unit-currents', 'A') // [1.25e-10, 2.5e-10]
 */
export function quantityList(text: string, flag: string, unit: string): number[] | string {
  const items = text.split(',').map((s) => s.trim());
  const values = items.map((s) => spiceNumber(s));
  const bad = items.findIndex((s, i) => s === '' || !(values[i]! > 0) || !Number.isFinite(values[i]!));
  if (bad >= 0)
    return `--${flag} must be a comma-separated list of values in ${unit} > 0 (e.g. ${unit === 'V' ? '0.6,0.9,1.2' : '125p,250p,500p'}), got "${items[bad]}" in "${text}"`;
  // Equal at the 3 digits names show (vdd-0.9V, kws-w4-250pA.json): two entries would share one folder or file.
  const shown = values.map((v) => formatSi(v!, unit));
  const twice = shown.findIndex((s, i) => shown.indexOf(s) !== i);
  if (twice >= 0) return `--${flag} names ${shown[twice]} twice (values are told apart to 3 digits), got "${text}"`;
  return values as number[];
}

/** yargs `.check` for an optional quantity list. */
export function checkQuantityList(flag: string, text: string | undefined, unit: string): true | string {
  if (text === undefined) return true;
  const r = quantityList(text, flag, unit);
  return typeof r === 'string' ? r : true;
}

/** The sweep: calibrate each supply's copy, run the grid as a batch, write sweep.csv, sweep.json and pareto.html. */
export async function sweepHandler(a: SweepArgs): Promise<void> {
  if (a.clamp)
    throw new InputError(
      '--clamp does not apply to --sweep: a point whose currents a process cannot build is a row with the reason',
      { field: '--clamp' },
    );
  const { net, inputs } = await loadModelAndInputs(a);
  checkTransistorBudget(shapeOf(net), a.maxTransistors, a.model);
  const processFile = resolveProcessPath(a.process);
  const proc = await loadProcess(processFile, a.kit);
  const vdds = a.vdd === undefined ? defaultVddsV(proc.vddV) : (quantityList(a.vdd, 'vdd', 'V') as number[]);
  const currents =
    a.unitCurrents === undefined
      ? defaultUnitCurrentsA(net.unitCurrentA)
      : (quantityList(a.unitCurrents, 'unit-currents', 'A') as number[]);
  const stem = modelStem(a.model);
  const out = resolve(a.out ?? join('out', outName('power-sweep', a.model, proc.name, a.inputs)));
  await ensureWritableDir(out);
  const workers = a.workers ?? os.availableParallelism();
  console.error(
    `power sweep: ${stem} on ${basename(a.inputs)} (${inputs.frames} frames), ${proc.name} at VDD ${vdds.map((v) => `${v}`).join(', ')} V x I_unit ${currents.map((c) => formatSi(c, 'A')).join(', ')}: ${vdds.length * currents.length} points, ${workers} workers; results in ${out}`,
  );

  const p = progress('power sweep');
  const outcome = await interruptible(
    async (signal) => {
      // Each supply's process: the shipped one at its own VDD, else a copy calibrated there (kept for reruns).
      const refs = new Map<number, string>();
      const calibrationErrors = new Map<number, string>();
      for (const [k, vddV] of vdds.entries()) {
        if (signal.aborted) break;
        if (sameVdd(vddV, proc.vddV)) {
          refs.set(vddV, processFile);
          continue;
        }
        const where = `VDD ${vddV} V (${k + 1}/${vdds.length})`;
        try {
          if (!a.calibrated) {
            refs.set(vddV, await writeProcessCopy(processFile, { vddV }, join(out, vddFolder(vddV))));
            continue;
          }
          const r = await calibratedCopy(
            processFile,
            { vddV },
            join(out, vddFolder(vddV)),
            async (copy) => {
              p.update(`calibrating at ${where}`);
              const run = await calibrate(copy, {
                concurrency: workers,
                run: { signal },
                onRun: (done, total) => p.update(`calibrating at ${where}: ${done}/${total} sweeps`),
              });
              return run.calibration;
            },
            calibrationMethod(),
            a.kit,
          );
          if (r.measured)
            p.note(
              `calibrated ${proc.name} at ${vddV} V${r.why === undefined ? '' : ` again (${r.why})`}: ${join(out, vddFolder(vddV), 'calibration.json')}`,
            );
          refs.set(vddV, r.file);
        } catch (e) {
          if (signal.aborted) break;
          const message = `calibration at ${vddV} V failed: ${(e as Error).message}`;
          p.note(`warning: ${message}`);
          calibrationErrors.set(vddV, message);
        }
      }
      if (signal.aborted) return undefined;
      const files = await prepareSweepRun(net, {
        outDir: out,
        modelStem: stem,
        unitCurrentsA: currents,
        processRefs: [...refs.values()],
        inputs: resolve(a.inputs),
        kit: a.kit === undefined ? undefined : resolve(a.kit),
        calibrated: a.calibrated,
        tolerances: DEFAULT_TOLERANCES,
        timeoutS: a.timeout,
        maxTransistors: a.maxTransistors,
        reference: a.reference as ReferenceName | undefined, // yargs checked the choice
        name: 'power-sweep',
      });
      let records = new Map<string, ResultRecord>();
      let skipped = 0;
      if (refs.size > 0) {
        const expanded = await expandPlan(await loadPlan(files.plan));
        warnStalePlanTables(expanded);
        const summary = await runBatch(expanded, {
          workers,
          retryFailed: false,
          processHwaware: tableHwaware,
          signal,
          onProgress: (x) => p.update(batchProgressText(x)),
        });
        if (summary.interrupted) return undefined;
        skipped = summary.skipped;
        const byId = await readResults(
          summary.paths,
          expanded.jobs.map((j) => j.id),
        );
        records = new Map([...byId.values()].map((r) => [`${r.job.process.ref}\0${r.job.model.file}`, r]));
      }
      const cells: SweepCell[] = vdds.flatMap((vddV) =>
        currents.map((unitCurrentA) => {
          const model = files.models.find((m) => m.unitCurrentA === unitCurrentA)!.file;
          const ref = refs.get(vddV);
          return {
            vddV,
            unitCurrentA,
            ...(ref === undefined
              ? { error: calibrationErrors.get(vddV) }
              : { record: records.get(`${ref}\0${model}`) }),
          };
        }),
      );
      return { cells, skipped };
    },
    (text) => p.note(text),
  ).finally(() => p.stop());
  if (outcome === undefined) {
    console.log('interrupted: finished points are kept; run the same command again to finish');
    process.exitCode = EXIT_INTERRUPTED;
    return;
  }

  const points = sweepPoints(outcome.cells);
  const ok = points.filter((q) => q.status === 'ok');
  const reference = ok[0]?.reference ?? a.reference ?? 'hwaware';
  const summary = [
    `power sweep of ${stem} on ${basename(a.inputs)}, ${proc.name}: ${ok.length} of ${points.length} points simulated${outcome.skipped > 0 ? `, ${outcome.skipped} results taken from an earlier run` : ''}; * = Pareto-optimal (core power vs state agreement with ${reference}); same decision: of the references, how many the circuit's decision matches`,
    formatSweep(points),
  ].join('\n');
  console.log(summary);
  await writeCsv(join(out, 'sweep.csv'), sweepCsv(points));
  await writeFileAtomic(
    join(out, 'sweep.json'),
    JSON.stringify(
      {
        model: a.model,
        inputs: a.inputs,
        process: proc.name,
        processVddV: proc.vddV,
        modelUnitCurrentA: net.unitCurrentA,
        vddV: vdds,
        unitCurrentA: currents,
        reference,
        points,
        pareto: points
          .filter((q) => q.pareto)
          .map(({ vddV, unitCurrentA, coreW, stateAgreement }) => ({ vddV, unitCurrentA, coreW, stateAgreement })),
      },
      null,
      1,
    ) + '\n',
  );
  await writeFileAtomic(
    join(out, 'pareto.html'),
    await tradeoffPage({
      title: `bmru analyze power --sweep: ${stem} on ${basename(a.inputs)}, ${proc.name}`,
      note: `Core power (cell + ff + bias) against the state agreement of the circuit with the ${reference} model, one colour per supply, one shape per unit current; the Pareto-optimal points (no other point draws less power with at least the same agreement) are ringed, joined and labelled. Supplies other than the process's ${proc.vddV} V run on a copy of the process calibrated there. Hover a point for its figures.`,
      summary,
      chart: paretoChart(points, reference, `${stem} on ${basename(a.inputs)}, ${proc.name}`),
    }),
  );
  console.log(
    `\nwritten: ${out}/sweep.csv, sweep.json, pareto.html; plan.yaml + results/ (the batch), vdd-*/ (calibrated process copies), models/`,
  );
  if (ok.length === 0) process.exitCode = EXIT_ERROR;
}

/** `0.9 V` / `250 pA` as the tables and legends name a grid value. */
const volts = (v: number) => `${Number(v.toPrecision(6))} V`;
const current = (a: number) => formatSi(a, 'A');

/** The console table: one row per point, Pareto points starred, failed ones with their reason. */
export function formatSweep(points: readonly SweepPoint[]): string {
  const refs = REFERENCE_NAMES.filter((n) => points.some((q) => q.references[n] !== undefined));
  const failed = points.some((q) => q.status !== 'ok');
  const rows = points.map((q) => {
    const head = [q.pareto ? '*' : '', volts(q.vddV), current(q.unitCurrentA)];
    if (q.status !== 'ok') return [...head, ...Array(5 + refs.length).fill('-'), `failed: ${shorten(q.reason ?? '')}`];
    const decisions = refs.filter((n) => q.references[n]!.decisionMatch).length;
    return [
      ...head,
      watts(q.coreW!),
      watts(q.powerW!.cell ?? 0),
      watts(q.powerW!.ff ?? 0),
      watts(q.powerW!.bias ?? 0),
      ...refs.map((n) => pct(q.references[n]!.stateAgreement)),
      `${decisions}/${refs.length}`,
      ...(failed ? [''] : []),
    ];
  });
  const header = [
    '',
    'VDD',
    'I_unit',
    'core',
    'cell',
    'ff',
    'bias',
    ...refs,
    'same decision',
    ...(failed ? ['why not'] : []),
  ];
  return table(header, rows);
}

/** A failure message's first line, cut to fit a table row. */
function shorten(text: string, max = 100): string {
  const line = text.split('\n')[0];
  return line.length > max ? `${line.slice(0, max - 3)}...` : line;
}

/** sweep.csv: one row per grid point. */
export function sweepCsv(points: readonly SweepPoint[]): (string | number | boolean | null)[][] {
  const domains = ['cell', 'ff', 'bias', 'in'];
  return [
    [
      'vdd_v',
      'unit_current_a',
      'status',
      'pareto',
      'core_w',
      ...domains.map((d) => `${d}_w`),
      'reference',
      'state_agreement',
      ...REFERENCE_NAMES.flatMap((n) => [`state_${n}`, `decision_${n}`]),
      'transistors',
      'ngspice_s',
      'reason',
    ],
    ...points.map((q) => [
      q.vddV,
      q.unitCurrentA,
      q.status,
      q.pareto,
      q.coreW,
      ...domains.map((d) => q.powerW?.[d] ?? null),
      q.reference,
      q.stateAgreement,
      ...REFERENCE_NAMES.flatMap((n) => [
        q.references[n]?.stateAgreement ?? null,
        q.references[n]?.decisionMatch ?? null,
      ]),
      q.transistors,
      q.ngspiceS,
      q.reason,
    ]),
  ];
}

/** The chart of the ok points: core power against the verdict reference's state agreement. */
export function paretoChart(points: readonly SweepPoint[], reference: string, what: string): TradeoffChart {
  const ok = points.filter((q) => q.status === 'ok');
  const failed = points.length - ok.length;
  return {
    title: `Core power vs state agreement: ${what}`,
    subtitle:
      failed === 0
        ? `${ok.length} points`
        : `${ok.length} of ${points.length} points; ${failed} could not be simulated (the table below says why)`,
    x: { label: 'core power, cell + ff + bias (W)' },
    y: { label: `state agreement with the ${reference} model`, format: '.1%' },
    groupTitle: 'VDD',
    seriesTitle: 'I_unit',
    groups: [...new Set(points.map((q) => volts(q.vddV)))],
    series: [...new Set(points.map((q) => current(q.unitCurrentA)))],
    points: ok.map((q) => ({
      x: q.coreW!,
      y: q.stateAgreement!,
      group: volts(q.vddV),
      series: current(q.unitCurrentA),
      pareto: q.pareto,
      label: `${volts(q.vddV)}, ${current(q.unitCurrentA)}`,
      details: {
        VDD: volts(q.vddV),
        I_unit: current(q.unitCurrentA),
        core: watts(q.coreW!),
        ...Object.fromEntries(
          Object.entries(q.references).map(([n, f]) => [
            n,
            `${pct(f.stateAgreement)}, decision ${f.decisionMatch ? 'same' : 'differs'}`,
          ]),
        ),
      },
    })),
  };
}

import { rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Argv } from 'yargs';
import { cosimulate, type CosimResult } from '../../pipeline.js';
import { writeMappingCsv } from '../../netlist/mapping.js';
import { ensureWritableDir, outputError, writeFileAtomic } from '../../util/output.js';
import { DEFAULT_TOLERANCES, loadTolerances } from '../../compare/tolerance.js';
import { progress, transientProgress } from '../progress.js';
import { writeCsv } from '../csv.js';
import { formatCosim } from '../report.js';
import { annotateMapping, type Clamp } from '../../netlist/ranges.js';
import { checkCircuit, loadModelAndInputs, loadProcessAndCalibration, modelOptions, processOptions, timeoutOption, writeClamps, type AnalysisArgs } from '../common.js';


export function builder(y: Argv) {
  return timeoutOption(processOptions(modelOptions(y)), 1800)
    .option('tolerances', { alias: 't', type: 'string', describe: 'tolerance JSON (minStateAgreement, requireDecisionMatch, minVoteAgreement, maxDisagreements, maxSwitchDelayS)', defaultDescription: '>= 99.5% states, same decision, >= 95% votes, no miss at >= 20% margin' })
    .option('out', { alias: 'o', type: 'string', describe: 'folder for report.json, frames.csv, deck.cir, mapping.csv', defaultDescription: 'out/compare-<model>' })
    .option('keep', { type: 'boolean', default: false, describe: 'keep ngspice work directory (also kept on failure)' })
    .example('$0 compare', 'the shipped example on the embedded 180 nm card')
    .example('$0 compare -p gf180mcu -m my.safetensors -i clip.csv -t tol.json', 'your model on the GF180MCU kit with your tolerances')
    .epilogue('Exit code: 0 pass, 1 fidelity below tolerance, 2 error (bad input, ngspice failure).');
}

interface Args extends AnalysisArgs {
  tolerances?: string;
  keep: boolean;
}

export async function handler(a: Args): Promise<void> {
  const loaded = await loadModelAndInputs(a);
  const inputs = loaded.inputs;
  const { process: proc, calibration } = await loadProcessAndCalibration(a);
  const tolerances = a.tolerances ? await loadTolerances(a.tolerances) : DEFAULT_TOLERANCES;
  const { net, clamps } = checkCircuit(loaded.net, proc, calibration, a);
  const out = a.out ?? join('out', `compare-${basename(a.model).replace(/\.[^.]+$/, '')}-${proc.name}`);
  await ensureWritableDir(out); // before ngspice runs, not after
  const p = progress(`ngspice: ${inputs.frames} frames on ${proc.name}`);
  const r: CosimResult = await cosimulate(net, inputs, {
    process: proc, calibration, tolerances, title: `bmru compare ${a.model}`, maxTransistors: a.maxTransistors,
    run: { name: 'compare', timeoutMs: a.timeout * 1000, keepWorkDir: a.keep ? 'always' : 'onFailure', onProgress: transientProgress(p) },
  }).catch((e: unknown) => {
    p.stop();
    throw e;
  });
  p.done();
  await writeOutputs(out, r, { model: a.model, inputs: a.inputs, process: proc.name, calibrated: Boolean(calibration) }, clamps);
  console.log(formatCosim(r, proc.vddV));
  console.log(`report: ${join(out, 'report.json')}, per-frame values: ${join(out, 'frames.csv')}`);
  if (!r.verdict.pass) process.exitCode = 1;
}

/**
 * Writes the run's files, each atomically, report.json last: a report with a verdict means every other file of
 * the same run is complete. The previous run's report goes first, so it never vouches for a mix of two runs.
 */
async function writeOutputs(out: string, r: CosimResult, meta: Record<string, unknown>, clamps: readonly Clamp[]): Promise<void> {
  const reportFile = join(out, 'report.json');
  await rm(reportFile, { force: true }).catch((e: unknown) => {
    throw outputError(e, reportFile);
  });
  const report = {
    ...meta,
    ngspiceVersion: r.run.ngspiceVersion,
    ngspiceSeconds: r.run.durationMs / 1000,
    transistors: r.generated.transistors,
    verdict: r.verdict,
    comparison: r.comparison,
    mappingStateAgreement: r.mappingStateAgreement,
    supplyMeanA: r.circuit.supplyMeanA,
    ...(clamps.length > 0 ? { clamped: clamps.map((c) => c.message) } : {}),
  };
  await writeFileAtomic(join(out, 'deck.cir'), r.generated.deck);
  await writeMappingCsv(join(out, 'mapping.csv'), annotateMapping(r.generated.mapping, clamps));
  await writeClamps(out, clamps);
  const rows: (string | number)[][] = [['frame', 'block', 'unit', 'candidate_model', 'candidate_circuit', 'state_model', 'state_circuit', 'state_current_circuit']];
  const S = r.generated.realised.cells;
  for (let t = 0; t < r.software.frames; t++) {
    r.software.states.forEach((states, k) => {
      for (let j = 0; j < S; j++) {
        const i = t * S + j;
        rows.push([t, k, j, r.software.candidates[k][i], r.circuit.candidates[k][i], states[i], r.circuit.states[k][i], r.circuit.stateCurrents[k][i]]);
      }
    });
  }
  await writeCsv(join(out, 'frames.csv'), rows);
  await writeFileAtomic(reportFile, JSON.stringify(report, null, 1) + '\n');
}

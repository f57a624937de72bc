import { join } from 'node:path';
import type { Argv } from 'yargs';
import { cosimulate } from '../../../pipeline.js';
import {
  applyCorrections,
  applyLogitCorrections,
  fitCorrections,
  fitLogitCorrections,
  modelFit,
  type ModelFit,
} from '../../../analysis/hwaware.js';
import { hardwareAwareNetwork, runHardwareAware } from '../../../analysis/hwmodel.js';
import { runNetwork } from '../../../model/network.js';
import { randomInputs } from '../../../model/random.js';
import { loadInputs } from '../../../model/inputs.js';
import { networkToJson } from '../../../model/json-format.js';
import { writeCsv } from '../../csv.js';
import { pct, table } from '../../format.js';
import { progress } from '../../progress.js';
import {
  intAtLeast,
  modelOptions,
  prepareAnalysis,
  processOptions,
  timeoutOption,
  type AnalysisArgs,
} from '../../common.js';
import { writeFileAtomic } from '../../../util/output.js';

export const command = 'hwaware';
export const describe =
  "Hardware-aware software model: learn per-cell candidate gain/offset, ON level and OFF leakage, per-class logit gain/offset from a calibration co-simulation, then show how much closer the fast model predicts the circuit on another clip (beside the model from the calibration's measured tables, hardwareAwareNetwork)";

export function builder(y: Argv) {
  return timeoutOption(processOptions(modelOptions(y)), 3600)
    .option('fit-inputs', {
      type: 'string',
      describe: 'clip (CSV) for the calibration co-simulation',
      defaultDescription: 'a seeded random 101-frame clip',
    })
    .option('fit-seed', { type: 'number', default: 7, describe: 'seed of the random calibration clip' })
    .option('out', {
      alias: 'o',
      type: 'string',
      describe: 'output folder (hw-aware model JSON, corrections CSV, report)',
      defaultDescription: 'out/hwaware-<model>-<inputs>-<process>',
    })
    .check((a) => intAtLeast('fit-seed', a['fit-seed'], 0))
    .example(
      '$0 analyze hwaware',
      'fit on a random clip, evaluate on the shipped example clip (two transistor-level runs)',
    )
    .epilogue(
      'The corrections are folded into ordinary parameters: the written model runs in every command like any other.',
    );
}

interface Args extends AnalysisArgs {
  fitInputs?: string;
  fitSeed: number;
}

const FIT_FRAMES = 101;

export async function handler(a: Args): Promise<void> {
  const { net, inputs, process: proc, calibration, out } = await prepareAnalysis(a, 'hwaware');
  const fitInputs = a.fitInputs ? await loadInputs(a.fitInputs) : randomInputs(FIT_FRAMES, net.inputs, a.fitSeed);
  const p = progress(
    `ngspice: calibration clip (${fitInputs.frames} frames) and evaluation clip (${inputs.frames} frames)`,
  );
  const [fit, evalRun] = await Promise.all(
    [fitInputs, inputs].map((x, i) =>
      cosimulate(net, x, {
        process: proc,
        calibration,
        maxTransistors: a.maxTransistors,
        run: { name: i ? 'hw-eval' : 'hw-fit', timeoutMs: a.timeout * 1000 },
      }),
    ),
  ).finally(() => p.stop());
  const realised = fit.generated.realised;
  const corrections = fitCorrections(realised, fitInputs, fit.circuit);
  const cellAware = applyCorrections(realised, corrections);
  // The classifier's corrections are fitted after the cell corrections, on what the corrected model computes.
  const logitFits = fitLogitCorrections(cellAware, runNetwork(cellAware, fitInputs), fit.circuit.logits);
  const aware = applyLogitCorrections(cellAware, logitFits);
  const before = modelFit(realised, evalRun.software, evalRun.circuit);
  const after = modelFit(aware, runNetwork(aware, inputs), evalRun.circuit, corrections);
  // The circuit's simulator from the calibration's measured tables, fitted on nothing (analysis/hwmodel.ts).
  const measured = calibration?.hardware
    ? modelFit(realised, runHardwareAware(hardwareAwareNetwork(net, proc, calibration), inputs), evalRun.circuit)
    : undefined;
  const row = (name: string, f: ModelFit) => [
    name,
    pct(f.stateAgreement),
    f.candidateMAE.toFixed(4),
    f.stateCurrentMAE.toFixed(4),
    f.logitMAE.toFixed(4),
  ];
  console.log(
    `software model vs circuit on the evaluation clip (${inputs.frames} frames, ${proc.name}); corrections learnt on another clip:`,
  );
  const rows = [
    row('realised (calibration tables)', before),
    row('fitted corrections', after),
    ...(measured ? [row('hardware-aware (measured tables)', measured)] : []),
  ];
  console.log(table(['model', 'state agreement', 'candidate MAE', 'state current MAE', 'logit MAE'], rows));
  const gain = (x: number, y: number) => (y > 0 ? `${(x / y).toFixed(1)}x` : 'exact');
  console.log(
    `closer by: candidates ${gain(before.candidateMAE, after.candidateMAE)}, state currents ${gain(before.stateCurrentMAE, after.stateCurrentMAE)}, logits ${gain(before.logitMAE, after.logitMAE)}`,
  );
  await writeFileAtomic(
    join(out, 'hwaware-model.json'),
    networkToJson(
      aware,
      `hardware-aware model of ${a.model} on ${proc.name} (corrections from a calibration co-simulation)`,
    ),
  );
  await writeCsv(join(out, 'corrections.csv'), [
    ['block', 'unit', 'candidate_gain', 'candidate_offset', 'on_level', 'off_leak'],
    ...corrections.map((c) => [c.block, c.unit, c.candidateGain, c.candidateOffset, c.onLevel, c.offLeak]),
  ]);
  await writeFileAtomic(
    join(out, 'hwaware.json'),
    JSON.stringify(
      {
        model: a.model,
        process: proc.name,
        fitInputs: a.fitInputs ?? `random seed ${a.fitSeed}`,
        before,
        after,
        measured,
        corrections,
        logitCorrections: logitFits,
      },
      null,
      1,
    ) + '\n',
  );
  console.log(`\nwritten: ${out}/hwaware-model.json, corrections.csv, hwaware.json`);
}

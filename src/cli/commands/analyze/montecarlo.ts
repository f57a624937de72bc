import { existsSync } from 'node:fs';
import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Argv } from 'yargs';
import { median } from 'mathjs';
import { buildCircuit } from '../../../netlist/generate.js';
import {
  monteCarlo,
  parameterSigmas,
  sensitivity,
  softwareMonteCarlo,
  type McSample,
} from '../../../analysis/montecarlo.js';
import { InputError } from '../../../errors.js';
import { writeCsv } from '../../csv.js';
import { pct, table } from '../../format.js';
import { progress } from '../../progress.js';
import { histogram, htmlPage, writePlot } from '../../../plot/index.js';
import {
  intAtLeast,
  modelOptions,
  prepareAnalysis,
  processOptions,
  timeoutOption,
  type AnalysisArgs,
} from '../../common.js';
import { writeFileAtomic } from '../../../util/output.js';
import { resultKey } from '../../../jobs/kept.js';

export const command = 'montecarlo';
export const describe =
  'Monte Carlo device mismatch (Pelgrom, per-device V_th and beta from recorded seeds): state agreement distribution, decision flip rate, most sensitive parameters';

export function builder(y: Argv) {
  return timeoutOption(processOptions(modelOptions(y)), 3600)
    .option('samples', { alias: 'n', type: 'number', default: 20, describe: 'transistor-level samples' })
    .option('seed', {
      type: 'number',
      default: 1,
      describe: 'campaign seed; sample i uses a seed derived from (seed, i), recorded with its result',
    })
    .option('software-draws', {
      type: 'number',
      default: 1000,
      describe: 'software-model Monte Carlo draws with the same per-parameter sigmas',
    })
    .option('workers', { type: 'number', describe: 'ngspice processes at once', defaultDescription: 'all cores' })
    .option('out', {
      alias: 'o',
      type: 'string',
      describe: 'output folder; a rerun with the same campaign resumes (finished samples are kept in samples.jsonl)',
      defaultDescription: 'out/montecarlo-<model>-<inputs>-<process>',
    })
    .check(
      (a) => (Number.isInteger(a.samples) && a.samples >= 1) || `--samples must be an integer >= 1, got ${a.samples}`,
    )
    .check((a) => intAtLeast('seed', a.seed, 0))
    .check((a) => intAtLeast('software-draws', a['software-draws'], 1))
    .check((a) => intAtLeast('workers', a.workers, 1))
    .example(
      '$0 analyze montecarlo -n 20',
      '20 mismatch samples of the shipped example on the embedded 180 nm card (estimated coefficients)',
    )
    .example('$0 analyze montecarlo -p gf180mcu -n 50', "with the GF180MCU kit's Pelgrom coefficients")
    .epilogue(
      'Mismatch coefficients come from the process file (field "mismatch"); each device gets sigma(dVth) = A_VT / sqrt(W L) and sigma(dbeta/beta) = A_beta / sqrt(W L). Results are appended to samples.jsonl as each sample finishes; interrupt and rerun to continue.',
    );
}

interface Args extends AnalysisArgs {
  samples: number;
  seed: number;
  softwareDraws: number;
  workers?: number;
}

export async function handler(a: Args): Promise<void> {
  const { net, inputs, process: proc, calibration, out } = await prepareAnalysis(a, 'montecarlo');
  if (!proc.mismatch)
    throw new InputError('has no mismatch coefficients: add "mismatch": {"n": {"avtMvUm", "abetaPctUm"}, "p": {...}}', {
      file: join(proc.dir, 'process.json'),
      field: 'mismatch',
    });
  const campaign = {
    model: a.model,
    inputs: a.inputs,
    process: proc.name,
    calibrated: Boolean(calibration),
    seed: a.seed,
    mismatch: proc.mismatch,
    // What the names above do not tell apart: an edited model, clip, process.json or calibration, other toolkit code.
    contentKey: resultKey({ net, inputs, process: proc, calibration }),
  };
  const done = await resume(out, campaign);
  const todo = Array.from({ length: a.samples }, (_, i) => i).filter((i) => !done.has(i));

  if (todo.length > 0) {
    const plan = `Monte Carlo: ${todo.length} of ${a.samples} samples to run${done.size ? ` (${done.size} kept from before)` : ''}`;
    console.error(plan); // also in logs, where the live progress line is sparse
    const p = progress(plan);
    const started = Date.now();
    let written = Promise.resolve(); // appends in completion order, awaited before the results are read back
    await monteCarlo(net, inputs, {
      process: proc,
      calibration,
      maxTransistors: a.maxTransistors,
      seed: a.seed,
      indices: todo,
      concurrency: a.workers,
      run: { timeoutMs: a.timeout * 1000 },
      onDone: (c) => {
        const etaS = ((Date.now() - started) / 1000 / c.completed) * (c.total - c.completed);
        p.update(`${c.completed}/${c.total}, ETA ${Math.round(etaS)} s`);
        const line = c.result ? JSON.stringify(c.result) + '\n' : undefined;
        if (line) written = written.then(() => appendFile(join(out, 'samples.jsonl'), line));
      },
    }).finally(() => p.stop());
    await written;
  }
  const samples = [...(await resume(out, campaign)).values()]
    .filter((s) => s.index < a.samples)
    .sort((x, y) => x.index - y.index);

  // The network the circuit realises: what every sample is compared against.
  const realised = buildCircuit(net, inputs, { process: proc, calibration }).realised;
  const refs = parameterSigmas(realised, proc);
  const sens = sensitivity(realised, inputs, refs);
  const sw = softwareMonteCarlo(realised, inputs, refs, a.softwareDraws, a.seed);

  const agree = samples.map((s) => s.stateAgreement);
  const flips = samples.filter((s) => s.decisionFlip).length;
  const swFlips = sw.filter((s) => s.decisionFlip).length;
  console.log(
    `Monte Carlo on ${proc.name}: ${samples.length} transistor-level samples (seed ${a.seed}), ${a.softwareDraws} software draws`,
  );
  console.log(
    table(
      ['', 'circuit (mismatch)', 'software (same sigmas)'],
      [
        [
          'decision flip rate',
          `${flips}/${samples.length} = ${pct(flips / samples.length, 1)}`,
          `${swFlips}/${sw.length} = ${pct(swFlips / sw.length, 1)}`,
        ],
        ['state agreement mean', pct(mean(agree)), pct(mean(sw.map((s) => s.stateAgreement)))],
        [
          'state agreement median',
          pct(median(agree) as number),
          pct(median(sw.map((s) => s.stateAgreement)) as number),
        ],
        ['state agreement min', pct(Math.min(...agree)), pct(Math.min(...sw.map((s) => s.stateAgreement)))],
      ],
    ),
  );
  console.log('\nmost sensitive parameters (software model, each moved by +-1 sigma of the mirror that realises it):');
  console.log(
    table(
      ['parameter', 'sigma', 'state changes +1s', '-1s', 'decision'],
      sens
        .slice(0, 10)
        .map((s) => [s.parameter, pct(s.sigma, 1), s.changesUp, s.changesDown, s.decisionChanges ? 'CHANGES' : '']),
    ),
  );

  await writeCsv(join(out, 'samples.csv'), [
    [
      'index',
      'seed',
      'state_agreement',
      'vote_agreement',
      'circuit_decision',
      'decision_flip',
      'disagreements',
      'ngspice_s',
    ],
    ...samples.map((s) => [
      s.index,
      s.seed,
      s.stateAgreement,
      s.voteAgreement,
      s.circuitDecision,
      s.decisionFlip,
      s.disagreements,
      s.ngspiceS,
    ]),
  ]);
  await writeCsv(join(out, 'sensitivity.csv'), [
    ['parameter', 'sigma', 'changes_up', 'changes_down', 'decision_changes'],
    ...sens.map((s) => [s.parameter, s.sigma, s.changesUp, s.changesDown, s.decisionChanges]),
  ]);
  await writeFileAtomic(
    join(out, 'montecarlo.json'),
    JSON.stringify(
      {
        campaign,
        samples,
        decisionFlipRate: flips / samples.length,
        softwareDecisionFlipRate: swFlips / sw.length,
        sensitivity: sens.slice(0, 50),
      },
      null,
      1,
    ) + '\n',
  );
  await writePlot(
    join(out, 'montecarlo.html'),
    await montecarloHtml(`bmru analyze montecarlo: ${a.model} on ${proc.name}`, samples, sw),
  );
  console.log(`\nwritten: ${out}/samples.jsonl, samples.csv, sensitivity.csv, montecarlo.json, montecarlo.html`);
}

/** montecarlo.html: the circuit samples' state agreement, then the software draws' under the same sigmas. */
export async function montecarloHtml(
  title: string,
  samples: readonly Pick<McSample, 'stateAgreement' | 'decisionFlip'>[],
  software: readonly { readonly stateAgreement: number }[],
): Promise<string> {
  const flips = samples.filter((s) => s.decisionFlip).length;
  return htmlPage(title, [
    {
      heading: 'Circuit state agreement per sample',
      svg: await histogram({
        title: `State agreement vs the nominal model (${samples.length} samples)`,
        x: { label: 'state agreement (fraction)' },
        values: samples.map((s) => s.stateAgreement),
      }),
      caption: `decision flips: ${flips}/${samples.length}`,
    },
    {
      heading: 'Software model, same sigmas',
      svg: await histogram({
        title: `Software-model state agreement (${software.length} draws)`,
        x: { label: 'state agreement (fraction)' },
        values: software.map((s) => s.stateAgreement),
      }),
    },
  ]);
}

const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / Math.max(v.length, 1);

/** Samples already finished in `out` for this campaign; a different campaign there is an error, not a silent mix. */
async function resume(out: string, campaign: Record<string, unknown>): Promise<Map<number, McSample>> {
  const file = join(out, 'campaign.json');
  const text = JSON.stringify(campaign, null, 1) + '\n';
  if (!existsSync(file)) {
    await writeFileAtomic(file, text);
    return new Map();
  }
  if ((await readFile(file, 'utf8')) !== text) {
    throw new InputError(
      "belongs to a different Monte Carlo campaign (model, inputs, process, seed, coefficients, their files' content or the toolkit's code differ): choose another --out or delete the folder",
      { file },
    );
  }
  const jsonl = join(out, 'samples.jsonl');
  const done = new Map<number, McSample>();
  if (!existsSync(jsonl)) return done;
  // A line cut by a crash is skipped: its sample simply runs again.
  for (const line of (await readFile(jsonl, 'utf8')).split('\n')) {
    try {
      const s = JSON.parse(line) as McSample;
      if (Number.isInteger(s.index)) done.set(s.index, s);
    } catch {
      continue;
    }
  }
  return done;
}

import os from 'node:os';
import path from 'node:path';
import type { Argv } from 'yargs';
import { DEFAULT_FEATURES_FILE } from '../../audio/features.js';
import { InputError } from '../../errors.js';
import { loadModel, saveModel } from '../../model/load.js';
import type { Network } from '../../model/types.js';
import { loadTrainingData, type SplitName, type TrainingData } from '../../train/data.js';
import {
  DEFAULT_CURRENT_CAP,
  DEFAULT_TRAIN,
  N_CLASS_MARGIN_AFTER,
  defaultMarginAfter,
  trainNetwork,
  forwardEpsAt,
  silentDecision,
  trainedArch,
  type SplitScore,
  type TrainOptions,
  type TrainResult,
} from '../../train/trainer.js';
import { LIMITS } from '../../train/optim.js';
import { realisedNetwork } from '../../train/params.js';
import { hardwareAgreement, hardwareDisagreements, mismatchStability } from '../../analysis/hwscore.js';
import { mirrorSigmas } from '../../analysis/montecarlo.js';
import { drawnRatio } from '../../netlist/geometry.js';
import type { ParamRealisation } from '../../train/hardware.js';
import { processCellLimits } from '../../netlist/ranges.js';
import type { Calibration } from '../../netlist/calibration.js';
import type { Process } from '../../netlist/process.js';
import { currentArg, loadProcessAndCalibration } from '../common.js';
import { csvText, historyCsvRows, lossPlot, parameterStats, signalStats, trainingPage } from '../../train/report.js';
import { writePlot } from '../../plot/index.js';
import { confusionTable, pct, table } from '../format.js';
import { progress } from '../progress.js';
import { makeDir, writeFileAtomic } from '../../util/output.js';

const D = DEFAULT_TRAIN;
/** The I_unit of the shipped keyword model and of `bmru kws` (README headline power): 250 pA. */
const TRAIN_UNIT_CURRENT_A = 2.5e-10;
/** The README's other keyword-model runs (power sweep, `kws --unit-current`). */
const DEFAULT_BUILD_AT = [5e-10, 1e-9];
/** Both shipped kits: a model trained inside both builds on either without --clamp. */
const DEFAULT_TRAIN_PROCESSES = ['c180', 'gf180mcu'];

/** `--build-at` as currents (A). */
function buildAt(a: Args): number[] {
  return a.buildAt
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '')
    .map(Number);
}

/** How `process` realises the trainable parameters (training stays below the netlist stage: the CLI joins them). */
function paramRealisation(process: Process): ParamRealisation {
  const sig = mirrorSigmas(process);
  return {
    process: process.name,
    weight: (absW) => drawnRatio(process, absW),
    weightSigma: sig.weight,
    unitySigma: sig.unity,
    thresholdSigma: sig.threshold,
  };
}

/** The processes of `--process` with their calibrations (none for 'none'). */
async function trainProcesses(a: Args): Promise<{ process: Process; calibration?: Calibration }[]> {
  const names = a.process
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (names.length === 0 || (names.length === 1 && names[0] === 'none')) return [];
  const loaded = [];
  for (const process of names) loaded.push(await loadProcessAndCalibration({ process, kit: a.kit, calibrated: true }));
  return loaded;
}
const DEFAULT_FEATURES = path.join('data', 'kws-synth', DEFAULT_FEATURES_FILE);

export function builder(y: Argv) {
  return y
    .option('features', {
      alias: 'f',
      type: 'string',
      default: DEFAULT_FEATURES,
      describe:
        'features file (bmru kws-data --features "" or bmru features <folder>): mfcc [N, frames, 13], target [N], split [N]',
    })
    .option('out', {
      alias: 'o',
      type: 'string',
      default: path.join('models', 'kws-trained.json'),
      describe:
        'model file to write: .json (JSON model format) or .safetensors; the report, loss CSV and plots go beside it',
    })
    .option('width', {
      type: 'number',
      default: D.width,
      describe: 'H: units per block (the reference KWS network has 4)',
    })
    .option('blocks', { type: 'number', default: D.blocks, describe: 'L: recurrent blocks' })
    .option('skip', {
      type: 'boolean',
      default: D.skip,
      describe: 'residual connection around each block (--no-skip to drop it)',
    })
    .option('epochs', { type: 'number', default: D.epochs, describe: 'passes over the training split' })
    .option('batch-size', { type: 'number', default: D.batchSize, describe: 'clips per optimiser step' })
    .option('lr', {
      type: 'number',
      default: D.lr,
      describe: 'peak learning rate of AdamW (linear warm-up, then cosine decay)',
    })
    .option('warmup-steps', {
      type: 'number',
      default: D.warmupSteps,
      describe: 'steps of linear learning-rate warm-up',
    })
    .option('lr-floor', {
      type: 'number',
      default: D.lrFloor,
      describe: 'final learning rate as a fraction of the peak',
    })
    .option('weight-decay', {
      type: 'number',
      default: D.weightDecay,
      describe: 'AdamW decoupled weight decay (weights only)',
    })
    .option('clip-norm', { type: 'number', default: D.clipNorm, describe: 'maximum global gradient norm' })
    .option('surrogate-width', {
      type: 'number',
      default: D.surrogateWidth,
      describe: 'width w (units of I_unit) of the arctan surrogate dH/dx = (1/w) / (1 + (pi x / w)^2)',
    })
    .option('arch', {
      type: 'string',
      choices: ['bmru', 'cmru', 'cmru-relaxed'],
      default: 'bmru',
      describe:
        "cell update trained: bmru (FQ-BMRU, the circuit's), cmru (cumulative, eps = 1) or cmru-relaxed (leaky, --eps); with --anneal a cmru ends as a bmru",
    })
    .option('eps', {
      type: 'number',
      default: D.eps,
      describe: 'eps of --arch cmru-relaxed, in (0, 1): a_t = (1 - z_t) + eps z_t',
    })
    .option('anneal', {
      type: 'boolean',
      default: D.anneal,
      describe:
        'bmru: start with the cumulative (CMRU) gradient through time and anneal it to the pure BMRU; cmru, cmru-relaxed: anneal the forward eps to 0 and write an fq-bmru file',
    })
    .option('anneal-fraction', {
      type: 'number',
      default: D.annealFraction,
      describe: 'fraction of the steps the annealing takes (the rest trains the pure BMRU)',
    })
    .option('input-noise', {
      type: 'number',
      default: D.inputNoise,
      describe: 'std of Gaussian noise added to the normalised training inputs (augmentation)',
    })
    .option('candidate-noise', {
      type: 'number',
      default: D.candidateNoise,
      describe:
        "std (units of I_unit) of Gaussian noise on every candidate current while training: margin against the circuit's leakage and mirror error",
    })
    .option('margin', {
      type: 'number',
      default: D.margin,
      describe:
        'units of I_unit a candidate should keep from the threshold that decides its state (penalised inside); 0 = off',
    })
    .option('margin-after', {
      type: 'number',
      describe: `fraction of the steps trained before the margin penalty comes in. Default ${D.marginAfter} (from the first step) for a 2-class set, ${N_CLASS_MARGIN_AFTER} for N classes (from the first step a 6-class width-8 run never left a plateau: docs/kws.md)`,
    })
    .option('margin-weight', {
      type: 'number',
      default: D.marginWeight,
      describe: 'weight of that penalty (sum of ((margin - |c - beta|) / margin)^2 per frame) beside the cross-entropy',
    })
    .option('transition-margin', {
      type: 'number',
      default: D.transitionMargin,
      describe:
        "units of I_unit the path between two frames should keep from the threshold a cell that holds its state must not cross: the bound of the candidate when every input term is at whichever of its two frames' values pushes it that way (the circuit's terms arrive at their own speeds; a crossing on the way latches). 0 = off",
    })
    .option('transition-after', {
      type: 'number',
      default: D.transitionAfter,
      describe:
        'fraction of the steps trained before the transition penalty comes in (from the first step it holds every cell still)',
    })
    .option('transition-weight', {
      type: 'number',
      default: D.transitionWeight,
      describe:
        'weight of that penalty (sum of (excess / transition margin)^2 per holding frame) beside the cross-entropy',
    })
    .option('process', {
      alias: 'p',
      type: 'string',
      default: DEFAULT_TRAIN_PROCESSES.join(','),
      describe:
        "processes (shipped names or process.json paths, comma-separated) whose calibrated cells must hold every cell: beta_hi and alpha inside the calibrated current range, the hysteresis no wider than measured, at --unit-current; 'none' = the generic limits only",
    })
    .option('kit', {
      type: 'string',
      describe: 'PDK folder for processes whose deck lines use {kit}',
    })
    .option('build-at', {
      type: 'string',
      default: DEFAULT_BUILD_AT.join(','),
      describe:
        'other I_unit values (A, comma-separated) the model must build at on --process without --clamp, beside --unit-current (the README runs the keyword model at 500 pA and 1 nA too); "" = only --unit-current',
    })
    .option('weight-grid', {
      type: 'boolean',
      default: false,
      describe:
        "the forward pass sees every weight as --process's mirror copies draw it (width grid, smallest copy, left out below half of it; one process per step in turn), the gradient updates the trained value (straight-through)",
    })
    .option('mismatch-noise', {
      type: 'number',
      default: D.mismatchNoise,
      describe:
        "with --weight-grid: every step draws each weight, bias and cell parameter's mismatch from --process's Pelgrom sigmas times this (AnalogNets-style noise injection); 0 = none",
    })
    .option('realise-after', {
      type: 'number',
      default: D.realiseAfter,
      describe:
        'fraction of the steps trained on the parameters as they are before --weight-grid (and its noise) take over',
    })
    .option('mismatch-ramp', {
      type: 'number',
      default: D.mismatchRamp,
      describe:
        'fraction of the steps over which --mismatch-noise rises linearly from 0 (at the first --realise-after step) to its full value, so the cells learn to switch before the full mismatch hits them (full noise from the first step left some seeds a dead network: docs/kws.md); 0 = full noise at once',
    })
    .option('realise-when-alive', {
      type: 'boolean',
      default: D.realiseWhenAlive,
      describe:
        "--weight-grid (and its noise, and --mismatch-ramp's start) wait, beyond --realise-after, for the epoch after the trained network first beats every constant decision on the training clips: every run starts on the majority-class plateau, and realised from there some seeds never left it (docs/kws.md)",
    })
    .option('hardware-select', {
      type: 'boolean',
      default: true,
      describe:
        'keep the checkpoint whose circuits (each --process) follow it best on the validation clips (--select-by), among those within --select-slack of the best validation accuracy; --no-hardware-select: the best validation accuracy',
    })
    .option('select-by', {
      choices: ['hardware', 'mismatch'] as const,
      default: 'hardware' as const,
      describe:
        "what 'follow it best' means: hardware = the most validation unit-frames where the hardware-aware model (the circuit at software speed) has the trained state; mismatch = the fewest validation decisions that flip over --select-draws software Monte Carlo chips of the processes' Pelgrom sigmas (worst process; docs/kws.md)",
    })
    .option('select-draws', {
      type: 'number',
      default: 20,
      describe: 'Monte Carlo chips per checkpoint for --select-by mismatch (the same draws for every checkpoint)',
    })
    .option('silence-guard', {
      type: 'boolean',
      default: D.silenceGuard,
      describe:
        'keep only checkpoints that decide a digitally silent clip (all-zero features) as a class that triggers nothing (other, _silence_, _unknown_); when none does, say so. --no-silence-guard: no such check',
    })
    .option('select-slack', {
      type: 'number',
      default: D.selectSlack,
      describe: 'validation accuracy (fraction) a checkpoint may give up for circuits that follow it better',
    })
    .option('current-cap', {
      type: 'number',
      default: DEFAULT_CURRENT_CAP,
      describe:
        "penalise candidate and block currents beyond this many units (I_unit): the circuit's mirrors are unity-gain up to ~3 nA",
    })
    .option('current-weight', {
      type: 'number',
      default: D.currentWeight,
      describe:
        'weight of that penalty (sum of (|I| - cap)^2 per frame, beside the per-frame cross-entropy); 0 turns it off',
    })
    .option('unit-current', {
      type: 'string',
      coerce: currentArg('unit-current'),
      default: TRAIN_UNIT_CURRENT_A,
      describe:
        "I_unit (A, or SPICE style: 250p, 250pA) the model file asks the circuit for: one unit of every current; power scales with it; training sees it only through --process's calibrated current range",
    })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no progress line' })
    .option('seed', {
      type: 'number',
      default: D.seed,
      describe: 'seed of the initial parameters, the batch order and the input noise',
    })
    .option('init', {
      type: 'string',
      describe: 'start from this model file instead of random parameters (same shape)',
    })
    .option('focus-margin', {
      type: 'number',
      default: 0,
      describe:
        "margin (units of I_unit) for the unit-frames where --process's circuits (the hardware-aware model of the realised network) have another state than the network on each training clip, marked every --focus-every epochs from --focus-after: the near ties the circuit cannot resolve, pushed apart harder than --margin pushes every candidate; 0 = off (docs/kws.md)",
    })
    .option('focus-weight', {
      type: 'number',
      default: 1,
      describe: 'weight of the --focus-margin penalty on those unit-frames (in place of --margin-weight)',
    })
    .option('focus-every', {
      type: 'number',
      default: 5,
      describe:
        'epochs between markings of the circuit disagreements (each marks every training clip on each --process)',
    })
    .option('focus-after', {
      type: 'number',
      default: 0.3,
      describe: 'fraction of the steps trained before the first marking',
    })
    .option('checkpoints', {
      type: 'string',
      describe:
        'also write every checkpoint the selection chose among into this folder (epoch-NNN.json, realised, as the model file) with checkpoints.csv: epoch, validation accuracy, loss, selection score, kept, the class it decides for a digitally silent clip. To study what a rule keeps: bmru kws, scripts/accuracy-kws.mjs and scripts/mc-kws.mjs read them',
    })
    .check((a) => {
      const ints: [string, number, number][] = [
        ['width', a.width, 1],
        ['blocks', a.blocks, 1],
        ['epochs', a.epochs, 1],
        ['batch-size', a['batch-size'] as number, 1],
        ['warmup-steps', a['warmup-steps'] as number, 0],
        ['seed', a.seed, 0],
        ['select-draws', a['select-draws'] as number, 1],
        ['focus-every', a['focus-every'] as number, 1],
      ];
      for (const [name, v, min] of ints)
        if (!Number.isInteger(v) || v < min) return `--${name} must be an integer >= ${min}, got ${v}`;
      const positive: [string, number][] = [
        ['lr', a.lr],
        ['clip-norm', a['clip-norm'] as number],
        ['surrogate-width', a['surrogate-width'] as number],
        ['unit-current', a['unit-current'] as number],
      ];
      for (const [name, v] of positive)
        if (!(v > 0) || !Number.isFinite(v)) return `--${name} must be a number > 0, got ${v}`;
      const fractions: [string, number][] = [
        ['lr-floor', a['lr-floor'] as number],
        ['anneal-fraction', a['anneal-fraction'] as number],
        ['margin-after', (a['margin-after'] as number | undefined) ?? 0],
        ['transition-after', a['transition-after'] as number],
        ['focus-after', a['focus-after'] as number],
      ];
      for (const [name, v] of fractions) if (!(v >= 0 && v <= 1)) return `--${name} must be in [0, 1], got ${v}`;
      if (a.arch === 'cmru-relaxed' && !((a.eps as number) > 0 && (a.eps as number) < 1))
        return `--eps must be in (0, 1) for --arch cmru-relaxed (0 is bmru, 1 is cmru), got ${a.eps}`;
      const nonNeg: [string, number][] = [
        ['weight-decay', a['weight-decay'] as number],
        ['input-noise', a['input-noise'] as number],
        ['candidate-noise', a['candidate-noise'] as number],
        ['margin', a['margin'] as number],
        ['margin-weight', a['margin-weight'] as number],
        ['transition-margin', a['transition-margin'] as number],
        ['transition-weight', a['transition-weight'] as number],
        ['select-slack', a['select-slack'] as number],
        ['focus-margin', a['focus-margin'] as number],
        ['focus-weight', a['focus-weight'] as number],
        ['current-weight', a['current-weight'] as number],
      ];
      for (const v of String(a['build-at'])
        .split(',')
        .filter((x) => x.trim() !== ''))
        if (!(Number(v) > 0) || !Number.isFinite(Number(v)))
          return `--build-at must be currents in A (> 0), comma-separated, got '${v}'`;
      const cap = a['current-cap'] as number;
      if (!(cap > 0 && Number.isFinite(cap))) return `--current-cap must be a number > 0, got ${cap}`;
      for (const [name, v] of nonNeg)
        if (!(v >= 0) || !Number.isFinite(v)) return `--${name} must be a number >= 0, got ${v}`;
      return true;
    })
    .example(
      '$0 kws-data --features "" && $0 train',
      'make the synthetic set (~1 min), then train the width-4 network on it (~30 s)',
    )
    .example(
      '$0 train -o models/kws/kws-w4.json --unit-current 2.5e-10',
      'the shipped model: 97% on its 181 test clips, for a 250 pA I_unit circuit',
    )
    .example('$0 train --width 8 -o models/kws-w8.json', 'the width-8 network')
    .example('$0 train --anneal --epochs 300 --seed 2', 'cumulative-to-BMRU annealing, longer, another seed')
    .example('$0 train --arch cmru -o out/cmru.json', 'the cumulative model (software only: bmru simulate runs it)')
    .example(
      '$0 train --arch cmru --anneal -o out/annealed.json',
      'a CMRU annealed to the BMRU: an fq-bmru file for the circuit',
    )
    .example(
      '$0 train -o out/kws.json && $0 simulate -m out/kws.json -i clip.csv',
      'then run the trained model on a clip (bmru features <clip.wav> -o clip.csv)',
    )
    .epilogue(
      [
        'Network (DESIGN §1): pre-projection 13 -> H, L blocks of (candidate FC, H FQ-BMRU cells with hysteresis, post FC, skip),',
        'classifier H -> C per frame, C the classes of the features file (2: other, keyword; with features --keywords:',
        '_silence_, _unknown_, the keywords); a clip is the class most of its frames vote for (ties go to class 0).',
        'Reported per class: accuracy and the confusion matrix (terminal, report.json, training.html).',
        '',
        'Training: per-frame softmax cross-entropy averaged over frames and clips; backpropagation through the 101 frames',
        'with the exact forward pass and an arctan surrogate for the cell steps (an OFF cell learns from beta_hi, an ON cell',
        'from beta_lo); AdamW, warm-up + cosine decay, global-norm clipping. After every step the parameters are clamped',
        `to what the circuit realises: |W| <= ${LIMITS.weight} (mirror width ratio), |bias| <= ${LIMITS.bias} and alpha, beta_lo, delta <= ${LIMITS.cell} units,`,
        `beta_lo >= ${LIMITS.betaLoMin} units (10x the cell's OFF leakage); and the loss adds a penalty on currents beyond --current-cap.`,
        'The checkpoint with the best validation accuracy (then loss) is kept; the test split is only scored.',
        "--anneal: the gradient through time starts as the cumulative update's (CMRU: 1 at every frame) and falls",
        "linearly to the BMRU's (1 only where the state holds); the states are the exact BMRU ones throughout.",
        '--arch cmru / cmru-relaxed: the forward pass is the cumulative update s_t = a_t s_{t-1} + z_t ((1 + eps) y_t - eps),',
        'a_t = (1 - z_t) + eps z_t (z_t = 1 outside the hysteresis band, y_t = [c >= beta_hi]): the CMRU counts at eps = 1,',
        'the relaxed CMRU leaks; with --anneal eps falls to 0 (the BMRU) and only eps = 0 checkpoints are kept.',
        '',
        'Writes <out> (cell_params "realised": alpha, beta1, delta >= 0, s0 0/1), and beside it <stem>.report.json',
        '(options, scores, parameter and current ranges, history), <stem>.loss.csv (one row per epoch), <stem>.loss.svg',
        '(loss curve) and <stem>.training.html (loss and accuracy). Progress (epoch, loss, accuracies, ETA) on stderr.',
        'Reproducible: the same features file, options and seed give the same model, byte for byte.',
      ].join('\n'),
    );
}

interface Args {
  features: string;
  out: string;
  width: number;
  blocks: number;
  skip: boolean;
  epochs: number;
  batchSize: number;
  lr: number;
  warmupSteps: number;
  lrFloor: number;
  weightDecay: number;
  clipNorm: number;
  surrogateWidth: number;
  arch: 'bmru' | 'cmru' | 'cmru-relaxed';
  eps: number;
  anneal: boolean;
  annealFraction: number;
  inputNoise: number;
  candidateNoise: number;
  margin: number;
  marginWeight: number;
  marginAfter?: number;
  transitionMargin: number;
  transitionWeight: number;
  transitionAfter: number;
  currentCap: number;
  currentWeight: number;
  unitCurrent: number;
  process: string;
  kit?: string;
  buildAt: string;
  quiet: boolean;
  hardwareSelect: boolean;
  silenceGuard: boolean;
  selectSlack: number;
  selectBy: 'hardware' | 'mismatch';
  selectDraws: number;
  weightGrid: boolean;
  mismatchNoise: number;
  realiseAfter: number;
  mismatchRamp: number;
  realiseWhenAlive: boolean;
  seed: number;
  init?: string;
  checkpoints?: string;
  focusMargin: number;
  focusWeight: number;
  focusEvery: number;
  focusAfter: number;
}

/** A model to start from must have the shape being trained (the flags, the features file's MFCCs and classes). */
export function checkInitShape(
  net: Network,
  a: Pick<Args, 'width' | 'blocks' | 'skip'>,
  data: Pick<TrainingData, 'features' | 'classes'>,
  file: string,
): void {
  const have = `F=${net.inputs} H=${net.width} S=${net.cells} L=${net.blocks.length} C=${net.classes} skip=${net.skip}`;
  const want = `F=${data.features} H=${a.width} S=${a.width} L=${a.blocks} C=${data.classes.length} skip=${a.skip}`;
  if (have !== want)
    throw new InputError(
      `has shape ${have}, training needs ${want} (set --width, --blocks, --skip to match; C is the features file's class count: ${data.classes.join(', ')})`,
      { file },
    );
}

/** Paths of everything a run writes, beside the model file. */
export function outputPaths(out: string) {
  const stem = out.replace(/\.(json|safetensors)$/, '');
  return {
    model: out,
    report: `${stem}.report.json`,
    csv: `${stem}.loss.csv`,
    svg: `${stem}.loss.svg`,
    html: `${stem}.training.html`,
  };
}

export async function handler(a: Args): Promise<void> {
  const data = await loadTrainingData(a.features);
  const init = a.init ? await loadModel(a.init) : undefined;
  if (init && a.init) checkInitShape(init, a, data, a.init);
  const processes = await trainProcesses(a);
  const cellLimits = processes.length > 0 ? processCellLimits(processes, [a.unitCurrent, ...buildAt(a)]) : undefined;
  const arch = a.arch === 'bmru' ? 'fq-bmru' : a.arch;
  // Hardware selection scores circuits, and only a BMRU has one.
  const bmruOut = arch === 'fq-bmru' || a.anneal;
  const score =
    a.hardwareSelect && bmruOut && processes.length > 0 && data.splits.validation.length > 0
      ? a.selectBy === 'mismatch'
        ? mismatchStability(processes, data, data.splits.validation, a.selectDraws)
        : hardwareAgreement(processes, data, data.splits.validation)
      : undefined;
  const options: TrainOptions = {
    width: a.width,
    blocks: a.blocks,
    skip: a.skip,
    epochs: a.epochs,
    batchSize: a.batchSize,
    lr: a.lr,
    warmupSteps: a.warmupSteps,
    lrFloor: a.lrFloor,
    clipNorm: a.clipNorm,
    weightDecay: a.weightDecay,
    seed: a.seed,
    surrogateWidth: a.surrogateWidth,
    arch,
    eps: a.eps,
    anneal: a.anneal,
    annealFraction: a.annealFraction,
    inputNoise: a.inputNoise,
    candidateNoise: a.candidateNoise,
    margin: a.margin,
    marginWeight: a.marginWeight,
    marginAfter: a.marginAfter ?? defaultMarginAfter(data.classes.length),
    transitionMargin: a.transitionMargin,
    transitionWeight: a.transitionWeight,
    transitionAfter: a.transitionAfter,
    cellLimits,
    hardwareScore: score && ((net: Network) => score({ ...net, unitCurrentA: a.unitCurrent })),
    selectSlack: a.selectSlack,
    realisations: a.weightGrid ? processes.map(({ process }) => paramRealisation(process)) : undefined,
    mismatchNoise: a.mismatchNoise,
    realiseAfter: a.realiseAfter,
    mismatchRamp: a.mismatchRamp,
    realiseWhenAlive: a.realiseWhenAlive,
    currentCap: a.currentCap,
    currentWeight: a.currentWeight,
    init,
    silenceGuard: a.silenceGuard,
    focus: focusOptions(a, processes, data),
  };
  if (a.mismatchNoise > 0 && !options.realisations?.length)
    throw new InputError('--mismatch-noise needs --weight-grid and a --process to draw the mismatch of');
  const { train, validation, test } = data.splits;
  console.error(
    `training width ${a.width}, ${a.blocks} blocks on ${a.features}: ${train.length} train / ${validation.length} validation / ${test.length} test clips`,
  );
  const p = progress('train', a.quiet);
  const r = await trainNetwork(data, options, (rec, etaS) => {
    const val = rec.validation ? `, val ${pct(rec.validation.accuracy, 1)}` : '';
    p.update(
      `epoch ${rec.epoch}/${a.epochs}: loss ${rec.trainLoss.toFixed(4)}, train ${pct(rec.train.accuracy, 1)}${val}, ETA ${Math.round(etaS)} s`,
    );
  }).catch((e: unknown) => {
    p.stop();
    throw e;
  });
  p.done(`${a.epochs} epochs in ${r.elapsedS.toFixed(1)} s, kept epoch ${r.bestEpoch}`);

  const files = outputPaths(a.out);
  await makeDir(path.dirname(path.resolve(a.out)));
  // The features file's name only: with its folder the model file would differ by where training ran.
  const archName = { 'fq-bmru': 'FQ-BMRU', cmru: 'CMRU', 'cmru-relaxed': `relaxed CMRU (eps ${a.eps})` }[
    r.network.arch
  ];
  const task =
    data.classes.length === 2
      ? `'${data.keyword}' vs others`
      : `${data.classes.length} classes (${data.classes.join(', ')})`;
  const description = `${archName}${a.anneal && arch !== 'fq-bmru' ? ` (annealed from ${a.arch})` : ''} keyword spotter ${task}, width ${a.width}, ${a.blocks} blocks, trained by bmru train (seed ${a.seed}, epoch ${r.bestEpoch} of ${a.epochs}) on ${path.basename(a.features)}; test accuracy ${r.scores.test ? pct(r.scores.test.accuracy) : 'n/a'}`;
  await saveModel({ ...r.network, unitCurrentA: a.unitCurrent }, a.out, description);
  await writeFileAtomic(files.report, JSON.stringify(trainingReport(a, options, data, r), null, 1) + '\n');
  await writeFileAtomic(files.csv, csvText(historyCsvRows(r.history)));
  const title = `bmru train: width ${a.width}, ${a.blocks} blocks, seed ${a.seed}`;
  await writePlot(files.svg, await lossPlot(r.history, title));
  await writePlot(
    files.html,
    await trainingPage(
      r.history,
      title,
      `Kept epoch ${r.bestEpoch} (${keptRule(r, a.selectBy)}). ${a.features}`,
      confusionSections(r, data.classes),
    ),
  );

  if (a.checkpoints) console.log(await writeCheckpoints(a.checkpoints, r, options, a, data));
  console.log(scoreTable(r));
  console.log(classTable(r, data.classes));
  const last = r.scores.test ?? r.scores.validation ?? r.scores.train!;
  const lastName = r.scores.test ? 'test' : r.scores.validation ? 'validation' : 'train';
  console.log(
    `${lastName} confusion (rows: true class, columns: decision):\n${confusionTable(last.confusion, data.classes)}`,
  );
  if (r.hardware) {
    const kept = r.hardware.find((h) => h.epoch === r.bestEpoch)!;
    const scores = r.hardware.map((h) => h.score);
    const range = `${pct(Math.min(...scores))} .. ${pct(Math.max(...scores))}`;
    const what =
      a.selectBy === 'mismatch'
        ? `their validation decisions hold on ${range} of ${a.selectDraws} Monte Carlo chips x clips (worst process)`
        : `their circuits follow them on ${range} of validation unit-frames (worst process)`;
    console.log(
      `${a.selectBy === 'mismatch' ? 'mismatch-aware' : 'hardware-aware'} selection on ${a.process}: ${r.hardware.length} checkpoints within ${pct(a.selectSlack)} of the best validation accuracy; ${what}; kept epoch ${r.bestEpoch} (${pct(kept.score)})`,
    );
  }
  if (r.focus.length > 0)
    console.log(
      `margin focus: the circuits left the network on ${r.focus.map((f) => f.unitFrames).join(', ')} training unit-frames at epochs ${r.focus.map((f) => f.epoch).join(', ')}`,
    );
  console.log(silenceLine(r, data.classes, a.silenceGuard));
  console.log(
    `kept epoch ${r.bestEpoch} of ${a.epochs} (${keptRule(r, a.selectBy)}); ${r.elapsedS.toFixed(1)} s of training`,
  );
  console.log(`wrote ${files.model}, ${files.report}, ${files.csv}, ${files.svg}, ${files.html}`);
}

/** `--focus-margin`'s options, or undefined when it is 0; it needs a --process whose circuits mark the disagreements. */
function focusOptions(
  a: Pick<Args, 'focusMargin' | 'focusWeight' | 'focusEvery' | 'focusAfter' | 'unitCurrent'>,
  processes: readonly { process: Process; calibration?: Calibration }[],
  data: TrainingData,
): TrainOptions['focus'] {
  if (a.focusMargin === 0) return undefined;
  if (processes.length === 0)
    throw new InputError('--focus-margin needs a --process whose circuits mark where they leave the network', {
      field: 'process',
    });
  const disagreements = hardwareDisagreements(processes, data);
  return {
    flagsOf: (net, clips) => disagreements({ ...net, unitCurrentA: a.unitCurrent }, clips),
    every: a.focusEvery,
    after: a.focusAfter,
    margin: a.focusMargin,
    weight: a.focusWeight,
  };
}

/** Every checkpoint of `r` as a model file in `dir`, and checkpoints.csv; returns the line that says so. */
async function writeCheckpoints(
  dir: string,
  r: TrainResult,
  o: TrainOptions,
  a: Pick<Args, 'epochs' | 'seed' | 'unitCurrent'>,
  data: Pick<TrainingData, 'frames' | 'classes'>,
): Promise<string> {
  await makeDir(dir);
  const digits = String(a.epochs).length;
  const scores = new Map((r.hardware ?? []).map((h) => [h.epoch, h.score]));
  // The forward pass the file describes (trainer.ts: a checkpoint of an annealed run is at eps = 0).
  const eps = trainedArch(o).arch === 'fq-bmru' ? 0 : forwardEpsAt(0, 1, o);
  const rows: (string | number)[][] = [['epoch', 'accuracy', 'loss', 'score', 'kept', 'silence', 'file']];
  for (const c of r.checkpoints) {
    const file = `epoch-${String(c.epoch).padStart(digits, '0')}.json`;
    const net = { ...realisedNetwork(r.layout, c.theta), ...trainedArch(o), unitCurrentA: a.unitCurrent };
    const description = `checkpoint of bmru train (seed ${a.seed}): epoch ${c.epoch} of ${a.epochs}, validation accuracy ${pct(c.acc)}; kept: epoch ${r.bestEpoch}`;
    await saveModel(net, path.join(dir, file), description);
    // What it decides for all-zero features: the silence guard leaves out a checkpoint that decides a keyword.
    const silence = data.classes[silentDecision(net, data.frames, eps)];
    rows.push([c.epoch, c.acc, c.loss, scores.get(c.epoch) ?? '', c.epoch === r.bestEpoch ? 1 : 0, silence, file]);
  }
  await writeFileAtomic(path.join(dir, 'checkpoints.csv'), csvText(rows));
  return `wrote ${r.checkpoints.length} checkpoints and checkpoints.csv to ${dir}`;
}

/** What the kept model decides for a digitally silent clip, and what the guard did. */
export function silenceLine(r: Pick<TrainResult, 'silence'>, classes: readonly string[], guard: boolean): string {
  const { decision, keyword, excluded, changed } = r.silence;
  const head = `a digitally silent clip (all-zero features) is decided '${classes[decision]}'`;
  if (!guard) return `${head}${keyword ? ': a keyword (the silence guard was off)' : ''}`;
  if (keyword)
    return `WARNING: ${head}, a keyword: every checkpoint decided a keyword on silence, so the guard could not hold`;
  const note =
    excluded === 0
      ? 'no checkpoint decided a keyword'
      : `${excluded} checkpoints that decided a keyword were left out${changed ? ', which changed the kept one' : ''}`;
  return `${head} (silence guard: ${note})`;
}

/** How the kept checkpoint was chosen, in words. */
function keptRule(r: TrainResult, selectBy: Args['selectBy']): string {
  if (!r.hardware) return 'best validation accuracy, then loss';
  return selectBy === 'mismatch'
    ? 'fewest validation decisions flipped by mismatch (software Monte Carlo of each process), among checkpoints near the best validation accuracy'
    : 'circuits follow it best, by the hardware-aware model on the validation clips, among checkpoints near the best validation accuracy';
}

/** The final scores as a table, one row per split; 2-class: with keyword hits and false alarms. */
function scoreTable(r: TrainResult): string {
  const rows = (['train', 'validation', 'test'] as SplitName[]).flatMap((name) => {
    const s = r.scores[name];
    if (!s) return [];
    const row = [name, s.clips, pct(s.accuracy), pct(s.frameAccuracy), s.loss.toFixed(4)];
    if (s.confusion.length !== 2) return [row];
    const hits = `${s.confusion[1][1]}/${s.confusion[1][0] + s.confusion[1][1]}`;
    return [[...row, hits, `${s.confusion[0][1]}/${s.confusion[0][0] + s.confusion[0][1]}`]];
  });
  const binary = (r.scores.train ?? r.scores.test)?.confusion.length === 2;
  return table(
    ['split', 'clips', 'clip accuracy', 'frame accuracy', 'loss', ...(binary ? ['keyword hits', 'false alarms'] : [])],
    rows,
  );
}

/** Per class and split: the fraction of the class's clips decided as it. */
function classTable(r: TrainResult, classes: readonly string[]): string {
  const splits = (['train', 'validation', 'test'] as SplitName[]).filter((n) => r.scores[n]);
  const rows = classes.map((c, k) => [
    c,
    ...splits.map((n) => {
      const s = r.scores[n]!;
      const acc = s.perClass[k];
      return acc === null ? '-' : `${pct(acc, 1)} of ${s.confusion[k].reduce((a, v) => a + v, 0)}`;
    }),
  ]);
  return table(['class', ...splits.map((n) => `${n} accuracy`)], rows);
}

/** The kept checkpoint's confusion matrices (validation and test) as HTML tables for training.html. */
function confusionSections(r: TrainResult, classes: readonly string[]) {
  return (['validation', 'test'] as SplitName[])
    .flatMap((n) => {
      const s = r.scores[n];
      return s
        ? [{ heading: `Confusion, ${n} split (${s.clips} clips, ${pct(s.accuracy)})`, matrix: s.confusion }]
        : [];
    })
    .map((x) => ({ ...x, classes }));
}

/** Everything needed to judge and reproduce the run (the report JSON). */
function trainingReport(a: Args, o: TrainOptions, data: TrainingData, r: TrainResult) {
  const keyword = data.keyword;
  const scores = Object.fromEntries(Object.entries(r.scores).filter(([, s]) => s !== undefined)) as Record<
    string,
    SplitScore
  >;
  return {
    format: 'bmru-train-report/1',
    command: `bmru ${process.argv.slice(2).join(' ')}`,
    features: a.features,
    clips: {
      train: data.splits.train.length,
      validation: data.splits.validation.length,
      test: data.splits.test.length,
      frames: data.frames,
      features: data.features,
    },
    keyword,
    classes: data.classes,
    confusion:
      'scores.<split>.confusion[target][decision] clips; scores.<split>.perClass[k]: fraction of class k decided as k',
    model: a.out,
    options: { ...o, init: a.init },
    limits: LIMITS,
    decision: 'majority vote of per-frame argmax, ties to class 0 (src/model/network.ts)',
    bestEpoch: r.bestEpoch,
    scores,
    parameters: parameterStats(r.network),
    currents: signalStats(r.network, data, data.splits.train),
    trainingTimeS: Number(r.elapsedS.toFixed(2)),
    machine: { node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? '' },
    hardwareSelection: r.hardware,
    focusMarks: r.focus.length > 0 ? r.focus : undefined,
    selectBy: r.hardware
      ? { rule: a.selectBy, ...(a.selectBy === 'mismatch' ? { draws: a.selectDraws } : {}) }
      : undefined,
    silence: { ...r.silence, class: data.classes[r.silence.decision] },
    history: historyCsvRows(r.history),
  };
}

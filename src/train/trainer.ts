/**
 * The training loop: seeded mini-batches of clips, per-frame cross-entropy, surrogate-gradient BPTT
 * (bptt.ts), AdamW with warm-up + cosine decay and gradient-norm clipping (optim.ts), a projection into the
 * circuit's realisable ranges after every step, optional annealing from the cumulative (CMRU) gradient to
 * the pure BMRU, and the checkpoint with the best validation accuracy. `arch` trains the cumulative family itself
 * (src/model/arch.ts): the CMRU or relaxed CMRU forward pass, which `anneal` then takes to the pure BMRU.
 */
import { argmax, majority } from '../model/network.js';
import { type ModelArch } from '../model/arch.js';
import type { CellThresholds, Network } from '../model/types.js';
import { isKeywordClass } from '../audio/dataset.js';
import { confusionMatrix, perClassAccuracy } from '../util/confusion.js';
import { createRng, type Rng } from '../util/random.js';
import {
  allocScratch,
  allocTape,
  backwardClip,
  currentPenalty,
  forwardClip,
  frameCrossEntropy,
  marginPenalty,
  transitionPenalty,
  networkThresholds,
  type GradOptions,
  type Tape,
} from './bptt.js';
import type { SplitName, TrainingData } from './data.js';
import { DEFAULT_ADAMW, adamwStep, clipGradNorm, cosineLr, createAdamW, decayMask, projectToLimits } from './optim.js';
import {
  initParams,
  paramLayout,
  paramsFromNetwork,
  rawNetworkView,
  realisedNetwork,
  type ParamLayout,
} from './params.js';
import { DEFAULT_SURROGATE_WIDTH } from './surrogate.js';
import { projectCells, realiseParams, type CellLimits, type ParamRealisation } from './hardware.js';

/** Everything that decides a training run (with the seed, the same options give the same model). */
export interface TrainOptions {
  /** H: model width (= cells per block). */
  readonly width: number;
  /** L: recurrent blocks. */
  readonly blocks: number;
  readonly skip: boolean;
  readonly epochs: number;
  /** Clips per optimiser step. */
  readonly batchSize: number;
  /** Peak learning rate (after warm-up). */
  readonly lr: number;
  /** Linear warm-up steps. */
  readonly warmupSteps: number;
  /** Final learning rate as a fraction of the peak. */
  readonly lrFloor: number;
  /** Maximum global gradient L2 norm. */
  readonly clipNorm: number;
  readonly weightDecay: number;
  readonly seed: number;
  /** Surrogate width in units of I_unit (surrogate.ts). */
  readonly surrogateWidth: number;
  /**
   * The cell update trained (src/model/arch.ts): 'fq-bmru' (default), 'cmru' (eps = 1) or 'cmru-relaxed' (`eps`).
   */
  readonly arch: ModelArch;
  /** eps of the relaxed CMRU's forward pass, in (0, 1); ignored for the other archs. */
  readonly eps: number;
  /**
   * 'fq-bmru': anneal the gradient through time from the cumulative update (eps = 1) to the pure BMRU (eps = 0), the
   * forward pass staying the BMRU's. 'cmru' / 'cmru-relaxed': anneal the forward pass's eps from the arch's to 0, so the
   * model ends as a pure BMRU (an fq-bmru file).
   */
  readonly anneal: boolean;
  /** Fraction of the steps over which eps falls linearly to 0 (then pure BMRU). */
  readonly annealFraction: number;
  /** Standard deviation of Gaussian noise added to the (normalised) training inputs; 0 = none. */
  readonly inputNoise: number;
  /** Standard deviation (units of I_unit) of Gaussian noise on every candidate current while training (bptt.ts); 0 = none. */
  readonly candidateNoise: number;
  /** Margin (units of I_unit) candidates should keep from the threshold deciding their state (bptt.ts `marginPenalty`); 0 = none. */
  readonly margin: number;
  /** Weight of the margin penalty relative to the per-frame cross-entropy. */
  readonly marginWeight: number;
  /**
   * Fraction of the steps trained without the margin penalty before it comes in (0: from the first step). A
   * margin from the first step kept a 6-class network on its plateau (docs/kws.md).
   */
  readonly marginAfter: number;
  /**
   * Margin (units of I_unit) the path between two frames should keep from the threshold a holding cell must not
   * cross (bptt.ts `transitionPenalty`); 0 = none.
   */
  readonly transitionMargin: number;
  /**
   * Fraction of the steps trained before the transition penalty comes in. From the first step it holds every cell
   * still (a width-4 run at weight 0.01 ended at the majority class, 55.8%): a constant state has no path to cross.
   */
  readonly transitionAfter: number;
  /** Weight of the transition penalty relative to the per-frame cross-entropy. */
  readonly transitionWeight: number;
  /** Penalise currents beyond this many units (bptt.ts `currentPenalty`); undefined = no penalty. */
  readonly currentCap?: number;
  /** Weight of that penalty relative to the per-frame cross-entropy; 0 = no penalty. */
  readonly currentWeight: number;
  /** Keep the cells inside what these processes' calibrated cells hold (hardware.ts); undefined = LIMITS only. */
  readonly cellLimits?: CellLimits;
  /**
   * Scores a checkpoint's exported network by how closely its circuit follows it (higher is better; hardware.ts
   * `hardwareAgreement` on the validation clips). With it, the kept checkpoint is the best-scoring one among those
   * whose validation accuracy is within `selectSlack` of the best; without it, the best validation accuracy.
   */
  readonly hardwareScore?: (net: Network) => number;
  /** Validation accuracy (fraction) a checkpoint may give up for a better hardware score. */
  readonly selectSlack: number;
  /**
   * Processes the forward pass realises the parameters on, one per step in turn (hardware.ts `realiseParams`):
   * weights through the width grid, and with `mismatchNoise` a fresh Pelgrom draw; the gradient updates the
   * parameters as trained (straight-through). Undefined = the parameters as they are.
   */
  readonly realisations?: readonly ParamRealisation[];
  /** Mismatch noise in multiples of the processes' Pelgrom sigmas (needs `realisations`); 0 = none. */
  readonly mismatchNoise: number;
  /**
   * Fraction of the steps trained on the parameters as they are before `realisations` take over: from the first
   * step, 3 of 9 keyword runs never left a dead network (every cell off: the majority class), docs/kws.md.
   */
  readonly realiseAfter: number;
  /**
   * Fraction of the steps over which the mismatch noise rises linearly from 0 (at the first realised step) to
   * `mismatchNoise`; 0 = full noise from the first realised step.
   */
  readonly mismatchRamp: number;
  /**
   * Realise only from the epoch after the trained network first beats every constant decision on the training
   * clips (accuracy above the majority class's share), and not before `realiseAfter`: the realised pass from the
   * first step left some seeds on the majority-class plateau every run starts on (docs/kws.md).
   */
  readonly realiseWhenAlive: boolean;
  /** Start from this network instead of a random one. */
  readonly init?: Network;
  /**
   * Keep only checkpoints that decide a digitally silent clip (all-zero features, what the per-clip normalisation
   * makes of a constant signal) as a class that triggers nothing (dataset.ts `isKeywordClass`); when none does,
   * the usual choice, reported (`TrainResult.silence`).
   */
  readonly silenceGuard: boolean;
  /**
   * Margin focus: from `after` of the steps, every `every` epochs, `flagsOf` marks on each training clip the
   * unit-frames where the circuit (the hardware-aware model of the realised network) has another state than the
   * network; until the next marking those take `margin` and `weight` in place of the usual margin penalty's
   * (bptt.ts `marginFocus`). Undefined = none.
   */
  readonly focus?: FocusOptions;
}

/** See `TrainOptions.focus`. */
export interface FocusOptions {
  readonly flagsOf: (net: Network, clips: Int32Array) => Map<number, Uint8Array[]>;
  readonly every: number;
  readonly after: number;
  readonly margin: number;
  readonly weight: number;
}

/**
 * Currents beyond this (units of I_unit) are penalised by default: the reference mirrors are unity-gain for
 * 0.1-3 nA (DESIGN §3). On the large synthetic set the penalty brings the largest candidate from ~20 to
 * ~6 units at no measurable cost in accuracy.
 */
export const DEFAULT_CURRENT_CAP = 3;

/**
 * Defaults chosen on the synthetic sets (bmru kws-data; README "Training" has the runs): lr 0.01 with
 * 16-clip batches plateaus after ~60-100 epochs; gradient norms run 1-5, so the clip at 1 bounds every step;
 * a larger lr, batch, surrogate width or weight decay, and input noise, moved test accuracy by less than
 * its seed-to-seed spread. Margin 0.2 units at weight 0.3: on the 181 test clips the hardware-aware models of both
 * kits disagree with the trained states on 148-255 unit-frames (seeds 1-3, with the processes' cell limits) instead
 * of 1678 (c180) / 2411 (GF180MCU) without it; margin 0.05-0.15 or weight 0.01-0.1 left 414-1814, 0.3 units
 * (or weight 1) cost accuracy, and candidate noise (0.02-0.2 units) did not help (docs/kws.md).
 */
export const DEFAULT_TRAIN: TrainOptions = {
  width: 4,
  blocks: 2,
  skip: true,
  epochs: 120,
  batchSize: 16,
  lr: 0.01,
  warmupSteps: 50,
  lrFloor: 0.02,
  clipNorm: 1,
  weightDecay: DEFAULT_ADAMW.weightDecay,
  seed: 1,
  surrogateWidth: DEFAULT_SURROGATE_WIDTH,
  arch: 'fq-bmru',
  eps: 0.5,
  anneal: false,
  annealFraction: 0.6,
  inputNoise: 0,
  candidateNoise: 0,
  margin: 0.2,
  marginWeight: 0.3,
  marginAfter: 0,
  transitionMargin: 0,
  transitionWeight: 0,
  transitionAfter: 0.3,
  currentCap: DEFAULT_CURRENT_CAP,
  currentWeight: 0.01,
  selectSlack: 0.01,
  mismatchNoise: 0,
  realiseAfter: 0.2,
  mismatchRamp: 0,
  realiseWhenAlive: false,
  silenceGuard: true,
};

/**
 * When the margin penalty comes in for N-class training (more than 2 classes): after 30% of the steps. From the first
 * step (the 2-class default) it kept a 6-class width-8 run on its plateau (test 39.7-40.9%, per-frame loss 1.67
 * against ln 6 = 1.79); without a margin the run reached 66.7% but its hardware-aware models differed from it on
 * 2.8-5.7% of test unit-frames; faded in after 30% it reached 69.0% with 0.9-1.5% (seed 1, docs/kws.md).
 */
export const N_CLASS_MARGIN_AFTER = 0.3;

/** The default `marginAfter` for a set of `classes` classes: DEFAULT_TRAIN's for 2, N_CLASS_MARGIN_AFTER for more. */
export function defaultMarginAfter(classes: number): number {
  return classes > 2 ? N_CLASS_MARGIN_AFTER : DEFAULT_TRAIN.marginAfter;
}

/** Mixed into the seed of the candidate-noise stream so it shares no stream with any seed's order or input noise. */
const CANDIDATE_STREAM = 0x5bd1e995;
/** Mixed into the seed of the mismatch-noise stream, for the same reason. */
const MISMATCH_STREAM = 0x27d4eb2f;

/** Scores of one split under the clip decision (majority vote of per-frame argmax, DESIGN §1). */
export interface SplitScore {
  readonly clips: number;
  /** Fraction of clips whose decision equals the target. */
  readonly accuracy: number;
  /** Fraction of frames whose argmax equals the clip's target. */
  readonly frameAccuracy: number;
  /** Mean per-frame cross-entropy (nats). */
  readonly loss: number;
  /** `confusion[target][decision]` clips (util/confusion.ts); 2-class: [[other as other, other as keyword], [keyword as other, keyword as keyword]]. */
  readonly confusion: number[][];
  /** Per class (the features file's classes): fraction of its clips decided as it; null for a class with no clip. */
  readonly perClass: (number | null)[];
}

/** One epoch of the history (what loss.csv holds). */
export interface EpochRecord {
  readonly epoch: number;
  readonly steps: number;
  /** Learning rate at the epoch's last step. */
  readonly lr: number;
  /** eps of the cumulative gradient at the epoch's last step (0 = pure BMRU). */
  readonly cumulative: number;
  /** eps of the forward pass's cell update at the epoch's last step (0 = pure BMRU; arch 'cmru' / 'cmru-relaxed'). */
  readonly forwardEps: number;
  /** Mean per-frame cross-entropy over the epoch's batches (as trained: with input noise, before the epoch's updates). */
  readonly trainLoss: number;
  /** Mean per-frame current penalty over the epoch's batches (0 without a current cap). */
  readonly penalty: number;
  readonly train: SplitScore;
  readonly validation?: SplitScore;
  /** Mean gradient norm before clipping. */
  readonly gradNorm: number;
  /** Parameter values clamped to the realisable limits during the epoch. */
  readonly clamped: number;
  readonly elapsedS: number;
}

export interface TrainResult {
  /** The selected checkpoint as the exported model ('realised' cell parameters). */
  readonly network: Network;
  readonly layout: ParamLayout;
  /** Raw parameters of the selected checkpoint. */
  readonly theta: Float64Array;
  readonly history: readonly EpochRecord[];
  /** Epoch of the selected checkpoint (best validation accuracy, then lowest validation loss; the last without a validation split). */
  readonly bestEpoch: number;
  /** With a hardware score: every checkpoint it scored (validation accuracy within the slack of the best). */
  readonly hardware?: readonly HardwareScored[];
  /** Every checkpoint the selection chose among, in epoch order (realise one with `realisedNetwork(layout, theta)`). */
  readonly checkpoints: readonly Checkpoint[];
  /** With `focus`: the epochs the circuit's disagreements were marked at, and how many unit-frames each marked. */
  readonly focus: readonly { readonly epoch: number; readonly unitFrames: number }[];
  readonly scores: Record<SplitName, SplitScore | undefined>;
  /** What the kept checkpoint decides for a digitally silent clip, and what the guard did for it. */
  readonly silence: SilenceCheck;
  readonly elapsedS: number;
}

/** The kept model's decision on a digitally silent clip (`silentDecision`). */
export interface SilenceCheck {
  /** Class index decided for all-zero features. */
  readonly decision: number;
  /** True when that class is a keyword: the guard was off or no checkpoint passed it. */
  readonly keyword: boolean;
  /** Checkpoints the guard left out because they decided a keyword (0 without the guard). */
  readonly excluded: number;
  /** True when the guard kept another checkpoint than the usual rule would have. */
  readonly changed: boolean;
}

/**
 * Called after every epoch; `etaS` is the remaining time estimated from the epochs so far, `net` the current
 * parameters (a raw-convention view: copy what you keep, the next step overwrites it).
 */
export type EpochCallback = (rec: EpochRecord, etaS: number, net: Network) => void;

/** eps of the cumulative gradient at `step` of `total` (1 -> 0 linearly over annealFraction, then 0). */
export function cumulativeAt(step: number, total: number, o: Pick<TrainOptions, 'anneal' | 'annealFraction'>): number {
  if (!o.anneal) return 0;
  const end = o.annealFraction * total;
  return end > 0 ? Math.max(0, 1 - step / end) : 0;
}

/** eps of the forward pass at `step` of `total`: the arch's eps, falling linearly to 0 when annealing. */
export function forwardEpsAt(
  step: number,
  total: number,
  o: Pick<TrainOptions, 'arch' | 'eps' | 'anneal' | 'annealFraction'>,
): number {
  const start = o.arch === 'fq-bmru' ? 0 : o.arch === 'cmru' ? 1 : o.eps;
  return start * (o.anneal ? cumulativeAt(step, total, o) : 1);
}

/**
 * Mismatch noise (multiples of the Pelgrom sigmas) at `step` of `total`: 0 before the realised steps start
 * (`startStep`, by default `realiseAfter` of the steps), then rising linearly over `mismatchRamp` of the steps to
 * `mismatchNoise`, which it keeps.
 */
export function mismatchNoiseAt(
  step: number,
  total: number,
  o: Pick<TrainOptions, 'mismatchNoise' | 'realiseAfter' | 'mismatchRamp'>,
  startStep = o.realiseAfter * total,
): number {
  const start = startStep;
  if (step < start) return 0;
  const rampSteps = o.mismatchRamp * total;
  return rampSteps > 0 ? o.mismatchNoise * Math.min(1, (step - start) / rampSteps) : o.mismatchNoise;
}

/** The share of `clips` in their most common class: the best accuracy any constant decision reaches on them. */
export function majorityShare(target: ArrayLike<number>, clips: ArrayLike<number>): number {
  const counts = new Map<number, number>();
  let most = 0;
  for (let i = 0; i < clips.length; i++) {
    const n = (counts.get(target[clips[i]]) ?? 0) + 1;
    counts.set(target[clips[i]], n);
    most = Math.max(most, n);
  }
  return clips.length > 0 ? most / clips.length : 0;
}

/** Rejects options that cannot describe a model: a relaxed eps outside (0, 1), an anneal that never reaches eps = 0. */
export function checkArchOptions(o: TrainOptions, totalSteps: number): void {
  if (o.arch === 'cmru-relaxed' && !(o.eps > 0 && o.eps < 1))
    throw new RangeError(`eps of arch 'cmru-relaxed' must be in (0, 1), got ${o.eps}`);
  if (o.arch !== 'fq-bmru' && o.anneal && forwardEpsAt(totalSteps - 1, totalSteps, o) !== 0)
    throw new RangeError(
      `annealing arch '${o.arch}' must reach eps = 0 before the last step (the model is written as fq-bmru): ` +
        `anneal fraction ${o.annealFraction} of ${totalSteps} steps does not`,
    );
}

/** The arch a run's model is written as: the pure BMRU once annealed, else the trained one. */
export function trainedArch(o: Pick<TrainOptions, 'arch' | 'eps' | 'anneal'>): { arch: ModelArch; eps?: number } {
  if (o.arch === 'fq-bmru' || o.anneal) return { arch: 'fq-bmru' };
  return o.arch === 'cmru' ? { arch: 'cmru' } : { arch: 'cmru-relaxed', eps: o.eps };
}

/**
 * Train a network on `data` (train split; the validation split picks the checkpoint; the test split is only
 * scored). Async so a progress line can redraw between epochs.
 */
export async function trainNetwork(
  data: TrainingData,
  options: Partial<TrainOptions> = {},
  onEpoch?: EpochCallback,
): Promise<TrainResult> {
  const o: TrainOptions = { ...DEFAULT_TRAIN, ...options };
  const started = performance.now();
  // One output per class of the features file (2: other, keyword; N-class: silence, unknown, the keywords).
  const C = data.classes.length;
  const layout = paramLayout({
    inputs: data.features,
    width: o.width,
    blocks: o.blocks,
    classes: C,
    skip: o.skip,
  });
  const theta = o.init ? paramsFromNetwork(layout, o.init) : initParams(layout, o.seed);
  const net = rawNetworkView(layout, theta);
  const grad = new Float64Array(layout.size);
  const adam = createAdamW(layout.size);
  const decay = decayMask(layout);
  // A separate stream per purpose, so changing e.g. the noise level leaves the batch order alone.
  const orderRng = createRng(o.seed * 2 + 1);
  const noiseRng = createRng(o.seed * 2 + 2);
  // Not seed * 2 + 3: that is the next seed's order stream.
  const candidateRng = createRng((o.seed * 2 + 2) ^ CANDIDATE_STREAM);
  const mismatchRng = createRng((o.seed * 2 + 2) ^ MISMATCH_STREAM);
  if (o.mismatchNoise > 0 && !o.realisations?.length)
    throw new RangeError('mismatch noise needs the processes it is drawn for (TrainOptions.realisations)');
  // What the forward and backward pass see: theta itself, or its realisation on this step's process.
  const seen = o.realisations?.length ? new Float64Array(layout.size) : theta;
  const seenNet = seen === theta ? net : rawNetworkView(layout, seen);
  const train = Int32Array.from(data.splits.train);
  const stepsPerEpoch = Math.ceil(train.length / o.batchSize);
  const totalSteps = o.epochs * stepsPerEpoch;
  checkArchOptions(o, totalSteps);
  // The backward-only annealing is the BMRU's; the cumulative archs anneal their forward pass instead.
  const backwardAnneal = { ...o, anneal: o.anneal && o.arch === 'fq-bmru' };
  const tape = allocTape(net, data.frames);
  const scratch = allocScratch(net, data.frames);
  const dLogits = new Float64Array(data.frames * C);
  const clipSize = data.frames * data.features;
  const noisy = new Float64Array(clipSize);

  const history: EpochRecord[] = [];
  const checkpoints: Checkpoint[] = [];
  let step = 0;
  const constantBest = majorityShare(data.target, data.splits.train);
  // The first realised step: moved on (to the next epoch's first step) by realiseWhenAlive once the network is alive.
  let realiseFrom = o.realiseWhenAlive ? Infinity : o.realiseAfter * totalSteps;
  let focusFlags: Map<number, Uint8Array[]> | undefined;
  let focusFrom = Infinity;
  const focusMarks: { epoch: number; unitFrames: number }[] = [];
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    if (o.focus && step >= o.focus.after * totalSteps) {
      focusFrom = Math.min(focusFrom, epoch);
      if ((epoch - focusFrom) % o.focus.every === 0) {
        focusFlags = o.focus.flagsOf(realisedNetwork(layout, theta), data.splits.train);
        let unitFrames = 0;
        for (const flags of focusFlags.values()) for (const f of flags) for (const x of f) unitFrames += x;
        focusMarks.push({ epoch, unitFrames });
      }
    }
    shuffle(train, orderRng);
    let lossSum = 0;
    let penaltySum = 0;
    let normSum = 0;
    let clamped = 0;
    let lr = 0;
    let eps = 0;
    let fe = 0;
    for (let b = 0; b < stepsPerEpoch; b++, step++) {
      const batch = train.subarray(b * o.batchSize, Math.min(train.length, (b + 1) * o.batchSize));
      lr = cosineLr(step, totalSteps, o.lr, o.warmupSteps, o.lrFloor);
      eps = cumulativeAt(step, totalSteps, backwardAnneal);
      fe = forwardEpsAt(step, totalSteps, o);
      const gradOpts: GradOptions = {
        surrogateWidth: o.surrogateWidth,
        cumulative: eps,
        forwardEps: fe,
        currentCap: o.currentCap,
        // A CMRU's counter grows without bound and the cap's penalty then swamps the loss (a run at eps = 1 with the
        // default weight stayed at the majority class, docs/cmru.md): it comes in as eps falls to the BMRU.
        currentWeight: o.arch === 'cmru' ? o.currentWeight * (1 - fe) : o.currentWeight,
        candidateNoise: o.candidateNoise,
        noiseRng: candidateRng,
        margin: step >= o.marginAfter * totalSteps ? o.margin : 0,
        marginWeight: o.marginWeight,
        transitionMargin: step >= o.transitionAfter * totalSteps ? o.transitionMargin : 0,
        transitionWeight: o.transitionWeight,
      };
      const realised = o.realisations?.length && step >= realiseFrom;
      if (realised)
        realiseParams(
          layout,
          theta,
          o.realisations![step % o.realisations!.length],
          mismatchNoiseAt(step, totalSteps, o, realiseFrom),
          mismatchRng,
          seen,
        );
      const fwdNet = realised ? seenNet : net;
      const th = networkThresholds(fwdNet);
      grad.fill(0);
      let batchLoss = 0;
      let batchPenalty = 0;
      for (const clip of batch) {
        let inputs = data.data;
        let off = clip * clipSize;
        if (o.inputNoise > 0) {
          for (let i = 0; i < clipSize; i++) noisy[i] = data.data[off + i] + o.inputNoise * noiseRng.normal();
          inputs = noisy;
          off = 0;
        }
        const flags = focusFlags?.get(clip);
        const clipOpts: GradOptions = flags
          ? { ...gradOpts, marginFocus: { flags, margin: o.focus!.margin, weight: o.focus!.weight } }
          : gradOpts;
        forwardClip(fwdNet, th, inputs, off, tape, clipOpts);
        const scale = 1 / (data.frames * batch.length);
        batchLoss += frameCrossEntropy(tape.logits, data.frames, C, data.target[clip], scale, dLogits) / data.frames;
        batchPenalty +=
          (currentPenalty(tape, clipOpts) +
            marginPenalty(tape, th, clipOpts) +
            transitionPenalty(fwdNet, tape, th, clipOpts)) /
          data.frames;
        backwardClip(fwdNet, layout, th, inputs, off, tape, dLogits, grad, scratch, clipOpts, scale);
      }
      lossSum += batchLoss / batch.length;
      penaltySum += batchPenalty / batch.length;
      normSum += clipGradNorm(grad, o.clipNorm);
      adamwStep(adam, theta, grad, lr, decay, { ...DEFAULT_ADAMW, weightDecay: o.weightDecay });
      clamped += projectToLimits(layout, theta);
      if (o.cellLimits) clamped += projectCells(layout, theta, o.cellLimits);
    }
    const trainScore = scoreSplit(net, data, data.splits.train, tape, fe);
    if (realiseFrom === Infinity && trainScore.accuracy > constantBest)
      realiseFrom = Math.max(step, o.realiseAfter * totalSteps);
    const valScore =
      data.splits.validation.length > 0 ? scoreSplit(net, data, data.splits.validation, tape, fe) : undefined;
    const elapsedS = (performance.now() - started) / 1000;
    const rec: EpochRecord = {
      epoch,
      steps: step,
      lr,
      cumulative: eps,
      forwardEps: fe,
      trainLoss: lossSum / stepsPerEpoch,
      penalty: penaltySum / stepsPerEpoch,
      train: trainScore,
      validation: valScore,
      gradNorm: normSum / stepsPerEpoch,
      clamped,
      elapsedS,
    };
    history.push(rec);
    const acc = valScore?.accuracy ?? trainScore.accuracy;
    const loss = valScore?.loss ?? trainScore.loss;
    // Only checkpoints of the pure BMRU gradient count when annealing: eps does not change the forward pass,
    // but the run is described as annealed to the BMRU, so the model comes from that phase.
    // Annealing the forward pass changes the model: only checkpoints at eps = 0 are the BMRU the file says
    // (checkArchOptions makes sure the last epoch is one).
    const eligible = o.arch !== 'fq-bmru' && o.anneal ? fe === 0 : eps === 0 || epoch === o.epochs;
    if (eligible) checkpoints.push({ epoch, acc, loss, theta: theta.slice() });
    onEpoch?.(rec, (elapsedS / epoch) * (o.epochs - epoch), net);
    await new Promise((resolve) => setImmediate(resolve));
  }
  const written = trainedArch(o);
  const finalEps = written.arch === 'fq-bmru' ? 0 : forwardEpsAt(0, totalSteps, o);
  const keywords = new Set(data.classes.flatMap((name, k) => (isKeywordClass(name) ? [k] : [])));
  const silentOf = (c: Checkpoint) => silentDecision(rawNetworkView(layout, c.theta), data.frames, finalEps);
  const allowed = o.silenceGuard ? (c: Checkpoint) => !keywords.has(silentOf(c)) : undefined;
  const { best, hardware, excluded, changed } = selectCheckpoint(checkpoints, layout, o, allowed);
  theta.set(best.theta);
  const silentClass = silentOf(best);
  const scores = {
    train: scoreSplit(net, data, data.splits.train, tape, finalEps),
    validation:
      data.splits.validation.length > 0 ? scoreSplit(net, data, data.splits.validation, tape, finalEps) : undefined,
    test: data.splits.test.length > 0 ? scoreSplit(net, data, data.splits.test, tape, finalEps) : undefined,
  };
  return {
    network: { ...realisedNetwork(layout, theta), ...written },
    layout,
    theta: theta.slice(),
    history,
    bestEpoch: best.epoch,
    hardware,
    checkpoints,
    focus: focusMarks,
    scores,
    silence: { decision: silentClass, keyword: keywords.has(silentClass), excluded, changed },
    elapsedS: (performance.now() - started) / 1000,
  };
}

/** A checkpoint the hardware score ranked. */
export interface HardwareScored {
  readonly epoch: number;
  /** Validation accuracy (training accuracy without a validation split). */
  readonly accuracy: number;
  readonly score: number;
}

/** An epoch's parameters the selection may keep, with its validation accuracy (training accuracy without one) and loss. */
export interface Checkpoint {
  readonly epoch: number;
  readonly acc: number;
  readonly loss: number;
  readonly theta: Float64Array;
}

/**
 * The checkpoint to keep: the best validation accuracy, then the lowest loss; with `hardwareScore`, the best score
 * among checkpoints within `selectSlack` of that accuracy, then accuracy, then loss. With `allowed`, only the
 * checkpoints it accepts compete (all of them when it accepts none); `excluded` counts those it refused, `changed`
 * says whether that moved the choice.
 */
export function selectCheckpoint(
  all: readonly Checkpoint[],
  layout: ParamLayout,
  o: Pick<TrainOptions, 'hardwareScore' | 'selectSlack'>,
  allowed?: (c: Checkpoint) => boolean,
): { best: Checkpoint; hardware?: HardwareScored[]; excluded: number; changed: boolean } {
  const ok = allowed ? all.filter(allowed) : all;
  // Each checkpoint's hardware score once: the unguarded choice below scores mostly the same pool again.
  const scores = new Map<Checkpoint, number>();
  const scoreOf = o.hardwareScore
    ? (c: Checkpoint) => scores.get(c) ?? scores.set(c, o.hardwareScore!(realisedNetwork(layout, c.theta))).get(c)!
    : undefined;
  const kept = pickCheckpoint(ok.length > 0 ? ok : all, o.selectSlack, scoreOf);
  const changed =
    ok.length > 0 && ok.length < all.length && pickCheckpoint(all, o.selectSlack, scoreOf).best !== kept.best;
  return { ...kept, excluded: all.length - ok.length, changed };
}

function pickCheckpoint(
  checkpoints: readonly Checkpoint[],
  selectSlack: number,
  scoreOf?: (c: Checkpoint) => number,
): { best: Checkpoint; hardware?: HardwareScored[] } {
  const better = (a: Checkpoint, b: Checkpoint) => a.acc > b.acc || (a.acc === b.acc && a.loss < b.loss);
  const best = checkpoints.reduce((b, c) => (better(c, b) ? c : b));
  if (!scoreOf) return { best };
  // 1e-9: accuracies are ratios of clip counts; the slack is meant inclusive.
  const pool = checkpoints.filter((c) => c.acc >= best.acc - selectSlack - 1e-9);
  const scored = pool.map((c) => ({ c, score: scoreOf(c) }));
  const top = scored.reduce((b, x) => (x.score > b.score || (x.score === b.score && better(x.c, b.c)) ? x : b));
  return { best: top.c, hardware: scored.map((x) => ({ epoch: x.c.epoch, accuracy: x.c.acc, score: x.score })) };
}

/** The class `net` decides for a digitally silent clip: `frames` frames of all-zero features (cells updated with `forwardEps`). */
export function silentDecision(net: Network, frames: number, forwardEps = 0): number {
  const tape = allocTape(net, frames);
  const zeros = new Float64Array(frames * net.inputs);
  forwardClip(net, networkThresholds(net), zeros, 0, tape, { surrogateWidth: DEFAULT_SURROGATE_WIDTH, forwardEps });
  const votes = new Int32Array(frames);
  for (let t = 0; t < frames; t++) votes[t] = argmax(tape.logits, t * net.classes, net.classes);
  return majority(votes, net.classes);
}

/** Fisher-Yates shuffle in place with the seeded generator. */
export function shuffle(a: Int32Array, rng: Rng): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}

/**
 * Clip decisions, frame accuracy and loss of `net` (raw or realised) on the clips `indices`, its cells updated with
 * `forwardEps` (src/model/arch.ts; 0 = FQ-BMRU).
 */
export function scoreSplit(
  net: Network,
  data: TrainingData,
  indices: ArrayLike<number>,
  tape: Tape = allocTape(net, data.frames),
  forwardEps = 0,
): SplitScore {
  const th: CellThresholds[] = networkThresholds(net);
  const dLogits = new Float64Array(data.frames * net.classes);
  const clipSize = data.frames * data.features;
  const votes = new Int32Array(data.frames);
  const decisions: [number, number][] = [];
  let correct = 0;
  let frameCorrect = 0;
  let loss = 0;
  for (let n = 0; n < indices.length; n++) {
    const clip = indices[n];
    const target = data.target[clip];
    forwardClip(net, th, data.data, clip * clipSize, tape, { surrogateWidth: DEFAULT_SURROGATE_WIDTH, forwardEps });
    loss += frameCrossEntropy(tape.logits, data.frames, net.classes, target, 1, dLogits) / data.frames;
    for (let t = 0; t < data.frames; t++) {
      votes[t] = argmax(tape.logits, t * net.classes, net.classes);
      if (votes[t] === target) frameCorrect++;
    }
    const decision = majority(votes, net.classes);
    if (decision === target) correct++;
    decisions.push([target, decision]);
  }
  const confusion = confusionMatrix(decisions, net.classes);
  const n = Math.max(1, indices.length);
  return {
    clips: indices.length,
    accuracy: correct / n,
    frameAccuracy: frameCorrect / (n * data.frames),
    loss: loss / n,
    confusion,
    perClass: perClassAccuracy(confusion),
  };
}

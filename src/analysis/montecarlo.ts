/**
 * Monte Carlo mismatch (issue 3 §3): N transistor-level runs, each with every device's |V_th| and beta drawn
 * with Pelgrom scaling from a recorded per-sample seed (src/netlist/variation.ts), scored against the software
 * model of the nominal realised network. Alongside, a software-only estimate: which parameters' realisations
 * matter most (one at a time, +-1 sigma of the mirror that realises each) and the flip rate the software model
 * predicts when every parameter is drawn with that sigma.
 */
import { cosimulate, type CosimOptions } from '../pipeline.js';
import type { Network } from '../model/types.js';
import { runNetwork, type InputSequence, type Trace } from '../model/network.js';
import { runNetworkBatch } from '../model/batch.js';
import type { Process } from '../netlist/process.js';
import { minMirrorRatio, mirrorGeometry } from '../netlist/geometry.js';
import { runMany, type Completion } from '../util/pool.js';
import { createRng } from '../util/random.js';

/**
 * Subthreshold slope factor n (I ~ exp(V_gs / (n U_T))): c180 and GF180 measure 87-89 mV/decade
 * (docs/circuit-notes.md), n = S / (U_T ln 10) ~ 1.45 at 300 K.
 */
export const SUBTHRESHOLD_N = 1.45;
/** Thermal voltage at 300 K (V). */
export const THERMAL_VOLTAGE_V = 0.02585;

export interface McSample {
  readonly index: number;
  /** The ngspice-independent seed the sample's device draws come from (recorded, reusable). */
  readonly seed: number;
  readonly stateAgreement: number;
  readonly voteAgreement: number;
  readonly circuitDecision: number;
  readonly decisionFlip: boolean;
  readonly disagreements: number;
  readonly ngspiceS: number;
}

/** The seed of sample i of a campaign: fixed, distinct per (campaign, i), independent of run order. */
export function sampleSeed(campaignSeed: number, index: number): number {
  // Two rounds of a 32-bit integer hash (splitmix-style) over (campaign, index).
  let h = (Math.imul(campaignSeed ^ 0x9e3779b9, 0x85ebca6b) + index) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

export interface MonteCarloOptions extends Omit<CosimOptions, 'variation' | 'tolerances'> {
  readonly seed: number;
  /** Sample indices to run (e.g. those a previous run has not finished). */
  readonly indices: readonly number[];
  readonly concurrency?: number;
  readonly onDone?: (c: Completion<number, McSample>) => void;
}

/** Run the given Monte Carlo samples in parallel; each result is reported through onDone as it finishes. */
export async function monteCarlo(net: Network, inputs: InputSequence, opts: MonteCarloOptions): Promise<McSample[]> {
  return runMany(
    opts.indices,
    async (index) => {
      const seed = sampleSeed(opts.seed, index);
      const r = await cosimulate(net, inputs, {
        ...opts,
        variation: { mismatchSeed: seed },
        run: { name: `mc-${index}`, ...opts.run },
      });
      const c = r.comparison;
      return {
        index,
        seed,
        stateAgreement: c.stateAgreement,
        voteAgreement: c.voteAgreement,
        circuitDecision: c.circuitDecision,
        decisionFlip: !c.decisionMatch,
        disagreements: c.disagreements.length,
        ngspiceS: r.run.durationMs / 1000,
      };
    },
    { concurrency: opts.concurrency, onDone: opts.onDone },
  );
}

/**
 * Relative sigma of a subthreshold mirror's gain from Pelgrom mismatch of its two devices (reference of width
 * `inWidthUm`, copy of `outWidthUm`, of length `lengthUm` unless the copy's `outLengthUm` differs):
 * dI/I = dBeta/beta - dVth / (n U_T) per device.
 */
export function mirrorGainSigma(
  process: Process,
  polarity: 'n' | 'p',
  inWidthUm: number,
  outWidthUm: number,
  lengthUm: number,
  outLengthUm = lengthUm,
): number {
  const m = process.mismatch?.[polarity];
  if (!m) return 0;
  const dev = (w: number, l: number) => {
    const a = Math.sqrt(w * l);
    return ((m.abetaPctUm * 1e-2) / a) ** 2 + ((m.avtMvUm * 1e-3) / a / (SUBTHRESHOLD_N * THERMAL_VOLTAGE_V)) ** 2;
  };
  return Math.sqrt(dev(inWidthUm, lengthUm) + dev(outWidthUm, outLengthUm));
}

/** A scalar parameter of the network, addressed for perturbation. */
export interface ParamRef {
  readonly name: string;
  readonly get: (n: Network) => Float64Array;
  readonly index: number;
  /** Relative sigma of its realisation. */
  readonly sigma: number;
}

/** Relative sigmas (1 sigma, fractions) of what realises each kind of parameter on a process. */
export interface MirrorSigmas {
  /** A weight of magnitude |w|: the generator's copy for |w| from a unit diode (the worse polarity). */
  readonly weight: (absW: number) => number;
  /** A bias current or alpha: a unity mirror. */
  readonly unity: number;
  /** beta1 or delta: a cell threshold is the ratio of two copies (M1: candidate, M2: I_thresh), two unity mirrors. */
  readonly threshold: number;
}

/** The process's mirror sigmas from its Pelgrom coefficients (0 where process.json has none). */
export function mirrorSigmas(process: Process): MirrorSigmas {
  const { unitWidthUm: unit, mirrorLengthUm: l } = process.sizing;
  const weight = (absW: number) => {
    const copy = mirrorGeometry(process, Math.max(absW, minMirrorRatio(process)));
    return Math.max(
      mirrorGainSigma(process, 'n', unit, copy.widthUm, l, copy.lengthUm),
      mirrorGainSigma(process, 'p', unit, copy.widthUm, l, copy.lengthUm),
    );
  };
  const unity = weight(1);
  return { weight, unity, threshold: Math.SQRT2 * unity };
}

/** Every weight, bias and cell parameter with the relative sigma of the mirror that realises it. */
export function parameterSigmas(net: Network, process: Process): ParamRef[] {
  const sig = mirrorSigmas(process);
  const refs: ParamRef[] = [];
  const linear = (prefix: string, pick: (n: Network) => { weight: { data: Float64Array }; bias: Float64Array }) => {
    const lin = pick(net);
    lin.weight.data.forEach((w, i) =>
      refs.push({
        name: `${prefix}.weight[${i}]`,
        get: (n) => pick(n).weight.data,
        index: i,
        sigma: sig.weight(Math.abs(w)),
      }),
    );
    lin.bias.forEach((_, i) =>
      refs.push({ name: `${prefix}.bias[${i}]`, get: (n) => pick(n).bias, index: i, sigma: sig.unity }),
    );
  };
  linear('pre', (n) => n.pre);
  net.blocks.forEach((_, k) => {
    linear(`blocks.${k}.cand`, (n) => n.blocks[k].cand);
    for (const p of ['alpha', 'beta1', 'delta'] as const) {
      net.blocks[k].cell[p].forEach((_, j) =>
        refs.push({
          name: `blocks.${k}.cell.${p}[${j}]`,
          get: (n) => n.blocks[k].cell[p],
          index: j,
          sigma: p === 'alpha' ? sig.unity : sig.threshold,
        }),
      );
    }
    linear(`blocks.${k}.post`, (n) => n.blocks[k].post);
  });
  linear('out', (n) => n.out);
  return refs;
}

/** A deep-enough copy of a network that parameters can be changed in place. */
function cloneNetwork(net: Network): Network {
  const lin = (l: Network['pre']) => ({
    weight: { ...l.weight, data: Float64Array.from(l.weight.data) },
    bias: Float64Array.from(l.bias),
  });
  return {
    ...net,
    pre: lin(net.pre),
    blocks: net.blocks.map((b) => ({
      cand: lin(b.cand),
      post: lin(b.post),
      cell: {
        alpha: Float64Array.from(b.cell.alpha),
        beta1: Float64Array.from(b.cell.beta1),
        delta: Float64Array.from(b.cell.delta),
        s0: b.cell.s0,
      },
    })),
    out: lin(net.out),
  };
}

function stateChanges(a: Trace, b: Trace): number {
  let n = 0;
  a.states.forEach((s, k) => s.forEach((v, i) => (n += v !== b.states[k][i] ? 1 : 0)));
  return n;
}

export interface ParamSensitivity {
  readonly parameter: string;
  readonly sigma: number;
  /** Unit-frames whose state changes when the parameter moves by +1 sigma, and by -1 sigma. */
  readonly changesUp: number;
  readonly changesDown: number;
  readonly decisionChanges: boolean;
}

/** One-at-a-time sensitivity: each parameter moved by +-1 sigma of its realisation, ranked by state changes. */
export function sensitivity(net: Network, inputs: InputSequence, refs: readonly ParamRef[]): ParamSensitivity[] {
  const nominal = runNetwork(net, inputs);
  const work = cloneNetwork(net);
  return refs
    .map((r) => {
      const v = r.get(work);
      const p0 = v[r.index];
      v[r.index] = p0 * (1 + r.sigma);
      const up = runNetwork(work, inputs);
      v[r.index] = p0 * (1 - r.sigma);
      const down = runNetwork(work, inputs);
      v[r.index] = p0;
      return {
        parameter: r.name,
        sigma: r.sigma,
        changesUp: stateChanges(nominal, up),
        changesDown: stateChanges(nominal, down),
        decisionChanges: up.decision !== nominal.decision || down.decision !== nominal.decision,
      };
    })
    .sort((a, b) => b.changesUp + b.changesDown - (a.changesUp + a.changesDown));
}

/** Software-model Monte Carlo: every parameter drawn as p * (1 + N(0, sigma_p)); agreement and flip per draw. */
export function softwareMonteCarlo(
  net: Network,
  inputs: InputSequence,
  refs: readonly ParamRef[],
  draws: number,
  seed: number,
): { stateAgreement: number; decisionFlip: boolean }[] {
  const nominal = runNetwork(net, inputs);
  const rng = createRng(seed);
  const total = nominal.states.reduce((s, x) => s + x.length, 0);
  return Array.from({ length: draws }, () => {
    const work = cloneNetwork(net);
    for (const r of refs) r.get(work)[r.index] *= 1 + r.sigma * rng.normal();
    const tr = runNetwork(work, inputs);
    return { stateAgreement: 1 - stateChanges(nominal, tr) / total, decisionFlip: tr.decision !== nominal.decision };
  });
}

/**
 * Decision flips under mismatch over many clips: `draws` chips, each with every parameter drawn once as
 * p * (1 + N(0, sigma_p)) and run on every clip (scripts/mc-kws.mjs's rule); the fraction of chip-clip pairs whose
 * decision differs from the nominal network's.
 */
export function decisionFlipRate(
  net: Network,
  clips: readonly InputSequence[],
  refs: readonly ParamRef[],
  draws: number,
  seed: number,
): number {
  if (clips.length === 0 || draws === 0) return 0;
  // Decisions only: the batched model without its analog arrays (bit-identical to runNetwork per clip).
  const decisions = (n: Network) => runNetworkBatch(n, clips, { keep: 'states' }).map((t) => t.decision);
  const nominal = decisions(net);
  const rng = createRng(seed);
  let flips = 0;
  for (let d = 0; d < draws; d++) {
    const work = cloneNetwork(net);
    for (const r of refs) r.get(work)[r.index] *= 1 + r.sigma * rng.normal();
    decisions(work).forEach((decision, n) => (flips += decision === nominal[n] ? 0 : 1));
  }
  return flips / (draws * clips.length);
}

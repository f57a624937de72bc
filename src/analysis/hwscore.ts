/**
 * Scoring a trained network by how closely its circuits follow it, at software speed: `bmru train --hardware-select`
 * keeps the checkpoint that scores best.
 */
import type { Calibration } from '../netlist/calibration.js';
import type { Process } from '../netlist/process.js';
import { runNetwork, type InputSequence } from '../model/network.js';
import type { Network } from '../model/types.js';
import { hardwareAwareNetwork, runHardwareAware } from './hwmodel.js';
import { decisionFlipRate, parameterSigmas } from './montecarlo.js';

/** Seed of the mismatch draws `mismatchStability` scores with: every checkpoint meets the same chips. */
export const SELECT_MISMATCH_SEED = 1;

/** Clips stored back to back, frame-major: what train/data.ts loads from a features file. */
interface ClipSet {
  readonly frames: number;
  readonly features: number;
  readonly data: Float64Array;
}

/** Clip `index` of `set`, a view into its data. */
function clipAt(set: ClipSet, index: number): InputSequence {
  const size = set.frames * set.features;
  return { frames: set.frames, features: set.features, data: set.data.subarray(index * size, (index + 1) * size) };
}

/**
 * How closely the circuits of `processes` follow a network on some clips: per process, the fraction of unit-frames
 * where the hardware-aware model (analysis/hwmodel.ts, the circuit's simulator at software speed) has the trained
 * network's state; the score is the worst process's. Used to pick the checkpoint (trainer.ts `hardwareScore`).
 */
export function hardwareAgreement(
  processes: readonly { process: Process; calibration?: Calibration }[],
  data: ClipSet,
  indices: ArrayLike<number>,
): (net: Network) => number {
  const clip = (n: number) => clipAt(data, indices[n]);
  return (net) => {
    const trained = Array.from({ length: indices.length }, (_, n) => runNetwork(net, clip(n)).states);
    let worst = 1;
    for (const p of processes) {
      const hw = hardwareAwareNetwork(net, p.process, p.calibration);
      let agree = 0;
      let total = 0;
      for (let n = 0; n < indices.length; n++) {
        const states = runHardwareAware(hw, clip(n)).states;
        states.forEach((s, k) =>
          s.forEach((v, i) => {
            agree += v === trained[n][k][i] ? 1 : 0;
            total++;
          }),
        );
      }
      worst = Math.min(worst, total > 0 ? agree / total : 1);
    }
    return worst;
  };
}

/**
 * How steady a network's decisions are under the processes' mismatch on some clips: 1 minus the worst process's
 * decision flip rate over `draws` software Monte Carlo chips (montecarlo.ts `decisionFlipRate`, Pelgrom sigmas of
 * each process). Used to pick the checkpoint (`bmru train --select-by mismatch`).
 */
export function mismatchStability(
  processes: readonly { process: Process }[],
  data: ClipSet,
  indices: ArrayLike<number>,
  draws: number,
): (net: Network) => number {
  const clips = Array.from(indices, (c) => clipAt(data, c));
  return (net) =>
    1 -
    Math.max(
      0,
      ...processes.map((p) =>
        decisionFlipRate(net, clips, parameterSigmas(net, p.process), draws, SELECT_MISMATCH_SEED),
      ),
    );
}

/**
 * Where the circuits of `processes` leave a network, clip by clip: for each clip index, one flag array per block
 * [frames x cells], 1 where the hardware-aware model of any process has another state than the network. What
 * `bmru train --focus-margin` widens the margin on (trainer.ts `TrainOptions.focus`).
 */
export function hardwareDisagreements(
  processes: readonly { process: Process; calibration?: Calibration }[],
  data: ClipSet,
): (net: Network, indices: ArrayLike<number>) => Map<number, Uint8Array[]> {
  return (net, indices) => {
    const models = processes.map((p) => hardwareAwareNetwork(net, p.process, p.calibration));
    const out = new Map<number, Uint8Array[]>();
    for (let n = 0; n < indices.length; n++) {
      const c = indices[n];
      const clip = clipAt(data, c);
      const trained = runNetwork(net, clip).states;
      const flags = trained.map((s) => new Uint8Array(s.length));
      for (const hw of models)
        runHardwareAware(hw, clip).states.forEach((s, k) =>
          s.forEach((v, i) => (flags[k][i] |= v === trained[k][i] ? 0 : 1)),
        );
      out.set(c, flags);
    }
    return out;
  };
}

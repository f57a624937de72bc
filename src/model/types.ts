/** Plain data describing an FQ-BMRU network (DESIGN.md §1), all values in software units (multiples of I_unit). */
import type { ModelArch } from './arch.js';

/** Row-major matrix in the PyTorch layout: `rows` = outputs, `cols` = inputs, element [r, c] at r*cols + c. */
export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
}

/** A fully connected layer y = W x + b (signed weights and biases). */
export interface Linear {
  readonly weight: Matrix;
  readonly bias: Float64Array;
}

/**
 * Cell-bank parameters as stored in the model file. With `cellParams: 'raw'` they are trained values
 * (any sign; the model uses |alpha|, |beta1|, |delta| and |s0| > 0.5); with 'realised' they are non-negative.
 */
export interface CellParams {
  readonly alpha: Float64Array;
  readonly beta1: Float64Array;
  readonly delta: Float64Array;
  readonly s0: Float64Array;
}

/** One recurrent block: candidate FC -> cell bank -> post FC (+ skip). */
export interface Block {
  readonly cand: Linear;
  readonly cell: CellParams;
  readonly post: Linear;
}

export type CellParamConvention = 'raw' | 'realised';

/** A whole network: pre-projection, L blocks, classifier. Shapes are checked at load (see tensors.ts). */
export interface Network {
  /** The cell update (arch.ts): the FQ-BMRU, or the cumulative CMRU family, which only the software model runs. */
  readonly arch: ModelArch;
  /** eps of the cumulative update for arch 'cmru-relaxed' (0 < eps < 1); absent otherwise (arch.ts `cumulativeEps`). */
  readonly eps?: number;
  /** F: input features per frame. */
  readonly inputs: number;
  /** H: model width (pre-projection output, block output). */
  readonly width: number;
  /** S: cells per block. */
  readonly cells: number;
  /** C: classes. */
  readonly classes: number;
  readonly skip: boolean;
  /** Current of one software unit in amperes (DESIGN §1: 1 unit = 1 nA by default). */
  readonly unitCurrentA: number;
  /** Frame period in seconds (inputs are held for one frame). */
  readonly frameS: number;
  readonly cellParams: CellParamConvention;
  readonly pre: Linear;
  readonly blocks: readonly Block[];
  readonly out: Linear;
}

/** The thresholds a cell bank actually uses, after |.| and binarising s0. */
export interface CellThresholds {
  readonly alpha: Float64Array;
  readonly betaLo: Float64Array;
  readonly betaHi: Float64Array;
  readonly s0: Uint8Array;
}

/** Threshold above which the learned initial state |s0| reads as ON (DESIGN §1: s_0 = |s0_param| > 0.5). */
export const S0_ON_THRESHOLD = 0.5;

/** Derive the cell's operating thresholds from stored parameters (DESIGN §1). */
export function cellThresholds(cell: CellParams): CellThresholds {
  const n = cell.alpha.length;
  const alpha = new Float64Array(n);
  const betaLo = new Float64Array(n);
  const betaHi = new Float64Array(n);
  const s0 = new Uint8Array(n);
  for (let j = 0; j < n; j++) {
    alpha[j] = Math.abs(cell.alpha[j]);
    betaLo[j] = Math.abs(cell.beta1[j]);
    betaHi[j] = betaLo[j] + Math.abs(cell.delta[j]);
    s0[j] = Math.abs(cell.s0[j]) > S0_ON_THRESHOLD ? 1 : 0;
  }
  return { alpha, betaLo, betaHi, s0 };
}

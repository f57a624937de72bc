/**
 * The constructed knee case the hardware-aware model's tests share (hwmodel.test.ts works its states out by hand):
 * hand-written knee tables with c180's numbers rounded, and a one-cell network candidate = max(x0 - x1, 0) + bias.
 */
import type { Network } from '../../src/model/types.js';
import type { Calibration } from '../../src/netlist/calibration.js';
import type { HardwareTables, KneeTable } from '../../src/netlist/hardware-tables.js';

export const pA = 1e-12;
/** 250 pA, as the shipped KWS model: 1 pA is 0.004 units. */
export const UNIT_A = 250 * pA;
export const units = (a: number) => a / UNIT_A;

/** A knee measured with one opposing current of 100 pA (c180's numbers, rounded), ideal with none. */
export const KNEE_N: KneeTable = {
  opposingA: [0, 100 * pA],
  netA: [-100, -10, 0, 10, 300].map((v) => v * pA),
  diodeA: [[0, 0, 0, 10, 300].map((v) => v * pA), [1, 4, 7, 13, 300].map((v) => v * pA)],
};
/** An ideal knee (for the PMOS candidate nodes, so that only the NMOS ReLU leaks). */
export const IDEAL: KneeTable = {
  opposingA: [0, 100 * pA],
  netA: [-100, 0, 300].map((v) => v * pA),
  diodeA: [
    [0, 0, 300 * pA],
    [0, 0, 300 * pA],
  ],
};

/** A c180 calibration holding only these hardware tables. */
export const calibrationWith = (hardware: HardwareTables): Calibration => ({
  process: 'c180',
  cell: {},
  mirror: {},
  hardware,
});

/**
 * Two inputs, width 1, one block of one cell, one class, no skip: candidate = max(x0 - x1, 0) + bias, the cell's
 * state (ON level 1) drives the block output and the logit.
 */
export function kneeNetwork(candBias: number, betaLo: number, betaHi: number): Network {
  const linear = (rows: number, cols: number, w: number[], b: number[]) => ({
    weight: { rows, cols, data: Float64Array.from(w) },
    bias: Float64Array.from(b),
  });
  return {
    arch: 'fq-bmru',
    inputs: 2,
    width: 1,
    cells: 1,
    classes: 1,
    skip: false,
    unitCurrentA: UNIT_A,
    frameS: 0.01,
    cellParams: 'realised',
    pre: linear(1, 2, [1, -1], [0]),
    blocks: [
      {
        cand: linear(1, 1, [1], [candBias]),
        cell: {
          alpha: Float64Array.of(1),
          beta1: Float64Array.of(betaLo),
          delta: Float64Array.of(betaHi - betaLo),
          s0: Float64Array.of(0),
        },
        post: linear(1, 1, [1], [0]),
      },
    ],
    out: linear(1, 1, [1], [0]),
  };
}

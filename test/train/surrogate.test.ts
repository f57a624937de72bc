/** The arctan surrogate of the cell's step: its shape from the formula in its doc, its derivative by differences. */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SURROGATE_WIDTH,
  S0_SURROGATE_WIDTH,
  hardStep,
  softStep,
  surrogateGrad,
} from '../../src/train/surrogate.js';

describe('surrogate step', () => {
  it('has the documented widths: 0.25 units for thresholds, 0.5 for s0', () => {
    expect(DEFAULT_SURROGATE_WIDTH).toBe(0.25);
    expect(S0_SURROGATE_WIDTH).toBe(0.5);
  });

  it('softStep is 1/2 at the threshold and tends to 0 and 1 far below and above it', () => {
    expect(softStep(0, 0.25)).toBe(0.5);
    expect(softStep(-1e6, 0.25)).toBeCloseTo(0, 6);
    expect(softStep(1e6, 0.25)).toBeCloseTo(1, 6);
    // At x = w: 1/2 + atan(pi)/pi, atan(pi) = 1.2626272556789118.
    expect(softStep(0.25, 0.25)).toBeCloseTo(0.5 + 1.2626272556789118 / Math.PI, 14);
    expect(softStep(-0.5, 0.5)).toBeCloseTo(0.5 - 1.2626272556789118 / Math.PI, 14);
  });

  it('surrogateGrad peaks at 1/w and falls to 1/(1 + pi^2) of it one width away', () => {
    const w = 0.25;
    expect(surrogateGrad(0, w)).toBeCloseTo(4, 12);
    expect(surrogateGrad(w, w)).toBeCloseTo(4 / (1 + Math.PI ** 2), 12);
    expect(surrogateGrad(-w, w)).toBeCloseTo(4 / (1 + Math.PI ** 2), 12);
  });

  it('surrogateGrad is the derivative of softStep (central differences)', () => {
    const h = 1e-6;
    for (const w of [0.25, 0.5, 2]) {
      for (const x of [-1.3, -0.2, 0, 0.07, 0.6]) {
        const fd = (softStep(x + h, w) - softStep(x - h, w)) / (2 * h);
        expect(surrogateGrad(x, w), `x=${x} w=${w}`).toBeCloseTo(fd, 6);
      }
    }
  });

  it('hardStep is ON at and above the threshold (c >= beta), OFF below', () => {
    expect(hardStep(0)).toBe(1);
    expect(hardStep(1e-300)).toBe(1);
    expect(hardStep(-1e-300)).toBe(0);
  });
});

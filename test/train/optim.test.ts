import { describe, expect, it } from 'vitest';
import { LIMITS, limitsFor, projectToLimits } from '../../src/train/optim.js';
import { paramLayout, tensorView } from '../../src/train/params.js';

describe('projectToLimits', () => {
  const layout = paramLayout({ inputs: 3, width: 2, blocks: 2, classes: 2, skip: true });

  it('narrows a hysteresis wider than the calibrated range to delta = f beta_hi, keeping sign and beta_lo', () => {
    const theta = new Float64Array(layout.size);
    tensorView(layout, theta, 'blocks.1.cell.beta1').set([0.1, -0.5]);
    tensorView(layout, theta, 'blocks.1.cell.delta').set([-1.5, 0.3]); // 94% and 38% of beta_hi
    projectToLimits(layout, theta, LIMITS);
    const [d0, d1] = tensorView(layout, theta, 'blocks.1.cell.delta');
    expect(d0).toBeCloseTo(-0.4, 12); // 0.4 / (0.1 + 0.4) = 0.8
    expect(d1).toBe(0.3);
    expect(Array.from(tensorView(layout, theta, 'blocks.1.cell.beta1'))).toEqual([0.1, -0.5]);
  });

  it('raises beta_lo to 50 pA in units of the circuit\'s I_unit', () => {
    const theta = new Float64Array(layout.size);
    tensorView(layout, theta, 'blocks.0.cell.beta1').set([0.1, -0.3]);
    projectToLimits(layout, theta, limitsFor(2.5e-10));
    const [b0, b1] = tensorView(layout, theta, 'blocks.0.cell.beta1');
    expect(b0).toBeCloseTo(0.2, 12);
    expect(b1).toBe(-0.3);
  });
});

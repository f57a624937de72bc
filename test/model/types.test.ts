import { describe, expect, it } from 'vitest';
import { cellThresholds } from '../../src/model/types.js';

const f = (...xs: number[]) => Float64Array.from(xs);

describe('cellThresholds', () => {
  it('takes |alpha|, |beta1| and |beta1| + |delta|, and reads |s0| > 0.5 as ON (DESIGN §1; values by hand)', () => {
    const th = cellThresholds({
      alpha: f(-1.5, 0.25, 2, -0.75),
      beta1: f(0.5, -0.125, -1, 0),
      delta: f(-0.25, 0.5, 0, -2),
      // ON only where |s0| is strictly above 0.5: -0.7 and 0.5000001 are ON; 0.5, -0.5 and 0.3 are not
      s0: f(-0.7, 0.5, 0.3, 0.5000001),
    });
    expect([...th.alpha]).toEqual([1.5, 0.25, 2, 0.75]);
    expect([...th.betaLo]).toEqual([0.5, 0.125, 1, 0]);
    expect([...th.betaHi]).toEqual([0.75, 0.625, 1, 2]);
    expect([...th.s0]).toEqual([1, 0, 0, 1]);
    expect(cellThresholds({ alpha: f(1), beta1: f(1), delta: f(1), s0: f(-0.5) }).s0[0]).toBe(0);
  });

  it('gives arrays of the bank size, and none for an empty bank', () => {
    const th = cellThresholds({ alpha: f(1, 2), beta1: f(0, 0), delta: f(0, 0), s0: f(1, 1) });
    expect([th.alpha.length, th.betaLo.length, th.betaHi.length, th.s0.length]).toEqual([2, 2, 2, 2]);
    const none = cellThresholds({ alpha: f(), beta1: f(), delta: f(), s0: f() });
    expect(none.s0).toEqual(new Uint8Array(0));
  });
});

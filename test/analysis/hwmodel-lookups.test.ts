/**
 * The table lookups of the hardware-aware model's inner loop (src/analysis/hwmodel-lookups.ts), each on a table
 * small enough to interpolate by hand. In software units of 1 pA (unitA = 1e-12) the numbers below are picoamperes.
 */
import { describe, expect, it } from 'vitest';
import {
  commitAt,
  copyAt,
  curveAt,
  kneeAt,
  packCopy,
  packKnee,
  railStep,
  seg,
  switchTime,
} from '../../src/analysis/hwmodel-lookups.js';
import { kneeAt as kneeAtAmperes, type CopyTable, type KneeTable } from '../../src/netlist/hardware-tables.js';

const pA = 1e-12;
const f64 = (...v: number[]) => Float64Array.from(v);

describe('curveAt', () => {
  it('interpolates piecewise linearly on an uneven grid and holds the end values beyond it', () => {
    const x = f64(1, 2, 4);
    const y = f64(10, 20, 0);
    expect(curveAt(x, y, 0)).toBe(10);
    expect(curveAt(x, y, 1)).toBe(10);
    expect(curveAt(x, y, 1.5)).toBe(15);
    expect(curveAt(x, y, 2)).toBe(20);
    expect(curveAt(x, y, 3)).toBe(10); // halfway down the second segment
    expect(curveAt(x, y, 3.5)).toBe(5);
    expect(curveAt(x, y, 4)).toBe(0);
    expect(curveAt(x, y, 9)).toBe(0);
  });
});

describe('seg', () => {
  it('finds the segment holding v, clamped to the first and the last', () => {
    const xs = f64(0, 1, 2, 3, 4, 5);
    expect([-1, 0, 0.5, 1.5, 2.5, 3.5, 4.5, 5, 7].map((v) => seg(xs, v))).toEqual([0, 0, 0, 1, 2, 3, 4, 4, 4]);
    const two = f64(-3, 8);
    expect([-5, 0, 10].map((v) => seg(two, v))).toEqual([0, 0, 0]);
  });
});

/** hwmodel.test.ts's NMOS knee (c180's numbers, rounded), and one row with a reading below zero. */
const KNEE: KneeTable = {
  opposingA: [0, 100 * pA],
  netA: [-100, -10, 0, 10, 300].map((v) => v * pA),
  diodeA: [[0, 0, 0, 10, 300].map((v) => v * pA), [1, 4, 7, 13, 300].map((v) => v * pA)],
};

describe('kneeAt', () => {
  // Excess over max(h, 0), by hand: row N = 0: 0 everywhere; row N = 100: 1, 4, 7, 3, 0 at h = -100, -10, 0, 10, 300.
  // Packed inside each test: code run while vitest collects the file is covered by no test (docs/mutation.md).
  const packed = () => packKnee(KNEE, pA);

  it('is the ideal max(P - N, 0) without a table, with nothing opposing, and above the table', () => {
    const k = packed();
    expect(kneeAt(undefined, 90, 100)).toBe(0);
    expect(kneeAt(undefined, 130, 100)).toBe(30);
    expect(kneeAt(k, 5, 0)).toBe(5);
    expect(kneeAt(k, 5, -1)).toBe(6);
    expect(kneeAt(k, 400, 100)).toBe(300); // h = 300: the top column, ideal
    expect(kneeAt(k, 500, 100)).toBe(400);
  });

  it('interpolates the excess bilinearly in (N, h), holding the last row and the first column', () => {
    const k = packed();
    expect(kneeAt(k, 90, 100)).toBeCloseTo(4, 12); // h = -10 on the row N = 100
    expect(kneeAt(k, 95, 100)).toBeCloseTo(5.5, 12); // halfway to h = 0: (4 + 7) / 2
    expect(kneeAt(k, 105, 100)).toBeCloseTo(5 + 5, 12); // h = 5: ideal 5 + excess (7 + 3) / 2
    expect(kneeAt(k, 45, 50)).toBeCloseTo(2.75, 12); // halfway between the rows: (0 + 5.5) / 2
    expect(kneeAt(k, 75, 25)).toBeCloseTo(50 + 0.25 * (3 - (3 / 290) * 40), 12); // h = 50, a quarter of the way to N = 100
    expect(kneeAt(k, 190, 200)).toBeCloseTo(4, 12); // N beyond the last row: that row
    expect(kneeAt(k, 0, 100)).toBeCloseTo(1, 12); // h = -100: the first column
    expect(kneeAt(k, -50, 100)).toBeCloseTo(1, 12); // h = -150, below the table: the first column held
  });

  it('never returns a negative current', () => {
    const below = packKnee({ ...KNEE, diodeA: [KNEE.diodeA[0], [-2, -2, 7, 13, 300].map((v) => v * pA)] }, pA);
    expect(kneeAt(below, 90, 100)).toBe(0); // the table reads -2 pA
    expect(kneeAt(below, 40, 50)).toBe(0); // h = -10: -1 pA halfway between the rows
  });

  it('reads a third row, with an excess on the first row that only N > 0 sees', () => {
    // Rows N = 0, 50, 100 pA; columns h = -10, 0, 10. Excess over max(h, 0): row 0: 2, 1, 0; row 1: 4, 3, 2;
    // row 2: 8, 6, 4.
    const three = packKnee(
      {
        opposingA: [0, 50 * pA, 100 * pA],
        netA: [-10 * pA, 0, 10 * pA],
        diodeA: [
          [2, 1, 10],
          [4, 3, 12],
          [8, 6, 14],
        ].map((row) => row.map((v) => v * pA)),
      },
      pA,
    );
    expect(kneeAt(three, 5, 0)).toBe(5); // nothing opposing: all of P, whatever row 0 says
    expect(kneeAt(three, 70, 75)).toBeCloseTo((0.5 * (4 + 3)) / 2 + (0.5 * (8 + 6)) / 2 + 0, 12); // h = -5, N = 75: 5.25
    expect(kneeAt(three, 80, 75)).toBeCloseTo(5 + (0.5 * (3 + 2)) / 2 + (0.5 * (6 + 4)) / 2, 12); // h = 5: 5 + 3.75
    expect(kneeAt(three, 22.5, 25)).toBeCloseTo(0.5 * (1.25 + 3.25), 12); // h = -2.5 (3/4 of the way to 0), N = 25
  });

  it("agrees with netlist/hardware-tables.ts's kneeAt (amperes, unpacked) on a grid, top column included", () => {
    // Another implementation of the same lookup; a top column that is not ideal (305 pA at h = 300 pA) shows
    // which side h = 300 pA falls on (both: ideal).
    const table: KneeTable = { ...KNEE, diodeA: [KNEE.diodeA[0], [1, 4, 7, 13, 305].map((v) => v * pA)] };
    const k = packKnee(table, pA);
    for (const N of [1, 25, 50, 99, 100, 150]) {
      for (const h of [-120, -100, -55, -10, -3, 0, 4, 10, 150, 299, 300, 301]) {
        const P = N + h;
        expect(kneeAt(k, P, N), `P ${P} pA, N ${N} pA`).toBeCloseTo(kneeAtAmperes(table, P * pA, N * pA) / pA, 9);
      }
    }
    expect(kneeAt(k, 400, 100)).toBe(300);
  });

  it('refuses a table whose rows do not match its columns', () => {
    expect(() => packKnee({ ...KNEE, diodeA: [KNEE.diodeA[0]] }, pA)).toThrow(
      'knee table: diodeA must be [opposingA.length][netA.length]',
    );
    expect(() => packKnee({ ...KNEE, diodeA: [KNEE.diodeA[0], [1, 2]] }, pA)).toThrow(/diodeA must be/);
  });
});

describe('copyAt', () => {
  // Rail currents 0, 1000, 4000 pA. NMOS rail: a copy into a PMOS diode passes 2 pA at zero (its floor), into an
  // NMOS diode 1 pA; PMOS rail: 3 and 0 pA. Beyond 4000 pA: r times the last point's ratio.
  const table: CopyTable = {
    currentsA: [0, 1000 * pA, 4000 * pA],
    n: [2 * pA, 1000 * pA, 4000 * pA],
    nSame: [1 * pA, 990 * pA, 3960 * pA],
    p: [3 * pA, 1010 * pA, 4400 * pA],
    pSame: [0, 1000 * pA, 4000 * pA],
  };
  /** copyAt's two outputs for rail index `rail` (the other slots must stay untouched: NaN). */
  const copies = (cp: ReturnType<typeof packCopy>, r: number, rail = 1) => {
    const pass = new Float64Array(6).fill(NaN);
    copyAt(cp, r, rail, pass);
    const others = Array.from(pass).filter((_, i) => i !== 2 * rail && i !== 2 * rail + 1);
    expect(others.every(Number.isNaN)).toBe(true);
    return [pass[2 * rail], pass[2 * rail + 1]];
  };
  /** Within 0.01 pA: the lookup resamples the table on 513 points uniform in sqrt(r) (hwmodel.ts PackedCopy). */
  const near = (got: number[], want: number[]) =>
    got.forEach((g, i) => expect(Math.abs(g - want[i])).toBeLessThan(0.01));

  it('passes r into either load without a table', () => {
    expect(copies(undefined, 123.5)).toEqual([123.5, 123.5]);
    expect(copies(undefined, 7, 0)).toEqual([7, 7]);
  });

  it("reads the rail polarity's curves: the floor at zero, linear between points, r x the last ratio beyond", () => {
    const n = packCopy(table, 'n', pA);
    near(copies(n, 0), [2, 1]);
    near(copies(n, 500), [2 + 0.5 * 998, 1 + 0.5 * 989]);
    near(copies(n, 2500, 2), [2500, 990 + 0.5 * 2970]);
    near(copies(n, 4000), [4000, 3960]);
    near(copies(n!, n!.top), [4000, 3960]); // exactly the last point (4e-9 / 1e-12 is not exactly 4000)
    near(copies(n, 8000, 0), [8000, 7920]);
    const p = packCopy(table, 'p', pA);
    near(copies(p, 0), [3, 0]);
    near(copies(p, 250), [3 + 0.25 * 1007, 250]);
    near(copies(p, 6000), [6600, 6000]);
  });

  it('refuses curves of another length than the currents', () => {
    expect(() => packCopy({ ...table, nSame: [0, 1] }, 'n', pA)).toThrow('copy table: one value per current');
    expect(() => packCopy({ ...table, p: [0, 1] }, 'p', pA)).toThrow('copy table: one value per current');
    expect(packCopy({ ...table, p: [0, 1] }, 'n', pA)).toBeDefined(); // the other polarity's curves are not read
  });
});

describe('railStep', () => {
  it('follows the logistic solution r = h / (1 + (h / r0 - 1) e^(-h x)) also where h x is below 1e-9', () => {
    // Q dr/dt = r (h - r) is the logistic equation; with x = t / Q its solution is the expression above. At
    // r0 = 1, h = 2, x = 4e-10 the rail has moved by 4e-10: the short-step branch must get the sign and size.
    const logistic = (r0: number, h: number, x: number) => h / (1 + (h / r0 - 1) * Math.exp(-h * x));
    expect(railStep(1, 2, 4e-10)).toBeCloseTo(logistic(1, 2, 4e-10), 15);
    expect(railStep(1, 2, 4e-10) - 1).toBeCloseTo(4e-10, 15);
    expect(railStep(0.5, -1, 2e-10)).toBeCloseTo(logistic(0.5, -1, 2e-10), 15);
    expect(railStep(0.01, 1, 3)).toBeCloseTo(logistic(0.01, 1, 3), 12);
  });
});

describe('switchTime', () => {
  // ln t at overdrives 1%, 10%, 100%: t = 1e-4 s / d up to 10%, then flat at 1 ms.
  const logOd = f64(Math.log(0.01), Math.log(0.1), Math.log(1));
  const row = f64(Math.log(1e-2), Math.log(1e-3), Math.log(1e-3));

  it('interpolates ln t in ln d, and extends the end segments beyond the table', () => {
    expect(switchTime(row, logOd, 0.01)).toBeCloseTo(1e-2, 15);
    expect(switchTime(row, logOd, 0.03)).toBeCloseTo(1e-4 / 0.03, 15);
    expect(switchTime(row, logOd, 0.5)).toBeCloseTo(1e-3, 15);
    expect(switchTime(row, logOd, 10)).toBeCloseTo(1e-3, 15);
    expect(switchTime(row, logOd, 0.001)).toBeCloseTo(1e-4 / 0.001, 12);
  });

  it('takes an overdrive of 0 or less as 1e-6 (a finite time)', () => {
    expect(switchTime(row, logOd, 0)).toBeCloseTo(1e-4 / 1e-6, 9);
    expect(switchTime(row, logOd, -1)).toBeCloseTo(1e-4 / 1e-6, 9);
    expect(switchTime(row, logOd, 2e-6)).toBeCloseTo(1e-4 / 2e-6, 9);
  });
});

describe('commitAt', () => {
  // Committed at 50% of the switching time at 1% overdrive, 100% at 100%: linear in ln d, held beyond.
  const logOd = f64(Math.log(0.01), Math.log(1));
  const row = f64(0.5, 1);

  it('interpolates in ln d and holds the end values', () => {
    expect(commitAt(row, logOd, 0.1)).toBeCloseTo(0.75, 15);
    expect(commitAt(row, logOd, 0.01)).toBe(0.5);
    expect(commitAt(row, logOd, 1)).toBe(1);
    expect(commitAt(row, logOd, 0.001)).toBe(0.5);
    expect(commitAt(row, logOd, 0)).toBe(0.5);
    expect(commitAt(row, logOd, 10)).toBe(1);
    expect(commitAt(row, logOd, -1)).toBe(0.5); // a negative overdrive counts as the smallest
  });

  it('finds the segment on a longer row', () => {
    const od = f64(Math.log(0.01), Math.log(0.1), Math.log(1), Math.log(10));
    const r = f64(0.2, 0.4, 0.9, 1);
    expect(commitAt(r, od, Math.sqrt(0.1))).toBeCloseTo(0.65, 12); // halfway (in ln d) from 10% to 100%
    expect(commitAt(r, od, Math.sqrt(0.001))).toBeCloseTo(0.3, 12);
    expect(commitAt(r, od, Math.sqrt(10))).toBeCloseTo(0.95, 12);
  });
});

/**
 * arch.ts on its own: the metadata check with each message written out (errors.ts's format), the eps of each
 * family, and the cell update against the family's defining recurrence in the module's doc,
 * s_t = a_t s_{t-1} + z_t ((1 + eps) y_t - eps), a_t = (1 - z_t) + eps z_t, worked out by hand.
 */
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import {
  archOfEps,
  cellCarry,
  cellUpdate,
  cumulativeEps,
  MODEL_ARCHS,
  parseArchMeta,
  requireCircuitArch,
} from '../../src/model/arch.js';

/** The message of the InputError `fn` throws (fails when it throws none or another kind). */
function inputError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as Error).message;
  }
  throw new Error('expected an InputError, none was thrown');
}

describe('parseArchMeta', () => {
  it("defaults to 'fq-bmru', eps 0; 'cmru' is eps 1; 'cmru-relaxed' keeps its eps", () => {
    expect(MODEL_ARCHS).toEqual(['fq-bmru', 'cmru', 'cmru-relaxed']);
    expect(parseArchMeta({})).toEqual({ arch: 'fq-bmru', eps: 0 });
    expect(parseArchMeta({ arch: 'fq-bmru', eps: '0' })).toEqual({ arch: 'fq-bmru', eps: 0 });
    expect(parseArchMeta({ arch: 'cmru' })).toEqual({ arch: 'cmru', eps: 1 });
    expect(parseArchMeta({ arch: 'cmru', eps: '1' })).toEqual({ arch: 'cmru', eps: 1 });
    expect(parseArchMeta({ arch: 'cmru-relaxed', eps: '0.25' })).toEqual({ arch: 'cmru-relaxed', eps: 0.25 });
  });

  it('reads eps written as any decimal: signs, no leading or trailing digits, exponents, surrounding blanks', () => {
    for (const [text, eps] of [
      ['.5', 0.5],
      ['.25', 0.25], // more than one digit after a lone point
      ['00.25', 0.25], // more than one digit before the point
      ['10e-2', 0.1],
      ['0.5e0', 0.5], // an exponent without a sign
      ['+0.5', 0.5],
      ['5e-1', 0.5],
      ['25E-2', 0.25],
      ['0.025e+1', 0.25],
      [' 0.75 ', 0.75],
      ['\t0.75\n', 0.75],
    ] as const) {
      expect(parseArchMeta({ arch: 'cmru-relaxed', eps: text }).eps, text).toBe(eps);
    }
    expect(parseArchMeta({ arch: 'cmru', eps: '1.' }).eps).toBe(1);
    expect(parseArchMeta({ arch: 'fq-bmru', eps: '-0' }).eps).toBe(0);
  });

  it('refuses text that is not a plain decimal, even where Number() would read it', () => {
    // Number('') = 0, Number('0x1') = 1, Number('Infinity') = Infinity: the regular expression stands before it.
    for (const text of [
      '',
      ' ',
      '0x1',
      '1e',
      '.',
      '+',
      '1.2.3',
      '--0.5',
      'a0.5',
      '0.5a',
      'Infinity',
      '0.5 0.5',
      '1_0',
    ]) {
      expect(
        inputError(() => parseArchMeta({ arch: 'cmru-relaxed', eps: text }, 'm.st')),
        JSON.stringify(text),
      ).toBe(
        `m.st '__metadata__.eps': expected a decimal number as a string, e.g. '0.5', got '${text}' ` +
          "(arch 'cmru-relaxed' needs eps in (0, 1))",
      );
    }
    expect(inputError(() => parseArchMeta({ arch: 'cmru', eps: '0x1' }, 'm.st'))).toBe(
      "m.st '__metadata__.eps': expected a decimal number as a string, e.g. '0.5', got '0x1'",
    );
  });

  it('names the arch, the eps and the rule broken, word for word', () => {
    expect(inputError(() => parseArchMeta({ arch: 'lstm' }, 'm.st'))).toBe(
      "m.st '__metadata__.arch': expected arch 'fq-bmru', 'cmru', 'cmru-relaxed', got 'lstm'",
    );
    expect(inputError(() => parseArchMeta({ arch: 'cmru-relaxed' }, 'm.st'))).toBe(
      "m.st '__metadata__.eps': expected a decimal number as a string, e.g. '0.5', missing " +
        "(arch 'cmru-relaxed' needs eps in (0, 1))",
    );
    expect(inputError(() => parseArchMeta({ arch: 'cmru-relaxed', eps: '0' }, 'm.st'))).toBe(
      "m.st '__metadata__.eps': expected eps in (0, 1): eps = 0 is arch 'fq-bmru', got '0' " +
        "(arch 'cmru-relaxed' needs eps in (0, 1))",
    );
    expect(inputError(() => parseArchMeta({ arch: 'cmru-relaxed', eps: '1' }, 'm.st'))).toBe(
      "m.st '__metadata__.eps': expected eps in (0, 1): eps = 1 is arch 'cmru', got '1' " +
        "(arch 'cmru-relaxed' needs eps in (0, 1))",
    );
    expect(inputError(() => parseArchMeta({ arch: 'cmru', eps: '0.5' }, 'm.st'))).toBe(
      "m.st '__metadata__.eps': expected '1' or no eps: the CMRU is eps = 1, got '0.5'",
    );
    expect(inputError(() => parseArchMeta({ arch: 'fq-bmru', eps: '1' }))).toBe(
      "'__metadata__.eps': expected '0' or no eps: the FQ-BMRU is eps = 0, got '1'",
    );
  });

  it('takes eps just inside (0, 1) and refuses it just outside', () => {
    expect(parseArchMeta({ arch: 'cmru-relaxed', eps: '1e-300' }).eps).toBe(1e-300);
    expect(parseArchMeta({ arch: 'cmru-relaxed', eps: '0.9999999' }).eps).toBe(0.9999999);
    expect(inputError(() => parseArchMeta({ arch: 'cmru-relaxed', eps: '-0.5' }))).toContain(
      "eps = 0 is arch 'fq-bmru'",
    );
    expect(inputError(() => parseArchMeta({ arch: 'cmru-relaxed', eps: '1.5' }))).toContain("eps = 1 is arch 'cmru'");
  });
});

describe('eps and arch of a network', () => {
  it('cumulativeEps: 0 for the FQ-BMRU, 1 for the CMRU, the stored eps for the relaxed CMRU', () => {
    expect(cumulativeEps({ arch: 'fq-bmru' })).toBe(0);
    expect(cumulativeEps({ arch: 'fq-bmru', eps: 0.5 })).toBe(0);
    expect(cumulativeEps({ arch: 'cmru' })).toBe(1);
    expect(cumulativeEps({ arch: 'cmru', eps: 0.5 })).toBe(1);
    expect(cumulativeEps({ arch: 'cmru-relaxed', eps: 0.3 })).toBe(0.3);
  });

  it('archOfEps: 0 is the FQ-BMRU, 1 the CMRU, anything else the relaxed CMRU', () => {
    expect(archOfEps(0)).toBe('fq-bmru');
    expect(archOfEps(1)).toBe('cmru');
    expect(archOfEps(0.5)).toBe('cmru-relaxed');
    expect(archOfEps(1e-9)).toBe('cmru-relaxed');
  });

  it('requireCircuitArch passes the FQ-BMRU and refuses the others with the way out', () => {
    expect(() => requireCircuitArch({ arch: 'fq-bmru' }, 'm.json')).not.toThrow();
    expect(inputError(() => requireCircuitArch({ arch: 'cmru' }, 'm.json'))).toBe(
      "m.json '__metadata__.arch': arch 'cmru' (eps = 1) has no circuit: the bistable cell realises the pure BMRU " +
        "(arch 'fq-bmru', eps = 0) only. Anneal the model to one (bmru train --arch cmru --anneal -o model.json " +
        'writes an fq-bmru file), or run it in software with bmru simulate',
    );
  });
});

describe('cell update', () => {
  /** The doc's recurrence: z = 1 where forced (hi, or not lo), y = hi. */
  const family = (sPrev: number, hi: number, lo: number, eps: number) => {
    const z = hi === 1 || lo === 0 ? 1 : 0;
    const a = 1 - z + eps * z;
    return a * sPrev + z * ((1 + eps) * hi - eps);
  };

  it('eps = 0: forced high -> 1, forced low -> 0, in the band the state held (from 0 and from 1)', () => {
    // hi = 1 implies lo = 1 (beta_hi > beta_lo): the three cases are (1, 1), (0, 1) band, (0, 0).
    expect([0, 1].map((s) => cellUpdate(s, 1, 1, 0))).toEqual([1, 1]);
    expect([0, 1].map((s) => cellUpdate(s, 0, 1, 0))).toEqual([0, 1]);
    expect([0, 1].map((s) => cellUpdate(s, 0, 0, 0))).toEqual([0, 0]);
  });

  it('eps = 1 counts: +1 above beta_hi, -1 below beta_lo, held in the band', () => {
    expect(cellUpdate(3, 1, 1, 1)).toBe(4);
    expect(cellUpdate(3, 0, 0, 1)).toBe(2);
    expect(cellUpdate(3, 0, 1, 1)).toBe(3);
    expect(cellUpdate(-2, 0, 0, 1)).toBe(-3);
  });

  it('0 < eps < 1 leaks: forced high -> eps s + 1, forced low -> eps s - eps, held in the band', () => {
    expect(cellUpdate(2, 1, 1, 0.25)).toBe(1.5); // 0.25 * 2 + 1
    expect(cellUpdate(2, 0, 0, 0.25)).toBe(0.25); // 0.25 * 2 - 0.25
    expect(cellUpdate(2, 0, 1, 0.25)).toBe(2);
  });

  it('agrees with the family recurrence for every step and a spread of states and eps', () => {
    for (const eps of [0, 0.125, 0.5, 0.75, 1]) {
      for (const s of [-3, -0.5, 0, 0.25, 1, 2.5]) {
        for (const [hi, lo] of [
          [1, 1],
          [0, 1],
          [0, 0],
        ]) {
          expect(cellUpdate(s, hi, lo, eps), `eps ${eps}, s ${s}, hi ${hi}, lo ${lo}`).toBeCloseTo(
            family(s, hi, lo, eps),
            14,
          );
        }
      }
    }
  });

  it('eps = 0 evaluates the BMRU form hi (1 - s) + lo s itself, bit for bit, on smooth steps too', () => {
    // The doc's promise (BMRU states and gradients unchanged by the family): the general form
    // (lo - hi) s + hi rounds differently, e.g. at s = hi = 0.1, lo = 0.25 it gives 0.115 where
    // 0.1 * 0.9 + 0.25 * 0.1 rounds to 0.11500000000000002.
    for (const [s, hi, lo] of [
      [0.1, 0.1, 0.25],
      [0.1, 0.2, 0.5],
      [0.3, 0.1, 0.75],
    ]) {
      expect(cellUpdate(s, hi, lo, 0), `s ${s}, hi ${hi}, lo ${lo}`).toBe(hi * (1 - s) + lo * s);
    }
    expect(cellUpdate(0.1, 0.1, 0.25, 0)).not.toBe(0.115);
  });

  it('cellCarry is the derivative in s_{t-1}: 1 in the band, eps where forced', () => {
    for (const eps of [0, 0.25, 1]) {
      expect(cellCarry(0, 1, eps)).toBe(1);
      expect(cellCarry(1, 1, eps)).toBe(eps);
      expect(cellCarry(0, 0, eps)).toBe(eps);
    }
    // On smooth steps (a gradient check) it is the coefficient of s_{t-1} in cellUpdate: lo - hi + eps (1 - lo + hi).
    expect(cellCarry(0.25, 0.75, 0.5)).toBe(0.5 + 0.5 * 0.5);
    expect(cellUpdate(1, 0.25, 0.75, 0.5) - cellUpdate(0, 0.25, 0.75, 0.5)).toBeCloseTo(0.75, 14);
  });
});

/** judge: each check fails on its own when only its measure is below the limit. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_TOLERANCES, judge } from '../../src/compare/tolerance.js';
import type { Comparison } from '../../src/compare/metrics.js';

const ZERO = { '<1%': 0, '1-5%': 0, '5-20%': 0, '>=20%': 0 } as const;

/** A comparison that meets every default limit (the fields judge reads), with the vote agreement given. */
const comparison = (voteAgreement: number, stateAgreement = 1): Comparison =>
  ({
    frames: 20,
    unitFrames: 160,
    stateAgreement,
    voteAgreement,
    decisionMatch: true,
    softwareDecision: 1,
    circuitDecision: 1,
    disagreements: [],
    disagreementsByMargin: { ...ZERO },
    switching: [],
  }) as unknown as Comparison;

const check = (c: Comparison, name: string, tol = DEFAULT_TOLERANCES) =>
  judge(c, tol).checks.find((k) => k.name === name)!;

describe('judge: vote agreement', () => {
  it(`fails the run when the vote agreement (0.9) is below the floor (${DEFAULT_TOLERANCES.minVoteAgreement}), all else passing`, () => {
    const c = comparison(0.9);
    const v = judge(c);
    expect(v.pass).toBe(false);
    expect(check(c, 'vote agreement')).toEqual({
      name: 'vote agreement',
      measured: 0.9,
      limit: '>= 0.95',
      pass: false,
    });
    expect(v.checks.filter((k) => !k.pass).map((k) => k.name)).toEqual(['vote agreement']);
  });

  it('passes at the floor and above it, and follows the floor the tolerances give', () => {
    expect(judge(comparison(0.95)).pass).toBe(true);
    expect(judge(comparison(1)).pass).toBe(true);
    expect(check(comparison(0.9), 'vote agreement', { ...DEFAULT_TOLERANCES, minVoteAgreement: 0.85 }).pass).toBe(true);
    expect(check(comparison(0.96), 'vote agreement', { ...DEFAULT_TOLERANCES, minVoteAgreement: 0.97 }).pass).toBe(
      false,
    );
  });

  it('judges votes and states separately: perfect votes do not rescue states below their floor', () => {
    const v = judge(comparison(1, 0.99));
    expect(v.pass).toBe(false);
    expect(v.checks.filter((k) => !k.pass).map((k) => k.name)).toEqual(['state agreement']);
  });
});

/** The tolerance file and every check judge makes: each limit at its edge, each field of each check. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Comparison, Disagreement, MarginClass } from '../../src/compare/metrics.js';
import { DEFAULT_TOLERANCES, judge, loadTolerances, parseTolerances } from '../../src/compare/tolerance.js';
import { InputError } from '../../src/errors.js';
import { scratchDir } from '../helpers.js';

const CLASSES: readonly MarginClass[] = ['<1%', '1-5%', '5-20%', '>=20%'];
const ZERO = { '<1%': 0, '1-5%': 0, '5-20%': 0, '>=20%': 0 } as const;

/** A comparison that meets every default limit (the fields judge reads); `over` replaces some. */
const comparison = (over: Partial<Record<keyof Comparison, unknown>> = {}): Comparison =>
  ({
    frames: 20,
    unitFrames: 160,
    stateAgreement: 1,
    voteAgreement: 1,
    decisionMatch: true,
    disagreements: [],
    disagreementsByMargin: { ...ZERO },
    switching: [],
    ...over,
  }) as unknown as Comparison;

/** A disagreement of margin class `marginClass`, fresh and unexplained unless `flags` says otherwise. */
const disagreement = (
  marginClass: MarginClass,
  flags: { carried?: boolean; glitch?: boolean; transition?: boolean } = {},
): Disagreement =>
  ({ marginClass, carried: false, glitch: false, transition: false, ...flags }) as unknown as Disagreement;

const check = (c: Comparison, name: string, tol = DEFAULT_TOLERANCES) =>
  judge(c, tol).checks.find((k) => k.name === name);

describe('tolerance file', () => {
  const dir = scratchDir('bmru-tol-');

  it('takes the documented defaults for absent keys: 99.5% states, 95% votes, decision must match, no unexplained disagreement at >= 20%', async () => {
    const file = join(dir, 'partial.json');
    writeFileSync(file, JSON.stringify({ minStateAgreement: 0.9 }));
    expect(await loadTolerances(file)).toEqual({
      minStateAgreement: 0.9,
      requireDecisionMatch: true,
      minVoteAgreement: 0.95,
      maxDisagreements: {},
      maxUnexplained: { '>=20%': 0 },
    });
    expect(DEFAULT_TOLERANCES.maxUnexplained).toEqual({ '>=20%': 0 });
  });

  it('accepts a limit for each of the four margin classes, in both tables, and refuses any other class', () => {
    const all = Object.fromEntries(CLASSES.map((c, i) => [c, i]));
    const t = parseTolerances({ maxDisagreements: all, maxUnexplained: all });
    expect(t.maxDisagreements).toEqual({ '<1%': 0, '1-5%': 1, '5-20%': 2, '>=20%': 3 });
    expect(t.maxUnexplained).toEqual({ '<1%': 0, '1-5%': 1, '5-20%': 2, '>=20%': 3 });
    expect(() => parseTolerances({ maxDisagreements: { '2%': 1 } })).toThrow(InputError);
    expect(() => parseTolerances({ maxUnexplained: { '': 1 } })).toThrow(InputError);
  });

  it('names the file when it cannot be read or is not JSON', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ not json');
    await expect(loadTolerances(bad)).rejects.toThrow(InputError);
    await expect(loadTolerances(bad)).rejects.toMatchObject({ file: bad });
    await expect(loadTolerances(bad)).rejects.toThrow(/cannot read tolerance JSON/);
    const missing = join(dir, 'missing.json');
    await expect(loadTolerances(missing)).rejects.toMatchObject({ file: missing });
  });
});

describe('judge', () => {
  it('passes a state agreement exactly at the floor and fails one just below, saying the limit', () => {
    expect(check(comparison({ stateAgreement: 0.995 }), 'state agreement')).toEqual({
      name: 'state agreement',
      measured: 0.995,
      limit: '>= 0.995',
      pass: true,
    });
    expect(check(comparison({ stateAgreement: 0.994 }), 'state agreement')?.pass).toBe(false);
  });

  it('checks the decision only when the tolerances require it', () => {
    const wrong = comparison({ decisionMatch: false });
    expect(check(wrong, 'decision match')).toEqual({
      name: 'decision match',
      measured: false,
      limit: 'true',
      pass: false,
    });
    const lax = { ...DEFAULT_TOLERANCES, requireDecisionMatch: false };
    expect(judge(wrong, lax).checks.map((k) => k.name)).not.toContain('decision match');
    expect(judge(wrong, lax).pass).toBe(true);
  });

  it('allows up to maxDisagreements fresh disagreements of a class: 2 of 2 pass, 3 fail', () => {
    const tol = { ...DEFAULT_TOLERANCES, maxDisagreements: { '1-5%': 2 } };
    const at = (n: number) => comparison({ disagreementsByMargin: { ...ZERO, '1-5%': n } });
    expect(check(at(2), 'fresh disagreements at margin 1-5%', tol)).toEqual({
      name: 'fresh disagreements at margin 1-5%',
      measured: 2,
      limit: '<= 2',
      pass: true,
    });
    expect(check(at(1), 'fresh disagreements at margin 1-5%', tol)?.pass).toBe(true);
    expect(check(at(3), 'fresh disagreements at margin 1-5%', tol)?.pass).toBe(false);
    expect(judge(at(3), tol).pass).toBe(false);
  });

  it('counts as unexplained only fresh disagreements of the class that no glitch or transition explains', () => {
    const explained = [
      disagreement('>=20%', { carried: true }),
      disagreement('>=20%', { glitch: true }),
      disagreement('>=20%', { transition: true }),
      disagreement('5-20%'),
    ];
    const name = 'unexplained disagreements at margin >=20%';
    expect(check(comparison({ disagreements: explained }), name)).toEqual({
      name,
      measured: 0,
      limit: '<= 0',
      pass: true,
    });
    const one = comparison({ disagreements: [...explained, disagreement('>=20%')] });
    expect(check(one, name)).toEqual({ name, measured: 1, limit: '<= 0', pass: false });
    expect(judge(one).pass).toBe(false);
    expect(check(one, name, { ...DEFAULT_TOLERANCES, maxUnexplained: { '>=20%': 1 } })?.pass).toBe(true);
  });

  it('judges the slowest unit against maxSwitchDelayS (a unit that never switched counts as 0), only when set', () => {
    const c = comparison({ switching: [{ maxDelayS: 2e-6 }, { maxDelayS: null }, { maxDelayS: 5e-6 }] });
    const name = 'max switching delay (s)';
    expect(check(c, name)).toBeUndefined();
    expect(check(c, name, { ...DEFAULT_TOLERANCES, maxSwitchDelayS: 5e-6 })).toEqual({
      name,
      measured: 5e-6,
      limit: '<= 0.000005',
      pass: true,
    });
    expect(check(c, name, { ...DEFAULT_TOLERANCES, maxSwitchDelayS: 4e-6 })?.pass).toBe(false);
    expect(check(comparison(), name, { ...DEFAULT_TOLERANCES, maxSwitchDelayS: 1e-9 })?.measured).toBe(0);
  });

  it('judges it as a fraction of the frame with maxSwitchDelayFrames, and fails a result without a frame period', () => {
    // 4 ms of a 10 ms frame = 0.4 frames; the same delay in a 5 ms frame = 0.8 frames.
    const slow = { switching: [{ maxDelayS: 4e-3 }, { maxDelayS: 1e-3 }] };
    const name = 'max switching delay (frames)';
    const tol = { ...DEFAULT_TOLERANCES, maxSwitchDelayFrames: 0.5 };
    expect(check(comparison({ ...slow, frameS: 10e-3 }), name)).toBeUndefined();
    expect(check(comparison({ ...slow, frameS: 10e-3 }), name, tol)).toEqual({
      name,
      measured: 0.4,
      limit: '<= 0.5',
      pass: true,
    });
    expect(check(comparison({ ...slow, frameS: 5e-3 }), name, tol)).toMatchObject({ measured: 0.8, pass: false });
    // At the limit itself: 5 ms of a 10 ms frame is 0.5 frames, which '<= 0.5' lets pass.
    const atLimit = { switching: [{ maxDelayS: 5e-3 }] };
    expect(check(comparison({ ...atLimit, frameS: 10e-3 }), name, tol)).toMatchObject({ measured: 0.5, pass: true });
    expect(check(comparison(slow), name, tol)).toMatchObject({
      limit: '<= 0.5 (frame period not recorded)',
      pass: false,
    });
    expect(() => parseTolerances({ maxSwitchDelayFrames: 1.5 }, 'tol.json')).toThrow(/maxSwitchDelayFrames/);
  });
});

import { describe, expect, it } from 'vitest';
import { quantityList } from '../../src/cli/commands/analyze/sweep.js';
import { currentArg } from '../../src/cli/common.js';

// The --vdd and --unit-currents lists of analyze power --sweep and the --unit-current value (the flags' checks; no ngspice).
describe('quantityList', () => {
  it('reads numbers with SPICE suffixes, in order', () => {
    expect(quantityList('125p, 250p,1n,2.5e-9', 'unit-currents', 'A')).toEqual([125e-12, 250e-12, 1e-9, 2.5e-9]);
    expect(quantityList('0.6,0.9,1.8', 'vdd', 'V')).toEqual([0.6, 0.9, 1.8]);
  });

  it('refuses an empty entry, a word, zero or a negative value, naming the entry and the flag', () => {
    expect(quantityList('0.6,,0.9', 'vdd', 'V')).toMatch(
      /^--vdd must be a comma-separated list of values in V > 0 .* got "" in "0.6,,0.9"/,
    );
    expect(quantityList('0.6,abc', 'vdd', 'V')).toMatch(/got "abc"/);
    expect(quantityList('0', 'vdd', 'V')).toMatch(/got "0"/);
    expect(quantityList('-1n', 'unit-currents', 'A')).toMatch(/^--unit-currents .* got "-1n"/);
  });

  it('refuses the same value twice (to the 3 digits folder and file names show)', () => {
    expect(quantityList('250p,0.25n', 'unit-currents', 'A')).toMatch(/names 250 pA twice/);
    expect(quantityList('0.9,0.9001', 'vdd', 'V')).toMatch(/names 900 mV twice/);
  });
});

describe('currentArg (--unit-current)', () => {
  const parse = currentArg('unit-current');

  it('reads a number in A and SPICE notation, with or without the unit letter', () => {
    expect(parse(2.5e-10)).toBe(2.5e-10);
    expect(parse('2.5e-10')).toBe(2.5e-10);
    expect(parse('250p')).toBeCloseTo(2.5e-10, 24);
    expect(parse('250pA')).toBeCloseTo(2.5e-10, 24);
    expect(parse('1n')).toBeCloseTo(1e-9, 24);
    expect(parse('0.5nA')).toBeCloseTo(5e-10, 24);
  });

  it('refuses what is not a current above 0, naming the flag and the text', () => {
    expect(() => parse('')).toThrow('--unit-current expects a value');
    for (const bad of ['abc', '0', '-1e-9', '0p', 'pA', ' '])
      expect(() => parse(bad), bad).toThrow(
        `--unit-current must be a current in A > 0 (e.g. 250p, 250pA or 2.5e-10), got "${bad}"`,
      );
  });
});

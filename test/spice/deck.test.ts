import { describe, expect, it } from 'vitest';
import { controlLines, preloadBlock, spiceNumber, transientStopS } from '../../src/spice/deck.js';

describe('spiceNumber', () => {
  it('reads plain and exponent numbers', () => {
    expect(spiceNumber('1.5')).toBe(1.5);
    expect(spiceNumber('-2e-3')).toBe(-2e-3);
    expect(spiceNumber('.5')).toBe(0.5);
  });

  it('reads m as milli (1e-3) and meg as mega (1e6), in any case, ignoring units after the suffix', () => {
    expect(spiceNumber('10m')).toBeCloseTo(1e-2, 15);
    expect(spiceNumber('10ms')).toBeCloseTo(1e-2, 15);
    expect(spiceNumber('2MEG')).toBe(2e6);
    expect(spiceNumber('3u')).toBeCloseTo(3e-6, 18);
    expect(spiceNumber('4n')).toBeCloseTo(4e-9, 21);
    expect(spiceNumber('1k')).toBe(1e3);
    expect(spiceNumber('5s')).toBe(5);
  });

  it('gives undefined for expressions and names', () => {
    expect(spiceNumber('{tstop}')).toBeUndefined();
    expect(spiceNumber('tstop')).toBeUndefined();
    expect(spiceNumber('')).toBeUndefined();
  });
});

describe('transientStopS', () => {
  it('reads tstop from the .tran line of a deck, whatever follows it', () => {
    expect(transientStopS('* rc\nR1 a 0 1k\n.tran 10u 5m\n.end\n')).toBeCloseTo(5e-3, 15);
    expect(transientStopS('* x\n  .TRAN 0.00002 1.01 0 0.0002 uic\n')).toBe(1.01);
  });

  it('gives undefined for a deck without a transient or with an expression for tstop', () => {
    expect(transientStopS('* op\nR1 a 0 1k\n.op\n.end\n')).toBeUndefined();
    expect(transientStopS('* p\n.param t=1\n.tran 1u {t}\n')).toBeUndefined();
    expect(transientStopS('* comment\n* .tran 1u 1\n')).toBeUndefined();
  });
});

describe('controlLines and the preload block', () => {
  const CM = '/usr/lib/x86_64-linux-gnu/ngspice/analog.cm';
  const deckWith = (block: string[]) => ['* t', 'R1 a 0 1k', '.tran 1u 1m', ...block, '.end', ''].join('\n');

  it('accepts exactly the block preloadBlock writes, and only when asked to', () => {
    const block = preloadBlock({ codemodels: [CM], xtrtol: 7 });
    expect(block).toEqual(['.control', 'pre_set xtrtol=7', `pre_codemodel ${CM}`, '.endc']);
    expect(controlLines(deckWith(block), { allowPreload: true })).toEqual([]);
    expect(controlLines(deckWith(block))).toEqual([4, 7]);
    expect(preloadBlock({ codemodels: [CM] })).toEqual(['.control', `pre_codemodel ${CM}`, '.endc']);
  });

  it('still reports a block with any other line in it, or a code model that is not one absolute word', () => {
    const cases = [
      ['.control', `pre_codemodel ${CM}`, 'shell touch pwned', '.endc'],
      ['.control', 'pre_codemodel analog.cm', '.endc'],
      ['.control', `pre_codemodel ${CM} /tmp/evil.cm`, '.endc'],
      ['.control', 'pre_set xtrtol=7; shell ls', '.endc'],
      ['.control', '.endc'],
      ['.control', `pre_codemodel ${CM}`], // never closed
      ['.control run', `pre_codemodel ${CM}`, '.endc'], // a block opened with more on its line
      ['* x', '.endc'].concat(['.control', `pre_codemodel ${CM}`]), // closed before it opens
    ];
    for (const block of cases) expect(controlLines(deckWith(block), { allowPreload: true })).not.toEqual([]);
  });

  it('refuses to write a path or an xtrtol the block could not carry', () => {
    expect(() => preloadBlock({ codemodels: ['/x y/analog.cm'] })).toThrow(RangeError);
    expect(() => preloadBlock({ codemodels: [CM], xtrtol: 2.5 })).toThrow(/xtrtol/);
    expect(() => preloadBlock({ codemodels: [CM], xtrtol: 0 })).toThrow(/xtrtol/);
  });
});

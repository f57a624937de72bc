/** scripts/lib/mutant.mjs: a mutant from a Stryker report applied to source text means what Stryker ran. */
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ESM script module (scripts/lib/mutant.mjs), typed by its use here
import { applyMutant, offsetOf } from '../../scripts/lib/mutant.mjs';

type Pos = { line: number; column: number };
const apply = applyMutant as (
  source: string,
  m: { location: { start: Pos; end: Pos }; replacement: string; mutatorName: string },
) => string;

describe('offsetOf', () => {
  it('counts 1-based lines and columns', () => {
    expect((offsetOf as (t: string, p: Pos) => number)('ab\ncd\nef', { line: 3, column: 2 })).toBe(7); // 'f'
  });
});

describe('applyMutant', () => {
  it('keeps the operand an operator mutant replaced: (a || b) && c, not a || (b && c)', () => {
    const source = 'return a && b && c;';
    // Stryker's LogicalOperator mutant of the inner `a && b` (columns 8-14, end exclusive).
    const text = apply(source, {
      location: { start: { line: 1, column: 8 }, end: { line: 1, column: 14 } },
      replacement: 'a || b',
      mutatorName: 'LogicalOperator',
    });
    const mutated = new Function('a', 'b', 'c', text) as (a: boolean, b: boolean, c: boolean) => boolean;
    // (true || false) && false is false; pasted without parentheses, true || (false && false) would be true.
    expect(mutated(true, false, false)).toBe(false);
    expect(text).toBe('return (a || b) && c;');
  });

  it('leaves a block a block: {} in parentheses would be an object', () => {
    const source = 'function g() {\n  return 1;\n}';
    const text = apply(source, {
      location: { start: { line: 1, column: 14 }, end: { line: 3, column: 2 } },
      replacement: '{}',
      mutatorName: 'BlockStatement',
    });
    expect(text).toBe('function g() {}');
  });
});

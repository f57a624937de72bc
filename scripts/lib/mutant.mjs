// Applying a mutant from a Stryker report (mutation-testing-report-schema JSON) to the source text, as Stryker's own
// instrumenter does to the syntax tree (scripts/survivors.mjs).

/** Character offset in `text` of a 1-based line and column. */
export function offsetOf(text, { line, column }) {
  let at = 0;
  for (let l = 1; l < line; l++) at = text.indexOf('\n', at) + 1;
  return at + column - 1;
}

/**
 * Mutators whose replacement is an expression that stands where an operand stood. Stryker swaps the node in the
 * syntax tree, so `a && b && c` with its inner `a && b` turned into `a || b` computes `(a || b) && c`; pasted as text
 * the same replacement reads `a || b && c`, which is `a || (b && c)`. Their replacements go in parentheses. A block
 * (`BlockStatement`) must not: `{}` in parentheses is an object, not a body.
 */
const EXPRESSION_MUTATORS = new Set([
  'ArithmeticOperator',
  'ConditionalExpression',
  'EqualityOperator',
  'LogicalOperator',
  'MethodExpression',
  'UnaryOperator',
]);

/** `source` with mutant `m` (its `location`, `replacement` and `mutatorName`) applied. */
export function applyMutant(source, m) {
  const [from, to] = [offsetOf(source, m.location.start), offsetOf(source, m.location.end)];
  const replacement = EXPRESSION_MUTATORS.has(m.mutatorName) ? `(${m.replacement})` : m.replacement;
  return source.slice(0, from) + replacement + source.slice(to);
}

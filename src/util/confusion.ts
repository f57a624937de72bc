/**
 * Confusion matrices of clip decisions, for any class count: rows are the true class, columns the decision
 * (`m[target][decision]` clips), as scikit-learn's `confusion_matrix` lays them out.
 */

/** Counts of (target, decision) pairs in a `classes` x `classes` matrix. @throws RangeError for a class out of range. */
export function confusionMatrix(pairs: Iterable<readonly [number, number]>, classes: number): number[][] {
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (const [target, decision] of pairs) {
    if (!(target >= 0 && target < classes && decision >= 0 && decision < classes))
      throw new RangeError(`class (${target}, ${decision}) outside 0..${classes - 1}`);
    m[target][decision]++;
  }
  return m;
}

/** Per class: clips of it decided as it / clips of it (recall); null for a class with no clip. */
export function perClassAccuracy(m: readonly (readonly number[])[]): (number | null)[] {
  return m.map((row, k) => {
    const n = row.reduce((s, v) => s + v, 0);
    return n === 0 ? null : row[k] / n;
  });
}

/** Overall accuracy: the diagonal over all clips (NaN with none). */
export function matrixAccuracy(m: readonly (readonly number[])[]): number {
  const n = m.reduce((s, row) => s + row.reduce((a, v) => a + v, 0), 0);
  return m.reduce((s, row, k) => s + row[k], 0) / n;
}

/** The Pareto front of operating points: the ones no other point beats on cost without losing value. */

/** An operating point: something to pay (`cost`, lower is better) for something to keep (`value`, higher is better). */
export interface Tradeoff {
  readonly cost: number;
  readonly value: number;
}

/**
 * Indices of the non-dominated points, cheapest first. A point is dominated when another costs no more and is
 * worth no less, and is strictly better on one of the two. Equal points do not dominate each other: each is on
 * the front (a user choosing between them needs both). Order within equal costs keeps the input order.
 *
 * @throws RangeError on a cost or value that is not a finite number (a NaN would silently never dominate)
 * @example paretoFront([{ cost: 2, value: 0.9 }, { cost: 1, value: 0.95 }, { cost: 3, value: 0.99 }]) // [1, 2]
 */
export function paretoFront(points: readonly Tradeoff[]): number[] {
  points.forEach((p, i) => {
    if (!Number.isFinite(p.cost) || !Number.isFinite(p.value))
      throw new RangeError(`point ${i}: cost ${p.cost} and value ${p.value} must be finite numbers`);
  });
  // Cheapest first, and within one cost the most valuable first: each point then only needs the best value seen.
  // Array.prototype.sort is stable (ES2019), so equal points keep their input order.
  const order = points
    .map((_, i) => i)
    .sort((a, b) => points[a].cost - points[b].cost || points[b].value - points[a].value);
  const front: number[] = [];
  let best: Tradeoff | undefined;
  for (const i of order) {
    const p = points[i];
    if (best === undefined || p.value > best.value) {
      front.push(i);
      best = p;
    } else if (p.value === best.value && p.cost === best.cost) {
      front.push(i); // the same point again
    }
  }
  return front;
}

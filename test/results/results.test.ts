import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ESM script (scripts/results.mjs), typed by its use here
import { drift, ROWS, runRow } from '../../scripts/results.mjs';
import { REPO_ROOT } from '../helpers.js';

// The README quotes docs/results.md; this re-runs its cheap rows (the shipped example on both kits and the fidelity
// gate, ~2 min of ngspice) and fails when a figure moved beyond its recorded tolerance, so a change to the
// generator, the calibration or the comparator cannot leave the README's figures behind.
interface Figure {
  value: number;
  unit: string;
  tol: { abs?: number; rel?: number };
}
interface RowRecord {
  id: string;
  commit: string;
  figures: Record<string, Figure>;
}
interface RowDef {
  id: string;
  cheap?: boolean;
}

const doc = JSON.parse(readFileSync(path.join(REPO_ROOT, 'docs', 'results.json'), 'utf8')) as { rows: RowRecord[] };

describe('docs/results.md figures (npm run results)', () => {
  it('records every row the script defines, each with figures', () => {
    expect(doc.rows.map((r) => r.id).sort()).toEqual((ROWS as RowDef[]).map((r) => r.id).sort());
    for (const r of doc.rows) expect(Object.keys(r.figures).length, r.id).toBeGreaterThan(0);
  });

  it('drift() allows a figure its tolerance and no more', () => {
    const f: Figure = { value: 99.75, unit: '%', tol: { abs: 0.5 } };
    expect(drift('x', f, 99.3)).toBeNull();
    expect(drift('x', f, 99.2)).toMatch(/^x: 99.2% now, 99.75% recorded/);
    const p: Figure = { value: 200, unit: 'nW', tol: { rel: 0.02 } };
    expect(drift('p', p, 203.9)).toBeNull();
    expect(drift('p', p, 204.1)).not.toBeNull();
  });

  for (const row of (ROWS as RowDef[]).filter((r) => r.cheap)) {
    it(`${row.id}: a re-run reproduces the recorded figures`, () => {
      const recorded = doc.rows.find((r) => r.id === row.id)!;
      const now = runRow(row) as { figures: Record<string, Figure> };
      const moved = Object.entries(recorded.figures).flatMap(([name, f]) => {
        const v = now.figures[name];
        if (v === undefined) return [`${name}: no longer measured`];
        const d = drift(name, f, v.value);
        return d === null ? [] : [d];
      });
      expect(
        moved,
        `re-measured at ${recorded.commit}'s figures; regenerate with npm run results -- --only ${row.id}`,
      ).toEqual([]);
    }, 600_000);
  }
});

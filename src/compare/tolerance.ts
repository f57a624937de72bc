/** Pass/fail of a comparison against a tolerance file (JSON); every check reports what it measured. */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { InputError, parseWith } from '../errors.js';
import { strictObject } from '../util/schema.js';
import type { Comparison, MarginClass } from './metrics.js';

const ToleranceSchema = strictObject({
  /** Fraction of unit-frames whose circuit state equals the model's (issue 2: >= 99.5%). */
  minStateAgreement: z.number().min(0).max(1).default(0.995),
  /** The clip-level majority decision must match. */
  requireDecisionMatch: z.boolean().default(true),
  /** Fraction of frames whose argmax matches. */
  minVoteAgreement: z.number().min(0).max(1).default(0.95),
  /**
   * Largest number of fresh disagreements allowed per margin class (absent = unlimited). A carried one (the circuit
   * still holding a wrong state from an earlier frame while the model holds) is not counted again: its run counts
   * once, where it started. State agreement still counts every unit-frame.
   */
  maxDisagreements: z
    .partialRecord(z.enum(['<1%', '1-5%', '5-20%', '>=20%']), z.number().int().nonnegative())
    .default({}),
  /**
   * The same for fresh disagreements that neither an edge glitch nor frame-transition latching explains: at a large
   * margin those point at a wrong element value, so by default none is allowed at >= 20%.
   */
  maxUnexplained: z
    .partialRecord(z.enum(['<1%', '1-5%', '5-20%', '>=20%']), z.number().int().nonnegative())
    .default({ '>=20%': 0 }),
  /** Largest switching delay of any unit (s): a state must settle well inside a frame. */
  maxSwitchDelayS: z.number().positive().optional(),
  /**
   * The same as a fraction of the frame period, so one limit holds across a plan's `framePeriods` (an absolute
   * one loosens as the frame shortens). The cell is read at 98% of the frame (DESIGN §4).
   */
  maxSwitchDelayFrames: z.number().positive().max(1).optional(),
});

export type Tolerances = z.infer<typeof ToleranceSchema>;
export const DEFAULT_TOLERANCES: Tolerances = ToleranceSchema.parse({});

export interface Check {
  readonly name: string;
  readonly measured: number | boolean;
  readonly limit: string;
  readonly pass: boolean;
}

export interface Verdict {
  readonly pass: boolean;
  readonly checks: Check[];
}

/** Load a tolerance file; absent keys take the defaults above. */
export async function loadTolerances(path: string): Promise<Tolerances> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new InputError(`cannot read tolerance JSON (${(e as Error).message})`, { file: path });
  }
  return parseTolerances(raw, path);
}

/** Validate tolerances given as data (e.g. inline in a batch plan); absent keys take the defaults. */
export function parseTolerances(raw: unknown, file?: string): Tolerances {
  return parseWith(ToleranceSchema, raw, file);
}

/** Judge a comparison. */
export function judge(c: Comparison, tol: Tolerances = DEFAULT_TOLERANCES): Verdict {
  const checks: Check[] = [
    {
      name: 'state agreement',
      measured: c.stateAgreement,
      limit: `>= ${tol.minStateAgreement}`,
      pass: c.stateAgreement >= tol.minStateAgreement,
    },
    {
      name: 'vote agreement',
      measured: c.voteAgreement,
      limit: `>= ${tol.minVoteAgreement}`,
      pass: c.voteAgreement >= tol.minVoteAgreement,
    },
  ];
  if (tol.requireDecisionMatch)
    checks.push({ name: 'decision match', measured: c.decisionMatch, limit: 'true', pass: c.decisionMatch });
  for (const [cls, max] of Object.entries(tol.maxDisagreements) as [MarginClass, number][]) {
    const n = c.disagreementsByMargin[cls];
    checks.push({ name: `fresh disagreements at margin ${cls}`, measured: n, limit: `<= ${max}`, pass: n <= max });
  }
  for (const [cls, max] of Object.entries(tol.maxUnexplained) as [MarginClass, number][]) {
    const n = c.disagreements.filter((d) => d.marginClass === cls && !d.carried && !d.glitch && !d.transition).length;
    checks.push({
      name: `unexplained disagreements at margin ${cls}`,
      measured: n,
      limit: `<= ${max}`,
      pass: n <= max,
    });
  }
  if (tol.maxSwitchDelayS !== undefined) {
    const worst = Math.max(0, ...c.switching.map((s) => s.maxDelayS ?? 0));
    checks.push({
      name: 'max switching delay (s)',
      measured: worst,
      limit: `<= ${tol.maxSwitchDelayS}`,
      pass: worst <= tol.maxSwitchDelayS,
    });
  }
  if (tol.maxSwitchDelayFrames !== undefined) {
    const worst = Math.max(0, ...c.switching.map((s) => s.maxDelayS ?? 0));
    // A result written before the frame period was recorded cannot be judged against a fraction of it.
    const measured = c.frameS === undefined ? Number.NaN : worst / c.frameS;
    checks.push({
      name: 'max switching delay (frames)',
      measured,
      limit:
        c.frameS === undefined
          ? `<= ${tol.maxSwitchDelayFrames} (frame period not recorded)`
          : `<= ${tol.maxSwitchDelayFrames}`,
      pass: measured <= tol.maxSwitchDelayFrames,
    });
  }
  return { pass: checks.every((k) => k.pass), checks };
}

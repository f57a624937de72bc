/**
 * Hardware tables of a process (`calibration.json` key `hardware`, written by `bmru calibrate`): what the
 * circuit's building blocks do where the ideal model's equations stop holding, measured by ngspice DC sweeps.
 * The hardware-aware model (analysis/hwmodel.ts) reads them; the generator does not.
 *
 * - `knee.n` / `knee.p`: a summing node whose diode is an NMOS (`n`: the net current sourced into it) or a PMOS
 *   (`p`: the net current sunk from it), fed by an ideal current P and an opposing mirror copy that takes N in
 *   saturation. An ideal ReLU gives max(P - N, 0). In weak inversion the diode still conducts at P <= N: the
 *   opposing copy pulls the node only until it leaves saturation, a few U_T from the rail, where the diode passes
 *   pA. The knee is absolute (pA), so its weight grows as the unit current falls.
 * - `copy`: what a unit copy passes when the diode it copies carries r, divided by the mirror table's gain at
 *   ratio 1, per copy polarity and load (as the mirror tables: `n`/`p` into a diode of the other type, `nSame`/
 *   `pSame` into one of its own). ~r from ~100 pA up; below, more than r: a diode carrying pA sits at a V_GS of a
 *   few U_T, where its own V_DS (= V_GS) cuts its current while a copy in saturation does not, so a rail at zero
 *   still passes its copies' floor (c180: ~0.1-0.3 pA per unit copy). The copy's current is a function of the
 *   gate voltage alone, so this holds whatever set the diode's current (an input, a knee, a cell).
 * - `cellOff`: a cell's state current while OFF, against its input as a fraction of its beta_hi (the switch M3
 *   leaks more as V0 rises towards the fold; a cell with little hysteresis is a soft comparator whose output
 *   starts to rise before beta_hi), per cell of the calibration grid.
 * - `railCharge`: how fast a rail moves. A diode node in weak inversion with current r fed I obeys Q dr/dt = r (I - r),
 *   Q = n U_T C (charge per e-fold of current), so a rail rises from near zero slowly (exponentially from its
 *   floor) and falls fast when pulled; Q per um^2 of gate and per um of drain on the node, from steps of rails
 *   with different loads (rise and fall agree to ~2%).
 * - `cellFold`: where a branch really ends relative to where V0 crosses VDD/2 (the comparator's reading and the
 *   calibrated beta_hi / beta_lo). The OFF branch ends at beta_hi; the ON branch's V0 falls through VDD/2 up to a
 *   few % above its end (GF180MCU: 6.5%), so an input just below beta_lo reads OFF but the cell comes back ON.
 * - `cellSwitch`: time from an input step to V0 crossing VDD/2, per direction and relative overdrive, on a coarse
 *   grid of cell biases (the time depends on the threshold and on the feedback: a GF180 cell of beta_hi 143 pA turns
 *   ON 30% faster with I_width = 0.93 I_thresh than with 0.25).
 * - `cellCommit`: the point of no return of a cell turning ON, as a fraction of that time: the shortest input pulse
 *   that still latches it. With strong feedback (I_width ~ I_thresh) a cell is committed halfway (GF180, 30%
 *   overdrive: pulses of 0.5 t50 latch), with weak feedback only at ~0.8-1 t50: a glitch shorter than t50 can
 *   latch the first and not the second.
 *   With the rails' dynamics this is what turns a transient of a candidate (mirror chains of different speed
 *   meeting at a node, an upstream cell switching late) into a latched state, or not.
 *
 * Every current is in amperes. Interpolation is piecewise linear (`kneeAt`, `onGrid`); analysis/hwmodel.ts packs the
 * tables into software units for its inner loop.
 */
import { z } from 'zod';

const KneeTableSchema = z.object({
  /** Opposing current N (A) of each row, increasing, the first 0: what the opposing copies take in saturation. */
  opposingA: z.array(z.number()).min(2),
  /** Net current h = P - N (A) of each column, increasing, containing 0. A column below -N (P < 0) holds the value at P = 0. */
  netA: z.array(z.number()).min(2),
  /** The node diode's current (A), [row][column]. */
  diodeA: z.array(z.array(z.number())),
});
export type KneeTable = z.infer<typeof KneeTableSchema>;

const CopySchema = z.object({
  /** Diode current r of the copied rail (A), increasing, from 0. */
  currentsA: z.array(z.number()).min(2),
  /** Unit copy current / mirror-table gain at ratio 1 (A), per copy polarity and load, one per current. */
  n: z.array(z.number()),
  p: z.array(z.number()),
  nSame: z.array(z.number()),
  pSame: z.array(z.number()),
});
export type CopyTable = z.infer<typeof CopySchema>;

const CellOffSchema = z.object({
  /** The cell grid's I_thresh rows (A) and I_width / I_thresh columns. */
  thresh: z.array(z.number()).min(1),
  fractions: z.array(z.number()).min(2),
  /** Cell input I_in as a fraction of the cell's beta_hi, increasing, from 0. */
  inputFractions: z.array(z.number()).min(2),
  /** State current while OFF (A), [row][column][input fraction]. */
  offA: z.array(z.array(z.array(z.number()))),
});
export type CellOffTable = z.infer<typeof CellOffSchema>;

const RailChargeSchema = z.object({
  /** Charge per e-fold of a rail's current (C, i.e. n U_T x capacitance) per um^2 of gate on the rail. */
  gateCPerUm2: z.number().nonnegative(),
  /** The same per um of drain width on the rail. */
  drainCPerUm: z.number().nonnegative(),
  /**
   * Where a rail at zero current starts charging from (A): the r0 that makes a measured rise from no current fit the
   * law. ~1 pA on c180 (its diodes conduct at V = 0), ~1e-5 pA on GF180MCU, where a rail rising from zero takes 2-6x
   * as long as from 20 pA.
   */
  zeroA: z.number().nonnegative(),
  /**
   * Charge per e-fold per farad of a capacitor across the rail's diode (V: the diode's n U_T), for the generator's
   * cell input filter. Absent in tables measured before the filter: such a capacitor is then not modelled.
   */
  capQPerF: z.number().nonnegative().optional(),
});
export type RailCharge = z.infer<typeof RailChargeSchema>;

const SwitchTimesSchema = z.object({
  /** Cells of the measurement: I_thresh rows (A) and I_width / I_thresh columns (as the cell grid, coarser). */
  thresh: z.array(z.number().positive()).min(1),
  fractions: z.array(z.number()).min(2),
  /** Overdrive of each step as a fraction of the threshold crossed (beta_hi turning ON, beta_lo turning OFF), increasing. */
  overdrives: z.array(z.number().positive()).min(2),
  /** Time (s) from the input step to V0 crossing VDD/2, [row][column][overdrive]. */
  timeS: z.array(z.array(z.array(z.number().positive()))),
});
export type SwitchTimes = z.infer<typeof SwitchTimesSchema>;

const CellFoldSchema = z
  .object({
    /** The cell grid's I_thresh rows (A) and I_width / I_thresh columns. */
    thresh: z.array(z.number()).min(1),
    fractions: z.array(z.number()).min(2),
    /**
     * Where the branch ends / where V0 crosses VDD/2, [row][column]: ON branch in (0, 1] and OFF branch >= 1. The
     * hardware-aware model re-evaluates a frame from the state it ended in and relies on the ON branch ending at or
     * below beta_lo: with a fold above it, a cell held between beta_lo and the fold would read ON and stay ON.
     */
    lo: z.array(z.array(z.number().positive().max(1))),
    hi: z.array(z.array(z.number().min(1))),
  })
  .superRefine((t, ctx) => {
    for (const key of ['lo', 'hi'] as const) {
      const rows = t[key];
      if (rows.length !== t.thresh.length)
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `expected ${t.thresh.length} rows (one per thresh), got ${rows.length}`,
        });
      rows.forEach((row, i) => {
        if (row.length !== t.fractions.length)
          ctx.addIssue({
            code: 'custom',
            path: [key, i],
            message: `expected ${t.fractions.length} columns (one per fraction), got ${row.length}`,
          });
      });
    }
  });
export type CellFold = z.infer<typeof CellFoldSchema>;

const CellCommitSchema = z.object({
  /** Cells of the measurement: I_thresh rows (A) and I_width / I_thresh columns. */
  thresh: z.array(z.number().positive()).min(1),
  fractions: z.array(z.number()).min(2),
  /** Overdrive of each pulse past beta_hi (fraction), increasing. */
  overdrives: z.array(z.number().positive()).min(2),
  /** The shortest pulse that turns the cell ON, as a fraction of the switching time at that overdrive, [row][column][overdrive]. */
  ratio: z.array(z.array(z.array(z.number().positive()))),
});
export type CellCommit = z.infer<typeof CellCommitSchema>;

export const HardwareTablesSchema = z.object({
  knee: z.object({ n: KneeTableSchema, p: KneeTableSchema }).optional(),
  copy: CopySchema.optional(),
  cellOff: CellOffSchema.optional(),
  /** Rail dynamics: Q dr/dt = r (I - r) for a rail of diode current r fed I, Q from its gate area and drain width. */
  railCharge: z.object({ n: RailChargeSchema, p: RailChargeSchema }).optional(),
  /** The cells' folds relative to their VDD/2 thresholds (the memory against the reading), on the cell grid. */
  cellFold: CellFoldSchema.optional(),
  /** Cell switching times after an input step, per direction. */
  cellSwitch: z.object({ on: SwitchTimesSchema, off: SwitchTimesSchema }).optional(),
  /** When a cell turning ON has passed the point of no return, as a fraction of its switching time. */
  cellCommit: CellCommitSchema.optional(),
  /** Where the numbers come from (decks, sizes, what was swept). */
  source: z.string().optional(),
});
export type HardwareTables = z.infer<typeof HardwareTablesSchema>;

/** Index i of the segment [xs[i], xs[i+1]] holding x (clamped to the first / last segment); xs increasing. */
export function segment(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length - 1;
  if (x <= xs[0]) return 0;
  if (x >= xs[hi]) return hi - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] <= x) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * A summing node's diode current (A) for sourced P and opposing N (A, both >= 0). Above the table's h range the
 * node is ideal (h itself); inside, the measured excess over max(h, 0) is interpolated bilinearly in (N, h), N
 * clamped to the measured rows. Interpolating the excess, not the current, keeps the ideal kink at h = 0 and
 * lets rows measured at different N share one column grid.
 *
 * @example kneeAt(knee.n, 90e-12, 100e-12) // a c180 node that should be off passes ~4.5e-12
 */
export function kneeAt(table: KneeTable, pA: number, nA: number): number {
  const h = pA - nA;
  const cols = table.netA;
  if (h >= cols[cols.length - 1]) return h;
  const rows = table.opposingA;
  const n = Math.min(Math.max(nA, 0), rows[rows.length - 1]);
  const r = segment(rows, n);
  const wr = (n - rows[r]) / (rows[r + 1] - rows[r]);
  const c = segment(cols, h);
  const wc = Math.min(Math.max((h - cols[c]) / (cols[c + 1] - cols[c]), 0), 1);
  const at = (row: number, col: number) => table.diodeA[row][col] - Math.max(cols[col], 0);
  const lo = at(r, c) + wc * (at(r, c + 1) - at(r, c));
  const hi = at(r + 1, c) + wc * (at(r + 1, c + 1) - at(r + 1, c));
  return Math.max(Math.max(h, 0) + lo + wr * (hi - lo), 0);
}

/**
 * The four grid cells around a cell with bias I_thresh `threshA` and I_width / I_thresh `fraction`, with their weights:
 * linear in log I_thresh between rows and linear in the fraction between columns, clamped at the edges (as
 * calibration.ts's cellForward interpolates the same grid).
 */
export function gridWeights(
  thresh: readonly number[],
  fractions: readonly number[],
  threshA: number,
  fraction: number,
): { row: number; col: number; weight: number }[] {
  const r = thresh.length === 1 ? 0 : segment(thresh, threshA);
  const wr =
    thresh.length === 1
      ? 0
      : Math.min(Math.max(Math.log(threshA / thresh[r]) / Math.log(thresh[r + 1] / thresh[r]), 0), 1);
  const c = segment(fractions, fraction);
  const wc = Math.min(Math.max((fraction - fractions[c]) / (fractions[c + 1] - fractions[c]), 0), 1);
  const r1 = Math.min(r + 1, thresh.length - 1);
  return [
    { row: r, col: c, weight: (1 - wr) * (1 - wc) },
    { row: r, col: c + 1, weight: (1 - wr) * wc },
    { row: r1, col: c, weight: wr * (1 - wc) },
    { row: r1, col: c + 1, weight: wr * wc },
  ];
}

/** A grid quantity at a cell's bias: `at(row, col)` mixed with gridWeights. */
export function onGrid(
  thresh: readonly number[],
  fractions: readonly number[],
  threshA: number,
  fraction: number,
  at: (row: number, col: number) => number,
): number {
  return gridWeights(thresh, fractions, threshA, fraction).reduce(
    (acc, g) => acc + (g.weight === 0 ? 0 : g.weight * at(g.row, g.col)),
    0,
  );
}

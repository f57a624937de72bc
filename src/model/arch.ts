/**
 * The model families a file may hold (DESIGN §1, `__metadata__.arch`) and their cumulative-update eps.
 *
 * All three share one cell update, with z_t = 1 where the candidate forces the state (c >= beta_hi or
 * c < beta_lo) and 0 inside the hysteresis band, and the increment sign_t = +1 above beta_hi, -1 below beta_lo:
 *   s_t = a_t s_{t-1} + z_t ((1 + eps) y_t - eps),   a_t = (1 - z_t) + eps z_t,   y_t = [c_t >= beta_hi]
 * eps = 0 is the FQ-BMRU (s_t = y_t where forced, held in the band); eps = 1 the CMRU, s_t = s_{t-1} + z_t sign_t
 * (a counter: the state is an integer); 0 < eps < 1 the relaxed (leaky) CMRU.
 */
import { z } from 'zod';
import { InputError } from '../errors.js';

export const MODEL_ARCHS = ['fq-bmru', 'cmru', 'cmru-relaxed'] as const;
export type ModelArch = (typeof MODEL_ARCHS)[number];

/** What `__metadata__.arch` and `__metadata__.eps` say, validated. */
export interface ArchSpec {
  readonly arch: ModelArch;
  /** eps of the cumulative update (0 = BMRU, 1 = CMRU). */
  readonly eps: number;
}

const DecimalString = z
  .string({ error: "expected a decimal number as a string, e.g. '0.5'" })
  .regex(/^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/, {
    error: "expected a decimal number as a string, e.g. '0.5'",
  })
  .transform(Number);

const ArchMetaSchema = z.discriminatedUnion(
  'arch',
  [
    z.object({
      arch: z.literal('fq-bmru'),
      eps: DecimalString.pipe(z.literal(0, { error: "expected '0' or no eps: the FQ-BMRU is eps = 0" })).optional(),
    }),
    z.object({
      arch: z.literal('cmru'),
      eps: DecimalString.pipe(z.literal(1, { error: "expected '1' or no eps: the CMRU is eps = 1" })).optional(),
    }),
    z.object({
      arch: z.literal('cmru-relaxed'),
      eps: DecimalString.pipe(
        z
          .number()
          .gt(0, { error: "expected eps in (0, 1): eps = 0 is arch 'fq-bmru'" })
          .lt(1, { error: "expected eps in (0, 1): eps = 1 is arch 'cmru'" }),
      ),
    }),
  ],
  { error: `expected arch ${MODEL_ARCHS.map((a) => `'${a}'`).join(', ')}` },
);

/** Validate `arch` (default 'fq-bmru') and `eps` of a file's metadata; errors name the file and the field. */
export function parseArchMeta(meta: { arch?: string; eps?: string }, file?: string): ArchSpec {
  const raw = { arch: meta.arch ?? 'fq-bmru', ...(meta.eps !== undefined ? { eps: meta.eps } : {}) };
  const parsed = ArchMetaSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue.path[0] === 'eps' ? 'eps' : 'arch';
    const got = key === 'eps' ? meta.eps : meta.arch;
    const missing = got === undefined ? 'missing' : `got '${got}'`;
    const needsEps = key === 'eps' && raw.arch === 'cmru-relaxed' ? " (arch 'cmru-relaxed' needs eps in (0, 1))" : '';
    throw new InputError(`${issue.message}, ${missing}${needsEps}`, { file, field: `__metadata__.${key}` });
  }
  const { arch, eps } = parsed.data;
  return { arch, eps: arch === 'cmru-relaxed' ? eps! : arch === 'cmru' ? 1 : 0 };
}

/** eps of a network's cell update: 0 for the FQ-BMRU, 1 for the CMRU, the stored value for the relaxed CMRU. */
export function cumulativeEps(net: { readonly arch: ModelArch; readonly eps?: number }): number {
  return net.arch === 'fq-bmru' ? 0 : net.arch === 'cmru' ? 1 : net.eps!;
}

/** The family a trained eps belongs to. */
export function archOfEps(eps: number): ModelArch {
  return eps === 0 ? 'fq-bmru' : eps === 1 ? 'cmru' : 'cmru-relaxed';
}

/**
 * Refuse a model the circuit cannot realise: the cell is a Schmitt trigger with two states, which is the pure BMRU
 * (eps = 0) only. Names the file, the field and what to do.
 */
export function requireCircuitArch(net: { readonly arch: ModelArch; readonly eps?: number }, file?: string): void {
  if (net.arch === 'fq-bmru') return;
  throw new InputError(
    `arch '${net.arch}' (eps = ${cumulativeEps(net)}) has no circuit: the bistable cell realises the pure BMRU ` +
      `(arch 'fq-bmru', eps = 0) only. Anneal the model to one (bmru train --arch ${net.arch} --anneal -o model.json ` +
      `writes an fq-bmru file), or run it in software with bmru simulate`,
    { file, field: '__metadata__.arch' },
  );
}

/**
 * One cell's next state from its previous state `sPrev` and the steps hi = [c >= beta_hi], lo = [c >= beta_lo]
 * (0/1, or smooth in a gradient check): s_t = a_t s_{t-1} + hi - eps (1 - lo), a_t = (lo - hi) + eps (1 - lo + hi),
 * which is the family above with z_t = 1 - lo + hi and y_t = hi. At eps = 0 it is written as the BMRU always was,
 * hi (1 - s_{t-1}) + lo s_{t-1}, so BMRU states and gradients stay bit-identical.
 */
export function cellUpdate(sPrev: number, hi: number, lo: number, eps: number): number {
  if (eps === 0) return hi * (1 - sPrev) + lo * sPrev;
  return (lo - hi + eps * (1 - lo + hi)) * sPrev + hi - eps * (1 - lo);
}

/** ds_t/ds_{t-1} of `cellUpdate`: 1 in the band and eps where the candidate forces the state (0/1 steps). */
export function cellCarry(hi: number, lo: number, eps: number): number {
  return lo - hi + eps * (1 - lo + hi);
}

/**
 * The specs a datasheet lists (`bmru batch report --datasheet`) and the limits a plan's `specs:` section puts on
 * them. Plain names and a zod schema only: the evaluation is in datasheet.ts, so that plan.ts can validate limits
 * without importing the report code.
 */
import { z } from 'zod';

/**
 * Every spec, in datasheet order. Agreements are fractions (0..1), powers in W, delays in s: the plan's limits are
 * written in the same units (`stateAgreementTrained: { min: 0.99 }`, `corePowerW: { max: 60e-9 }`).
 */
export const SPEC_NAMES = [
  'stateAgreementTrained',
  'worstInputStateAgreementTrained',
  'stateAgreementRealised',
  'voteAgreementTrained',
  'decisionMatchTrained',
  'corePowerW',
  'powerCellW',
  'powerFfW',
  'powerBiasW',
  'powerInW',
  'switchDelayMaxS',
  'switchDelayMaxFrames',
] as const;
export type SpecName = (typeof SPEC_NAMES)[number];

/** A spec's limits: a measured value v passes when min <= v <= max (either end optional, the ends included). */
export interface SpecLimit {
  readonly min?: number;
  readonly max?: number;
}

const LimitSchema = z
  .strictObject(
    { min: z.number().finite().optional(), max: z.number().finite().optional() },
    { error: 'expected {min?: number, max?: number}' },
  )
  .refine((l) => l.min !== undefined || l.max !== undefined, { error: 'expected min, max or both' })
  .refine((l) => l.min === undefined || l.max === undefined || l.min <= l.max, {
    error: 'expected min <= max',
    path: ['max'],
  });

/** The plan's `specs:` section: limits by spec name; a name not in SPEC_NAMES is an error listing them. */
export const SpecsSchema = z.record(z.string(), LimitSchema).superRefine((specs, ctx) => {
  for (const name of Object.keys(specs)) {
    if (!(SPEC_NAMES as readonly string[]).includes(name))
      ctx.addIssue({ code: 'custom', path: [name], message: `unknown spec: expected one of ${SPEC_NAMES.join(', ')}` });
  }
});

export type SpecLimits = Readonly<Partial<Record<SpecName, SpecLimit>>>;

/** kwsSummary's agreement means, on rows whose vote and state agreements differ (the earlier rows had votes of 1). */
import { describe, expect, it } from 'vitest';
import { kwsSummary, type KwsRow } from '../../src/analysis/kws.js';

const row = (i: number, stateAgreement: number | null, voteAgreement: number | null): KwsRow => ({
  clip: { index: i, name: `c${i}`, file: `x/c${i}.wav`, label: 'yes', target: 1 },
  trainedDecision: 1,
  softwareDecision: stateAgreement === null ? null : 1,
  circuitDecision: stateAgreement === null ? null : 1,
  stateAgreement,
  voteAgreement,
  byCause: null,
  powerW: stateAgreement === null ? null : { cell: 1e-9, ff: 1e-9, bias: 1e-9, in: 1e-9 },
  ngspiceS: stateAgreement === null ? null : 1,
  failure: stateAgreement === null ? 'timeout: killed' : null,
  reference: stateAgreement === null ? null : 'realised',
  references:
    stateAgreement === null || voteAgreement === null
      ? {}
      : { realised: { decision: 1, stateAgreement, voteAgreement } },
});

describe('kwsSummary agreement means', () => {
  it('averages vote agreement from the votes and state agreement from the states, over simulated clips only', () => {
    const s = kwsSummary([row(0, 0.99, 0.7), row(1, 0.95, 0.9), row(2, 0.97, 0.8), row(3, null, null)], 1.01);
    expect(s.voteAgreementMean).toBeCloseTo((0.7 + 0.9 + 0.8) / 3, 12);
    expect(s.stateAgreementMean).toBeCloseTo((0.99 + 0.95 + 0.97) / 3, 12);
    expect(s.stateAgreementMin).toBeCloseTo(0.95, 12);
  });
});

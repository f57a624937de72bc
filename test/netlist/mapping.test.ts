import { describe, expect, it } from 'vitest';
import { mappingSummary, type MappingRow } from '../../src/netlist/mapping.js';
import { formatMappingWorst } from '../../src/cli/report.js';
import { traceStateAgreement } from '../../src/compare/metrics.js';
import type { Trace } from '../../src/model/network.js';

const row = (parameter: string, setting: string, target: number, realised: number, element = 'X'): MappingRow => ({
  parameter,
  element,
  realisation: '',
  target,
  realised,
  setting,
  error: realised - target,
});

describe('mapping summary', () => {
  // I_unit = 1 nA. A 0.1 pA hysteresis width realised at 0.2 pA is 100% off and moves nothing; a 1 nA threshold
  // 10 pA off (1%) moves the cell's switching point by 10 pA. A weight 1% off scales its signal by 1%.
  const rows = [
    row('blocks.0.cell.delta[0]', 'I=2e-13', 0.0001, 0.0002),
    row('blocks.0.cell.beta_hi[0]', 'I=1.01e-9', 1, 1.01),
    row('blocks.0.cand.bias[1]', 'I=5e-10', -0.5, -0.502),
    row('pre.weight[0,1]', 'w=4.04u', 2, 2.02),
    row('pre.weight[0,2]', 'w=0.2u', 0.1, 0.1005),
    row('pre.weight[0,3]', 'w=0', 0.01, 0, '(none)'),
    row('blocks.0.cell.s0[0]', '0 V', 1, 0),
  ];

  it('ranks current sources by their current error in amperes and mirrors by relative gain error', () => {
    const m = mappingSummary(rows, 1e-9);
    expect(m.rows).toBe(rows.length);
    expect(m.worstCurrent?.row.parameter).toBe('blocks.0.cell.beta_hi[0]');
    expect(m.worstCurrent?.errorA).toBeCloseTo(1e-11, 20);
    expect(m.worstGain?.row.parameter).toBe('pre.weight[0,1]');
    expect(m.worstGain?.relError).toBeCloseTo(0.01, 12);
    expect(formatMappingWorst(m)).toBe(
      'current 10.00 pA (blocks.0.cell.beta_hi[0]), mirror gain 1.00% (pre.weight[0,1])',
    );
  });

  it('says so when nothing is off', () => {
    expect(formatMappingWorst(mappingSummary([row('pre.weight[0,0]', 'w=2u', 1, 1)], 1e-9))).toBe('none');
  });
});

describe('effect of the mapping on states', () => {
  it("is the fraction of unit-frames where the realised model keeps the trained model's state", () => {
    const trace = (states: number[][]) => ({ states: states.map((s) => Uint8Array.from(s)) }) as unknown as Trace;
    expect(
      traceStateAgreement(
        trace([
          [0, 1, 1, 0],
          [1, 1],
        ]),
        trace([
          [0, 1, 0, 0],
          [1, 1],
        ]),
      ),
    ).toBeCloseTo(5 / 6, 12);
  });
});

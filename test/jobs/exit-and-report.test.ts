import { describe, expect, it } from 'vitest';
import { batchExitCode, EXIT_BELOW_TOLERANCE, EXIT_ERROR, EXIT_INTERRUPTED } from '../../src/cli/exit.js';
import { REPORT_HEADER, reportCsvRow, type GroupRow } from '../../src/jobs/report.js';

describe('batch exit code', () => {
  const base = { interrupted: false, failures: [] as unknown[], belowTolerance: 0 };
  it('is 0 when every job ran and passed, 1 when some are below tolerance, 2 when some failed, 130 when interrupted', () => {
    expect(batchExitCode(base)).toBe(0);
    expect(batchExitCode({ ...base, belowTolerance: 3 })).toBe(EXIT_BELOW_TOLERANCE);
    expect(batchExitCode({ ...base, belowTolerance: 3, failures: [{}] })).toBe(EXIT_ERROR);
    expect(batchExitCode({ ...base, belowTolerance: 3, failures: [{}], interrupted: true })).toBe(EXIT_INTERRUPTED);
    expect([EXIT_BELOW_TOLERANCE, EXIT_ERROR, EXIT_INTERRUPTED]).toEqual([1, 2, 130]);
  });
});

describe('report.csv rows', () => {
  it('have one cell per header column, empty where nothing was measured', () => {
    const row: GroupRow = {
      model: 'm.json',
      process: 'c180',
      corner: '-',
      jobs: 2,
      ok: 1,
      failed: 1,
      pending: 0,
      pass: 1,
      stateAgreementMean: 0.99,
      stateAgreementMin: 0.99,
      voteAgreementMean: null,
      decisionMatchRate: 1,
      ngspiceMeanS: 2.5,
      verdictReferences: ['realised'],
      references: { realised: { stateAgreementMean: 0.99, decisionMatchRate: 1 } },
    } as unknown as GroupRow;
    const cells = reportCsvRow(row);
    expect(cells).toHaveLength(REPORT_HEADER.length);
    expect(cells[REPORT_HEADER.indexOf('vote_agreement_mean')]).toBe('');
    expect(cells[REPORT_HEADER.indexOf('state_agreement_mean_realised')]).toBe(0.99);
    expect(cells[REPORT_HEADER.indexOf('state_agreement_mean_trained')]).toBe('');
  });
});

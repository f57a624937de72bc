import { describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { baselineFrom, checkFidelity, fidelityExitCode, junitXml, loadBaseline, markdownSummary, type Baseline } from '../../src/jobs/fidelity.js';
import { DEFAULT_TOLERANCES } from '../../src/compare/tolerance.js';
import type { Job } from '../../src/jobs/plan.js';
import type { ResultRecord } from '../../src/jobs/store.js';
import type { Comparison } from '../../src/compare/metrics.js';

// Records built by hand: what is judged here is the bookkeeping, not a circuit.
const job = (n: number): Job => ({ id: `000000000000000${n}`, index: n, label: `case ${n}` } as unknown as Job);
const comparison = (stateAgreement: number, decisionMatch = true): Comparison => ({
  frames: 10, unitFrames: 80, stateAgreement, firstDivergence: null, disagreements: [], disagreementsByMargin: { '<1%': 0, '1-5%': 0, '5-20%': 0, '>=20%': 0 },
  switching: [], boundaries: [], voteAgreement: 1, softwareDecision: 1, circuitDecision: decisionMatch ? 1 : 0, decisionMatch, logitMeanAbsError: 0, transitionDisagreements: 0, glitchDisagreements: 0,
});
const ok = (n: number, c: Comparison): ResultRecord => ({ id: job(n).id, status: 'ok', job: job(n), wallS: 2, cosim: { comparison: c } } as unknown as ResultRecord);
const tol = { ...DEFAULT_TOLERANCES, minStateAgreement: 0.9 };

describe('fidelity check', () => {
  const jobs = [job(1), job(2), job(3)];
  const base: Baseline = baselineFrom('s', 'g', jobs, new Map(jobs.map((j, i) => [j.id, ok(i + 1, comparison(1))])));

  it('passes what matches the baseline and flags drops, lost decisions and failed tolerances', () => {
    const records = new Map([
      [jobs[0].id, ok(1, comparison(0.998))], // within 0.5 points
      [jobs[1].id, ok(2, comparison(0.98))], // 2 points below the baseline
      [jobs[2].id, ok(3, comparison(1, false))], // decision lost
    ]);
    const cases = checkFidelity(jobs, records, base, tol);
    expect(cases.map((c) => c.status)).toEqual(['pass', 'regression', 'regression']);
    expect(cases[1].reasons.join()).toMatch(/98\.00% is more than 0\.50 points below the baseline's 100\.00%/);
    expect(cases[2].reasons.join()).toMatch(/no longer does/);
    expect(fidelityExitCode(cases)).toBe(1);
    const xml = junitXml('s', cases);
    expect(xml).toMatch(/<testsuite name="s" tests="3" failures="2" errors="0"/);
    expect(xml.match(/<failure /g)).toHaveLength(2);
    expect(markdownSummary('s', cases, 0.005)).toMatch(/\| case 2 \| 98\.00% \| 100\.00% \| \*\*REGRESSION\*\* \|/);
  });

  it('reports unmeasured cases as errors (exit 2) and cases without a baseline as new', () => {
    const records = new Map([[jobs[0].id, ok(1, comparison(1))]]);
    const partial: Baseline = { ...base, entries: { [jobs[1].id]: base.entries[jobs[1].id] } };
    const cases = checkFidelity(jobs, records, partial, tol);
    expect(cases.map((c) => c.status)).toEqual(['new', 'error', 'error']);
    expect(fidelityExitCode(cases)).toBe(2);
    expect(junitXml('s', cases)).toMatch(/errors="2"/);
  });

  it('refuses to make a baseline from an incomplete run', () => {
    expect(() => baselineFrom('suite.yaml', 'g', jobs, new Map())).toThrow(/has no successful result/);
  });
});

describe('baseline file', () => {
  it('says a corrupt baseline is not valid JSON, and does not tell the user to create one over it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'bmru-baseline-'));
    try {
      const file = path.join(dir, 'suite.baseline.json');
      await writeFile(file, '{"schema": "bmru-fidelity-baseline/1", "entr');
      const e = await loadBaseline(file).then(() => undefined, (err: Error) => err);
      expect(e?.message.startsWith(`${file}: expected valid JSON (`), e?.message).toBe(true);
      expect(e?.message).toContain('restore it');
      expect(e?.message).not.toContain('create it');
      await expect(loadBaseline(path.join(dir, 'missing.json'))).rejects.toThrow(/missing\.json: cannot read the baseline \(ENOENT\); create it with `bmru fidelity baseline`/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

import { describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  baselineFrom,
  caseKey,
  checkFidelity,
  fidelityExitCode,
  junitXml,
  loadBaseline,
  markdownSummary,
  type Baseline,
} from '../../src/jobs/fidelity.js';
import { DEFAULT_TOLERANCES } from '../../src/compare/tolerance.js';
import type { Job } from '../../src/jobs/plan.js';
import type { ResultRecord } from '../../src/jobs/store.js';
import { DISAGREEMENT_CAUSES, type Comparison } from '../../src/compare/metrics.js';

// Jobs and records built by hand: what is judged here is the bookkeeping, not a circuit. Case n runs the model
// on a 5-frame random clip seeded n; `rev` stands for a recalibration: same case, other content, other id.
const job = (n: number, rev = 0): Job =>
  ({
    id: `${rev}00000000000000${n}`,
    fingerprint: `${rev}00000000000000${n}`,
    index: n,
    label: `case ${n}`,
    model: { path: 'net.json', file: '/abs/net.json', sha256: 'm' },
    input: { kind: 'random', frames: 5, seed: n },
    process: { ref: 'c180', name: 'c180', sha256: 'p', calibrationSha256: `c${rev}`, deckSha256: 'd' },
    corner: null,
    seed: null,
    spiceSeed: null,
  }) as unknown as Job;
const noneByMargin = { '<1%': 0, '1-5%': 0, '5-20%': 0, '>=20%': 0 };
const comparison = (stateAgreement: number, decisionMatch = true): Comparison => ({
  frames: 10,
  unitFrames: 80,
  stateAgreement,
  firstDivergence: null,
  disagreements: [],
  disagreementsByMargin: noneByMargin,
  disagreementsByCause: Object.fromEntries(
    DISAGREEMENT_CAUSES.map((c) => [c, noneByMargin]),
  ) as Comparison['disagreementsByCause'],
  switching: [],
  boundaries: [],
  voteAgreement: 1,
  softwareDecision: 1,
  circuitDecision: decisionMatch ? 1 : 0,
  decisionMatch,
  logitMeanAbsError: 0,
  transitionDisagreements: 0,
  glitchDisagreements: 0,
});
const ok = (j: Job, c: Comparison): ResultRecord =>
  ({ id: j.id, status: 'ok', job: j, wallS: 2, cosim: { comparison: c } }) as unknown as ResultRecord;
const records = (...rs: [Job, Comparison][]) => new Map(rs.map(([j, c]) => [j.id, ok(j, c)]));
const tol = { ...DEFAULT_TOLERANCES, minStateAgreement: 0.9 };

describe('caseKey', () => {
  it('names model, input, process, corner and seed as the suite writes them', () => {
    expect(caseKey(job(11))).toBe('net.json|random#11:5|c180|-|-');
    const file = {
      ...job(1),
      model: { ...job(1).model, path: './models/../net.json' },
      input: {
        kind: 'file',
        path: 'clips/clip-101.csv',
        file: '/x',
        sha256: 'h',
        frames: 5,
        noiseSd: 0.01,
        noiseSeed: 3,
      },
      corner: 'tt',
      seed: 3,
    } as Job;
    expect(caseKey(file)).toBe('net.json|clips/clip-101.csv:5+noise0.01|c180|tt|seed3');
  });

  it('does not change when the content (the job id) does', () => {
    expect(job(1, 1).id).not.toBe(job(1).id);
    expect(caseKey(job(1, 1))).toBe(caseKey(job(1)));
  });
});

describe('fidelity check', () => {
  const jobs = [job(1), job(2), job(3)];
  const base: Baseline = baselineFrom(
    's.yaml',
    's',
    'g',
    jobs,
    records([jobs[0], comparison(1)], [jobs[1], comparison(1)], [jobs[2], comparison(0.95)]),
  );

  it('keys the baseline by case and keeps the job fingerprint', () => {
    expect(Object.keys(base.entries)).toEqual(jobs.map(caseKey));
    expect(base.entries[caseKey(jobs[0])].fingerprint).toBe(jobs[0].fingerprint);
  });

  it('passes what matches the baseline and flags drops, lost decisions and failed tolerances', () => {
    const check = checkFidelity(
      's.yaml',
      jobs,
      records([jobs[0], comparison(0.998)], [jobs[1], comparison(0.98)], [jobs[2], comparison(0.95, false)]),
      base,
      tol,
    );
    expect(check.cases.map((c) => c.status)).toEqual(['pass', 'regression', 'regression']);
    expect(check.cases[1].reasons.join()).toMatch(/98\.00% is more than 0\.50 points below the baseline's 100\.00%/);
    expect(check.cases[2].reasons.join()).toMatch(/no longer does/);
    expect(fidelityExitCode(check)).toBe(1);
    const xml = junitXml('s', check);
    expect(xml).toMatch(/<testsuite name="s" tests="3" failures="2" errors="0" skipped="0"/);
    expect(xml.match(/<failure /g)).toHaveLength(2);
    expect(markdownSummary('s', check)).toMatch(
      /\| net\.json\\\|random#2:5\\\|c180\\\|-\\\|- \| realised \| 98\.00% \| 100\.00% \| \*\*REGRESSION\*\* \| 98\.00% \|/,
    );
  });

  it('passes a case whose code changed but not its fingerprint (new job id, same content and toolkit version)', () => {
    const rebuilt = jobs.map((j) => ({ ...j, id: `f${j.id.slice(1)}` }));
    const check = checkFidelity(
      's.yaml',
      rebuilt,
      records([rebuilt[0], comparison(1)], [rebuilt[1], comparison(1)], [rebuilt[2], comparison(0.95)]),
      base,
      tol,
    );
    expect(check.cases.map((c) => c.status)).toEqual(['pass', 'pass', 'pass']);
  });

  it('still compares a case whose fingerprint changed: changed within limits (exit 0), regression beyond', () => {
    const now = [job(1, 1), job(2, 1), job(3, 1)];
    const check = checkFidelity(
      's.yaml',
      now,
      records([now[0], comparison(1)], [now[1], comparison(0.98)], [now[2], comparison(0.95, false)]),
      base,
      tol,
    );
    expect(check.cases.map((c) => c.status)).toEqual(['changed', 'regression', 'regression']);
    for (const c of check.cases)
      expect(c.reasons.join()).toMatch(/fingerprint changed \(baseline 000000000000000\d, now 100000000000000\d\)/);
    expect(check.cases[1].reasons.join()).toMatch(/more than 0\.50 points below the baseline's 100\.00%/);
    expect(check.cases[2].reasons.join()).toMatch(/no longer does/);
    expect(fidelityExitCode(check)).toBe(1);
    const changedOnly = checkFidelity(
      's.yaml',
      [now[0]],
      records([now[0], comparison(1)]),
      { ...base, entries: { [caseKey(now[0])]: base.entries[caseKey(now[0])] } },
      tol,
    );
    expect(fidelityExitCode(changedOnly)).toBe(0);
    expect(junitXml('s', changedOnly)).toMatch(/failures="0" errors="0"[^]*<system-out>changed: fingerprint changed/);
  });

  it('fails a case without a baseline entry (exit 1), unless new cases are allowed', () => {
    const partial: Baseline = { ...base, entries: { [caseKey(jobs[0])]: base.entries[caseKey(jobs[0])] } };
    const measured = records([jobs[0], comparison(1)], [jobs[1], comparison(1)]);
    const check = checkFidelity('s.yaml', jobs.slice(0, 2), measured, partial, tol);
    expect(check.cases.map((c) => c.status)).toEqual(['pass', 'new']);
    expect(check.cases[1].reasons).toEqual(['no baseline entry for this case']);
    expect(fidelityExitCode(check)).toBe(1);
    expect(junitXml('s', check)).toMatch(
      /failures="1" errors="0"[^]*<failure message="no baseline entry for this case">/,
    );
    expect(markdownSummary('s', check)).toMatch(/1 of 2 cases pass[^]*\*\*NEW \(NO BASELINE\)\*\*/);

    const allowed = checkFidelity('s.yaml', jobs.slice(0, 2), measured, partial, tol, { allowNew: true });
    expect(allowed.cases.map((c) => c.status)).toEqual(['pass', 'new']);
    expect(fidelityExitCode(allowed)).toBe(0);
    expect(junitXml('s', allowed)).toMatch(/failures="0" errors="0"/);
  });

  it('reports unmeasured cases as errors (exit 2)', () => {
    const check = checkFidelity('s.yaml', jobs, records([jobs[0], comparison(1)]), base, tol);
    expect(check.cases.map((c) => c.status)).toEqual(['pass', 'error', 'error']);
    expect(fidelityExitCode(check)).toBe(2);
    expect(junitXml('s', check)).toMatch(/errors="2"/);
  });

  it('lists baseline entries whose case left the suite as stale, without failing', () => {
    const check = checkFidelity('s.yaml', [jobs[0]], records([jobs[0], comparison(1)]), base, tol);
    expect(check.stale.map((s) => s.key)).toEqual([caseKey(jobs[1]), caseKey(jobs[2])]);
    expect(fidelityExitCode(check)).toBe(0);
    expect(junitXml('s', check)).toMatch(
      /tests="3" failures="0" errors="0" skipped="2"[^]*name="net\.json\|random#2:5\|c180\|-\|-"[^]*<skipped message="stale/,
    );
    expect(markdownSummary('s', check)).toMatch(
      /Stale baseline entries .*`net\.json\|random#2:5\|c180\|-\|-`, `net\.json\|random#3:5\|c180\|-\|-`/,
    );
  });

  it('names JUnit test cases by case key, not by job id', () => {
    const xml = junitXml(
      's',
      checkFidelity(
        's.yaml',
        jobs,
        records([jobs[0], comparison(1)], [jobs[1], comparison(1)], [jobs[2], comparison(0.95)]),
        base,
        tol,
      ),
    );
    expect([...xml.matchAll(/<testcase [^>]*name="([^"]*)"/g)].map((m) => m[1])).toEqual(jobs.map(caseKey));
    expect(xml).not.toContain(jobs[0].id);
  });

  it('refuses to make a baseline from an incomplete run', () => {
    expect(() => baselineFrom('suite.yaml', 's', 'g', jobs, new Map())).toThrow(
      /suite\.yaml: job .* has no successful result/,
    );
  });
});

describe('baseline file', () => {
  const withFile = async (text: string, f: (file: string) => Promise<void>) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'bmru-baseline-'));
    try {
      const file = path.join(dir, 'suite.baseline.json');
      await writeFile(file, text);
      await f(file);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
  const entry = {
    label: 'case 1',
    fingerprint: '0000000000000001',
    stateAgreement: 1,
    voteAgreement: 1,
    decisionMatch: true,
  };
  const v2 = (entries: object) =>
    JSON.stringify({ schema: 'bmru-fidelity-baseline/2', suite: 's', generator: 'g', createdAt: 't', entries });

  it('reads a version-2 baseline', async () => {
    await withFile(v2({ 'net.json|random#1:5|c180|-|-': entry }), async (file) => {
      expect(Object.keys((await loadBaseline(file)).entries)).toEqual(['net.json|random#1:5|c180|-|-']);
    });
  });

  it('rejects an empty baseline: it would compare nothing', async () => {
    await withFile(v2({}), async (file) => {
      await expect(loadBaseline(file)).rejects.toThrow(
        `${file} 'entries': the baseline has no entries, so a check would compare nothing: write it with \`bmru fidelity baseline\` after review`,
      );
    });
  });

  it('rejects a version-1 (job-id keyed) baseline and says to rewrite it after review', async () => {
    const v1 = JSON.stringify({
      schema: 'bmru-fidelity-baseline/1',
      suite: 's',
      generator: 'g',
      createdAt: 't',
      entries: { '0000000000000001': { label: 'case 1', stateAgreement: 1, voteAgreement: 1, decisionMatch: true } },
    });
    await withFile(v1, async (file) => {
      await expect(loadBaseline(file)).rejects.toThrow(
        /'schema': bmru-fidelity-baseline\/1 is keyed by job ids .* rewrite it with `bmru fidelity baseline` after reviewing/,
      );
    });
  });

  it('says a corrupt baseline is not valid JSON, and does not tell the user to create one over it', async () => {
    await withFile('{"schema": "bmru-fidelity-baseline/2", "entr', async (file) => {
      const e = await loadBaseline(file).then(
        () => undefined,
        (err: Error) => err,
      );
      expect(e?.message.startsWith(`${file}: expected valid JSON (`), e?.message).toBe(true);
      expect(e?.message).toContain('restore it');
      expect(e?.message).not.toContain('create it');
      await expect(loadBaseline(path.join(path.dirname(file), 'missing.json'))).rejects.toThrow(
        /missing\.json: cannot read the baseline \(ENOENT\); create it with `bmru fidelity baseline`/,
      );
    });
  });
});

describe('fidelity check with references', () => {
  // Case 1 measured against realised 95% and trained 99% (the circuit follows the trained model better).
  const j = job(1);
  const figures = (s: number) => ({
    stateAgreement: s,
    voteAgreement: 1,
    decisionMatch: true,
    softwareDecision: 1,
    circuitDecision: 1,
    disagreements: 0,
    freshDisagreements: 0,
  });
  const rec = (reference: 'trained' | 'realised', realised: number, trained: number) => {
    const r = ok(j, comparison(reference === 'realised' ? realised : trained));
    return new Map([
      [
        j.id,
        {
          ...r,
          cosim: { ...r.cosim!, reference, references: { trained: figures(trained), realised: figures(realised) } },
        } as ResultRecord,
      ],
    ]);
  };

  it("writes the verdict reference and every reference's figures into the baseline", () => {
    const base = baselineFrom('s.yaml', 's', 'g', [j], rec('realised', 0.95, 0.99));
    expect(base.entries[caseKey(j)]).toMatchObject({
      stateAgreement: 0.95,
      reference: 'realised',
      references: { trained: { stateAgreement: 0.99 }, realised: { stateAgreement: 0.95 } },
    });
  });

  it("judges the verdict's reference against the baseline's figures for the same reference", () => {
    const base = baselineFrom('s.yaml', 's', 'g', [j], rec('realised', 0.95, 0.99));
    // Judged against trained now: 98.9% is within 0.5 points of the baseline's trained 99%, though far above its realised 95%.
    const same = checkFidelity('s.yaml', [j], rec('trained', 0.95, 0.989), base, tol);
    expect(same.cases[0]).toMatchObject({
      status: 'pass',
      reference: 'trained',
      stateAgreement: 0.989,
      references: { trained: 0.989, realised: 0.95 },
    });
    expect(same.cases[0].baseline?.stateAgreement).toBe(0.99);
    const worse = checkFidelity('s.yaml', [j], rec('trained', 0.95, 0.98), base, tol);
    expect(worse.cases[0].status).toBe('regression');
    expect(worse.cases[0].reasons.join()).toMatch(/98\.00% is more than 0\.50 points below the baseline's 99\.00%/);
    expect(markdownSummary('s', worse)).toContain(
      '| case | reference | state agreement | baseline | result | vs trained | vs realised | why |',
    );
  });

  it('cannot compare a reference the baseline has no figures for: a baseline from before references was against realised', () => {
    const old: Baseline = {
      schema: 'bmru-fidelity-baseline/2',
      suite: 's',
      generator: 'g',
      createdAt: 'now',
      entries: {
        [caseKey(j)]: {
          label: 'case 1',
          fingerprint: j.id,
          stateAgreement: 0.95,
          voteAgreement: 1,
          decisionMatch: true,
        },
      },
    };
    expect(checkFidelity('s.yaml', [j], rec('realised', 0.95, 0.99), old, tol).cases[0].status).toBe('pass');
    const asTrained = checkFidelity('s.yaml', [j], rec('trained', 0.95, 0.99), old, tol);
    expect(asTrained.cases[0].status).toBe('new');
    expect(asTrained.cases[0].reasons.join()).toContain(
      'the baseline entry has no figures against the trained model (it was measured against realised)',
    );
    expect(fidelityExitCode(asTrained)).toBe(1);
  });
});

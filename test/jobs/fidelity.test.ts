import { describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  baselineFigures,
  baselineFrom,
  caseKey,
  caseOutcome,
  checkFidelity,
  DEFAULT_MAX_DROP,
  fidelityExitCode,
  junitXml,
  loadBaseline,
  markdownSummary,
  scoredReferences,
  statusText,
  type Baseline,
  type BaselineEntry,
  type CaseResult,
  type FidelityCheck,
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
  // Built inside each test: code run while vitest collects the file is covered by no test, and Stryker would count
  // every mutant it reaches as static (docs/mutation.md).
  const makeBase = (): Baseline =>
    baselineFrom(
      's.yaml',
      's',
      'g',
      jobs,
      records([jobs[0], comparison(1)], [jobs[1], comparison(1)], [jobs[2], comparison(0.95)]),
    );

  it('keys the baseline by case and keeps the job fingerprint', () => {
    const base = makeBase();
    expect(Object.keys(base.entries)).toEqual(jobs.map(caseKey));
    expect(base.entries[caseKey(jobs[0])].fingerprint).toBe(jobs[0].fingerprint);
  });

  it('passes what matches the baseline and flags drops, lost decisions and failed tolerances', () => {
    const base = makeBase();
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
    const base = makeBase();
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
    const base = makeBase();
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
    const base = makeBase();
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
    const base = makeBase();
    const check = checkFidelity('s.yaml', jobs, records([jobs[0], comparison(1)]), base, tol);
    expect(check.cases.map((c) => c.status)).toEqual(['pass', 'error', 'error']);
    expect(fidelityExitCode(check)).toBe(2);
    expect(junitXml('s', check)).toMatch(/errors="2"/);
  });

  it('lists baseline entries whose case left the suite as stale, without failing', () => {
    const base = makeBase();
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
    const base = makeBase();
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

describe('case keys and baselines, field by field', () => {
  it('leaves out frames and noise a file input does not have, and writes / for \\ in paths', () => {
    const file = {
      ...job(1),
      input: { kind: 'file', path: 'clips\\a.csv', file: '/x', sha256: 'h', frames: null, noiseSd: null },
      process: { ...job(1).process, ref: './procs/../c180.json' },
      seed: 0,
    } as unknown as Job;
    expect(caseKey(file)).toBe('net.json|clips/a.csv|c180.json|-|seed0');
  });

  it('refuses two cases with one key, naming both and the suite', () => {
    const twin = { ...job(1, 1), label: 'case 1 again' };
    expect(() => checkFidelity('s.yaml', [job(1), twin], new Map(), {} as Baseline, tol)).toThrow(
      "s.yaml: cases 'case 1' and 'case 1 again' have one case key 'net.json|random#1:5|c180|-|-': name each case once",
    );
  });

  it('writes every figure of a baseline entry, the references only when the run scored them', () => {
    const before = Date.now();
    const base = baselineFrom('s.yaml', 'suite', 'bmru 1.2', [job(1)], records([job(1), comparison(0.75, false)]));
    expect(base).toMatchObject({ schema: 'bmru-fidelity-baseline/2', suite: 'suite', generator: 'bmru 1.2' });
    const created = Date.parse(base.createdAt);
    expect(created).toBeGreaterThanOrEqual(before - 1000);
    expect(created).toBeLessThanOrEqual(Date.now());
    expect(base.entries).toEqual({
      [caseKey(job(1))]: {
        label: 'case 1',
        fingerprint: job(1).fingerprint,
        stateAgreement: 0.75,
        voteAgreement: 1,
        decisionMatch: false,
        reference: 'realised',
      },
    });
  });

  it('needs an ok record with a co-simulation for every case', () => {
    const noCosim = new Map([[job(1).id, { id: job(1).id, status: 'ok', job: job(1) } as unknown as ResultRecord]]);
    expect(() => baselineFrom('suite.yaml', 's', 'g', [job(1)], noCosim)).toThrow(
      'suite.yaml: job 0000000000000001 (case 1) has no successful result: a baseline needs every case measured',
    );
  });
});

describe('judging one case', () => {
  const j = job(1);
  // Tolerances that pass any figure, so only the baseline rules are judged.
  const lax = { ...DEFAULT_TOLERANCES, minStateAgreement: 0, minVoteAgreement: 0, requireDecisionMatch: false };
  const base = (s: number) => baselineFrom('s.yaml', 's', 'g', [j], records([j, comparison(s)]));

  it('allows a drop of exactly maxDrop, not more (1 - 0.25 = 0.75: binary fractions, no rounding)', () => {
    const at = checkFidelity('s.yaml', [j], records([j, comparison(0.75)]), base(1), lax, { maxDrop: 0.25 });
    expect(at.cases[0]).toMatchObject({ status: 'pass', reasons: [] });
    expect(at.maxDrop).toBe(0.25);
    const below = checkFidelity('s.yaml', [j], records([j, comparison(0.5)]), base(1), lax, { maxDrop: 0.25 });
    expect(below.cases[0].status).toBe('regression');
    expect(below.cases[0].reasons).toEqual([
      "state agreement 50.00% is more than 25.00 points below the baseline's 100.00%",
    ]);
  });

  it('allows half a point by default, and no new cases', () => {
    expect(DEFAULT_MAX_DROP).toBe(0.005);
    const check = checkFidelity('s.yaml', [j], records([j, comparison(0.995)]), base(1), lax);
    expect(check.maxDrop).toBe(0.005);
    expect(check.allowNew).toBe(false);
    // 0.995 is 0.005 below 1 up to rounding: compared with the default, not with 0
    expect(checkFidelity('s.yaml', [j], records([j, comparison(0.99)]), base(1), lax).cases[0].status).toBe(
      'regression',
    );
  });

  it('flags a lost decision only when the baseline had it', () => {
    const lost = baselineFrom('s.yaml', 's', 'g', [j], records([j, comparison(1, false)]));
    expect(checkFidelity('s.yaml', [j], records([j, comparison(1, false)]), lost, lax).cases[0].status).toBe('pass');
    expect(checkFidelity('s.yaml', [j], records([j, comparison(1, true)]), lost, lax).cases[0].status).toBe('pass');
  });

  it('names each failed tolerance with its measurement and limit, and a case failing them without a baseline regresses', () => {
    const check = checkFidelity('s.yaml', [j], records([j, comparison(0.5)]), { ...base(1), entries: {} }, tol);
    expect(check.cases[0]).toMatchObject({
      status: 'regression',
      reasons: ['state agreement: 0.5 (limit >= 0.9)', 'no baseline entry for this case'],
      baseline: null,
    });
  });

  it('reports a failed job by its failure class and message, a missing one as no result, without figures', () => {
    const failed = new Map([
      [
        j.id,
        {
          id: j.id,
          status: 'failed',
          job: j,
          wallS: 7,
          failure: { class: 'timeout', kind: 'x', message: 'took 60 s' },
        } as unknown as ResultRecord,
      ],
    ]);
    const b = base(1);
    const [c] = checkFidelity('s.yaml', [j], failed, b, lax).cases;
    expect(c).toEqual({
      key: caseKey(j),
      id: j.id,
      label: 'case 1',
      wallS: 7,
      baseline: b.entries[caseKey(j)],
      status: 'error',
      reasons: ['timeout: took 60 s'],
      stateAgreement: null,
      reference: null,
      references: {},
    });
    const unclassified = new Map([[j.id, { ...failed.get(j.id)!, failure: undefined }]]);
    expect(checkFidelity('s.yaml', [j], unclassified, b, lax).cases[0].reasons).toEqual(['no result']);
    const [none] = checkFidelity('s.yaml', [j], new Map(), b, lax).cases;
    expect(none).toMatchObject({ status: 'error', reasons: ['no result'], wallS: 0 });
  });

  it('reports an ok record without a co-simulation as no result', () => {
    const noCosim = new Map([[j.id, { id: j.id, status: 'ok', job: j, wallS: 3 } as unknown as ResultRecord]]);
    const [c] = checkFidelity('s.yaml', [j], noCosim, base(1), lax).cases;
    expect(c).toMatchObject({ status: 'error', reasons: ['no result'], wallS: 3, stateAgreement: null });
  });

  it('names the reference a baseline entry was measured against when it has none of the verdict', () => {
    // Measured against trained, with no figures per reference; the run is judged against realised (no `reference`).
    const entry: BaselineEntry = { ...base(1).entries[caseKey(j)], reference: 'trained' };
    const [c] = checkFidelity(
      's.yaml',
      [j],
      records([j, comparison(1)]),
      {
        ...base(1),
        entries: { [caseKey(j)]: entry },
      },
      lax,
    ).cases;
    expect(c).toMatchObject({ status: 'new', baseline: null, reference: 'realised' });
    expect(c.reasons).toEqual([
      'the baseline entry has no figures against the realised model (it was measured against trained): rewrite it with bmru fidelity baseline after review',
    ]);
  });

  it('scores the verdict reference alone when the run scored no others', () => {
    const trained = new Map([
      [
        j.id,
        {
          ...ok(j, comparison(0.75)),
          cosim: { comparison: comparison(0.75), reference: 'trained' },
        } as unknown as ResultRecord,
      ],
    ]);
    const [c] = checkFidelity('s.yaml', [j], trained, { ...base(1), entries: {} }, lax).cases;
    expect(c.references).toEqual({ trained: 0.75 });
    expect(c.reference).toBe('trained');
  });
});

describe('baselineFigures', () => {
  const entry: BaselineEntry = {
    label: 'c',
    fingerprint: '0000000000000001',
    stateAgreement: 0.5,
    voteAgreement: 0.25,
    decisionMatch: false,
    reference: 'trained',
    references: { hwaware: { stateAgreement: 0.75, voteAgreement: 1, decisionMatch: true } },
  };

  it("takes the entry's own figures for its reference, else those recorded for the reference, else none", () => {
    expect(baselineFigures(entry, 'trained')).toBe(entry);
    expect(baselineFigures(entry, 'hwaware')).toEqual({
      ...entry,
      stateAgreement: 0.75,
      voteAgreement: 1,
      decisionMatch: true,
      reference: 'hwaware',
    });
    expect(baselineFigures(entry, 'realised')).toBeNull();
    const old = { ...entry, reference: undefined, references: undefined };
    expect(baselineFigures(old, 'realised')).toBe(old);
    expect(baselineFigures(old, 'trained')).toBeNull();
  });
});

describe('reports of a check, written out by hand', () => {
  const result = (key: string, status: CaseResult['status'], reasons: string[], extra: Partial<CaseResult> = {}) =>
    ({
      key,
      id: 'i',
      label: key,
      status,
      reasons,
      stateAgreement: 0.5,
      reference: 'realised',
      references: { realised: 0.5 },
      baseline: null,
      wallS: 1.25,
      ...extra,
    }) as CaseResult;
  const staleEntry = { label: 'old', fingerprint: '0', stateAgreement: 1, voteAgreement: 1, decisionMatch: true };
  const check: FidelityCheck = {
    cases: [
      result('a|1', 'pass', []),
      result('b<2>', 'regression', ['x < "y" & z', 'second']),
      result('c', 'new', []),
      result('d', 'error', ['no result'], { stateAgreement: null, reference: null, references: {}, wallS: 0 }),
      result('e', 'changed', ['fingerprint changed', 'why'], { references: { trained: 0.25, realised: 0.5 } }),
    ],
    stale: [{ key: 'gone', entry: staleEntry }],
    maxDrop: 0.005,
    allowNew: false,
  };

  it('judges each status: error, failure (regression, or new unless allowed), else ok', () => {
    expect(check.cases.map((c) => caseOutcome(c, false))).toEqual(['ok', 'failure', 'failure', 'error', 'ok']);
    expect(check.cases.map((c) => caseOutcome(c, true))).toEqual(['ok', 'failure', 'ok', 'error', 'ok']);
    expect(check.cases.map((c) => statusText(c, false))).toEqual([
      'pass',
      'regression',
      'new (no baseline)',
      'error',
      'changed',
    ]);
    expect(statusText(check.cases[2], true)).toBe('new (allowed)');
    // an error outweighs a failure
    expect(fidelityExitCode(check)).toBe(2);
    expect(fidelityExitCode({ ...check, cases: check.cases.slice(0, 3) })).toBe(1);
    expect(fidelityExitCode({ ...check, cases: [check.cases[0], check.cases[4]] })).toBe(0);
  });

  it('lists the references some case was scored against, in REFERENCE_NAMES order', () => {
    expect(scoredReferences(check)).toEqual(['trained', 'realised']);
    expect(scoredReferences({ ...check, cases: [check.cases[3]] })).toEqual([]);
  });

  it('writes JUnit XML with escaped text, one testcase per case and per stale entry', () => {
    expect(junitXml('s&"t"', check)).toBe(
      [
        '<?xml version="1.0" encoding="UTF-8"?>',
        // 4 cases at 1.25 s, one at 0
        '<testsuite name="s&amp;&quot;t&quot;" tests="6" failures="2" errors="1" skipped="1" time="5.000">',
        '  <testcase classname="s&amp;&quot;t&quot;" name="a|1" time="1.250"/>',
        '  <testcase classname="s&amp;&quot;t&quot;" name="b&lt;2&gt;" time="1.250">',
        '    <failure message="x &lt; &quot;y&quot; &amp; z">x &lt; &quot;y&quot; &amp; z',
        'second</failure>',
        '  </testcase>',
        '  <testcase classname="s&amp;&quot;t&quot;" name="c" time="1.250">',
        '    <failure message="new">new</failure>',
        '  </testcase>',
        '  <testcase classname="s&amp;&quot;t&quot;" name="d" time="0.000">',
        '    <error message="no result"/>',
        '  </testcase>',
        '  <testcase classname="s&amp;&quot;t&quot;" name="e" time="1.250">',
        '    <system-out>changed: fingerprint changed',
        'why</system-out>',
        '  </testcase>',
        '  <testcase classname="s&amp;&quot;t&quot;" name="gone" time="0.000">',
        '    <skipped message="stale: in the baseline, no longer in the suite"/>',
        '  </testcase>',
        '</testsuite>',
        '',
      ].join('\n'),
    );
  });

  it('writes the Markdown summary cell by cell, | escaped and - for no figure', () => {
    const withBaseline = {
      ...check,
      maxDrop: 0.0125,
      cases: [{ ...check.cases[0], baseline: { ...staleEntry, stateAgreement: 0.75 } }, ...check.cases.slice(1)],
    };
    expect(markdownSummary('s', withBaseline)).toBe(
      [
        '## Fidelity: s',
        '',
        '2 of 5 cases pass (state agreement may drop at most 1.25 points below the baseline).',
        '',
        'The verdict judges the circuit against the reference named per case; state agreement against every reference scored follows.',
        '',
        '| case | reference | state agreement | baseline | result | vs trained | vs realised | why |',
        '|---|---|---|---|---|---|---|---|',
        '| a\\|1 | realised | 50.00% | 75.00% | pass | - | 50.00% |  |',
        '| b<2> | realised | 50.00% | - | **REGRESSION** | - | 50.00% | x < "y" & z; second |',
        '| c | realised | 50.00% | - | **NEW (NO BASELINE)** | - | 50.00% |  |',
        '| d | - | - | - | **ERROR** | - | - | no result |',
        '| e | realised | 50.00% | - | changed | 25.00% | 50.00% | fingerprint changed; why |',
        '',
        'Stale baseline entries (no longer in the suite; `bmru fidelity baseline` drops them): `gone`.',
        '',
      ].join('\n'),
    );
    expect(markdownSummary('s', { ...check, stale: [] }).endsWith('| fingerprint changed; why |\n')).toBe(true);
  });
});

describe('baseline file, schema', () => {
  const withFile = async (text: string, f: (file: string) => Promise<void>) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'bmru-baseline-'));
    try {
      const file = path.join(dir, 'b.json');
      await writeFile(file, text);
      await f(file);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
  const entry = {
    label: 'c',
    fingerprint: '0123456789abcdef',
    stateAgreement: 1,
    voteAgreement: 0,
    decisionMatch: true,
  };
  const file = (entries: object, schema = 'bmru-fidelity-baseline/2') =>
    JSON.stringify({ schema, suite: 's', generator: 'g', createdAt: 't', entries: { k: entries } });

  it('accepts an entry with a reference and figures per reference', async () => {
    const full = {
      ...entry,
      reference: 'hwaware',
      references: { trained: { stateAgreement: 0, voteAgreement: 1, decisionMatch: false } },
    };
    await withFile(file(full), async (f) => expect((await loadBaseline(f)).entries.k).toEqual(full));
  });

  it('accepts figures inside [0, 1], not only at its ends', async () => {
    // The other cases use 0 and 1 only, which `min(1)` or `max(0)` in place of a bound would also accept.
    const inside = {
      ...entry,
      stateAgreement: 0.5,
      voteAgreement: 0.25,
      references: { trained: { stateAgreement: 0.75, voteAgreement: 0.125, decisionMatch: false } },
    };
    await withFile(file(inside), async (f) => expect((await loadBaseline(f)).entries.k).toEqual(inside));
  });

  it('rejects a wrong schema, a fingerprint that is not a job id, figures outside [0, 1] and unknown fields', async () => {
    const cases: [string, string][] = [
      [file(entry, 'other'), `'schema': expected "bmru-fidelity-baseline/2"`],
      [file({ ...entry, fingerprint: '0123456789ABCDEF' }), 'expected the 16 hex digits of a job id'],
      [file({ ...entry, fingerprint: '0123456789abcdef0' }), 'expected the 16 hex digits of a job id'],
      [file({ ...entry, fingerprint: 'x0123456789abcdef' }), 'expected the 16 hex digits of a job id'],
      [file({ ...entry, stateAgreement: 1.5 }), 'stateAgreement'],
      [file({ ...entry, stateAgreement: -0.5 }), 'stateAgreement'],
      [file({ ...entry, voteAgreement: 2 }), 'voteAgreement'],
      [file({ ...entry, voteAgreement: -1 }), 'voteAgreement'],
      [file({ ...entry, decisionMatch: 1 }), 'decisionMatch'],
      [file({ ...entry, label: 1 }), 'label'],
      [file({ ...entry, extra: 1 }), 'extra'],
      [file({ ...entry, reference: 'ideal' }), 'reference'],
      [file({ ...entry, references: { ideal: { ...entry } } }), 'references'],
      [
        file({ ...entry, references: { trained: { stateAgreement: 2, voteAgreement: 1, decisionMatch: true } } }),
        'stateAgreement',
      ],
      [
        file({ ...entry, references: { trained: { stateAgreement: 1, voteAgreement: -1, decisionMatch: true } } }),
        'voteAgreement',
      ],
      [
        file({ ...entry, references: { trained: { stateAgreement: 1, voteAgreement: 1, decisionMatch: 0 } } }),
        'decisionMatch',
      ],
      [
        file({ ...entry, references: { trained: { stateAgreement: 1, voteAgreement: 1, decisionMatch: true, x: 1 } } }),
        'x',
      ],
      [
        JSON.stringify({
          schema: 'bmru-fidelity-baseline/2',
          suite: 1,
          generator: 'g',
          createdAt: 't',
          entries: { k: entry },
        }),
        'suite',
      ],
      [
        JSON.stringify({
          schema: 'bmru-fidelity-baseline/2',
          suite: 's',
          generator: 1,
          createdAt: 't',
          entries: { k: entry },
        }),
        'generator',
      ],
      [
        JSON.stringify({
          schema: 'bmru-fidelity-baseline/2',
          suite: 's',
          generator: 'g',
          createdAt: 1,
          entries: { k: entry },
        }),
        'createdAt',
      ],
      ['null', 'expected object'],
    ];
    for (const [text, message] of cases) {
      await withFile(text, async (f) => {
        const e = await loadBaseline(f).then(
          () => undefined,
          (err: Error) => err,
        );
        expect(e?.name, text).toBe('InputError');
        expect(e?.message, text).toContain(message);
      });
    }
  });

  it('names the error code of a baseline that exists but cannot be read', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'bmru-baseline-'));
    try {
      await expect(loadBaseline(dir)).rejects.toThrow(
        `${dir}: cannot read the baseline (EISDIR); create it with \`bmru fidelity baseline\``,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

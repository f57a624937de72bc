import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { claimPath } from '../../src/util/lockfile.js';
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { BmruError, InputError, OutputError } from '../../src/errors.js';
import {
  CSV_HEADER,
  JOBS_SCHEMA,
  acquireLock,
  byFinish,
  ensureOutDirs,
  csvRow,
  listResultIds,
  openStreams,
  outPaths,
  readAllResults,
  readJobsFile,
  readResult,
  readResults,
  rebuildStreams,
  writeJobsFile,
  writeResult,
  type JobsFile,
  type OutPaths,
  type ResultRecord,
} from '../../src/jobs/store.js';
import { classifyFailure } from '../../src/jobs/failure.js';
import {
  NgspiceNotFoundError,
  SpiceConvergenceError,
  SpiceCrashError,
  SpiceIncludeError,
  SpiceNetlistError,
  SpiceTimeoutError,
} from '../../src/spice/errors.js';
import type { Job } from '../../src/jobs/plan.js';
import { DEFAULT_TOLERANCES } from '../../src/compare/tolerance.js';

let dir: string;
let paths: OutPaths;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'bmru-store-test-'));
  paths = outPaths(dir);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** A failed record for job `n` (ids are 16 hex digits), finishing at second `n`. */
function record(n: number, message = 'ngspice did not finish'): ResultRecord {
  const id = n.toString(16).padStart(16, '0');
  const job = {
    id,
    index: n,
    label: `job ${n}`,
    model: { path: 'm.json', file: '/m.json', sha256: 'x' },
    input: { kind: 'random', frames: 2, seed: n },
    process: { ref: 'c180', name: 'c180', sha256: 'p', calibrationSha256: null, deckSha256: 'd' },
    corner: null,
    seed: n,
    spiceSeed: null,
  } as Job;
  return {
    schema: 'bmru-batch-result/1',
    id,
    status: 'failed',
    job,
    generator: 'g',
    host: 'h',
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: `2026-01-01T00:00:${String(n).padStart(2, '0')}.000Z`,
    wallS: 1.5,
    attempts: [{ attempt: 1, startedAt: '2026-01-01T00:00:00.000Z', wallS: 1.5 }],
    ngspiceVersion: '39',
    failure: { class: 'timeout', kind: 'timeout', message, retryable: true },
  };
}

describe('records', () => {
  it('reads back what was published, and nothing for a job without a record', async () => {
    await writeResult(paths, record(1));
    expect((await readResult(paths, record(1).id))?.failure?.class).toBe('timeout');
    expect(await readResult(paths, record(2).id)).toBeUndefined();
    expect([...(await readAllResults(paths)).keys()]).toEqual([record(1).id]);
  });

  it('ignores temporary files a killed writer left', async () => {
    await writeResult(paths, record(1));
    await writeFile(path.join(paths.results, `.${record(2).id}.json.123.abcd.tmp`), '{"half');
    expect((await readAllResults(paths)).size).toBe(1);
  });

  it('names the file of a record that is not one', async () => {
    await writeResult(paths, record(1));
    await writeFile(path.join(paths.results, `${record(2).id}.json`), '{"schema": "other"}');
    const e = await readAllResults(paths).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).file).toBe(path.join(paths.results, `${record(2).id}.json`));
  });
});

describe('streams', () => {
  it('rebuilds results.jsonl and results.csv from the records: a half-written line or a duplicate is gone', async () => {
    const recs = [record(2), record(1), record(3, 'a message, with a comma\nand a newline')];
    await rebuildStreams(paths, recs.slice(0, 2));
    await appendFile(paths.jsonl, `${JSON.stringify(record(1))}\n{"schema":"bmru-batch-res`); // duplicate + cut line
    await rebuildStreams(paths, recs);
    const lines = (await readFile(paths.jsonl, 'utf8')).trimEnd().split('\n');
    expect(lines.map((l) => JSON.parse(l).id)).toEqual([record(1).id, record(2).id, record(3).id]); // finishing order
    const csv = (await readFile(paths.csv, 'utf8')).trimEnd().split('\n');
    expect(csv[0]).toBe(CSV_HEADER.join(','));
    expect(csv).toHaveLength(4); // the newline in the message does not split a row
    expect(csv[3]).toContain('"a message, with a comma | and a newline"');
  });

  it('keeps the order results.jsonl lists (append order) for the records in it; new ones follow in finishing order', async () => {
    // Two workers can append in another order than their finishedAt stamps: a rebuild must not reorder the file.
    await writeFile(paths.jsonl, `${JSON.stringify(record(2))}\n${JSON.stringify(record(1))}\n`);
    await rebuildStreams(paths, [record(1), record(3), record(2)]);
    const ids = (await readFile(paths.jsonl, 'utf8'))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l).id);
    expect(ids).toEqual([record(2).id, record(1).id, record(3).id]);
  });

  it('appends whole lines in the order records arrive', async () => {
    await rebuildStreams(paths, [record(1)]);
    const s = await openStreams(paths);
    await Promise.all([s.append(record(2)), s.append(record(3))]);
    await s.close();
    const ids = (await readFile(paths.jsonl, 'utf8'))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l).id);
    expect(ids).toEqual([record(1).id, record(2).id, record(3).id]);
    expect((await readFile(paths.csv, 'utf8')).trimEnd().split('\n')).toHaveLength(4);
  });

  it('writes empty measurement cells for a failed job', () => {
    const row = csvRow(record(1));
    expect(row).toHaveLength(CSV_HEADER.length);
    expect(row[CSV_HEADER.indexOf('state_agreement')]).toBe('');
    expect(row[CSV_HEADER.indexOf('failure_class')]).toBe('timeout');
    expect(row[CSV_HEADER.indexOf('input')]).toBe('random:2#1');
  });
});

describe('run.lock', () => {
  it('keeps a second run out while the first holds it, and is free again after release', async () => {
    const release = await acquireLock(paths);
    const e = await acquireLock(paths).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(BmruError);
    expect((e as BmruError).kind).toBe('batch-locked');
    expect((e as Error).message).toContain(`pid ${process.pid}`);
    await release();
    await (
      await acquireLock(paths)
    )();
  });

  it("says when a takeover of a dead run's lock never finished, and what to delete", async () => {
    const deadPid = 2 ** 22 + 1; // above the kernel's pid_max: cannot be alive
    await writeFile(
      paths.lock,
      JSON.stringify({ pid: deadPid, host: os.hostname(), startedAt: 'then', token: 'dead' }),
    );
    await writeFile(claimPath(paths.lock, 'dead'), 'a takeover that died half-way');
    const e = await acquireLock(paths).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(BmruError);
    expect((e as BmruError).kind).toBe('batch-locked');
    expect((e as Error).message).toBe(
      `${paths.lock} was left by pid ${deadPid}, which is gone, but another takeover of it never finished; if no bmru batch run is using ${paths.dir}, delete ${paths.lock} and ${paths.dir}/.run.lock.takeover-*`,
    );
  });

  it('takes over a lock whose process is gone', async () => {
    // A pid above the kernel's pid_max cannot be alive.
    await writeFile(paths.lock, JSON.stringify({ pid: 2 ** 22 + 1, host: os.hostname(), startedAt: 'then' }));
    const release = await acquireLock(paths);
    expect(JSON.parse(await readFile(paths.lock, 'utf8')).pid).toBe(process.pid);
    await release();
  });
});

describe('classifyFailure', () => {
  it('retries what can go differently (timeout, crash) and not what cannot (convergence, bad input)', () => {
    const cases: [unknown, string, boolean][] = [
      [new SpiceTimeoutError(1), 'timeout', true],
      [new SpiceCrashError('crash', 'ngspice was killed by SIGSEGV', null, 'SIGSEGV'), 'crash', true],
      [new SpiceCrashError('incomplete', 'stops short', 0, null), 'crash', true],
      [new SpiceConvergenceError('timestep-too-small', { timeS: 1e-3 }), 'convergence', false],
      [new SpiceConvergenceError('operating-point', {}), 'convergence', false],
      [new SpiceNetlistError('Undefined parameter [x]'), 'bad-input', false],
      [new SpiceIncludeError('/pdk/x.lib'), 'bad-input', false],
      [new InputError('expected 13 columns', { file: 'x.csv' }), 'bad-input', false],
      [new TypeError('x is undefined'), 'internal', false],
    ];
    for (const [error, cls, retryable] of cases) {
      const f = classifyFailure(error);
      expect(f?.class, String(error)).toBe(cls);
      expect(f?.retryable, String(error)).toBe(retryable);
    }
  });

  it('stops the batch (no class) when ngspice cannot be started at all', () => {
    expect(classifyFailure(new NgspiceNotFoundError('nope'))).toBeUndefined();
  });
});

// Cases Stryker found no test for (src/jobs/store.ts); expectations from the folder layout in the module's doc.
describe('the output folder at its edges', () => {
  it('lays the folder out as documented', () => {
    expect(outPaths('/o')).toEqual({
      dir: '/o',
      results: path.join('/o', 'results'),
      jsonl: path.join('/o', 'results.jsonl'),
      csv: path.join('/o', 'results.csv'),
      jobs: path.join('/o', 'jobs.json'),
      lock: path.join('/o', 'run.lock'),
    });
  });

  it('lists only <16 hex>.json records; no results folder is no records, a results file in its place an error', async () => {
    expect(await listResultIds(paths)).toEqual(new Set());
    await writeResult(paths, record(1));
    await writeFile(path.join(paths.results, `x${record(2).id}.json`), JSON.stringify(record(2)));
    await writeFile(path.join(paths.results, `${record(3).id}.json.bak`), JSON.stringify(record(3)));
    expect(await listResultIds(paths)).toEqual(new Set([record(1).id]));
    const other = outPaths(path.join(dir, 'other'));
    await writeFile(path.join(dir, 'other'), '');
    await expect(listResultIds(other)).rejects.toMatchObject({ code: 'ENOTDIR' });
  });

  it('reads only the records that exist, and refuses records without the fields it reads', async () => {
    await writeResult(paths, { ...record(1), status: 'ok' });
    const got = await readResults(paths, [record(1).id, record(2).id]);
    expect([...got.keys()]).toEqual([record(1).id]);
    expect(got.get(record(1).id)?.status).toBe('ok');
    const bad: [string, unknown][] = [
      ['not JSON', '{"half'],
      ['id', { ...record(2), id: `x${record(2).id.slice(1)}` }],
      ['id', { ...record(2), id: `${record(2).id}0` }],
      ['job', { ...record(2), job: { ...record(2).job, label: undefined } }],
      ['attempts', { ...record(2), attempts: [{ wallS: 1 }] }],
      ['cosim', { ...record(2), cosim: { pass: true, comparison: {} } }],
      ['cosim', { ...record(2), cosim: { comparison: { stateAgreement: 1 } } }],
      ['failure', { ...record(2), failure: { class: 'timeout' } }],
    ];
    for (const [what, content] of bad) {
      const file = path.join(paths.results, `${record(2).id}.json`);
      await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
      const e = await readResult(paths, record(2).id).catch((err: unknown) => err);
      expect(e, what).toBeInstanceOf(InputError);
      expect((e as InputError).file, what).toBe(file);
      if (what === 'not JSON') expect((e as InputError).rule).toMatch(/^not a batch result record \(/);
    }
  });

  it('orders records by finishing time, then by id', () => {
    const at = (n: number, id: string) => ({ ...record(n), id });
    const recs = [at(3, 'c'), at(1, 'b'), at(1, 'a'), at(2, 'd'), at(1, 'a')];
    expect(byFinish(recs).map((r) => `${r.finishedAt.slice(17, 19)}${r.id}`)).toEqual([
      '01a',
      '01a',
      '01b',
      '02d',
      '03c',
    ]);
    expect(byFinish([at(1, 'b'), at(1, 'a')]).map((r) => r.id)).toEqual(['a', 'b']);
    expect(byFinish([at(2, 'a'), at(1, 'b')]).map((r) => r.id)).toEqual(['b', 'a']);
    // Already in order, so a sort asks whether the later one goes first: the earlier finish wins over a smaller
    // id, and with one finishing time the smaller id stays first.
    expect(byFinish([at(1, 'b'), at(2, 'a')]).map((r) => r.id)).toEqual(['b', 'a']);
    expect(byFinish([at(1, 'a'), at(1, 'b')]).map((r) => r.id)).toEqual(['a', 'b']);
  });

  it('creates the output folder and its results folder before any job runs', async () => {
    const fresh = outPaths(path.join(dir, 'new', 'out'));
    await ensureOutDirs(fresh);
    expect([existsSync(fresh.dir), existsSync(fresh.results)]).toEqual([true, true]);
  });

  it('writes the input of a file job with its frames and noise, and empty cells where there is nothing', () => {
    const r = record(1);
    const fileJob = (frames: number | null, noiseSd: number | null, noiseSeed: number | null) =>
      csvRow({
        ...r,
        job: {
          ...r.job,
          corner: 'ss',
          input: { kind: 'file', path: 'clip.csv', file: '/clip.csv', sha256: 'c', frames, noiseSd, noiseSeed },
        },
      });
    const col = (name: (typeof CSV_HEADER)[number]) => CSV_HEADER.indexOf(name);
    expect(fileJob(null, null, null)[col('input')]).toBe('clip.csv');
    expect(fileJob(3, 0.1, 5)[col('input')]).toBe('clip.csv[:3]+noise0.1#5');
    expect(fileJob(null, 0.2, 7)[col('input')]).toBe('clip.csv+noise0.2#7');
    expect(fileJob(3, null, null)[col('corner')]).toBe('ss');
    const failed = csvRow(r);
    for (const name of ['corner', 'ngspice_s', 'reference'] as const) expect(failed[col(name)], name).toBe('');
    const ok = csvRow({ ...r, status: 'ok', failure: undefined, ngspiceVersion: null });
    for (const name of ['failure_class', 'failure_message', 'ngspice_version'] as const) {
      expect(ok[col(name)], name).toBe('');
    }
  });

  it('writes and reads jobs.json, and names it when it is missing, not JSON, or not a jobs file', async () => {
    expect(JOBS_SCHEMA).toBe('bmru-batch-jobs/1');
    const missing = await readJobsFile(paths).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(InputError);
    expect((missing as InputError).file).toBe(paths.jobs);
    expect((missing as InputError).rule).toMatch(/^not a batch output folder \(no jobs.json/);
    const file: JobsFile = {
      schema: JOBS_SCHEMA,
      name: 't',
      planFile: '/p.yaml',
      generator: 'g',
      tolerances: DEFAULT_TOLERANCES,
      timeoutS: 10,
      retries: 2,
      jobs: [record(1).job],
    };
    await writeJobsFile(paths, file);
    expect(JSON.parse(await readFile(paths.jobs, 'utf8'))).toEqual(JSON.parse(JSON.stringify(file)));
    expect((await readJobsFile(paths)).jobs[0].id).toBe(record(1).id);
    await writeFile(paths.jobs, '{"schema"');
    const broken = await readJobsFile(paths).catch((e: unknown) => e);
    expect([(broken as InputError).file, (broken as InputError).rule]).toEqual([
      paths.jobs,
      expect.stringMatching(/^expected valid JSON \(/),
    ]);
    await writeFile(paths.jobs, JSON.stringify({ ...file, jobs: [{ index: 0, label: 'x' }] }));
    expect(await readJobsFile(paths).catch((e: unknown) => e)).toBeInstanceOf(InputError);
    // There but unreadable (a folder by that name): the error code, not the missing-file hint.
    await rm(paths.jobs);
    await mkdir(paths.jobs);
    const unreadable = await readJobsFile(paths).catch((e: unknown) => e);
    expect([(unreadable as InputError).file, (unreadable as InputError).rule]).toEqual([paths.jobs, 'EISDIR']);
  });

  it('refuses a lock file it cannot read, saying how to free the folder', async () => {
    await writeFile(paths.lock, 'not a lock');
    const e = await acquireLock(paths).catch((err: unknown) => err);
    expect((e as BmruError).kind).toBe('batch-locked');
    expect((e as Error).message).toBe(
      `${paths.lock} is not a lock this version can read; if no bmru batch run is using ${dir}, delete ${paths.lock}`,
    );
  });
});

describe('streams on a failing disk', () => {
  it.skipIf(!existsSync('/dev/full'))(
    'rejects an append the disk refuses, naming the file, and closes both files',
    async () => {
      const fds = () =>
        readdirSync('/proc/self/fd').filter((fd) => {
          try {
            return readlinkSync(`/proc/self/fd/${fd}`) === paths.csv;
          } catch {
            return false;
          }
        }).length;
      const s = await openStreams({ ...paths, jsonl: '/dev/full' }); // every write: ENOSPC
      expect(fds()).toBe(1);
      const e = await s.append(record(1)).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(OutputError);
      expect((e as Error).message).toContain('/dev/full');
      await s.close();
      expect(fds()).toBe(0);
    },
  );
});

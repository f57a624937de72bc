/**
 * `slurmCompare` (the executor of `analyze power --scaling --slurm`) and the child process it runs, imported from
 * src/, with a stand-in for the CLI: `runBmru` spawns `process.execPath` (node) on `<package root>/bin/bmru.js`, so
 * the tests point `process.execPath` at a shell script for the call. The script records what it was given (its
 * arguments, where its stdin and stdout lead, the model and clip it was handed) and answers as the test needs:
 * stderr lines in pieces, an exit code, or a signal. The merge after a compare that ended 0 or 1 reads a store
 * written here by hand, as partition-slurm-units.test.ts does. Every expected text is written out by hand.
 */
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPartitionStore, slurmCompare } from '../../src/jobs/partition-slurm.js';
import { BmruError } from '../../src/errors.js';
import { encodeRawfile } from '../../src/spice/rawwrite.js';
import { randomNetwork } from '../../src/model/random.js';
import { loadModel } from '../../src/model/load.js';
import { ctxOf, part, transientPlot } from './partition-slurm-fixtures.js';

/** The CLI runBmru starts: the package root is two folders above this file's. */
const BMRU_JS = path.resolve(import.meta.dirname, '..', '..', 'bin', 'bmru.js');

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'bmru-pslurm-compare-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

let folders = 0;
/** A fresh folder under the test's temporary root (not made: slurmCompare makes the run's folder itself). */
function fresh(): string {
  return path.join(root, `d${folders++}`);
}

/**
 * Writes a stand-in for node that logs into `log`: its arguments one per line, the targets of its fd 0 and 1, and
 * copies of the model.json and clip.csv beside the `-o` folder; then runs `body`.
 */
async function standIn(log: string, body: string): Promise<string> {
  await mkdir(log, { recursive: true });
  const file = path.join(log, 'node');
  await writeFile(
    file,
    [
      '#!/bin/bash',
      `printf '%s\\n' "$@" > '${log}/args'`,
      `readlink /proc/$$/fd/0 > '${log}/fd0'`,
      `readlink /proc/$$/fd/1 > '${log}/fd1'`,
      `cp "$4" '${log}/model.json'; cp "$6" '${log}/clip.csv'`,
      body,
      '',
    ].join('\n'),
  );
  await chmod(file, 0o755);
  return file;
}

/** Runs `f` with `process.execPath` set to `exec`, restoring it afterwards. */
async function withExecPath<T>(exec: string, f: () => Promise<T>): Promise<T> {
  const was = process.execPath;
  process.execPath = exec;
  try {
    return await f();
  } finally {
    process.execPath = was;
  }
}

/** One partition with nothing in it but what the store reads, and a context as the store sees it (no deck). */
const FRONT = part(0, 'front end');
const CTX = ctxOf([FRONT], { tStopS: 0.01 });

/** The store of a one-partition run with its result: v(a) = 1, 2 at t = 0, 0.01; exit 0, 250 ms, ngspice 39. */
async function storeWithResult(dir: string): Promise<void> {
  await openPartitionStore(CTX, dir);
  const plot = transientPlot('v(a)', [0, 0.01], [1, 2]);
  await writeFile(path.join(dir, 'partitions', 'p0.raw'), encodeRawfile(plot));
  await writeFile(
    path.join(dir, 'partitions', 'p0.json'),
    JSON.stringify({
      fingerprint: 'f00d',
      pass: 1,
      index: 0,
      info: {
        index: 0,
        label: 'front end',
        transistors: 9,
        replicas: 0,
        handoffs: 0,
        handoffPoints: 10,
        durationMs: 250,
        points: 2,
      },
      ngspiceVersion: '39',
      exitCode: 0,
      messages: [],
      stdoutTail: 'o',
      stderrTail: 'e',
      startedAt: '2026-01-01T00:00:00.000Z',
      endedAt: '2026-01-01T00:00:03.000Z',
      ranOn: { host: 'node1' },
    }),
  );
}

const net = randomNetwork({ inputs: 3, width: 2, blocks: 1, classes: 2, seed: 7 });
// One frame of three features; written exactly, as String(v) gives them: 0.1, 0.3333333333333333, 2.
const inputs = { frames: 1, features: 3, data: Float64Array.from([0.1, 1 / 3, 2]) };

describe('slurmCompare: the compare it runs', () => {
  it('runs node on bin/bmru.js: compare -m <dir>/model.json -i <dir>/clip.csv, the flags given, --partitioned --slurm --wait -o <dir>', async () => {
    const dir = fresh();
    const log = path.join(root, `log${folders}`);
    // stderr in pieces that cut a line, and a line ending in the next piece.
    const node = await standIn(
      log,
      [
        "printf 'stage 1 (front end): Slurm job 101, 1 task(s)\\nmerge: Slurm ' >&2",
        'sleep 0.3',
        "printf 'job 102; waiting for it to end\\nsbatch submissions: 2\\n' >&2",
        "printf 'to stdout, which is not read\\n'",
        'exit 0',
      ].join('\n'),
    );
    await storeWithResult(dir);
    const seen: string[] = [];
    const ex = slurmCompare({
      dir,
      net,
      inputs,
      compareArgs: ['--process', 'c180', '--max-transistors', '300'],
      onLine: (l) => seen.push(l),
    });
    expect(ex.label).toBe('Slurm (a job array per stage)');
    const merged = await withExecPath(node, () => ex.run(CTX));

    expect((await readFile(path.join(log, 'args'), 'utf8')).split('\n')).toEqual([
      BMRU_JS,
      'compare',
      '-m',
      path.join(dir, 'model.json'),
      '-i',
      path.join(dir, 'clip.csv'),
      '--process',
      'c180',
      '--max-transistors',
      '300',
      '--partitioned',
      '--slurm',
      '--wait',
      '-o',
      dir,
      '',
    ]);
    // No stdin, and stdout goes nowhere: only stderr is piped.
    expect(await readFile(path.join(log, 'fd0'), 'utf8')).toBe('/dev/null\n');
    expect(await readFile(path.join(log, 'fd1'), 'utf8')).toBe('/dev/null\n');
    // The model and clip were there when it started: the clip to the last digit.
    expect(await readFile(path.join(log, 'clip.csv'), 'utf8')).toBe('c0,c1,c2\n0.1,0.3333333333333333,2\n');
    const back = await loadModel(path.join(log, 'model.json'));
    expect(Array.from(back.blocks[0].cand.weight.data)).toEqual(Array.from(net.blocks[0].cand.weight.data));
    // Each stderr line once, whole, in order.
    expect(seen).toEqual([
      'stage 1 (front end): Slurm job 101, 1 task(s)',
      'merge: Slurm job 102; waiting for it to end',
      'sbatch submissions: 2',
    ]);
    // Then the stored partitions, merged.
    expect(merged.run.plots[0].vectors.map((v) => v.name)).toEqual(['time', 'v(a)']);
    expect(Array.from(merged.run.plots[0].real[1])).toEqual([1, 2]);
    expect(merged.run.exitCode).toBe(0);
    expect(merged.run.durationMs).toBe(3000);
    expect(merged.partitions.map((p) => p.durationMs)).toEqual([250]);
  });

  it('merges after a compare that ends with exit 1 too (a comparison outside its tolerances is a result)', async () => {
    const dir = fresh();
    const node = await standIn(path.join(root, `log${folders}`), "echo 'fidelity below tolerance' >&2; exit 1");
    await storeWithResult(dir);
    const merged = await withExecPath(node, () => slurmCompare({ dir, net, inputs, compareArgs: [] }).run(CTX));
    expect(Array.from(merged.run.plots[0].real[0])).toEqual([0, 0.01]);
    expect(merged.run.ngspiceVersion).toBe('39');
  });
});

describe('slurmCompare: a compare that fails', () => {
  const failing = async (body: string): Promise<{ dir: string; error: unknown }> => {
    const dir = fresh();
    const node = await standIn(path.join(root, `log${folders}`), body);
    await storeWithResult(dir); // a result is there: the error comes from the exit alone
    const error = await withExecPath(node, () => slurmCompare({ dir, net, inputs, compareArgs: [] }).run(CTX)).then(
      () => undefined,
      (e: unknown) => e,
    );
    return { dir, error };
  };

  it('names the folder, the exit code and the last five stderr lines, a last line without a newline included', async () => {
    const { dir, error } = await failing(
      ["printf 'l1\\nl2\\nl3\\nl' >&2", 'sleep 0.3', "printf '4\\nl5\\nl6\\nl7' >&2", 'exit 3'].join('\n'),
    );
    expect(error).toBeInstanceOf(BmruError);
    expect((error as BmruError).message).toBe(
      `bmru compare --slurm in ${dir} ended with exit 3: l3 | l4 | l5 | l6 | l7`,
    );
    expect((error as BmruError).kind).toBe('slurm-task');
  });

  it('quotes fewer lines when there are fewer, and no empty one after a last newline (exit 2)', async () => {
    const { dir, error } = await failing("printf 'error: above the budget\\nsee bmru compare --help\\n' >&2; exit 2");
    expect((error as BmruError).message).toBe(
      `bmru compare --slurm in ${dir} ended with exit 2: error: above the budget | see bmru compare --help`,
    );
  });

  it('says "a signal" when the compare is killed', async () => {
    const { dir, error } = await failing("printf 'merge: Slurm job 7; waiting for it to end\\n' >&2; kill -KILL $$");
    expect((error as BmruError).message).toBe(
      `bmru compare --slurm in ${dir} ended with a signal: merge: Slurm job 7; waiting for it to end`,
    );
    expect((error as BmruError).kind).toBe('slurm-task');
  });

  it('passes on the error of a node that cannot be started', async () => {
    const dir = fresh();
    const missing = path.join(root, 'no-such-node');
    const error = await withExecPath(missing, () => slurmCompare({ dir, net, inputs, compareArgs: [] }).run(CTX)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'ENOENT', path: missing });
  });
});

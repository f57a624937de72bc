/**
 * A Slurm task's whole run of one partition (`runStoredPartition`, jobs/partition-slurm.ts), imported from src/:
 * which vectors it reads of its inputs' stored plots (`vectorsRead`: the rails read from each source, in a second
 * pass the first pass's drains its replicas follow), and a task to the end with a stand-in for ngspice (a shell
 * script that answers `-v` as ngspice 99 and copies a rawfile written here to the `-r` path): the rawfile and record
 * it publishes, its CPU seconds (`taskCpuSeconds`), the work directory kept or not. Expectations by hand: the vectors
 * from the rawfiles written here, the record from the stand-in's output and the run.json written here, the CPU
 * seconds bounded by this process's /proc/self/stat read before and after (parsed here by proc(5)'s field numbers).
 */
import { rmSync } from 'node:fs';
import { chmod, readFile, readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runStoredPartition } from '../../src/jobs/partition-slurm.js';
import {
  cosimPartitionContext,
  type CosimOptions,
  type HandoffSource,
  type PartitionContext,
} from '../../src/pipeline.js';
import type { Partition } from '../../src/netlist/partition.js';
import { loadModel, randomInputs } from '../../src/model/index.js';
import { generateNetlist, loadProcess } from '../../src/netlist/index.js';
import { encodeRawfile } from '../../src/spice/rawwrite.js';
import { readRawfile, type RawPlot } from '../../src/spice/rawfile.js';
import { REPO_ROOT } from '../helpers.js';
import { ctxOf, part, recordOf, tempFolders } from './partition-slurm-fixtures.js';

const fresh = tempFolders('bmru-pslurm-task-');

/** A store with run.json (only its fingerprint is read by a task). */
async function store(fingerprint = 'f'): Promise<string> {
  const dir = await fresh();
  await writeFile(path.join(dir, 'run.json'), JSON.stringify({ fingerprint }));
  return dir;
}

/** A transient plot of `names` (time first) on two points, vector i holding [i, i + 0.5]. */
function plotOf(names: string[], tStopS = 0.03): RawPlot {
  return {
    title: 't',
    date: 'd',
    plotname: 'Transient Analysis',
    complex: false,
    vectors: names.map((name, i) => ({ name, type: i === 0 ? 'time' : name.startsWith('i(') ? 'current' : 'voltage' })),
    numPoints: 2,
    real: names.map((_, i) => Float64Array.from(i === 0 ? [0, tStopS] : [i, i + 0.5])),
  };
}

/** Partition `stem`'s result in the store: its record and its rawfile holding `names`. */
async function stored(dir: string, stem: string, pass: number, index: number, names: string[]): Promise<void> {
  await writeFile(path.join(dir, `${stem}.json`), JSON.stringify(recordOf(pass, index, { fingerprint: 'f' })));
  await writeFile(path.join(dir, `${stem}.raw`), encodeRawfile(plotOf(names)));
}

const names = (p: RawPlot | undefined) => p?.vectors.map((v) => v.name);

describe('vectorsRead: what a task reads of the plots it hands on', () => {
  it("reads from each source its own hand-offs' rails and the rails any partition reads from it, and nothing else, in pass 1", async () => {
    const dir = await store();
    // Every rail lives in both sources' rawfiles: only the reading decides what reaches the hand-off.
    await stored(dir, 'p0', 1, 0, ['time', 'v(a)', 'v(b)', 'v(d)', 'v(e)', 'v(z)']);
    await stored(dir, 'p1', 1, 1, ['time', 'v(a)', 'v(b)', 'v(d)', 'v(e)', 'v(z)']);
    const partitions = [
      part(0, 'front end'),
      part(1, 'block 0', [0]),
      part(2, 'block 1', [0, 1], {
        handoffs: [
          { node: 'a', from: 0, source: 'h0' },
          { node: 'b', from: 1, source: 'h1' },
        ],
        // A replica's drain in partition 0: read in a second pass only.
        replicaDrains: [{ node: 'd', from: 0 }],
      }),
    ];
    let handed: RawPlot[] = [];
    const handoff = ((_h: unknown, plots: RawPlot[]) => {
      handed = plots;
      throw new Error('stopped at the hand-off');
    }) as unknown as HandoffSource;
    // Nothing more is read from partition 0 (as a plan stored before railsFrom was kept); partition 1's e is read by another partition.
    const railsFrom = (f: number) => (f === 1 ? ['e'] : []);
    const ctx = ctxOf(partitions, { handoff, railsFrom });
    await expect(runStoredPartition(ctx, dir, { pass: 1, index: 2 }, false)).rejects.toThrow('stopped at the hand-off');
    expect(names(handed[0])).toEqual(['time', 'v(a)']);
    expect(names(handed[1])).toEqual(['time', 'v(b)', 'v(e)']);
    expect(Array.from(handed[1].real[2])).toEqual([4, 4.5]); // v(e), the 5th vector of p1.raw
  });

  it("in pass 2 also reads the first pass's drains its replicas follow, not a supply's, and not from the second pass", async () => {
    const dir = await store();
    await stored(dir, 'p0', 1, 0, ['time', 'v(a)', 'v(d)', 'v(z)']);
    await stored(dir, 'p0-pass2', 2, 0, ['time', 'v(a)', 'v(d)', 'v(z)']);
    const replica = {
      name: 'mr0',
      polarity: 'n',
      gate: 'g',
      source: '0',
      bulk: '0',
      drain: 'x',
      widthUm: 1,
      lengthUm: 1,
    };
    // The second replica stops the run as soon as its drain's waveform is made (the merge reads its gate next).
    const last = {
      ...replica,
      name: 'mr1',
      get gate(): string {
        throw new Error('stopped after the drain waveforms');
      },
    };
    const partitions = [
      part(0, 'front end'),
      part(1, 'block 0', [0], {
        handoffs: [{ node: 'a', from: 0, source: 'h0' }],
        replicas: [replica, last] as unknown as Partition['replicas'],
        // vdd_cell is a supply: its drain is its DC, not a vector (p0's rawfiles have none).
        replicaDrains: [
          { node: 'vdd_cell', from: 0 },
          { node: 'd', from: 0 },
        ],
      }),
    ];
    let handed: RawPlot[] = [];
    const handoff = ((_h: unknown, plots: RawPlot[]) => {
      handed = plots;
      return new Map([
        [
          'a',
          [
            [0, 1],
            [0.03, 1],
          ],
        ],
      ]);
    }) as unknown as HandoffSource;
    const ctx = ctxOf(partitions, { handoff, passes: 2, opts: { process: { name: 'c180', vddV: 1.8 } } });
    // Without v(d) in the first pass's plot, the drain's waveform would fail to find it.
    await expect(runStoredPartition(ctx, dir, { pass: 2, index: 1 }, false)).rejects.toThrow(
      'stopped after the drain waveforms',
    );
    expect(names(handed[0])).toEqual(['time', 'v(a)']);
  });
});

describe('runStoredPartition: each input read once, before the deck', () => {
  it('reads every input before the deck is built, once: a rawfile gone after that is not read again', async () => {
    const dir = await store();
    await stored(dir, 'p0', 1, 0, ['time', 'v(a)', 'v(z)']);
    await stored(dir, 'p1', 1, 1, ['time', 'v(a)', 'v(z)']);
    // Partition 2 comes after 0 and 1 but takes a hand-off from 1 only: of partition 0 it reads the time alone.
    const partitions = [
      part(0, 'front end'),
      part(1, 'block 0'),
      part(2, 'block 1', [0, 1], { handoffs: [{ node: 'a', from: 1, source: 'h0' }] }),
    ];
    let handed: RawPlot[] = [];
    const handoff = ((_h: unknown, plots: RawPlot[]) => {
      handed = plots;
      throw new Error('stopped at the hand-off');
    }) as unknown as HandoffSource;
    const ctx = ctxOf(partitions, { handoff });
    // The runner's settings are first looked at when the deck's run is set up, after the inputs are read: remove
    // the inputs' rawfiles then.
    Object.defineProperty(ctx, 'run', {
      enumerable: true,
      get: () => {
        for (const f of ['p0.raw', 'p1.raw']) rmSync(path.join(dir, f), { force: true });
        return {};
      },
    });
    await expect(runStoredPartition(ctx, dir, { pass: 1, index: 2 }, false)).rejects.toThrow('stopped at the hand-off');
    expect(names(handed[0])).toEqual(['time']);
    expect(names(handed[1])).toEqual(['time', 'v(a)']);
    expect(await readdir(dir)).not.toContain('p0.raw');
  });
});

/** This process's CPU ticks by proc(5): utime, stime (fields 14, 15) and cutime, cstime (16, 17). */
async function ticks(): Promise<{ own: number; children: number }> {
  const stat = await readFile('/proc/self/stat', 'utf8');
  // pid (comm) state, then fields 4-13, then 14-17.
  const m = /\) \S+ (?:-?\d+ ){10}(\d+) (\d+) (-?\d+) (-?\d+) /.exec(stat);
  if (!m) throw new Error(`unexpected /proc/self/stat: ${stat}`);
  return { own: Number(m[1]) + Number(m[2]), children: Number(m[3]) + Number(m[4]) };
}

describe('runStoredPartition to the end, with a stand-in ngspice', () => {
  // The example network per cell on c180: partition 0 is the front end, which reads no other partition.
  const context = async (bin: string, workRoot: string): Promise<PartitionContext> => {
    const net = await loadModel(path.join(REPO_ROOT, 'models', 'example', 'kws-example.json'));
    const proc = await loadProcess(path.join(REPO_ROOT, 'models', 'c180', 'process.json'));
    const opts: CosimOptions = { process: proc, partitioned: true, partitionBy: 'cell', title: 'task test' };
    const ctx = cosimPartitionContext(generateNetlist(net, randomInputs(2, net.inputs, 3), opts), net, opts);
    return { ...ctx, run: { ngspiceBin: bin, workRoot } };
  };

  /** The stand-in: copies `raw` to the rawfile path (`-b -n -r <raw>`: the 4th argument), says `out`/`err`, then `body`. */
  async function standIn(raw: string, body: string): Promise<string> {
    const bin = path.join(await fresh(), 'ngspice');
    await writeFile(
      bin,
      `#!/bin/sh\nif [ "$1" = "-v" ]; then echo "** ngspice-99 : stand-in"; exit 0; fi\ncp ${raw} "$4"\necho "stand-in stdout"\necho "Warning: a stand-in" >&2\n${body}\n`,
    );
    await chmod(bin, 0o755);
    return bin;
  }

  /** What the stand-in copies: time to tstop and every vector partition 0 saves. */
  async function rawFor(ctx: PartitionContext): Promise<{ file: string; want: string[] }> {
    const want = ['time', ...ctx.plan.partitions[0].saves];
    const file = path.join(await fresh(), 'p0-ngspice.raw');
    await writeFile(file, encodeRawfile(plotOf(want, ctx.tStopS)));
    return { file, want };
  }

  const SPIN = 'i=0; while [ $i -lt 600000 ]; do i=$((i+1)); done'; // about half a CPU-second of dash here

  it('publishes the rawfile and then a record: run.json fingerprint, the run, tails, messages, where, CPU seconds, kept work dir', async () => {
    const workRoot = await fresh();
    const ctx0 = await context('', workRoot);
    const { file, want } = await rawFor(ctx0);
    const ctx = { ...ctx0, run: { ...ctx0.run, ngspiceBin: await standIn(file, SPIN) } };
    const dir = await store('f1e2d3');
    const env = { job: process.env.SLURM_ARRAY_JOB_ID, task: process.env.SLURM_ARRAY_TASK_ID };
    process.env.SLURM_ARRAY_JOB_ID = '77';
    process.env.SLURM_ARRAY_TASK_ID = '3';
    const before = await ticks();
    const t0 = Date.now();
    let done: string;
    try {
      done = await runStoredPartition(ctx, dir, { pass: 1, index: 0 }, true);
    } finally {
      if (env.job === undefined) delete process.env.SLURM_ARRAY_JOB_ID;
      else process.env.SLURM_ARRAY_JOB_ID = env.job;
      if (env.task === undefined) delete process.env.SLURM_ARRAY_TASK_ID;
      else process.env.SLURM_ARRAY_TASK_ID = env.task;
    }
    const t1 = Date.now();
    const after = await ticks();
    expect(done).toBe('ran');
    // The rawfile published under its name (the temporary one renamed), the record beside it.
    expect((await readdir(dir)).sort()).toEqual(['p0.json', 'p0.raw', 'run.json']);
    const raw = (await readRawfile(path.join(dir, 'p0.raw')))[0];
    expect(names(raw)).toEqual(want);
    expect(raw.real.map((v) => Array.from(v))).toEqual(want.map((_, i) => (i === 0 ? [0, 0.02] : [i, i + 0.5])));
    // The work directory kept ('always'): the only one under the work root.
    const work = await readdir(workRoot);
    expect(work).toHaveLength(1);
    const text = await readFile(path.join(dir, 'p0.json'), 'utf8');
    expect(text).toBe(JSON.stringify(JSON.parse(text), null, 1) + '\n');
    const r = JSON.parse(text) as Record<string, unknown> & {
      info: { durationMs: number };
      startedAt: string;
      endedAt: string;
      taskCpuS: number;
      childCpuS: number;
    };
    const p0 = ctx.plan.partitions[0];
    expect(r).toEqual({
      fingerprint: 'f1e2d3',
      pass: 1,
      index: 0,
      info: {
        index: 0,
        label: 'front end',
        transistors: p0.transistors,
        replicas: p0.replicas.length,
        handoffs: 0,
        handoffPoints: 0,
        durationMs: r.info.durationMs,
        points: 2,
        workDir: path.join(workRoot, work[0]),
      },
      ngspiceVersion: '99',
      exitCode: 0,
      messages: [{ severity: 'warning', kind: 'other', text: 'Warning: a stand-in' }],
      stdoutTail: 'stand-in stdout\n',
      stderrTail: 'Warning: a stand-in\n',
      startedAt: r.startedAt,
      endedAt: r.endedAt,
      ranOn: { job: '77', task: '3', host: os.hostname() },
      taskCpuS: r.taskCpuS,
      childCpuS: r.childCpuS,
    });
    expect(r.info.durationMs).toBeGreaterThan(0);
    expect(r.info.durationMs).toBeLessThanOrEqual(t1 - t0);
    const [started, ended] = [Date.parse(r.startedAt), Date.parse(r.endedAt)];
    expect(new Date(started).toISOString()).toBe(r.startedAt);
    expect(new Date(ended).toISOString()).toBe(r.endedAt);
    expect(t0).toBeLessThanOrEqual(started);
    expect(started).toBeLessThanOrEqual(ended);
    expect(ended).toBeLessThanOrEqual(t1);
    // CPU seconds at 100 ticks a second (USER_HZ: `getconf CLK_TCK` is 100), between this process's before and after.
    expect(r.taskCpuS).toBeGreaterThanOrEqual((before.own + before.children) / 100);
    expect(r.taskCpuS).toBeLessThanOrEqual((after.own + after.children) / 100);
    expect(r.childCpuS).toBeLessThanOrEqual(after.children / 100);
    // The stand-in's spin, a finished child's, is new since before: at least 0.05 s of it (0.5 s here).
    expect(r.childCpuS - before.children / 100).toBeGreaterThanOrEqual(0.05);
    // This process's own share, taskCpuS - childCpuS, lies between its own before and after.
    expect(r.taskCpuS - r.childCpuS).toBeGreaterThanOrEqual(before.own / 100 - 1e-9);
    expect(r.taskCpuS - r.childCpuS).toBeLessThanOrEqual(after.own / 100 + 1e-9);
  });

  it('outside Slurm and without keeping: the host only, no work directory, none left behind', async () => {
    const workRoot = await fresh();
    const ctx0 = await context('', workRoot);
    const { file } = await rawFor(ctx0);
    const ctx = { ...ctx0, run: { ...ctx0.run, ngspiceBin: await standIn(file, '') } };
    const dir = await store('abc');
    const env = { job: process.env.SLURM_ARRAY_JOB_ID, task: process.env.SLURM_ARRAY_TASK_ID };
    delete process.env.SLURM_ARRAY_JOB_ID;
    delete process.env.SLURM_ARRAY_TASK_ID;
    try {
      expect(await runStoredPartition(ctx, dir, { pass: 1, index: 0 }, false)).toBe('ran');
    } finally {
      if (env.job !== undefined) process.env.SLURM_ARRAY_JOB_ID = env.job;
      if (env.task !== undefined) process.env.SLURM_ARRAY_TASK_ID = env.task;
    }
    const r = JSON.parse(await readFile(path.join(dir, 'p0.json'), 'utf8')) as {
      fingerprint: string;
      ranOn: unknown;
      info: Record<string, unknown>;
    };
    expect(r.fingerprint).toBe('abc');
    expect(r.ranOn).toEqual({ host: os.hostname() });
    expect(Object.keys(r.info)).not.toContain('workDir');
    expect(await readdir(workRoot)).toEqual([]);
    // A second call finds the record and does nothing.
    expect(await runStoredPartition(ctx, dir, { pass: 1, index: 0 }, false)).toBe('done');
  });

  it('a failing ngspice: its work directory kept (on failure), nothing published', async () => {
    const workRoot = await fresh();
    const ctx0 = await context('', workRoot);
    const { file } = await rawFor(ctx0);
    const ctx = { ...ctx0, run: { ...ctx0.run, ngspiceBin: await standIn(file, 'exit 3') } };
    const dir = await store();
    await expect(runStoredPartition(ctx, dir, { pass: 1, index: 0 }, false)).rejects.toThrow();
    expect(await readdir(workRoot)).toHaveLength(1);
    expect((await readdir(dir)).sort()).toEqual(['run.json']);
  });
});

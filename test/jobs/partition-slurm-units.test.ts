/**
 * The parts of jobs/partition-slurm.ts that need neither ngspice nor sbatch, imported from src/: the store's paths
 * and files (run.json, the stored plan, the records, submitted.json, the task logs), the run's fingerprint, the
 * missing-partition error, the merge of stored partitions and the scripts' text. Every expected text, path and hash
 * is written out by hand (the hashes by `printf '%s' '<json>' | sha256sum`), never taken from the code's output.
 */
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  lastLogLine,
  missingError,
  missingPartitions,
  openPartitionStore,
  parsePartitionKey,
  partitionStoreDir,
  readRecord,
  readSubmitted,
  removeStageScripts,
  runFingerprint,
  runStoredPartition,
  slurmScripts,
  storedPartitions,
  storedTaskContext,
  storePartitionPlan,
  submittedPath,
  taskOf,
  type Submitted,
} from '../../src/jobs/partition-slurm.js';
import type { HandoffSource } from '../../src/pipeline.js';
import { BmruError, InputError } from '../../src/errors.js';
import { encodeRawfile } from '../../src/spice/rawwrite.js';
import type { RawPlot } from '../../src/spice/rawfile.js';
import { NO_HANDOFF, ctxOf, part, recordOf, tempFolders, transientPlot } from './partition-slurm-fixtures.js';

const fresh = tempFolders('bmru-pslurm-units-');

async function writeRecord(dir: string, name: string, r: unknown): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, name), JSON.stringify(r));
}

describe('partitionStoreDir, parsePartitionKey', () => {
  it('puts the store in <out>/partitions', () => {
    expect(partitionStoreDir('/scratch/out')).toBe('/scratch/out/partitions');
  });

  it('reads 1:<index> and 2:<index>, digits only, the whole text', () => {
    expect(parsePartitionKey('1:0')).toEqual({ pass: 1, index: 0 });
    expect(parsePartitionKey('2:17')).toEqual({ pass: 2, index: 17 });
    expect(parsePartitionKey('1:123')).toEqual({ pass: 1, index: 123 });
    for (const bad of ['0:1', '12:1', 'x1:2', ' 1:2', '1:2 ', '1:2x', '1:', ':3', '1:2:3']) {
      expect(() => parsePartitionKey(bad), bad).toThrow(
        new InputError(`expected <pass>:<partition index> (e.g. 1:5), got '${bad}'`, { field: '--slurm-part' }),
      );
      expect(() => parsePartitionKey(bad)).toThrow(
        `'--slurm-part': expected <pass>:<partition index> (e.g. 1:5), got '${bad}'`,
      );
    }
  });
});

describe('runFingerprint', () => {
  // The plan is the store's only view of the circuit; a minimal one keeps the hashed JSON short enough to write out.
  const plan = { partitions: [{ index: 0, label: 'front end' }] };

  it('is the first 16 hex digits of the SHA-256 of [plan, tStopS, passes, spiceOptions or null, process]', () => {
    // printf '%s' '[{"partitions":[{"index":0,"label":"front end"}]},0.03,1,null,{"name":"c180"}]' | sha256sum
    expect(runFingerprint(ctxOf([], { plan }))).toBe('b14d7b81bb8c0825');
    // printf '%s' '[{"partitions":[{"index":0,"label":"front end"}]},0.03,2,{"seed":3},{"name":"c180"}]' | sha256sum
    const seeded = ctxOf([], { plan, passes: 2, opts: { process: { name: 'c180' }, spiceOptions: { seed: 3 } } });
    expect(runFingerprint(seeded)).toBe('0c404cab5aec988f');
  });

  it('leaves out the network, the tolerance and the runner (a task is checked against them otherwise)', () => {
    const other = ctxOf([], { plan, net: { name: 'm' }, tolV: 0.5, run: { timeoutMs: 1 }, built: { flatCells: true } });
    expect(runFingerprint(other)).toBe('b14d7b81bb8c0825');
  });
});

describe('openPartitionStore', () => {
  const plan = { partitions: [{ index: 0, label: 'front end' }] };

  it("makes <out>/partitions with run.json, then accepts this run's and refuses another's, naming both", async () => {
    const out = await fresh();
    const dir = path.join(out, 'partitions');
    const runJson = path.join(dir, 'run.json');
    expect(await openPartitionStore(ctxOf([], { plan }), out)).toBe(dir);
    const written = '{\n "fingerprint": "b14d7b81bb8c0825",\n "passes": 1,\n "partitions": [\n  "front end"\n ]\n}\n';
    expect(await readFile(runJson, 'utf8')).toBe(written);
    expect(await openPartitionStore(ctxOf([], { plan }), out)).toBe(dir);
    expect(await readFile(runJson, 'utf8')).toBe(written);
    const other = ctxOf([], { plan, passes: 2, opts: { process: { name: 'c180' }, spiceOptions: { seed: 3 } } });
    await expect(openPartitionStore(other, out)).rejects.toThrow(
      new InputError(
        `${dir} holds the partitions of another run (fingerprint b14d7b81bb8c0825, this run's 0c404cab5aec988f: another model, clip, process or option): remove the folder or choose another --out`,
        { file: runJson },
      ),
    );
    await expect(openPartitionStore(other, out)).rejects.toThrow(`${runJson}: ${dir} holds the partitions`);
    expect(await readFile(runJson, 'utf8')).toBe(written);
  });
});

describe('storePartitionPlan / storedTaskContext', () => {
  // Partition 2 reads two rails of partition 0 and one of 1; partition 0 has a third rail another partition reads.
  const handoffs = [
    { node: 'r0a', from: 0, source: 'h0' },
    { node: 'r0b', from: 0, source: 'h1' },
    { node: 'r1', from: 1, source: 'h2' },
  ];
  const RAILS: Record<number, string[]> = { 0: ['r0a', 'r0b', 'r0c'], 1: ['r1'], 2: ['never read'] };
  const partitions = [part(0, 'front end'), part(1, 'block 0', [0]), part(2, 'block 1', [0, 1], { handoffs })];
  // The runner's settings, the executor and the pool's size are not the deck's: left out of the sources' hash.
  const opts = {
    process: { name: 'c180' },
    workers: 4,
    title: 't',
    run: { timeoutMs: 5 },
    partitionExecutor: { label: 'pool' },
  };
  const ctx = () =>
    ctxOf(partitions, {
      opts,
      railsFrom: (f: number) => RAILS[f],
      built: { flatCells: true },
      tStopS: 0.02,
      tolV: 0.004,
    });
  const base = () => ({ net: ctx().net, opts: ctx().opts, run: { timeoutMs: 9 }, handoff: NO_HANDOFF });
  // printf '%s' '[{"name":"n"},{"process":{"name":"c180"},"title":"t"}]' | sha256sum
  const SOURCES = '351a9f82b729aa2b';

  /** What a task knows of a partition it does not run. */
  const labelOnly = (index: number, label: string) => part(index, label, [], { kind: 'rest', transistors: 0 });

  it("writes plan/p<i>.json per partition: fingerprint, sources, labels, settings, the partition, its sources' rails", async () => {
    const dir = path.join(await fresh(), 'partitions');
    await openPartitionStore(ctx(), path.dirname(dir));
    const fp = runFingerprint(ctx()); // pinned by hand above
    expect(await storePartitionPlan(ctx(), dir)).toBe(3);
    expect((await readdir(path.join(dir, 'plan'))).sort()).toEqual(['p0.json', 'p1.json', 'p2.json']);
    const head = `{"fingerprint":"${fp}","sources":"${SOURCES}","labels":["front end","block 0","block 1"],"tStopS":0.02,"tolV":0.004,"passes":1,"flatCells":true`;
    const p2 =
      '{"index":2,"label":"block 1","kind":"cell","own":[],"copies":[],"after":[0,1],"replicas":[],"replicaDrains":[],"copyDrainSaves":[],' +
      '"handoffs":[{"node":"r0a","from":0,"source":"h0"},{"node":"r0b","from":0,"source":"h1"},{"node":"r1","from":1,"source":"h2"}],' +
      '"initialConditions":[],"saves":[],"transistors":9}';
    expect(await readFile(path.join(dir, 'plan', 'p2.json'), 'utf8')).toBe(
      `${head},"partition":${p2},"railsFrom":{"0":["r0a","r0b","r0c"],"1":["r1"]}}\n`,
    );
    const p0 =
      '{"index":0,"label":"front end","kind":"cell","own":[],"copies":[],"after":[],"replicas":[],"replicaDrains":[],"copyDrainSaves":[],' +
      '"handoffs":[],"initialConditions":[],"saves":[],"transistors":9}';
    expect(await readFile(path.join(dir, 'plan', 'p0.json'), 'utf8')).toBe(
      `${head},"partition":${p0},"railsFrom":{}}\n`,
    );
  });

  it("keeps the files this run stored (by their fingerprint's prefix) and replaces another run's", async () => {
    const dir = path.join(await fresh(), 'partitions');
    await openPartitionStore(ctx(), path.dirname(dir));
    const fp = runFingerprint(ctx());
    expect(await storePartitionPlan(ctx(), dir)).toBe(3);
    expect(await storePartitionPlan(ctx(), dir)).toBe(0);
    const p1 = path.join(dir, 'plan', 'p1.json');
    const p2 = path.join(dir, 'plan', 'p2.json');
    const stored = await readFile(p2, 'utf8');
    await writeFile(p1, `{"fingerprint":"${fp}"}`); // this run's by its prefix: kept as it is
    await writeFile(p2, stored.replace(fp, '0000000000000000'));
    expect(await storePartitionPlan(ctx(), dir)).toBe(1);
    expect(await readFile(p1, 'utf8')).toBe(`{"fingerprint":"${fp}"}`);
    expect(await readFile(p2, 'utf8')).toBe(stored);
  });

  it('gives a task its stored partition, the others as labels, the stored settings and rails, and its own base', async () => {
    const dir = path.join(await fresh(), 'partitions');
    await openPartitionStore(ctx(), path.dirname(dir));
    await storePartitionPlan(ctx(), dir);
    const b = base();
    const t = await storedTaskContext(dir, 2, b);
    expect(t.plan.partitions).toEqual([labelOnly(0, 'front end'), labelOnly(1, 'block 0'), partitions[2]]);
    expect([t.tStopS, t.tolV, t.passes, t.built]).toEqual([0.02, 0.004, 1, { flatCells: true }]);
    expect([t.net, t.opts, t.run, t.handoff]).toEqual([b.net, b.opts, b.run, b.handoff]);
    expect(t.run).toBe(b.run);
    expect([t.railsFrom(0), t.railsFrom(1), t.railsFrom(2), t.railsFrom(5)]).toEqual([
      ['r0a', 'r0b', 'r0c'],
      ['r1'],
      [],
      [],
    ]);
    const t0 = await storedTaskContext(dir, 0, b);
    expect(t0.plan.partitions).toEqual([partitions[0], labelOnly(1, 'block 0'), labelOnly(2, 'block 1')]);
    expect(t0.railsFrom(0)).toEqual([]);
  });

  it('reads a plan stored without railsFrom (before it was kept) as reading no rails, and two passes', async () => {
    const dir = path.join(await fresh(), 'partitions');
    const two = () => ctxOf(partitions, { opts, railsFrom: (f: number) => RAILS[f], passes: 2 });
    await openPartitionStore(two(), path.dirname(dir));
    await storePartitionPlan(two(), dir);
    const file = path.join(dir, 'plan', 'p2.json');
    const { railsFrom: _, ...old } = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    await writeFile(file, JSON.stringify(old));
    const t = await storedTaskContext(dir, 2, base());
    expect([t.passes, t.built, t.railsFrom(0), t.railsFrom(1)]).toEqual([2, { flatCells: false }, [], []]);
  });

  it('refuses a missing plan or run.json, a file that is not a plan, another run, another partition, another network', async () => {
    const out = await fresh();
    const dir = path.join(out, 'partitions');
    const runJson = path.join(dir, 'run.json');
    const file = (i: number) => path.join(dir, 'plan', `p${i}.json`);
    const how = 'submit with `bmru compare --partitioned --slurm`, which writes them';
    await expect(storedTaskContext(dir, 0, base())).rejects.toThrow(
      new InputError(`no stored plan for partition 0 (${file(0)}, nor ${runJson}): ${how}`, { file: file(0) }),
    );
    await openPartitionStore(ctx(), out);
    await expect(storedTaskContext(dir, 7, base())).rejects.toThrow(
      `${file(7)}: no stored plan for partition 7 (${file(7)}): ${how}`,
    );
    await storePartitionPlan(ctx(), dir);
    const fp = runFingerprint(ctx());
    const runText = await readFile(runJson, 'utf8');
    await rm(runJson);
    await expect(storedTaskContext(dir, 1, base())).rejects.toThrow(
      `${file(1)}: no stored plan for partition 1 (${file(1)}, nor ${runJson}): ${how}`,
    );
    await writeFile(runJson, runText);

    const p2 = await readFile(file(2), 'utf8');
    await writeFile(file(2), '{"fingerprint":1}');
    await expect(storedTaskContext(dir, 2, base())).rejects.toThrow(
      new InputError('not a stored partition (fingerprint: Invalid input: expected string, received number)', {
        file: file(2),
      }),
    );
    const noLabel = JSON.parse(p2) as { partition: Record<string, unknown> };
    delete noLabel.partition.label;
    await writeFile(file(2), JSON.stringify(noLabel));
    await expect(storedTaskContext(dir, 2, base())).rejects.toThrow(
      `${file(2)}: not a stored partition (partition.label: Invalid input: expected string, received undefined)`,
    );
    await writeFile(file(2), p2.replace('"passes":1', '"passes":3'));
    await expect(storedTaskContext(dir, 2, base())).rejects.toThrow(`${file(2)}: not a stored partition (passes: `);

    await writeFile(file(2), p2);
    await writeFile(runJson, '{"fingerprint":"0000000000000000"}');
    await expect(storedTaskContext(dir, 2, base())).rejects.toThrow(
      new InputError(
        `stored for run ${fp}, partition 2, but ${runJson} is run 0000000000000000 and the task asks for partition 2: remove the folder and submit again`,
        { file: file(2) },
      ),
    );
    await writeFile(runJson, runText);
    await writeFile(file(1), p2); // partition 2's plan under partition 1's name
    await expect(storedTaskContext(dir, 1, base())).rejects.toThrow(
      `${file(1)}: stored for run ${fp}, partition 2, but ${runJson} is run ${fp} and the task asks for partition 1: remove the folder and submit again`,
    );
    await expect(storedTaskContext(dir, 2, { ...base(), net: { name: 'm' } as never })).rejects.toThrow(
      new InputError(
        "cut from another network or options than this task's (model, clip or option changed since submission): submit again into another --out",
        { file: file(2) },
      ),
    );
    // The runner's settings, the pool's size and the executor may differ: not the deck's.
    const loose = {
      ...base(),
      opts: { ...opts, workers: 1, run: { timeoutMs: 1 }, partitionExecutor: { label: 'slurm' } },
    };
    expect((await storedTaskContext(dir, 2, loose as never)).plan.partitions[2]).toEqual(partitions[2]);
    const titled = { ...base(), opts: { ...opts, title: 'u' } };
    await expect(storedTaskContext(dir, 2, titled as never)).rejects.toThrow(/cut from another network or options/);
  });
});

describe('readRecord', () => {
  it('reads p<i>.json (pass 1) and p<i>-pass2.json, every field kept, or undefined when there is none', async () => {
    const dir = await fresh();
    expect(await readRecord(dir, { pass: 1, index: 5 })).toBeUndefined();
    const full = recordOf(2, 5, {
      info: {
        index: 5,
        label: 'block 0 cell 3',
        transistors: 9,
        replicas: 2,
        handoffs: 3,
        handoffPoints: 40,
        durationMs: 1200,
        cpuS: 1.1,
        points: 300,
        windows: 2,
        windowsInTurn: 3,
        workDir: '/tmp/w',
      },
      messages: [{ severity: 'warning', kind: 'x', text: 'y', line: 4 }],
      ranOn: { job: '101', task: '3', host: 'node1' },
      taskCpuS: 2.5,
      childCpuS: 2,
    });
    await writeRecord(dir, 'p5-pass2.json', full);
    expect(await readRecord(dir, { pass: 2, index: 5 })).toEqual(full);
    expect(await readRecord(dir, { pass: 1, index: 5 })).toBeUndefined();
    const plain = recordOf(1, 5);
    await writeRecord(dir, 'p5.json', plain);
    expect(await readRecord(dir, { pass: 1, index: 5 })).toEqual(plain);
  });

  it('refuses a record that is not one, naming the file and the first field at fault', async () => {
    const dir = await fresh();
    const file = path.join(dir, 'p0.json');
    const cases: [Record<string, unknown>, string][] = [
      [{ info: { ...recordOf(1, 0).info, extra: 1 } }, 'info: Unrecognized key: "extra"'],
      [{ pass: 1.5 }, 'pass: Invalid input: expected int, received number'],
      [{ ranOn: {} }, 'ranOn.host: Invalid input: expected string, received undefined'],
      [
        { messages: [{ severity: 'error', kind: 'k' }] },
        'messages.0.text: Invalid input: expected string, received undefined',
      ],
    ];
    for (const [over, why] of cases) {
      await writeRecord(dir, 'p0.json', recordOf(1, 0, over));
      await expect(readRecord(dir, { pass: 1, index: 0 })).rejects.toThrow(
        new InputError(`not a partition record (${why})`, { file }),
      );
    }
  });
});

describe('missingPartitions', () => {
  it('lists per stage, in both passes, the partitions without a record', async () => {
    const dir = await fresh();
    // Waves: [0], [1, 2] (both read 0); two passes make four stages.
    const ctx = ctxOf([part(0, 'front end'), part(1, 'cell 0', [0]), part(2, 'cell 1', [0])], { passes: 2 });
    await writeRecord(dir, 'p0.json', recordOf(1, 0));
    await writeRecord(dir, 'p2.json', recordOf(1, 2));
    await writeRecord(dir, 'p1-pass2.json', recordOf(2, 1));
    expect(await missingPartitions(ctx, dir)).toEqual([
      { stage: { pass: 1, partitions: [0], label: 'front end' }, missing: [] },
      { stage: { pass: 1, partitions: [1, 2], label: 'cell 0 .. cell 1' }, missing: [{ pass: 1, index: 1 }] },
      { stage: { pass: 2, partitions: [0], label: 'pass 2: front end' }, missing: [{ pass: 2, index: 0 }] },
      { stage: { pass: 2, partitions: [1, 2], label: 'pass 2: cell 0 .. cell 1' }, missing: [{ pass: 2, index: 2 }] },
    ]);
  });
});

describe('runStoredPartition before ngspice', () => {
  // Partition 1 reads partition 0; partition 2 reads 0 and 1.
  const partitions = [
    part(0, 'front end'),
    part(1, 'block 0', [0], { handoffs: [{ node: 'a', from: 0, source: 'h0' }] }),
    part(2, 'block 1', [0, 1], { handoffs: [{ node: 'b', from: 1, source: 'h1' }] }),
  ];
  const ctx = ctxOf(partitions, { passes: 2 });

  it('refuses a partition or pass the run does not have, naming the flag', async () => {
    const dir = await fresh();
    for (const [pass, index] of [
      [1, 3],
      [3, 0],
      [1, 4],
    ])
      await expect(runStoredPartition(ctx, dir, { pass, index }, false)).rejects.toThrow(
        new InputError(`partition ${pass}:${index} does not exist: this run has 3 partitions and 2 pass(es)`, {
          field: '--slurm-part',
        }),
      );
  });

  it('does nothing for a partition with a record (its inputs are not looked at)', async () => {
    const dir = await fresh();
    await writeRecord(dir, 'p2-pass2.json', recordOf(2, 2));
    expect(await runStoredPartition(ctx, dir, { pass: 2, index: 2 }, false)).toBe('done');
    expect((await readdir(dir)).sort()).toEqual(['p2-pass2.json']);
  });

  /** A store's run.json as openPartitionStore writes it (only its fingerprint is read here). */
  const withRun = async (dir: string) => {
    await writeFile(path.join(dir, 'run.json'), JSON.stringify({ fingerprint: 'f' }));
    return dir;
  };

  it('refuses a store without run.json or without a fingerprint before ngspice, naming the file once', async () => {
    const dir = await fresh();
    const want = new InputError('missing or without a fingerprint', { file: path.join(dir, 'run.json') });
    await expect(runStoredPartition(ctx, dir, { pass: 1, index: 0 }, false)).rejects.toThrow(want);
    await writeFile(path.join(dir, 'run.json'), '{}');
    const e = await runStoredPartition(ctx, dir, { pass: 1, index: 0 }, false).catch((x: unknown) => x);
    expect((e as Error).message).toBe(`${path.join(dir, 'run.json')}: missing or without a fingerprint`);
  });

  it('names an input without a record, or with a record and no rawfile, before ngspice starts', async () => {
    const out = await fresh();
    const dir = path.join(out, 'partitions');
    await mkdir(dir);
    await withRun(dir);
    await expect(runStoredPartition(ctx, dir, { pass: 1, index: 1 }, false)).rejects.toThrow(
      new BmruError(
        `partition 0 (front end, pass 1) has no result in ${dir}: its stage has not run or failed (see its log in ${out}/slurm)`,
        'slurm-task',
      ),
    );
    await writeRecord(dir, 'p0.json', recordOf(1, 0));
    const e = await runStoredPartition(ctx, dir, { pass: 1, index: 1 }, false).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BmruError);
    expect((e as BmruError).kind).toBe('slurm-task');
    expect((e as BmruError).message).toBe(
      `partition 0 (front end, pass 1) has a record but no rawfile ${dir}/p0.raw: remove its record ${dir}/p0.json and submit again`,
    );
    // In pass 2, partition 2 reads pass 2's partition 1.
    await writeRecord(dir, 'p0-pass2.json', recordOf(2, 0));
    const time = { name: 'time', type: 'time' };
    const raw = { title: 't', date: 'd', plotname: 'Transient Analysis', complex: false, vectors: [time] };
    await writeFile(
      path.join(dir, 'p0-pass2.raw'),
      encodeRawfile({ ...raw, numPoints: 2, real: [Float64Array.from([0, 0.01])] }),
    );
    await expect(runStoredPartition(ctx, dir, { pass: 2, index: 2 }, false)).rejects.toThrow(
      `partition 1 (block 0, pass 2) has no result in ${dir}`,
    );
  });
  it("hands the deck its inputs' stored plots holding only what it reads: the time and its sources' rails", async () => {
    const dir = await withRun(await fresh());
    await writeRecord(dir, 'p0.json', recordOf(1, 0));
    // Partition 0 saved rails a and c, which some partition reads (railsFrom), and z, which none reads.
    const names = ['time', 'v(a)', 'v(c)', 'v(z)'];
    await writeFile(
      path.join(dir, 'p0.raw'),
      encodeRawfile({
        title: 't',
        date: 'd',
        plotname: 'Transient Analysis',
        complex: false,
        vectors: names.map((name, i) => ({ name, type: i === 0 ? 'time' : 'voltage' })),
        numPoints: 2,
        real: [
          [0, 0.01],
          [1, 2],
          [3, 4],
          [5, 6],
        ].map((v) => Float64Array.from(v)),
      }),
    );
    // The hand-off is the first thing runPartition does with the plots, before any deck or ngspice: stop there.
    let handed: RawPlot[] = [];
    const handoff = ((_h: unknown, plots: RawPlot[]) => {
      handed = plots;
      throw new Error('stopped before the deck');
    }) as unknown as HandoffSource;
    const c = ctxOf(partitions, { passes: 2, handoff, railsFrom: (f: number) => (f === 0 ? ['a', 'c'] : []) });
    await expect(runStoredPartition(c, dir, { pass: 1, index: 1 }, false)).rejects.toThrow('stopped before the deck');
    expect(handed[0].vectors.map((v) => v.name)).toEqual(['time', 'v(a)', 'v(c)']);
    expect(handed[0].real.map((v) => Array.from(v))).toEqual([
      [0, 0.01],
      [1, 2],
      [3, 4],
    ]);
  });
});

describe('submitted.json, taskOf, lastLogLine', () => {
  const SUBMITTED: Submitted = {
    stages: [
      { stage: 0, label: 'front end', job: '100', tasks: [{ pass: 1, index: 0 }] },
      {
        stage: 2,
        label: 'cells',
        job: '102',
        tasks: [
          { pass: 1, index: 2 },
          { pass: 1, index: 1 },
          { pass: 2, index: 3 },
        ],
      },
    ],
    merge: '103',
  };

  it('reads <out>/slurm/submitted.json, or undefined when it is missing, not one, or not a file', async () => {
    const out = await fresh();
    expect(submittedPath('/scratch/out')).toBe('/scratch/out/slurm/submitted.json');
    expect(await readSubmitted(out)).toBeUndefined();
    await mkdir(path.join(out, 'slurm'));
    await writeFile(path.join(out, 'slurm', 'submitted.json'), JSON.stringify(SUBMITTED));
    expect(await readSubmitted(out)).toEqual(SUBMITTED);
    const { merge: _, ...noMerge } = SUBMITTED;
    await writeFile(path.join(out, 'slurm', 'submitted.json'), JSON.stringify(noMerge));
    expect(await readSubmitted(out)).toEqual(noMerge);
    const bad = { stages: [{ ...SUBMITTED.stages[0], tasks: [{ pass: 1 }] }] };
    await writeFile(path.join(out, 'slurm', 'submitted.json'), JSON.stringify(bad));
    expect(await readSubmitted(out)).toBeUndefined();
    const dirOut = await fresh();
    await mkdir(path.join(dirOut, 'slurm', 'submitted.json'), { recursive: true });
    expect(await readSubmitted(dirOut)).toBeUndefined();
  });

  it("finds a partition's stage, job, task (its place in the stage's list, pass and index both) and log", () => {
    expect(taskOf(SUBMITTED, '/o', { pass: 1, index: 0 })).toEqual({
      stage: 0,
      label: 'front end',
      job: '100',
      task: 0,
      log: '/o/slurm/100_0.out',
    });
    expect(taskOf(SUBMITTED, '/o', { pass: 1, index: 1 })).toEqual({
      stage: 2,
      label: 'cells',
      job: '102',
      task: 1,
      log: '/o/slurm/102_1.out',
    });
    expect(taskOf(SUBMITTED, '/o', { pass: 2, index: 3 })?.task).toBe(2);
    expect(taskOf(SUBMITTED, '/o', { pass: 1, index: 3 })).toBeUndefined();
    expect(taskOf(SUBMITTED, '/o', { pass: 2, index: 2 })).toBeUndefined();
    expect(taskOf(undefined, '/o', { pass: 1, index: 0 })).toBeUndefined();
  });

  it("gives a log's last non-empty line, trimmed, or undefined (no log, an empty one, not a file)", async () => {
    const dir = await fresh();
    const log = path.join(dir, 'a.out');
    expect(await lastLogLine(log)).toBeUndefined();
    await writeFile(log, '');
    expect(await lastLogLine(log)).toBeUndefined();
    await writeFile(log, '== bmru: array task 1\n  error: no convergence  \n\n   \n');
    expect(await lastLogLine(log)).toBe('error: no convergence');
    await writeFile(log, 'one line');
    expect(await lastLogLine(log)).toBe('one line');
    expect(await lastLogLine(dir)).toBeUndefined();
  });
});

describe('missingError', () => {
  // The front end, then five cells that read it: waves [0], [1..5].
  const partitions = [part(0, 'front end'), ...[1, 2, 3, 4, 5].map((i) => part(i, `c${i}`, [0]))];
  const ctx = ctxOf(partitions);
  const WHAT = 'Fix the cause, then submit again: finished partitions are kept';

  it("names the first stage left short, up to three of its partitions with their task's log, and counts the rest", async () => {
    const out = await fresh();
    const dir = path.join(out, 'partitions');
    const slurm = path.join(out, 'slurm');
    await writeRecord(dir, 'p0.json', recordOf(1, 0));
    // No submitted.json: no partition was submitted.
    const none = await missingError(ctx, out);
    expect(none).toBeInstanceOf(BmruError);
    expect(none!.kind).toBe('slurm-task');
    expect(none!.message).toBe(
      `stage 'c1 .. c5' left 5 of 5 partitions without a result in ${dir}: partition 1:1 (c1) was not submitted; ` +
        `partition 1:2 (c2) was not submitted; partition 1:3 (c3) was not submitted; 2 more. ${WHAT}`,
    );
    const submitted: Submitted = {
      stages: [
        {
          stage: 1,
          label: 'c1 .. c5',
          job: '101',
          tasks: [
            { pass: 1, index: 2 },
            { pass: 1, index: 1 },
          ],
        },
      ],
    };
    await mkdir(slurm, { recursive: true });
    await writeFile(path.join(slurm, 'submitted.json'), JSON.stringify(submitted));
    await writeFile(path.join(slurm, '101_1.out'), 'starting\nngspice: timestep too small\n\n');
    expect((await missingError(ctx, out))!.message).toBe(
      `stage 'c1 .. c5' left 5 of 5 partitions without a result in ${dir}: ` +
        `task 1 of Slurm job 101 (partition c1): log ${slurm}/101_1.out, last line: ngspice: timestep too small; ` +
        `task 0 of Slurm job 101 (partition c2): log ${slurm}/101_0.out (none yet: cancelled before it started?); ` +
        `partition 1:3 (c3) was not submitted; 2 more. ${WHAT}`,
    );
    await writeRecord(dir, 'p1.json', recordOf(1, 1));
    await writeRecord(dir, 'p2.json', recordOf(1, 2));
    expect((await missingError(ctx, out))!.message).toBe(
      `stage 'c1 .. c5' left 3 of 5 partitions without a result in ${dir}: partition 1:3 (c3) was not submitted; ` +
        `partition 1:4 (c4) was not submitted; partition 1:5 (c5) was not submitted. ${WHAT}`,
    );
    for (const i of [3, 4]) await writeRecord(dir, `p${i}.json`, recordOf(1, i));
    expect((await missingError(ctx, out))!.message).toBe(
      `stage 'c1 .. c5' left 1 of 5 partitions without a result in ${dir}: partition 1:5 (c5) was not submitted. ${WHAT}`,
    );
    await writeRecord(dir, 'p5.json', recordOf(1, 5));
    expect(await missingError(ctx, out)).toBeUndefined();
  });

  it('stops at the first stage with a partition missing, even when a later one has more', async () => {
    const out = await fresh();
    await writeRecord(path.join(out, 'partitions'), 'p3.json', recordOf(1, 3));
    expect((await missingError(ctx, out))!.message).toMatch(/^stage 'front end' left 1 of 1 partitions without/);
  });
});

describe('storedPartitions (the merge step)', () => {
  const info = (index: number, durationMs: number, points: number, cpuS: number) => ({
    index,
    label: `p${index}`,
    transistors: 9,
    replicas: 0,
    handoffs: index,
    handoffPoints: 10 * index,
    durationMs,
    cpuS,
    points,
  });

  it("merges the last pass's rawfiles; exit, messages, tails and version from the records; wall time first start to last end", async () => {
    const out = await fresh();
    const dir = path.join(out, 'partitions');
    const ctx = ctxOf([part(0, 'front end'), part(1, 'block 0', [0])], { passes: 2 });
    await openPartitionStore(ctx, out);
    const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
    const records = [
      recordOf(1, 0, { info: info(0, 100, 20, 1), startedAt: at(10), endedAt: at(12) }),
      recordOf(1, 1, { info: info(1, 200, 30, 2), startedAt: at(13), endedAt: at(15) }),
      recordOf(2, 0, {
        info: info(0, 1000, 21, 4),
        startedAt: at(16),
        endedAt: at(18),
        exitCode: 0,
        messages: [{ severity: 'warning', kind: 'w', text: 'first' }],
        ngspiceVersion: '38',
        stdoutTail: 'out0',
      }),
      recordOf(2, 1, {
        info: info(1, 2000, 31, 8),
        startedAt: at(19),
        endedAt: at(25),
        exitCode: 1,
        messages: [{ severity: 'note', kind: 'n', text: 'second' }],
        ngspiceVersion: '39',
        stdoutTail: 'out1',
        stderrTail: 'err1',
      }),
    ];
    for (const r of records) await writeRecord(dir, `p${r.index}${r.pass > 1 ? '-pass2' : ''}.json`, r);
    // Only pass 2's rawfiles are read: pass 1's are left out on purpose.
    await writeFile(path.join(dir, 'p0-pass2.raw'), encodeRawfile(transientPlot('v(a)', [0, 0.01], [1, 2])));
    await writeFile(path.join(dir, 'p1-pass2.raw'), encodeRawfile(transientPlot('v(b)', [0, 0.005, 0.01], [3, 4, 5])));
    const merged = await storedPartitions(out).run(ctx);
    const p = merged.run.plots[0];
    expect(merged.run.plots).toHaveLength(1);
    expect(p.vectors.map((v) => v.name)).toEqual(['time', 'v(a)', 'v(b)']);
    expect(Array.from(p.real[0])).toEqual([0, 0.005, 0.01]);
    expect(Array.from(p.real[1])).toEqual([1, 2]);
    expect(Array.from(p.real[2])).toEqual([3, 4, 5]);
    expect(merged.run.exitCode).toBe(1);
    expect(merged.run.durationMs).toBe(15_000); // 00:00:10 to 00:00:25
    expect(merged.run.ngspiceVersion).toBe('39');
    expect(merged.run.messages).toEqual([
      { severity: 'warning', kind: 'w', text: 'first' },
      { severity: 'note', kind: 'n', text: 'second' },
    ]);
    expect([merged.run.stdoutTail, merged.run.stderrTail]).toEqual(['out1', 'err1']);
    // Per partition both passes: time and CPU added up, the last pass's points.
    expect(merged.partitions).toEqual([{ ...info(0, 1100, 21, 5) }, { ...info(1, 2200, 31, 10) }]);
  });

  it("refuses another run's store, and a partition without a result, before reading any rawfile", async () => {
    const out = await fresh();
    const ctx = ctxOf([part(0, 'front end'), part(1, 'block 0', [0])]);
    await openPartitionStore(ctx, out);
    await writeRecord(path.join(out, 'partitions'), 'p0.json', recordOf(1, 0));
    await expect(storedPartitions(out).run(ctx)).rejects.toThrow(
      `stage 'block 0' left 1 of 1 partitions without a result in ${out}/partitions: partition 1:1 (block 0) was not submitted`,
    );
    await expect(storedPartitions(out).run(ctxOf([part(0, 'front end')], { tStopS: 1 }))).rejects.toThrow(
      /holds the partitions of another run/,
    );
    expect(storedPartitions(out).label).toBe('Slurm (a job array per stage)');
  });
});

describe('removeStageScripts', () => {
  it('removes stage-<digits>.sbatch only, and is quiet without a slurm folder', async () => {
    const out = await fresh();
    await removeStageScripts(out);
    const slurm = path.join(out, 'slurm');
    await mkdir(slurm);
    const keep = [
      'merge.sbatch',
      'submit.sh',
      '101_0.out',
      'stage-1.sbatch.bak',
      'xstage-01.sbatch',
      'stage-ab.sbatch',
      'stage-.sbatch',
    ];
    for (const n of ['stage-00.sbatch', 'stage-12.sbatch', 'stage-3.sbatch', ...keep])
      await writeFile(path.join(slurm, n), '');
    await removeStageScripts(out);
    expect((await readdir(slurm)).sort()).toEqual([...keep].sort());
  });
});

describe('slurmScripts: the whole text', () => {
  const SETTINGS = {
    jobName: 'bmru-t',
    cpusPerTask: 4, // a stage task runs one ngspice: 1 whatever the settings say
    time: '30',
    projectRoot: '/opt/bmru',
    bin: '/opt/bmru/bin/bmru.js',
  };
  const stage = (label: string, partitions: number[], pass = 1) => ({ pass, partitions, label });
  const HEADER =
    'echo "== bmru: array task ${SLURM_ARRAY_TASK_ID:-?}, restart ${SLURM_RESTART_COUNT:-0}, on ${HOSTNAME:-?} at $(date -u +%Y-%m-%dT%H:%M:%SZ)" >&2';
  const COMMAND = "exec node '/opt/bmru/bin/bmru.js' compare '-i' '/data/my clip.csv' '-o' '/s/o'";

  it('writes a stage array of its missing partitions, the merge array and submit.sh, each line as sbatch and bash read it', () => {
    const s = slurmScripts(
      [
        { stage: stage('front end', [0]), missing: [] },
        {
          stage: stage('block 0 cell 0 .. block 0 cell 2', [1, 2, 3]),
          missing: [
            { pass: 1, index: 1 },
            { pass: 1, index: 3 },
          ],
        },
        { stage: stage('pass 2: "front" $end`\\', [0], 2), missing: [{ pass: 2, index: 0 }] },
      ],
      '/s/o',
      ['-i', '/data/my clip.csv', '-o', '/s/o'],
      SETTINGS,
    );
    expect(s.stages.map((x) => [x.stage, x.label, x.tasks, x.file])).toEqual([
      [
        1,
        'block 0 cell 0 .. block 0 cell 2',
        [
          { pass: 1, index: 1 },
          { pass: 1, index: 3 },
        ],
        '/s/o/slurm/stage-01.sbatch',
      ],
      [2, 'pass 2: "front" $end`\\', [{ pass: 2, index: 0 }], '/s/o/slurm/stage-02.sbatch'],
    ]);
    expect(s.stages[0].text).toBe(
      [
        '#!/bin/bash',
        '# Written by `bmru compare --partitioned --slurm`: stage 1 of 3 (block 0 cell 0 .. block 0 cell 2), 2 partition(s), one per task.',
        "# Each task writes its partition's rawfile and record into /s/o/partitions; one with a record already does nothing.",
        '# Submitted after the stage before it has ended with every task ok (sbatch --dependency=afterok:<its job>); /s/o/slurm/submit.sh submits all stages in order.',
        '#SBATCH --job-name=bmru-t-s1',
        '#SBATCH --array=0-1',
        '#SBATCH --ntasks=1',
        '#SBATCH --cpus-per-task=1',
        '#SBATCH --time=30',
        '#SBATCH --output="/s/o/slurm/%A_%a.out"',
        '#SBATCH --open-mode=append',
        'set -e',
        HEADER,
        "cd '/opt/bmru'",
        'PARTS=(1:1 1:3)',
        '# exec: a time limit or scancel signals node itself, which stops its ngspice process.',
        `${COMMAND} --slurm-part "\${PARTS[$SLURM_ARRAY_TASK_ID]}"`,
        '',
      ].join('\n'),
    );
    expect(s.stages[1].text).toContain('#SBATCH --job-name=bmru-t-s2\n#SBATCH --array=0-0\n');
    expect(s.stages[1].text).toContain('\nPARTS=(2:0)\n');
    expect(s.merge).toEqual({
      file: '/s/o/slurm/merge.sbatch',
      text: [
        '#!/bin/bash',
        '# Written by `bmru compare --partitioned --slurm`: merges the partitions and compares, as `bmru compare --partitioned` does locally.',
        "# Writes /s/o/report.json and the other reports; exit 0 pass, 1 below tolerance, 2 error (a partition missing: named with its task's log).",
        '#SBATCH --job-name=bmru-t-merge',
        '#SBATCH --array=0-0',
        '#SBATCH --ntasks=1',
        '#SBATCH --cpus-per-task=1',
        '#SBATCH --time=30',
        '#SBATCH --output="/s/o/slurm/%A_%a.out"',
        '#SBATCH --open-mode=append',
        'set -e',
        HEADER,
        "cd '/opt/bmru'",
        `${COMMAND} --slurm-merge`,
        '',
      ].join('\n'),
    });
    expect(s.driver).toEqual({
      file: '/s/o/slurm/submit.sh',
      text: [
        '#!/bin/bash',
        '# Written by `bmru compare --partitioned --slurm`: submits 2 stage array(s) and the merge, each after the one before.',
        '# Run it to submit the same chain again (bmru compare ... --slurm does the same and resubmits only missing partitions).',
        'set -e',
        "j1=$(sbatch --parsable '/s/o/slurm/stage-01.sbatch')",
        'echo "stage 1 (block 0 cell 0 .. block 0 cell 2): job ${j1%%;*}, 2 task(s)"',
        'j2=$(sbatch --parsable "--dependency=afterok:${j1%%;*}" "--kill-on-invalid-dep=yes" \'/s/o/slurm/stage-02.sbatch\')',
        'echo "stage 2 (pass 2: front end): job ${j2%%;*}, 1 task(s)"',
        'jm=$(sbatch --parsable "--dependency=afterok:${j2%%;*}" "--kill-on-invalid-dep=yes" \'/s/o/slurm/merge.sbatch\')',
        'echo "merge: job ${jm%%;*}; report: /s/o/report.json"',
        '',
      ].join('\n'),
    });
  });

  it('pads the stage number to two digits, and strips what bash would expand from the report path it echoes', () => {
    const todo = Array.from({ length: 12 }, (_, i) => ({
      stage: stage(`s${i}`, [i]),
      missing: i === 11 ? [{ pass: 1, index: i }] : [],
    }));
    const s = slurmScripts(todo, '/s/o$`x', [], SETTINGS);
    expect(s.stages.map((x) => x.file)).toEqual(['/s/o$`x/slurm/stage-11.sbatch']);
    expect(s.driver.text.split('\n').slice(-2)).toEqual(['echo "merge: job ${jm%%;*}; report: /s/ox/report.json"', '']);
    expect(s.driver.text).toContain('submits 1 stage array(s)');
  });
});

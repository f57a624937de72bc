/**
 * The partition plan a Slurm submission stores for its tasks (`storePartitionPlan`, `storedTaskContext`): a task that
 * loads its partition instead of building and cutting the whole circuit again must get the same partition, and run
 * the same deck through ngspice.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, randomInputs } from '../../src/model/index.js';
import { generateNetlist, loadProcess } from '../../src/netlist/index.js';
import {
  cosimPartitionContext,
  handoffWaveforms,
  runPartition,
  type CosimOptions,
  type PartitionContext,
} from '../../src/pipeline.js';
import { openPartitionStore, storePartitionPlan, storedTaskContext } from '../../src/jobs/partition-slurm.js';
import { transientPlot, type RawPlot } from '../../src/spice/rawfile.js';
import { InputError } from '../../src/errors.js';
import { REPO_ROOT } from '../helpers.js';

const net = await loadModel(path.join(REPO_ROOT, 'models', 'example', 'kws-example.json'));
const proc = await loadProcess(path.join(REPO_ROOT, 'models', 'c180', 'process.json'));
const inputs = randomInputs(2, net.inputs, 3);
const opts: CosimOptions = { process: proc, partitioned: true, partitionBy: 'cell', title: 'plan test' };

let dir: string;
let ctx: PartitionContext;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'bmru-plan-test-'));
  ctx = cosimPartitionContext(generateNetlist(net, inputs, opts), net, opts);
  await openPartitionStore(ctx, dir);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const base = () => ({ net, opts, run: {}, handoff: handoffWaveforms });
const storeDir = () => path.join(dir, 'partitions');

describe('storePartitionPlan / storedTaskContext', () => {
  it('gives each task the partition the submission cut, with the run-wide settings, and every label', async () => {
    const n = ctx.plan.partitions.length;
    expect(n).toBe(22); // the example per cell (docs/partition.md)
    expect(await storePartitionPlan(ctx, storeDir())).toBe(n);
    expect(await storePartitionPlan(ctx, storeDir())).toBe(0); // stored once
    for (let i = 0; i < n; i++) {
      const t = await storedTaskContext(storeDir(), i, base());
      expect(t.plan.partitions[i]).toEqual(ctx.plan.partitions[i]);
      expect(t.plan.partitions.map((p) => p.label)).toEqual(ctx.plan.partitions.map((p) => p.label));
      expect([t.tStopS, t.tolV, t.passes, t.built.flatCells]).toEqual([
        ctx.tStopS,
        ctx.tolV,
        ctx.passes,
        ctx.built.flatCells,
      ]);
    }
  });

  it('runs the same deck: a cell partition from the stored plan gives the rebuilt one vectors bit for bit', async () => {
    await storePartitionPlan(ctx, storeDir());
    const cell = ctx.plan.partitions.findIndex((p) => p.label === 'block 0 cell 0');
    // Its inputs, run once from the rebuilt plan, in dependency order.
    const plots = new Map<number, RawPlot>();
    const plotOf = async (_pass: number, i: number): Promise<RawPlot> => {
      if (!plots.has(i)) plots.set(i, transientPlot((await runPartition(ctx, 1, i, plotOf)).result.plots));
      return plots.get(i)!;
    };
    const rebuilt = transientPlot((await runPartition(ctx, 1, cell, plotOf)).result.plots);
    const stored = transientPlot(
      (await runPartition(await storedTaskContext(storeDir(), cell, base()), 1, cell, plotOf)).result.plots,
    );
    expect(stored.numPoints).toBeGreaterThan(10);
    expect(stored.vectors.map((v) => v.name)).toEqual(rebuilt.vectors.map((v) => v.name));
    stored.real.forEach((v, i) => expect(Array.from(v), stored.vectors[i].name).toEqual(Array.from(rebuilt.real[i])));
  }, 60_000);

  it("refuses a task whose network differs from the submission's, or a plan of another run, naming the file", async () => {
    await storePartitionPlan(ctx, storeDir());
    const file = path.join(storeDir(), 'plan', 'p3.json');
    const other = { ...net, unitCurrentA: net.unitCurrentA * 2 };
    // The file once, in front (InputError puts it there; the rule named it a second time before).
    await expect(storedTaskContext(storeDir(), 3, { ...base(), net: other })).rejects.toThrow(
      new InputError(
        "cut from another network or options than this task's (model, clip or option changed since submission): submit again into another --out",
        { file },
      ),
    );
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace(/"fingerprint":"[0-9a-f]+"/, '"fingerprint":"0000000000000000"'));
    await expect(storedTaskContext(storeDir(), 3, base())).rejects.toThrow(
      new RegExp(`^${file.replace(/[.]/g, '\\.')}: stored for run 0000000000000000, partition 3, but `),
    );
    // A submission of this run replaces a plan file of another run's, and only that one.
    expect(await storePartitionPlan(ctx, storeDir())).toBe(1);
    expect(await readFile(file, 'utf8')).toBe(text);
    await expect(storedTaskContext(storeDir(), 99, base())).rejects.toThrow(/no stored plan for partition 99/);
  });
});

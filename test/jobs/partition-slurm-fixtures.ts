/** Stand-ins shared by the partition-slurm test files: temporary folders, partitions, contexts and task records. */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { Partition } from '../../src/netlist/partition.js';
import type { HandoffSource, PartitionContext } from '../../src/pipeline.js';
import type { RawPlot } from '../../src/spice/rawfile.js';

/** Fresh folders under one temporary root (prefix `prefix`), made before and removed after the calling file. */
export function tempFolders(prefix: string): () => Promise<string> {
  let root = '';
  let folders = 0;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), prefix));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));
  return async () => {
    const dir = path.join(root, `d${folders++}`);
    await mkdir(dir, { recursive: true });
    return dir;
  };
}

/** A partition with nothing in it but what the store and a task read before its deck. */
export function part(index: number, label: string, after: number[] = [], more: Partial<Partition> = {}): Partition {
  return {
    index,
    label,
    kind: 'cell',
    own: [],
    copies: [],
    after,
    replicas: [],
    replicaDrains: [],
    copyDrainSaves: [],
    handoffs: [],
    initialConditions: [],
    saves: [],
    transistors: 9,
    ...more,
  };
}

export const NO_HANDOFF = (() => {
  throw new Error('these tests make no hand-off');
}) as unknown as HandoffSource;

/** A context as the store and a task see it before a deck: the network and process are stand-ins. */
export function ctxOf(partitions: Partition[], over: Record<string, unknown> = {}): PartitionContext {
  return {
    built: { flatCells: false },
    net: { name: 'n' },
    opts: { process: { name: 'c180' } },
    tStopS: 0.03,
    run: {},
    handoff: NO_HANDOFF,
    plan: { partitions },
    railsFrom: () => [],
    tolV: 0.001,
    passes: 1,
    ...over,
  } as unknown as PartitionContext;
}

/** A valid record of partition `index` in pass `pass` (what a finished task writes), with `over` on top. */
export function recordOf(pass: number, index: number, over: Record<string, unknown> = {}) {
  return {
    fingerprint: 'f00d',
    pass,
    index,
    info: {
      index,
      label: `p${index}`,
      transistors: 9,
      replicas: 0,
      handoffs: 1,
      handoffPoints: 10,
      durationMs: 100,
      points: 50,
    },
    ngspiceVersion: '39',
    exitCode: 0,
    messages: [],
    stdoutTail: '',
    stderrTail: '',
    startedAt: '2026-01-01T00:00:00.000Z',
    endedAt: '2026-01-01T00:00:01.000Z',
    ranOn: { host: 'node1' },
    ...over,
  };
}

/** A transient plot of one voltage `vector` over `time` (what a partition's stored rawfile holds). */
export function transientPlot(vector: string, time: number[], values: number[]): RawPlot {
  return {
    title: 't',
    date: 'd',
    plotname: 'Transient Analysis',
    complex: false,
    vectors: [
      { name: 'time', type: 'time' },
      { name: vector, type: 'voltage' },
    ],
    numPoints: time.length,
    real: [Float64Array.from(time), Float64Array.from(values)],
  };
}

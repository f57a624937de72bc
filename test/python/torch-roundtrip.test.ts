/**
 * The PyTorch reference (python/bmru_torch.py) against the toolkit, both ways through the model file of DESIGN §1b.
 * Needs a Python with torch (Debian's python3-torch): vitest.config.ts skips this file without it and fails the run
 * in CI (BMRU_TORCH_TESTS).
 *  - forward: torch's trace equals runNetwork's bit for bit (states, votes, decision, and every float) on the
 *    conformance models and the trained KWS model;
 *  - writer: a network written from torch (F64, F32, F16, BF16) loads with loadModel with the values torch holds,
 *    and gives the trace torch gives.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadInputs, loadModel, networkTensors, runNetwork, type Network, type Trace } from '../../src/model/index.js';
import { CONFORMANCE_DIR, REPO_ROOT } from '../helpers.js';
import { writeFeatureFile } from '../../src/audio/features.js';
import { toyFeatureSet } from '../train/toy.js';
import { torchPython } from './torch-python.js';
import type { TraceJson } from '../../src/model/trace.js';

const run = promisify(execFile);
const SCRIPT = path.join(REPO_ROOT, 'python', 'bmru_torch.py');

/** The trace bmru_torch.py prints (shared/conformance expected.json layout), plus a random model's tensors. */
interface TorchTrace extends TraceJson {
  tensors?: Record<string, number[]>;
}

/** Run python with torch: `args` after the interpreter; stdout parsed as JSON. */
async function python<T>(...args: string[]): Promise<T> {
  const interpreter = torchPython();
  if (interpreter === undefined)
    throw new Error('no python with torch (vitest.config.ts should have skipped this file)');
  const { stdout } = await run(interpreter, args, { maxBuffer: 64 << 20 });
  return JSON.parse(stdout) as T;
}

/** bmru_torch.py's command line. */
const torch = (...args: string[]) => python<TorchTrace>(SCRIPT, ...args);

/** Positions where two float sequences differ in any bit (Object.is: NaN equals NaN, -0 differs from +0). */
function bitDifferences(a: ArrayLike<number>, b: readonly number[]): number[] {
  expect(a.length).toBe(b.length);
  const diff: number[] = [];
  for (let i = 0; i < b.length; i++) if (!Object.is(a[i], b[i])) diff.push(i);
  return diff;
}

/** Every array of the toolkit's trace equals torch's, bit for bit; returns the unit-frames compared. */
function expectSameTrace(net: Network, tr: Trace, py: TorchTrace): number {
  expect(py.states.length).toBe(net.blocks.length);
  let unitFrames = 0;
  for (let k = 0; k < net.blocks.length; k++) {
    const states = py.states[k].flat();
    expect(Array.from(tr.states[k]), `block ${k} states`).toEqual(states);
    unitFrames += states.length;
    expect(bitDifferences(tr.candidates[k], py.candidates[k].flat()), `block ${k} candidates`).toEqual([]);
    expect(bitDifferences(tr.blockOutputs[k], py.block_outputs[k].flat()), `block ${k} outputs`).toEqual([]);
  }
  expect(bitDifferences(tr.logits, py.logits.flat()), 'logits').toEqual([]);
  expect(Array.from(tr.votes)).toEqual(py.votes);
  expect(tr.decision).toBe(py.decision);
  return unitFrames;
}

describe('torch forward (python/bmru_torch.py) equals the toolkit bit for bit', () => {
  const cases = ['kws-shape', 'wide-deep', 'no-skip', 'threshold-edges'].map((name) => ({
    name,
    model: path.join(CONFORMANCE_DIR, name, 'model.safetensors'),
    inputs: path.join(CONFORMANCE_DIR, name, 'inputs.csv'),
  }));
  cases.push({
    name: 'trained KWS model (JSON format)',
    model: path.join(REPO_ROOT, 'models', 'kws', 'kws-w4.json'),
    inputs: path.join(REPO_ROOT, 'models', 'kws', 'clip-yes.csv'),
  });

  for (const c of cases) {
    it(`${c.name}: states, votes, decision and every float`, async () => {
      const [net, inputs, py] = await Promise.all([
        loadModel(c.model),
        loadInputs(c.inputs),
        torch('forward', c.model, c.inputs),
      ]);
      const unitFrames = expectSameTrace(net, runNetwork(net, inputs), py);
      expect(unitFrames).toBe(inputs.frames * net.cells * net.blocks.length);
    });
  }

  it('threshold-edges: torch also gives the independent vectors (c == beta_hi switches on, c == beta_lo holds)', async () => {
    const dir = path.join(CONFORMANCE_DIR, 'threshold-edges');
    const expected = JSON.parse(await readFile(path.join(dir, 'expected.json'), 'utf8')) as TorchTrace;
    const py = await torch('forward', path.join(dir, 'model.safetensors'), path.join(dir, 'inputs.csv'));
    expect(py.states).toEqual(expected.states);
    expect(py.votes).toEqual(expected.votes);
    expect(py.decision).toBe(expected.decision);
  });
});

describe('a model written from torch loads in the toolkit and gives the same trace', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'bmru-torch-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  /** Write a seeded random network from torch in `dtype`; load it; the file's header must say that dtype. */
  async function roundTrip(dtype: string, ...shape: string[]) {
    const file = path.join(tmp, `${dtype}-${shape.join('')}.safetensors`);
    const csv = path.join(tmp, `${dtype}-${shape.join('')}.csv`);
    const py = await torch('random', file, csv, '--dtype', dtype, ...shape);
    const bytes = await readFile(file);
    const header = JSON.parse(bytes.subarray(8, 8 + Number(bytes.readBigUInt64LE(0))).toString('utf8'));
    const dtypes = new Set(
      Object.entries(header).flatMap(([k, v]) => (k === '__metadata__' ? [] : [(v as { dtype: string }).dtype])),
    );
    expect([...dtypes]).toEqual([dtype]);
    const net = await loadModel(file);
    const inputs = await loadInputs(csv);
    return { py, net, inputs, metadata: header.__metadata__ as Record<string, string> };
  }

  /** The toolkit holds exactly the values torch holds (for F16/BF16: torch's half values, upcast without rounding). */
  function expectSameTensors(net: Network, py: TorchTrace): void {
    const ours = networkTensors(net);
    expect([...ours.keys()].sort()).toEqual(Object.keys(py.tensors!).sort());
    for (const [name, t] of ours) expect(bitDifferences(t.data, py.tensors![name]), name).toEqual([]);
  }

  /** The random network exercises the cells: both states occur, and some cell holds inside its band. */
  function expectCellsSwitch(net: Network, tr: Trace): void {
    let on = 0;
    let holds = 0;
    net.blocks.forEach((b, k) => {
      for (let i = 0; i < tr.states[k].length; i++) {
        on += tr.states[k][i];
        const j = i % net.cells;
        const c = tr.candidates[k][i];
        if (c >= Math.abs(b.cell.beta1[j]) && c < Math.abs(b.cell.beta1[j]) + Math.abs(b.cell.delta[j])) holds++;
      }
    });
    const total = tr.states.reduce((n, s) => n + s.length, 0);
    expect(on).toBeGreaterThan(0);
    expect(on).toBeLessThan(total);
    expect(holds).toBeGreaterThan(0);
  }

  for (const dtype of ['F64', 'F32']) {
    it(`${dtype}, skip: the writer's metadata and tensors are read as written, the trace is torch's`, async () => {
      const { py, net, inputs, metadata } = await roundTrip(dtype);
      expect(metadata).toMatchObject({ arch: 'fq-bmru', blocks: '2', skip: 'true', cell_params: 'raw' });
      expect([net.inputs, net.width, net.cells, net.blocks.length, net.classes, net.skip]).toEqual([
        5,
        4,
        4,
        2,
        3,
        true,
      ]);
      expectSameTensors(net, py);
      const tr = runNetwork(net, inputs);
      expectSameTrace(net, tr, py);
      expectCellsSwitch(net, tr);
    });
  }

  it('F32 without skip (3 cells against width 6)', async () => {
    const { py, net, inputs } = await roundTrip('F32', '--width', '6', '--cells', '3', '--no-skip', '--seed', '7');
    expect([net.width, net.cells, net.skip]).toEqual([6, 3, false]);
    const tr = runNetwork(net, inputs);
    expectSameTrace(net, tr, py);
    expectCellsSwitch(net, tr);
  });

  for (const dtype of ['F16', 'BF16']) {
    it(`${dtype} from torch (.half() / .bfloat16()) is upcast exactly: torch's values, torch's trace`, async () => {
      const { py, net, inputs } = await roundTrip(dtype, '--seed', '3');
      expectSameTensors(net, py);
      const tr = runNetwork(net, inputs);
      expectSameTrace(net, tr, py);
      expectCellsSwitch(net, tr);
    });
  }
});

describe('the features file in PyTorch', () => {
  it('reads label, target and split as int64, which CrossEntropyLoss takes as targets', async () => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'bmru-torch-features-'));
    try {
      const set = toyFeatureSet(12, 5);
      const file = path.join(tmp, 'features.safetensors');
      await writeFeatureFile(file, set);
      const code = [
        'import json, sys, torch',
        `sys.path.insert(0, ${JSON.stringify(path.dirname(SCRIPT))})`,
        'from bmru_torch import load_safetensors',
        `t, meta = load_safetensors(${JSON.stringify(file)})`,
        'logits = t["mfcc"].float().mean(dim=(1, 2)).unsqueeze(1).repeat(1, 2)',
        'loss = torch.nn.functional.cross_entropy(logits, t["target"])',
        'print(json.dumps({k: [str(v.dtype), v.tolist()] for k, v in t.items() if k != "mfcc"} | {"mfcc": str(t["mfcc"].dtype), "loss": loss.item()}))',
      ].join('\n');
      const got = await python<Record<string, unknown>>('-c', code);
      expect(got.label).toEqual(['torch.int64', Array.from(set.label)]);
      expect(got.target).toEqual(['torch.int64', Array.from(set.target)]);
      expect(got.split).toEqual(['torch.int64', Array.from(set.split)]);
      expect(got.mfcc).toBe('torch.float32');
      expect(Number.isFinite(got.loss)).toBe(true);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
});

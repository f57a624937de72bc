/**
 * Hostile and degenerate model inputs: files that declare more than they hold, or describe networks that
 * compute nothing, must fail fast with an InputError naming the file and the field, before the toolkit
 * allocates anything from the declared sizes.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { loadModel } from '../../src/model/load.js';
import { loadCalibration } from '../../src/netlist/calibration.js';
import { checkTransistorBudget, DEFAULT_MAX_TRANSISTORS } from '../../src/netlist/budget.js';
import { loadProcess } from '../../src/netlist/process.js';
import { checkPhysicalRanges, physicalRanges, type PhysicalRanges } from '../../src/netlist/ranges.js';
import { REPO_ROOT } from '../helpers.js';
import { cliFixture, exampleClip, expectOneErrorLine, type CliFixture } from '../cli/fixture.js';
import {
  networkMetadata,
  networkTensors,
  networkToJson,
  parseInputsCsv,
  parseModel,
  randomNetwork,
  writeSafetensors,
  type Tensor,
} from '../../src/model/index.js';
import { MAX_BLOCKS, MAX_FRAMES, MAX_WIDTH } from '../../src/model/limits.js';

const enc = new TextEncoder();
const net = randomNetwork({ inputs: 3, width: 4, blocks: 2, classes: 2, seed: 7 });

/** The error `fn` throws; fails the test when it throws none. */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error, none was thrown');
}

/** Asserts an InputError whose message contains every fragment; returns it. */
function expectInputError(fn: () => unknown, ...fragments: string[]): InputError {
  const e = thrown(fn);
  expect(e, e.stack).toBeInstanceOf(InputError);
  for (const f of fragments) expect(e.message).toContain(f);
  return e as InputError;
}

/** Bytes of a safetensors file with this header object and data section, exactly as given. */
function rawSafetensors(header: Record<string, unknown>, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const h = enc.encode(json);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

/** The example network's tensors as F64 safetensors, with metadata overrides. */
function safetensorsWith(
  meta: Record<string, string>,
  edit: (t: Map<string, Tensor>) => void = () => undefined,
): Uint8Array {
  const t = new Map(networkTensors(net));
  edit(t);
  return writeSafetensors(t, { ...networkMetadata(net), ...meta }, 'F64');
}

/** Zero-filled tensors of a network of the given shape (any dimension may be 0). */
function tensorsOfShape(s: {
  inputs: number;
  width: number;
  cells: number;
  classes: number;
  blocks: number;
}): Map<string, Tensor> {
  const t = new Map<string, Tensor>();
  const put = (name: string, shape: number[]) =>
    t.set(name, { shape, data: new Float64Array(shape.reduce((a, b) => a * b, 1)) });
  put('pre.weight', [s.width, s.inputs]);
  put('pre.bias', [s.width]);
  for (let k = 0; k < s.blocks; k++) {
    put(`blocks.${k}.cand.weight`, [s.cells, s.width]);
    put(`blocks.${k}.cand.bias`, [s.cells]);
    for (const c of ['alpha', 'beta1', 'delta', 's0']) put(`blocks.${k}.cell.${c}`, [s.cells]);
    put(`blocks.${k}.post.weight`, [s.width, s.cells]);
    put(`blocks.${k}.post.bias`, [s.width]);
  }
  put('out.weight', [s.classes, s.width]);
  put('out.bias', [s.classes]);
  return t;
}

/** Heap plus array buffers (bytes): what a large allocation from a declared size would show up in. */
const allocatedBytes = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

describe('declared sizes are bounded before anything is allocated from them', () => {
  it('refuses a 2 KB safetensors file whose __metadata__.blocks is "1e7", fast and without allocating for 10 million blocks', () => {
    const small = tensorsOfShape({ inputs: 2, width: 2, cells: 2, classes: 2, blocks: 1 });
    const bytes = writeSafetensors(small, { arch: 'fq-bmru', blocks: '1e7', skip: 'true' }, 'F32');
    expect(bytes.length).toBeLessThan(2048);
    const before = allocatedBytes();
    const t0 = performance.now();
    const e = expectInputError(
      () => parseModel(bytes, 'bomb.safetensors'),
      'bomb.safetensors',
      "'__metadata__.blocks'",
      `at most ${MAX_BLOCKS} blocks`,
      'got 10000000',
    );
    expect(performance.now() - t0).toBeLessThan(500);
    // Before the bound, this built 80 million tensor names (4.6 GB).
    expect(allocatedBytes() - before).toBeLessThan(50e6);
    expect(e.field).toBe('__metadata__.blocks');
  });

  it('refuses a JSON model with blocks = 100000000, naming the field', () => {
    const m = JSON.parse(networkToJson(net));
    m.blocks = 100_000_000;
    const before = allocatedBytes();
    expectInputError(
      () => parseModel(enc.encode(JSON.stringify(m)), 'bomb.json'),
      'bomb.json',
      "'blocks'",
      `at most ${MAX_BLOCKS} blocks`,
    );
    expect(allocatedBytes() - before).toBeLessThan(50e6);
  });

  it('says how many blocks the file holds when __metadata__.blocks declares more', () => {
    expectInputError(
      () => parseModel(safetensorsWith({ blocks: '5' }), 'm.safetensors'),
      "'blocks.2.cand.weight'",
      'missing tensor',
      'declares 5 blocks; the file holds tensors for 2',
    );
  });

  it('does not allocate from a JSON tensor whose first rows promise more values than the text holds', () => {
    // Shape read along first elements: [2000, 2000, 2000] = 8e9 values (64 GB), from ~20 KB of text.
    const inner = Array.from({ length: 2000 }, () => 0);
    const middle: unknown[] = [inner, ...Array.from({ length: 1999 }, () => 0)];
    const outer: unknown[] = [middle, ...Array.from({ length: 1999 }, () => 0)];
    const m = JSON.parse(networkToJson(net));
    m.tensors['pre.weight'] = outer;
    const before = allocatedBytes();
    expectInputError(() => parseModel(enc.encode(JSON.stringify(m)), 'deep.json'), "'pre.weight'");
    expect(allocatedBytes() - before).toBeLessThan(50e6);
  });

  it(`refuses a width-100000 model at load (the width limit is ${MAX_WIDTH}) instead of building its circuit for minutes`, () => {
    const wide = tensorsOfShape({ inputs: 1, width: 100_000, cells: 1, classes: 2, blocks: 1 });
    const bytes = writeSafetensors(wide, { arch: 'fq-bmru', blocks: '1', skip: 'false' }, 'F32');
    const t0 = performance.now();
    expectInputError(
      () => parseModel(bytes, 'wide.safetensors'),
      'wide.safetensors',
      "'pre.weight'",
      'width H',
      'is 100000',
      `at most ${MAX_WIDTH}`,
    );
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});

describe('input sequences', () => {
  it(`refuses a clip of more than ${MAX_FRAMES} frames, naming the file`, async () => {
    const text = '0\n'.repeat(MAX_FRAMES + 1);
    await expect(parseInputsCsv(text, 'long.csv')).rejects.toThrow(
      `long.csv: has ${MAX_FRAMES + 1} frames: expected at most ${MAX_FRAMES}`,
    );
    expect((await parseInputsCsv('0\n'.repeat(MAX_FRAMES))).frames).toBe(MAX_FRAMES);
  });
});

describe('degenerate networks are refused at load', () => {
  const shape = { inputs: 3, width: 4, cells: 4, classes: 2, blocks: 2 };
  it.each([
    ['width 0', { width: 0, cells: 0 }, "'pre.weight'", 'width H (dim 0 of pre.weight) is 0'],
    ['0 cells', { cells: 0 }, "'blocks.0.cand.weight'", 'cells per block S (dim 0 of blocks.0.cand.weight) is 0'],
    ['0 classes', { classes: 0 }, "'out.weight'", 'classes C (dim 0 of out.weight) is 0'],
    ['0 inputs', { inputs: 0 }, "'pre.weight'", 'input features F (dim 1 of pre.weight) is 0'],
  ])('refuses %s naming the tensor', (_, change, field, rule) => {
    const bytes = writeSafetensors(
      tensorsOfShape({ ...shape, ...change }),
      { blocks: '2', cell_params: 'realised' },
      'F64',
    );
    expectInputError(
      () => parseModel(bytes, 'zero.safetensors'),
      'zero.safetensors',
      field,
      rule,
      'expected an integer >= 1',
    );
  });

  it('refuses 0 blocks in safetensors metadata and in JSON', () => {
    const bytes = writeSafetensors(tensorsOfShape({ ...shape, blocks: 0 }), { blocks: '0' }, 'F64');
    expectInputError(() => parseModel(bytes, 'zero.safetensors'), "'__metadata__.blocks'", 'at least 1 block');
    const m = JSON.parse(networkToJson(net));
    m.blocks = 0;
    expectInputError(() => parseModel(enc.encode(JSON.stringify(m)), 'zero.json'), "'blocks'", 'at least 1 block');
  });
});

describe('safetensors data_offsets', () => {
  const f64 = (values: number[]) => new Uint8Array(Float64Array.from(values).buffer);

  it('refuses overlapping tensors, naming both', () => {
    const bytes = rawSafetensors(
      {
        a: { dtype: 'F64', shape: [2], data_offsets: [0, 16] },
        b: { dtype: 'F64', shape: [2], data_offsets: [8, 24] },
      },
      f64([1, 2, 3]),
    );
    expectInputError(
      () => parseModel(bytes, 'overlap.safetensors'),
      'overlap.safetensors',
      "'b'",
      'data_offsets [8, 24] overlap',
      "'a' [0, 16]",
    );
  });

  it('refuses a tensor that does not start on a whole value', () => {
    const bytes = rawSafetensors({ a: { dtype: 'F64', shape: [1], data_offsets: [4, 12] } }, f64([1, 2]));
    expectInputError(
      () => parseModel(bytes, 'unaligned.safetensors'),
      "'a'",
      'begin 4 is not a multiple of 8 bytes',
      'not aligned',
    );
  });

  it('refuses offsets beyond the file, saying how big the data section is', () => {
    const bytes = rawSafetensors({ a: { dtype: 'F64', shape: [512], data_offsets: [0, 4096] } }, f64([1]));
    expectInputError(
      () => parseModel(bytes, 'short.safetensors'),
      "'a'",
      'data_offsets [0, 4096] reach beyond the 8-byte data section',
    );
  });

  it('refuses offsets that run backwards', () => {
    const bytes = rawSafetensors({ a: { dtype: 'F64', shape: [0], data_offsets: [8, 0] } }, f64([1]));
    expectInputError(() => parseModel(bytes, 'back.safetensors'), "'a'", 'expected 0 <= begin <= end');
  });

  it('blames a shape that does not fit its offsets on the shape and the byte counts both', () => {
    const bytes = safetensorsWith({}, (t) =>
      t.set('blocks.1.cand.weight', { shape: [4, 4], data: new Float64Array(12) }),
    );
    const e = expectInputError(() => parseModel(bytes, 'm.safetensors'), "'blocks.1.cand.weight'");
    expect(e.message).toMatch(
      /shape \[4, 4\] of F64 is 16 values = 128 bytes, but data_offsets \[\d+, \d+\] span 96 bytes/,
    );
  });

  it('refuses a shape whose product overflows without allocating it', () => {
    const bytes = rawSafetensors({ a: { dtype: 'F32', shape: [1e9, 1e9, 1e9], data_offsets: [0, 8] } }, f64([1]));
    expectInputError(
      () => parseModel(bytes, 'huge.safetensors'),
      "'a'",
      'shape [1000000000, 1000000000, 1000000000] of F32',
      'span 8 bytes',
    );
  });
});

describe('the transistor budget refuses a circuit before building it', () => {
  it('refuses a width-100000 network with the transistor count in the message', () => {
    const shape = { inputs: 1, width: 100_000, cells: 1, blocks: 1, classes: 2, skip: false };
    const t0 = performance.now();
    expectInputError(
      () => checkTransistorBudget(shape, undefined, 'wide.safetensors'),
      'wide.safetensors',
      '~1400032 transistors',
      `budget of ${DEFAULT_MAX_TRANSISTORS}`,
      '--max-transistors 1400032',
    );
    expect(performance.now() - t0).toBeLessThan(50);
  });
});

const SHIPPED_MODELS = [
  path.join(REPO_ROOT, 'models', 'example', 'kws-example.json'),
  path.join(REPO_ROOT, 'models', 'kws', 'kws-w4.json'),
];
const KWS_W4 = SHIPPED_MODELS[1];

describe('physical ranges of a process', () => {
  const ranges = new Map<string, PhysicalRanges>();
  beforeAll(async () => {
    for (const name of ['c180', 'gf180mcu']) {
      const process = await loadProcess(path.join(REPO_ROOT, 'models', name, 'process.json'));
      ranges.set(name, physicalRanges(process, await loadCalibration(process.dir)));
    }
  });
  const c180 = () => ranges.get('c180')!;

  it('derives the current range from the calibration grid (50 pA .. 2.8 nA on both shipped kits)', () => {
    for (const r of ranges.values()) {
      expect(r.currentA.min).toBeCloseTo(50e-12, 20);
      expect(r.currentA.max).toBeCloseTo(2.8e-9, 20);
    }
  });

  it('passes the shipped models at their shipped unit currents on both processes, and kws-w4 at the kws default 250 pA', async () => {
    for (const file of SHIPPED_MODELS) {
      const net = await loadModel(file);
      for (const [name, r] of ranges)
        expect(checkPhysicalRanges(net, r, { file }).clamps, `${file} on ${name}`).toEqual([]);
    }
    const w4 = await loadModel(KWS_W4);
    expect(w4.unitCurrentA).toBe(250e-12);
    // README's other KWS runs: 500 pA and 1 nA.
    for (const u of [500e-12, 1e-9])
      for (const r of ranges.values()) checkPhysicalRanges({ ...w4, unitCurrentA: u }, r, { file: KWS_W4 });
  });

  it.each([
    ['1 kA', 1e3, 'above', '1e3 A'],
    ['1e-30 A', 1e-30, 'below', '1e-30 A'],
  ])('refuses I_unit = %s naming the file, the field, the value and the range', async (_, unitA, side, shown) => {
    const net = { ...(await loadModel(SHIPPED_MODELS[0])), unitCurrentA: unitA };
    const e = expectInputError(
      () => checkPhysicalRanges(net, c180(), { file: 'm.json' }),
      'm.json',
      "'unitCurrentA'",
      `I_unit = ${shown} is ${side} the range 50 pA .. 2.8 nA`,
      '--clamp',
    );
    expect(e.field).toBe('unitCurrentA');
    expectInputError(
      () => checkPhysicalRanges(net, c180(), { file: 'm.safetensors' }),
      "'__metadata__.unit_current_a'",
    );
  });

  it.each([
    [1e-300, 'below', '1e-300 s'],
    [1e6, 'above', '1e6 s'],
  ])('refuses frame_s = %s', async (frameS, side, shown) => {
    const net = { ...(await loadModel(SHIPPED_MODELS[0])), frameS };
    expectInputError(
      () => checkPhysicalRanges(net, c180(), { file: 'm.json' }),
      "'frameS'",
      `frame_s = ${shown} is ${side} the range 100 us .. 100 s`,
    );
  });

  it('refuses a bias whose current is above the range, naming tensor and index', async () => {
    const net = await loadModel(SHIPPED_MODELS[0]);
    const bias = Float64Array.from(net.out.bias);
    bias[1] = -5; // 5 nA at I_unit = 1 nA
    expectInputError(
      () => checkPhysicalRanges({ ...net, out: { ...net.out, bias } }, c180(), { file: 'm.json' }),
      "'out.bias' at index 1",
      '|bias| x I_unit = 5 nA is above the range 0 .. 2.8 nA',
    );
  });

  it('refuses kws-w4 at I_unit = 2 nA, whose thresholds exceed the calibrated grid, and clamps each with --clamp, listing it', async () => {
    const net = { ...(await loadModel(KWS_W4)), unitCurrentA: 2e-9 };
    expectInputError(
      () => checkPhysicalRanges(net, c180(), { file: 'w4.json' }),
      "'blocks.0.cell.beta_hi' at index 1",
      'beta_hi = (|beta1| + |delta|) x I_unit = 2.94 nA is above the range 50 pA .. 2.8 nA',
    );
    const r = checkPhysicalRanges(net, c180(), { file: 'w4.json', clamp: true });
    // kws-w4 is trained to build at 250 pA .. 1 nA: at 2 nA, whatever is above 1.4 units is out of range.
    expect(r.clamps.map((c) => c.parameter)).toEqual([
      'blocks.0.cell.beta_hi[1]',
      'blocks.0.cell.alpha[1]',
      'blocks.0.cell.beta_hi[2]',
      'blocks.0.cell.alpha[2]',
      'blocks.0.cell.beta_hi[3]',
      'blocks.0.cell.alpha[3]',
      'blocks.1.cell.beta_hi[0]',
      'blocks.1.cell.beta_hi[3]',
    ]);
    expect(r.clamps[7].message).toContain(
      'beta_hi = (|beta1| + |delta|) x I_unit = 3.07 nA is above the range 50 pA .. 2.8 nA',
    );
    expect(r.clamps[7].message).toContain('clamped to 2.8 nA');
    const cell = r.net.blocks[1].cell;
    expect((Math.abs(cell.beta1[3]) + Math.abs(cell.delta[3])) * 2e-9).toBeCloseTo(2.8e-9, 20);
    // In range afterwards, and untouched values stay bit for bit.
    expect(checkPhysicalRanges(r.net, c180()).clamps).toEqual([]);
    expect(r.net.blocks[1].cell.alpha).toEqual(net.blocks[1].cell.alpha);
  });

  it('refuses a beta_lo below what the widest calibrated hysteresis leaves at its beta_hi', async () => {
    const net = await loadModel(SHIPPED_MODELS[0]);
    const cell = net.blocks[0].cell;
    const beta1 = Float64Array.from(cell.beta1);
    const delta = Float64Array.from(cell.delta);
    delta[0] += beta1[0]; // same beta_hi, beta_lo = 0
    beta1[0] = 0;
    const blocks = [{ ...net.blocks[0], cell: { ...cell, beta1, delta } }, net.blocks[1]];
    expectInputError(
      () => checkPhysicalRanges({ ...net, blocks }, c180(), { file: 'm.json' }),
      "'blocks.0.cell.beta1' at index 0",
      'beta_lo = |beta1| x I_unit = 0 A is below the range',
      'the widest hysteresis',
    );
  });
});

describe('bmru with out-of-range or oversized models (the real binary)', () => {
  let cli: CliFixture;
  beforeAll(async () => {
    cli = await cliFixture();
  });
  afterAll(() => cli.cleanUp());

  /** Writes `base` with JSON fields changed. */
  const modelWith = (name: string, base: string, change: Record<string, unknown>) =>
    cli.write(name, JSON.stringify({ ...JSON.parse(readFileSync(base, 'utf8')), ...change }));

  it.each([
    ['unit-1k.json', { unitCurrentA: 1e3 }, "'unitCurrentA'", 'I_unit = 1e3 A is above the range 50 pA .. 2.8 nA'],
    ['unit-tiny.json', { unitCurrentA: 1e-30 }, "'unitCurrentA'", 'I_unit = 1e-30 A is below the range'],
    ['frame-tiny.json', { frameS: 1e-300 }, "'frameS'", 'frame_s = 1e-300 s is below the range 100 us .. 100 s'],
    ['frame-huge.json', { frameS: 1e6 }, "'frameS'", 'frame_s = 1e6 s is above the range'],
  ])(
    'export refuses %s before writing anything, naming file, field, value and range',
    async (name, change, field, rule) => {
      const file = await modelWith(name, SHIPPED_MODELS[0], change);
      const out = `out-${name}`;
      expectOneErrorLine(await cli.run(['export', '-m', file, '-o', out]), name, field, rule, '--clamp');
      expect(existsSync(path.join(cli.dir, out))).toBe(false);
    },
  );

  it('compare refuses I_unit = 1 kA before starting ngspice (it ended in an operating-point error naming nothing)', async () => {
    const file = await modelWith('unit-1k-cmp.json', SHIPPED_MODELS[0], { unitCurrentA: 1e3 });
    const clip = await cli.write('clip3-range.csv', exampleClip(3));
    const t0 = performance.now();
    expectOneErrorLine(
      await cli.run(['compare', '-m', file, '-i', clip, '-o', 'cmp-1k']),
      'unit-1k-cmp.json',
      "'unitCurrentA'",
      '1e3 A',
    );
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(existsSync(path.join(cli.dir, 'cmp-1k'))).toBe(false);
  });

  it('exports kws-w4 at 2 nA only with --clamp, warning once per clamped value and recording them', async () => {
    const file = await modelWith('w4-2n.json', KWS_W4, { unitCurrentA: 2e-9 });
    expectOneErrorLine(
      await cli.run(['export', '-m', file, '-o', 'exp-2n']),
      'w4-2n.json',
      "'blocks.0.cell.beta_hi' at index 1",
      '2.94 nA is above the range 50 pA .. 2.8 nA',
    );
    const r = await cli.run(['export', '-m', file, '-o', 'exp-2n', '--clamp']);
    expect(r.exitCode, r.stderr).toBe(0);
    const warnings = r.stderr.trim().split('\n');
    expect(warnings).toHaveLength(8);
    expect(warnings[7]).toBe(
      "warning: blocks.1.cell.beta_hi[3]: beta_hi = (|beta1| + |delta|) x I_unit = 3.07 nA is above the range 50 pA .. 2.8 nA (the c180 calibration's measured I_thresh rows): clamped to 2.8 nA",
    );
    expect(r.stdout).toContain('clamped.json (8 values clamped)');
    const clamped = JSON.parse(readFileSync(path.join(cli.dir, 'exp-2n', 'clamped.json'), 'utf8'));
    expect(clamped.map((c: { parameter: string }) => c.parameter)).toContain('blocks.1.cell.beta_hi[3]');
    const mapping = JSON.parse(readFileSync(path.join(cli.dir, 'exp-2n', 'mapping.json'), 'utf8')) as {
      parameter: string;
      realisation: string;
      target: number;
      realised: number;
    }[];
    const row = mapping.find((m) => m.parameter === 'blocks.1.cell.beta_hi[3]')!;
    expect(row.realisation).toContain('[clamped: blocks.1.cell.beta_hi[3] 3.07 nA -> 2.8 nA]');
    // The target stays the trained value, so the row's error shows what the clamp cost.
    expect(row.target * 2e-9).toBeCloseTo(3.0729e-9, 12);
    expect(row.realised * 2e-9).toBeLessThan(2.9e-9);
  });

  it('compare with --clamp warns before ngspice runs and records the clamps in report.json and mapping.csv', async () => {
    const file = await modelWith('w4-2n-cmp.json', KWS_W4, { unitCurrentA: 2e-9 });
    const clip = await cli.write('clip3-clamp.csv', exampleClip(3));
    const r = await cli.run(['compare', '-m', file, '-i', clip, '-o', 'cmp-2n', '--clamp']);
    expect([0, 1]).toContain(r.exitCode);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('warning: '))).toHaveLength(8);
    const report = JSON.parse(readFileSync(path.join(cli.dir, 'cmp-2n', 'report.json'), 'utf8'));
    expect(report.clamped).toHaveLength(8);
    expect(readFileSync(path.join(cli.dir, 'cmp-2n', 'mapping.csv'), 'utf8')).toContain(
      '[clamped: blocks.1.cell.beta_hi[3] 3.07 nA -> 2.8 nA]',
    );
    expect(existsSync(path.join(cli.dir, 'cmp-2n', 'clamped.json'))).toBe(true);
  });

  it('export passes the shipped models on both processes without a warning', async () => {
    for (const model of SHIPPED_MODELS) {
      for (const proc of ['c180', 'gf180mcu']) {
        const r = await cli.run(['export', '-m', model, '-p', proc, '-o', `exp-${path.basename(model)}-${proc}`]);
        expect(r.exitCode, r.stderr).toBe(0);
        expect(r.stderr).toBe('');
      }
    }
  });

  it('export refuses a width-64 network by its transistor count and builds it with --max-transistors', async () => {
    const { randomNetwork, saveModel } = await import('../../src/model/index.js');
    await saveModel(
      randomNetwork({ inputs: 13, width: 64, blocks: 2, classes: 2, seed: 1 }),
      path.join(cli.dir, 'w64.json'),
    );
    const clip = await cli.write('clip2-w64.csv', exampleClip(2));
    expectOneErrorLine(
      await cli.run(['export', '-m', 'w64.json', '-i', clip, '-o', 'exp-w64']),
      'w64.json',
      '~25344 transistors',
      'above the budget of 10000',
      '--max-transistors 25344',
    );
    expect(existsSync(path.join(cli.dir, 'exp-w64'))).toBe(false);
    const r = await cli.run(['export', '-m', 'w64.json', '-i', clip, '-o', 'exp-w64', '--max-transistors', '25344']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('25338 transistors'); // built; the estimate bounds it (shared bias references)
    expectOneErrorLine(
      await cli.run(['export', '--max-transistors', '0']),
      '--max-transistors must be an integer >= 1, got 0',
    );
  });

  it("fails a batch plan's jobs as bad input when the model is over the plan's maxTransistors, before any ngspice run", async () => {
    const clip = await cli.write('clip2-plan.csv', exampleClip(2));
    const plan = await cli.write(
      'budget.yaml',
      `name: budget\nprocess: c180\nmodels: [${SHIPPED_MODELS[0]}]\ninputs: [${clip}]\nmaxTransistors: 100\nout: budget-out\n`,
    );
    const r = await cli.run(['batch', 'run', plan, '-q'], { BMRU_NGSPICE: '/nonexistent/ngspice' });
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stdout).toMatch(/bad-input .*its circuit would have ~684 transistors/);
    const [record] = readFileSync(path.join(cli.dir, 'budget-out', 'results.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(record.failure.message).toContain('above the budget of 100');
  });
});

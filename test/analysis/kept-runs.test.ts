/**
 * The ngspice analyses' loops without ngspice (corners.ts `runCorners`, noise-circuit.ts `circuitNoise`,
 * noise-study.ts `noiseStudy`): a store that holds every run makes them run nothing and assemble what it holds; what
 * it lacks goes to a stand-in ngspice that records its call and the deck, then fails, or to a binary that does not
 * exist. BMRU_NGSPICE points at a missing binary throughout, so a run that lost its options cannot reach ngspice.
 */
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runCorners, type CornerResult, type CornerSpec } from '../../src/analysis/corners.js';
import { circuitNoise, noiseRunKey, type NoiseRun, type NoiseRunStore } from '../../src/analysis/noise-circuit.js';
import { noiseStudy, noiseStudyKeys, type NoiseStudyOptions } from '../../src/analysis/noise-study.js';
import { randomInputs, randomNetwork } from '../../src/model/random.js';
import { generateNetlist } from '../../src/netlist/generate.js';
import { loadProcess } from '../../src/netlist/process.js';
import { REPO_ROOT, scratchDir } from '../helpers.js';

beforeEach(() => {
  vi.stubEnv('BMRU_NGSPICE', '/nonexistent/bmru-env-ngspice');
});
afterEach(() => {
  vi.unstubAllEnvs();
});

/** A stand-in ngspice: `-v` answers a version; a run is logged, its deck copied as <work dir name>.cir, and fails. */
function standIn() {
  const dir = scratchDir('bmru-kept-runs-');
  const bin = path.join(dir, 'ngspice');
  writeFileSync(
    bin,
    [
      '#!/bin/sh',
      `echo "$*" >> ${dir}/calls`,
      'if [ "$1" = "-v" ]; then echo "** ngspice-39 : stand-in"; exit 0; fi',
      'for a in "$@"; do deck="$a"; done',
      `cp "$deck" "${dir}/$(basename "$(dirname "$deck")").cir"`,
      'exit 3',
      '',
    ].join('\n'),
  );
  chmodSync(bin, 0o755);
  const calls = () => (existsSync(`${dir}/calls`) ? readFileSync(`${dir}/calls`, 'utf8').trim().split('\n') : []);
  /** The decks it was given, by work directory name (`bmru-ngspice-<run name>-XXXXXX`) without the random part. */
  const decks = () =>
    Object.fromEntries(
      readdirSync(dir)
        .filter((f) => f.endsWith('.cir'))
        .map((f) => [f.replace(/-[^-]+\.cir$/, ''), readFileSync(path.join(dir, f), 'utf8')]),
    );
  return { bin, calls, decks, workRoot: scratchDir('bmru-kept-work-') };
}

async function setup() {
  const net = randomNetwork({ inputs: 3, width: 2, blocks: 1, classes: 2, seed: 1 });
  const inputs = randomInputs(2, 3, 1);
  const process = await loadProcess(path.join(REPO_ROOT, 'models', 'c180', 'process.json'));
  return { net, inputs, process };
}

const TT: CornerSpec = { corner: 'tt', vddScale: 1, temperatureC: 27 };
const SS: CornerSpec = { corner: 'ss', vddScale: 1, temperatureC: 27 };
const TT_HOT: CornerSpec = { corner: 'tt', vddScale: 1, temperatureC: 85 };
const same = (a: CornerSpec, b: CornerSpec) =>
  a.corner === b.corner && a.vddScale === b.vddScale && a.temperatureC === b.temperatureC;
/** A made-up kept result per spec, each with figures of its own. */
const keptResult = (spec: CornerSpec, i: number): CornerResult => ({
  ...spec,
  stateAgreement: 0.5 + i / 10,
  voteAgreement: 0.25 + i / 10,
  decisionMatch: i % 2 === 0,
  disagreements: i,
  coreW: (i + 1) * 1e-6,
  ngspiceS: 10 + i,
});

describe('runCorners', () => {
  it('returns what the store holds for every spec, in the specs order, and runs nothing', async () => {
    const { net, inputs, process } = await setup();
    const ngspice = standIn();
    const specs = [TT, SS, TT_HOT];
    const held = specs.map(keptResult);
    const onDone = vi.fn();
    const r = await runCorners(net, inputs, {
      process,
      specs,
      kept: (spec) => held.find((h) => same(h, spec)),
      onDone,
      run: { ngspiceBin: ngspice.bin, workRoot: ngspice.workRoot },
    });
    expect(r).toEqual(held);
    expect(r[1]).toBe(held[1]); // returned as it is
    expect(ngspice.calls()).toEqual([]);
    expect(onDone).not.toHaveBeenCalled();
  });

  it('runs the specs the store lacks, each reported in its place with NaN figures and the first line of its error', async () => {
    const { net, inputs, process } = await setup();
    const ngspice = standIn();
    const held = keptResult(SS, 1);
    const done: Array<[CornerSpec, number, number, number]> = [];
    const r = await runCorners(net, inputs, {
      process,
      specs: [TT, SS, TT_HOT],
      kept: (spec) => (same(spec, SS) ? held : undefined),
      concurrency: 1,
      onDone: (c) => done.push([c.item, c.index, c.completed, c.total]),
      run: { ngspiceBin: ngspice.bin, workRoot: ngspice.workRoot },
    });
    const failed = (spec: CornerSpec) => ({
      ...spec,
      stateAgreement: NaN,
      voteAgreement: NaN,
      decisionMatch: false,
      disagreements: NaN,
      coreW: NaN,
      ngspiceS: NaN,
      error: expect.stringMatching(/^ngspice exited with code 3\b[^\n]*bmru-ngspice-corner-tt-/),
    });
    expect(r).toEqual([failed(TT), held, failed(TT_HOT)]);
    expect(r[1]).toBe(held);
    // Two runs, each named after its corner: one version probe and two decks.
    expect(ngspice.calls().filter((c) => c !== '-v')).toHaveLength(2);
    expect(Object.keys(ngspice.decks())).toEqual(['bmru-ngspice-corner-tt']);
    expect(done).toEqual([
      [TT, 0, 1, 2],
      [TT_HOT, 1, 2, 2],
    ]);
  });

  it('reports a missing ngspice binary as the failed corner, with the one-line message, not thrown', async () => {
    const { net, inputs, process } = await setup();
    const bin = '/nonexistent/ngspice';
    const r = await runCorners(net, inputs, { process, specs: [SS], run: { ngspiceBin: bin } });
    expect(r).toHaveLength(1);
    expect(r[0]).toMatchObject({ ...SS, decisionMatch: false });
    expect(r[0].error).toBe(
      `cannot run ngspice ("${bin}"): install it (Debian/Ubuntu: apt-get install -y ngspice) ` +
        'or set BMRU_NGSPICE to the path of the ngspice binary',
    );
    expect([r[0].stateAgreement, r[0].voteAgreement, r[0].disagreements, r[0].coreW, r[0].ngspiceS]).toEqual(
      Array(5).fill(NaN),
    );
  });

  it('throws a corner the kit does not have (the caller’s mistake), not a corner that failed', async () => {
    const { net, inputs, process } = await setup();
    const ngspice = standIn();
    await expect(
      runCorners(net, inputs, {
        process,
        specs: [{ corner: 'xx', vddScale: 1, temperatureC: 27 }],
        run: { ngspiceBin: ngspice.bin, workRoot: ngspice.workRoot },
      }),
    ).rejects.toThrow(/has no corner "xx"/);
    expect(ngspice.calls()).toEqual([]);
  });
});

/** One frame of a width-2 block: two cells. */
const run = (level: number, o: Partial<NoiseRun> & { c?: number[]; s?: number[]; st?: number[] } = {}): NoiseRun => ({
  level,
  circuit: {
    frames: 1,
    candidates: [Float64Array.from(o.c ?? [0, 0])],
    stateCurrents: [Float64Array.from(o.s ?? [0, 0])],
    states: [Uint8Array.from(o.st ?? [0, 0])],
  },
  stateAgreement: o.stateAgreement ?? 1,
  decisionMatch: o.decisionMatch ?? true,
  ngspiceS: o.ngspiceS ?? 0,
});

/** A store holding `runs` by key; it records what it is asked and refuses additions. */
function store(runs: Map<string, NoiseRun>): NoiseRunStore & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    get: (key) => (asked.push(key), runs.get(key)),
    add: () => {
      throw new Error('a run was added');
    },
  };
}

describe('circuitNoise', () => {
  it('assembles the runs a store holds: the clean figure, then per level its own figures and its boundaries against clean', async () => {
    const { net, inputs, process } = await setup();
    const ngspice = standIn();
    const opts = { process, levels: [0.1, 0.2], seed: 7, run: { ngspiceBin: ngspice.bin, workRoot: ngspice.workRoot } };
    const key = (level: number) => noiseRunKey(net, inputs, level, opts);
    const kept = store(
      new Map([
        [await key(0), run(0, { stateAgreement: 0.9 })],
        // Cell 0's candidate off by 0.5 and its state flipped, cell 1's state current off by 0.25.
        [
          await key(0.1),
          run(0.1, { c: [0.5, 0], s: [0, 0.25], st: [1, 0], stateAgreement: 0.8, decisionMatch: false, ngspiceS: 2 }),
        ],
        [await key(0.2), run(0.2, { stateAgreement: 0.7, ngspiceS: 3 })],
      ]),
    );
    const onDone = vi.fn();
    const r = await circuitNoise(net, inputs, { ...opts, kept, onDone });
    expect(kept.asked).toEqual([await key(0), await key(0.1), await key(0.2)]);
    expect(ngspice.calls()).toEqual([]);
    expect(onDone).not.toHaveBeenCalled();
    expect(r.cleanStateAgreement).toBe(0.9);
    expect(r.levels.map(({ boundaries: _, ...l }) => l)).toEqual([
      { level: 0.1, stateAgreement: 0.8, decisionMatch: false, ngspiceS: 2 },
      { level: 0.2, stateAgreement: 0.7, decisionMatch: true, ngspiceS: 3 },
    ]);
    // One block, one frame of two cells: mean absolute differences over the two unit-frames, one flip.
    expect(r.levels[0].boundaries).toHaveLength(1);
    expect(r.levels[0].boundaries[0]).toMatchObject({
      block: 0,
      unitFrames: 2,
      candidateMAE: 0.25,
      stateMAE: 0.125,
      flips: 1,
    });
    // The level-0.2 run equals the clean one: nothing differs, the ratio is Infinity (noise.ts).
    expect(r.levels[1].boundaries[0]).toMatchObject({ candidateMAE: 0, stateMAE: 0, flips: 0, ratio: Infinity });
  });

  it('runs what the store lacks: level L with noise sigma L/3 on inputs and biases every tenth of a frame, clean without', async () => {
    const { net, inputs, process } = await setup();
    const ngspice = standIn();
    const opts = { process, levels: [0.3], seed: 5, run: { ngspiceBin: ngspice.bin, workRoot: ngspice.workRoot } };
    const done: unknown[] = [];
    const onDone = (c: { item: number; completed: number; total: number; error?: unknown }) =>
      done.push([c.item, c.completed, c.total, c.error instanceof Error]);
    // Clean kept: the noisy run goes to the stand-in, which fails it.
    const cleanOnly = store(new Map([[await noiseRunKey(net, inputs, 0, opts), run(0)]]));
    await expect(circuitNoise(net, inputs, { ...opts, kept: cleanOnly, onDone })).rejects.toThrow(
      /^ngspice exited with code 3\b.*bmru-ngspice-noise-0\.3-/,
    );
    expect(done).toEqual([[0.3, 1, 1, true]]);
    // The noisy run kept: the clean one goes to the stand-in.
    const noisyOnly = store(new Map([[await noiseRunKey(net, inputs, 0.3, opts), run(0.3)]]));
    await expect(circuitNoise(net, inputs, { ...opts, kept: noisyOnly })).rejects.toThrow(/bmru-ngspice-noise-0-/);

    // The decks as the generator writes them, with the noise worked out by hand.
    const deck = (noise?: { inputRel: number; biasRel: number; stepS: number; seed: number }) =>
      generateNetlist(net, inputs, { process, noise }).deck;
    const decks = ngspice.decks();
    expect(Object.keys(decks).sort()).toEqual(['bmru-ngspice-noise-0', 'bmru-ngspice-noise-0.3']);
    expect(decks['bmru-ngspice-noise-0.3']).toBe(
      deck({ inputRel: 0.1, biasRel: 0.1, stepS: net.frameS / 10, seed: 5 }),
    );
    expect(decks['bmru-ngspice-noise-0']).toBe(deck());
  });
});

describe('noiseStudy', () => {
  async function study(o: Partial<NoiseStudyOptions> = {}) {
    const { net, inputs, process } = await setup();
    const opts: NoiseStudyOptions = {
      process,
      levels: [0.1],
      draws: 1,
      seed: 3,
      circuit: true,
      depths: [1],
      depthFrames: 1,
      depthLevel: 0.2,
      run: { ngspiceBin: '/nonexistent/ngspice' },
      ...o,
    };
    return { net, inputs, opts };
  }
  /** Zeros for any run here (at most one block of four cells, at most two frames). */
  const zeros: NoiseRun = {
    ...run(0),
    circuit: {
      frames: 1,
      candidates: [new Float64Array(8)],
      stateCurrents: [new Float64Array(8)],
      states: [new Uint8Array(8)],
    },
  };

  it('asks the store nothing without `circuit`: software rows only', async () => {
    const { net, inputs, opts } = await study({ circuit: false });
    const kept: NoiseRunStore = {
      get: () => {
        throw new Error('asked');
      },
      add: () => {
        throw new Error('added');
      },
    };
    const s = await noiseStudy(net, inputs, { ...opts, kept });
    expect(s.circuit).toEqual({});
    expect(new Set(s.rows.map((r) => r.source))).toEqual(new Set(['software']));
  });

  it('runs no circuit for the example without levels, only the depth study at its level', async () => {
    const { net, inputs, opts } = await study({ levels: [] });
    const keys = await noiseStudyKeys(net, inputs, opts);
    expect(keys.map((k) => k.label)).toEqual(['depth 1 clean', 'depth 1 level 0.2']);
    const kept = store(new Map(keys.map((k) => [k.key, zeros])));
    const s = await noiseStudy(net, inputs, { ...opts, kept });
    expect(kept.asked).toEqual(keys.map((k) => k.key));
    expect(Object.keys(s.circuit)).toEqual(['depth 1']);
  });

  it('reports each circuit run of a study as it finishes, by study name, done and total', async () => {
    const { net, inputs, opts } = await study();
    const keys = await noiseStudyKeys(net, inputs, opts);
    // The store lacks the example's noisy run: it goes to a missing binary, and the study fails with it.
    const kept = store(new Map(keys.filter((k) => k.label !== 'example level 0.1').map((k) => [k.key, zeros])));
    const reports: unknown[] = [];
    await expect(
      noiseStudy(net, inputs, {
        ...opts,
        kept,
        onCircuitRun: (...a) => reports.push(a),
      }),
    ).rejects.toThrow(/^cannot run ngspice \("\/nonexistent\/ngspice"\)/);
    expect(reports).toEqual([['example', 1, 1]]);
  });
});

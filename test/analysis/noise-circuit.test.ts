/**
 * What `analyze noise` keeps of each transient for a rerun (noise-circuit.ts): the key changes with whatever
 * changes a transient and not with what only schedules it, and a kept line reads back as the run it was written from.
 */
import { cpSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  noiseRunFromLine,
  noiseRunKey,
  NoiseRunLineSchema,
  noiseRunToLine,
  type CircuitNoiseOptions,
  type NoiseRun,
} from '../../src/analysis/noise-circuit.js';
import { randomInputs, randomNetwork } from '../../src/model/random.js';
import { loadProcess } from '../../src/netlist/process.js';
import { REPO_ROOT, scratchDir } from '../helpers.js';

const C180 = path.join(REPO_ROOT, 'models', 'c180');

describe('noiseRunKey', () => {
  it('differs by level, seed, noise step, network, clip and kit file content; not by concurrency, levels or timeout', async () => {
    const net = randomNetwork({ inputs: 3, width: 2, blocks: 1, classes: 2, seed: 1 });
    const inputs = randomInputs(2, 3, 1);
    const process = await loadProcess(path.join(C180, 'process.json'));
    const base: CircuitNoiseOptions = { process, levels: [0.1], seed: 1, run: { timeoutMs: 1000 } };
    const key = (o: Partial<CircuitNoiseOptions> = {}, level = 0.1, n = net, x = inputs) =>
      noiseRunKey(n, x, level, { ...base, ...o });
    const k = await key();
    expect(await key({ levels: [0.05, 0.1, 0.2], concurrency: 1, run: { timeoutMs: 9 } })).toBe(k);
    expect(await key({}, 0.2)).not.toBe(k);
    expect(await key({ seed: 2 })).not.toBe(k);
    expect(await key({ stepS: net.frameS / 20 })).not.toBe(k);
    // The default noise step is a tenth of a frame: the same run whether given or not.
    expect(await key({ stepS: net.frameS / 10 })).toBe(k);
    expect(await key({}, 0.1, randomNetwork({ inputs: 3, width: 2, blocks: 1, classes: 2, seed: 2 }))).not.toBe(k);
    expect(await key({}, 0.1, net, randomInputs(2, 3, 2))).not.toBe(k);
    expect(await key({ run: { ngspiceBin: '/opt/ngspice' } })).not.toBe(k);

    // The same kit at another path is the same run; one byte changed in its model card is another.
    const copy = scratchDir('bmru-noise-kit-');
    cpSync(C180, copy, { recursive: true });
    const moved = await loadProcess(path.join(copy, 'process.json'));
    expect(await key({ process: moved })).toBe(k);
    const card = moved.deckLines
      .map((l) => /^\s*\.(?:include|inc|lib)\s+"?([^"\s]+)/i.exec(l)?.[1])
      .find((f) => f !== undefined)!;
    writeFileSync(card, '* edited\n', { flag: 'a' });
    expect(await key({ process: moved })).not.toBe(k);
  });
});

describe('noise-runs.jsonl lines', () => {
  it('read back as the run written: typed arrays, states 0/1, the comparison', () => {
    const run: NoiseRun = {
      level: 0.1,
      circuit: {
        frames: 2,
        candidates: [Float64Array.of(0.25, -0.5, 1e-13, 3)],
        stateCurrents: [Float64Array.of(0, 0.75, 0, 0.75)],
        states: [Uint8Array.of(0, 1, 0, 1)],
      },
      stateAgreement: 0.75,
      decisionMatch: false,
      ngspiceS: 1.5,
    };
    const text = JSON.stringify({ key: 'k', ...noiseRunToLine(run) });
    // Typed arrays written as JSON objects ({"0": ...}) would not pass the schema.
    expect(text).toContain('"candidates":[[0.25,-0.5,1e-13,3]]');
    const { key, ...line } = NoiseRunLineSchema.parse(JSON.parse(text));
    expect(key).toBe('k');
    const back = noiseRunFromLine(line);
    expect(back).toEqual(run);
    expect(back.circuit.candidates[0]).toBeInstanceOf(Float64Array);
    expect(back.circuit.states[0]).toBeInstanceOf(Uint8Array);
    expect(
      NoiseRunLineSchema.safeParse({ ...JSON.parse(text), circuit: { ...run.circuit, states: [[2]] } }).success,
    ).toBe(false);
  });
});

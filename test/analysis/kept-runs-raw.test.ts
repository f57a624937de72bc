/**
 * The success path of corners.ts `runCorners` and noise-circuit.ts `circuitNoise` without ngspice: a stand-in that
 * writes a rawfile made here (every saved vector constant, the supplies drawing known currents) and takes at least a
 * second, so the figures the loops derive (core power, ngspice seconds, the runs' order) are worked out by hand.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runCorners, type CornerSpec } from '../../src/analysis/corners.js';
import { circuitNoise, type NoiseRun } from '../../src/analysis/noise-circuit.js';
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

/** Currents the supplies deliver (A); an ngspice source's branch current is negative when it delivers. */
const SUPPLY_A = { cell: 1e-6, ff: 2e-6, bias: 4e-6, in: 8e-6 };

/** An ASCII rawfile (ngspice's layout) of `names` over [0, tStopS], each constant: a supply's -current, else 0. */
function rawfile(names: string[], tStopS: number): string {
  const value = (n: string) => {
    const d = /^i\(vvdd_(\w+)\)$/.exec(n)?.[1] as keyof typeof SUPPLY_A | undefined;
    return d ? -SUPPLY_A[d] : 0;
  };
  const vars = ['time', ...names];
  const type = (n: string) => (n === 'time' ? 'time' : n.startsWith('v(') ? 'voltage' : 'current');
  const point = (i: number, t: number) => vars.map((n, k) => (k === 0 ? `${i}\t\t${t}` : `\t${value(n)}`)).join('\n');
  return [
    'Title: stand-in',
    'Date: none',
    'Plotname: Transient Analysis',
    'Flags: real',
    `No. Variables: ${vars.length}`,
    'No. Points: 2',
    'Variables:',
    ...vars.map((n, k) => `\t${k}\t${n}\t${type(n)}`),
    'Values:',
    point(0, 0),
    point(1, tStopS),
    '',
  ].join('\n');
}

async function setup() {
  const net = randomNetwork({ inputs: 3, width: 2, blocks: 1, classes: 2, seed: 1 });
  const inputs = randomInputs(2, 3, 1);
  const process = await loadProcess(path.join(REPO_ROOT, 'models', 'c180', 'process.json'));
  const generated = generateNetlist(net, inputs, { process });
  const saves = /^\.save (.*)$/m.exec(generated.deck)![1].split(' ');
  const dir = scratchDir('bmru-kept-raw-');
  writeFileSync(path.join(dir, 'run.raw'), rawfile(saves, generated.tStopS));
  // ngspice is called as `-b -n -r <rawfile> ... <deck>`: copy the rawfile there after a second.
  const bin = path.join(dir, 'ngspice');
  writeFileSync(
    bin,
    [
      '#!/bin/sh',
      'if [ "$1" = "-v" ]; then echo "** ngspice-39 : stand-in"; exit 0; fi',
      `echo "$*" >> ${dir}/calls`,
      'sleep 1',
      `cp ${dir}/run.raw "$4"`,
      '',
    ].join('\n'),
  );
  chmodSync(bin, 0o755);
  const calls = () => readFileSync(`${dir}/calls`, 'utf8').trim().split('\n');
  return { net, inputs, process, run: { ngspiceBin: bin, workRoot: scratchDir('bmru-kept-raw-work-') }, calls };
}

describe('runCorners, a corner that ran', () => {
  it('reports the core power (cell + ff + bias current x the corner VDD) and the run time in seconds', async () => {
    const { net, inputs, process, run, calls } = await setup();
    const spec: CornerSpec = { corner: 'tt', vddScale: 0.9, temperatureC: 27 };
    const [r] = await runCorners(net, inputs, { process, specs: [spec], run });
    expect(r.error).toBeUndefined();
    expect(r).toMatchObject(spec);
    // (1 + 2 + 4) uA, the input front end's 8 uA left out, at 0.9 x the kit's VDD.
    expect(r.coreW).toBeCloseTo(7e-6 * process.vddV * 0.9, 15);
    expect(process.vddV).not.toBe(1); // so a division would show
    // The stand-in takes at least a second (and far less than a minute).
    expect(r.ngspiceS).toBeGreaterThanOrEqual(1);
    expect(r.ngspiceS).toBeLessThan(60);
    expect(typeof r.decisionMatch).toBe('boolean');
    expect(calls()).toHaveLength(1);
  });
});

describe('circuitNoise, runs that ran', () => {
  it('keeps each run as it finishes and scores the noisy one against the clean one, in the levels order', async () => {
    const { net, inputs, process, run, calls } = await setup();
    const added: Array<[string, NoiseRun]> = [];
    const kept = { get: () => undefined, add: (key: string, r: NoiseRun) => void added.push([key, r]) };
    const r = await circuitNoise(net, inputs, { process, levels: [0.1], seed: 5, run, kept, concurrency: 1 });
    expect(calls()).toHaveLength(2);
    expect(added.map(([, a]) => a.level)).toEqual([0, 0.1]);
    expect(r.levels.map((l) => l.level)).toEqual([0.1]);
    // The stand-in writes the same rawfile for both: the noisy run's boundaries equal the clean one's.
    expect(r.levels[0].boundaries[0]).toMatchObject({ candidateMAE: 0, stateMAE: 0, flips: 0 });
    expect(r.levels[0].ngspiceS).toBeGreaterThanOrEqual(1);
    expect(r.levels[0].ngspiceS).toBeLessThan(60);
    expect(added[1][1].ngspiceS).toBeGreaterThanOrEqual(1);
  });
});

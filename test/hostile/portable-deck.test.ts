/**
 * Portable decks (issue 14): the deck `bmru export` writes, run as plain `ngspice -b` from its folder with no
 * help from the toolkit, gives the circuit states `bmru compare` reports for the same model and clip.
 */
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleCircuit } from '../../src/compare/sample.js';
import { loadModel } from '../../src/model/load.js';
import { loadProcess } from '../../src/netlist/process.js';
import type { Probes } from '../../src/netlist/generate.js';
import { readRawfile, transientPlot } from '../../src/spice/rawfile.js';
import { REPO_ROOT } from '../helpers.js';
import { cliFixture, EXAMPLE_MODEL, exampleClip, type CliFixture } from '../cli/fixture.js';

const FRAMES = 8;
let f: CliFixture;
beforeAll(async () => {
  f = await cliFixture();
  await f.write('clip.csv', exampleClip(FRAMES));
});
afterAll(() => f.cleanUp());

describe('an exported deck (real ngspice)', () => {
  it('runs as plain ngspice -b, single-threaded by its own options, and gives the states bmru compare reports', async () => {
    const exp = await f.run(['export', '-i', 'clip.csv', '-o', 'exported']);
    expect(exp.exitCode, exp.stderr).toBe(0);
    const folder = path.join(f.dir, 'exported');
    const deck = await readFile(path.join(folder, 'deck.cir'), 'utf8');
    expect(deck).toMatch(/^\.options .*\bnum_threads=1\b/m);
    execFileSync('ngspice', ['-b', '-n', '-r', 'plain.raw', 'deck.cir'], { cwd: folder, stdio: 'ignore' });

    const probes: Probes = JSON.parse(await readFile(path.join(folder, 'probes.json'), 'utf8'));
    const net = await loadModel(EXAMPLE_MODEL);
    const plot = transientPlot(await readRawfile(path.join(folder, 'plain.raw')));
    const plain = sampleCircuit(plot, probes, {
      frames: FRAMES,
      frameS: net.frameS,
      unitA: net.unitCurrentA,
      vddV: (await loadProcess(path.join(REPO_ROOT, 'models', 'c180', 'process.json'))).vddV,
    });

    const cmp = await f.run(['compare', '-i', 'clip.csv', '-o', 'compared']);
    expect([0, 1]).toContain(cmp.exitCode);
    const rows = (await readFile(path.join(f.dir, 'compared', 'frames.csv'), 'utf8')).trim().split('\n');
    const header = rows[0].split(',');
    const [iFrame, iBlock, iUnit, iState] = ['frame', 'block', 'unit', 'state_circuit'].map((c) => header.indexOf(c));
    expect(iState).toBeGreaterThan(-1);
    const S = net.cells;
    let compared = 0;
    for (const row of rows.slice(1)) {
      const c = row.split(',');
      const [t, k, j] = [Number(c[iFrame]), Number(c[iBlock]), Number(c[iUnit])];
      expect(plain.states[k][t * S + j], `frame ${t} block ${k} unit ${j}`).toBe(Number(c[iState]));
      compared++;
    }
    expect(compared).toBe(FRAMES * net.blocks.length * S);
  });
});

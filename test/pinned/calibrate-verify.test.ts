/**
 * The acceptance rule of `bmru calibrate --verify` (issue 2: within 3% of the target, or 5 pA, whichever is
 * larger) on a circuit whose errors are known: a stand-in for ngspice realises each bias it finds in the sweep
 * deck with a set error (beta_hi 10% high, beta_lo 2% high, ON level 4% low; p mirrors 2% high, n mirrors 4%
 * high) and answers the sweep with a rawfile. Real ngspice on a calibrated kit only ever shows passing rows, so
 * a rule loosened to 30% went unseen; here rows must fail, and which ones follows from the errors alone.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PLAN, verifyCalibration, type VerifyRow } from '../../src/calibrate/calibrate.js';
import { loadProcess } from '../../src/netlist/process.js';
import { REPO_ROOT } from '../helpers.js';

const nA = 1e-9;
const pA = 1e-12;

/**
 * Reads the deck ngspice would run (its last argument) and writes an ascii rawfile to the path after -r. Cell
 * sweep decks: Ithr0, Iwid0, Igain0 are the biases; v(c0_v0) is VDD once the swept input (1 nA per V of vctl)
 * reaches beta_hi = 1.10 I_thresh going up, and until it falls below beta_lo = 1.02 (I_thresh - I_width) going
 * down; i(vm_c0) is 0.96 I_gain while ON. Mirror decks: the copy of M{p,n}<k> (width over Mrefp's) is the
 * reference current times ratio x 1.02 (p) or x 1.04 (n), whatever the load.
 */
const STAND_IN = String.raw`#!/usr/bin/env node
const fs = require('node:fs');
const args = process.argv.slice(2);
if (args[0] === '-v') { console.log('** ngspice-39 : stand-in for the calibration rule test'); process.exit(0); }
const deck = fs.readFileSync(args[args.length - 1], 'utf8');
const rawPath = args[args.indexOf('-r') + 1];
const num = (re) => Number(re.exec(deck)[1]);
const [, a, b, s] = /^\.dc vctl (\S+) (\S+) (\S+)$/m.exec(deck).map(Number);
const xs = [];
for (let i = 0; i <= Math.round((b - a) / s); i++) xs.push(a + i * s);
const cols = [['v-sweep', 'voltage', xs]];
if (/^\* cell calibration sweep/.test(deck)) {
  const thr = num(/^Ithr0 \S+ \S+ dc (\S+)$/m), wid = num(/^Iwid0 \S+ \S+ dc (\S+)$/m), gain = num(/^Igain0 \S+ \S+ dc (\S+)$/m);
  const hi = 1.10 * thr, lo = 1.02 * (thr - wid), on = 0.96 * gain;
  const up = /sweep \(up\)/.test(deck);
  const states = xs.map((x) => (up ? x * 1e-9 >= hi : x * 1e-9 >= lo));
  cols.push(['v(c0_v0)', 'voltage', states.map((s) => (s ? 1.8 : 0))], ['i(vm_c0)', 'current', states.map((s) => (s ? on : 0))]);
} else {
  const unit = num(/^Mrefp \S+ \S+ \S+ \S+ \S+ w=(\S+)u/m);
  for (const m of deck.matchAll(/^M(p|n)(\d+) \S+ \S+ \S+ \S+ \S+ w=(\S+)u/gm)) {
    const gain = (Number(m[3]) / unit) * (m[1] === 'p' ? 1.02 : 1.04);
    for (const load of [m[1], m[1] + 's']) cols.push(['i(vm_' + load + m[2] + ')', 'current', xs.map((x) => gain * x * 1e-9)]);
  }
}
const lines = ['Title: stand-in', 'Date: today', 'Plotname: DC transfer characteristic', 'Flags: real', 'No. Variables: ' + cols.length, 'No. Points: ' + xs.length, 'Variables:'];
cols.forEach(([name, type], i) => lines.push('\t' + i + '\t' + name + '\t' + type));
lines.push('Values:');
xs.forEach((_, p) => cols.forEach(([, , v], i) => lines.push((i === 0 ? String(p) : '') + '\t' + v[p].toExponential(15))));
fs.writeFileSync(rawPath, lines.join('\n') + '\n');
`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'bmru-verify-rule-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/**
 * The verify rows, computed by the first test that asks (not in beforeAll: code run outside a test has no per-test
 * coverage, and Stryker would then rerun every suite related to the rawfile parser for each of its mutants).
 */
let rowsOnce: Promise<VerifyRow[]> | undefined;
const verifyRows = () => (rowsOnce ??= standInVerify());

async function standInVerify(): Promise<VerifyRow[]> {
  const bin = path.join(dir, 'ngspice');
  await writeFile(bin, STAND_IN);
  await chmod(bin, 0o755);
  const proc = await loadProcess(path.join(REPO_ROOT, 'models', 'c180', 'process.json'));
  return verifyCalibration(proc, undefined, {
    targets: [
      { betaLoA: 0.5 * nA, betaHiA: 1.0 * nA, alphaA: 0.8 * nA },
      { betaLoA: 0.1 * nA, betaHiA: 0.15 * nA, alphaA: 0.1 * nA },
    ],
    gains: [1, 2],
    plan: { ...DEFAULT_PLAN, mirrorCurrentsA: [0.1 * nA, 1 * nA] },
    run: { ngspiceBin: bin, workRoot: dir },
    concurrency: 2,
  });
}

const row = (rows: VerifyRow[], what: string) => {
  const r = rows.find((x) => x.what === what);
  if (!r) throw new Error(`no row "${what}" among ${rows.map((x) => x.what).join(', ')}`);
  return r;
};

describe('calibration verify rule: within 3% of the target or 5 pA, whichever is larger', () => {
  it('measures what the stand-in circuit realises (the sweep resolves 0.1% of I_thresh)', async () => {
    const rows = await verifyRows();
    // The switch point is read between two sweep points 1 pA apart (0.1% of the 1 nA I_thresh).
    expect(Math.abs(row(rows, 'cell 0 beta_hi (A)').measured - 1.1 * nA)).toBeLessThanOrEqual(1 * pA);
    expect(Math.abs(row(rows, 'cell 0 beta_lo (A)').measured - 0.51 * nA)).toBeLessThanOrEqual(1 * pA);
    expect(row(rows, 'cell 0 ON level (A)').measured / (0.768 * nA)).toBeCloseTo(1, 6);
  });

  it('fails a beta_hi 10% high and an ON level 4% low; passes a beta_lo 2% high (1 nA cell)', async () => {
    const rows = await verifyRows();
    expect(row(rows, 'cell 0 beta_hi (A)')).toMatchObject({ target: 1 * nA, pass: false });
    expect(row(rows, 'cell 0 beta_hi (A)').allowed).toBeCloseTo(30 * pA, 18);
    expect(row(rows, 'cell 0 ON level (A)')).toMatchObject({ pass: false });
    expect(row(rows, 'cell 0 ON level (A)').allowed).toBeCloseTo(24 * pA, 18);
    expect(row(rows, 'cell 0 beta_lo (A)')).toMatchObject({ pass: true });
  });

  it('on a 0.1-0.15 nA cell lets the 5 pA floor pass a 4 pA (4%) ON-level error, and fails a 15 pA beta_hi error', async () => {
    const rows = await verifyRows();
    expect(row(rows, 'cell 1 ON level (A)')).toMatchObject({ pass: true });
    expect(row(rows, 'cell 1 ON level (A)').allowed).toBeCloseTo(5 * pA, 18);
    expect(row(rows, 'cell 1 beta_hi (A)')).toMatchObject({ pass: false });
    expect(row(rows, 'cell 1 beta_hi (A)').allowed).toBeCloseTo(5 * pA, 18);
  });

  it('passes mirror gains 2% high and fails gains 4% high (no absolute floor for a gain), at every current', async () => {
    const rows = await verifyRows();
    for (const g of [1, 2]) {
      for (const i of [0.1, 1]) {
        expect(row(rows, `pmos mirror gain ${g} at ${i} nA`)).toMatchObject({ pass: true });
        expect(row(rows, `pmos mirror gain ${g} at ${i} nA`).measured).toBeCloseTo(1.02 * g, 9);
        expect(row(rows, `nmos mirror gain ${g} at ${i} nA`)).toMatchObject({ pass: false });
        expect(row(rows, `nmos mirror gain ${g} at ${i} nA`).allowed).toBeCloseTo(0.03 * g, 12);
      }
    }
    expect(rows).toHaveLength(2 * 3 + 2 * 2 * 2);
  });
});

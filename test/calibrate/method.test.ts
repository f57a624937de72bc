import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { DEFAULT_HARDWARE_PLAN } from '../../src/calibrate/hardware.js';
import {
  REFERENCE_PROCESSES,
  calibrationMethod,
  methodDecks,
  staleTablesWarning,
  warnIfStale,
} from '../../src/calibrate/method.js';
import { DEFAULT_PLAN } from '../../src/calibrate/sweeps.js';
import { methodMismatch, type Calibration } from '../../src/netlist/calibration.js';
import { REPO_ROOT } from '../helpers.js';

const shipped = (name: string): Calibration =>
  JSON.parse(readFileSync(path.join(REPO_ROOT, 'models', name, 'calibration.json'), 'utf8')) as Calibration;

describe('the shipped calibration tables', () => {
  // The gate: a change to the calibration decks or grids (or a bump of CALIBRATION_METHOD_REVISION) fails here until
  // the shipped tables are measured again with it (bmru calibrate -p <process> --out models/<process>/calibration.json)
  // and committed, so no published figure rests on tables the toolkit would no longer measure.
  it.each(['c180', 'gf180mcu'])('%s carries the method fingerprint this toolkit writes', (name) => {
    expect(shipped(name).method, `models/${name}/calibration.json: re-measure it with bmru calibrate`).toBe(
      calibrationMethod(),
    );
  });
});

describe('calibrationMethod', () => {
  it('is 64 hex digits, and the same for copies of the default plans (two independent computations)', () => {
    const m = calibrationMethod();
    expect(m).toMatch(/^[0-9a-f]{64}$/);
    expect(calibrationMethod({ ...DEFAULT_PLAN }, { ...DEFAULT_HARDWARE_PLAN })).toBe(m);
  });

  it('moves with the grids: a threshold row, the sweep step, a fraction read from the sweeps only, no hardware tables', () => {
    const m = calibrationMethod();
    const others = [
      calibrationMethod({ ...DEFAULT_PLAN, threshA: [...DEFAULT_PLAN.threshA.slice(0, -1), 3e-9] }),
      calibrationMethod({ ...DEFAULT_PLAN, relStep: 2e-3 }),
      // offFractions appear in no deck: the plan itself is part of the digest.
      calibrationMethod(DEFAULT_PLAN, { ...DEFAULT_HARDWARE_PLAN, offFractions: [0, 0.5, 0.9] }),
      calibrationMethod(DEFAULT_PLAN, false),
    ];
    expect(new Set([m, ...others]).size).toBe(5);
  });
});

describe('methodDecks', () => {
  it('lists every deck of a run, counted from the plans by hand', () => {
    // Cells: 7 I_thresh rows x 11 fractions + 12 I_gain points = 89, an up and a down sweep each = 178; 1 mirror deck.
    // Hardware: 4 x 4 switching cells' folds, up and down = 32; knees n/p, rails n/p, switching on/off = 6; 3 copy
    // ranges; 1 commit deck. 178 + 1 + 32 + 6 + 3 + 1 = 221.
    for (const p of REFERENCE_PROCESSES) {
      expect(methodDecks(p, DEFAULT_PLAN, DEFAULT_HARDWARE_PLAN)).toHaveLength(221);
      expect(methodDecks(p, DEFAULT_PLAN, false)).toHaveLength(179);
    }
  });

  it('takes both kinds of device card and both NMOS sources across the two reference processes', () => {
    const mirrors = REFERENCE_PROCESSES.map(
      (p) => methodDecks(p, DEFAULT_PLAN, false).find((d) => d.name === 'mirrors')!.netlist,
    );
    // The mirror reference diode: drain, gate, source, bulk (netlist/elements.ts `toSpice`).
    expect(mirrors[0]).toContain('\nMrefn rn rn vsn 0 nref ');
    expect(mirrors[0]).toContain('\nVsn vsn 0 dc 0.1\n');
    expect(mirrors[1]).toContain('\nXrefn rn rn 0 0 nref ');
    expect(mirrors[1]).not.toContain('vsn');
  });
});

describe('methodMismatch and staleTablesWarning', () => {
  const now = 'a'.repeat(64);

  it('tables with this method pass; without a fingerprint or with another they are of another method', () => {
    expect(methodMismatch({ method: now }, now)).toBeUndefined();
    expect(methodMismatch({}, now)).toBe(
      `measured by another calibration method (the tables carry no method fingerprint; this toolkit's is ${'a'.repeat(12)})`,
    );
    expect(methodMismatch({ method: 'b'.repeat(64) }, now)).toBe(
      `measured by another calibration method (fingerprint ${'b'.repeat(12)}, this toolkit's ${'a'.repeat(12)})`,
    );
  });

  it('warns in one line naming the file and the command that re-measures it; nothing for current tables', () => {
    const current = { ...shipped('c180'), method: calibrationMethod() };
    expect(staleTablesWarning(current, '/k/calibration.json', '/k/process.json')).toBeUndefined();
    const old = { ...current, method: undefined };
    const line = staleTablesWarning(old, '/k/calibration.json', '/k/process.json')!;
    expect(line).not.toContain('\n');
    expect(line).toMatch(/^warning: \/k\/calibration\.json: measured by another calibration method \(/);
    expect(line).toMatch(/: re-measure them with bmru calibrate -p \/k\/process\.json$/);
  });

  it('warnIfStale prints that line on stderr once per file, and nothing for current tables or none', () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const current = { ...shipped('c180'), method: calibrationMethod() };
      const old = { ...current, method: 'c'.repeat(64) };
      warnIfStale(current, '/w/current.json', '/w/process.json');
      warnIfStale(undefined, '/w/none.json', '/w/process.json');
      warnIfStale(old, '/w/old.json', '/w/process.json');
      warnIfStale(old, '/w/old.json', '/w/process.json');
      expect(errors.mock.calls).toEqual([[staleTablesWarning(old, '/w/old.json', '/w/process.json')]]);
      // The package's own tables are held to the method by the test above, not checked at every load.
      warnIfStale(old, path.join(REPO_ROOT, 'models', 'c180', 'calibration.json'), '/w/process.json');
      expect(errors).toHaveBeenCalledTimes(1);
    } finally {
      errors.mockRestore();
    }
  });
});

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { defaultVddsV, modelStem, prepareSweepRun } from '../../src/analysis/sweep.js';
import { DEFAULT_TOLERANCES } from '../../src/compare/tolerance.js';
import { loadModel } from '../../src/model/load.js';
import { REPO_ROOT, scratchDir } from '../helpers.js';

const KWS = path.join(REPO_ROOT, 'models', 'kws', 'kws-w4.json');

describe('defaultVddsV off the 50 mV grid', () => {
  it('keeps the process VDD as it is and rounds only the other supplies', () => {
    // By hand, vddV = 0.93: 2/3 x 0.93 = 0.62 -> 12.4 steps -> 12 -> 0.6; 4/3 x 0.93 = 1.24 -> 24.8 -> 25 -> 1.25;
    // 2 x 0.93 = 1.86 -> 37.2 -> 37 -> 1.85. The process's own 0.93 is not rounded (that would be 18.6 -> 0.95).
    expect(defaultVddsV(0.93)).toEqual([0.6, 0.93, 1.25, 1.85]);
  });

  it('sorts the supplies when rounding puts one above the process VDD, and drops repeats', () => {
    // By hand, vddV = 0.04: 2/3 x 0.04 = 0.0267 -> 0.53 steps -> 1 -> 0.05 (above 0.04); 4/3 x 0.04 = 0.0533 -> 1.07
    // -> 1 -> 0.05 (the same again); 2 x 0.04 = 0.08 -> 1.6 -> 2 -> 0.1. In grid order that is 0.05, 0.04, 0.05, 0.1.
    expect(defaultVddsV(0.04)).toEqual([0.04, 0.05, 0.1]);
  });
});

describe('modelStem', () => {
  it('drops the folder and the last extension only', () => {
    expect(modelStem('models/kws/kws-w4.json')).toBe('kws-w4');
    expect(modelStem('/tmp/run.2/kws-w4.v2.json')).toBe('kws-w4.v2');
    expect(modelStem('kws-w4.safetensors')).toBe('kws-w4');
    expect(modelStem('models/kws/kws-w4')).toBe('kws-w4');
  });
});

describe('prepareSweepRun', () => {
  const HEADER =
    "# Written by bmru analyze power --sweep: each unit current's model on each supply's process. Paths are relative to this file.\n";

  it("writes each unit current's model copy and a plan of those models on the given processes", async () => {
    const out = scratchDir('bmru-sweep-files-');
    const net = await loadModel(KWS);
    const files = await prepareSweepRun(net, {
      outDir: out,
      modelStem: 'kws-w4',
      unitCurrentsA: [125e-12, 1e-9],
      processRefs: ['/abs/vdd-0.6V/process.json', 'c180'],
      inputs: '/abs/clip-yes.csv',
      calibrated: true,
      tolerances: DEFAULT_TOLERANCES,
      timeoutS: 600,
      name: 'sweep-test',
    });
    // Names by hand: modelCopyName's `<stem>-<value><prefix>A.json` under models/.
    const copy125 = path.join(out, 'models', 'kws-w4-125pA.json');
    const copy1n = path.join(out, 'models', 'kws-w4-1nA.json');
    expect(files).toEqual({
      plan: path.join(out, 'plan.yaml'),
      models: [
        { file: copy125, unitCurrentA: 125e-12 },
        { file: copy1n, unitCurrentA: 1e-9 },
      ],
    });

    // Each copy is the shipped model with only the unit current and the description changed.
    const shipped = JSON.parse(readFileSync(KWS, 'utf8'));
    for (const [file, unitA, shown] of [
      [copy125, 125e-12, '125 pA'],
      [copy1n, 1e-9, '1 nA'],
    ] as const) {
      const m = JSON.parse(readFileSync(file, 'utf8'));
      expect(m.unitCurrentA).toBe(unitA);
      expect(m.description).toBe(`bmru analyze power --sweep: kws-w4 at I_unit ${shown}`);
      expect({ ...m, unitCurrentA: 0, description: '' }).toEqual({ ...shipped, unitCurrentA: 0, description: '' });
    }

    const text = readFileSync(files.plan, 'utf8');
    expect(text.startsWith(HEADER)).toBe(true);
    // toStrictEqual on the parsed plan: no kit, maxTransistors or reference key when none is given.
    expect(parse(text)).toStrictEqual({
      name: 'sweep-test',
      processes: ['/abs/vdd-0.6V/process.json', 'c180'],
      calibrated: true,
      models: ['models/kws-w4-125pA.json', 'models/kws-w4-1nA.json'],
      inputs: ['/abs/clip-yes.csv'],
      tolerances: JSON.parse(JSON.stringify(DEFAULT_TOLERANCES)),
      timeoutS: 600,
      out: '.',
    });
  });

  it('writes kit, maxTransistors and reference into the plan when given', async () => {
    const out = scratchDir('bmru-sweep-files-');
    const net = await loadModel(KWS);
    const files = await prepareSweepRun(net, {
      outDir: out,
      modelStem: 'm',
      unitCurrentsA: [250e-12],
      processRefs: ['gf180mcu'],
      inputs: '/abs/clip.csv',
      kit: '/abs/kit',
      calibrated: false,
      tolerances: DEFAULT_TOLERANCES,
      timeoutS: 30,
      maxTransistors: 5000,
      reference: 'hwaware',
      name: 'n',
    });
    expect(files.models).toEqual([{ file: path.join(out, 'models', 'm-250pA.json'), unitCurrentA: 250e-12 }]);
    expect(parse(readFileSync(files.plan, 'utf8'))).toStrictEqual({
      name: 'n',
      processes: ['gf180mcu'],
      kit: '/abs/kit',
      calibrated: false,
      models: ['models/m-250pA.json'],
      inputs: ['/abs/clip.csv'],
      tolerances: JSON.parse(JSON.stringify(DEFAULT_TOLERANCES)),
      timeoutS: 30,
      maxTransistors: 5000,
      reference: 'hwaware',
      out: '.',
    });
  });
});

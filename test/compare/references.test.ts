import { describe, expect, it } from 'vitest';
import {
  betterReferences,
  networkReference,
  checkHwawareFits,
  defaultReference,
  referenceFigures,
  type ReferenceTable,
} from '../../src/compare/references.js';
import { compareRun, type CircuitFrames } from '../../src/compare/index.js';
import { cosimulate, referenceTable } from '../../src/pipeline.js';
import { loadProcess } from '../../src/netlist/process.js';
import { loadCalibration } from '../../src/netlist/calibration.js';
import { resolveProcessPath } from '../../src/util/paths.js';
import { runNetwork } from '../../src/model/index.js';
import type { Network } from '../../src/model/types.js';
import { tableHwaware } from '../../src/analysis/hwmodel.js';

const lin = (rows: number, cols: number, w: number[], b: number[]) => ({
  weight: { rows, cols, data: Float64Array.from(w) },
  bias: Float64Array.from(b),
});

/**
 * One cell fed c = w x + b. With w = 0.005 (below half the smallest c180 copy, so the circuit leaves it out) the
 * trained candidate at x = 80 is 0.6 (ON, beta_hi 0.5) and the realised one 0.2 (OFF, beta_lo 0.3).
 */
function tiny(w = 0.005, unitCurrentA = 1e-9): Network {
  return {
    arch: 'fq-bmru',
    inputs: 1,
    width: 1,
    cells: 1,
    classes: 2,
    skip: false,
    unitCurrentA,
    frameS: 0.01,
    cellParams: 'realised',
    pre: lin(1, 1, [w], [0]),
    blocks: [
      {
        cand: lin(1, 1, [1], [0.2]),
        cell: {
          alpha: Float64Array.of(1),
          beta1: Float64Array.of(0.3),
          delta: Float64Array.of(0.2),
          s0: Float64Array.of(0),
        },
        post: lin(1, 1, [1], [0]),
      },
    ],
    out: lin(2, 1, [0, 1], [0.5, 0]),
  };
}
const clip = { frames: 6, features: 1, data: Float64Array.of(0, 80, 80, 0, 80, 80) };

/** Circuit frames that reproduce a trace exactly. */
function circuitOf(net: Network): CircuitFrames {
  const tr = runNetwork(net, clip);
  return {
    frames: tr.frames,
    candidates: tr.candidates,
    candidateMax: tr.candidates,
    candidateMin: tr.candidates,
    stateCurrents: tr.states.map((s) => Float64Array.from(s)),
    states: tr.states,
    logits: tr.logits,
    switchDelaysS: [[[]]],
    supplyMeanA: {},
  };
}

describe('references', () => {
  it('defaults to the realised model, and to a hardware-aware model only where the toolkit builds one for the process', () => {
    expect(defaultReference()).toBe('realised');
    expect(defaultReference('file')).toBe('realised');
    expect(defaultReference('process')).toBe('hwaware');
  });

  it("names the references that predict the circuit better than the verdict's, best first", () => {
    const f = (stateAgreement: number) => ({
      stateAgreement,
      voteAgreement: 1,
      decisionMatch: true,
      softwareDecision: 0,
      circuitDecision: 0,
      disagreements: 0,
      freshDisagreements: 0,
    });
    // The user's case: circuit vs trained 98.64%, vs realised 98.06%.
    const t: ReferenceTable = { trained: f(0.9864), realised: f(0.9806) };
    expect(betterReferences(t, 'realised')).toEqual(['trained']);
    expect(betterReferences(t, 'trained')).toEqual([]);
    expect(betterReferences({ ...t, hwaware: f(0.995) }, 'realised')).toEqual(['hwaware', 'trained']);
  });

  it('sums a comparison up per reference', () => {
    const trained = tiny();
    const realised = tiny(0);
    const c = compareRun(trained, runNetwork(trained, clip), circuitOf(realised), clip);
    expect(referenceFigures(c)).toEqual({
      stateAgreement: 2 / 6,
      voteAgreement: 2 / 6,
      decisionMatch: false,
      softwareDecision: 1,
      circuitDecision: 0,
      disagreements: 4,
      freshDisagreements: 4,
    });
  });

  it('accepts a hardware-aware model of the same network only', () => {
    expect(() => checkHwawareFits(tiny(0), tiny(), 'hw.json')).not.toThrow();
    expect(() => checkHwawareFits(tiny(0, 2.5e-10), tiny(), 'hw.json')).toThrow(
      /hw\.json 'unitCurrentA': is not a hardware-aware model of this network: unitCurrentA is 2.5e-10, the model has 1e-9/,
    );
    expect(() => checkHwawareFits({ ...tiny(), classes: 3 }, tiny(), 'hw.json')).toThrow(/'classes'/);
  });
});

describe('cosimulate against every reference (ngspice, 6 frames, < 1 s)', async () => {
  const process = await loadProcess(resolveProcessPath('c180'));
  const calibration = await loadCalibration(process.dir);
  const net = tiny();

  it('scores the circuit against the trained and the realised model and judges the realised one', async () => {
    const r = await cosimulate(net, clip, { process, calibration, run: { name: 'refs-test', timeoutMs: 60_000 } });
    expect(r.reference).toBe('realised');
    expect(Object.keys(r.references)).toEqual(['trained', 'realised']);
    expect(r.comparison).toBe(r.references.realised!.comparison);
    expect(r.software).toBe(r.references.realised!.software);
    const t = referenceTable(r);
    expect(t.realised).toMatchObject({ stateAgreement: 1, decisionMatch: true });
    expect(t.trained).toMatchObject({ stateAgreement: 2 / 6, decisionMatch: false });
    expect(r.verdict.pass).toBe(true);
    const asTrained = await cosimulate(net, clip, {
      process,
      calibration,
      reference: 'trained',
      run: { name: 'refs-test', timeoutMs: 60_000 },
    });
    expect(asTrained.comparison.stateAgreement).toBe(2 / 6);
    expect(asTrained.verdict.pass).toBe(false);
  });

  it('makes a per-process hardware-aware model the default reference, and refuses hwaware when there is none', async () => {
    const seen: string[] = [];
    const build = (n: Network, c: { process: { name: string } }) => {
      seen.push(c.process.name);
      return networkReference({ ...n, pre: lin(1, 1, [0], [0]) });
    };
    const r = await cosimulate(net, clip, {
      process,
      calibration,
      hwaware: { origin: 'process', build, source: 'test builder' },
      run: { name: 'refs-test', timeoutMs: 60_000 },
    });
    expect(seen).toEqual(['c180']);
    expect(r.reference).toBe('hwaware');
    expect(Object.keys(r.references)).toEqual(['trained', 'realised', 'hwaware']);
    expect(r.comparison.stateAgreement).toBe(1);
    const none = { origin: 'process' as const, build: () => undefined, source: 'test builder' };
    const fallback = await cosimulate(net, clip, {
      process,
      calibration,
      hwaware: none,
      run: { name: 'refs-test', timeoutMs: 60_000 },
    });
    expect(fallback.reference).toBe('realised');
    await expect(cosimulate(net, clip, { process, calibration, hwaware: none, reference: 'hwaware' })).rejects.toThrow(
      /test builder give none for process c180 \(measure them: bmru calibrate -p c180/,
    );
    await expect(cosimulate(net, clip, { process, calibration, reference: 'hwaware' })).rejects.toThrow(
      /needs a hardware-aware model/,
    );
  });

  it("scores the process's table-built hardware-aware model by default where the calibration has hardware tables", async () => {
    const hwaware = { origin: 'process' as const, build: tableHwaware, source: 'tables' };
    const r = await cosimulate(net, clip, {
      process,
      calibration,
      hwaware,
      run: { name: 'refs-test', timeoutMs: 60_000 },
    });
    expect(r.reference).toBe('hwaware');
    // The hardware-aware model reads the realised thresholds, and on this clip predicts the circuit as well as they do.
    expect(r.references.hwaware!.net).toEqual(r.references.realised!.net);
    expect(referenceTable(r).hwaware).toMatchObject({ stateAgreement: 1, decisionMatch: true });
    const bare = { ...calibration!, hardware: undefined };
    const without = await cosimulate(net, clip, {
      process,
      calibration: bare,
      hwaware,
      run: { name: 'refs-test', timeoutMs: 60_000 },
    });
    expect(without.reference).toBe('realised');
  });
});

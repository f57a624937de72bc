import { describe, expect, it } from 'vitest';
import {
  betterReferences,
  checkHwawareFits,
  defaultReference,
  referenceFigures,
  type ReferenceTable,
} from '../../src/compare/references.js';
import { compareRun, type CircuitFrames } from '../../src/compare/index.js';
import { runNetwork } from '../../src/model/index.js';
import type { Network } from '../../src/model/types.js';
import { clip, tiny } from './references-net.js';

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

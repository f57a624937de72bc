import { describe, expect, it } from 'vitest';
import {
  betterReferences,
  checkHwawareFits,
  defaultReference,
  referenceFigures,
  type ReferenceTable,
} from '../../src/compare/references.js';
import { InputError } from '../../src/errors.js';
import { compareRun, type CircuitFrames } from '../../src/compare/index.js';
import { runNetwork } from '../../src/model/index.js';
import type { Network } from '../../src/model/types.js';
import { clip, tiny } from './references-net.js';

/** Circuit frames that reproduce a trace exactly. */
function circuitOf(net: Network, c = clip): CircuitFrames {
  const tr = runNetwork(net, c);
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
    // Better is strictly higher: a reference that ties the verdict's is not named.
    expect(betterReferences({ trained: f(0.98), realised: f(0.98) }, 'realised')).toEqual([]);
    expect(betterReferences({ trained: f(0.98), realised: f(0.98), hwaware: f(0.99) }, 'trained')).toEqual(['hwaware']);
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

  it('counts a run of a wrong state once, where it started, as the fresh disagreements', () => {
    // x = 0, 80, 30, 30: trained candidates 0.2 (OFF), 0.6 (ON), 0.35, 0.35 (in the band [0.3, 0.5): held ON);
    // the realised circuit stays OFF. Frames 1-3 disagree; frames 2 and 3 carry frame 1's wrong state.
    const held = { frames: 4, features: 1, data: Float64Array.of(0, 80, 30, 30) };
    const trained = tiny();
    const c = compareRun(trained, runNetwork(trained, held), circuitOf(tiny(0), held), held);
    expect(referenceFigures(c)).toEqual({
      stateAgreement: 1 / 4,
      voteAgreement: 1 / 4,
      decisionMatch: false,
      softwareDecision: 1,
      circuitDecision: 0,
      disagreements: 3,
      freshDisagreements: 1,
    });
  });

  it('accepts a hardware-aware model of the same network only', () => {
    expect(() => checkHwawareFits(tiny(0), tiny(), 'hw.json')).not.toThrow();
    expect(() => checkHwawareFits(tiny(0, 2.5e-10), tiny(), 'hw.json')).toThrow(
      /hw\.json 'unitCurrentA': is not a hardware-aware model of this network: unitCurrentA is 2.5e-10, the model has 1e-9/,
    );
    expect(() => checkHwawareFits({ ...tiny(), classes: 3 }, tiny(), 'hw.json')).toThrow(/'classes'/);
    // Each shape field is named, with both values.
    const net = tiny();
    const cases: [string, Network, string][] = [
      ['inputs', { ...net, inputs: 2 }, 'inputs is 2, the model has 1'],
      ['width', { ...net, width: 3 }, 'width is 3, the model has 1'],
      ['cells', { ...net, cells: 4 }, 'cells is 4, the model has 1'],
      ['blocks', { ...net, blocks: [...net.blocks, ...net.blocks] }, 'blocks is 2, the model has 1'],
      ['skip', { ...net, skip: true }, 'skip is true, the model has false'],
    ];
    for (const [field, hw, says] of cases) {
      let err: unknown;
      try {
        checkHwawareFits(hw, net, 'hw.json');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InputError);
      expect((err as InputError).field).toBe(field);
      expect((err as InputError).message).toContain(`'${field}'`);
      expect((err as InputError).message).toContain(says);
    }
  });
});

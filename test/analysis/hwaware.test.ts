import { describe, expect, it } from 'vitest';
import { applyCorrections, fitCorrections, modelFit, type CellCorrection } from '../../src/analysis/hwaware.js';
import { runNetwork } from '../../src/model/network.js';
import { randomInputs, randomNetwork } from '../../src/model/random.js';
import { cellThresholds } from '../../src/model/types.js';

// A "circuit" that is the model with known per-cell non-idealities: fitting must recover them, and the corrected
// model must then predict that circuit exactly.
describe('hardware-aware corrections', () => {
  const net = randomNetwork({ inputs: 13, width: 4, blocks: 2, classes: 2, seed: 21 });
  const x = randomInputs(200, 13, 21);
  const known: CellCorrection[] = net.blocks.flatMap((b, k) =>
    Array.from({ length: net.cells }, (_, j) => ({
      block: k,
      unit: j,
      candidateGain: 1 + 0.03 * (j + 1),
      candidateOffset: 0.01 * (k + 1),
      onLevel: cellThresholds(b.cell).alpha[j] * 0.95 + 0.02,
      offLeak: 0.02,
    })),
  );
  const truth = applyCorrections(net, known);
  /** The circuit's trace: run inside each test, so that mutation testing sees which tests cover the model. */
  const knownCircuit = () => {
    const tr = runNetwork(truth, x);
    return {
      frames: tr.frames,
      candidates: tr.candidates,
      states: tr.states,
      logits: tr.logits,
      stateCurrents: truth.blocks.map((b, k) =>
        Float64Array.from(tr.states[k], (s, i) => 0.02 + b.cell.alpha[i % net.cells] * s),
      ),
    };
  };

  it('recovers candidate gain and offset, ON level and OFF leakage per cell', () => {
    const circuit = knownCircuit();
    const fitted = fitCorrections(net, x, circuit);
    for (const [i, f] of fitted.entries()) {
      expect(f.candidateGain).toBeCloseTo(known[i].candidateGain, 6);
      expect(f.candidateOffset).toBeCloseTo(known[i].candidateOffset, 6);
      expect(f.onLevel).toBeCloseTo(known[i].onLevel, 9);
      expect(f.offLeak).toBeCloseTo(0.02, 9);
    }
  });

  it('the corrected model predicts that circuit far better than the plain one', () => {
    const circuit = knownCircuit();
    const fitted = fitCorrections(net, x, circuit);
    const aware = applyCorrections(net, fitted);
    const before = modelFit(net, runNetwork(net, x), circuit);
    const after = modelFit(aware, runNetwork(aware, x), circuit, fitted);
    expect(before.candidateMAE).toBeGreaterThan(0.01);
    expect(after.candidateMAE).toBeLessThan(1e-6);
    expect(after.stateCurrentMAE).toBeLessThan(1e-6);
    expect(after.stateAgreement).toBe(1);
    expect(after.stateAgreement).toBeGreaterThanOrEqual(before.stateAgreement);
  });
});

import { describe, expect, it } from 'vitest';
import {
  majority,
  randomInputs,
  randomNetwork,
  runNetwork,
  runNetworkScan,
  scanStates,
} from '../../src/model/index.js';

describe('software model', () => {
  it('frame loop and associative scan agree exactly on random networks of many shapes', () => {
    for (let seed = 1; seed <= 25; seed++) {
      const net = randomNetwork({
        inputs: 1 + (seed % 5),
        width: 2 + (seed % 7),
        cells: 1 + (seed % 4),
        blocks: seed % 4,
        classes: 2 + (seed % 3),
        skip: seed % 2 === 0,
        seed,
      });
      const x = randomInputs(3 + seed * 7, net.inputs, seed + 1000);
      const a = runNetwork(net, x);
      const b = runNetworkScan(net, x);
      expect(b.states).toEqual(a.states);
      expect(b.candidates).toEqual(a.candidates);
      expect(b.logits).toEqual(a.logits);
      expect(b.decision).toBe(a.decision);
    }
  });

  it('scan holds inside the band, switches on at beta_hi, off below beta_lo', () => {
    const cand = Float64Array.from([0.5, 0.3, 0.2, 0.1, 0.3, 0.6, 0.29]);
    const out = new Uint8Array(cand.length);
    scanStates(cand, Float64Array.of(0.2), Float64Array.of(0.5), Uint8Array.of(0), cand.length, 1, out);
    expect(Array.from(out)).toEqual([1, 1, 1, 0, 0, 1, 1]);
  });

  it('a tied majority vote goes to the lowest class', () => {
    expect(majority([1, 0, 1, 0], 2)).toBe(0);
    expect(majority([2, 2, 1], 3)).toBe(2);
  });

  it('rejects inputs with the wrong feature count', () => {
    const net = randomNetwork({ inputs: 3, width: 2, blocks: 1, classes: 2, seed: 1 });
    expect(() => runNetwork(net, randomInputs(4, 2, 1))).toThrow(/2 features.*expects 3/);
  });
});

import { describe, expect, it } from 'vitest';
import {
  majority,
  randomInputs,
  randomNetwork,
  runNetwork,
  runNetworkScan,
  scanStates,
} from '../../src/model/index.js';
import { createRng } from '../../src/util/random.js';

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

  it('scan gives what the per-cell recurrence gives over several 32-cell words, with cells that start ON', () => {
    // 70 cells (three words, the last partly filled), half of them ON at t = 0, candidates around both thresholds.
    const cells = 70;
    const frames = 40;
    const rng = createRng(12345);
    const uniform = () => rng.next();
    const betaLo = Float64Array.from({ length: cells }, () => 0.2 + 0.2 * uniform());
    const betaHi = Float64Array.from(betaLo, (lo) => lo + 0.1 + 0.3 * uniform());
    const s0 = Uint8Array.from({ length: cells }, (_, j) => j % 2);
    const cand = Float64Array.from({ length: frames * cells }, () => uniform());
    // Most frames inside every band, so that the initial states carry far (a scan that loses s0 shows here).
    for (let t = 0; t < frames; t++)
      if (t % 5 !== 4) for (let j = 0; j < cells; j++) cand[t * cells + j] = (betaLo[j] + betaHi[j]) / 2;
    const expected = new Uint8Array(frames * cells);
    for (let j = 0; j < cells; j++) {
      let s = s0[j];
      for (let t = 0; t < frames; t++) {
        const c = cand[t * cells + j];
        s = c >= betaHi[j] ? 1 : c < betaLo[j] ? 0 : s;
        expected[t * cells + j] = s;
      }
    }
    const out = new Uint8Array(frames * cells);
    scanStates(cand, betaLo, betaHi, s0, frames, cells, out);
    expect(Array.from(out)).toEqual(Array.from(expected));
    // The case is not trivial: some cells hold their initial ON state for several frames, some switch.
    expect(expected.slice(3 * cells, 4 * cells).some((s, j) => s === 1 && s0[j] === 1)).toBe(true);
    expect(expected.some((s, i) => s !== s0[i % cells])).toBe(true);
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

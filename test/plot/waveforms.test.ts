import { describe, expect, it } from 'vitest';
import { DECIMATE_TOLERANCE, encodeTrace, waveformPage, type WavePageSpec } from '../../src/plot/waveforms.js';
import { saveVector } from '../../src/netlist/deck.js';
import { InputError } from '../../src/errors.js';

/** The page's decoding of a trace (PAGE_SCRIPT in waveforms.ts). */
function decode(t: ReturnType<typeof encodeTrace>): { tS: number[]; y: number[] } {
  let ns = 0;
  return { tS: t.dtNs.map((d) => (ns += d) * 1e-9), y: t.yq.map((q) => t.lo + t.q * q) };
}

describe('waveform page', () => {
  const frameS = 0.01;
  const tS = Array.from({ length: 3001 }, (_, i) => i * 1e-5); // 3 frames, 10 us steps
  const y = tS.map((t) => 0.9 + 0.9 * Math.tanh((t - 0.015) / 2e-4) + (t === 0.02 ? 0.05 : 0));

  it('sends a circuit trace as fewer points that decode to within the tolerance of the samples kept', () => {
    const enc = encodeTrace({ name: 'v', kind: 'circuit', tS, y }, '#000', frameS, [0, 1.8]);
    const out = decode(enc);
    expect(enc.samples).toBe(3001);
    expect(out.tS.length).toBeLessThan(300);
    expect(out.tS.length).toBeGreaterThan(4);
    const tol = 1.8 * DECIMATE_TOLERANCE;
    // Every decoded point is a sample, within the time and value rounding.
    out.tS.forEach((t, k) => {
      const i = Math.round(t / 1e-5);
      expect(Math.abs(t - tS[i])).toBeLessThan(1e-9);
      expect(Math.abs(out.y[k] - y[i])).toBeLessThanOrEqual(tol / 8 + 1e-12);
    });
    // The one-sample glitch at 20 ms survives.
    expect(Math.max(...out.y.filter((_, k) => Math.abs(out.tS[k] - 0.02) < 1e-7))).toBeCloseTo(1.85, 3);
  });

  it('sends software steps and levels whole', () => {
    const steps = decode(
      encodeTrace({ name: 's', kind: 'software', tS: [0, 0.01, 0.02], y: [1, 0, 1] }, '#000', frameS, [0, 1]),
    );
    expect(steps.y.map((v) => Number(v.toFixed(6)))).toEqual([1, 0, 1]);
    expect(steps.tS).toEqual([0, 0.01, 0.02]);
  });

  it('inlines Vega, the data and one chart element per chart, and refuses duplicate chart ids', () => {
    const chart = {
      id: 'c',
      title: 'node',
      unit: 'V' as const,
      traces: [{ name: 'v', kind: 'circuit' as const, tS, y }],
    };
    const spec: WavePageSpec = {
      title: 'run </script> <b>',
      summary: 'verdict: PASS',
      frameS,
      tStopS: 0.03,
      rows: [{ id: 'r', heading: 'row', charts: [chart] }],
      events: [{ frame: 1, label: 'switch', kind: 'switch', row: 'r' }],
    };
    const { html, samples, points } = waveformPage(spec, '/* vega */');
    expect(html).toContain('<script>/* vega */</script>');
    expect(html).toContain('<div id="chart-c">');
    expect(html).toContain('<title>run &lt;/script&gt; &lt;b&gt;</title>');
    expect(html.match(/<\/script>/g)).toHaveLength(3); // Vega, data, page script: the title cannot close one
    expect(samples).toBe(3001);
    expect(points).toBeLessThan(300);
    expect(() => waveformPage({ ...spec, rows: [{ id: 'r', heading: 'row', charts: [chart, chart] }] }, '')).toThrow(
      /chart id 'c' appears twice/,
    );
  });
});

describe('saveVector', () => {
  it('takes v(node), i(vname) and a bare node, in ngspice lower case', () => {
    expect(saveVector('V(B0C0_in)')).toBe('v(b0c0_in)');
    expect(saveVector(' i(vm_b0c0) ')).toBe('i(vm_b0c0)');
    expect(saveVector('b0c0_v0')).toBe('v(b0c0_v0)');
  });
  it('refuses what could put deck syntax on the .save line', () => {
    for (const bad of ['v(a b)', 'v(a)\n.include x', 'v(a', '', 'a,b', 'v(a) i(b)'])
      expect(() => saveVector(bad), bad).toThrow(InputError);
  });
});

import { describe, expect, it } from 'vitest';
import { tradeoffPage, tradeoffSpec, type TradeoffChart } from '../../src/plot/pareto.js';

const chart = (points: TradeoffChart['points']): TradeoffChart => ({
  title: 'Core power vs state agreement',
  x: { label: 'core power (W)' },
  y: { label: 'state agreement', format: '.1%' },
  groupTitle: 'VDD',
  seriesTitle: 'I_unit',
  groups: ['0.6 V', '0.9 V'],
  series: ['250 pA', '1 nA'],
  points,
});

const point = (x: number, y: number, pareto: boolean, group = '0.9 V') => ({
  x,
  y,
  group,
  series: '250 pA',
  pareto,
  label: `${group}, 250 pA`,
  details: { VDD: group, core: `${x * 1e9} nW` },
});

describe('tradeoffSpec', () => {
  it('joins and labels only the Pareto points, colours by group in the given order, log x', () => {
    const spec = tradeoffSpec(
      chart([point(3e-8, 0.99, true), point(2e-8, 0.97, true, '0.6 V'), point(5e-8, 0.98, false)]),
    ) as {
      data: { values: { pareto: boolean; VDD: string }[] };
      encoding: { x: { scale: { type: string } } };
      layer: {
        transform?: unknown[];
        mark: { type: string };
        encoding?: Record<string, { scale?: { domain: string[] } }>;
      }[];
    };
    expect(spec.encoding.x.scale.type).toBe('log');
    expect(spec.data.values.map((r) => r.pareto)).toEqual([true, true, false]);
    expect(spec.data.values[0].VDD).toBe('0.9 V'); // details go along for the tooltip
    const byMark = spec.layer.map((l) => [l.mark.type, l.transform !== undefined]);
    expect(byMark).toEqual([
      ['line', true],
      ['point', false],
      ['point', true],
      ['text', true],
    ]);
    expect(spec.layer[1].encoding!.color.scale!.domain).toEqual(['0.6 V', '0.9 V']);
  });

  it('refuses a point the log axis cannot show, naming it', () => {
    expect(() => tradeoffSpec(chart([point(0, 0.9, true)]))).toThrow(/point 0 \(0.9 V, 250 pA\)/);
    expect(() => tradeoffSpec(chart([point(1e-9, Number.NaN, true)]))).toThrow(RangeError);
  });
});

describe('tradeoffPage', () => {
  it('inlines the runtime and the compiled Vega spec, and no label can close a script element', async () => {
    const evil = { ...point(1e-8, 0.9, true), label: '</script><b>x' };
    const html = await tradeoffPage({ title: 'sweep', summary: 'a < b', chart: chart([evil]) }, '/* vega */');
    expect(html).toContain('<script>/* vega */</script>');
    const json = /<script type="application\/json" id="bmru-spec">(.*?)<\/script>/s.exec(html)![1];
    expect(json).not.toMatch(/<\/script/i);
    const spec = JSON.parse(json) as { $schema: string; data: { name: string; values?: { label: string }[] }[] };
    expect(spec.$schema).toMatch(/vega\/v\d/); // compiled: Vega, not Vega-Lite
    expect(spec.data.flatMap((d) => d.values ?? []).map((v) => v.label)).toContain('</script><b>x');
    expect(html).toContain('<pre>a &lt; b</pre>');
  });
});

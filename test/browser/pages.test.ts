import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './chromium.js';
import { kwsSummary, type KwsRow } from '../../src/analysis/kws.js';
import type { CornerResult } from '../../src/analysis/corners.js';
import type { NoiseStudyRow } from '../../src/analysis/noise-study.js';
import type { ScalingPoint } from '../../src/analysis/scaling.js';
import { kwsHtml, kwsWaveformsHtml } from '../../src/cli/commands/kws.js';
import { cornersHtml } from '../../src/cli/commands/analyze/corners.js';
import { montecarloHtml } from '../../src/cli/commands/analyze/montecarlo.js';
import { noiseHtml } from '../../src/cli/commands/analyze/noise.js';
import { powerHtml } from '../../src/cli/commands/analyze/power.js';
import { writeReportPage, type GroupRow } from '../../src/jobs/report.js';
import type { Job } from '../../src/jobs/plan.js';
import type { ResultRecord } from '../../src/jobs/store.js';
import { DOMAINS } from '../../src/netlist/supplies.js';
import type { CosimResult } from '../../src/pipeline.js';
import type { RawPlot } from '../../src/spice/rawfile.js';

/**
 * Every HTML page the commands write that the other browser tests do not open (kws.html, waveforms.html, the batch
 * report.html, montecarlo.html, power.html, corners.html, noise.html), built from made-up results by the functions
 * the commands call, and opened in Chromium (gated in vitest.config.ts): no console error, page error or fetch,
 * every chart drawn, and what each chart draws counted against the data given here. No ngspice.
 */

let browser: Browser;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'bmru-pages-'));
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await rm(dir, { recursive: true, force: true });
});

/** One chart of an htmlPage as the browser laid it out: its title and each drawn mark (Vega's SVG). */
interface Chart {
  readonly title: string;
  readonly marks: readonly {
    /** Vega's mark class: mark-line, mark-symbol, mark-rect. */
    readonly kind: string;
    /** Vega's aria-label: the item's fields, e.g. `x: 3; y: 0.9; series: circuit; i: 0`. */
    readonly label: string;
    /** The path has a shape that takes room on the page. */
    readonly drawn: boolean;
  }[];
}

interface Opened {
  readonly page: Page;
  /** Console errors and warnings, page errors, and every request that is not for a file. */
  readonly problems: string[];
}

/** Opens `html` (written to `name` in the test folder) and records what must not happen while it loads. */
async function open(name: string, html: string): Promise<Opened> {
  const file = path.join(dir, name);
  await writeFile(file, html);
  return openFile(file);
}

async function openFile(file: string): Promise<Opened> {
  const page = await browser.newPage({ viewport: { width: 1150, height: 900 } });
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('request', (r) => {
    if (!r.url().startsWith('file://')) problems.push(`fetched ${r.url()}`);
  });
  await page.goto(`file://${file}`, { waitUntil: 'load' });
  return { page, problems };
}

/** The page's charts (svg in a figure), each with its marks; a chart without a drawn mark fails here. */
async function charts(page: Page): Promise<Chart[]> {
  // A string runs in the page (the tests compile without the DOM's types).
  const found = (await page.evaluate(`[...document.querySelectorAll('figure > svg')].map((svg) => ({
    title: [...svg.querySelectorAll('.role-title-text text')].map((t) => t.textContent).join(' '),
    marks: [...svg.querySelectorAll('.role-mark path')].map((p) => {
      const box = p.getBoundingClientRect();
      return {
        kind: p.closest('.role-mark').classList[0],
        label: p.getAttribute('aria-label') ?? '',
        drawn: (p.getAttribute('d') ?? '').length > 0 && box.width + box.height > 0,
      };
    }),
  }))`)) as Chart[];
  for (const c of found)
    expect(c.marks.filter((m) => m.drawn).length, `marks drawn in "${c.title}"`).toBeGreaterThan(0);
  return found;
}

const ofKind = (c: Chart, kind: string) => c.marks.filter((m) => m.kind === kind);
/** A field of a mark's aria-label by name (`count`, `series`: x and y are named by their axis titles). */
const field = (label: string, name: string) => label.match(new RegExp(`(?:^|; )${name}: ([^;]*)`))?.[1];
/** A point's x and y: the aria-label's first two fields. */
const xy = (label: string) =>
  label
    .split('; ')
    .slice(0, 2)
    .map((f) => Number(f.slice(f.indexOf(': ') + 2)));
/** The histogram's counts added up: every value given lands in one bin. */
const histogramTotal = (c: Chart) => ofKind(c, 'mark-rect').reduce((s, m) => s + Number(field(m.label, 'count')), 0);
const seriesOf = (c: Chart, kind: string) => [...new Set(ofKind(c, kind).map((m) => field(m.label, 'series')))];

/** What every page must show: no console error, page error or fetch. */
async function settle(o: Opened): Promise<void> {
  expect(o.problems).toEqual([]);
  await o.page.close();
}

describe('montecarlo.html in Chromium', () => {
  it('draws one histogram of the circuit samples and one of the software draws, each counting all of them', async () => {
    const samples = [0.9, 0.95, 0.97, 0.99, 1].map((stateAgreement, i) => ({ stateAgreement, decisionFlip: i < 2 }));
    const software = [0.8, 0.85, 0.9, 0.92, 0.95, 0.99, 1].map((stateAgreement) => ({ stateAgreement }));
    const o = await open('montecarlo.html', await montecarloHtml('mc', samples, software));
    const [circuit, sw, ...rest] = await charts(o.page);
    expect(rest).toEqual([]);
    expect(histogramTotal(circuit)).toBe(5);
    expect(histogramTotal(sw)).toBe(7);
    expect(await o.page.locator('figcaption').first().textContent()).toBe('decision flips: 2/5');
    await settle(o);
  });
});

describe('power.html in Chromium', () => {
  /** Per-frame power of each domain: 6 frames, the input domain idle (0 W) in frame 2. */
  const perFrame = DOMAINS.map(
    (d, k) => [d, [1, 2, 3, 4, 5, 6].map((t) => (d === 'in' && t === 3 ? 0 : t * 10 ** -(k + 8)))] as const,
  );
  const power = { coreW: 3e-8, totalW: 4e-8 };

  it('draws one step line per supply domain', async () => {
    const o = await open('power.html', await powerHtml('power', perFrame, power, undefined));
    const [frames, ...rest] = await charts(o.page);
    expect(rest).toEqual([]);
    expect(ofKind(frames, 'mark-line')).toHaveLength(DOMAINS.length);
    expect(ofKind(frames, 'mark-line').every((m) => m.drawn)).toBe(true);
    await settle(o);
  });

  it('with --scaling, also each domain and the core against width: a point per width, a dashed fit each', async () => {
    const widths = [4, 8, 16];
    // P = a_d N^2 exactly, so every fit is defined; the core is cell + ff + bias.
    const a = { cell: 1e-9, ff: 2e-9, bias: 3e-10, in: 5e-11 };
    const points = widths.map((width) => {
      const domains = DOMAINS.map((domain) => ({ domain, meanW: a[domain] * width ** 2 }));
      return {
        width,
        weights: width * width,
        power: { domains, coreW: (a.cell + a.ff + a.bias) * width ** 2 },
      } as unknown as ScalingPoint;
    });
    const o = await open('power-scaling.html', await powerHtml('power', perFrame, power, points));
    const [, scaling, ...rest] = await charts(o.page);
    expect(rest).toEqual([]);
    const series = [...DOMAINS, 'core'];
    expect(ofKind(scaling, 'mark-symbol')).toHaveLength(series.length * widths.length);
    expect(seriesOf(scaling, 'mark-symbol').sort()).toEqual([...series].sort());
    expect(ofKind(scaling, 'mark-line')).toHaveLength(series.length);
    await settle(o);
  });
});

describe('corners.html in Chromium', () => {
  it('draws a point per PVT point that ran, at its index, and none for the failed one', async () => {
    const result = (corner: string, stateAgreement: number, error?: string) =>
      ({ corner, vddScale: 1, temperatureC: 27, stateAgreement, error }) as unknown as CornerResult;
    const results = [result('tt', 0.99), result('ff', 0.97), result('ss', 0, 'ngspice failed'), result('fs', 0.95)];
    const o = await open('corners.html', await cornersHtml('corners', results));
    const [chart, ...rest] = await charts(o.page);
    expect(rest).toEqual([]);
    const points = ofKind(chart, 'mark-symbol').map((m) => xy(m.label));
    expect(points.sort((p, q) => p[0] - q[0])).toEqual([
      [0, 0.99],
      [1, 0.97],
      [3, 0.95],
    ]);
    await settle(o);
  });
});

describe('noise.html in Chromium', () => {
  it('draws suppression per block and level (unbounded ratios left out) and discrepancy over depth at the depth level', async () => {
    const row = (
      study: NoiseStudyRow['study'],
      source: 'software' | 'circuit',
      level: number,
      block: number,
      ratioStable: number,
      stateMAE = 0.01,
    ) => ({ study, source, level, b: { block, ratioStable, stateMAE } }) as unknown as NoiseStudyRow;
    const rows = [
      ...[0.05, 0.1, 0.2].flatMap((level) => [
        row('example', 'software', level, 0, 5 / level),
        row('example', 'software', level, 1, 4 / level),
      ]),
      row('example', 'circuit', 0.1, 0, 30),
      row('example', 'circuit', 0.2, 0, Infinity), // the output was exact: no point
      row('depth 2', 'software', 0.1, 0, 10, 0.01),
      row('depth 2', 'software', 0.1, 1, 10, 0.012),
      row('depth 2', 'software', 0.05, 0, 10, 0.005), // another level: not in the depth chart
      ...[0, 1, 2].map((block) => row('depth 3', 'software', 0.1, block, 10, 0.01)),
      ...[0, 1, 2].map((block) => row('depth 3', 'circuit', 0.1, block, 10, 0.02)),
    ];
    const o = await open('noise.html', await noiseHtml('noise', rows, 0.1, 3));
    const [ratio, depth, ...rest] = await charts(o.page);
    expect(rest).toEqual([]);
    // Software as lines (one per block), the circuit as points: one, its 0.2 ratio being unbounded.
    expect(ofKind(ratio, 'mark-line')).toHaveLength(2);
    expect(ofKind(ratio, 'mark-symbol').map((m) => xy(m.label))).toEqual([[0.1, 30]]);
    // One line per source and study at the 10% level: software depth 2, software depth 3, circuit depth 3.
    expect(ofKind(depth, 'mark-line')).toHaveLength(3);
    await settle(o);
  });
});

describe('batch report.html in Chromium', () => {
  it('draws the ok jobs in the histogram and two points per group with results', async () => {
    const ok = (stateAgreement: number) =>
      ({ status: 'ok', cosim: { comparison: { stateAgreement } } }) as unknown as ResultRecord;
    const jobs = ['a', 'b', 'c', 'd'].map((id) => ({ id }) as unknown as Job);
    const records = new Map<string, ResultRecord>([
      ['a', ok(0.9)],
      ['b', ok(0.95)],
      ['c', ok(1)],
      ['d', { status: 'failed' } as unknown as ResultRecord],
    ]);
    const group = (model: string, stateAgreementMean: number | null, decisionMatchRate: number | null) =>
      ({
        model,
        process: 'c180',
        corner: 'tt',
        condition: '-',
        stateAgreementMean,
        decisionMatchRate,
      }) as unknown as GroupRow;
    // The third group has no ok job (pending): no point.
    const rows = [group('m1.json', 0.925, 0.5), group('m2.json', 1, 1), group('m3.json', null, null)];
    const file = path.join(dir, 'report.html');
    expect(await writeReportPage(file, 'made-up', rows, jobs, records)).toBe(true);
    const o = await openFile(file);
    const [perJob, perGroup, ...rest] = await charts(o.page);
    expect(rest).toEqual([]);
    expect(histogramTotal(perJob)).toBe(3);
    const points = ofKind(perGroup, 'mark-symbol').map((m) => `${field(m.label, 'series')} ${xy(m.label).join(' ')}`);
    expect(points.sort()).toEqual(
      [
        'state agreement (mean) 0 0.925',
        'state agreement (mean) 1 1',
        'decision match rate 0 0.5',
        'decision match rate 1 1',
      ].sort(),
    );
    expect(await readFile(file, 'utf8')).not.toContain('m3.json');
    await settle(o);
  });
});

/** A made-up run of one block of two cells over four 10 ms frames, two classes: what the kws pages read of it. */
const T = 4;
const S = 2;
const FRAME_S = 0.01;
const VDD_V = 0.9;
const UNIT_A = 1e-9;
/** Per frame, logits of (other, yes): the software's margin 1, -1, 2, 3; the circuit's 0.5 lower. */
const SOFTWARE_LOGITS = [0, 1, 1, 0, 0, 2, 0, 3];
const CIRCUIT_LOGITS = SOFTWARE_LOGITS.map((l, i) => (i % 2 === 1 ? l - 0.5 : l));
/** States per frame (cell 0, cell 1): the circuit's cell 1 stays off in frame 2, where the model's turns on. */
const SOFTWARE_STATES = [0, 0, 1, 0, 1, 1, 1, 1];
const CIRCUIT_STATES = [0, 0, 1, 0, 1, 0, 1, 1];
const SUPPLY_PROBE = (d: string) => `vdd_${d}#branch`;

/** A transient plot sampled every 1 ms: each cell node and candidate, each supply's branch current. */
function rawPlot(): RawPlot {
  const n = Math.round((T * FRAME_S) / 1e-3) + 1;
  const time = Float64Array.from({ length: n }, (_, i) => i * 1e-3);
  const frameOf = (t: number) => Math.min(T - 1, Math.floor(t / FRAME_S));
  const vectors: [string, string, Float64Array][] = [['time', 'time', time]];
  for (let j = 0; j < S; j++) {
    vectors.push([`s${j}`, 'voltage', time.map((t) => CIRCUIT_STATES[frameOf(t) * S + j] * VDD_V)]);
    vectors.push([`vm_c${j}#branch`, 'current', time.map((t) => (0.2 + 0.1 * frameOf(t) + 0.05 * j) * UNIT_A)]);
  }
  for (const d of DOMAINS) vectors.push([SUPPLY_PROBE(d), 'current', time.map((t) => -(1 + Math.sin(t * 300)) * 1e-8)]);
  return {
    title: 'made up',
    date: '',
    plotname: 'Transient Analysis',
    complex: false,
    vectors: vectors.map(([name, type]) => ({ name, type })),
    numPoints: n,
    real: vectors.map(([, , y]) => y),
  };
}

/** The fields of a CosimResult that kws.html and waveforms.html read, for the run above. */
function madeUpRun(): CosimResult {
  return {
    reference: 'realised',
    generated: {
      tStopS: T * FRAME_S,
      realised: {
        frameS: FRAME_S,
        unitCurrentA: UNIT_A,
        cells: S,
        blocks: [{ cell: { alpha: [1, 1], beta1: [0.3, 0.3], delta: [0.2, 0.2], s0: [0, 0] } }],
      },
      probes: {
        cellNodes: [['s0', 's1']],
        candidates: [['vm_c0#branch', 'vm_c1#branch']],
        supplies: Object.fromEntries(DOMAINS.map((d) => [d, SUPPLY_PROBE(d)])),
      },
    },
    software: {
      frames: T,
      logits: Float64Array.from(SOFTWARE_LOGITS),
      states: [Uint8Array.from(SOFTWARE_STATES)],
      candidates: [Float64Array.from({ length: T * S }, (_, i) => 0.2 + 0.1 * Math.floor(i / S))],
    },
    circuit: {
      frames: T,
      logits: Float64Array.from(CIRCUIT_LOGITS),
      states: [Uint8Array.from(CIRCUIT_STATES)],
      supplyMeanA: Object.fromEntries(DOMAINS.map((d) => [d, 1e-8])),
    },
    comparison: {
      softwareDecision: 1,
      circuitDecision: 1,
      stateAgreement: 7 / 8,
      disagreements: [{ frame: 2, block: 0, unit: 1, software: 1, circuit: 0, relMargin: 0.05 }],
    },
    run: { plots: [rawPlot()] },
  } as unknown as CosimResult;
}

describe('kws.html in Chromium', () => {
  it("draws the shown clip's margin and states over time, the per-clip histograms, and both confusion tables", async () => {
    const clip = (index: number, label: string) => ({
      index,
      name: `c${index}`,
      file: `${label}/c${index}.wav`,
      label,
      target: label === 'yes' ? 1 : 0,
    });
    const row = (
      index: number,
      label: string,
      circuitDecision: number | null,
      stateAgreement: number | null,
    ): KwsRow => ({
      clip: clip(index, label),
      trainedDecision: label === 'yes' ? 1 : 0,
      softwareDecision: circuitDecision === null ? null : label === 'yes' ? 1 : 0,
      circuitDecision,
      reference: circuitDecision === null ? null : 'realised',
      stateAgreement,
      voteAgreement: stateAgreement,
      references:
        circuitDecision === null
          ? {}
          : {
              realised: {
                decision: label === 'yes' ? 1 : 0,
                stateAgreement: stateAgreement!,
                voteAgreement: stateAgreement!,
              },
            },
      byCause: null,
      powerW: circuitDecision === null ? null : { cell: 2e-8, ff: 1e-8, bias: 5e-9, in: 1e-9 },
      ngspiceS: circuitDecision === null ? null : 10,
      failure: circuitDecision === null ? 'made-up failure' : null,
    });
    // Three simulated clips (the 'other' clip decided 'yes' by the circuit) and one failed: 3 values per histogram.
    const rows = [row(0, 'yes', 1, 0.875), row(1, 'no', 1, 0.9), row(2, 'yes', 1, 1), row(3, 'no', null, null)];
    const s = kwsSummary(rows, T * FRAME_S, 2);
    const o = await open(
      'kws.html',
      await kwsHtml('kws', rows, s, rows[0], madeUpRun(), { keyword: 'yes', classes: ['no', 'yes'] }),
    );
    const [margin, states, agreement, power, ...rest] = await charts(o.page);
    expect(rest).toEqual([]);
    // Software and circuit margins: two lines. Block 0's states as a raster, runs worked by hand from the states
    // above (frame-major): unit 0 OFF, ON, ON, ON; unit 1 OFF, OFF, then frame 2 software ON, circuit OFF, then ON.
    expect(ofKind(margin, 'mark-line')).toHaveLength(2);
    const runs = ofKind(states, 'mark-rect').map((m) => [field(m.label, 'cell'), field(m.label, 'category')]);
    expect(runs).toEqual([
      ['unit 0', 'OFF'],
      ['unit 0', 'ON'],
      ['unit 1', 'OFF'],
      ['unit 1', 'circuit OFF, software ON'],
      ['unit 1', 'ON'],
    ]);
    expect(histogramTotal(agreement)).toBe(3);
    expect(histogramTotal(power)).toBe(3);
    // Confusion tables (rows: true class no, yes): the circuit decided 'yes' on every clip; the software as labelled.
    const tables = (await o.page.evaluate(`[...document.querySelectorAll('figure > table')].map((t) =>
      [...t.querySelectorAll('tr')].slice(1).map((r) => [...r.querySelectorAll('td')].map((c) => Number(c.textContent))))`)) as number[][][];
    expect(tables).toEqual([
      [
        [0, 1],
        [0, 2],
      ],
      [
        [1, 0],
        [0, 2],
      ],
    ]);
    await settle(o);
  });

  it('without the figure run (it failed) still draws the per-clip charts', async () => {
    const rows: KwsRow[] = [
      {
        clip: { index: 0, name: 'c0', file: 'yes/c0.wav', label: 'yes', target: 1 },
        trainedDecision: 1,
        softwareDecision: 1,
        circuitDecision: 1,
        reference: 'realised',
        stateAgreement: 0.95,
        voteAgreement: 1,
        references: { realised: { decision: 1, stateAgreement: 0.95, voteAgreement: 1 } },
        byCause: null,
        powerW: { cell: 2e-8, ff: 1e-8, bias: 5e-9, in: 1e-9 },
        ngspiceS: 10,
        failure: null,
      },
    ];
    const o = await open(
      'kws-nofigure.html',
      await kwsHtml('kws', rows, kwsSummary(rows, 1, 2), rows[0], null, { keyword: 'yes', classes: ['no', 'yes'] }),
    );
    const found = await charts(o.page);
    expect(found.map(histogramTotal)).toEqual([1, 1]);
    await settle(o);
  });
});

describe('kws waveforms.html in Chromium', () => {
  it('draws every chart (V0 and candidate per cell, one per supply) with its circuit trace, and lists the disagreement', async () => {
    const o = await open(
      'waveforms.html',
      kwsWaveformsHtml(madeUpRun(), { title: 'waveforms', summary: 'made up', vddV: VDD_V }),
    );
    await o.page.waitForFunction('window.bmruReport?.ready === true || window.bmruReport?.failed !== undefined');
    const report = (await o.page.evaluate('window.bmruReport')) as {
      failed?: string;
      views: number;
      points: Record<string, number>;
    };
    expect(report.failed).toBeUndefined();
    const expected = 2 * S + DOMAINS.length;
    expect(await o.page.locator('[id^="chart-"]').count()).toBe(expected);
    expect(report.views).toBe(expected);
    // Every circuit trace is drawn with more than one point.
    const circuit = Object.entries(report.points).filter(([k]) => k.includes('/circuit '));
    expect(circuit).toHaveLength(expected);
    for (const [trace, n] of circuit) expect(n, trace).toBeGreaterThan(1);
    // Each chart's canvas has pixels of the circuit's stroke (plot/waveforms.ts PALETTE[0], #1f77b4).
    const strokePixels = (await o.page.evaluate(`[...document.querySelectorAll('canvas')].map((c) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4)
        if (Math.abs(d[i] - 0x1f) + Math.abs(d[i + 1] - 0x77) + Math.abs(d[i + 2] - 0xb4) < 40) n++;
      return n;
    })`)) as number[];
    expect(strokePixels).toHaveLength(expected);
    for (const n of strokePixels) expect(n).toBeGreaterThan(50);
    const disagreement = o.page.locator('#event option[value="disagreement"]');
    expect(await disagreement.count()).toBe(1);
    expect(await disagreement.getAttribute('data-frame')).toBe('2');
    await settle(o);
  });
});

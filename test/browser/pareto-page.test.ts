import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchChromium } from './chromium.js';
import { tradeoffPage } from '../../src/plot/pareto.js';
import { paretoChart } from '../../src/cli/commands/analyze/sweep.js';
import { sweepPoints } from '../../src/analysis/sweep.js';
import type { ResultRecord } from '../../src/jobs/store.js';

/**
 * pareto.html as a browser runs it (gated on Chromium in vitest.config.ts): the chart is drawn by the page's script
 * from the inlined Vega, so a page that only parses is not enough. No ngspice: the points are made up here.
 */

let browser: Browser;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'bmru-pareto-page-'));
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await rm(dir, { recursive: true, force: true });
});

const record = (coreA: number, agreement: number) =>
  ({
    status: 'ok',
    cosim: {
      transistors: 612,
      ngspiceS: 1,
      reference: 'hwaware',
      comparison: { stateAgreement: agreement },
      references: { hwaware: { stateAgreement: agreement, decisionMatch: true } },
      supplyMeanA: { cell: coreA / 3, ff: coreA / 3, bias: coreA / 3, in: 1e-9 },
    },
  }) as unknown as ResultRecord;

describe('pareto.html in Chromium', () => {
  it('draws every point, rings and labels the Pareto ones, with no console error or fetch', async () => {
    const points = sweepPoints([
      { vddV: 0.6, unitCurrentA: 250e-12, record: record(40e-9, 0.97) },
      { vddV: 0.9, unitCurrentA: 250e-12, record: record(40e-9, 0.99) },
      { vddV: 0.9, unitCurrentA: 1e-9, record: record(160e-9, 0.99) },
      { vddV: 0.9, unitCurrentA: 20e-12, error: 'below the range' },
    ]);
    const file = path.join(dir, 'pareto.html');
    await writeFile(
      file,
      await tradeoffPage({ title: 't', summary: 's', chart: paretoChart(points, 'hwaware', 'made-up points') }),
    );
    const page = await browser.newPage();
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (r) => r.url().startsWith('file://') || requests.push(r.url()));
    await page.goto(`file://${file}`);
    await page.waitForFunction('window.bmruReport?.ready === true || window.bmruReport?.failed !== undefined');
    expect(await page.evaluate('window.bmruReport')).toEqual({ ready: true, views: 1 });
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    // Three points (the failed one is not drawn), two of them on the front: ringed and labelled.
    expect(await page.locator('#chart .mark-symbol.role-mark path').count()).toBe(3 + 2);
    const labels = await page.locator('#chart .mark-text.role-mark text').allTextContents();
    expect(labels.sort()).toEqual(['0.6 V, 250 pA', '0.9 V, 250 pA']);
    await page.close();
  });
});

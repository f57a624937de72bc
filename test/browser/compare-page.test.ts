import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchChromium } from './chromium.js';
import { cliFixture, TINY_CLIP, tinyModel, type CliFixture } from '../cli/fixture.js';

/**
 * The compare page as a browser runs it (gated on Chromium and ngspice in vitest.config.ts): it must render every
 * chart without a console error, draw each circuit trace, and keep the charts on one time window when an event is
 * picked or a chart is zoomed. A page that only parses is not enough: the charts are drawn by its script.
 */
/** The circuit traces' stroke (plot/waveforms.ts PALETTE[0]) as RGB. */
const CIRCUIT_RGB = [0x1f, 0x77, 0xb4];

let cli: CliFixture;
let browser: Browser;
beforeAll(async () => {
  cli = await cliFixture();
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await cli?.cleanUp();
});

interface PageReport {
  ready?: boolean;
  failed?: string;
  views: number;
  points: Record<string, number>;
}

describe('compare report.html in Chromium', () => {
  it('renders every chart with its circuit trace and no console error; picking an event and zooming move all charts together', async () => {
    const model = await cli.write('tiny.json', tinyModel(0.2));
    const clip = await cli.write('tiny.csv', TINY_CLIP);
    const r = await cli.run([
      'compare',
      '-m',
      model,
      '-i',
      clip,
      '-o',
      'cmp',
      '--reference',
      'trained',
      '--timeout',
      '60',
    ]);
    expect(r.exitCode, r.stderr).toBe(1);

    const page = await browser.newPage({ viewport: { width: 1150, height: 900 } });
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') errors.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('request', (q) => {
      if (!q.url().startsWith('file:')) errors.push(`fetched ${q.url()}`);
    });
    await page.goto(`file://${path.join(cli.dir, 'cmp', 'report.html')}`);
    // Strings run in the page (the tests compile without the DOM's types).
    await page.waitForFunction('window.bmruReport?.ready === true || window.bmruReport?.failed !== undefined');
    const report = (await page.evaluate('window.bmruReport')) as PageReport;
    expect(report.failed).toBeUndefined();
    expect(errors).toEqual([]);
    const charts = await page.locator('[id^="chart-"]').count();
    expect(charts).toBe(6); // V0 and candidate of the one cell, four supplies
    expect(report.views).toBe(charts);
    for (const [trace, n] of Object.entries(report.points)) expect(n, trace).toBeGreaterThan(1);

    // Each chart's canvas shows its circuit trace: pixels of the circuit's stroke colour, not just axes.
    const strokePixels = (await page.evaluate(`[...document.querySelectorAll('canvas')].map((c) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      const rgb = ${JSON.stringify(CIRCUIT_RGB)};
      let n = 0;
      for (let i = 0; i < d.length; i += 4)
        if (Math.abs(d[i] - rgb[0]) + Math.abs(d[i + 1] - rgb[1]) + Math.abs(d[i + 2] - rgb[2]) < 40) n++;
      return n;
    })`)) as number[];
    expect(strokePixels).toHaveLength(charts);
    for (const n of strokePixels) expect(n).toBeGreaterThan(50);

    const windows = async () => (await page.evaluate('window.bmruReport.windows()')) as number[][];
    // The first disagreement of the tiny clip is at frame 1 (see tinyModel): frames 0 to 3 of 10 ms.
    const first = page.locator('#event option[value="disagreement"]').first();
    expect(await first.getAttribute('data-frame')).toBe('1');
    await page.selectOption('#event', { index: 1 });
    await expect.poll(windows).toEqual(Array.from({ length: charts }, () => [0, 0.03]));
    await page.dblclick('#chart-b0u0-v0 canvas');
    await expect.poll(windows).toEqual(Array.from({ length: charts }, () => [0, 0.06]));
    const box = (await page.locator('#chart-b0u0-cand canvas').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, -400);
    await expect
      .poll(async () => {
        const w = await windows();
        return w.every((d) => d[0] === w[0][0] && d[1] === w[0][1]) && w[0][1] - w[0][0] < 0.05;
      })
      .toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });
});

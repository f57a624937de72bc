import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchChromium } from './chromium.js';
import { datasheetHtml, specRow, type Datasheet, type SheetCondition } from '../../src/jobs/datasheet.js';
import { SPEC_NAMES } from '../../src/jobs/specs.js';

/**
 * datasheet.html as a browser shows it (gated on Chromium in vitest.config.ts): one table row per spec, the failing
 * one in red, a range bar per measured spec with its typ tick inside the bar, nothing fetched, no console error.
 * No ngspice: the three conditions are made up here.
 */

let browser: Browser;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'bmru-datasheet-page-'));
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await rm(dir, { recursive: true, force: true });
});

const conditions: SheetCondition[] = [
  { label: '800 mV 27 C', typical: false, jobs: 2, ok: 2, values: { stateAgreementTrained: 0.98, corePowerW: 40e-9 } },
  { label: '900 mV 27 C', typical: true, jobs: 2, ok: 2, values: { stateAgreementTrained: 0.99, corePowerW: 45e-9 } },
  { label: '1 V 27 C', typical: false, jobs: 2, ok: 2, values: { stateAgreementTrained: 1, corePowerW: 50e-9 } },
];

describe('datasheet.html in Chromium', () => {
  it('shows every spec, the failing one in red, range bars with typ inside, with no console error or fetch', async () => {
    const sheet: Datasheet = {
      name: 'made-up',
      jobs: 6,
      ok: 6,
      sections: [
        {
          model: 'm.json',
          process: 'c180',
          nominalVddV: 0.9,
          typicalRule: "VDD 900 mV (the process's), 27 C, the model's own I_unit",
          calibrationRule: null,
          conditions,
          specs: SPEC_NAMES.map((n) =>
            specRow(
              n,
              conditions,
              n === 'corePowerW' ? { max: 48e-9 } : n === 'stateAgreementTrained' ? { min: 0.95 } : null,
            ),
          ),
        },
      ],
    };
    const file = path.join(dir, 'datasheet.html');
    await writeFile(file, datasheetHtml(sheet));
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => (m.type() === 'error' || m.type() === 'warning') && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (r) => r.url().startsWith('file://') || requests.push(r.url()));
    await page.goto(`file://${file}`);
    await page.waitForFunction('window.bmruReport?.ready === true');
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);

    const rows = page.locator('table.specs tbody tr');
    expect(await rows.count()).toBe(SPEC_NAMES.length);
    // Core power 40..50 nW against a 48 nW maximum fails; the agreement 98..100% against 95% passes.
    const fail = page.locator('table.specs td.fail');
    expect(await fail.count()).toBe(1);
    // Strings run in the page (the tests compile without the DOM's types).
    expect(await page.evaluate(`getComputedStyle(document.querySelector('table.specs td.fail')).backgroundColor`)).toBe(
      'rgb(214, 39, 40)',
    );
    expect(await page.locator('table.specs td.pass').count()).toBe(1);

    // Two specs have values: each gets a visible bar whose typ tick lies between the bar's ends.
    const bars = page.locator('table.specs svg');
    expect(await bars.count()).toBe(2);
    for (let i = 0; i < 2; i++) {
      const bar = (await bars.nth(i).locator('rect').boundingBox())!;
      expect(bar.width).toBeGreaterThan(10);
      const tick = (await bars.nth(i).locator('line[stroke="#222"]').boundingBox())!;
      const tickX = tick.x + tick.width / 2;
      expect(tickX).toBeGreaterThan(bar.x);
      expect(tickX).toBeLessThan(bar.x + bar.width);
    }
    // The typical condition is marked in the per-condition table.
    expect(await page.locator('table.conditions tr.typ td').first().textContent()).toBe('900 mV 27 C (typ)');
    await page.close();
  });
});

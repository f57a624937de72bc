#!/usr/bin/env node
// Screenshot of the chart of a power sweep's pareto.html, as docs/img/pareto-c180.png shows it:
//   node bin/bmru.js analyze power --sweep -o out/sweep && node scripts/pareto-screenshot.mjs out/sweep/pareto.html docs/img/pareto-c180.png
// Drives the system Chromium (BMRU_CHROMIUM, default /usr/bin/chromium) with playwright-core, as test/browser does.
import { resolve } from 'node:path';
import { chromium } from 'playwright-core';

const [html, png] = process.argv.slice(2);
if (!html || !png) {
  console.error('usage: node scripts/pareto-screenshot.mjs <pareto.html> <out.png>');
  process.exit(2);
}
// Root in a container has no user namespace for Chromium's sandbox; the page is our own file.
const browser = await chromium.launch({
  executablePath: process.env.BMRU_CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1000, height: 600 } });
  const errors = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`file://${resolve(html)}`);
  await page.waitForFunction('window.bmruReport?.ready === true || window.bmruReport?.failed !== undefined');
  const failed = await page.evaluate('window.bmruReport.failed');
  if (failed) errors.push(failed);
  if (errors.length > 0) throw new Error(`the page reported: ${errors.join('; ')}`);
  await page.locator('#chart').screenshot({ path: png });
  console.log(`wrote ${png}`);
} finally {
  await browser.close();
}

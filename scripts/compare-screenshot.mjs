#!/usr/bin/env node
// Screenshot of a compare report.html around its first disagreement, as docs/img/compare-report.png shows it:
//   node bin/bmru.js compare -o out/cmp && node scripts/compare-screenshot.mjs out/cmp/report.html docs/img/compare-report.png
// Drives the system Chromium (BMRU_CHROMIUM, default /usr/bin/chromium) with playwright-core, as test/browser does.
import { resolve } from 'node:path';
import { chromium } from 'playwright-core';

const [html, png] = process.argv.slice(2);
if (!html || !png) {
  console.error('usage: node scripts/compare-screenshot.mjs <report.html> <out.png>');
  process.exit(2);
}
// Root in a container has no user namespace for Chromium's sandbox; the page is our own file.
const browser = await chromium.launch({
  executablePath: process.env.BMRU_CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1150, height: 760 } });
  const errors = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`file://${resolve(html)}`);
  await page.waitForFunction('window.bmruReport?.ready === true || window.bmruReport?.failed !== undefined');
  const picked = await page.locator('#event option[value="disagreement"]').count();
  if (picked > 0) await page.selectOption('#event', { index: 1 });
  // The sticky event bar, then the picked cell's row (or the first one) below it.
  await page.evaluate(
    `(document.querySelector('.row.picked') || document.querySelector('.row')).scrollIntoView({ block: 'start' })`,
  );
  await page.evaluate('window.scrollBy(0, -70)');
  await page.waitForTimeout(300);
  if (errors.length > 0) throw new Error(`the page reported: ${errors.join('; ')}`);
  await page.screenshot({ path: png });
  console.log(`wrote ${png}`);
} finally {
  await browser.close();
}

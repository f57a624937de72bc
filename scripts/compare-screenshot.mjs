#!/usr/bin/env node
// Screenshot of a compare report.html around its first disagreement, as docs/img/compare-report.png shows it:
//   node bin/bmru.js compare -o out/cmp && node scripts/compare-screenshot.mjs out/cmp/report.html docs/img/compare-report.png
import { withReportPage } from './lib/report-page.mjs';

const [html, png] = process.argv.slice(2);
if (!html || !png) {
  console.error('usage: node scripts/compare-screenshot.mjs <report.html> <out.png>');
  process.exit(2);
}
await withReportPage(html, { width: 1150, height: 760 }, async (page) => {
  const picked = await page.locator('#event option[value="disagreement"]').count();
  if (picked > 0) await page.selectOption('#event', { index: 1 });
  // The sticky event bar, then the picked cell's row (or the first one) below it.
  await page.evaluate(
    `(document.querySelector('.row.picked') || document.querySelector('.row')).scrollIntoView({ block: 'start' })`,
  );
  await page.evaluate('window.scrollBy(0, -70)');
  await page.waitForTimeout(300);
  await page.screenshot({ path: png });
});
console.log(`wrote ${png}`);

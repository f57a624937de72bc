#!/usr/bin/env node
// Screenshot of a datasheet.html (the whole page), as docs/img/datasheet-example.png shows it:
//   node bin/bmru.js batch report out/batch-datasheet-example --datasheet
//   node scripts/datasheet-screenshot.mjs out/batch-datasheet-example/datasheet.html docs/img/datasheet-example.png
import { withReportPage } from './lib/report-page.mjs';

const [html, png] = process.argv.slice(2);
if (!html || !png) {
  console.error('usage: node scripts/datasheet-screenshot.mjs <datasheet.html> <out.png>');
  process.exit(2);
}
await withReportPage(html, { width: 1250, height: 800 }, (page) => page.screenshot({ path: png, fullPage: true }));
console.log(`wrote ${png}`);

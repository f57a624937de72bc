#!/usr/bin/env node
// Screenshot of the chart of a power sweep's pareto.html, as docs/img/pareto-c180.png shows it:
//   node bin/bmru.js analyze power --sweep -o out/sweep && node scripts/pareto-screenshot.mjs out/sweep/pareto.html docs/img/pareto-c180.png
import { withReportPage } from './lib/report-page.mjs';

const [html, png] = process.argv.slice(2);
if (!html || !png) {
  console.error('usage: node scripts/pareto-screenshot.mjs <pareto.html> <out.png>');
  process.exit(2);
}
await withReportPage(html, { width: 1000, height: 600 }, (page) => page.locator('#chart').screenshot({ path: png }));
console.log(`wrote ${png}`);

#!/usr/bin/env node
// Screenshot of a kws.html (its top: the shown clip's logit margin and cell states, software against circuit), as
// docs/img/kws-page.png shows it:
//   node bin/bmru.js kws --clips 10 --show no__ce01711a_nohash_0 --reference trained -o out/kws-shot
//   node scripts/kws-screenshot.mjs out/kws-shot/kws.html docs/img/kws-page.png
import { withReportPage } from './lib/report-page.mjs';

const [html, png] = process.argv.slice(2);
if (!html || !png) {
  console.error('usage: node scripts/kws-screenshot.mjs <kws.html> <out.png>');
  process.exit(2);
}
await withReportPage(html, { width: 1150, height: 1400, staticPage: true }, (page) => page.screenshot({ path: png }));
console.log(`wrote ${png}`);

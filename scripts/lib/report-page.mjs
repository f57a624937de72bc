// Opens one of the toolkit's own HTML pages in the system Chromium (BMRU_CHROMIUM, default /usr/bin/chromium) with
// playwright-core, as test/browser does, and waits until the page says it is drawn (pages drawn by their own script
// set `bmruReport.ready`; htmlPage's static SVG pages, `{ staticPage: true }`, are drawn once loaded); `use(page)` then
// acts on it.
// Console errors, page errors and the page's own `bmruReport.failed` all stop the script with their text.
import { resolve } from 'node:path';
import { chromium } from 'playwright-core';

/** Run `use(page)` on `html` once its report is ready, in a viewport of `width` x `height` px. */
export async function withReportPage(html, { width, height, staticPage = false }, use) {
  // Root in a container has no user namespace for Chromium's sandbox; the page is our own file.
  const browser = await chromium.launch({
    executablePath: process.env.BMRU_CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
  try {
    const page = await browser.newPage({ viewport: { width, height } });
    const errors = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`file://${resolve(html)}`, { waitUntil: 'load' });
    if (!staticPage) {
      await page.waitForFunction('window.bmruReport?.ready === true || window.bmruReport?.failed !== undefined');
      const failed = await page.evaluate('window.bmruReport.failed');
      if (failed) errors.push(failed);
    }
    const check = () => {
      if (errors.length > 0) throw new Error(`the page reported: ${errors.join('; ')}`);
    };
    check();
    await use(page);
    check();
  } finally {
    await browser.close();
  }
}

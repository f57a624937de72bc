import { execFileSync } from 'node:child_process';
import { chromium, type Browser } from 'playwright-core';

/** The Chromium the browser tests drive: BMRU_CHROMIUM (a path or a name on PATH), else `chromium`. */
export const CHROMIUM = process.env.BMRU_CHROMIUM || 'chromium';

/** Start the system Chromium headless, as every browser test does. */
export function launchChromium(): Promise<Browser> {
  // Playwright wants a path; the gate in vitest.config.ts accepts a name on PATH.
  const bin = CHROMIUM.includes('/')
    ? CHROMIUM
    : execFileSync('sh', ['-c', `command -v ${CHROMIUM}`], { encoding: 'utf8' }).trim();
  // Root in a container has no user namespace for Chromium's sandbox; the pages are our own files.
  return chromium.launch({ executablePath: bin, args: ['--no-sandbox'] });
}

import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (tests run from anywhere). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The shared material beside the project root (a copy sits beside CI's clone too); BMRU_SHARED overrides. */
export const SHARED_DIR = process.env.BMRU_SHARED ?? resolve(REPO_ROOT, '..', 'shared');

export const CONFORMANCE_DIR = resolve(SHARED_DIR, 'conformance');

/** Long SPICE suites run only when BMRU_FULL=1 (CI runs the representative subset). */
export const FULL = process.env.BMRU_FULL === '1';

/** |a - b| <= rel * max(|a|, |b|) + abs: one tolerance rule for every float comparison in tests. */
export function close(a: number, b: number, rel: number, abs = 0): boolean {
  if (a === b) return true; // equal infinities too, where a - b is NaN
  return Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b)) + abs;
}

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * One temporary root per test run: TMPDIR points into it for every test file (the worker processes start after
 * this, with this environment) and for the ngspice and CLI processes they spawn, and the teardown removes it whole.
 * A test's own cleanup (`scratchDir`, afterAll) does not run when a run stops early: Stryker stops a mutant's run at
 * its first failing test, and its repeated runs left thousands of folders in /tmp before this.
 */
export default function setup(): () => void {
  const before = process.env.TMPDIR;
  const root = mkdtempSync(join(tmpdir(), 'bmru-test-'));
  process.env.TMPDIR = root;
  return () => {
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
    rmSync(root, { recursive: true, force: true });
  };
}

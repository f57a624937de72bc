import { execFileSync } from 'node:child_process';
import { defineConfig } from 'vitest/config';

/**
 * Suites that run the real ngspice. To find them: `BMRU_NGSPICE=/nonexistent npx vitest run` fails exactly these
 * (the others use no ngspice, or a stand-in script of their own).
 */
const NGSPICE_SUITES = [
  'test/analysis/power.test.ts',
  'test/circuit/**',
  'test/cli/analyze.test.ts',
  'test/cli/batch.test.ts',
  'test/cli/compare.test.ts',
  'test/cli/errors.test.ts',
  'test/cli/export.test.ts',
  'test/cli/fidelity.test.ts',
  'test/cli/kws.test.ts',
  'test/hostile/**',
  'test/jobs/run.test.ts',
  'test/jobs/slurm.test.ts',
  'test/pinned/compare-exit.test.ts',
  'test/spice/runner.test.ts',
];

function ngspiceFound(): boolean {
  try {
    execFileSync(process.env.BMRU_NGSPICE || 'ngspice', ['-v'], { stdio: 'ignore', timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}

// One gate for every suite that runs ngspice: required in CI (a CI that passed on skipped circuit tests would
// vouch for nothing), skipped with a reason elsewhere.
const required = process.env.CI === 'true' || process.env.BMRU_NGSPICE_TESTS === 'required';
const found = ngspiceFound();
if (!found && required) {
  throw new Error('ngspice is required for these tests (CI=true or BMRU_NGSPICE_TESTS=required) and was not found: apt-get install -y ngspice, or set BMRU_NGSPICE to its path');
}
if (!found) {
  console.warn(`ngspice not found: the ${NGSPICE_SUITES.length} suites that run it are skipped (install it: apt-get install -y ngspice, or set BMRU_NGSPICE; CI requires it)`);
}

// SPICE tests spawn ngspice: keep one test file per core and give transients room.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['**/node_modules/**', ...(found ? [] : NGSPICE_SUITES)],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});

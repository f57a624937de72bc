import { defineConfig } from 'vitest/config';

/**
 * The tests `npm run mutate:ci` (stryker.ci.config.mjs) runs against each mutant: the test files that import one of
 * its four modules, without the tool-gated suites and without vitest.config.ts's tool probes. With `related: true`
 * on vitest.mutate.config.ts, Stryker re-ran every test file whose imports reach a module for each of the ~100
 * module-level ("static") mutants of the four (tolerance.ts's defaults, failure.ts's table), 99% of the run's time.
 */
export const CI_MUTATION_TESTS = [
  'test/jobs/failure.test.ts',
  'test/jobs/store.test.ts',
  'test/spice/plots.test.ts',
  'test/model/limits.test.ts',
  'test/model/inputs.test.ts',
  'test/train/surrogate.test.ts',
  'test/train/bptt.test.ts',
  'test/compare/tolerance.test.ts',
  'test/pinned/tolerance.test.ts',
  'test/jobs/fidelity.test.ts',
  'test/jobs/report.test.ts',
  'test/analysis/kws.test.ts',
  'test/analysis/sweep-files.test.ts',
];

export default defineConfig({
  test: {
    include: CI_MUTATION_TESTS,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    globalSetup: ['test/global-setup.ts'],
  },
});

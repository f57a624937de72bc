// `npm run mutate:ci`: the quick subset of stryker.config.json that CI can afford on 2 cores (docs/mutation.md has
// the time it takes), failing (exit 1) when fewer than 90% of its mutants are killed.
import { readFileSync } from 'node:fs';

const base = JSON.parse(readFileSync(new URL('./stryker.config.json', import.meta.url), 'utf8'));
delete base.$schema;
delete base._comment;

export default {
  ...base,
  mutate: ['src/jobs/failure.ts', 'src/model/limits.ts', 'src/train/surrogate.ts', 'src/compare/tolerance.ts'],
  // The test files that import these modules (vitest.mutate-ci.config.ts), not every file whose imports reach them.
  vitest: { configFile: 'vitest.mutate-ci.config.ts', related: false },
  thresholds: { high: 95, low: 90, break: 90 },
  reporters: ['clear-text', 'html'],
  htmlReporter: { fileName: 'reports/mutation-ci/index.html' },
};

import { defineConfig } from 'vitest/config';

// SPICE tests spawn ngspice: keep one test file per core and give transients room.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});

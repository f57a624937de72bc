import { defineConfig, mergeConfig } from 'vitest/config';
import base, { GATES } from './vitest.config.js';

/**
 * The test run Stryker repeats for every mutant (stryker.config.json): the suite without the ones that need an
 * external tool (ngspice, espeak-ng/sox, Slurm, Chromium). Mutation testing measures how well the unit tests pin
 * down the pure modules; a co-simulation takes minutes, and Stryker would rerun it for each of hundreds of mutants
 * it covers.
 */
export default mergeConfig(base, defineConfig({ test: { exclude: GATES.flatMap((gate) => [...gate.suites]) } }));

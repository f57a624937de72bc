/** The plan the Slurm tests submit (slurm.test.ts, slurm-local.test.ts). */
import { EXAMPLE_CLIP, EXAMPLE_MODEL } from '../cli/fixture.js';

/** A 5-job plan of 2-frame clips (about a second of ngspice each) writing to `out`. */
export const planText = (out: string) =>
  [
    'name: slurm',
    'process: c180',
    `models: [${EXAMPLE_MODEL}]`,
    `inputs: [{ file: ${EXAMPLE_CLIP}, frames: 2, noiseSd: 0.05 }]`,
    'seeds: { count: 5 }',
    `out: ${out}`,
    '',
  ].join('\n');

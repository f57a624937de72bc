import type { Argv } from 'yargs';
import * as corners from './analyze/corners.js';
import * as hwaware from './analyze/hwaware.js';
import * as montecarlo from './analyze/montecarlo.js';
import * as noise from './analyze/noise.js';
import * as power from './analyze/power.js';

export function builder(y: Argv) {
  return y
    .command(power)
    .command(noise)
    .command(montecarlo)
    .command(corners)
    .command(hwaware)
    .demandCommand(1, 'Name an analysis, e.g. `bmru analyze power`.');
}

export function handler(): void {
  // Each analysis is a subcommand with its own handler.
}

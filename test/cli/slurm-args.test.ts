/** The flags a command passes on to the bmru command it runs under Slurm (src/cli/common.ts). */
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { circuitArgv, slurmSubmitArgv } from '../../src/cli/common.js';

describe('slurmSubmitArgv', () => {
  it('gives every sbatch setting as the flag that sets it, repeatable ones once per entry', () => {
    expect(
      slurmSubmitArgv({
        slurmPartition: 'cpu',
        account: 'lab',
        time: '2:00:00',
        sbatchArg: ['--mem-per-cpu=2G', '--qos=low'],
        setup: ['module load ngspice', 'cd /x'],
      }),
    ).toEqual([
      '--slurm-partition',
      'cpu',
      '--account',
      'lab',
      '--time',
      '2:00:00',
      // `=`: an sbatch option begins with `--`, which yargs would read as a flag of its own.
      '--sbatch-arg=--mem-per-cpu=2G',
      '--sbatch-arg=--qos=low',
      '--setup',
      'module load ngspice',
      '--setup',
      'cd /x',
    ]);
  });

  it('gives nothing for settings not given', () => {
    expect(slurmSubmitArgv({})).toEqual([]);
  });
});

describe('circuitArgv', () => {
  const base = { process: 'c180', calibrated: true, maxTransistors: 100000, clamp: false, timeout: 600 };

  it('keeps a shipped process by name and says every default a task must not guess', () => {
    expect(circuitArgv(base)).toEqual([
      '-p',
      'c180',
      '--calibrated',
      '--max-transistors',
      '100000',
      '--timeout',
      '600',
    ]);
  });

  it('makes a process file and a kit absolute (a task starts in the toolkit folder), and passes --no-calibrated and --clamp', () => {
    const argv = circuitArgv({ ...base, process: 'my/process.json', kit: 'pdk', calibrated: false, clamp: true });
    expect(argv).toEqual([
      '-p',
      path.resolve('my/process.json'),
      '--kit',
      path.resolve('pdk'),
      '--no-calibrated',
      '--max-transistors',
      '100000',
      '--clamp',
      '--timeout',
      '600',
    ]);
  });
});

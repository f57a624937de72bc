import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { defineConfig } from 'vitest/config';
import { torchPythonMissing } from './test/python/torch-python.js';

/**
 * One gate per optional tool: the suites that need it run where it is, are skipped elsewhere with the reason
 * printed, and fail the run at once where they are required (CI=true, or the gate's variable set to
 * `required`; .ci/run sets all of them): a CI that passed on skipped suites would vouch for nothing. A suite
 * that needs a tool lives in a file of its own, so the other tests of its subject run without it.
 */
interface Gate {
  /** What the suites need, as the messages name it. */
  readonly needs: string;
  /** `<variable>=required` makes a missing tool fail the run outside CI too. */
  readonly variable: string;
  readonly suites: readonly string[];
  /** Why this machine cannot run the suites, or undefined when it can. */
  readonly unavailable: () => string | undefined;
  readonly install: string;
}

/** Why `command args` does not run (not found, or failed), or undefined when it does. */
function doesNotRun(command: string, args: string[]): string | undefined {
  try {
    execFileSync(command, args, { stdio: 'ignore', timeout: 30_000 });
    return undefined;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT'
      ? `${command} not found`
      : `\`${command} ${args.join(' ')}\` failed`;
  }
}

/** Whether an executable `name` is in a folder of PATH or of `extra`. */
function onPath(name: string, extra: readonly string[] = []): boolean {
  return [...(process.env.PATH ?? '').split(delimiter), ...extra].some((dir) => {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return dir !== '';
    } catch {
      return false;
    }
  });
}

export const GATES: readonly Gate[] = [
  {
    needs: 'ngspice',
    variable: 'BMRU_NGSPICE_TESTS',
    // To find them: with this list emptied, `BMRU_NGSPICE=/nonexistent npx vitest run` fails exactly these (the
    // others use no ngspice, or a stand-in script of their own).
    suites: [
      'test/analysis/power.test.ts',
      'test/browser/**',
      'test/circuit/**',
      'test/cli/analyze.test.ts',
      'test/cli/batch.test.ts',
      'test/cli/compare.test.ts',
      'test/cli/datasheet.test.ts',
      'test/cli/errors.test.ts',
      'test/cli/export.test.ts',
      'test/cli/fidelity.test.ts',
      'test/cli/kws.test.ts',
      'test/cli/power-sweep.test.ts',
      'test/hostile/**',
      'test/package/**',
      'test/jobs/run.test.ts',
      'test/jobs/slurm-local.test.ts',
      'test/pinned/compare-exit.test.ts',
      'test/results/**',
      'test/spice/runner.test.ts',
      'test/spice/spice-command.test.ts',
    ],
    unavailable: () => doesNotRun(process.env.BMRU_NGSPICE || 'ngspice', ['-v']),
    install: 'apt-get install -y ngspice, or set BMRU_NGSPICE to its path',
  },
  {
    needs: 'espeak-ng and sox',
    variable: 'BMRU_SYNTH_TESTS',
    suites: ['test/audio/synth-tools.test.ts', 'test/audio/wav-sox.test.ts', 'test/cli/kws-data-tools.test.ts'],
    // The names src/audio/synth.ts runs (defaultTools).
    unavailable: () =>
      doesNotRun(process.env.BMRU_ESPEAK ?? 'espeak-ng', ['--version']) ??
      doesNotRun(process.env.BMRU_SOX ?? 'sox', ['--version']),
    install: 'apt-get install -y espeak-ng sox, or set BMRU_ESPEAK / BMRU_SOX to their paths',
  },
  {
    needs: 'Chromium',
    variable: 'BMRU_BROWSER_TESTS',
    // The pages bmru writes, rendered as a browser runs their scripts (playwright-core drives the system Chromium).
    suites: ['test/browser/**'],
    unavailable: () => doesNotRun(process.env.BMRU_CHROMIUM || 'chromium', ['--version']),
    install: 'apt-get install -y chromium, or set BMRU_CHROMIUM to its path',
  },
  {
    needs: 'Python with PyTorch',
    variable: 'BMRU_TORCH_TESTS',
    // The PyTorch reference python/bmru_torch.py against the toolkit, both ways through the model file.
    suites: ['test/python/**'],
    unavailable: torchPythonMissing,
    install: 'apt-get install -y python3-torch (for /usr/bin/python3), or set BMRU_PYTHON to a python with torch',
  },
  {
    needs: 'a local Slurm (scripts/slurm-local.sh starts one: root, slurm-wlm and munge)',
    variable: 'BMRU_SLURM_TESTS',
    suites: ['test/jobs/slurm-local.test.ts'],
    unavailable: () => {
      if (process.getuid?.() !== 0) return 'not root (munged, slurmctld and slurmd are started as system daemons)';
      const missing = ['sbatch', 'slurmctld', 'slurmd', 'munged'].filter(
        (tool) => !onPath(tool, ['/usr/sbin', '/sbin']),
      ); // daemons live in sbin
      return missing.length > 0 ? `${missing.join(', ')} not found` : undefined;
    },
    install: 'apt-get install -y slurm-wlm munge, and run the tests as root',
  },
];

const inCi = process.env.CI === 'true';
const excluded: string[] = [];
const missingRequired: string[] = [];
for (const gate of GATES) {
  const why = gate.unavailable();
  if (why === undefined) continue;
  const which =
    gate.suites.length <= 3 ? gate.suites.join(', ') : `the ${gate.suites.length} suites vitest.config.ts lists for it`;
  const requiredBy = inCi
    ? 'CI=true'
    : process.env[gate.variable] === 'required'
      ? `${gate.variable}=required`
      : undefined;
  if (requiredBy) {
    missingRequired.push(
      `${which} need ${gate.needs}, and ${requiredBy} requires them to run; here they cannot: ${why}. Install: ${gate.install}`,
    );
  } else {
    excluded.push(...gate.suites);
    console.warn(
      `skipped: ${which}: they need ${gate.needs} (${why}). Install: ${gate.install}. CI requires them, as does ${gate.variable}=required`,
    );
  }
}
if (missingRequired.length > 0) throw new Error(missingRequired.join('\n'));

// SPICE tests spawn ngspice: keep one test file per core and give transients room.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['**/node_modules/**', ...excluded],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    globalSetup: ['test/global-setup.ts'],
  },
});

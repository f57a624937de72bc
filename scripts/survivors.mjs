#!/usr/bin/env node
// Lists the mutants a Stryker report left alive, and optionally checks each against tests added since the run.
//
//   node scripts/survivors.mjs reports/inc-rawfile.json
//       every Survived / NoCoverage mutant: file:line:column, mutator, original -> replacement
//   node scripts/survivors.mjs reports/inc-rawfile.json --check test/spice/rawfile.test.ts test/spice/rawfile-format.test.ts
//       applies each of them to the source in turn, runs those test files (vitest.mutate.config.ts), restores the
//       source, and says which the tests now kill (vitest fails) and which still survive
//   ... --check <test file>... --config reports/vitest.x.config.ts
//       the same under another vitest configuration (default vitest.mutate.config.ts)
//
// The report is the `--incrementalFile` Stryker writes (the mutation-testing-report-schema JSON: lines and columns
// 1-based). A full Stryker re-run is the measurement; this is the quick check between runs (docs/mutation.md).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyMutant, offsetOf } from './lib/mutant.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Seconds one run of the test files may take with a mutant applied (they take a few seconds unmutated). */
const CHECK_TIMEOUT_S = 120;
/** coreutils `timeout`'s exit status when the time ran out. */
const TIMED_OUT = 124;
const argv = process.argv.slice(2);
// --config: the vitest configuration the checks run under. The default gates on the external tools (vitest.config.ts
// probes ngspice, espeak-ng, Slurm and Chromium at start), which every check pays again; a config of one module's
// test files, as a Stryker run limited to them uses, skips that.
const configAt = argv.indexOf('--config');
const config = configAt >= 0 ? argv.splice(configAt, 2)[1] : 'vitest.mutate.config.ts';
const [reportPath, flag, ...tests] = argv;
if (!reportPath || !config || (flag !== undefined && (flag !== '--check' || tests.length === 0))) {
  console.error(
    'usage: node scripts/survivors.mjs <stryker report .json> [--check <test file>...] [--config <vitest config>]',
  );
  process.exit(2);
}
// A config vitest cannot load fails every run, which would read as every mutant killed.
if (!existsSync(resolve(ROOT, config))) {
  console.error(`--config: no such file ${resolve(ROOT, config)}`);
  process.exit(2);
}
const report = JSON.parse(readFileSync(reportPath, 'utf8'));

const alive = [];
for (const [file, { mutants }] of Object.entries(report.files)) {
  for (const m of mutants) if (m.status === 'Survived' || m.status === 'NoCoverage') alive.push({ file, ...m });
}

/** Run the test files once under the config: vitest's exit status (124 when `timeout` stopped it), or its signal. */
function runTests() {
  // A mutant can loop forever (`i++` -> `i--`), and a synchronous loop in a vitest worker outlives any test
  // timeout. coreutils `timeout` signals its whole process group (vitest and its workers: TERM, then KILL 10 s
  // later) and exits 124; Stryker counts such a mutant as killed ("timeout"), and so does this.
  const run = spawnSync(
    'timeout',
    [
      '-k',
      '10',
      String(CHECK_TIMEOUT_S),
      process.execPath,
      join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'),
      'run',
      '--config',
      config,
      ...tests,
    ],
    { cwd: ROOT, stdio: 'ignore' },
  );
  if (run.error) throw run.error;
  return run;
}

// The tests must pass on the unmutated source: a run that fails anyway (a test file vitest does not find, a test
// that fails, tests named as one comma-separated argument) would read as every mutant killed.
if (flag === '--check') {
  const base = runTests();
  if (base.status !== 0) {
    console.error(
      `--check: ${tests.join(' ')} fail on the unmutated source (exit ${base.status ?? base.signal}) under ${config}; ` +
        'run them alone to see why (a test file vitest does not find fails too): no mutant checked',
    );
    process.exit(2);
  }
}

let killed = 0;
for (const m of alive) {
  const path = join(ROOT, m.file);
  const source = readFileSync(path, 'utf8');
  const [from, to] = [offsetOf(source, m.location.start), offsetOf(source, m.location.end)];
  const original = source.slice(from, to).replace(/\s+/g, ' ');
  let verdict = '';
  if (flag === '--check') {
    writeFileSync(path, applyMutant(source, m));
    try {
      const run = runTests();
      verdict =
        run.status === 0 ? 'SURVIVES ' : run.status === TIMED_OUT || run.signal !== null ? 'timeout  ' : 'killed   ';
      if (run.status !== 0) killed++;
    } finally {
      writeFileSync(path, source);
    }
  }
  const where = `${m.file}:${m.location.start.line}:${m.location.start.column}`;
  console.log(
    `${verdict}${where} ${m.status} ${m.mutatorName}: ${original.slice(0, 90)} -> ${m.replacement.replace(/\s+/g, ' ').slice(0, 90)}`,
  );
}
console.log(
  `${alive.length} mutants alive in the report${flag === '--check' ? `; ${killed} killed by ${tests.join(' ')}` : ''}`,
);

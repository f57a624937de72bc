import { join, resolve, sep } from 'node:path';
import type { Argv } from 'yargs';
import { calibrate, verifyCalibration, type VerifyRow } from '../../calibrate/calibrate.js';
import { warnIfStale } from '../../calibrate/method.js';
import { CALIBRATION_FILE, loadCalibration } from '../../netlist/calibration.js';
import { loadProcess } from '../../netlist/process.js';
import { progress } from '../progress.js';
import { table } from '../format.js';
import { resolveProcessPath } from '../../util/paths.js';
import { writeFileAtomic } from '../../util/output.js';
import { checkOutputFolder } from '../common.js';
import { InputError } from '../../errors.js';

export function builder(y: Argv) {
  return y
    .option('process', {
      alias: 'p',
      type: 'string',
      default: 'c180',
      describe: 'process: a shipped name (c180, gf180mcu) or a path to a process.json',
    })
    .option('kit', { type: 'string', describe: 'PDK folder for processes whose deck lines use {kit}' })
    .option('out', {
      alias: 'o',
      type: 'string',
      describe: 'where to write the tables',
      defaultDescription: `<process folder>/${CALIBRATION_FILE}`,
    })
    .option('verify-only', {
      type: 'boolean',
      default: false,
      describe: 'do not measure: verify the stored tables only',
    })
    .option('verify', {
      type: 'boolean',
      default: true,
      describe:
        'after measuring, realise test targets through the tables and measure them (beta 0.1-1.5 nA, gains 0.02-3)',
    })
    .example('$0 calibrate', 'measure and verify the embedded 180 nm card (a few minutes on 2 cores)')
    .example('$0 calibrate -p gf180mcu --verify-only', 'check the shipped GF180MCU tables against the kit')
    .epilogue(
      'Besides the cell grid and mirror tables the generator inverts, it measures the hardware tables (key "hardware": summing-node knees, copy floors, OFF currents, folds, rail charge, switching and commit times) that hardwareAwareNetwork reads. Acceptance rule of the verification: every beta_hi, beta_lo and ON level within 3% (or 5 pA, the larger) of its target, mirror gains within 3% (below 0.25, where copies are the narrowest device made longer: 5%). Exit 1 if any misses.',
    );
}

export async function handler(a: {
  process: string;
  kit?: string;
  out?: string;
  verifyOnly: boolean;
  verify: boolean;
}): Promise<void> {
  if (a.out && !a.verifyOnly) checkOutputFolder(a.out); // before minutes of sweeps, not after them
  const proc = await loadProcess(resolveProcessPath(a.process), a.kit);
  if (!a.out && !a.verifyOnly && isInstalledPackage(proc.dir)) {
    // Overwriting the installed package's tables would change every user's results without a word, and goes
    // with the next npm install. Calibrate a copy instead.
    throw new InputError(
      `the process folder ${proc.dir} belongs to the installed package: copy it (cp -r ${proc.dir} my-${proc.name}) and calibrate the copy with -p my-${proc.name}/process.json, or write the tables elsewhere with --out`,
      { file: join(proc.dir, CALIBRATION_FILE), field: '--out' },
    );
  }
  // Stored tables matter only to --verify-only; a fresh run replaces them (even ones measured at another VDD).
  let calibration = a.verifyOnly ? await loadCalibration(proc.dir, proc) : undefined;
  warnIfStale(calibration, join(proc.dir, CALIBRATION_FILE), resolveProcessPath(a.process));
  if (!a.verifyOnly) {
    const p = progress(`calibrating ${proc.name}`);
    const run = await calibrate(proc, { onRun: (done, total) => p.update(`${done}/${total} sweeps`) }).finally(() =>
      p.done(),
    );
    calibration = run.calibration;
    const out = a.out ?? join(proc.dir, CALIBRATION_FILE);
    await writeFileAtomic(out, JSON.stringify(calibration, null, 1) + '\n');
    console.log(`wrote ${out}`);
  }
  if (!a.verify && !a.verifyOnly) return;
  const p = progress(`verifying ${proc.name}`);
  const rows = await verifyCalibration(proc, calibration, {
    onRun: (done, total) => p.update(`${done}/${total} sweeps`),
  }).finally(() => p.done());
  console.log(formatVerify(rows));
  if (rows.some((r) => !r.pass)) process.exitCode = 1;
}

/** The verification table: target, measured, error, allowance. */
export function formatVerify(rows: readonly VerifyRow[]): string {
  const fmt = (v: number, what: string) => (what.includes('(A)') ? `${(v * 1e12).toFixed(1)} pA` : v.toFixed(4));
  const worst = rows.reduce((w, r) => Math.max(w, Math.abs(r.error) / r.allowed), 0);
  return [
    table(
      ['quantity', 'target', 'measured', 'error', 'allowed', ''],
      rows.map((r) => [
        r.what,
        fmt(r.target, r.what),
        fmt(r.measured, r.what),
        `${((100 * r.error) / r.target).toFixed(2)}%`,
        fmt(r.allowed, r.what),
        r.pass ? 'ok' : 'MISS',
      ]),
    ),
    `${rows.filter((r) => r.pass).length}/${rows.length} within tolerance; worst error ${(100 * worst).toFixed(0)}% of its allowance`,
  ].join('\n');
}

/** Whether a folder lies inside an installed npm package (below a node_modules folder). */
export function isInstalledPackage(dir: string): boolean {
  return resolve(dir).split(sep).includes('node_modules');
}

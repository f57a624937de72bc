#!/usr/bin/env node
// A wide random network (issue 13: width 128 through a Slurm array) partitioned per cell on Slurm, states against the
// software model. Needs a Slurm (SLURM_CONF set: eval "$(scripts/slurm-local.sh start)") and a build (npm run build).
// No monolithic run: at width 64 one frame would take about an hour of CPU here, at 128 far more (docs/slurm.md).
//
//   nice node bench/partition-slurm-wide.mjs [width=128] [frames=1] [by=cell]
//
// The network: randomNetwork seed 1, 13 inputs, 2 blocks, 2 classes (as bench/partition-wide.mjs). The clip: the first
// `frames` rows of randomInputs(max(frames, 2), 13, seed 1) (one frame alone would be all zeros: randomInputs
// normalises each feature over the clip), written with 8 significant digits.
//
// CPU seconds from the kernel's accounting, not ngspice's "Total analysis time" (elapsed, inflated by load; listed for
// contrast): per partition the task's record has its whole CPU (node + ngspice, /proc/self/stat) and its children's
// (ngspice); the merge job's is its command run again under /usr/bin/time (it reads the stored partitions and compares);
// the submitter's (building and cutting the circuit once, storing the plan, sbatch) from /usr/bin/time.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomNetwork, randomInputs, saveModel, inputsCsv } from '../dist/index.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const BIN = path.join(ROOT, 'bin', 'bmru.js');
const width = Number(process.argv[2] ?? 128);
const frames = Number(process.argv[3] ?? 1);
const by = process.argv[4] ?? 'cell';
if (!process.env.SLURM_CONF) throw new Error('SLURM_CONF is not set: eval "$(scripts/slurm-local.sh start)" first');

const dir = mkdtempSync(path.join(os.tmpdir(), `bmru-bench-w${width}-`));
const model = path.join(dir, `random-w${width}.json`);
await saveModel(randomNetwork({ inputs: 13, width, blocks: 2, classes: 2, seed: 1 }), model, `random width ${width}`);
const all = randomInputs(Math.max(frames, 2), 13, 1);
const clip = path.join(dir, `clip${frames}.csv`);
writeFileSync(clip, inputsCsv({ frames, features: 13, data: all.data.subarray(0, frames * 13) }));

/** Runs a command under /usr/bin/time: its CPU seconds (user + system, children included), wall, output. */
function timed(cmd, args) {
  const t = path.join(dir, 'time.txt');
  const r = spawnSync('/usr/bin/time', ['-o', t, '-f', '%U %S %e', cmd, ...args], {
    cwd: dir,
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0 && r.status !== 1) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  const [u, s, wall] = readFileSync(t, 'utf8').trim().split('\n').pop().split(' ').map(Number);
  return { cpuS: u + s, wallS: wall, stdout: r.stdout, stderr: r.stderr };
}

const out = path.join(dir, 'slurm');
const args = ['compare', '-m', model, '-i', clip, '--partitioned', '--partition-by', by];
const submit = timed('nice', [
  'node',
  BIN,
  ...args,
  ...['--max-transistors', '1000000', '--timeout', '7200', '--slurm', '--wait', '-o', out],
]);
const submissions = Number(/sbatch submissions: (\d+)/.exec(submit.stderr)?.[1] ?? NaN);
const mergeLine = readFileSync(path.join(out, 'slurm', 'merge.sbatch'), 'utf8')
  .trim()
  .split('\n')
  .pop();
const merge = timed('nice', ['bash', '-c', `cd '${ROOT}' && ${mergeLine.replace(/^exec /, '')} >/dev/null 2>&1`]);

const records = readdirSync(path.join(out, 'partitions'))
  .filter((n) => /^p\d+(-pass2)?\.json$/.test(n))
  .map((n) => JSON.parse(readFileSync(path.join(out, 'partitions', n), 'utf8')));
const sum = (f) => records.reduce((s, r) => s + f(r), 0);
const taskS = sum((r) => r.taskCpuS);
const ngspiceS = sum((r) => r.childCpuS);
const acctS = sum((r) => r.info.cpuS ?? 0);
const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'));
const stages = JSON.parse(readFileSync(path.join(out, 'slurm', 'submitted.json'), 'utf8')).stages.length;
const started = Math.min(...records.map((r) => Date.parse(r.startedAt)));
const ended = Math.max(...records.map((r) => Date.parse(r.endedAt)));
const c = report.comparison;

console.log(`width ${width}, ${frames} frame(s), per ${by}, c180 (${dir})`);
console.log(
  `transistors ${report.transistors}, partitions ${records.length}, stages ${stages}, sbatch submissions ${submissions}`,
);
console.log(
  `CPU-s: ngspice ${ngspiceS.toFixed(1)} (rusage; its "Total analysis time" ${acctS.toFixed(1)}), node in the tasks ` +
    `${(taskS - ngspiceS).toFixed(1)} (${((taskS - ngspiceS) / records.length).toFixed(2)} per task), merge ` +
    `${merge.cpuS.toFixed(1)}, submitter ${submit.cpuS.toFixed(1)}; total ${(taskS + merge.cpuS + submit.cpuS).toFixed(1)}`,
);
console.log(
  `wall s: ${submit.wallS.toFixed(0)} submit to merge's end (first partition start to last end ${((ended - started) / 1e3).toFixed(0)})`,
);
console.log(
  `states vs the software model: ${(c.stateAgreement * 100).toFixed(2)}% of ${c.unitFrames} unit-frames, decision ` +
    `${c.decisionMatch ? 'matches' : 'differs'}; ${report.executor}; ${report.simulation}`,
);

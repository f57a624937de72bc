#!/usr/bin/env node
// The same partitioned compare on the local pool and as Slurm job arrays (bmru compare --partitioned --slurm):
// states and candidates equal?, CPU seconds of each, sbatch submissions. Needs a Slurm (SLURM_CONF set:
// eval "$(scripts/slurm-local.sh start)") and a build (npm run build).
//
//   node bench/partition-slurm.mjs [frames=10] [by=cell] [model=models/example/kws-example.json]
//
// CPU seconds: the local run's whole process tree (node + its ngspice, /usr/bin/time); on Slurm, the tasks' own
// (each partition's record: node + its ngspice, from /proc/self/stat), the merge job's (its command run again under
// /usr/bin/time: it only reads the stored partitions) and the submitter's. ngspice's "Total analysis time" (summed
// over partitions, from each report.json) is listed too: it is elapsed time, not CPU (a loaded machine inflates it).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const BIN = path.join(ROOT, 'bin', 'bmru.js');
const [frames = '10', by = 'cell', model = path.join(ROOT, 'models', 'example', 'kws-example.json')] =
  process.argv.slice(2);
if (!process.env.SLURM_CONF) throw new Error('SLURM_CONF is not set: eval "$(scripts/slurm-local.sh start)" first');

const dir = mkdtempSync(path.join(os.tmpdir(), 'bmru-bench-pslurm-'));
const clipRows = readFileSync(path.join(ROOT, 'models', 'example', 'clip-101.csv'), 'utf8').split('\n');
const clip = path.join(dir, `clip${frames}.csv`);
writeFileSync(clip, clipRows.slice(0, Number(frames) + 1).join('\n') + '\n');

/** Runs a command under /usr/bin/time; its CPU seconds (user + system, children included) and wall. */
function timed(cmd, args) {
  const t = path.join(dir, 'time.txt');
  const r = spawnSync('/usr/bin/time', ['-o', t, '-f', '%U %S %e', cmd, ...args], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0 && r.status !== 1) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  const { stdout, stderr } = r;
  const [u, s, wall] = readFileSync(t, 'utf8').trim().split('\n').pop().split(' ').map(Number);
  return { cpuS: u + s, wallS: wall, stdout, stderr };
}

const common = ['compare', '-m', model, '-i', clip, '--partitioned', '--partition-by', by, '--timeout', '1800'];
const local = timed('nice', ['node', BIN, ...common, '-o', path.join(dir, 'local')]);
const submit = timed('nice', ['node', BIN, ...common, '--slurm', '--wait', '-o', path.join(dir, 'slurm')]);
const submissions = Number(/sbatch submissions: (\d+)/.exec(submit.stderr + submit.stdout)?.[1] ?? NaN);
const mergeLine = readFileSync(path.join(dir, 'slurm', 'slurm', 'merge.sbatch'), 'utf8')
  .trim()
  .split('\n')
  .pop();
const merge = timed('nice', ['bash', '-c', `cd '${ROOT}' && ${mergeLine.replace(/^exec /, '')} >/dev/null 2>&1`]);
const records = readdirSync(path.join(dir, 'slurm', 'partitions'))
  .filter((n) => /^p\d+(-pass2)?\.json$/.test(n))
  .map((n) => JSON.parse(readFileSync(path.join(dir, 'slurm', 'partitions', n), 'utf8')));
const tasksCpuS = records.reduce((s, r) => s + r.taskCpuS, 0);

const report = (d) => JSON.parse(readFileSync(path.join(dir, d, 'report.json'), 'utf8'));
const frameRows = (d) =>
  readFileSync(path.join(dir, d, 'frames.csv'), 'utf8')
    .trimEnd()
    .split('\n');
const col = (rows, name) => {
  const at = rows[0].split(',').indexOf(name);
  return rows.slice(1).map((r) => r.split(',')[at]);
};
const same = (name) => {
  const a = col(frameRows('local'), name);
  const b = col(frameRows('slurm'), name);
  return `${a.filter((x, i) => x === b[i]).length}/${a.length}`;
};
const ngspiceCpu = (r) => r.partitions.reduce((s, p) => s + (p.cpuS ?? 0), 0);
const [a, b] = [report('local'), report('slurm')];
const supplySame = JSON.stringify(a.supplyMeanA) === JSON.stringify(b.supplyMeanA);

console.log(
  `${path.basename(model)}, ${frames} frames, --partition-by ${by}: ${a.partitions.length} partitions (${dir})`,
);
console.log('| run | executor | CPU-s (node + ngspice) | ngspice acct s (elapsed) | wall s | sbatch submissions |');
console.log('|---|---|---|---|---|---|');
console.log(
  `| local | ${a.executor} | ${local.cpuS.toFixed(2)} | ${ngspiceCpu(a).toFixed(2)} | ${local.wallS.toFixed(1)} | 0 |`,
);
console.log(
  `| Slurm | ${b.executor} | ${(tasksCpuS + merge.cpuS + submit.cpuS).toFixed(2)} (tasks ${tasksCpuS.toFixed(2)}, merge ${merge.cpuS.toFixed(2)}, submitter ${submit.cpuS.toFixed(2)}) | ${ngspiceCpu(b).toFixed(2)} | ${submit.wallS.toFixed(1)} | ${submissions} |`,
);
console.log(
  `states identical ${same('state_circuit')}, candidates identical ${same('candidate_circuit')}, supply identical ${supplySame}; verdicts ${a.verdict.pass} / ${b.verdict.pass}`,
);

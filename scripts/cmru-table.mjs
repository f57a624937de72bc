#!/usr/bin/env node
// The CMRU comparison table of docs/cmru.md from the runs of scripts/cmru-sweep.sh (out/cmru/runs/<config>-s<seed>.*).
// Epochs to converge: the first epoch whose validation accuracy is within 1 point of the best the run reaches
// (E_best-1), and the first at or above 90% (E_90; '-' if never). CPU seconds from /usr/bin/time (cpu.txt).
// Usage: node scripts/cmru-table.mjs [runs folder]
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2] ?? 'out/cmru/runs';
const CONFIGS = ['bmru', 'relaxed', 'cmru', 'annealed'];
const cpu = Object.fromEntries(
  (existsSync(join(dir, 'cpu.txt')) ? readFileSync(join(dir, 'cpu.txt'), 'utf8') : '')
    .split('\n')
    .filter((l) => /^\S+ [\d.]+ [\d.]+$/.test(l))
    .map((l) => {
      const [name, user, sys] = l.split(' ');
      return [name, Number(user) + Number(sys)];
    }),
);
const pct = (x) => (100 * x).toFixed(1);
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const rows = [];
for (const config of CONFIGS) {
  const runs = [];
  for (let seed = 1; seed <= 9; seed++) {
    const stem = join(dir, `${config}-s${seed}`);
    if (!existsSync(`${stem}.report.json`)) continue;
    const report = JSON.parse(readFileSync(`${stem}.report.json`, 'utf8'));
    const [header, ...lines] = readFileSync(`${stem}.loss.csv`, 'utf8').trim().split('\n');
    const col = header.split(',').indexOf('val_acc');
    const val = lines.map((l) => Number(l.split(',')[col]));
    const best = Math.max(...val);
    const eBest = val.findIndex((v) => v >= best - 0.01 - 1e-9) + 1;
    const e90 = val.findIndex((v) => v >= 0.9) + 1;
    runs.push({
      seed,
      test: report.scores.test.accuracy,
      eBest,
      e90,
      kept: report.bestEpoch,
      cpu: cpu[`${config}-s${seed}`],
    });
  }
  if (runs.length === 0) continue;
  rows.push(
    `| ${config} | ${runs.map((r) => r.seed).join(',')} | ${runs.map((r) => pct(r.test)).join(' / ')} | ` +
      `${pct(mean(runs.map((r) => r.test)))} | ${runs.map((r) => r.eBest).join(' / ')} | ` +
      `${runs.map((r) => (r.e90 > 0 ? r.e90 : '-')).join(' / ')} | ${runs.map((r) => r.kept).join(' / ')} | ` +
      `${runs.every((r) => r.cpu !== undefined) ? mean(runs.map((r) => r.cpu)).toFixed(0) : '?'} |`,
  );
}
console.log(
  '| config | seeds | test accuracy % per seed | mean | E_best-1 per seed | E_90 per seed | kept epoch | CPU s / run |',
);
console.log('|---|---|---|---|---|---|---|---|');
for (const r of rows) console.log(r);

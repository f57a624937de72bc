#!/usr/bin/env node
// Averages the parameters of several checkpoints of one training run (weight averaging, as in stochastic weight
// averaging): a measurement tool for issue 16, not a training option (docs/kws.md, "Checkpoint averaging").
//
//   node scripts/average-checkpoints.mjs <checkpoints dir> -o out.json [--slack 0.01 | --epochs 44-91]
//
// The folder is what `bmru train --checkpoints <dir>` writes (checkpoints.csv and epoch-NNN.json). --slack: the
// checkpoints `bmru train` chooses among (validation accuracy within the slack of the best, silence guard passed);
// --epochs: every checkpoint of that inclusive range. Every tensor of the model file is averaged elementwise.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isKeywordClass } from '../dist/audio/dataset.js';

const args = process.argv.slice(2);
const opt = (flag) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
const [dir] = args;
const out = opt('-o');
if (!dir || dir.startsWith('--') || !out) {
  console.error(
    'usage: node scripts/average-checkpoints.mjs <checkpoints dir> -o out.json [--slack 0.01 | --epochs a-b]',
  );
  process.exit(2);
}
const csvFile = join(dir, 'checkpoints.csv');
const [head, ...lines] = readFileSync(csvFile, 'utf8').trim().split('\n');
const cols = head.split(',');
const rows = lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], v])));
for (const need of ['epoch', 'accuracy', 'silence', 'file'])
  if (!cols.includes(need)) throw new Error(`${csvFile}: expected a column '${need}' (bmru train --checkpoints)`);

/** The rows to average: an epoch range, or the selection's pool (within `slack` of the best guarded accuracy). */
function chosen() {
  const range = opt('--epochs');
  if (range) {
    const m = /^(\d+)-(\d+)$/.exec(range);
    if (!m) throw new Error(`--epochs: expected first-last (e.g. 44-91), got '${range}'`);
    return rows.filter((r) => Number(r.epoch) >= Number(m[1]) && Number(r.epoch) <= Number(m[2]));
  }
  const slack = Number(opt('--slack') ?? 0.01);
  // The silence guard (trainer.ts): a checkpoint that calls a silent clip a keyword does not compete.
  const guarded = rows.filter((r) => !isKeywordClass(r.silence));
  const pool = guarded.length > 0 ? guarded : rows;
  const best = Math.max(...pool.map((r) => Number(r.accuracy)));
  // 1e-9: as trainer.ts, the slack is inclusive of accuracies that are ratios of clip counts.
  return pool.filter((r) => Number(r.accuracy) >= best - slack - 1e-9);
}

const picked = chosen();
if (picked.length === 0) throw new Error(`${csvFile}: no checkpoint in the range asked`);
const models = picked.map((r) => JSON.parse(readFileSync(join(dir, r.file), 'utf8')));

/** Elementwise mean of equally shaped nested number arrays. */
const mean = (vals, where) => {
  if (Array.isArray(vals[0])) {
    if (vals.some((v) => v.length !== vals[0].length)) throw new Error(`${where}: checkpoints differ in shape`);
    return vals[0].map((_, i) =>
      mean(
        vals.map((v) => v[i]),
        `${where}[${i}]`,
      ),
    );
  }
  return vals.reduce((a, b) => a + b, 0) / vals.length;
};
const result = structuredClone(models[0]);
for (const name of Object.keys(result.tensors))
  result.tensors[name] = mean(
    models.map((m) => m.tensors[name]),
    name,
  );
result.description = `average of the checkpoints of epochs ${picked.map((r) => r.epoch).join(', ')} (${dir})`;
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
console.log(`${out}: average of ${picked.length} checkpoints (epochs ${picked.map((r) => r.epoch).join(', ')})`);

// Sums what bench/ngspice-acct.sh kept of each ngspice run: its CPU seconds and acct's elapsed, transient analysis,
// netlist loading and subcircuit/parameter expansion times; runs without all four acct lines (the version probe, the
// code-model probe: src/spice/filesource.ts) count only in the CPU total.
//   node bench/ngspice-acct.mjs <ACCT_DIR>
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
if (!dir) throw new Error('usage: node bench/ngspice-acct.mjs <ACCT_DIR>');
const ACCT = {
  elapsed: 'Total elapsed time',
  analysis: 'Total analysis time',
  loading: 'Netlist loading time',
  expansion: 'Subckt and Param expansion time',
};
const sum = { cpu: 0, ...Object.fromEntries(Object.keys(ACCT).map((k) => [k, 0])) };
const expansions = [];
let runs = 0;
for (const name of readdirSync(dir).filter((n) => n.endsWith('.time'))) {
  const [user, sys] = readFileSync(join(dir, name), 'utf8').trim().split(/\s+/).slice(-2).map(Number);
  sum.cpu += user + sys;
  const out = readFileSync(join(dir, name.replace(/\.time$/, '.out')), 'utf8');
  const value = (label) => Number(new RegExp(`${label}(?: \\(seconds\\))? = ([\\d.eE+-]+)`).exec(out)?.[1] ?? NaN);
  if (Object.values(ACCT).some((label) => Number.isNaN(value(label)))) continue;
  runs++;
  for (const [k, label] of Object.entries(ACCT)) sum[k] += value(label);
  expansions.push(value(ACCT.expansion));
}
expansions.sort((a, b) => a - b);
const s = (x) => x.toFixed(1);
console.log(
  `${runs} ngspice runs with acct: CPU ${s(sum.cpu)} s, acct elapsed ${s(sum.elapsed)} s = transient analysis ` +
    `${s(sum.analysis)} + netlist loading ${s(sum.loading)} + subckt/param expansion ${s(sum.expansion)} s ` +
    `(expansion per run: median ${expansions[Math.floor(runs / 2)]?.toFixed(3)} s, largest ${expansions.at(-1)?.toFixed(3)} s)`,
);

// Where the cells' supply goes as the network widens (issue 13, docs/power.md "Widths 16-128"): each cell of
// `analyze power --scaling`'s network (the same seeded network and clip) simulated in its own partition, so each
// partition's vdd_cell current is one cell's; against the DC budget of DESIGN §3's Schmitt trigger per frame
// (ON: M2 sinks I_thresh, which M1 + M9 supply, plus M7's I_width and M4's I_gain; OFF: M1 copies the candidate,
// which is below I_thresh), computed from the software model's states and candidates on the realised parameters.
// The partitions run without time windows, so the figures differ from `--scaling`'s by what windows change.
//   npm run build && nice node scripts/cell-power-probe.mjs [--widths 16,32] [--frames 10] [-o out/cell-power]
// Writes <out>/cells-w<N>.csv (one row per cell) and prints a table per width with fitted exponents.
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  SCALING_SHAPE,
  cellThresholds,
  cosimulate,
  currentProbe,
  loadCalibration,
  fitPowerLaw,
  loadProcess,
  powerFromPlot,
  randomInputs,
  randomNetwork,
  readRawfile,
  series,
  timeAverage,
  transientPlot,
} from '../dist/index.js';
import { resolveProcessPath } from '../dist/util/paths.js';

const { values } = parseArgs({
  options: {
    widths: { type: 'string', default: '16,32' },
    frames: { type: 'string', default: '10' },
    seed: { type: 'string', default: '1' },
    workers: { type: 'string', short: 'j', default: '2' },
    out: { type: 'string', short: 'o', default: 'out/cell-power' },
  },
});
const widths = values.widths.split(',').map(Number);
const frames = Number(values.frames);
const seed = Number(values.seed);
mkdirSync(values.out, { recursive: true });

const proc = await loadProcess(resolveProcessPath('c180'));
const calibration = await loadCalibration(proc.dir);
const CELL_SUPPLY = currentProbe('vdd_cell');
/** Width 128 is 83,387 transistors (docs/power.md): above the default budget, which guards monolithic runs. */
const MAX_TRANSISTORS = 100_000;
/** A cell instance line of a partition's deck: `Xb0c3 vdd_cell 0 ... bmru_cell`. */
const CELL_LINE = /^x(b(\d+)c(\d+))\s.*\bbmru_cell\s*$/gim;

const points = [];
for (const width of widths) {
  const net = randomNetwork({ ...SCALING_SHAPE, width, seed: seed * 1000 + width });
  const inputs = randomInputs(frames, SCALING_SHAPE.inputs, seed);
  const started = Date.now();
  const r = await cosimulate(net, inputs, {
    process: proc,
    calibration,
    partitioned: true,
    partitionBy: 'cell',
    maxTransistors: MAX_TRANSISTORS,
    // Each partition one deck over the whole clip: a partition run as time windows keeps only its last window's
    // work directory, whose rawfile would stand for the whole clip here.
    timeWindows: 1,
    handoffPointsPerDeck: 0,
    workers: Number(values.workers),
    run: { name: `cell-power-w${width}`, keepWorkDir: 'always', timeoutMs: 7_200_000 },
  });
  const wallS = (Date.now() - started) / 1000;
  const merged = powerFromPlot(transientPlot(r.run.plots), r.generated.probes.supplies, proc.vddV, net.frameS);
  const mergedCellW = merged.domains.find((d) => d.domain === 'cell').meanW;
  const u = net.unitCurrentA;
  const vdd = proc.vddV;
  const software = r.references.realised.software;
  const realised = r.generated.realised;
  const rows = [];
  let otherW = 0;
  for (const p of r.simulation.partitions) {
    const deck = readFileSync(path.join(p.workDir, 'deck.cir'), 'utf8');
    const cells = [...deck.matchAll(CELL_LINE)];
    const [plot] = await readRawfile(path.join(p.workDir, 'out.raw'), { vectors: [CELL_SUPPLY] }).then((plots) => [
      transientPlot(plots),
    ]);
    const { timeS: time, y: i } = series(plot, CELL_SUPPLY);
    const meanW = -timeAverage(time, i) * vdd;
    if (cells.length !== 1) {
      otherW += meanW;
      continue;
    }
    const [, tag, k, j] = cells[0];
    const block = Number(k);
    const cell = Number(j);
    const th = cellThresholds(realised.blocks[block].cell);
    const S = realised.cells;
    // From frame 1 on: frame 0 holds block k >= 1 in its initial state until resetReleaseS (below).
    const from = time.findIndex((t) => t >= net.frameS);
    const laterW = -timeAverage(time.subarray(from), i.subarray(from)) * vdd;
    const budgetU = [];
    let on = 0;
    let candOnU = 0;
    let candMaxU = 0;
    for (let t = 0; t < frames; t++) {
      const s = software.states[block][t * S + cell];
      const c = Math.max(software.candidates[block][t * S + cell], 0);
      candMaxU = Math.max(candMaxU, c);
      if (s) {
        on++;
        candOnU += c;
      }
      budgetU.push(
        s ? th.betaHi[cell] + (th.betaHi[cell] - th.betaLo[cell]) + th.alpha[cell] : Math.min(c, th.betaHi[cell]),
      );
    }
    // A cell of block k >= 1 held OFF by its reset (s0 = 0) while its frame-0 candidate is above threshold: V0 is
    // clamped to ground, so M1 passes the whole candidate into the switch (DESIGN §3; generate.ts resetReleaseS).
    const releaseS = r.generated.probes.releaseS[block];
    const c0 = Math.max(software.candidates[block][cell], 0);
    const holdU = th.s0[cell] === 0 && c0 > th.betaHi[cell] ? (c0 * releaseS) / (frames * net.frameS) : 0;
    const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
    rows.push({
      tag,
      measuredW: meanW,
      budgetW: mean(budgetU) * u * vdd,
      holdW: holdU * u * vdd,
      laterW,
      laterBudgetW: mean(budgetU.slice(1)) * u * vdd,
      onShare: on / frames,
      candOnU: on ? candOnU / on : 0,
      candMaxU,
      betaHiU: th.betaHi[cell],
      alphaU: th.alpha[cell],
    });
  }
  // Every kept work directory of this width, the time windows' included (only the stitched ones are listed).
  for (const d of readdirSync(tmpdir()))
    if (d.startsWith(`bmru-ngspice-cell-power-w${width}-`))
      rmSync(path.join(tmpdir(), d), { recursive: true, force: true });
  const csv = [
    'cell,measured_nW,budget_nW,reset_hold_nW,excess_nW,frames1on_measured_nW,frames1on_budget_nW,on_share,mean_candidate_when_on_units,max_candidate_units,beta_hi_units,alpha_units',
    ...rows.map((x) =>
      [
        x.tag,
        (x.measuredW * 1e9).toFixed(4),
        (x.budgetW * 1e9).toFixed(4),
        (x.holdW * 1e9).toFixed(4),
        ((x.measuredW - x.budgetW - x.holdW) * 1e9).toFixed(4),
        (x.laterW * 1e9).toFixed(4),
        (x.laterBudgetW * 1e9).toFixed(4),
        x.onShare.toFixed(2),
        x.candOnU.toFixed(3),
        x.candMaxU.toFixed(3),
        x.betaHiU.toFixed(3),
        x.alphaU.toFixed(3),
      ].join(','),
    ),
  ].join('\n');
  writeFileSync(path.join(values.out, `cells-w${width}.csv`), csv + '\n');
  const sum = (f) => rows.reduce((s, x) => s + f(x), 0) * 1e9;
  const point = {
    width,
    cells: rows.length,
    measured: sum((x) => x.measuredW),
    merged: mergedCellW * 1e9,
    outside: otherW * 1e9,
    budget: sum((x) => x.budgetW),
    hold: sum((x) => x.holdW),
    later: sum((x) => x.laterW),
    laterBudget: sum((x) => x.laterBudgetW),
    states: r.comparison.stateAgreement,
    wallS,
  };
  points.push(point);
  console.error(`width ${width}: ${rows.length} cells, ${wallS.toFixed(0)} s`);
}

const f = (x) => x.toFixed(2);
console.log(
  '| width | cells | cell domain (nW) | DC budget | reset hold | budget + hold | measured / (budget + hold) | from frame 1: measured | from frame 1: budget | states |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const p of points)
  console.log(
    `| ${p.width} | ${p.cells} | ${f(p.measured)} (merged ${f(p.merged)}) | ${f(p.budget)} | ${f(p.hold)} | ${f(p.budget + p.hold)} | ${(p.measured / (p.budget + p.hold)).toFixed(3)} | ${f(p.later)} | ${f(p.laterBudget)} | ${(p.states * 100).toFixed(2)}% |`,
  );
if (points.length >= 2) {
  const n = points.map((p) => p.width);
  const k = (pick) => fitPowerLaw(n, points.map(pick)).exponent.toFixed(2);
  console.log(
    `\nexponents vs N over ${n.join(', ')}: measured ${k((p) => p.measured)}, budget + hold ${k((p) => p.budget + p.hold)}, ` +
      `from frame 1 measured ${k((p) => p.later)}, from frame 1 budget ${k((p) => p.laterBudget)}`,
  );
}

#!/usr/bin/env node
// `npm run results`: run every command behind a README figure and write what it measured to docs/results.md (for
// people) and docs/results.json (for the drift test, test/results/results.test.ts), with the commit, the date and
// the ngspice version. The README quotes figures from these files only.
//
//   npm run results                   every row (~1 h on 2 cores: the two 50-clip KWS runs dominate)
//   npm run results -- --only example-c180,fidelity-gate
//   npm run results -- --cheap        the rows the CI drift test re-runs
//   npm run results -- --list         the rows' ids (--help: usage)
//
// A row is a command and how to read its figures from the JSON it writes (or its stdout); figures are numbers,
// each with the tolerance within which a re-run must reproduce it.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'out', 'results');
const KIT = resolve(ROOT, '..', 'shared', 'pdk', 'gf180mcu');
const BMRU = join(ROOT, 'bin', 'bmru.js');

/** How far a re-run may move a figure: state agreements in points (1 of 808 unit-frames is 0.12), power relative. */
export const TOLERANCE = { percentPoints: 0.5, powerRel: 0.02, count: 0, disagreements: 1 };

const pct = (x) => Math.round(x * 1e4) / 100;
const nW = (w) => Math.round(w * 1e11) / 100;
const fig = (value, unit, tol) => ({ value, unit, tol });
const statesFig = (x) => fig(pct(x), '%', { abs: TOLERANCE.percentPoints });
const powerFig = (w) => fig(nW(w), 'nW', { rel: TOLERANCE.powerRel });
const countFig = (n) => fig(n, '', { abs: TOLERANCE.count });

/** Figures of a `bmru compare` report.json; its core power checked against the run's own `average power` line. */
function compareFigures(dir, vddV, stdout) {
  const r = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
  const f = {};
  for (const [name, ref] of Object.entries(r.references)) {
    f[`states vs ${name}`] = statesFig(ref.stateAgreement);
    f[`unit-frames differing from ${name}`] = fig(ref.disagreements, '', { abs: TOLERANCE.disagreements });
    f[`decision matches ${name}`] = countFig(ref.decisionMatch ? 1 : 0);
  }
  for (const b of r.comparison.boundaries) {
    f[`block ${b.block} candidate error vs ${r.reference}`] = fig(pct(b.candidateRelError), '%', { abs: 0.2 });
    f[`block ${b.block} suppression vs ${r.reference}`] = fig(Math.round(b.suppression * 10) / 10, 'x', { rel: 0.1 });
  }
  const delays = r.comparison.switching.filter((s) => s.switches > 0);
  f['max switching delay'] = fig(Math.round(Math.max(...delays.map((s) => s.maxDelayS)) * 1e5) / 100, 'ms', {
    rel: 0.1,
  });
  const core = ['cell', 'ff', 'bias'].reduce((s, d) => s + r.supplyMeanA[d] * vddV, 0);
  const printed = printedCoreW(stdout);
  if (Math.abs(core - printed) > 0.005 * printed)
    throw new Error(
      `${dir}: core power ${nW(core)} nW from report.json at ${vddV} V, but compare printed ${nW(printed)} nW`,
    );
  f['core power'] = powerFig(core);
  f.transistors = countFig(r.transistors);
  return { figures: f, verdictReference: r.reference };
}

/** Cell + ff + bias from compare's `average power: cell 4.41 nW, ff 80.36 nW, bias 15.54 nW, ...` line (W). */
function printedCoreW(stdout) {
  const scale = { p: 1e-12, n: 1e-9, u: 1e-6, µ: 1e-6 };
  const w = (d) => {
    const m = new RegExp(`\\b${d} ([\\d.]+) ([pnuµ])W`).exec(/^average power:.*$/m.exec(stdout)?.[0] ?? '');
    if (!m) throw new Error(`no ${d} figure in compare's 'average power' line`);
    return Number(m[1]) * scale[m[2]];
  };
  return w('cell') + w('ff') + w('bias');
}

/** Figures of a `bmru kws` kws.json. */
function kwsFigures(dir) {
  const s = JSON.parse(readFileSync(join(dir, 'kws.json'), 'utf8')).summary;
  const f = { clips: countFig(s.simulated) };
  for (const [name, x] of Object.entries(s.references)) {
    f[`decisions agreeing with ${name}`] = countFig(x.agreement.correct);
    f[`states vs ${name}, mean`] = statesFig(x.stateAgreementMean);
    f[`states vs ${name}, worst clip`] = statesFig(x.stateAgreementMin);
  }
  for (const [cause, byMargin] of Object.entries(s.byCause))
    f[`disagreements vs ${s.reference}: ${cause}`] = fig(
      Object.values(byMargin).reduce((a, b) => a + b, 0),
      '',
      { rel: 0.1 },
    );
  f['circuit clip accuracy'] = statesFig(s.circuit.accuracy);
  f['trained clip accuracy'] = statesFig(s.trained.accuracy);
  f['core power'] = powerFig(s.coreW);
  f['total power'] = powerFig(s.totalW);
  return { figures: f, verdictReference: s.reference };
}

/** Figures printed by scripts/hwaware-kws.mjs: unit-frames of each model against the circuit, pooled over clips. */
function hwawareFigures(stdout) {
  const f = {};
  for (const m of stdout.matchAll(/^ {2}(\w+) +unit-frames +([\d.]+)% \((\d+) differ\) +decisions (\d+)\/(\d+)/gm)) {
    f[`${m[1]} vs circuit, unit-frames`] = fig(Number(m[2]), '%', { abs: TOLERANCE.percentPoints });
    f[`${m[1]} vs circuit, decisions`] = countFig(Number(m[4]));
  }
  return { figures: f };
}

/** Figures of `bmru fidelity check`: the verdict line's counts. */
function fidelityFigures(stdout, status) {
  const m = /^fidelity \S+: (PASS|FAIL) \(([^)]*)\)/m.exec(stdout);
  const counts = Object.fromEntries([...(m?.[2] ?? '').matchAll(/(\d+) ([a-z]+)/g)].map((x) => [x[2], Number(x[1])]));
  return { figures: { 'exit code': countFig(status), 'cases passing': countFig(counts.pass ?? 0) } };
}

/** Figures of `bmru calibrate --verify-only`: targets within tolerance. */
function calibrationFigures(stdout) {
  const m = /(\d+)\/(\d+) within/.exec(stdout);
  return { figures: { 'verified targets': countFig(Number(m?.[1])), targets: countFig(Number(m?.[2])) } };
}

/** Figures of `bmru train`: split accuracies from its score table, and whether the model file is the shipped one. */
function trainFigures(stdout, file, shipped) {
  const f = {};
  for (const m of stdout.matchAll(/^(train|validation|test) +\d+ +([\d.]+)%/gm))
    f[`${m[1]} clip accuracy`] = fig(Number(m[2]), '%', { abs: 0 });
  const same = readFileSync(file, 'utf8') === readFileSync(join(ROOT, shipped), 'utf8');
  f[`model file identical to ${shipped}`] = countFig(same ? 1 : 0);
  return { figures: f };
}

/** Figures printed by scripts/mc-kws.mjs, per model (named by `names`, in the order given on its command line). */
function mcFigures(stdout, names) {
  const f = {};
  // With --bootstrap: the second model's flip rate over the first's, and its 95% interval over resampled clips.
  const ratio = /flip ratio ([\d.]+), 95% over clips ([\d.]+)-([\d.]+)/.exec(stdout);
  if (ratio) {
    f[`flip ratio, ${names[1]} / ${names[0]}`] = fig(Number(ratio[1]), 'x', { abs: 0 });
    f['flip ratio, 95% interval over clips, low'] = fig(Number(ratio[2]), 'x', { abs: 0 });
    f['flip ratio, 95% interval over clips, high'] = fig(Number(ratio[3]), 'x', { abs: 0 });
  }
  const lines = [
    ...stdout.matchAll(
      /over draws mean ([\d.]+)% \(min ([\d.]+)%, max ([\d.]+)%\); decision flips (\d+) of (\d+) \(([\d.]+)%\)/g,
    ),
  ];
  lines.forEach((m, i) => {
    f[`${names[i]}: accuracy over draws, mean`] = fig(Number(m[1]), '%', { abs: 0 });
    f[`${names[i]}: accuracy over draws, min`] = fig(Number(m[2]), '%', { abs: 0 });
    f[`${names[i]}: decision flips`] = fig(Number(m[6]), '%', { abs: 0 });
  });
  return { figures: f };
}

/** Figures printed by scripts/accuracy-kws.mjs, per model (named by `names`, in command-line order). */
function accuracyFigures(stdout, names) {
  const f = {};
  const blocks = stdout.split(/^(?=\S+\.json$)/m).slice(1);
  blocks.forEach((b, i) => {
    f[`${names[i]}: trained`] = fig(Number(/trained ([\d.]+)%/.exec(b)[1]), '%', { abs: 0 });
    for (const m of b.matchAll(/^ {2}(\S+) realised ([\d.]+)% hwaware ([\d.]+)%, (\d+) unit-frames differ/gm)) {
      f[`${names[i]}: ${m[1]} realised`] = fig(Number(m[2]), '%', { abs: 0 });
      f[`${names[i]}: ${m[1]} hardware-aware`] = fig(Number(m[3]), '%', { abs: 0 });
      f[`${names[i]}: ${m[1]} hardware-aware unit-frames differing from trained`] = countFig(Number(m[4]));
    }
  });
  return { figures: f };
}

/** Figures of `bmru analyze noise` (noise.json): suppression per block and level, software and circuit, and the
 * noisy circuit's states against the model. Its draws and transient noise are seeded, so a re-run on the same code
 * reproduces them; the tolerance covers a rebuilt deck's different time steps. */
function noiseFigures(dir) {
  const r = JSON.parse(readFileSync(join(dir, 'noise.json'), 'utf8'));
  const f = {};
  const ratio = (x) => (x === 'inf' ? Infinity : Math.round(x * 10) / 10);
  for (const row of r.rows.filter((x) => x.study === 'example')) {
    const name = `${row.source} suppression, block ${row.b.block}, ${pct(row.level)}% noise`;
    const value = ratio(row.b.ratio);
    // An exact output (no flip, no ON-level noise) has no ratio: recorded as its flips, which must stay 0.
    if (Number.isFinite(value)) f[name] = fig(value, 'x', { rel: 0.2 });
    // The output error that input noise caused (flips), without the cells' own ON-level noise.
    const flipsOnly = ratio(row.b.ratioFlips);
    if (Number.isFinite(flipsOnly))
      f[`${row.source} suppression counting flips only, block ${row.b.block}, ${pct(row.level)}% noise`] = fig(
        flipsOnly,
        'x',
        { rel: 0.2 },
      );
    f[`${row.source} flips, block ${row.b.block}, ${pct(row.level)}% noise`] = fig(row.b.flips, '', { rel: 0.2 });
  }
  const run = r.circuit?.example;
  if (run) {
    f['clean circuit states vs model'] = statesFig(run.cleanStateAgreement);
    for (const l of run.levels) {
      f[`noisy circuit states vs model, ${pct(l.level)}% noise`] = statesFig(l.stateAgreement);
      f[`noisy circuit decision matches, ${pct(l.level)}% noise`] = countFig(l.decisionMatch ? 1 : 0);
    }
  }
  return { figures: f };
}

/** Figures of `bmru analyze corners` (corners.json): states, decision and core power at each PVT point. */
function cornersFigures(dir) {
  const r = JSON.parse(readFileSync(join(dir, 'corners.json'), 'utf8'));
  const f = {};
  for (const c of r.results) {
    const at = `${c.corner}, ${Math.round(c.vddScale * 100)}% VDD, ${c.temperatureC} C`;
    if (c.error) {
      f[`${at}: failed`] = countFig(1);
      continue;
    }
    f[`${at}: states`] = statesFig(c.stateAgreement);
    f[`${at}: decision matches`] = countFig(c.decisionMatch ? 1 : 0);
    f[`${at}: core power`] = powerFig(c.coreW);
  }
  return { figures: f };
}

/** Figures of `bmru analyze montecarlo` (montecarlo.json): the circuit samples' states and flips, and the software
 * model's flips under the same per-parameter sigmas. */
function monteCarloFigures(dir) {
  const r = JSON.parse(readFileSync(join(dir, 'montecarlo.json'), 'utf8'));
  const states = r.samples.map((s) => s.stateAgreement).sort((a, b) => a - b);
  return {
    figures: {
      samples: countFig(r.samples.length),
      'circuit decision flips': fig(pct(r.decisionFlipRate), '%', { abs: 5 }),
      'circuit states vs nominal model, mean': statesFig(states.reduce((a, b) => a + b, 0) / states.length),
      'circuit states vs nominal model, min': statesFig(states[0]),
      'software decision flips (same sigmas)': fig(pct(r.softwareDecisionFlipRate), '%', { abs: 1 }),
    },
  };
}

/** Figures of `bmru analyze power --scaling` (power.json): each width's power per domain and states, and the fitted
 * exponents against width. */
function scalingFigures(dir) {
  const r = JSON.parse(readFileSync(join(dir, 'power.json'), 'utf8'));
  const f = {};
  for (const p of r.scaling.points) {
    f[`width ${p.width}: transistors`] = countFig(p.transistors);
    f[`width ${p.width}: states vs model`] = statesFig(p.stateAgreement);
    for (const d of p.power.domains) f[`width ${p.width}: ${d.domain} power`] = powerFig(d.meanW);
    f[`width ${p.width}: core power`] = powerFig(p.power.coreW);
  }
  for (const fit of r.scaling.fits) {
    f[`${fit.domain}: exponent vs width`] = fig(Math.round(fit.exponentN * 100) / 100, '', { abs: 0.05 });
    f[`${fit.domain}: exponent vs weights`] = fig(Math.round(fit.exponentWeights * 100) / 100, '', { abs: 0.05 });
  }
  return { figures: f };
}

/** The keyword model as shipped before hardware-aware training (kept as the start-up test's fixture). */
const PLAIN_KWS = 'test/fixtures/models/kws-w4-startup.json';
/** The default synthetic set (bmru kws-data's -o default), and ten times its clips: the same 84 speakers and splits
 * (they depend on the seed and the speaker count only), so 1801 test clips of the same 8 test speakers. */
const KWS_DATA_DEFAULT = join('data', 'kws-synth');
const KWS_BIG = join('data', 'kws-big');
const KWS_BIG_DATA = [
  'kws-data',
  '-o',
  KWS_BIG,
  '--keyword-clips',
  '8000',
  '--other-clips',
  '8000',
  '--silence-clips',
  '2000',
  '--features',
  '',
];

/** The plain and the shipped keyword model through 1000 mismatch draws on data/kws-big's test clips, ratio interval. */
function mcBigRow(id, what, extra = []) {
  return {
    id,
    what,
    prepare: [KWS_BIG_DATA],
    script: [
      'scripts/mc-kws.mjs',
      PLAIN_KWS,
      'models/kws/kws-w4.json',
      '--features',
      join(KWS_BIG, 'features.safetensors'),
      '--clips',
      'all',
      '--draws',
      '1000',
      '--bootstrap',
      '1000',
      ...extra,
    ],
    read: (r) => mcFigures(r.stdout, ['plain', 'hardware-aware']),
  };
}

// Each shipped process's own supply: report.json holds supply currents, and power is them times this VDD (a
// literal 1.8 / 3.3 V here doubled every power figure once the supplies were lowered).
const vddOf = (kit) => JSON.parse(readFileSync(join(ROOT, 'models', kit, 'process.json'), 'utf8')).vddV;
const VDD = { c180: vddOf('c180'), gf180mcu: vddOf('gf180mcu') };
const KWS_MODEL = ['-m', 'models/kws/kws-w4.json', '-i', 'models/kws/clip-yes.csv'];

/** Every row: what it measures, its command (after `bmru`, or a script), how to read it, and whether CI re-runs it. */
export const ROWS = [
  {
    id: 'example-c180',
    what: 'shipped example (101 frames), c180',
    args: ['compare', '-o', join(OUT, 'example-c180')],
    read: (r) => compareFigures(join(OUT, 'example-c180'), VDD.c180, r.stdout),
    cheap: true,
  },
  {
    id: 'example-gf180mcu',
    what: 'shipped example (101 frames), GF180MCU',
    args: ['compare', '-p', 'gf180mcu', '--kit', KIT, '-o', join(OUT, 'example-gf180mcu')],
    read: (r) => compareFigures(join(OUT, 'example-gf180mcu'), VDD.gf180mcu, r.stdout),
    cheap: true,
  },
  {
    id: 'kws-clip-yes-c180',
    what: 'trained KWS model on models/kws/clip-yes.csv, c180',
    args: ['compare', ...KWS_MODEL, '-o', join(OUT, 'kws-clip-yes-c180')],
    read: (r) => compareFigures(join(OUT, 'kws-clip-yes-c180'), VDD.c180, r.stdout),
  },
  {
    id: 'kws-clip-yes-gf180mcu',
    what: 'trained KWS model on models/kws/clip-yes.csv, GF180MCU',
    args: ['compare', '-p', 'gf180mcu', '--kit', KIT, ...KWS_MODEL, '-o', join(OUT, 'kws-clip-yes-gf180mcu')],
    read: (r) => compareFigures(join(OUT, 'kws-clip-yes-gf180mcu'), VDD.gf180mcu, r.stdout),
  },
  {
    id: 'fidelity-gate',
    what: 'the shipped fidelity suite against its baseline (6 cases, both kits)',
    args: ['fidelity', 'check', 'models/example/fidelity-suite.yaml', '--kit', KIT, '-o', join(OUT, 'fidelity')],
    read: (r) => fidelityFigures(r.stdout, r.status),
    cheap: true,
  },
  {
    id: 'calibration-c180',
    what: 'calibration tables verified against the embedded card',
    args: ['calibrate', '-p', 'c180', '--verify-only'],
    read: (r) => calibrationFigures(r.stdout),
    // 116 targets, verify-only: 1.5-2.5 s; CI re-checks the README's 116/116 on both kits.
    cheap: true,
  },
  {
    id: 'calibration-gf180mcu',
    what: 'calibration tables verified against the GF180MCU kit',
    args: ['calibrate', '-p', 'gf180mcu', '--kit', KIT, '--verify-only'],
    read: (r) => calibrationFigures(r.stdout),
    // 116 targets, verify-only: 1.5-2.5 s; CI re-checks the README's 116/116 on both kits.
    cheap: true,
  },
  {
    id: 'kws-c180',
    what: 'keyword spotting, 50 synthetic test clips, trained width-4 model at 250 pA, c180',
    prepare: [['kws-data', '--features', '']],
    args: ['kws', '-q', '--min-agreement', '0', '-o', join(OUT, 'kws-c180')],
    read: () => kwsFigures(join(OUT, 'kws-c180')),
  },
  {
    id: 'kws-gf180mcu',
    what: 'keyword spotting, the same 50 clips, GF180MCU',
    prepare: [['kws-data', '--features', '']],
    args: ['kws', '-q', '--min-agreement', '0', '-p', 'gf180mcu', '--kit', KIT, '-o', join(OUT, 'kws-gf180mcu')],
    read: () => kwsFigures(join(OUT, 'kws-gf180mcu')),
  },
  {
    id: 'train-kws',
    what: 'the shipped keyword model retrained with bmru train defaults (hardware-aware) and seed 2: split accuracies, and the file byte for byte',
    prepare: [['kws-data', '--features', '']],
    args: ['train', '-q', '--seed', '2', '-o', join(OUT, 'train', 'kws-w4.json')],
    read: (r) => trainFigures(r.stdout, join(OUT, 'train', 'kws-w4.json'), 'models/kws/kws-w4.json'),
  },
  {
    id: 'mc-kws-c180',
    what: 'software Monte Carlo, 20 mismatch draws (c180 sigmas) x 50 test clips: the keyword model before (plain) and after hardware-aware training',
    prepare: [['kws-data', '--features', '']],
    script: ['scripts/mc-kws.mjs', PLAIN_KWS, 'models/kws/kws-w4.json'],
    read: (r) => mcFigures(r.stdout, ['plain', 'hardware-aware']),
  },
  {
    id: 'mc-kws-gf180mcu',
    what: 'the same with GF180MCU sigmas',
    prepare: [['kws-data', '--features', '']],
    script: ['scripts/mc-kws.mjs', PLAIN_KWS, 'models/kws/kws-w4.json', '--process', 'gf180mcu'],
    read: (r) => mcFigures(r.stdout, ['plain', 'hardware-aware']),
  },
  {
    id: 'mc-kws-c180-all',
    what: 'software Monte Carlo at a resolution the plain-vs-hardware-aware ratio can rest on: 1000 mismatch draws (c180 sigmas) x all 181 test clips (at 20 draws the same model flips 0.86-1.33% by draw seed alone)',
    prepare: [['kws-data', '--features', '']],
    script: ['scripts/mc-kws.mjs', PLAIN_KWS, 'models/kws/kws-w4.json', '--clips', 'all', '--draws', '1000'],
    read: (r) => mcFigures(r.stdout, ['plain', 'hardware-aware']),
  },
  {
    id: 'mc-kws-gf180mcu-all',
    what: 'the same with GF180MCU sigmas',
    prepare: [['kws-data', '--features', '']],
    script: [
      'scripts/mc-kws.mjs',
      PLAIN_KWS,
      'models/kws/kws-w4.json',
      '--clips',
      'all',
      '--draws',
      '1000',
      '--process',
      'gf180mcu',
    ],
    read: (r) => mcFigures(r.stdout, ['plain', 'hardware-aware']),
  },
  mcBigRow(
    'mc-kws-c180-big',
    "the flip ratio on ten times the held-out clips: 1000 draws (c180 sigmas) x 1801 test clips of the same 8 test speakers (bmru kws-data -o data/kws-big with 10x the clips, ~6 min), with the ratio's 95% interval over 1000 resamplings of the clips",
  ),
  mcBigRow('mc-kws-gf180mcu-big', 'the same with GF180MCU sigmas', ['--process', 'gf180mcu']),
  {
    id: 'accuracy-kws',
    what: 'clip accuracy on all 181 test clips as trained, realised and by the hardware-aware model (both kits): the keyword model before (plain) and after hardware-aware training',
    prepare: [['kws-data', '--features', '']],
    script: ['scripts/accuracy-kws.mjs', PLAIN_KWS, 'models/kws/kws-w4.json'],
    read: (r) => accuracyFigures(r.stdout, ['plain', 'hardware-aware']),
  },
  {
    id: 'accuracy-kws-big',
    what: 'the same on the 1801 test clips of data/kws-big (mc-kws-c180-big)',
    prepare: [KWS_BIG_DATA],
    script: [
      'scripts/accuracy-kws.mjs',
      PLAIN_KWS,
      'models/kws/kws-w4.json',
      '--clips',
      'all',
      '--features',
      join(KWS_BIG, 'features.safetensors'),
    ],
    read: (r) => accuracyFigures(r.stdout, ['plain', 'hardware-aware']),
  },
  {
    id: 'noise-c180',
    what: 'noise immunity of the shipped example on c180: suppression (cell input / output discrepancy) per block at 5 / 10 / 15% noise, software model and transistor-level transient noise',
    args: ['analyze', 'noise', '-o', join(OUT, 'noise-c180')],
    read: () => noiseFigures(join(OUT, 'noise-c180')),
  },
  {
    id: 'corners-gf180mcu',
    what: 'PVT corners of the shipped example on the GF180MCU kit: its five process corners, VDD +-10% and -20 / 85 C at tt, scored against the nominal model',
    args: ['analyze', 'corners', '-p', 'gf180mcu', '--kit', KIT, '-o', join(OUT, 'corners-gf180mcu')],
    read: () => cornersFigures(join(OUT, 'corners-gf180mcu')),
  },
  {
    id: 'montecarlo-c180',
    what: 'Monte Carlo device mismatch of the shipped example on c180 (its estimated Pelgrom coefficients): 20 transistor-level samples, and 1000 software draws with the same per-parameter sigmas',
    args: ['analyze', 'montecarlo', '-n', '20', '-o', join(OUT, 'montecarlo-c180')],
    read: () => monteCarloFigures(join(OUT, 'montecarlo-c180')),
  },
  {
    id: 'power-scaling-c180',
    what: 'power vs width through 128 (seeded random networks of the reference shape, 10-frame clips, c180, I_unit 1 nA), partitioned per cell on 2 workers: power per domain, states, fitted exponents (~13 min)',
    args: [
      'analyze',
      'power',
      '--scaling',
      '--partitioned',
      '--widths',
      '16,32,64,128',
      '--frames',
      '10',
      '-j',
      '2',
      '--max-transistors',
      '100000',
      '-o',
      join(OUT, 'power-scaling-c180'),
    ],
    read: () => scalingFigures(join(OUT, 'power-scaling-c180')),
  },
  {
    id: 'hwaware-kws-c180',
    what: 'hardware-aware model (and the others) against the circuit states of kws-c180, pooled unit-frames',
    script: ['scripts/hwaware-kws.mjs', join(OUT, 'kws-c180')],
    read: (r) => hwawareFigures(r.stdout),
  },
  {
    id: 'hwaware-kws-gf180mcu',
    what: 'the same on kws-gf180mcu',
    script: ['scripts/hwaware-kws.mjs', join(OUT, 'kws-gf180mcu'), '--process', 'gf180mcu'],
    read: (r) => hwawareFigures(r.stdout),
  },
];

/** Run one row; returns its record (command, figures, wall time). Throws when the command fails. */
export function runRow(row) {
  for (const p of row.prepare ?? []) {
    const out = p.includes('-o') ? p[p.indexOf('-o') + 1] : KWS_DATA_DEFAULT;
    if (p[0] === 'kws-data' && existsSync(join(ROOT, out, 'features.safetensors'))) continue;
    execFileSync(process.execPath, [BMRU, ...p], { cwd: ROOT, stdio: 'inherit' });
  }
  const argv = row.script ? row.script : [BMRU, ...row.args];
  const t0 = Date.now();
  const r = spawnSync(process.execPath, argv, { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  const wallS = (Date.now() - t0) / 1000;
  // compare exits 1 below tolerance and fidelity 1 on a regression: figures, not failures, for this file.
  if (r.status !== 0 && r.status !== 1) throw new Error(`${row.id}: exit ${r.status}\n${r.stderr}`);
  const shown = row.script
    ? `node ${row.script.map((a) => a.replace(ROOT + '/', '')).join(' ')}`
    : `node bin/bmru.js ${row.args.map((a) => a.replace(ROOT + '/', '')).join(' ')}`;
  return { id: row.id, what: row.what, command: shown.replace(KIT, '../shared/pdk/gf180mcu'), wallS, ...row.read(r) };
}

/** Where a measured value sits against a recorded figure: null when within its tolerance, else why not. */
export function drift(name, recorded, value) {
  const allowed = recorded.tol.abs ?? Math.abs(recorded.value) * (recorded.tol.rel ?? 0);
  return Math.abs(value - recorded.value) <= allowed + 1e-9
    ? null
    : `${name}: ${value}${recorded.unit} now, ${recorded.value}${recorded.unit} recorded (allowed +-${allowed})`;
}

function markdown(doc) {
  const lines = [
    '# Measured results',
    '',
    `Written by \`npm run results\` (scripts/results.mjs), last at commit ${doc.commit}, ${doc.date}, ngspice ${doc.ngspice},`,
    `${doc.machine}. The README quotes figures from this file; \`test/results/results.test.ts\` re-runs the rows marked`,
    'cheap in CI and fails when a figure moves beyond its tolerance. Regenerate after a change to the generator,',
    'the calibration or the comparator: `npm run results` (or `-- --only <id,...>`).',
    '',
  ];
  for (const r of doc.rows) {
    lines.push(`## ${r.id}${r.cheap ? ' (re-run in CI)' : ''}`, '', r.what + '.', '', '```', r.command, '```', '');
    const verdict = r.verdictReference ? `verdict reference ${r.verdictReference}, ` : '';
    lines.push(`Measured at commit ${r.commit}, ${verdict}wall time ${r.wallS.toFixed(0)} s (2 cores, shared).`, '');
    lines.push('| figure | value | tolerance |', '|---|---|---|');
    for (const [name, f] of Object.entries(r.figures)) {
      const tol = f.tol.abs !== undefined ? `+-${f.tol.abs}${f.unit}` : `+-${(f.tol.rel * 100).toFixed(0)}%`;
      lines.push(`| ${name} | ${f.value}${f.unit ? ' ' + f.unit : ''} | ${tol} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

/** What main() takes; anything else (e.g. --help) prints this and runs nothing: a full run takes about an hour. */
const USAGE = `usage: node scripts/results.mjs [--only <id,...>] [--cheap] [--list]
  (no option)   every row (~1 h on 2 cores), written to docs/results.md and docs/results.json after each row
  --only ids    those rows; the others keep their earlier record
  --cheap       the rows the CI drift test re-runs
  --list        the rows' ids and what each measures`;

async function main() {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  const known = new Set(['--only', '--cheap', '--list']);
  const unknown = args.find((a, i) => !known.has(a) && args[i - 1] !== '--only');
  const onlyMissing = args.at(-1) === '--only';
  if (unknown !== undefined || onlyMissing) {
    const why = unknown !== undefined ? `unknown option ${unknown}` : '--only needs a comma-separated list of row ids';
    process.stderr.write(`results: ${why}\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  if (args.includes('--list')) {
    for (const r of ROWS) process.stdout.write(`${r.id}${r.cheap ? ' (cheap)' : ''}: ${r.what}\n`);
    return;
  }
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1].split(',') : undefined;
  const cheapOnly = args.includes('--cheap');
  const rows = ROWS.filter((r) => (only ? only.includes(r.id) : !cheapOnly || r.cheap));
  if (only && rows.length !== only.length)
    throw new Error(`unknown row in --only: known ${ROWS.map((r) => r.id).join(', ')}`);
  mkdirSync(OUT, { recursive: true });
  const jsonFile = join(ROOT, 'docs', 'results.json');
  const previous = existsSync(jsonFile) ? JSON.parse(readFileSync(jsonFile, 'utf8')) : { rows: [] };
  // Stamped with the commit the run started from, and written after every row: a row that fails or a Ctrl-C
  // keeps the rows already measured (the next run with --only picks up the rest).
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  const ngspice = /ngspice-(\S+)/.exec(spawnSync('ngspice', ['-v'], { encoding: 'utf8' }).stdout ?? '')?.[1] ?? '?';
  const done = [];
  for (const row of rows) {
    process.stderr.write(`results: ${row.id} ...\n`);
    done.push({ ...runRow(row), cheap: Boolean(row.cheap), commit });
    await writeResults(jsonFile, previous, done, { commit, ngspice });
  }
  process.stderr.write(`results: ${done.length} rows written to docs/results.md and docs/results.json\n`);
}

/** docs/results.json and docs/results.md from the rows measured so far; rows not re-run keep their earlier record. */
async function writeResults(jsonFile, previous, done, { commit, ngspice }) {
  const merged = ROWS.map((r) => done.find((d) => d.id === r.id) ?? previous.rows.find((p) => p.id === r.id)).filter(
    Boolean,
  );
  const doc = {
    commit,
    date: new Date().toISOString().slice(0, 10),
    ngspice,
    machine: `${(await import('node:os')).cpus().length} cores`,
    rows: merged,
  };
  writeFileSync(jsonFile, JSON.stringify(doc, null, 1) + '\n');
  writeFileSync(join(ROOT, 'docs', 'results.md'), markdown(doc));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();

#!/usr/bin/env node
// Renders one example of each plot kind on synthetic data, to look at after changing src/plot/.
// Usage: npm run build && node scripts/plot-examples.mjs [out-dir]   (default /tmp/plot-examples)
import { join } from 'node:path';
import { histogram, htmlPage, lineChart, writePlot } from '../dist/plot/index.js';
import { createRng } from '../dist/util/random.js';

const out = process.argv[2] ?? '/tmp/plot-examples';
const rng = createRng(7);
const gauss = () => rng.normal();

const widths = [2, 4, 8, 16, 32, 64];
const watts = widths.map((n) => 3e-7 * n ** 1.9 * (1 + 0.05 * gauss()));
const power = await lineChart({
  title: 'Supply power vs width',
  x: { label: 'width N', log: true },
  y: { label: 'power (W)', log: true },
  series: [
    { name: 'circuit', x: widths, y: watts, mark: 'point' },
    { name: 'fit P = 3e-7 N^1.9', x: widths, y: widths.map((n) => 3e-7 * n ** 1.9), mark: 'dashed' },
  ],
});

const levels = [0, 0.05, 0.1, 0.2, 0.3, 0.4];
const noise = await lineChart({
  title: 'Noise suppression vs input noise',
  x: { label: 'input noise (σ, fraction of threshold)' },
  y: { label: 'state agreement', domain: [0, 1] },
  series: [
    { name: 'software', x: levels, y: levels.map((s) => 1 - 0.6 * s * s) },
    { name: 'circuit', x: levels, y: levels.map((s) => 1 - 0.8 * s * s - 0.01) },
  ],
});

const frames = Array.from({ length: 20 }, (_, t) => t * 1e-5);
const sw = frames.map((_, i) => (i % 7 < 4 ? 1 : 0));
const t = Array.from({ length: 400 }, (_, i) => i * 5e-7);
const circ = t.map((ti) => {
  const i = Math.floor(ti / 1e-5);
  const target = i % 7 < 4 ? 1 : 0;
  const since = ti - i * 1e-5;
  const prev = (i - 1 + 7) % 7 < 4 ? 1 : 0;
  return target + (prev - target) * Math.exp(-since / 1.5e-6);
});
const wave = await lineChart({
  title: 'Unit 2 state: software vs circuit',
  x: { label: 'time (s)' },
  y: { label: 'state (normalised)' },
  series: [
    { name: 'software (frames)', x: frames, y: sw, mark: 'step' },
    { name: 'circuit', x: t, y: circ },
  ],
});

const epochs = Array.from({ length: 50 }, (_, i) => i + 1);
const loss = await lineChart({
  title: 'Training loss',
  x: { label: 'epoch' },
  y: { label: 'cross-entropy loss', log: true },
  series: [
    { name: 'train', x: epochs, y: epochs.map((e) => 0.7 * Math.exp(-e / 12) + 0.02) },
    { name: 'validation', x: epochs, y: epochs.map((e) => 0.72 * Math.exp(-e / 14) + 0.04) },
  ],
});

const mc = await histogram({
  title: 'Monte Carlo: switching threshold',
  x: { label: 'threshold current (A)' },
  values: Array.from({ length: 500 }, () => 2e-6 * (1 + 0.08 * gauss())),
  bins: 25,
});

const plots = { power, noise, wave, loss, mc };
for (const [name, svg] of Object.entries(plots)) await writePlot(join(out, `${name}.svg`), svg);
await writePlot(
  join(out, 'report.html'),
  htmlPage(
    'Plot examples',
    Object.entries(plots).map(([heading, svg]) => ({ heading, svg, caption: 'synthetic data' })),
  ),
);
console.log(`wrote ${Object.keys(plots).length} SVGs and report.html to ${out}`);

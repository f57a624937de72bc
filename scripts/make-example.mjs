#!/usr/bin/env node
// Regenerates the shipped example (models/example/): a synthetic FQ-BMRU network of the reference
// keyword-spotting shape (13 inputs, width 4, 2 blocks, skip, 2 classes) and a 101-frame MFCC-like clip.
// Selection rule, decided before any circuit run: scan seeds from 1 and keep the first whose software
// decision wins by at least MIN_VOTE_MARGIN frames, so the example is not a coin flip by construction.
// Usage: npm run build && node scripts/make-example.mjs
import { mkdirSync, writeFileSync } from 'node:fs';
import { randomInputs, randomNetwork, runNetwork, networkToJson } from '../dist/model/index.js';

const FRAMES = 101;
const MIN_VOTE_MARGIN = 10;
const shape = { inputs: 13, width: 4, blocks: 2, classes: 2, weightRange: [0.25, 1.0] };

for (let seed = 1; seed < 1000; seed++) {
  const net = randomNetwork({ ...shape, seed });
  const clip = randomInputs(FRAMES, shape.inputs, 1000 + seed);
  const tr = runNetwork(net, clip);
  const ones = tr.votes.reduce((a, v) => a + v, 0);
  if (Math.abs(2 * ones - FRAMES) < MIN_VOTE_MARGIN) continue;
  mkdirSync('models/example', { recursive: true });
  writeFileSync(
    'models/example/kws-example.json',
    networkToJson(
      net,
      `synthetic example, reference KWS shape; scripts/make-example.mjs seed ${seed}, weights |W| in [0.25, 1]`,
    ),
  );
  const header = Array.from({ length: shape.inputs }, (_, f) => `mfcc${f}`).join(',');
  const rows = Array.from({ length: FRAMES }, (_, t) =>
    Array.from(clip.data.subarray(t * shape.inputs, (t + 1) * shape.inputs), (v) => v.toPrecision(8)).join(','),
  );
  writeFileSync('models/example/clip-101.csv', [header, ...rows].join('\n') + '\n');
  console.log(`seed ${seed}: decision ${tr.decision}, ${ones} of ${FRAMES} frames vote 1`);
  break;
}

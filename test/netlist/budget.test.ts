import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { loadModel, randomInputs, randomNetwork } from '../../src/model/index.js';
import { estimateTransistors, shapeOf } from '../../src/netlist/budget.js';
import { loadCalibration } from '../../src/netlist/calibration.js';
import { generateNetlist } from '../../src/netlist/generate.js';
import { loadProcess } from '../../src/netlist/process.js';
import { REPO_ROOT } from '../helpers.js';

const process = await loadProcess(path.join(REPO_ROOT, 'models', 'c180', 'process.json'));
const calibration = await loadCalibration(process.dir);
const built = (net: Parameters<typeof generateNetlist>[0]) =>
  generateNetlist(net, randomInputs(2, net.inputs, 1), { process, calibration }).transistors;

describe('transistor estimate from the shape alone', () => {
  it.each([
    { inputs: 13, width: 4, blocks: 2, classes: 2 },
    { inputs: 3, width: 5, cells: 2, blocks: 3, classes: 4, skip: false },
    { inputs: 2, width: 3, cells: 6, blocks: 1, classes: 3, skip: true },
    { inputs: 1, width: 1, blocks: 1, classes: 1, skip: true },
    { inputs: 1, width: 1, blocks: 1, classes: 1, skip: false },
    { inputs: 7, width: 6, cells: 3, blocks: 4, classes: 5, skip: true },
  ])('is an upper bound within 5% of what generateNetlist builds: %j', (shape) => {
    const net = randomNetwork({ ...shape, seed: 3 });
    const estimate = estimateTransistors(shapeOf(net));
    const count = built(net);
    expect(estimate).toBeGreaterThanOrEqual(count);
    expect(estimate).toBeLessThanOrEqual(count * 1.05);
  });

  // The README's scaling study ran 8284 at width 32 before issue 17's layout (ReLU(h) as h's pos half, each next
  // block's ReLU from the pre terms, the skip path copied from its terms) added 544.
  it('is exact for the scaling study network at width 32 (8828) and gives 25 788 at width 64', () => {
    const w32 = randomNetwork({ inputs: 13, width: 32, blocks: 2, classes: 2, seed: 1 });
    expect([estimateTransistors(shapeOf(w32)), built(w32)]).toEqual([8828, 8828]);
    expect(estimateTransistors({ inputs: 13, width: 64, cells: 64, blocks: 2, classes: 2, skip: true })).toBe(25_788);
  });

  it('bounds the shipped models (704 and 638 built)', async () => {
    for (const [file, count] of [
      ['example/kws-example.json', 704],
      ['kws/kws-w4.json', 638],
    ] as const) {
      const net = await loadModel(path.join(REPO_ROOT, 'models', file));
      expect(built(net)).toBe(count);
      expect(estimateTransistors(shapeOf(net))).toBe(708);
    }
  });

  it('generateNetlist refuses a network over its maxTransistors before building anything', () => {
    const net = randomNetwork({ inputs: 13, width: 4, blocks: 2, classes: 2, seed: 1 });
    expect(() => generateNetlist(net, randomInputs(2, 13, 1), { process, maxTransistors: 707 })).toThrow(InputError);
    expect(() => generateNetlist(net, randomInputs(2, 13, 1), { process, maxTransistors: 708 })).not.toThrow();
  });
});

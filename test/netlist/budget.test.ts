import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { loadModel, randomInputs, randomNetwork } from '../../src/model/index.js';
import { biasClasses, estimateTransistors, shapeOf } from '../../src/netlist/budget.js';
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
  ])(
    'is an upper bound within 5% of what generateNetlist builds, plus the unused shared bias references: %j',
    (shape) => {
      const net = randomNetwork({ ...shape, seed: 3 });
      const estimate = estimateTransistors(shapeOf(net));
      const count = built(net);
      expect(estimate).toBeGreaterThanOrEqual(count);
      expect(estimate).toBeLessThanOrEqual(count * 1.05 + 2 * biasClasses(net.unitCurrentA));
    },
  );

  // The README's scaling study ran 8284 at width 32 before issue 17's layout (ReLU(h) as h's pos half, each next
  // block's ReLU from the pre terms, the skip path copied from its terms, shared bias references) added 319.
  it('bounds the scaling study network at width 32 (8603 built) and gives 25 344 at width 64', () => {
    const w32 = randomNetwork({ inputs: 13, width: 32, blocks: 2, classes: 2, seed: 1 });
    expect([estimateTransistors(shapeOf(w32)), built(w32)]).toEqual([8608, 8603]);
    expect(estimateTransistors({ inputs: 13, width: 64, cells: 64, blocks: 2, classes: 2, skip: true })).toBe(25_344);
  });

  it('counts two diodes per shared bias reference class: I_unit / 4^k down to 50 pA', () => {
    expect([biasClasses(1e-9), biasClasses(250e-12), biasClasses(50e-12), biasClasses(10e-12)]).toEqual([3, 2, 1, 1]);
  });

  it('bounds the shipped models (678 and 674 built)', async () => {
    for (const [file, count, estimate] of [
      ['example/kws-example.json', 678, 684],
      ['kws/kws-w4.json', 674, 682],
    ] as const) {
      const net = await loadModel(path.join(REPO_ROOT, 'models', file));
      expect(built(net)).toBe(count);
      expect(estimateTransistors(shapeOf(net))).toBe(estimate);
    }
  });

  it('generateNetlist refuses a network over its maxTransistors before building anything', () => {
    const net = randomNetwork({ inputs: 13, width: 4, blocks: 2, classes: 2, seed: 1 });
    expect(() => generateNetlist(net, randomInputs(2, 13, 1), { process, maxTransistors: 683 })).toThrow(InputError);
    expect(() => generateNetlist(net, randomInputs(2, 13, 1), { process, maxTransistors: 684 })).not.toThrow();
  });
});

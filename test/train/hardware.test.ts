import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { loadModel } from '../../src/model/load.js';
import { cellThresholds, type Network } from '../../src/model/types.js';
import { loadCalibration, type Calibration } from '../../src/netlist/calibration.js';
import { loadProcess, type Process } from '../../src/netlist/process.js';
import { checkPhysicalRanges, physicalRanges, processCellLimits } from '../../src/netlist/ranges.js';
import { projectCells, realiseParams, type CellLimits, type ParamRealisation } from '../../src/train/hardware.js';
import { initParams, paramLayout, rawNetworkView } from '../../src/train/params.js';
import { majorityShare, mismatchNoiseAt, selectCheckpoint, trainNetwork } from '../../src/train/trainer.js';
import { toyData } from './toy.js';
import { REPO_ROOT } from '../helpers.js';

const SHAPE = { inputs: 3, width: 2, blocks: 1, classes: 2, skip: true };

describe('projectCells', () => {
  // A made-up process: currents 0.5 .. 3 units, hysteresis at most 80% of beta_hi (beta_lo >= 0.2 beta_hi).
  const limits: CellLimits = { processes: ['toy'], minCurrent: 0.5, maxCurrent: 3, betaLoFloor: (hi) => 0.2 * hi };

  it('raises beta_hi and alpha into the current range and narrows a too-wide hysteresis, keeping the raw signs', () => {
    const layout = paramLayout(SHAPE);
    const theta = initParams(layout, 1);
    const slot = (name: string) => layout.bySlot.get(`blocks.0.cell.${name}`)!.offset;
    // Cell 0: alpha -0.1 (below), beta1 -0.05, delta 0.15 -> beta_hi 0.2 (below): raised to 0.5, beta_lo to 0.1.
    // Cell 1: alpha 4 (above), beta1 0.1, delta -2.9 -> beta_hi 3.0 (in range), beta_lo 0.1 < 0.6: raised to 0.6.
    theta.set([-0.1, 4], slot('alpha'));
    theta.set([-0.05, 0.1], slot('beta1'));
    theta.set([0.15, -2.9], slot('delta'));
    const moved = projectCells(layout, theta, limits);
    const cell = rawNetworkView(layout, theta).blocks[0].cell;
    expect(Array.from(cell.alpha)).toEqual([-0.5, 3]);
    expect(cell.beta1[0]).toBeCloseTo(-0.1, 15);
    expect(cell.delta[0]).toBeCloseTo(0.4, 15);
    expect(cell.beta1[1]).toBeCloseTo(0.6, 15);
    expect(cell.delta[1]).toBeCloseTo(-2.4, 15);
    expect(moved).toBe(6);
    // A second projection moves nothing.
    expect(projectCells(layout, theta, limits)).toBe(0);
  });

  it('leaves a cell inside the limits bit for bit', () => {
    const layout = paramLayout(SHAPE);
    const theta = initParams(layout, 2);
    const slot = (name: string) => layout.bySlot.get(`blocks.0.cell.${name}`)!.offset;
    theta.set([1, 2], slot('alpha'));
    theta.set([0.5, -1], slot('beta1'));
    theta.set([1, 0.5], slot('delta'));
    const before = theta.slice();
    expect(projectCells(layout, theta, limits)).toBe(0);
    expect(theta).toEqual(before);
  });
});

describe('processCellLimits on the shipped kits', () => {
  const kits: { process: Process; calibration?: Calibration }[] = [];
  beforeAll(async () => {
    for (const name of ['c180', 'gf180mcu']) {
      const process = await loadProcess(path.join(REPO_ROOT, 'models', name, 'process.json'));
      kits.push({ process, calibration: await loadCalibration(process.dir) });
    }
  });

  /** One cell per (beta_hi, beta_lo) pair, at I_unit `unitA`. */
  async function withCells(unitA: number, cells: [number, number][]): Promise<Network> {
    const net = await loadModel(path.join(REPO_ROOT, 'models', 'kws', 'kws-w4.json'));
    const block = net.blocks[0];
    const beta1 = Float64Array.from(block.cell.beta1);
    const delta = Float64Array.from(block.cell.delta);
    cells.forEach(([hi, lo], j) => ((beta1[j] = lo), (delta[j] = hi - lo)));
    return {
      ...net,
      unitCurrentA: unitA,
      blocks: [{ ...block, cell: { ...block.cell, beta1, delta } }, net.blocks[1]],
    };
  }

  it('a cell at the floor builds at every I_unit on both kits; 2% below it one of them refuses', async () => {
    const currents = [250e-12, 500e-12, 1e-9];
    const limits = processCellLimits(kits, currents);
    // The c180 calibration's I_thresh rows are 50 pA .. 2.8 nA (test/hostile): in units of the lowest and highest I_unit.
    expect(limits.minCurrent).toBeCloseTo(50e-12 / 250e-12, 12);
    expect(limits.maxCurrent).toBeCloseTo(2.8e-9 / 1e-9, 12);
    const his = [0.3, 0.8, 1.5, 2.5];
    const floors = his.map((hi) => limits.betaLoFloor(hi));
    for (const u of currents) {
      const net = await withCells(
        u,
        his.map((hi, j) => [hi, floors[j]]),
      );
      for (const k of kits)
        expect(checkPhysicalRanges(net, physicalRanges(k.process, k.calibration)).clamps).toEqual([]);
    }
    for (const [j, hi] of his.entries()) {
      let refused = 0;
      for (const u of currents) {
        const net = await withCells(u, [[hi, 0.98 * floors[j]]]);
        for (const k of kits) {
          try {
            checkPhysicalRanges(net, physicalRanges(k.process, k.calibration));
          } catch (e) {
            expect(e).toBeInstanceOf(InputError);
            expect((e as InputError).message).toContain('the widest hysteresis');
            refused++;
          }
        }
      }
      expect(refused, `beta_hi ${hi}`).toBeGreaterThan(0);
    }
  });

  it('the shipped keyword model was trained inside them', async () => {
    const net = await loadModel(path.join(REPO_ROOT, 'models', 'kws', 'kws-w4.json'));
    const limits = processCellLimits(kits, [250e-12, 500e-12, 1e-9]);
    for (const block of net.blocks) {
      const th = cellThresholds(block.cell);
      for (let j = 0; j < th.betaHi.length; j++) {
        expect(th.betaHi[j]).toBeGreaterThanOrEqual(limits.minCurrent);
        expect(th.betaLo[j]).toBeGreaterThanOrEqual(limits.betaLoFloor(th.betaHi[j]) * (1 - 1e-12));
      }
    }
  });
});

describe('selectCheckpoint', () => {
  const layout = paramLayout(SHAPE);
  const ck = (epoch: number, acc: number, loss: number) => {
    const theta = new Float64Array(layout.size);
    theta[0] = epoch; // lets the score tell checkpoints apart
    return { epoch, acc, loss, theta };
  };
  const checkpoints = [ck(1, 0.9, 0.5), ck(2, 0.95, 0.4), ck(3, 0.95, 0.3), ck(4, 0.945, 0.2), ck(5, 0.93, 0.1)];

  it('without a hardware score: the best accuracy, then the lowest loss, then the earliest', () => {
    expect(selectCheckpoint(checkpoints, layout, { selectSlack: 0.01 }).best.epoch).toBe(3);
    // The lower loss first this time, then an exact tie: the earlier checkpoint stays.
    const early = [ck(1, 0.95, 0.3), ck(2, 0.95, 0.4), ck(3, 0.9, 0.1)];
    expect(selectCheckpoint(early, layout, { selectSlack: 0.01 }).best.epoch).toBe(1);
    const tie = [ck(1, 0.95, 0.3), ck(2, 0.95, 0.3)];
    expect(selectCheckpoint(tie, layout, { selectSlack: 0.01 }).best.epoch).toBe(1);
  });

  it('with one: the best score within the slack of the best accuracy, then accuracy, then loss', () => {
    const scores: Record<number, number> = { 1: 1, 2: 0.99, 3: 0.98, 4: 0.995, 5: 1 };
    const hardwareScore = (net: Network) => scores[net.pre.weight.data[0]];
    const r = selectCheckpoint(checkpoints, layout, { selectSlack: 0.01, hardwareScore });
    // Epochs 1 and 5 score higher but are more than 1% below 0.95.
    expect(r.best.epoch).toBe(4);
    expect(r.hardware!.map((h) => h.epoch)).toEqual([2, 3, 4]);
    expect(selectCheckpoint(checkpoints, layout, { selectSlack: 0, hardwareScore }).best.epoch).toBe(2);
    expect(selectCheckpoint(checkpoints, layout, { selectSlack: 0.05, hardwareScore }).best.epoch).toBe(5);
    // Equal scores: the better accuracy, then the lower loss.
    const flat = selectCheckpoint(checkpoints, layout, { selectSlack: 0.05, hardwareScore: () => 1 });
    expect(flat.best.epoch).toBe(3);
  });
});

describe('realiseParams', () => {
  // A made-up process: weights drawn on a 0.1 grid, left out below 0.05; sigmas 10% (weights), 2% (unity), 3% (thresholds).
  const toy: ParamRealisation = {
    process: 'toy',
    weight: (w) => (w < 0.05 ? 0 : Math.round(w * 10) / 10),
    weightSigma: () => 0.1,
    unitySigma: 0.02,
    thresholdSigma: 0.03,
  };
  /** Draws +1, -1, +2, -2, ... and counts them. */
  const fixedDraws = () => {
    let n = 0;
    return { normal: () => (++n % 2 === 1 ? (n + 1) / 2 : -n / 2), count: () => n };
  };

  it('without noise draws every weight on the grid with its sign and leaves the rest as trained', () => {
    const layout = paramLayout(SHAPE);
    const theta = initParams(layout, 3);
    const pre = layout.bySlot.get('pre.weight')!.offset;
    theta.set([0.04, -0.04, 0.26, -0.34, 1.04, -0.051], pre);
    const out = new Float64Array(layout.size);
    const rng = fixedDraws();
    realiseParams(layout, theta, toy, 0, rng, out);
    expect(Array.from(out.subarray(pre, pre + 6))).toEqual([0, -0, 0.3, -0.3, 1, -0.1]);
    for (const slot of layout.slots)
      if (slot.kind !== 'weight')
        expect(Array.from(out.subarray(slot.offset, slot.offset + slot.size)), slot.name).toEqual(
          Array.from(theta.subarray(slot.offset, slot.offset + slot.size)),
        );
    expect(rng.count()).toBe(0);
  });

  it('with noise scales each value by 1 + noise x sigma x draw, one draw per weight, bias and cell value (none for s0)', () => {
    const layout = paramLayout(SHAPE);
    const theta = initParams(layout, 4);
    // initParams starts the biases at 0, where any scaling gives 0: give them values.
    for (const slot of layout.slots) if (slot.kind === 'bias') theta.fill(0.25, slot.offset, slot.offset + slot.size);
    const out = new Float64Array(layout.size);
    const rng = fixedDraws();
    realiseParams(layout, theta, toy, 2, rng, out);
    // Replay the draws in layout order by hand.
    let n = 0;
    const draw = () => (++n % 2 === 1 ? (n + 1) / 2 : -n / 2);
    for (const slot of layout.slots) {
      for (let i = slot.offset; i < slot.offset + slot.size; i++) {
        const v = theta[i];
        let want = v;
        if (slot.kind === 'weight') want = Math.sign(v) * toy.weight(Math.abs(v)) * (1 + 2 * 0.1 * draw());
        else if (slot.kind === 'bias') want = v * (1 + 2 * 0.02 * draw());
        else if (slot.name.endsWith('.alpha')) want = v * (1 + 2 * 0.02 * draw());
        else if (slot.kind === 'cell') want = v * (1 + 2 * 0.03 * draw());
        expect(out[i], `${slot.name}[${i - slot.offset}]`).toBeCloseTo(want, 14);
      }
    }
    const s0 = layout.bySlot.get('blocks.0.cell.s0')!;
    expect(rng.count()).toBe(layout.size - s0.size);
  });
});

describe('trainNetwork with realisations', () => {
  const exact: ParamRealisation = {
    process: 'exact',
    weight: (w) => w,
    weightSigma: () => 0,
    unitySigma: 0,
    thresholdSigma: 0,
  };
  const opts = { epochs: 3, batchSize: 8, seed: 5 };

  it('an exact, noiseless process trains the same parameters as none', async () => {
    const data = toyData();
    const a = await trainNetwork(data, opts);
    const b = await trainNetwork(data, { ...opts, realisations: [exact], realiseAfter: 0 });
    expect(Array.from(b.theta)).toEqual(Array.from(a.theta));
  });

  it('realises from the step realiseAfter names: until then the run is the plain one', async () => {
    const data = toyData();
    const none: ParamRealisation = { ...exact, process: 'none', weight: () => 0 };
    const plain = await trainNetwork(data, { ...opts, epochs: 8 });
    const never = await trainNetwork(data, { ...opts, epochs: 8, realisations: [none], realiseAfter: 1 });
    expect(Array.from(never.theta)).toEqual(Array.from(plain.theta));
    // 24 clips in batches of 8: 3 steps an epoch, 24 in all; from step 12 (epoch 5) the weights are left out.
    const half = await trainNetwork(data, { ...opts, epochs: 8, realisations: [none], realiseAfter: 0.5 });
    expect(half.history.slice(0, 4).map((h) => h.trainLoss)).toEqual(plain.history.slice(0, 4).map((h) => h.trainLoss));
    expect(half.history[4].trainLoss).not.toBe(plain.history[4].trainLoss);
  });

  it('the forward pass sees the realised weights: a process that leaves every weight out learns nothing from the inputs', async () => {
    const data = toyData();
    const none: ParamRealisation = { ...exact, process: 'none', weight: () => 0 };
    const a = await trainNetwork(data, { ...opts, epochs: 8 });
    const b = await trainNetwork(data, { ...opts, epochs: 8, realisations: [none], realiseAfter: 0 });
    // The toy set is separable on feature 0: with weights the loss falls; with every weight at 0 the logits are the
    // output biases alone, the same for every clip, so the cross-entropy stays at ln 2 on balanced classes (the biases
    // move between batches: a hair below it is possible).
    expect(a.history.at(-1)!.trainLoss).toBeLessThan(0.6);
    expect(Math.min(...b.history.map((h) => h.trainLoss))).toBeGreaterThan(Math.LN2 - 1e-3);
    // ... while the trained weights still move (straight-through): they are not the initial ones.
    expect(Array.from(b.theta)).not.toEqual(Array.from(a.theta));
  });

  it('mismatch noise changes the run, reproducibly from the seed, and needs a process', async () => {
    const data = toyData();
    const noisy = { ...exact, process: 'noisy', weightSigma: () => 0.1, unitySigma: 0.05, thresholdSigma: 0.05 };
    const a = await trainNetwork(data, { ...opts, realisations: [noisy], mismatchNoise: 1, realiseAfter: 0 });
    const b = await trainNetwork(data, { ...opts, realisations: [noisy], mismatchNoise: 1, realiseAfter: 0 });
    const c = await trainNetwork(data, { ...opts, realisations: [noisy], realiseAfter: 0 });
    expect(Array.from(a.theta)).toEqual(Array.from(b.theta));
    expect(Array.from(a.theta)).not.toEqual(Array.from(c.theta));
    await expect(trainNetwork(data, { ...opts, mismatchNoise: 1 })).rejects.toThrow(/needs the processes/);
  });

  it('ramps the mismatch noise linearly from 0 at the realise start over mismatchRamp of the steps', () => {
    // 100 steps, realised from step 20, ramp over 50 steps to k = 2: 0 until step 20, then 2 * (step - 20) / 50.
    const o = { mismatchNoise: 2, realiseAfter: 0.2, mismatchRamp: 0.5 };
    expect(mismatchNoiseAt(19, 100, o)).toBe(0);
    expect(mismatchNoiseAt(20, 100, o)).toBe(0);
    expect(mismatchNoiseAt(30, 100, o)).toBeCloseTo(0.4, 15);
    expect(mismatchNoiseAt(45, 100, o)).toBeCloseTo(1, 15);
    expect(mismatchNoiseAt(70, 100, o)).toBe(2);
    expect(mismatchNoiseAt(99, 100, o)).toBe(2);
    // No ramp: the full noise from the first realised step on, as before the option existed.
    const flat = { ...o, mismatchRamp: 0 };
    expect([0, 19, 20, 21, 99].map((s) => mismatchNoiseAt(s, 100, flat))).toEqual([0, 0, 2, 2, 2]);
    expect(mismatchNoiseAt(0, 100, { ...flat, realiseAfter: 0 })).toBe(2);
  });

  it('with a ramp the first realised step is noiseless; without one it is not', async () => {
    // 24 clips in one batch: one step per epoch, so epoch 1's loss is step 0's alone.
    const data = toyData();
    const noisy = { ...exact, process: 'noisy', weightSigma: () => 0.1, unitySigma: 0.05, thresholdSigma: 0.05 };
    const base = { ...opts, batchSize: 24, realisations: [noisy], realiseAfter: 0 };
    const clean = await trainNetwork(data, base);
    const full = await trainNetwork(data, { ...base, mismatchNoise: 2 });
    const ramped = await trainNetwork(data, { ...base, mismatchNoise: 2, mismatchRamp: 0.5 });
    expect(ramped.history[0].trainLoss).toBe(clean.history[0].trainLoss);
    expect(full.history[0].trainLoss).not.toBe(clean.history[0].trainLoss);
    // From step 1 the ramped run draws noise too.
    expect(ramped.history[1].trainLoss).not.toBe(clean.history[1].trainLoss);
  });

  it('majorityShare: the most common class among the named clips only', () => {
    const target = [0, 1, 1, 2, 1, 0];
    expect(majorityShare(target, [0, 1, 2, 3, 4, 5])).toBe(0.5);
    expect(majorityShare(target, [0, 5, 3])).toBeCloseTo(2 / 3, 15);
    expect(majorityShare(target, [])).toBe(0);
  });

  it('realiseWhenAlive: realises from the epoch after the plain run first beats the majority share', async () => {
    const data = toyData();
    const none: ParamRealisation = { ...exact, process: 'none', weight: () => 0 };
    const plain = await trainNetwork(data, { ...opts, epochs: 8 });
    const gated = await trainNetwork(data, {
      ...opts,
      epochs: 8,
      realisations: [none],
      realiseAfter: 0,
      realiseWhenAlive: true,
    });
    // Counted here from the targets, not with the function under test.
    const train = Array.from(data.splits.train);
    const keyword = train.filter((c) => data.target[c] === 1).length;
    const share = Math.max(keyword, train.length - keyword) / train.length;
    const alive = plain.history.findIndex((h) => h.train.accuracy > share);
    expect(alive).toBeGreaterThanOrEqual(0);
    expect(alive).toBeLessThan(7);
    const losses = (r: typeof plain) => r.history.map((h) => h.trainLoss);
    expect(losses(gated).slice(0, alive + 1)).toEqual(losses(plain).slice(0, alive + 1));
    expect(gated.history[alive + 1].trainLoss).not.toBe(plain.history[alive + 1].trainLoss);
  });
});

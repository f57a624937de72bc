import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hardwareAwareNetwork, runHardwareAware } from '../../src/analysis/hwmodel.js';
import { runNetwork, type InputSequence } from '../../src/model/network.js';
import { randomNetwork } from '../../src/model/random.js';
import type { HardwareTables } from '../../src/netlist/hardware-tables.js';
import { loadProcess } from '../../src/netlist/process.js';
import { REPO_ROOT } from '../helpers.js';
import type { Network } from '../../src/model/types.js';
import { linear } from '../networks.js';
import { IDEAL, KNEE_N, UNIT_A, calibrationWith, kneeNetwork, pA, units } from './knee-case.js';

// The stepper of the hardware-aware model (runHardwareAware's advance and cell), on expectations worked out apart
// from it: the realised network where every hardware effect is off, the closed form of a rail's charging law, and
// cell switches on tables whose switching time is a power law of the overdrive (t = t1 / d), read on the step grid.

const process = await loadProcess(path.join(REPO_ROOT, 'models', 'c180', 'process.json'));
const clip = (frames: [number, number][]): InputSequence => ({
  frames: frames.length,
  features: 2,
  data: Float64Array.from(frames.flat()),
});
const FRAME_S = 0.01;
/** The step grid after an edge: 44 steps, a factor 2^(1/4) apart, ending at the sample point (98% of the frame). */
const gridS = (k: number) => 0.98 * FRAME_S * 2 ** ((k - 44) / 4);
/** The first grid point at or after `tS` (s after the edge). */
const firstGridAfter = (tS: number) => {
  let k = 0;
  while (gridS(k) < tS) k++;
  return gridS(k);
};
/** Switching times t1 / d (s at overdrive d): ln t is linear in ln d through (0.01, 100 t1) and (1, t1). */
const powerLaw = (t1S: number) => ({
  thresh: [1e-9],
  fractions: [0, 1],
  overdrives: [0.01, 1],
  timeS: [
    [
      [100 * t1S, t1S],
      [100 * t1S, t1S],
    ],
  ],
});
/** No charge anywhere: rails follow their inputs at once and only the cells take time. */
const INSTANT = {
  n: { gateCPerUm2: 0, drainCPerUm: 0, zeroA: 0 },
  p: { gateCPerUm2: 0, drainCPerUm: 0, zeroA: 0 },
};
/**
 * The cell's state per frame, and when (s after the frame's edge) its reading changes on the step grid: a step's
 * reading against the one before, the first step of a frame against the last frame's state (`onStep` reports
 * every step up to the sample point; frames without steps report nothing).
 */
function flips(
  hw: ReturnType<typeof hardwareAwareNetwork>,
  x: InputSequence,
): { states: number[]; flips: [number, number, number][] } {
  const steps: [number, number, number][] = [];
  const tr = runHardwareAware(hw, x, {
    onStep: (frame, afterEdgeS, _diode, reading) => steps.push([frame, afterEdgeS, reading[0]]),
  });
  const states = Array.from(tr.states[0]);
  const seen = steps.filter(([f, , r], i) => r !== (i > 0 && steps[i - 1][0] === f ? steps[i - 1][2] : states[f - 1]));
  return { states, flips: seen };
}

describe('stepper, every hardware effect off', () => {
  it('is the realised network: candidates, states, block outputs, logits, votes (multi-block, skip, signed weights)', () => {
    for (const seed of [3, 11]) {
      const net = randomNetwork({ inputs: 3, width: 3, blocks: 2, classes: 3, cells: 2, seed });
      const frames = 12;
      // Inputs of both signs, held for a few frames and stepped, so cells cross both thresholds and hold in between.
      const data = Float64Array.from(
        { length: frames * 3 },
        (_, i) => 1.5 * Math.sin(0.7 * Math.floor(i / 3) + 2.1 * (i % 3) + seed),
      );
      const x: InputSequence = { frames, features: 3, data };
      const hw = hardwareAwareNetwork(net, process, calibrationWith({}));
      const want = runNetwork(hw.realised, x);
      const got = runHardwareAware(hw, x);
      for (let k = 0; k < 2; k++) {
        expect(Array.from(got.states[k])).toEqual(Array.from(want.states[k]));
        expect(Array.from(got.candidates[k])).toEqual(Array.from(want.candidates[k]).map((v) => expect.closeTo(v, 10)));
        expect(Array.from(got.blockOutputs[k])).toEqual(
          Array.from(want.blockOutputs[k]).map((v) => expect.closeTo(v, 10)),
        );
      }
      expect(Array.from(got.logits)).toEqual(Array.from(want.logits).map((v) => expect.closeTo(v, 10)));
      expect(Array.from(got.votes)).toEqual(Array.from(want.votes));
      // Both cells cross thresholds somewhere in the clip (the case exercises hysteresis, not a constant state).
      expect(new Set(want.states.flatMap((s) => Array.from(s))).size).toBe(2);
    }
  });
  it('switches at the thresholds themselves as the realised network does: ON at c >= beta_hi, OFF at c < beta_lo', () => {
    // beta_lo 0.4, beta_hi 0.8, candidate = x0 exactly (unit copies).
    const x = clip([
      [0, 0],
      [0.79, 0],
      [0.8, 0],
      [0.4, 0],
      [0.39, 0],
      [0.8, 0],
    ]);
    const hw = hardwareAwareNetwork(kneeNetwork(0, 0.4, 0.8), process, calibrationWith({}));
    expect(Array.from(hw.realised.blocks[0].cell.beta1)).toEqual([0.4]);
    expect(Array.from(runHardwareAware(hw, x).candidates[0])).toEqual([0, 0.79, 0.8, 0.4, 0.39, 0.8]);
    expect(Array.from(runHardwareAware(hw, x).states[0])).toEqual([0, 0, 1, 1, 0, 1]);
    expect(Array.from(runNetwork(hw.realised, x).states[0])).toEqual([0, 0, 1, 1, 0, 1]);
  });
});

describe('stepper, cell switching in time (rails instant)', () => {
  // beta_lo 0.4, beta_hi 0.8; candidate = max(x0 - x1, 0).
  const net = kneeNetwork(0, 0.4, 0.8);

  it('a cell turns ON t1 / d after the edge, d = (c - beta_hi) / beta_hi', () => {
    // c = 2: d = 1.5, 10 ms / 1.5 = 6.67 ms: V0 reads ON at the first grid point after it (6.93 ms), in frame 1.
    const hw = hardwareAwareNetwork(
      net,
      process,
      calibrationWith({ railCharge: INSTANT, cellSwitch: { on: powerLaw(10e-3), off: powerLaw(10e-3) } }),
    );
    const r = flips(
      hw,
      clip([
        [0, 0],
        [2, 0],
        [2, 0],
      ]),
    );
    expect(r.states).toEqual([0, 1, 1]);
    expect(r.flips).toEqual([[1, expect.closeTo(firstGridAfter(10e-3 / 1.5), 12), 1]]);
    // c = 1.28: d = 0.6, 16.7 ms: ON 6.7 ms into frame 2 (grid 6.93 ms): one frame later than the steady model.
    const slow = flips(
      hw,
      clip([
        [0, 0],
        [1.28, 0],
        [1.28, 0],
      ]),
    );
    expect(slow.states).toEqual([0, 0, 1]);
    expect(slow.flips).toEqual([[2, expect.closeTo(firstGridAfter(10e-3 / 0.6 - FRAME_S), 12), 1]]);
    expect(
      Array.from(
        runHardwareAware(
          hw,
          clip([
            [0, 0],
            [1.28, 0],
            [1.28, 0],
          ]),
          { dynamics: false },
        ).states[0],
      ),
    ).toEqual([0, 1, 1]);
  });

  // Cells that switch in 10 ms (ON) and 5 ms (OFF) at d = 1 and commit at `ratio` of the switch.
  const withCommit = (ratio: number) =>
    hardwareAwareNetwork(
      net,
      process,
      calibrationWith({
        railCharge: INSTANT,
        cellSwitch: { on: powerLaw(10e-3), off: powerLaw(5e-3) },
        cellCommit: {
          thresh: [1e-9],
          fractions: [0, 1],
          overdrives: [0.01, 1],
          ratio: [
            [
              [ratio, ratio],
              [ratio, ratio],
            ],
          ],
        },
      }),
    );
  it('a pulse past the commit point turns the cell ON after it has gone; a shorter one does not', () => {
    // c = 1.28 for one frame: the 16.7 ms switch is 59% done at the sample and 60% at the next edge.
    const x = clip([
      [0, 0],
      [1.28, 0],
      [0, 0],
      [0, 0],
    ]);
    // Committed at 40% (6.7 ms): V0 goes on and reads ON at 16.7 ms, 6.7 ms into frame 2 (grid 6.93 ms), with no
    // input left.
    const committed = flips(withCommit(0.4), x);
    expect(committed.states.slice(0, 3)).toEqual([0, 0, 1]);
    expect(committed.flips[0]).toEqual([2, expect.closeTo(firstGridAfter(10e-3 / 0.6 - FRAME_S), 12), 1]);
    // Commit at 90%: the pulse ends at 60%, the switch is undone.
    expect(flips(withCommit(0.9), x)).toEqual({ states: [0, 0, 0, 0], flips: [] });
    // The steady model: ON for the pulse's frame only.
    expect(Array.from(runHardwareAware(withCommit(0.4), x, { dynamics: false }).states[0])).toEqual([0, 1, 0, 0]);
  });

  // The bug this found (fixed in session 14): when a committed cell's rise completed, `cell` returned with progress
  // and readProgress at 0, so `advance` scheduled no further update; with its input unchanged the cell was never
  // evaluated again and stayed ON (memory and reading) at c = 0, below its fold, frame after frame.
  it('a cell ON after a committed pulse, its input at 0, turns OFF by the OFF time', () => {
    const hw = withCommit(0.4);
    // ON at 6.93 ms into frame 2 (above); c = 0 is below beta_lo and the fold (d = 1 from each): OFF 5 ms later,
    // 11.93 ms, frame 3 at the first grid point after 1.93 ms (2.06 ms); it stays OFF.
    const r = flips(
      hw,
      clip([
        [0, 0],
        [1.28, 0],
        [0, 0],
        [0, 0],
        [0, 0],
      ]),
    );
    expect(r.states).toEqual([0, 0, 1, 0, 0]);
    const onAtS = firstGridAfter(10e-3 / 0.6 - FRAME_S);
    expect(r.flips[1]).toEqual([3, expect.closeTo(firstGridAfter(onAtS + 5e-3 - FRAME_S), 12), 0]);
  });

  it('an ON cell reads OFF t1 / d below beta_lo (d from beta_lo) and keeps its memory above the fold', () => {
    // Fold at 0.5 beta_lo = 0.2. c = 0.3: reads OFF after 1 ms / 0.25 = 4 ms (d from beta_lo), memory kept: frame 1
    // is stepped, and its reading done within it, so frame 2 is steady. c = 0.36: 1 ms / 0.1 = 10 ms, still pending
    // at the end of frame 1: frame 2 is stepped too.
    const fold = { thresh: [1e-9], fractions: [0, 1], lo: [[0.5, 0.5]], hi: [[1, 1]] };
    const hw = hardwareAwareNetwork(
      net,
      process,
      calibrationWith({ railCharge: INSTANT, cellSwitch: { on: powerLaw(1e-3), off: powerLaw(5e-3) }, cellFold: fold }),
    );
    expect(hw.foldLo[0]).toBeCloseTo(0.2, 12);
    const soft = flips(
      hw,
      clip([
        [2, 0],
        [0.32, 0],
        [0.32, 0],
        [0.32, 0],
        [0.6, 0],
      ]),
    );
    expect(soft.states).toEqual([1, 1, 1, 0, 1]);
    // (Frame 4 needs no steps: nothing pending, and a reading that comes back at once is the steady state.)
    expect(soft.flips).toEqual([[3, expect.closeTo(firstGridAfter(25e-3 - 2 * FRAME_S), 12), 0]]);
    expect(
      Array.from(
        runHardwareAware(
          hw,
          clip([
            [2, 0],
            [0.32, 0],
            [0.32, 0],
            [0.32, 0],
            [0.6, 0],
          ]),
          { dynamics: false },
        ).states[0],
      ),
    ).toEqual([1, 0, 0, 0, 1]);
    // c = 0.12, below the fold: reads OFF at 5 ms / 0.7 = 7.14 ms (grid 8.24 ms); memory lost at 5 ms / 0.4 =
    // 12.5 ms (d from the fold), 2.5 ms into frame 2. Back to 0.6 in frame 2: the memory is still there (ON);
    // in frame 3 it is gone (OFF).
    const back = flips(
      hw,
      clip([
        [2, 0],
        [0.12, 0],
        [0.6, 0],
      ]),
    );
    expect(back.states).toEqual([1, 0, 1]);
    // Back ON within the first steps of frame 2 (each rail takes its inputs at mid-step: 3 levels, 3 steps).
    expect(back.flips).toEqual([
      [1, expect.closeTo(firstGridAfter(5e-3 / 0.7), 12), 0],
      [2, expect.closeTo(gridS(2), 12), 1],
    ]);
    const gone = flips(
      hw,
      clip([
        [2, 0],
        [0.12, 0],
        [0.12, 0],
        [0.6, 0],
      ]),
    );
    expect(gone.states).toEqual([1, 0, 0, 0]);
  });
});

describe('stepper, rails in time', () => {
  // NMOS rails charge (C per um^2 of gate and um of drain, zeroA 1 pA), PMOS rails are instant. The pre-layer node
  // (NMOS) is fed by the PMOS copies of x0's and x1's rails, so its inputs are instant and it alone moves by
  // Q dr/dt = r (h - r): r(t) = h / (1 + (h / r0 - 1) e^(-h t / Q)), and r(t) = 1 / (1 / r0 + t / Q) for h = 0.
  const tables: HardwareTables = {
    railCharge: {
      n: { gateCPerUm2: 1e-15, drainCPerUm: 1e-15, zeroA: 1e-12 },
      p: { gateCPerUm2: 0, drainCPerUm: 0, zeroA: 0 },
    },
    cellSwitch: { on: powerLaw(10e-3), off: powerLaw(10e-3) },
  };
  const net = kneeNetwork(0, 0.4, 0.8);
  const logistic = (r0: number, h: number, tOverQ: number) =>
    h === 0 ? 1 / (1 / r0 + tOverQ) : h / (1 + (h / r0 - 1) * Math.exp(-h * tOverQ));

  it('the pre-layer node rises from zeroA and falls by the charging law, and settles on its steady value', () => {
    const hw = hardwareAwareNetwork(net, process, calibrationWith(tables));
    const pre = hw.probes['i(vm_r0_0)'];
    const Q = hw.charge[pre];
    const z = 1e-12 / UNIT_A;
    expect(Q).toBeGreaterThan(0);
    expect(hw.zero[pre]).toBeCloseTo(z, 15);
    const seen: [number, number, number][] = [];
    const x = clip([
      [0, 0],
      [2, 0],
      [0, 0],
    ]);
    const rails = new Float64Array(x.frames * hw.nodes.length);
    const tr = runHardwareAware(hw, x, { rails, onStep: (f, tS, diode) => seen.push([f, tS, diode[pre]]) });
    // Frame 1: over the first step (4.8 us) its PMOS source rises at once from 0 to 2, which the node takes at the
    // step's middle, h = 1; then h = 2. Checked until within the settling tolerance, then exactly 2.
    const t0 = gridS(0);
    const r1 = logistic(z, 1, t0 / Q);
    expect(seen.filter(([f]) => f === 1).length).toBe(45);
    for (const [, tS, r] of seen.filter(([f]) => f === 1)) {
      const want = tS === t0 ? r1 : logistic(r1, 2, (tS - t0) / Q);
      if (Math.abs(want - 2) > 2e-3 + 1e-4) expect(r).toBeCloseTo(want, 9);
      else expect(r).toBe(2);
    }
    expect(tr.candidates[0][1]).toBe(2);
    // Frame 2: from 2 with h = 0 after the first step's h = 1; not settled within the frame.
    const rEnd = 2; // settled at the end of frame 1 (checked above)
    const f2 = seen.filter(([f]) => f === 2);
    expect(f2.length).toBeGreaterThan(0);
    const s1 = logistic(rEnd, 1, t0 / Q);
    for (const [, tS, r] of f2) expect(r).toBeCloseTo(tS === t0 ? s1 : logistic(s1, 0, (tS - t0) / Q), 9);
    // What `rails` receives at the sample point.
    expect(rails[2 * hw.nodes.length + pre]).toBeCloseTo(logistic(s1, 0, (gridS(44) - t0) / Q), 9);
    expect(rails[hw.nodes.length + pre]).toBe(2);
    // Without steps (dynamics off) the frame ends at its steady value.
    expect(runHardwareAware(hw, x, { dynamics: false }).candidates[0][2]).toBe(0);
  });

  it('with a current opposing (x1 = 0.5 held, settled), the node falls towards h = P - N < 0 and snaps to 0', () => {
    // zeroA 1e-18 A: a rail below it would charge from it (the falling law is checked down to the snap at 1e-4).
    const zeroA = 1e-18;
    const hw = hardwareAwareNetwork(
      net,
      process,
      calibrationWith({ ...tables, railCharge: { ...tables.railCharge!, n: { ...tables.railCharge!.n, zeroA } } }),
    );
    const pre = hw.probes['i(vm_r0_0)'];
    const Q = hw.charge[pre];
    const z = zeroA / UNIT_A;
    const seen: [number, number, number][] = [];
    const x = clip([
      [0, 0.5],
      [2, 0.5],
      [0, 0.5],
    ]);
    runHardwareAware(hw, x, { onStep: (f, tS, diode) => seen.push([f, tS, diode[pre]]) });
    const t0 = gridS(0);
    // Frame 1: P = 1 over the first step (x0's copy at its middle), N = 0.5: h = 0.5; then h = 1.5.
    const r1 = logistic(z, 0.5, t0 / Q);
    const f1 = seen.filter(([f]) => f === 1);
    expect(f1.length).toBe(45);
    for (const [, tS, r] of f1) {
      const want = tS === t0 ? r1 : logistic(r1, 1.5, (tS - t0) / Q);
      if (Math.abs(want - 1.5) > 1.5e-3 + 1e-4) expect(r).toBeCloseTo(want, 9);
      else expect(r).toBe(1.5);
    }
    // Frame 2: from 1.5 with h = 0.5 over the first step (its target 0.5), then h = -0.5 (target 0): within 1e-4 of
    // 0 it is snapped to 0.
    const s1 = logistic(1.5, 0.5, t0 / Q);
    const f2 = seen.filter(([f]) => f === 2);
    expect(f2.at(-1)![2]).toBe(0);
    for (const [, tS, r] of f2) {
      const want = tS === t0 ? s1 : logistic(s1, -0.5, (tS - t0) / Q);
      if (want > 1e-4) expect(r).toBeCloseTo(want, 9);
      else expect(r).toBe(0);
    }
  });
});

describe('stepper, which frames are stepped in time', () => {
  /** How many steps each frame took (45 when stepped: 44 up to the sample point and the sample; 0 when steady). */
  const stepsPerFrame = (hw: ReturnType<typeof hardwareAwareNetwork>, x: InputSequence): number[] => {
    const n = new Array<number>(x.frames).fill(0);
    runHardwareAware(hw, x, { onStep: (f) => n[f]++ });
    return n;
  };
  const timed = (tables: Partial<HardwareTables>) =>
    calibrationWith({ railCharge: INSTANT, cellSwitch: { on: powerLaw(1e-3), off: powerLaw(1e-3) }, ...tables });

  it('a switch is stepped when it takes longer than a quarter of the frame (2.5 ms), at the overdrive of the steady end', () => {
    // beta_hi 0.8, t = 1 ms / d: ON at c = 1.10 (d = 0.375, 2.67 ms) is stepped, at c = 1.14 (d = 0.425, 2.35 ms) not.
    const hw = hardwareAwareNetwork(kneeNetwork(0, 0.4, 0.8), process, timed({}));
    expect(
      stepsPerFrame(
        hw,
        clip([
          [0, 0],
          [1.1, 0],
          [1.1, 0],
        ]),
      ),
    ).toEqual([0, 45, 0]);
    expect(
      stepsPerFrame(
        hw,
        clip([
          [0, 0],
          [1.14, 0],
          [1.14, 0],
        ]),
      ),
    ).toEqual([0, 0, 0]);
    // OFF from ON at c = 2 (memory lost below the fold, here beta_lo = 0.4): t = 1 ms / d, d = (0.4 - c) / 0.4.
    // c = 0.26: d = 0.35, 2.86 ms, stepped; c = 0.22: d = 0.45, 2.22 ms, not.
    expect(
      stepsPerFrame(
        hw,
        clip([
          [2, 0],
          [0.26, 0],
          [0.26, 0],
        ]),
      ),
    ).toEqual([0, 45, 0]);
    expect(
      stepsPerFrame(
        hw,
        clip([
          [2, 0],
          [0.22, 0],
          [0.22, 0],
        ]),
      ),
    ).toEqual([0, 0, 0]);
  });

  it('an ON cell in its soft zone is stepped when its reading changes slowly; a switch left pending steps the next frame', () => {
    // Fold at 0.5 beta_lo = 0.2. c = 0.3: reads OFF (d = 0.25 from beta_lo, 4 ms), memory kept: stepped; the
    // reading is then still pending (4 ms > 4.8 us ..) only if it did not finish: it finishes at 4 ms, within the
    // frame, so frame 2 is steady. c = 0.36 (d = 0.1, 10 ms) finishes in frame 2: stepped twice.
    const fold = { thresh: [1e-9], fractions: [0, 1], lo: [[0.5, 0.5]], hi: [[1, 1]] };
    const hw = hardwareAwareNetwork(kneeNetwork(0, 0.4, 0.8), process, timed({ cellFold: fold }));
    expect(
      stepsPerFrame(
        hw,
        clip([
          [2, 0],
          [0.3, 0],
          [0.3, 0],
        ]),
      ),
    ).toEqual([0, 45, 0]);
    expect(
      stepsPerFrame(
        hw,
        clip([
          [2, 0],
          [0.36, 0],
          [0.36, 0],
          [0.36, 0],
        ]),
      ),
    ).toEqual([0, 45, 45, 0]);
    // In the soft zone and staying there with the reading unchanged (c = 0.3 -> 0.25): steady.
    expect(
      stepsPerFrame(
        hw,
        clip([
          [2, 0],
          [0.3, 0],
          [0.25, 0],
        ]),
      ),
    ).toEqual([0, 45, 0]);
  });

  it('a cell staying OFF is stepped when a candidate fed by sources moving apart could pass beta_hi on the way', () => {
    // Candidate = pre0 - pre1 (pre = the inputs): from x = (0.5, 0.5) to (1, 0.9), c goes 0 -> 0.1, but with the
    // sourcing copy at its new 1 and the opposing one at its old 0.5 it could reach 0.5 on the way: beta_hi 0.45
    // is within reach (stepped), beta_hi 0.55 is not.
    const twoInputs = (betaHi: number): Network => ({
      ...kneeNetwork(0, 0.3, betaHi),
      width: 2,
      pre: linear(2, 2, [1, 0, 0, 1], [0, 0]),
      blocks: [
        {
          ...kneeNetwork(0, 0.3, betaHi).blocks[0],
          cand: linear(1, 2, [1, -1], [0]),
          post: linear(2, 1, [1, 1], [0, 0]),
        },
      ],
      out: linear(1, 2, [1, 1], [0]),
    });
    const x = clip([
      [0.5, 0.5],
      [1, 0.9],
      [1, 0.9],
    ]);
    const reach = hardwareAwareNetwork(twoInputs(0.45), process, timed({}));
    expect(stepsPerFrame(reach, x)).toEqual([0, 45, 0]);
    expect(Array.from(runHardwareAware(reach, x).states[0])).toEqual([0, 0, 0]); // instant rails: no overshoot
    expect(stepsPerFrame(hardwareAwareNetwork(twoInputs(0.55), process, timed({})), x)).toEqual([0, 0, 0]);
  });
});

describe('stepper, cells side by side', () => {
  it('two cells of one block switch in time each as the same cell alone (thresholds 0.8 and 1.6)', () => {
    const tables = calibrationWith({ railCharge: INSTANT, cellSwitch: { on: powerLaw(10e-3), off: powerLaw(10e-3) } });
    const one = (betaLo: number, betaHi: number) => kneeNetwork(0, betaLo, betaHi);
    const base = one(0.4, 0.8);
    const cell = base.blocks[0].cell;
    const two: Network = {
      ...base,
      cells: 2,
      blocks: [
        {
          cand: linear(2, 1, [1, 1], [0, 0]),
          cell: {
            alpha: Float64Array.of(1, 1),
            beta1: Float64Array.of(0.4, 1.2),
            delta: Float64Array.of(0.4, 0.4),
            s0: Float64Array.of(0, 0),
          },
          post: linear(1, 2, [1, 1], [0]),
        },
      ],
    };
    expect(Array.from(cell.beta1)).toEqual([0.4]);
    const x = clip([
      [0, 0],
      [2, 0],
      [2, 0],
      [0, 0],
      [0, 0],
    ]);
    const both = runHardwareAware(hardwareAwareNetwork(two, process, tables), x);
    const a = runHardwareAware(hardwareAwareNetwork(one(0.4, 0.8), process, tables), x).states[0];
    const b = runHardwareAware(hardwareAwareNetwork(one(1.2, 1.6), process, tables), x).states[0];
    // c = 2: d = 1.5 (6.7 ms, ON in frame 1) for the first, d = 0.25 (40 ms, ON in frame 5: never here) for the second.
    expect(Array.from(a)).toEqual([0, 1, 1, 1, 0]);
    expect(Array.from(b)).toEqual([0, 0, 0, 0, 0]);
    // States are [frame][cell]: the two interleaved.
    expect(Array.from(both.states[0])).toEqual(Array.from(a).flatMap((s, t) => [s, b[t]]));
  });
});

describe('stepper, knee in time', () => {
  it('a stepped frame whose rails settle ends on the steady values, the knee included (sums taken at mid-step)', () => {
    // hwmodel.test.ts's knee clip: the cell turns ON only through the leakage of the pre-layer node (NMOS) while
    // x1 opposes x0; rails charge fast (settled in well under a frame), switches take 15 ms (every change stepped).
    const slow = powerLaw(15e-3);
    const flat = {
      ...slow,
      timeS: [
        [
          [15e-3, 15e-3],
          [15e-3, 15e-3],
        ],
      ],
    };
    // (zeroA far below the 1 pA leakage: a rail that falls below zeroA charges from it again, see docs/mutation.md.)
    const fast = { gateCPerUm2: 1e-19, drainCPerUm: 1e-19, zeroA: 1e-18 };
    const hw = hardwareAwareNetwork(
      kneeNetwork(0.5, 0.505, 0.51),
      process,
      calibrationWith({
        knee: { n: KNEE_N, p: IDEAL },
        railCharge: { n: fast, p: fast },
        cellSwitch: { on: flat, off: flat },
      }),
    );
    const x = clip([
      [2, 0],
      [0, units(100 * pA)],
      [units(90 * pA), units(100 * pA)],
      [units(90 * pA), units(100 * pA)],
      [0, units(100 * pA)],
      [units(95 * pA), units(100 * pA)],
    ]);
    const steps = new Array<number>(x.frames).fill(0);
    const stepped = runHardwareAware(hw, x, { onStep: (f) => steps[f]++ });
    const steady = runHardwareAware(hw, x, { dynamics: false });
    expect(steps.filter((n) => n > 0).length).toBeGreaterThanOrEqual(3);
    // The leakage the table gives: 1 pA at h = -100 pA, 4 pA at h = -10 pA, 5.5 pA at -5 pA (N = 100 pA).
    const leak = [0, 1, 4, 4, 1, 5.5].map((p, t) => (t === 0 ? 2.5 : 0.5 + units(p * pA)));
    expect(Array.from(steady.candidates[0])).toEqual(leak.map((v) => expect.closeTo(v, 12)));
    expect(Array.from(stepped.candidates[0])).toEqual(leak.map((v) => expect.closeTo(v, 12)));
  });
});

describe('stepper, knee and copy curves by rail polarity', () => {
  // kneeNetwork's rails: x0 sources into the pre-layer node (NMOS) through a PMOS copy, x1 sinks from it through an
  // NMOS copy; the pre-layer node's NMOS copy sources into the candidate node (PMOS diode). A negative candidate
  // bias is a current opposing the candidate.
  it("a PMOS node leaks as the PMOS knee table says, an NMOS node as the NMOS one's (here ideal)", () => {
    // Candidate bias -0.4 units = 100 pA opposing: the knee table's second row. The cell stays OFF (beta 5 / 6).
    const hw = hardwareAwareNetwork(
      kneeNetwork(-0.4, 5, 6),
      process,
      calibrationWith({ knee: { n: IDEAL, p: KNEE_N } }),
    );
    const cand = hw.probes['i(vm_b0c0_in)'];
    const pre = hw.probes['i(vm_r0_0)'];
    expect([hw.polarity[pre], hw.polarity[cand]]).toEqual([0, 1]);
    const x = clip([
      [0, 0], // h = -100 pA: 1 pA
      [units(90 * pA), 0], // h = -10 pA: 4 pA
      [units(95 * pA), 0], // h = -5 pA: halfway from 4 to 7 pA
      [units(95 * pA), units(100 * pA)], // pre: h = -5 pA with 100 pA opposing, ideal NMOS: 0; the candidate 1 pA
      [2, 0], // h = 2 - 0.4 units, above the table: ideal
    ]);
    const rails = new Float64Array(x.frames * hw.nodes.length);
    const c = runHardwareAware(hw, x, { rails }).candidates[0];
    expect(Array.from(c)).toEqual(
      [1, 4, 5.5, 1].map((v) => expect.closeTo(units(v * pA), 12)).concat(expect.closeTo(1.6, 12)),
    );
    expect(rails[3 * hw.nodes.length + pre]).toBe(0);
  });

  it('copies of NMOS rails pass the NMOS copy curve, copies of PMOS rails the PMOS one', () => {
    // NMOS rails' copies pass twice their current, PMOS rails' once (both loads): pre = max(x0 - 2 x1, 0) (x0 through
    // a PMOS copy, x1 through an NMOS one), candidate = 2 pre. Up to 4 units (1 nA), where the tables end.
    const curve = (gain: number) => [0, gain * 1e-9];
    const copy = { currentsA: [0, 1e-9], n: curve(2), nSame: curve(2), p: curve(1), pSame: curve(1) };
    const hw = hardwareAwareNetwork(kneeNetwork(0, 5, 6), process, calibrationWith({ copy }));
    const pre = hw.probes['i(vm_r0_0)'];
    const x = clip([
      [0.5, 0],
      [0.5, 0.25],
      [1.5, 0.5],
      [1, 0.1],
    ]);
    const rails = new Float64Array(x.frames * hw.nodes.length);
    const tr = runHardwareAware(hw, x, { rails });
    const wantPre = [0.5, 0, 0.5, 0.8];
    // The copies are read from a resampled table: within 0.003 pA (1.2e-5 units) of the straight line (hwmodel-lookups.ts).
    expect(Array.from({ length: x.frames }, (_, t) => rails[t * hw.nodes.length + pre])).toEqual(
      wantPre.map((v) => expect.closeTo(v, 4)),
    );
    expect(Array.from(tr.candidates[0])).toEqual(wantPre.map((v) => expect.closeTo(2 * v, 4)));
  });
});

describe('stepper, copy floors', () => {
  // Found on branch mut17, fixed in session 17: `pass` started at 0 and a rail's copies are looked up only when its
  // current changes (`if (r !== r0)` in advance), so a rail at 0 from the start passed nothing, not its copies'
  // floor (hwmodel.ts's header: "a rail at zero still passes its copies' floor"); once it had moved and come back
  // to 0 it passed the floor. The same inputs gave different currents depending on what came before.
  it('a rail at zero passes its copies floor from the first frame on, as after it has moved', () => {
    // NMOS rails' copies pass a 20 pA floor at zero (both loads), PMOS rails' none. x = (0.5, 0): x0's PMOS copy
    // sources 125 pA into the pre-layer node, the NMOS copies of x0's negative part and of x1 (both at zero) sink
    // 20 pA each: 85 pA.
    const floorA = 20 * pA;
    const copy = {
      currentsA: [0, 1e-9],
      n: [floorA, 1e-9],
      nSame: [floorA, 1e-9],
      p: [0, 1e-9],
      pSame: [0, 1e-9],
    };
    const hw = hardwareAwareNetwork(kneeNetwork(0, 5, 6), process, calibrationWith({ copy }));
    const pre = hw.probes['i(vm_r0_0)'];
    const x = clip([
      [0.5, 0],
      [-0.3, 0.3],
      [0.5, 0],
    ]);
    const rails = new Float64Array(x.frames * hw.nodes.length);
    runHardwareAware(hw, x, { rails });
    const at = (t: number) => rails[t * hw.nodes.length + pre];
    expect(at(2)).toBeCloseTo(units(85 * pA), 4);
    expect(at(0)).toBeCloseTo(units(85 * pA), 4);
  });
});

describe('stepper, the frame loop: which frames are stepped (needsSteps) and which rails wake', () => {
  /** How many steps each frame took (45 when stepped), and each cell's states per frame. */
  const run = (hw: ReturnType<typeof hardwareAwareNetwork>, x: InputSequence) => {
    const steps = new Array<number>(x.frames).fill(0);
    const tr = runHardwareAware(hw, x, { onStep: (f) => steps[f]++ });
    const S = hw.realised.cells;
    const states = Array.from({ length: S }, (_, j) => Array.from(tr.states[0]).filter((_, i) => i % S === j));
    return { steps, states };
  };
  const timed = (t1S: number, tables: Partial<HardwareTables> = {}) =>
    calibrationWith({ railCharge: INSTANT, cellSwitch: { on: powerLaw(t1S), off: powerLaw(t1S) }, ...tables });
  /** The fold at half of beta_lo. */
  const fold = { thresh: [1e-9], fractions: [0, 1], lo: [[0.5, 0.5]], hi: [[1, 1]] };
  /** One block of two cells, both fed candidate = max(x0 - x1, 0): the first at beta 0.4 / 0.8, the second's given. */
  const twoCells = (betaLo: number, betaHi: number): Network => {
    const base = kneeNetwork(0, 0.4, 0.8);
    return {
      ...base,
      cells: 2,
      blocks: [
        {
          cand: linear(2, 1, [1, 1], [0, 0]),
          cell: {
            alpha: Float64Array.of(1, 1),
            beta1: Float64Array.of(0.4, betaLo),
            delta: Float64Array.of(0.4, betaHi - betaLo),
            s0: Float64Array.of(0, 0),
          },
          post: linear(1, 2, [1, 1], [0]),
        },
      ],
    };
  };
  /** Width 2, the pre-layer passing x0 and x1 on: candidate = pre0 - pre1, one cell. */
  const difference = (betaLo: number, betaHi: number): Network => ({
    ...kneeNetwork(0, betaLo, betaHi),
    width: 2,
    pre: linear(2, 2, [1, 0, 0, 1], [0, 0]),
    blocks: [
      {
        ...kneeNetwork(0, betaLo, betaHi).blocks[0],
        cand: linear(1, 2, [1, -1], [0]),
        post: linear(2, 1, [1, 1], [0, 0]),
      },
    ],
    out: linear(1, 2, [1, 1], [0]),
  });

  it('frame 0 is the steady state of its inputs (the operating point), however slow the switch', () => {
    // c = 1.28 from frame 0 on: d = 0.6, 16.7 ms to turn ON, but the circuit starts settled: ON, no steps.
    const hw = hardwareAwareNetwork(kneeNetwork(0, 0.4, 0.8), process, timed(10e-3));
    expect(
      run(
        hw,
        clip([
          [1.28, 0],
          [1.28, 0],
        ]),
      ),
    ).toEqual({ steps: [0, 0], states: [[1, 1]] });
  });

  it('a switch pending from the last frame is stepped, though it would now be fast; the other cell idle', () => {
    // t = 10 ms / d. Frame 1: c = 1.28, d = 0.6 (16.7 ms): stepped, 60% done at its end. Frame 2: c = 5, d = 5.25
    // (1.9 ms, under 2.5 ms): stepped only for the switch pending; ON 0.4 x 1.9 ms into it. The second cell (beta
    // 5 / 6) stays OFF with nothing pending (so "any cell pending" is not "every cell pending").
    const hw = hardwareAwareNetwork(twoCells(5, 6), process, timed(10e-3));
    expect(
      run(
        hw,
        clip([
          [0, 0],
          [1.28, 0],
          [5, 0],
          [5, 0],
        ]),
      ),
    ).toEqual({
      steps: [0, 45, 45, 0],
      states: [
        [0, 0, 1, 1],
        [0, 0, 0, 0],
      ],
    });
  });

  it('a reading pending from the last frame is stepped, though it would now change fast', () => {
    // t = 1 ms / d, fold at 0.2. Frame 1: c = 0.38 reads OFF after 1 ms / 0.05 = 20 ms (memory kept): stepped, half
    // done. Frame 2: c = 0.21, d = 0.475 (2.1 ms): stepped only for the reading pending; OFF 1.05 ms into it.
    const hw = hardwareAwareNetwork(twoCells(5, 6), process, timed(1e-3, { cellFold: fold }));
    expect(hw.foldLo[0]).toBeCloseTo(0.2, 12);
    expect(
      run(
        hw,
        clip([
          [2, 0],
          [0.38, 0],
          [0.21, 0],
          [0.21, 0],
        ]),
      ),
    ).toEqual({
      steps: [0, 45, 45, 0],
      states: [
        [1, 1, 0, 0],
        [0, 0, 0, 0],
      ],
    });
  });

  it('every cell is looked at: a slow switch of the second cell alone steps the frame', () => {
    // t = 3 ms / d, c = 2: the first cell (beta_hi 0.8, d = 1.5) turns ON in 2 ms, the second (beta_hi 1.6,
    // d = 0.25) in 12 ms: ON 2 ms into frame 2.
    const hw = hardwareAwareNetwork(twoCells(1.2, 1.6), process, timed(3e-3));
    expect(
      run(
        hw,
        clip([
          [0, 0],
          [2, 0],
          [2, 0],
        ]),
      ),
    ).toEqual({
      steps: [0, 45, 45],
      states: [
        [0, 1, 1],
        [0, 0, 1],
      ],
    });
  });

  it('an ON cell is stepped when its candidate could pass below the fold on the way (sourcing old, opposing new)', () => {
    // beta_lo 0.25 = the fold (no fold table), beta_hi 0.5. Frame 0: x = (1.5, 0.25), c = 1.25: ON. Frame 1 ends
    // above the fold in each case; the lowest the candidate can go is 1.5 (x0 then) - x1 (now).
    const hw = hardwareAwareNetwork(difference(0.25, 0.5), process, timed(1e-3));
    expect([hw.betaLo[0], hw.betaHi[0], hw.foldLo[0]]).toEqual([0.25, 0.5, 0.25]);
    const from: [number, number] = [1.5, 0.25];
    // x1 = 1.5: down to 0, below the fold: stepped (the cell holds: the rails are instant).
    expect(run(hw, clip([from, [2.5, 1.5]]))).toEqual({ steps: [0, 45], states: [[1, 1]] });
    // x1 = 1: down to 0.5 at the lowest: steady.
    expect(run(hw, clip([from, [2.5, 1]]))).toEqual({ steps: [0, 0], states: [[1, 1]] });
    // x1 = 1.25: down to 0.25, the fold itself, where the cell keeps its memory: steady.
    expect(run(hw, clip([from, [2.5, 1.25]]))).toEqual({ steps: [0, 0], states: [[1, 1]] });
  });

  it('an OFF cell is stepped when its candidate could reach beta_hi on the way, sources falling (sourcing old, opposing new)', () => {
    // From x = (1, 0.9) to (0.5, 0.5): c goes 0.1 -> 0; the highest it can go is 1 (x0 then) - 0.5 (x1 now) = 0.5.
    const x = clip([
      [1, 0.9],
      [0.5, 0.5],
    ]);
    const at = (betaHi: number) => run(hardwareAwareNetwork(difference(0.25, betaHi), process, timed(1e-3)), x);
    expect(at(0.45)).toEqual({ steps: [0, 45], states: [[0, 0]] });
    // At beta_hi = 0.5 exactly the cell could turn ON (c >= beta_hi): stepped; at 0.55 out of reach.
    expect(at(0.5)).toEqual({ steps: [0, 45], states: [[0, 0]] });
    expect(at(0.55)).toEqual({ steps: [0, 0], states: [[0, 0]] });
  });

  it("the candidate's bound goes through the PMOS knee table (the cell input is a PMOS diode)", () => {
    // Knee tables: NMOS ideal, PMOS KNEE_N. From x = (0, 100 pA) to (190 pA, 200 pA): c = 1 pA, then 4 pA (the
    // table's N = 100 pA row, at h = -100 and -10 pA). The highest it can go: P = 190 pA against N = 100 pA,
    // h = 90 pA, on the table 13 + (80 / 290) 287 = 92.17 pA (ideal: 90 pA). beta_hi 91 pA lies between.
    const x = clip([
      [0, units(100 * pA)],
      [units(190 * pA), units(200 * pA)],
    ]);
    const net = difference(units(80 * pA), units(91 * pA));
    const leaky = hardwareAwareNetwork(net, process, timed(1e-3, { knee: { n: IDEAL, p: KNEE_N } }));
    expect(leaky.polarity[leaky.cellIn[0]]).toBe(1);
    expect(run(leaky, x)).toEqual({ steps: [0, 45], states: [[0, 0]] });
    const ideal = hardwareAwareNetwork(net, process, timed(1e-3, { knee: { n: IDEAL, p: IDEAL } }));
    expect(run(ideal, x)).toEqual({ steps: [0, 0], states: [[0, 0]] });
  });

  it('an ON cell whose reading goes OFF within a quarter of the frame (in its soft zone) is not stepped', () => {
    // Fold at 0.2, t = 1 ms / d. c = 0.22: d = 0.45 from beta_lo, 2.2 ms: steady (reads OFF at once); c = 0.3:
    // d = 0.25, 4 ms: stepped (OFF at the sample point either way).
    const hw = hardwareAwareNetwork(kneeNetwork(0, 0.4, 0.8), process, timed(1e-3, { cellFold: fold }));
    const x = (c: number) =>
      clip([
        [2, 0],
        [c, 0],
        [c, 0],
      ]);
    expect(run(hw, x(0.22))).toEqual({ steps: [0, 0, 0], states: [[1, 0, 0]] });
    expect(run(hw, x(0.3))).toEqual({ steps: [0, 45, 0], states: [[1, 0, 0]] });
  });

  it('a change of one input wakes its rails while the other is held (every hardware effect off)', () => {
    // candidate = max(x0 - x1, 0), worked out frame by frame; the realised network agrees.
    const x = clip([
      [1, 0],
      [1, 0.5],
      [1, 0.5],
      [1, 0.2],
      [0.6, 0.2],
      [0.9, 0.2],
      [0.9, 0.7],
      [0.9, 0.7],
      [0.9, 0],
    ]);
    const want = [1, 0.5, 0.5, 0.8, 0.4, 0.7, 0.2, 0.2, 0.9];
    const hw = hardwareAwareNetwork(kneeNetwork(0, 5, 6), process, calibrationWith({}));
    expect(Array.from(runHardwareAware(hw, x).candidates[0])).toEqual(want.map((v) => expect.closeTo(v, 12)));
    expect(Array.from(runNetwork(hw.realised, x).candidates[0])).toEqual(want.map((v) => expect.closeTo(v, 12)));
  });
});

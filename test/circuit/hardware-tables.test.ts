import { describe, expect, it } from 'vitest';
import { DEFAULT_HARDWARE_PLAN, measureHardware } from '../../src/calibrate/index.js';
import { kneeAt } from '../../src/netlist/hardware-tables.js';
import { loadKit } from './kits.js';

const pA = 1e-12;

// The hardware tables measured by real ngspice runs (what `bmru calibrate` adds; the grid-derived OFF curves and
// folds are left out here), against the independent hand-written deck models/c180/decks/relu_knee.cir and against
// what the shipped calibration.json holds.
describe('hardware tables measured on c180', () => {
  it('the knee, copy floor, rail charge and switching times come out as shipped and as the hand deck says', async () => {
    const kit = await loadKit('c180');
    const hw = await measureHardware(kit.process, DEFAULT_HARDWARE_PLAN, [], []);
    // relu_knee.cir: 100 pA sunk, I_s swept: r = 4.53 pA at h = -10 pA, 7.18 pA at h = 0 (nominal h, the sink's
    // own current is 100.36 pA in saturation, so the nominal h = 0 is -0.36 pA here).
    expect(kneeAt(hw.knee!.n, 90 * pA, 100.36 * pA)).toBeCloseTo(4.53 * pA, 13);
    expect(kneeAt(hw.knee!.n, 100 * pA, 100.36 * pA)).toBeCloseTo(7.18 * pA, 13);
    expect(kneeAt(hw.knee!.n, 150 * pA, 100.36 * pA)).toBeCloseTo(50.42 * pA, 12);
    // A unit NMOS copy of a rail at zero passes ~2 pA on this card (2u/8u at V_GS = 0).
    expect(hw.copy!.n[0]).toBeGreaterThan(1.5 * pA);
    expect(hw.copy!.n[0]).toBeLessThan(2.5 * pA);
    // Deterministic: the shipped tables are these.
    const shipped = kit.calibration!.hardware!;
    expect(hw.knee).toEqual(shipped.knee);
    expect(hw.railCharge).toEqual(shipped.railCharge);
    expect(hw.cellSwitch).toEqual(shipped.cellSwitch);
    expect(hw.cellCommit).toEqual(shipped.cellCommit);
  }, 300_000);
});

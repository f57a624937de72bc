import { describe, expect, it } from 'vitest';
import { DEFAULT_HARDWARE_PLAN, measureHardware } from '../../src/calibrate/index.js';
import { kneeAt } from '../../src/netlist/hardware-tables.js';
import { loadKit } from './kits.js';

const pA = 1e-12;

// The hardware tables measured by real ngspice runs (what `bmru calibrate` adds; the grid-derived OFF curves and
// folds are left out here), against the independent hand-written deck netlists/c180/relu_knee_lifted.cir and
// against what the shipped calibration.json holds.
describe('hardware tables measured on c180', () => {
  it('the knee, copy floor, rail charge and switching times come out as shipped and as the hand deck says', async () => {
    const kit = await loadKit('c180');
    const hw = await measureHardware(kit.process, DEFAULT_HARDWARE_PLAN, [], []);
    // relu_knee_lifted.cir (NMOS sources on vsn = 0.1 V, as process.json's nmosSourceV builds them): 100 pA sunk,
    // I_s swept: r = 2.12 pA at I_s = 90 pA, 4.35 pA at 100 pA, 50.23 pA at 150 pA; the sink's own current is
    // 99.98 pA in saturation. On ground (relu_knee.cir) the same node passed 4.53 and 7.18 pA.
    expect(kneeAt(hw.knee!.n, 90 * pA, 99.98 * pA)).toBeCloseTo(2.12 * pA, 13);
    // At the peak the table interpolates between its h = 0 and +1 pA columns: within 0.15 pA (grounded: 7.18).
    expect(Math.abs(kneeAt(hw.knee!.n, 100 * pA, 99.98 * pA) - 4.35 * pA)).toBeLessThan(0.15 * pA);
    expect(kneeAt(hw.knee!.n, 150 * pA, 99.98 * pA)).toBeCloseTo(50.23 * pA, 12);
    // A unit NMOS copy of a rail at zero passes ~0.8 pA on this card with the sources lifted (~2 pA on ground).
    expect(hw.copy!.n[0]).toBeGreaterThan(0.5 * pA);
    expect(hw.copy!.n[0]).toBeLessThan(1.1 * pA);
    // Deterministic: the shipped tables are these.
    const shipped = kit.calibration!.hardware!;
    expect(hw.knee).toEqual(shipped.knee);
    expect(hw.railCharge).toEqual(shipped.railCharge);
    expect(hw.cellSwitch).toEqual(shipped.cellSwitch);
    expect(hw.cellCommit).toEqual(shipped.cellCommit);
  }, 300_000);
});

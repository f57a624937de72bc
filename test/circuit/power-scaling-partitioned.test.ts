import { describe, expect, it } from 'vitest';
import { powerScaling } from '../../src/analysis/scaling.js';
import { DOMAINS } from '../../src/netlist/supplies.js';
import { loadKit } from './kits.js';

// `analyze power --scaling --partitioned` (issue 13): the per-domain mean power of a partitioned run (supply currents
// summed over the partitions' plots, the driving side's gate-load replicas drawing none) against the monolithic
// deck's on the same width-4 network and clip. ~5 s of ngspice for both.

/** Issue 13's target for partitioned against monolithic supply power. */
const MAX_POWER_REL = 0.01;
/** Frames of the clip: four input changes, as `node bench/power-partitioned.mjs 4:4` (docs/power.md). */
const FRAMES = 4;

describe('power scaling, partitioned vs monolithic (c180)', () => {
  it('width 4, per cell on 2 workers: every domain within 1% of the monolithic deck', async () => {
    const kit = await loadKit('c180');
    const opts = { process: kit.process, calibration: kit.calibration, widths: [4], frames: FRAMES };
    const [mono] = await powerScaling(opts);
    const [part] = await powerScaling({ ...opts, partitioned: true, partitionBy: 'cell', workers: 2 });
    expect(mono.simulation).toBe('monolithic');
    // Width 4, 2 blocks: front end, per block a shared part, 4 cells, an outputs' shared part and 4 outputs, classifier.
    expect(part.simulation).toBe('partitioned (22 partitions) on local pool (2 workers)');
    expect(part.transistors).toBe(mono.transistors);
    expect(part.power.domains.map((d) => d.domain)).toEqual([...DOMAINS]);
    for (const d of mono.power.domains) {
      const p = part.power.domains.find((x) => x.domain === d.domain)!;
      // A domain drawing nothing would pass any relative test: each draws at least 1 nW here (0.9 V, I_unit 1 nA).
      expect(d.meanW, d.domain).toBeGreaterThan(1e-9);
      expect(Math.abs(p.meanW / d.meanW - 1), d.domain).toBeLessThanOrEqual(MAX_POWER_REL);
    }
    expect(Math.abs(part.power.coreW / mono.power.coreW - 1)).toBeLessThanOrEqual(MAX_POWER_REL);
    expect(part.stateAgreement).toBe(mono.stateAgreement);
  });

  it('refuses a width over the transistor budget before simulating any width', async () => {
    const kit = await loadKit('c180');
    // With a missing ngspice, running width 2 first would fail on that instead of on width 64's budget.
    const run = powerScaling({
      process: kit.process,
      calibration: kit.calibration,
      widths: [2, 64],
      frames: 2,
      concurrency: 1,
      run: { ngspiceBin: '/nonexistent/ngspice' },
    });
    await expect(run).rejects.toThrow(/width 64.*above the budget of 10000/);
  });
});

import { describe, expect, it } from 'vitest';
import { networkReference } from '../../src/compare/references.js';
import { cosimulate, referenceTable } from '../../src/pipeline.js';
import { loadProcess } from '../../src/netlist/process.js';
import { loadCalibration } from '../../src/netlist/calibration.js';
import { resolveProcessPath } from '../../src/util/paths.js';
import type { Network } from '../../src/model/types.js';
import { tableHwaware } from '../../src/analysis/hwmodel.js';
import { clip, tiny } from '../compare/references-net.js';
import { linear as lin } from '../networks.js';

// The circuit half of test/compare/references.test.ts: the same one-cell network co-simulated (needs ngspice).
describe('cosimulate against every reference (ngspice, 6 frames, < 1 s)', async () => {
  const process = await loadProcess(resolveProcessPath('c180'));
  const calibration = await loadCalibration(process.dir);
  const net = tiny();

  it('scores the circuit against the trained and the realised model and judges the realised one', async () => {
    const r = await cosimulate(net, clip, { process, calibration, run: { name: 'refs-test', timeoutMs: 60_000 } });
    expect(r.reference).toBe('realised');
    expect(Object.keys(r.references)).toEqual(['trained', 'realised']);
    expect(r.comparison).toBe(r.references.realised!.comparison);
    expect(r.software).toBe(r.references.realised!.software);
    const t = referenceTable(r);
    expect(t.realised).toMatchObject({ stateAgreement: 1, decisionMatch: true });
    expect(t.trained).toMatchObject({ stateAgreement: 2 / 6, decisionMatch: false });
    expect(r.verdict.pass).toBe(true);
    const asTrained = await cosimulate(net, clip, {
      process,
      calibration,
      reference: 'trained',
      run: { name: 'refs-test', timeoutMs: 60_000 },
    });
    expect(asTrained.comparison.stateAgreement).toBe(2 / 6);
    expect(asTrained.verdict.pass).toBe(false);
  });

  it('makes a per-process hardware-aware model the default reference, and refuses hwaware when there is none', async () => {
    const seen: string[] = [];
    const build = (n: Network, c: { process: { name: string } }) => {
      seen.push(c.process.name);
      return networkReference({ ...n, pre: lin(1, 1, [0], [0]) });
    };
    const r = await cosimulate(net, clip, {
      process,
      calibration,
      hwaware: { origin: 'process', build, source: 'test builder' },
      run: { name: 'refs-test', timeoutMs: 60_000 },
    });
    expect(seen).toEqual(['c180']);
    expect(r.reference).toBe('hwaware');
    expect(Object.keys(r.references)).toEqual(['trained', 'realised', 'hwaware']);
    expect(r.comparison.stateAgreement).toBe(1);
    const none = { origin: 'process' as const, build: () => undefined, source: 'test builder' };
    const fallback = await cosimulate(net, clip, {
      process,
      calibration,
      hwaware: none,
      run: { name: 'refs-test', timeoutMs: 60_000 },
    });
    expect(fallback.reference).toBe('realised');
    await expect(cosimulate(net, clip, { process, calibration, hwaware: none, reference: 'hwaware' })).rejects.toThrow(
      /test builder give none for process c180 \(measure them: bmru calibrate -p c180/,
    );
    await expect(cosimulate(net, clip, { process, calibration, reference: 'hwaware' })).rejects.toThrow(
      /needs a hardware-aware model/,
    );
  });

  it("scores the process's table-built hardware-aware model by default where the calibration has hardware tables", async () => {
    const hwaware = { origin: 'process' as const, build: tableHwaware, source: 'tables' };
    const r = await cosimulate(net, clip, {
      process,
      calibration,
      hwaware,
      run: { name: 'refs-test', timeoutMs: 60_000 },
    });
    expect(r.reference).toBe('hwaware');
    // The hardware-aware model reads the realised thresholds, and on this clip predicts the circuit as well as they do.
    expect(r.references.hwaware!.net).toEqual(r.references.realised!.net);
    expect(referenceTable(r).hwaware).toMatchObject({ stateAgreement: 1, decisionMatch: true });
    const bare = { ...calibration!, hardware: undefined };
    const without = await cosimulate(net, clip, {
      process,
      calibration: bare,
      hwaware,
      run: { name: 'refs-test', timeoutMs: 60_000 },
    });
    expect(without.reference).toBe('realised');
  });
});

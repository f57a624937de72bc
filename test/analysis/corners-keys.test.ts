/**
 * What `analyze corners` keeps of each PVT point for a rerun (analysis/corners.ts, jobs/kept.ts): the key changes with
 * whatever changes a corner's co-simulation and not with what only schedules it, and a kept line that is not a corner
 * result is refused with the field named. No ngspice: the key and the schema are all that is run.
 */
import { cpSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CornerLineSchema, cornerKey, type CornersOptions, type CornerSpec } from '../../src/analysis/corners.js';
import { randomInputs, randomNetwork } from '../../src/model/random.js';
import { loadProcess } from '../../src/netlist/process.js';
import { REPO_ROOT, scratchDir } from '../helpers.js';

const C180 = path.join(REPO_ROOT, 'models', 'c180');
const TT: CornerSpec = { corner: 'tt', vddScale: 1, temperatureC: 27 };

async function setup() {
  const net = randomNetwork({ inputs: 3, width: 2, blocks: 1, classes: 2, seed: 1 });
  const inputs = randomInputs(2, 3, 1);
  const process = await loadProcess(path.join(C180, 'process.json'));
  const base: CornersOptions = { process, specs: [TT], run: { timeoutMs: 1000 } };
  const key = (o: Partial<CornersOptions> = {}, spec = TT, n = net, x = inputs) =>
    cornerKey(n, x, { ...base, ...o }, spec);
  return { net, inputs, process, key };
}

describe('cornerKey', () => {
  it('is the same whatever only schedules the point: the other specs, concurrency, callbacks, timeout, size guard', async () => {
    const { key } = await setup();
    const k = await key();
    expect(k).toMatch(/^[0-9a-f]{16}$/);
    expect(
      await key({
        specs: [TT, { corner: 'ss', vddScale: 0.9, temperatureC: -20 }],
        concurrency: 2,
        onDone: () => undefined,
        kept: () => undefined,
        maxTransistors: 10,
        run: { timeoutMs: 9 },
      }),
    ).toBe(k);
  });

  it('differs by each field of the spec, the network, the clip, an option and the ngspice binary', async () => {
    const { key } = await setup();
    const k = await key();
    const others = [
      await key({}, { ...TT, corner: 'ss' }),
      await key({}, { ...TT, vddScale: 0.9 }),
      await key({}, { ...TT, temperatureC: 85 }),
      await key({}, TT, randomNetwork({ inputs: 3, width: 2, blocks: 1, classes: 2, seed: 2 })),
      await key({}, TT, undefined, randomInputs(2, 3, 2)),
      await key({ sampleFraction: 0.5 }),
      await key({ run: { ngspiceBin: '/opt/ngspice' } }),
    ];
    // Seven changes, seven keys, none the base's.
    expect(new Set([k, ...others]).size).toBe(8);
  });

  it('sees the kit by content: the same kit at another path is the same point, a corner file edited is another', async () => {
    const { process, key } = await setup();
    const copy = scratchDir('bmru-corners-kit-');
    cpSync(C180, copy, { recursive: true });
    const moved = await loadProcess(path.join(copy, 'process.json'));
    const k = await key();
    expect(await key({ process: moved })).toBe(k);
    // A corner section of its own (a kit's `.lib file ss`) in a file of the copy: editing that file changes the ss
    // point's key, as editing the typical card changes the typical point's.
    const ssLib = path.join(copy, 'ss.lib');
    writeFileSync(ssLib, '* ss section\n');
    const withSs = { ...moved, corners: { ss: [`.lib ${ssLib} ss`] } };
    const ss = { ...TT, corner: 'ss' };
    const kSs = await key({ process: withSs }, ss);
    expect(await key({ process: withSs }, ss)).toBe(kSs);
    writeFileSync(ssLib, '* ss section, edited\n');
    expect(await key({ process: withSs }, ss)).not.toBe(kSs);
    writeFileSync(path.join(copy, 'c180.lib'), '* edited\n', { flag: 'a' });
    expect(await key({ process: moved })).not.toBe(k);
    expect(process.dir).not.toBe(moved.dir);
  });
});

describe('corners.jsonl lines', () => {
  const line = {
    key: '0123456789abcdef',
    corner: 'ff',
    vddScale: 1,
    temperatureC: 27,
    stateAgreement: 0.995,
    voteAgreement: 1,
    decisionMatch: true,
    disagreements: 1,
    coreW: 1.25e-7,
    ngspiceS: 42.5,
  };

  it('reads a corner that ran as it was written', () => {
    expect(CornerLineSchema.parse(JSON.parse(JSON.stringify(line)))).toEqual(line);
  });

  it('refuses a failed corner (NaN is written as null) and a mistyped field, naming the field', () => {
    // runCorners reports a failed corner with NaN figures; JSON.stringify writes them as null, which is not a result.
    const failed = JSON.parse(JSON.stringify({ ...line, coreW: NaN }));
    expect(failed.coreW).toBeNull();
    const r = CornerLineSchema.safeParse(failed);
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path)).toEqual([['coreW']]);
    expect(r.error?.issues[0].message).toMatch(/expected number, received null/i);
    const s = CornerLineSchema.safeParse({ ...line, decisionMatch: 'yes' });
    expect(s.error?.issues.map((i) => i.path)).toEqual([['decisionMatch']]);
    const { temperatureC: _t, ...missing } = line;
    expect(CornerLineSchema.safeParse(missing).error?.issues.map((i) => i.path)).toEqual([['temperatureC']]);
  });
});

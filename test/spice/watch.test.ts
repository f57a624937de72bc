import { readFileSync } from 'node:fs';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRawfile, parseRawHeader } from '../../src/spice/rawfile.js';
import { watchTransient, type RunProgress } from '../../src/spice/watch.js';

// The watcher is fed an ngspice-written rawfile (test/fixtures/raw/README.md) written out piece by piece,
// as ngspice does while it runs; runner.test.ts checks it against a real running ngspice.
const fixture = (name: string) => readFileSync(fileURLToPath(new URL(`../fixtures/raw/${name}`, import.meta.url)));
const rc = fixture('rc_tran.bin.raw');
// Parsed on first use inside a test, not while vitest collects the file: Stryker sees no per-test coverage of
// code run at collection and would rerun every related suite for each of its mutants (docs/mutation.md).
const rcHeader = () => parseRawHeader(rc);
const rcTime = () => parseRawfile(rc)[0].real[0];
const INTERVAL_MS = 20;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `done()` holds (polling every few ms), failing after 5 s. */
async function until(done: () => boolean): Promise<void> {
  for (const startedMs = Date.now(); !done(); await sleep(5)) {
    if (Date.now() - startedMs > 5000) throw new Error('timed out waiting for a report');
  }
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'bmru-watch-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Bytes of the rc fixture up to `points` whole points plus `extra` bytes of the next. */
const upTo = (points: number, extra = 0) =>
  rc.subarray(0, rcHeader().dataStart + points * rcHeader().pointBytes + extra);

describe('watchTransient', () => {
  it('waits for the file, then reports the time of the last whole point each time the file grows', async () => {
    const raw = path.join(dir, 'grow.raw');
    const reports: RunProgress[] = [];
    const watcher = watchTransient(raw, (p) => reports.push(p), { intervalMs: INTERVAL_MS, tStopS: 5e-3 });
    await sleep(3 * INTERVAL_MS); // no file yet
    await writeFile(raw, upTo(0, 10)); // header only, and part of a point
    await sleep(3 * INTERVAL_MS);
    expect(reports).toEqual([]);
    await writeFile(raw, upTo(10, 3));
    await until(() => reports.length === 1);
    await appendFile(raw, rc.subarray(upTo(10, 3).length, upTo(40).length));
    await until(() => reports.length === 2);
    await sleep(3 * INTERVAL_MS);
    await watcher.stop();
    expect(reports).toEqual([
      { timeS: rcTime()[9], points: 10, fraction: rcTime()[9] / 5e-3 },
      { timeS: rcTime()[39], points: 40, fraction: rcTime()[39] / 5e-3 },
    ]);
  });

  it('leaves out the fraction when tstop is unknown, and clamps it to 1 past tstop', async () => {
    const raw = path.join(dir, 'whole.raw');
    await writeFile(raw, rc);
    const plain: RunProgress[] = [];
    const clamped: RunProgress[] = [];
    const watchers = [
      watchTransient(raw, (p) => plain.push(p), { intervalMs: INTERVAL_MS }),
      watchTransient(raw, (p) => clamped.push(p), { intervalMs: INTERVAL_MS, tStopS: 1e-3 }),
    ];
    await until(() => plain.length > 0 && clamped.length > 0);
    await sleep(3 * INTERVAL_MS);
    await Promise.all(watchers.map((w) => w.stop()));
    expect(plain).toEqual([{ timeS: rcTime()[78], points: 79 }]);
    expect(clamped).toEqual([{ timeS: rcTime()[78], points: 79, fraction: 1 }]);
  });

  it('reports nothing for a rawfile whose first plot is not a transient, or that is ascii', async () => {
    const reports: RunProgress[] = [];
    const watchers = ['ac_rc.bin.raw', 'rc_tran.ascii.raw'].map((name) => {
      const raw = path.join(dir, name);
      return writeFile(raw, fixture(name)).then(() =>
        watchTransient(raw, (p) => reports.push(p), { intervalMs: INTERVAL_MS }),
      );
    });
    await sleep(4 * INTERVAL_MS);
    await Promise.all((await Promise.all(watchers)).map((w) => w.stop()));
    expect(reports).toEqual([]);
  });

  it('makes no report once stopped', async () => {
    const raw = path.join(dir, 'stop.raw');
    await writeFile(raw, upTo(5));
    const reports: RunProgress[] = [];
    const watcher = watchTransient(raw, (p) => reports.push(p), { intervalMs: INTERVAL_MS });
    await until(() => reports.length === 1);
    await watcher.stop();
    await writeFile(raw, upTo(50));
    await sleep(3 * INTERVAL_MS);
    expect(reports).toEqual([{ timeS: rcTime()[4], points: 5 }]);
  });

  it('ignores an exception thrown by the callback and keeps watching', async () => {
    const raw = path.join(dir, 'throw.raw');
    await writeFile(raw, upTo(5));
    const points: number[] = [];
    const watcher = watchTransient(
      raw,
      (p) => {
        points.push(p.points);
        throw new Error('display failed');
      },
      { intervalMs: INTERVAL_MS },
    );
    await until(() => points.length === 1);
    await writeFile(raw, upTo(8));
    await until(() => points.length === 2);
    await watcher.stop();
    expect(points).toEqual([5, 8]);
  });
});

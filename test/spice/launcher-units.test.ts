// The launcher's parent side (src/spice/launcher.ts) and how runInGroup chooses it (src/spice/group.ts), test by
// test: what launcher.test.ts leaves open. No ngspice: /bin/sh scripts and /bin/true.
import { afterEach, describe, expect, it } from 'vitest';
import { runInGroup, type GroupOptions } from '../../src/spice/group.js';
import { closeLauncher, launcherRunning } from '../../src/spice/launcher.js';

const OPTIONS: GroupOptions = { timeoutMs: 10_000, graceMs: 500, maxOutputBytes: 1 << 20 };

afterEach(async () => {
  await closeLauncher();
});

describe('a launcher that cannot be started', () => {
  it('rejects the run with the fork error, and the next run starts one', { timeout: 10_000 }, async () => {
    // A failed fork (here ENOENT: no node at execPath) emits 'error' and never 'exit'; the request sent to it then
    // fails with a second 'error' (EPIPE).
    const execPath = process.execPath;
    process.execPath = '/nonexistent/node';
    let run: Promise<unknown>;
    try {
      run = runInGroup('/bin/true', [], { ...OPTIONS, via: 'launcher' }).catch((e: unknown) => e);
    } finally {
      process.execPath = execPath;
    }
    const error = await run;
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe('the ngspice launcher could not be started (spawn /nonexistent/node ENOENT)');
    expect(launcherRunning()).toBe(false);
    const o = await runInGroup('/bin/true', [], { ...OPTIONS, via: 'launcher' });
    expect(o.exitCode).toBe(0);
    expect(launcherRunning()).toBe(true);
  });
});

// The launcher's parent side (src/spice/launcher.ts) and how runInGroup chooses it (src/spice/group.ts), test by
// test: what launcher.test.ts leaves open. No ngspice: /bin/sh scripts and /bin/true. Which process started a
// script is read from the script's $PPID: this process for a direct run, the launcher for a launched one.
import { getEventListeners } from 'node:events';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { LAUNCHER_MIN_RSS_BYTES, runInGroup, type GroupOptions } from '../../src/spice/group.js';
import { closeLauncher, launcherRunning, launcherStartFailure, setLauncherModule } from '../../src/spice/launcher.js';
import { groupGone } from '../helpers.js';

const OPTIONS: GroupOptions = { timeoutMs: 10_000, graceMs: 500, maxOutputBytes: 1 << 20 };
/** 512 MiB: 512 x 1,048,576 bytes. */
const MIB_512 = 536_870_912;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'bmru-launcher-units-'));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await closeLauncher();
  setLauncherModule(undefined); // forgets a launcher that could not start, which default runs would no longer try
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * SIGKILLs `pid` and waits here, without yielding to the event loop, until it is dead (a zombie: this process has
 * not reaped it), so that neither its exit nor its channel's end has been seen when the caller goes on.
 */
function killUnseen(pid: number): void {
  process.kill(pid, 'SIGKILL');
  const deadline = Date.now() + 5000;
  while (!/^\S+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))) {
    if (Date.now() > deadline) throw new Error(`process ${pid} not dead after 5 s`);
  }
}

/**
 * Starts `bin` (which writes its pgid and its parent's pid beside itself) with `o`, closes the launcher under it, and
 * checks that the run is rejected with the launcher's exit and its group is gone. Returns the launcher's pid and the
 * CPU seconds `closeLauncher` reported.
 */
async function closeUnder(bin: string, o: GroupOptions): Promise<{ launcher: number; cpuS: number }> {
  const run = runInGroup(bin, [], o).catch((e: unknown) => e);
  await appeared(`${bin}.ppid`);
  const launcher = Number(readFileSync(`${bin}.ppid`, 'utf8'));
  const cpuS = await closeLauncher();
  const error = await run;
  expect(error).toBeInstanceOf(Error);
  // The launcher exits with code 0 when its channel closes (launcher-child.ts).
  expect((error as Error).message).toBe(`the ngspice launcher (pid ${launcher}) exited (code 0) before the run ended`);
  expect(await groupGone(Number(readFileSync(`${bin}.pgid`, 'utf8')), 5000)).toEqual([]);
  return { launcher, cpuS };
}

/** An executable shell script `name` in the test folder. */
async function script(name: string, body: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, `#!/bin/sh\n${body}\n`);
  await chmod(file, 0o755);
  return file;
}

/** Runs a script that prints its parent's pid; returns that pid. */
async function parentOf(o: GroupOptions): Promise<number> {
  const bin = await script('parent', 'echo $PPID');
  const outcome = await runInGroup(bin, [], o);
  expect(outcome.exitCode).toBe(0);
  return Number(outcome.stdout);
}

/** Resolves once `file` exists, polling. */
async function appeared(file: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`${file} did not appear within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The process group of `pid` (the fifth field of /proc/<pid>/stat; the name in parentheses has no space here). */
function pgrpOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
}

/**
 * Child processes that keep this process alive (a child that is unref'd is not among them), counted on the next
 * turn of the event loop: the handle of a child that has exited is released in the turn after its 'exit'.
 */
async function liveChildren(): Promise<number> {
  await new Promise((r) => setTimeout(r, 0));
  return process.getActiveResourcesInfo().filter((r) => r === 'ProcessWrap').length;
}

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
    // The reason recorded is the fork's, not the EPIPE of the request that followed it (a loop turn later).
    await new Promise((r) => setTimeout(r, 50));
    expect(launcherStartFailure()).toBe((error as Error).message);
    const o = await runInGroup('/bin/true', [], { ...OPTIONS, via: 'launcher' });
    expect(o.exitCode).toBe(0);
    expect(launcherRunning()).toBe(true);
    // This one started: the failure is forgotten, and a default run goes through it at any size.
    expect(launcherStartFailure()).toBeUndefined();
    const launcher = await parentOf({ ...OPTIONS, via: 'launcher' });
    expect(await parentOf(OPTIONS)).toBe(launcher);
  });

  it('whose fork throws (a module URL that is not a file): the run is refused, a default one goes direct', async () => {
    // fork throws synchronously when the module is not a file URL, as it does for spawn errors Node throws (ENOMEM).
    setLauncherModule(new URL('https://example.invalid/launcher-child.js'));
    const why = 'the ngspice launcher could not be started (The URL must be of scheme file)';
    const error = await runInGroup('/bin/true', [], { ...OPTIONS, via: 'launcher' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe(why);
    expect(launcherStartFailure()).toBe(why);
    expect(launcherRunning()).toBe(false);
    setLauncherModule(new URL('https://example.invalid/launcher-child.js')); // forgets the failure: tried again
    vi.spyOn(process.memoryUsage, 'rss').mockReturnValue(MIB_512);
    expect(await parentOf(OPTIONS)).toBe(process.pid);
    expect(launcherStartFailure()).toBe(why);
  });

  it('past 512 MiB: a default run goes direct, and the next is not tried from a launcher again', async () => {
    const missing = path.join(dir, 'no-launcher.js');
    setLauncherModule(pathToFileURL(missing));
    vi.spyOn(process.memoryUsage, 'rss').mockReturnValue(MIB_512);
    expect(await parentOf(OPTIONS)).toBe(process.pid); // the launcher exited before it was ready: run here
    expect(launcherStartFailure()).toBe(
      `the ngspice launcher ${missing} exited (code 1) before it was ready (is the package built? npm run build)`,
    );
    const bin = await script('parent', 'echo $PPID');
    const next = runInGroup(bin, [], OPTIONS);
    expect(launcherRunning()).toBe(false); // no launcher forked for it
    expect(Number((await next).stdout)).toBe(process.pid);
  });
});

describe("who starts the program (runInGroup's `via`)", () => {
  it('the threshold is 512 MiB', () => {
    expect(LAUNCHER_MIN_RSS_BYTES).toBe(MIB_512);
  });

  it('by default, this process below 512 MiB resident with no launcher; the launcher from 512 MiB on', async () => {
    const rss = vi.spyOn(process.memoryUsage, 'rss').mockReturnValue(MIB_512 - 1);
    expect(await parentOf(OPTIONS)).toBe(process.pid);
    expect(launcherRunning()).toBe(false);
    rss.mockReturnValue(MIB_512);
    const launcher = await parentOf(OPTIONS);
    expect(launcher).not.toBe(process.pid);
    expect(launcherRunning()).toBe(true);
    // Once one runs, the default uses it whatever the size.
    rss.mockReturnValue(1);
    expect(await parentOf(OPTIONS)).toBe(launcher);
    expect(await parentOf({ ...OPTIONS, via: 'auto' })).toBe(launcher);
  });

  it("by default, a launcher that runs even when this process is small; 'direct' never, 'launcher' always", async () => {
    const rss = vi.spyOn(process.memoryUsage, 'rss').mockReturnValue(1);
    const launcher = await parentOf({ ...OPTIONS, via: 'launcher' });
    expect(launcher).not.toBe(process.pid);
    expect(await parentOf(OPTIONS)).toBe(launcher);
    rss.mockReturnValue(MIB_512);
    expect(await parentOf({ ...OPTIONS, via: 'direct' })).toBe(process.pid);
    expect(await parentOf({ ...OPTIONS, via: 'launcher' })).toBe(launcher);
  });
});

describe('a direct run', () => {
  it('reads /dev/null and leads a process group of its own', async () => {
    // The fifth field of /proc/<pid>/stat is the process group (the name before it, own-group, has no space).
    const bin = await script('own-group', 'readlink /proc/$$/fd/0\necho $$ $(cut -d" " -f5 /proc/$$/stat)');
    const o = await runInGroup(bin, [], { ...OPTIONS, via: 'direct' });
    expect(o.exitCode).toBe(0);
    const [stdin, ids] = o.stdout.split('\n');
    expect(stdin).toBe('/dev/null');
    const [pid, pgrp] = ids.split(' ').map(Number);
    expect(pid).toBeGreaterThan(0);
    expect(pgrp).toBe(pid);
  });

  it('listens for SIGINT, SIGTERM and SIGHUP while it runs, and not after', async () => {
    const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
    const before = signals.map((s) => process.listenerCount(s));
    const run = runInGroup('/bin/true', [], { ...OPTIONS, via: 'direct' });
    expect(signals.map((s) => process.listenerCount(s))).toEqual(before.map((n) => n + 1));
    await run;
    expect(signals.map((s) => process.listenerCount(s))).toEqual(before);
  });
});

describe('the launcher process', () => {
  it('is detached (a process group of its own) and reads and writes /dev/null', async () => {
    const launcher = await parentOf({ ...OPTIONS, via: 'launcher' });
    expect(pgrpOf(launcher)).toBe(launcher);
    expect(readlinkSync(`/proc/${launcher}/fd/0`)).toBe('/dev/null');
    expect(readlinkSync(`/proc/${launcher}/fd/1`)).toBe('/dev/null');
  });

  it('keeps this process alive while a run is pending, and not once none is', async () => {
    const base = await liveChildren();
    const waits = await script('waits-for-go', 'while [ ! -e "$0.go" ]; do sleep 0.05; done');
    const slow = runInGroup(waits, [], { ...OPTIONS, via: 'launcher' });
    expect(await liveChildren()).toBe(base + 1);
    expect((await runInGroup('/bin/true', [], { ...OPTIONS, via: 'launcher' })).exitCode).toBe(0);
    expect(await liveChildren()).toBe(base + 1); // the first run is still pending
    await writeFile(`${waits}.go`, '');
    expect((await slow).exitCode).toBe(0);
    expect(await liveChildren()).toBe(base);
    expect(launcherRunning()).toBe(true);
  });

  it("rejects a pending run with its exit code when it is closed, and takes the run's group down", async () => {
    const bin = await script(
      'closed-under',
      'echo $$ > "$0.pgid"; echo $PPID > "$0.ppid"\nsh -c \'sleep 300\' &\nwait',
    );
    expect((await closeUnder(bin, { ...OPTIONS, via: 'launcher' })).cpuS).toBeGreaterThan(0);
  });

  it('rejects a pending default run when it is closed, rather than running it again here', async () => {
    // Run again, the script would print "again" and exit 0 at once.
    const bin = await script(
      'default-closed-under',
      '[ -e "$0.ppid" ] && { echo again; exit 0; }\necho $$ > "$0.pgid"; echo $PPID > "$0.ppid"\nsh -c \'sleep 300\' &\nwait',
    );
    vi.spyOn(process.memoryUsage, 'rss').mockReturnValue(MIB_512);
    expect((await closeUnder(bin, OPTIONS)).launcher).not.toBe(process.pid);
  });

  it('started while the last one is closing, stays the current one after that one has exited', async () => {
    const bin = await script('parent', 'echo $PPID');
    const first = await parentOf({ ...OPTIONS, via: 'launcher' });
    const closing = closeLauncher();
    const second = runInGroup(bin, [], { ...OPTIONS, via: 'launcher' }); // in the same turn: the first has not exited
    await closing;
    expect(launcherRunning()).toBe(true);
    const next = Number((await second).stdout);
    expect(next).toBeGreaterThan(0);
    expect(next).not.toBe(first);
    expect(await parentOf({ ...OPTIONS, via: 'launcher' })).toBe(next);
  });

  it('rejects a run asked of it after it died, before this process saw it die, with its exit', async () => {
    const launcher = await parentOf({ ...OPTIONS, via: 'launcher' });
    killUnseen(launcher); // the request is written to a closed channel (EPIPE)
    const error = await runInGroup('/bin/true', [], { ...OPTIONS, via: 'launcher' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe(
      `the ngspice launcher (pid ${launcher}) exited (SIGKILL) before the run ended`,
    );
    expect(launcherRunning()).toBe(false);
  });

  it('closed after it died, before this process saw it die: NaN, not a wait for a reply that never comes', async () => {
    killUnseen(await parentOf({ ...OPTIONS, via: 'launcher' }));
    expect(await closeLauncher()).toBeNaN();
    expect(launcherRunning()).toBe(false);
  });

  it('takes its listener off the signal of a run it rejects when it dies', async () => {
    const bin = await script(
      'outlived-signal',
      'echo $$ > "$0.pgid"; echo $PPID > "$0.ppid"\nsh -c \'sleep 300\' &\nwait',
    );
    const signal = new AbortController().signal;
    const run = runInGroup(bin, [], { ...OPTIONS, signal, via: 'launcher' }).catch((e: unknown) => e);
    await appeared(`${bin}.ppid`);
    expect(getEventListeners(signal, 'abort')).toHaveLength(1);
    process.kill(Number(readFileSync(`${bin}.ppid`, 'utf8')), 'SIGKILL');
    expect(await run).toBeInstanceOf(Error);
    expect(getEventListeners(signal, 'abort')).toEqual([]);
    process.kill(-Number(readFileSync(`${bin}.pgid`, 'utf8')), 'SIGKILL'); // a SIGKILLed launcher left it running
  });

  it('runs with a signal that is not aborted to the end, and leaves no listener on the signal', async () => {
    const bin = await script('finishes', 'sleep 0.2\necho finished');
    const { signal } = new AbortController();
    const o = await runInGroup(bin, [], { ...OPTIONS, signal, via: 'launcher' });
    expect(o).toMatchObject({ exitCode: 0, stdout: 'finished\n', aborted: false, timedOut: false });
    expect(getEventListeners(signal, 'abort')).toEqual([]);
  });
});

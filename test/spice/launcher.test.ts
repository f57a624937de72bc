// The launcher process (src/spice/launcher.ts) starts programs for a process that has grown large. Its promise is
// that a run through it ends exactly as a run from this process does (outcome, spawn errors, timeout, abort, the
// group killed), that it never keeps its parent alive, and that it takes its groups down when the parent dies.
import { execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runInGroup, type GroupOptions } from '../../src/spice/group.js';
import { closeLauncher, launcherRunning, launcherStartFailure, setLauncherModule } from '../../src/spice/launcher.js';
import { groupGone } from '../helpers.js';

const OPTIONS: GroupOptions = { timeoutMs: 10_000, graceMs: 500, maxOutputBytes: 1 << 20 };
// The child scripts below run on the build, as the launcher itself does (npm test builds first).
const distGroup = fileURLToPath(new URL('../../dist/spice/group.js', import.meta.url));
const distLauncher = fileURLToPath(new URL('../../dist/spice/launcher.js', import.meta.url));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'bmru-launcher-'));
});
afterEach(async () => {
  await closeLauncher();
  setLauncherModule(undefined);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** An executable shell script `name` in the test folder; it writes its pid (its group's id) to `<script>.pgid`. */
async function script(name: string, body: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, `#!/bin/sh\necho $$ > "$0.pgid"\n${body}\n`);
  await chmod(file, 0o755);
  return file;
}
const pgidOf = (file: string) => Number(readFileSync(`${file}.pgid`, 'utf8'));

/** Resolves once `file` exists (a script has started), polling. */
async function appeared(file: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`${file} did not appear within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Pids of live launcher processes whose parent is `ppid`, from /proc. */
function launchersOf(ppid: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const [state, parent] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        return Number(parent) === ppid && state !== 'Z' && cmd.includes('launcher-child.js');
      } catch {
        return false; // ended while we looked
      }
    })
    .map(Number);
}

/** Runs an ES module `source` in a fresh node; resolves with its output, rejects if it fails or outlives `ms`. */
function node(source: string, ms = 20_000): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', source], { timeout: ms }, (error, stdout, stderr) =>
      error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve({ stdout, stderr }),
    );
  });
}

describe('a run through the launcher ends as a direct run does', () => {
  it('gives the same exit code, output, working directory and environment', async () => {
    const bin = await script('speaks', 'echo "out $PWD $MARK $1"\necho "err $2" >&2\nexit 3');
    const o = { ...OPTIONS, cwd: os.tmpdir(), env: { ...process.env, MARK: 'marked' } };
    const direct = await runInGroup(bin, ['a b', 'c'], { ...o, via: 'direct' });
    const launched = await runInGroup(bin, ['a b', 'c'], { ...o, via: 'launcher' });
    expect(launcherRunning()).toBe(true);
    const { durationMs: _d, ...same } = direct;
    expect(same).toEqual({
      exitCode: 3,
      signal: null,
      stdout: `out ${os.tmpdir()} marked a b\n`,
      stderr: 'err c\n',
      timedOut: false,
      aborted: false,
    });
    expect(launched).toEqual({ ...same, durationMs: expect.any(Number) });
  });

  it('keeps the end of the output (whole chunks, so not byte for byte), as a direct run does', async () => {
    // ~230 kB: more than one pipe read (at most 64 kB), however the run and the reads interleave.
    const bin = await script('long-output', 'i=0; while [ $i -lt 20000 ]; do echo "line $i"; i=$((i+1)); done');
    const o = { ...OPTIONS, maxOutputBytes: 100 };
    const direct = await runInGroup(bin, [], { ...o, via: 'direct' });
    const launched = await runInGroup(bin, [], { ...o, via: 'launcher' });
    for (const r of [direct, launched]) {
      expect(r.stdout.endsWith('line 19998\nline 19999\n')).toBe(true);
      expect(r.stdout).not.toContain('line 0\n');
      expect(r.stdout.length).toBeLessThanOrEqual(100 + 65_536);
    }
  });

  it('rejects a program that does not exist with the spawn error, code and path', async () => {
    const missing = path.join(dir, 'no-such-program');
    const direct = await runInGroup(missing, [], { ...OPTIONS, via: 'direct' }).catch((e: unknown) => e);
    const launched = await runInGroup(missing, [], { ...OPTIONS, via: 'launcher' }).catch((e: unknown) => e);
    expect(launched).toBeInstanceOf(Error);
    expect(launched).toMatchObject({ code: 'ENOENT', path: missing, syscall: `spawn ${missing}` });
    expect((launched as Error).message).toBe((direct as Error).message);
  });

  it('times out, and kills the whole group (a grandchild included)', async () => {
    const bin = await script('hangs', "sh -c 'sleep 300' &\nwait");
    const o = await runInGroup(bin, [], { ...OPTIONS, timeoutMs: 300, via: 'launcher' });
    expect(o).toMatchObject({ timedOut: true, aborted: false, signal: 'SIGTERM' });
    expect(await groupGone(pgidOf(bin))).toEqual([]);
  });

  it('is aborted by the signal, during the run and before it', async () => {
    const bin = await script('waits', "sh -c 'sleep 300' &\nwait");
    const controller = new AbortController();
    const run = runInGroup(bin, [], { ...OPTIONS, signal: controller.signal, via: 'launcher' });
    await appeared(`${bin}.pgid`);
    controller.abort();
    expect(await run).toMatchObject({ aborted: true, timedOut: false });
    expect(await groupGone(pgidOf(bin))).toEqual([]);

    const early = await script('never-waits', "sh -c 'sleep 300' &\nwait");
    const startedMs = Date.now();
    const o = await runInGroup(early, [], { ...OPTIONS, signal: AbortSignal.abort(), via: 'launcher' });
    expect(o.aborted).toBe(true);
    expect(Date.now() - startedMs).toBeLessThan(5000);
  });
});

describe('the launcher process', () => {
  it('reports its own CPU when closed, and a closed launcher is gone', async () => {
    await runInGroup('/bin/true', [], { ...OPTIONS, via: 'launcher' });
    const [pid] = launchersOf(process.pid);
    expect(pid).toBeGreaterThan(0);
    const cpuS = await closeLauncher();
    expect(cpuS).toBeGreaterThan(0);
    expect(cpuS).toBeLessThan(30);
    expect(launcherRunning()).toBe(false);
    expect(launchersOf(process.pid)).toEqual([]);
    expect(await closeLauncher()).toBe(0);
  });

  it('rejects the runs it holds when it dies, and a next run starts a new one', async () => {
    const bin = await script('outlived', "sh -c 'sleep 300' &\nwait");
    const run = runInGroup(bin, [], { ...OPTIONS, via: 'launcher' }).catch((e: unknown) => e);
    await appeared(`${bin}.pgid`);
    const [pid] = launchersOf(process.pid);
    process.kill(pid, 'SIGKILL');
    const error = await run;
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/ngspice launcher \(pid \d+\) exited \(SIGKILL\) before the run ended/);
    expect(launcherRunning()).toBe(false);
    process.kill(-pgidOf(bin), 'SIGKILL'); // a SIGKILLed launcher could not take its group down
    const o = await runInGroup('/bin/true', [], { ...OPTIONS, via: 'launcher' });
    expect(o.exitCode).toBe(0);
    expect(launchersOf(process.pid)).not.toContain(pid);
  });

  it('kills the groups it started when its parent is killed', async () => {
    const bin = await script('orphaned', "sh -c 'sleep 300' &\nwait");
    const parent = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { runInGroup } = await import(${JSON.stringify(distGroup)});
         await runInGroup(${JSON.stringify(bin)}, [], { timeoutMs: 600000, graceMs: 500, maxOutputBytes: 1024, via: 'launcher' });`,
      ],
      { stdio: 'ignore' },
    );
    await appeared(`${bin}.pgid`);
    parent.kill('SIGKILL');
    expect(await groupGone(pgidOf(bin), 5000)).toEqual([]);
  });

  it('is used from the default once the process is past LAUNCHER_MIN_RSS_BYTES, and never keeps its parent alive', async () => {
    // A fresh node (small), one run; then resident memory past the threshold, another run. Without closeLauncher
    // the script must still end by itself (execFile's timeout would fail it).
    const { stdout: out } = await node(
      `const { runInGroup, LAUNCHER_MIN_RSS_BYTES } = await import(${JSON.stringify(distGroup)});
       const { launcherRunning } = await import(${JSON.stringify(distLauncher)});
       const o = { timeoutMs: 10000, graceMs: 500, maxOutputBytes: 1024 };
       await runInGroup('/bin/true', [], o);
       const small = launcherRunning();
       const held = Buffer.alloc(LAUNCHER_MIN_RSS_BYTES, 1);
       const r = await runInGroup('/bin/sh', ['-c', 'echo ran'], o);
       console.log(JSON.stringify({ small, large: launcherRunning(), out: r.stdout, held: held.length }));`,
    );
    expect(JSON.parse(out)).toEqual({ small: false, large: true, out: 'ran\n', held: 512 * 2 ** 20 });
  });

  it('that cannot start: a run that asked for it is refused with where it was looked for, a default run goes direct', async () => {
    const missing = path.join(dir, 'no-launcher.js');
    setLauncherModule(pathToFileURL(missing));
    const error = await runInGroup('/bin/true', [], { ...OPTIONS, via: 'launcher' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe(
      `the ngspice launcher ${missing} exited (code 1) before it was ready (is the package built? npm run build)`,
    );
    expect(launcherStartFailure()).toBe((error as Error).message);
    expect(launcherRunning()).toBe(false);
    // The same in a process past the threshold, where the default picks the launcher: the run goes on without it.
    const { stdout: out, stderr } = await node(
      `const { runInGroup, LAUNCHER_MIN_RSS_BYTES } = await import(${JSON.stringify(distGroup)});
       const l = await import(${JSON.stringify(distLauncher)});
       l.setLauncherModule(new URL(${JSON.stringify(pathToFileURL(missing).href)}));
       const held = Buffer.alloc(LAUNCHER_MIN_RSS_BYTES, 1);
       const o = { timeoutMs: 10000, graceMs: 500, maxOutputBytes: 1024 };
       const first = await runInGroup('/bin/sh', ['-c', 'echo first'], o);
       const failed = l.launcherStartFailure() !== undefined;
       const second = await runInGroup('/bin/sh', ['-c', 'echo second'], o);
       console.log(JSON.stringify({ out: first.stdout + second.stdout, failed, running: l.launcherRunning(), held: held.length > 0 }));`,
    );
    expect(JSON.parse(out)).toEqual({ out: 'first\nsecond\n', failed: true, running: false, held: true });
    // Tried once: the second run did not fork another launcher that cannot start (node says so on stderr each time).
    expect(stderr.match(/Cannot find module/g)).toHaveLength(1);
  });
});

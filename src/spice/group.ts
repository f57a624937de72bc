/**
 * Runs a program in a process group of its own and makes sure the whole group is gone when it ends.
 *
 * `ngspice` is often not ngspice itself but a wrapper script (module systems, site scripts) that starts it as
 * a child, or leaves a helper behind. Killing only the direct child then leaves the grandchild running, holding
 * the output pipes open: waiting for them to close waits forever, and the grandchild outlives the toolkit.
 * So the program starts detached (a new process group, led by it); a timeout or an abort signals the group,
 * SIGTERM and after a grace SIGKILL; once the direct child has exited, whatever is left of its group is killed;
 * and the output pipes are given a bounded time to drain, never an unbounded one.
 *
 * A detached group no longer receives the terminal's Ctrl-C, so while any group runs this module also listens
 * for SIGINT, SIGTERM and SIGHUP and for the process's exit, and kills every group it started. When nothing else
 * listens for the signal it then re-raises it, so the process ends as it would have without the listener.
 * (A SIGKILL of this process cannot be caught: its groups then run on, up to their own end.)
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { launcherRunning, launcherStartFailure, runViaLauncher } from './launcher.js';

/** How the program ended. */
export interface GroupOutcome {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to the exit of the direct child (ms). */
  durationMs: number;
  timedOut: boolean;
  aborted: boolean;
}

export interface GroupOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Signal the group after this long (ms). */
  timeoutMs: number;
  /** Time from SIGTERM to SIGKILL (ms). */
  graceMs: number;
  /** Aborting signals the group as a timeout does; the outcome says `aborted`. */
  signal?: AbortSignal;
  /** Output kept per stream (bytes); the end of the output is kept. */
  maxOutputBytes: number;
  /**
   * Who starts the program: this process, the launcher process (launcher.ts), or (default) the launcher once this
   * process has grown past `LAUNCHER_MIN_RSS_BYTES` or has started one.
   */
  via?: 'auto' | 'direct' | 'launcher';
}

/**
 * Resident size from which `via: 'auto'` starts programs from the launcher. A fork here costs 2.8 ms at 0.05 GB
 * and 27 ms at 1.1 GB (bench/spawn-cost.mjs), the launcher's own start about 50 ms of CPU once: from half a
 * gigabyte on, a few dozen runs repay it.
 */
export const LAUNCHER_MIN_RSS_BYTES = 512 * 2 ** 20;

/**
 * Time the output pipes get to close once the direct child has exited and its group was killed (ms). Only a
 * process that left the group (setsid) can still hold them then; its output is cut off rather than waited for.
 */
export const STREAM_DRAIN_MS = 2000;

/** Process group ids this process started and has not yet seen end. */
const liveGroups = new Set<number>();
const HANDLED_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Runs `bin args` in its own process group and resolves when it has ended, with the group killed and the end
 * of its output. Rejects only if the program cannot be started (the spawn error, e.g. ENOENT).
 */
export function runInGroup(bin: string, args: readonly string[], o: GroupOptions): Promise<GroupOutcome> {
  const via = o.via ?? 'auto';
  if (viaLauncher(via)) {
    // A run that did not ask for the launcher goes on without it if it cannot start.
    const direct = () => runInGroup(bin, args, { ...o, via: 'direct' });
    return runViaLauncher(bin, args, o, via === 'auto' ? direct : undefined);
  }
  return new Promise((resolve, reject) => {
    const startedMs = performance.now();
    const child = spawn(bin, args, { cwd: o.cwd, env: o.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const pgid = child.pid;
    if (pgid !== undefined) trackGroup(pgid);
    const stdout = new OutputTail(o.maxOutputBytes);
    const stderr = new OutputTail(o.maxOutputBytes);
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));

    let timedOut = false;
    let aborted = false;
    let killTimer: NodeJS.Timeout | undefined;
    const stop = () => {
      if (pgid !== undefined) signalGroup(pgid, 'SIGTERM');
      killTimer ??= setTimeout(() => pgid !== undefined && signalGroup(pgid, 'SIGKILL'), o.graceMs);
    };
    const timeoutTimer = setTimeout(() => {
      timedOut = true;
      stop();
    }, o.timeoutMs);
    const onAbort = () => {
      aborted = true;
      stop();
    };
    o.signal?.addEventListener('abort', onAbort, { once: true });
    if (o.signal?.aborted) onAbort(); // aborted before the spawn: no event will come
    const cleanUp = () => {
      clearTimeout(timeoutTimer);
      clearTimeout(killTimer);
      o.signal?.removeEventListener('abort', onAbort);
    };

    child.once('error', (error) => {
      // Only a failed spawn: a started child reports its end by 'exit'.
      if (child.pid !== undefined) return;
      cleanUp();
      reject(error);
    });
    child.once('exit', (exitCode, signal) => {
      const durationMs = performance.now() - startedMs;
      cleanUp();
      if (pgid !== undefined) {
        // What the child leaves behind in its group (a wrapper's helper, ngspice under a killed wrapper) goes too.
        signalGroup(pgid, 'SIGKILL');
        untrackGroup(pgid);
      }
      void closedWithin(child, STREAM_DRAIN_MS).then(() => {
        resolve({ exitCode, signal, stdout: stdout.text(), stderr: stderr.text(), durationMs, timedOut, aborted });
      });
    });
  });
}

function viaLauncher(via: 'auto' | 'direct' | 'launcher'): boolean {
  if (via !== 'auto') return via === 'launcher';
  if (launcherStartFailure() !== undefined) return false;
  return launcherRunning() || process.memoryUsage.rss() >= LAUNCHER_MIN_RSS_BYTES;
}

/** Sends `sig` to every process of group `pgid`; a group that is gone already is no error. */
function signalGroup(pgid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pgid, sig);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ESRCH' && code !== 'EPERM') throw e;
  }
}

/** Resolves once the child's pipes have closed, or after `ms`, destroying them then. */
function closedWithin(child: ReturnType<typeof spawn>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.stdout?.destroy();
      child.stderr?.destroy();
      resolve();
    }, ms);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    if (child.stdout?.closed !== false && child.stderr?.closed !== false) return done();
    child.once('close', done);
  });
}

function trackGroup(pgid: number): void {
  if (liveGroups.size === 0) {
    process.on('exit', killLiveGroups);
    for (const sig of HANDLED_SIGNALS) process.on(sig, onSignal);
  }
  liveGroups.add(pgid);
}

function untrackGroup(pgid: number): void {
  liveGroups.delete(pgid);
  // Without a listener Node restores the default action: a later Ctrl-C ends the process as usual.
  if (liveGroups.size === 0) removeHandlers();
}

function removeHandlers(): void {
  process.off('exit', killLiveGroups);
  for (const sig of HANDLED_SIGNALS) process.off(sig, onSignal);
}

/** At exit nothing can wait for a grace period: SIGKILL. */
function killLiveGroups(): void {
  for (const pgid of liveGroups) signalGroup(pgid, 'SIGKILL');
}

/**
 * Another listener (the CLI's `interruptible`) handles the signal itself: it aborts the runs, which signal their
 * groups, or exits, which `killLiveGroups` covers. Alone, do what the signal would have done, groups first.
 */
function onSignal(sig: NodeJS.Signals): void {
  if (process.listenerCount(sig) > 1) return;
  killLiveGroups();
  liveGroups.clear();
  removeHandlers();
  process.kill(process.pid, sig);
}

/** Keeps the last `maxBytes` (and at most one chunk more) of a stream. */
class OutputTail {
  private chunks: Buffer[] = [];
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    while (this.chunks.length > 1 && this.bytes - this.chunks[0].length >= this.maxBytes) {
      this.bytes -= this.chunks.shift()!.length;
    }
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

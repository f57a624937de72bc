/**
 * Starts programs from a small long-lived helper process instead of from this one.
 *
 * Node starts a child by fork, and a fork costs in proportion to the parent's memory: measured on this machine
 * (bench/spawn-cost.mjs) 2.8 ms a spawn at 0.05 GB resident and 81 ms at 3.3 GB, during which the event loop is
 * blocked. A wide partitioned run holds gigabytes of plots and spawns ngspice thousands of times, so from its own
 * process each spawn costs 30-80 ms. The launcher is a node process that holds next to nothing: it is forked once,
 * then runs each program through `runInGroup` (group.ts) on request and sends the outcome back.
 *
 * The launcher is detached (the terminal's Ctrl-C reaches this process, which aborts its runs); when this process
 * ends, however it ends, the launcher's channel closes and the launcher kills every group it started and exits.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { GroupOptions, GroupOutcome } from './group.js';

/** A run's request to the launcher; `options` is `GroupOptions` without the abort signal. */
export interface LaunchRequest {
  type: 'run';
  id: number;
  bin: string;
  args: readonly string[];
  options: Omit<GroupOptions, 'signal' | 'via'>;
}
/** What a launcher sends back: that it runs, a run's outcome, a spawn error, or its own CPU time. */
export type LaunchReply =
  | { type: 'ready' }
  | { type: 'done'; id: number; outcome: GroupOutcome }
  | { type: 'failed'; id: number; error: SpawnErrorData }
  | { type: 'usage'; cpuS: number };
export type LaunchMessage = LaunchRequest | { type: 'abort'; id: number } | { type: 'usage' };

/** The fields of a spawn error (ENOENT, EACCES) that callers look at, so it survives the channel. */
export interface SpawnErrorData {
  message: string;
  code?: string;
  errno?: number;
  syscall?: string;
  path?: string;
}

interface Pending {
  resolve: (o: GroupOutcome) => void;
  reject: (e: Error) => void;
  /** How to run it without a launcher, when one cannot start (runs that did not ask for the launcher). */
  fallback?: () => Promise<GroupOutcome>;
  signal?: AbortSignal;
  onAbort?: () => void;
}

/**
 * The launcher's module: the compiled one beside this file. Run from the TypeScript sources (the test runner), that
 * is the build in dist/, which `npm test` makes first: a forked node runs plain JavaScript only.
 */
function launcherUrl(): URL {
  if (moduleOverride) return moduleOverride;
  const here = import.meta.url;
  return here.endsWith('.ts')
    ? new URL(here.replace(/\/src\/spice\/launcher\.ts$/, '/dist/spice/launcher-child.js'))
    : new URL('./launcher-child.js', here);
}

/** One launcher process and the runs it has not yet answered. */
class Launcher {
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private ready = false;
  private usageWaiter?: (cpuS: number) => void;
  readonly exited: Promise<void>;

  constructor() {
    const url = launcherUrl();
    this.child = fork(url, [], {
      detached: true,
      execArgv: [],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    this.child.on('message', (m: LaunchReply) => this.onReply(m));
    this.exited = new Promise((resolve) => {
      let ended = false;
      /**
       * Settles what waits, once: a failed fork's later 'error's (the EPIPE of each request) change nothing.
       * `failure`: it never ran, so runs that did not ask for it go on without it.
       */
      const end = (message: string, failure?: string) => {
        if (ended) return;
        ended = true;
        if (current === this) current = undefined;
        if (failure !== undefined) startFailure = failure; // and `via: 'auto'` stops trying it
        for (const p of this.pending.values()) {
          if (p.onAbort) p.signal?.removeEventListener('abort', p.onAbort);
          if (failure !== undefined && p.fallback) p.fallback().then(p.resolve, p.reject);
          else p.reject(new Error(message));
        }
        this.pending.clear();
        resolve();
      };
      this.child.once('exit', (code, signal) => {
        const ended = signal ?? `code ${code}`;
        if (this.ready)
          return end(`the ngspice launcher (pid ${this.child.pid}) exited (${ended}) before the run ended`);
        // Its module missing or broken: say where it was looked for.
        const why = `the ngspice launcher ${fileURLToPath(url)} exited (${ended}) before it was ready (is the package built? npm run build)`;
        end(why, why);
      });
      // A failed fork (ENOENT, EAGAIN) emits 'error' and never 'exit', and each request sent to it another 'error'
      // (EPIPE); a failed send to a started launcher is followed by its 'exit', which settles what waits.
      this.child.on('error', (e) => {
        if (this.child.pid !== undefined) return;
        const why = `the ngspice launcher could not be started (${e.message})`;
        end(why, why);
      });
    });
    this.idle();
  }

  run(
    bin: string,
    args: readonly string[],
    o: GroupOptions,
    fallback?: () => Promise<GroupOutcome>,
  ): Promise<GroupOutcome> {
    const id = this.nextId++;
    const { signal, via: _via, ...options } = o;
    return new Promise((resolve, reject) => {
      const p: Pending = { resolve, reject, fallback, signal };
      this.pending.set(id, p);
      this.busy();
      this.send({ type: 'run', id, bin, args, options });
      if (signal) {
        p.onAbort = () => this.send({ type: 'abort', id });
        signal.addEventListener('abort', p.onAbort, { once: true });
        if (signal.aborted) p.onAbort(); // aborted before the request: no event will come
      }
    });
  }

  /** This launcher's own CPU seconds (user + system; NaN if it ended before it could say), then it exits. */
  async close(): Promise<number> {
    this.busy();
    const cpuS = await Promise.race([
      new Promise<number>((resolve) => {
        this.usageWaiter = resolve;
        this.send({ type: 'usage' });
      }),
      this.exited.then(() => NaN),
    ]);
    if (this.child.connected) this.child.disconnect();
    await this.exited;
    return cpuS;
  }

  private send(m: LaunchMessage): void {
    if (this.child.connected) this.child.send(m);
  }

  private onReply(m: LaunchReply): void {
    if (m.type === 'ready') {
      this.ready = true;
      startFailure = undefined; // one did start after all (a retry asked for by `via: 'launcher'`): defaults use it
      return;
    }
    if (m.type === 'usage') {
      this.usageWaiter?.(m.cpuS);
      return;
    }
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (p.onAbort) p.signal?.removeEventListener('abort', p.onAbort);
    if (m.type === 'done') p.resolve(m.outcome);
    else p.reject(Object.assign(new Error(m.error.message), m.error));
    if (this.pending.size === 0) this.idle();
  }

  /** While runs are pending the launcher keeps this process alive; idle, it does not. */
  private busy(): void {
    this.child.ref();
    this.child.channel?.ref();
  }

  private idle(): void {
    this.child.unref();
    this.child.channel?.unref();
  }
}

let current: Launcher | undefined;
/** Why the last launcher never started, if it did not: `via: 'auto'` runs then start programs directly. */
let startFailure: string | undefined;
let moduleOverride: URL | undefined;

/**
 * Runs `bin args` as `runInGroup` does, from the launcher process (started on first use). If the launcher cannot
 * start, the run goes to `fallback` when given, and is rejected with where the launcher was looked for otherwise.
 */
export function runViaLauncher(
  bin: string,
  args: readonly string[],
  o: GroupOptions,
  fallback?: () => Promise<GroupOutcome>,
): Promise<GroupOutcome> {
  if (!current) {
    try {
      current = new Launcher();
    } catch (e) {
      // A fork error Node throws rather than emits (ENOMEM): the same as one it emits.
      startFailure = `the ngspice launcher could not be started (${(e as Error).message})`;
      return fallback ? fallback() : Promise.reject(new Error(startFailure));
    }
  }
  return current.run(bin, args, o, fallback);
}

/** Why the launcher could not start, or undefined when it did (or was never tried). */
export function launcherStartFailure(): string | undefined {
  return startFailure;
}

/**
 * Where the launcher program is, instead of the build's launcher-child.js beside this module (a bundler that moves
 * it; the tests). Clears a recorded start failure.
 */
export function setLauncherModule(url: URL | undefined): void {
  moduleOverride = url;
  startFailure = undefined;
}

/** Whether a launcher process is running (then every `via: 'auto'` run goes through it). */
export function launcherRunning(): boolean {
  return current !== undefined;
}

/**
 * Ends the launcher, if one runs, and returns its own CPU seconds (0 when none ran, NaN when it died first). Once it has exited, the CPU of
 * the programs it ran counts among this process's children (getrusage, /proc/self/stat cutime), as direct runs do.
 */
export async function closeLauncher(): Promise<number> {
  const l = current;
  current = undefined;
  return l ? l.close() : 0;
}

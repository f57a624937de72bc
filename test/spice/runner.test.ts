import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { groupGone } from '../helpers.js';
import {
  NgspiceNotFoundError,
  SpiceConvergenceError,
  SpiceCrashError,
  SpiceIncludeError,
  SpiceModelError,
  SpiceNetlistError,
  SpiceTimeoutError,
  ngspiceVersion,
  runNgspice,
  withThreads,
  vector,
  type RunProgress,
  type SpiceError,
} from '../../src/spice/index.js';
import { runMany } from '../../src/util/pool.js';
import { filesourceCodemodel } from '../../src/spice/filesource.js';
import { preloadBlock } from '../../src/spice/deck.js';

// These tests run the real ngspice; vitest.config.ts's gate requires it in CI and skips this file without it elsewhere.
const ngspiceAvailable = await ngspiceVersion().then(
  () => true,
  () => false,
);

const decksDir = fileURLToPath(new URL('./decks/', import.meta.url));
const deck = (name: string) => readFileSync(`${decksDir}${name}.cir`, 'utf8');
const rcFixture = fileURLToPath(new URL('../fixtures/raw/rc_tran.bin.raw', import.meta.url));

const TAU_S = 1e3 * 1e-6;
const rcDeck = (tStop: string) =>
  `* rc step\nV1 in 0 PWL(0 0 1n 1)\nR1 in out 1k\nC1 out 0 1u\n.tran 10u ${tStop}\n.save v(in) v(out) i(v1)\n.end\n`;
/** About 1e10 time steps: runs for hours unless killed. */
const LONG_DECK = '* long transient\nV1 in 0 SIN(0 1 1k)\nR1 in out 1k\nC1 out 0 1u\n.tran 1n 10\n.save v(out)\n.end\n';

let workRoot: string;
beforeAll(async () => {
  workRoot = await mkdtemp(path.join(os.tmpdir(), 'bmru-spice-test-'));
});
afterAll(async () => {
  await rm(workRoot, { recursive: true, force: true });
});

/** The error a run rejects with, checked to be of the given class. */
async function failureOf<E extends Error>(run: Promise<unknown>, type: new (...args: never[]) => E): Promise<E> {
  const error = await run.then(
    () => new Error('expected the run to fail'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(type);
  return error as E;
}

/** Work directories left under workRoot (failed runs keep theirs by default). */
async function workDirs(): Promise<string[]> {
  return readdir(workRoot);
}

async function removeWorkDirs(): Promise<void> {
  for (const dir of await workDirs()) await rm(path.join(workRoot, dir), { recursive: true, force: true });
}

describe.skipIf(!ngspiceAvailable)('runNgspice with ngspice', () => {
  afterEach(removeWorkDirs);

  it('runs an RC transient whose v(out) follows 1 - exp(-t/RC), and removes its work directory', async () => {
    const expectations = { expectTStopS: 5e-3, expectVectors: ['v(out)', 'i(v1)'] };
    const result = await runNgspice({ netlist: rcDeck('5m'), name: 'rc', workRoot, ...expectations });
    expect(result.exitCode).toBe(0);
    expect(result.ngspiceVersion).toMatch(/^\d+/);
    expect(result.durationMs).toBeGreaterThan(0);
    expect(result.workDir).toBeUndefined();
    expect(await workDirs()).toEqual([]);
    const [tran] = result.plots;
    const time = vector(tran, 'time');
    expect(time[time.length - 1]).toBe(5e-3);
    const vOut = vector(tran, 'v(out)');
    time.forEach((t, k) => expect(Math.abs(vOut[k] - (1 - Math.exp(-t / TAU_S)))).toBeLessThan(1e-3));
    // i(v1) is the current into V1's + terminal: minus the capacitor's charging current (V - v(out)) / R.
    const iV1 = vector(tran, 'i(v1)');
    const k = time.findIndex((t) => t >= 1e-3);
    expect(iV1[k]).toBeCloseTo(-(1 - vOut[k]) / 1e3, 7);
    expect(result.messages.filter((m) => m.severity === 'error')).toEqual([]);
  });

  it('runs the example of its doc comment', async () => {
    const netlist = '* rc\nV1 in 0 PWL(0 0 1n 1)\nR1 in out 1k\nC1 out 0 1u\n.tran 10u 5m\n.end\n';
    const { plots } = await runNgspice({ netlist, expectTStopS: 5e-3 });
    const vOut = vector(plots[0], 'v(out)');
    expect(vOut.at(-1)).toBeCloseTo(1 - Math.exp(-5), 3);
  });

  it('reports the progress of a transient about once a second, from the rawfile ngspice is writing', async () => {
    // 1e6 forced 1 us steps through a 30-stage RC ladder: 4.4 s on an idle core (a single RC took 1.9 s there,
    // one report, and the test failed on an idle machine only), enough for several reports.
    const ladder = Array.from({ length: 30 }, (_, k) => `R${k} n${k} n${k + 1} 1k\nC${k} n${k + 1} 0 1n`).join('\n');
    const netlist = `* progress\nV1 n0 0 SIN(0 1 1k)\n${ladder}\n.tran 1u 1 0 1u\n.save v(n30)\n.end\n`;
    const reports: RunProgress[] = [];
    const result = await runNgspice({ netlist, workRoot, expectTStopS: 1, onProgress: (p) => reports.push(p) });
    const reportsAtEnd = reports.length;
    expect(reportsAtEnd).toBeGreaterThanOrEqual(2);
    expect(reportsAtEnd).toBeLessThanOrEqual(Math.ceil(result.durationMs / 1000) + 1);
    // Each report is a point of the finished plot, read where the file ended at the time.
    const time = vector(result.plots[0], 'time');
    for (const r of reports) {
      expect(r.timeS).toBe(time[r.points - 1]);
      expect(r.fraction).toBe(r.timeS); // tstop = 1 s
    }
    for (let k = 1; k < reports.length; k++) expect(reports[k].points).toBeGreaterThan(reports[k - 1].points);
    expect(reports[0].timeS).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(reports).toHaveLength(reportsAtEnd); // no report after the run settled
  });

  it('keeps the work directory with the deck and the rawfile when asked to', async () => {
    const result = await runNgspice({ netlist: rcDeck('1m'), workRoot, keepWorkDir: 'always' });
    expect(result.workDir).toBeDefined();
    expect((await readdir(result.workDir!)).sort()).toEqual(['deck.cir', 'out.raw']);
    expect(await readFile(path.join(result.workDir!, 'deck.cir'), 'utf8')).toBe(withThreads(rcDeck('1m'), 1)); // the deck as run: single-threaded BSIM evaluation
  });

  it('kills a run that exceeds its timeout and raises SpiceTimeoutError with the kept work directory', async () => {
    const startedMs = Date.now();
    const error = await failureOf(runNgspice({ netlist: LONG_DECK, workRoot, timeoutMs: 500 }), SpiceTimeoutError);
    expect(Date.now() - startedMs).toBeLessThan(5000);
    expect(error.kind).toBe('timeout');
    expect(error.timeoutMs).toBe(500);
    expect(error.message).toContain('within 500 ms');
    expect(existsSync(path.join(error.workDir!, 'deck.cir'))).toBe(true);
    expect(error.netlistPath).toBe(path.join(error.workDir!, 'deck.cir'));
  });

  it('kills the run when its AbortSignal fires and rejects with the abort reason, leaving no work directory', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const error = await failureOf(runNgspice({ netlist: LONG_DECK, workRoot, signal: controller.signal }), Error);
    expect(error.name).toBe('AbortError');
    expect(await workDirs()).toEqual([]);
  });

  it('raises SpiceConvergenceError with time, time step and node when the time step gets too small', async () => {
    const error = await failureOf(runNgspice({ netlist: deck('timestep_too_small'), workRoot }), SpiceConvergenceError);
    expect(error).toMatchObject({ kind: 'timestep-too-small', timeS: 4.00948e-7, timestepS: 1.25e-18, node: 'x' });
    expect(error.message).toContain('timestep too small at t = 4.00948e-7 s');
    expect(error.stderrTail).toContain('run simulation(s) aborted');
    // The partial rawfile stays in the kept work directory for a look at how far the run got.
    expect(existsSync(path.join(error.workDir!, 'out.raw'))).toBe(true);
  });

  it("raises SpiceConvergenceError when the failure follows ngspice's carriage-return progress lines", async () => {
    // Found at width 64: "ngspice exited with code 1: run simulation(s) aborted", the cause unread behind the progress.
    const error = await failureOf(
      runNgspice({ netlist: deck('timestep_after_progress'), workRoot }),
      SpiceConvergenceError,
    );
    expect(error).toMatchObject({ kind: 'timestep-too-small', node: 'x' });
    expect(error.timeS).toBeCloseTo(0.04, 6);
  });

  it('raises SpiceConvergenceError of kind operating-point when no operating point is found', async () => {
    const error = await failureOf(runNgspice({ netlist: deck('op_failure'), workRoot }), SpiceConvergenceError);
    expect(error.kind).toBe('operating-point');
  });

  it('raises SpiceModelError naming an unknown model and its line', async () => {
    const error = await failureOf(runNgspice({ netlist: deck('unknown_model'), workRoot }), SpiceModelError);
    expect(error).toMatchObject({ kind: 'unknown-model', modelName: 'nosuchmodel', line: 4 });
  });

  it('raises SpiceModelError naming an unknown subckt', async () => {
    const error = await failureOf(runNgspice({ netlist: deck('unknown_subckt'), workRoot }), SpiceModelError);
    expect(error).toMatchObject({ kind: 'unknown-subckt', modelName: 'nosuchcell' });
  });

  it('raises SpiceIncludeError with the path of a missing include file', async () => {
    const error = await failureOf(runNgspice({ netlist: deck('missing_include'), workRoot }), SpiceIncludeError);
    expect(error.includePath).toBe('/nonexistent/models/card.lib');
  });

  it('raises SpiceNetlistError with the line number and text of a syntax error', async () => {
    const error = await failureOf(runNgspice({ netlist: deck('syntax_error'), workRoot }), SpiceNetlistError);
    expect(error).toMatchObject({
      kind: 'netlist',
      line: 4,
      lineText: '.tran 1u foo',
      reason: 'TSTOP is invalid, must be greater than zero.',
    });
  });

  it('raises SpiceNetlistError for an undefined parameter', async () => {
    const error = await failureOf(runNgspice({ netlist: deck('undefined_param'), workRoot }), SpiceNetlistError);
    expect(error).toMatchObject({ line: 3, reason: 'Undefined parameter [rval]' });
  });

  it('accepts a floating node that gmin stepping resolves, reporting the singular-matrix warnings', async () => {
    const result = await runNgspice({ netlist: deck('floating_node'), workRoot, expectTStopS: 1e-3 });
    expect(result.messages).toContainEqual(
      expect.objectContaining({ severity: 'warning', kind: 'singular-matrix', subject: 'b' }),
    );
  });

  it('raises an incomplete-run SpiceCrashError when the transient stops before the expected tstop', async () => {
    const error = await failureOf(runNgspice({ netlist: rcDeck('1m'), workRoot, expectTStopS: 2e-3 }), SpiceCrashError);
    expect(error.kind).toBe('incomplete');
    expect(error.message).toContain('the transient stops at t = 0.001 s, before tstop = 0.002 s');
  });

  it('raises an incomplete-run SpiceCrashError when a saved vector is missing (ngspice drops it silently)', async () => {
    const error = await failureOf(
      runNgspice({ netlist: deck('save_unknown_node'), workRoot, expectVectors: ['v(a)', 'v(nonexist)'] }),
      SpiceCrashError,
    );
    expect(error.kind).toBe('incomplete');
    expect(error.message).toContain('no vector "v(nonexist)"');
  });

  it('raises an incomplete-run SpiceCrashError when ngspice exits 0 without a rawfile (no analysis)', async () => {
    const error = await failureOf(runNgspice({ netlist: deck('no_analysis'), workRoot }), SpiceCrashError);
    expect(error).toMatchObject({ kind: 'incomplete', exitCode: 0 });
    expect(error.message).toContain('wrote no rawfile');
  });

  it('removes the work directory of a failed run with keepWorkDir "never"', async () => {
    const run = runNgspice({ netlist: deck('unknown_subckt'), workRoot, keepWorkDir: 'never' });
    const error = await failureOf(run, SpiceModelError);
    expect(error.workDir).toBeUndefined();
    expect(error.netlistPath).toBeUndefined();
    expect(await workDirs()).toEqual([]);
  });

  it('names the kept work directory in the message of a failed run', async () => {
    const error = await failureOf(runNgspice({ netlist: deck('missing_include'), workRoot }), SpiceIncludeError);
    expect(error.workDir?.startsWith(path.join(workRoot, 'bmru-ngspice-run-'))).toBe(true);
    expect(error.message).toContain(`(work dir kept: ${error.workDir})`);
  });

  it('runs decks through runMany two at a time, results in input order', async () => {
    const tStops = ['1m', '2m', '3m', '4m'];
    const completed: number[] = [];
    const results = await runMany(tStops, (tStop) => runNgspice({ netlist: rcDeck(tStop), workRoot }), {
      concurrency: 2,
      onDone: (c) => completed.push(c.completed),
    });
    expect(results.map((r) => vector(r.plots[0], 'time').at(-1))).toEqual([1e-3, 2e-3, 3e-3, 4e-3]);
    expect(completed).toEqual([1, 2, 3, 4]);
  });

  it('writes data files beside the deck, where a filesource loaded by its preload block reads them', async () => {
    const cm = await filesourceCodemodel();
    expect(cm).toMatch(/\/analog\.cm$/); // CI installs Debian's ngspice, which has its code models
    const netlist = [
      '* replay',
      'Ar %vd([n 0]) rm',
      '.model rm filesource (file="wave.txt" amploffset=[0] amplscale=[1] timeoffset=0 timescale=1 timerelative=false amplstep=false)',
      'R1 n 0 1k',
      '.save v(n)',
      '.tran 10u 1m',
      ...preloadBlock({ codemodels: [cm!], xtrtol: 7 }),
      '.end',
      '',
    ].join('\n');
    const r = await runNgspice({
      netlist,
      workRoot,
      keepWorkDir: 'always',
      dataFiles: new Map([['wave.txt', '0 0\n5e-4 0.5\n1e-3 0.2\n2 0.2\n']]),
    });
    const t = vector(r.plots[0], 'time');
    const v = vector(r.plots[0], 'v(n)');
    // At every time point the node is the file's waveform, linearly interpolated (0 -> 0.5 -> 0.2 V).
    const wave = (x: number) => (x <= 5e-4 ? x * 1e3 : 0.5 - (x - 5e-4) * 600);
    expect(t.length).toBeGreaterThan(50);
    for (let i = 0; i < t.length; i++) expect(v[i]).toBeCloseTo(wave(t[i]), 9);
    expect(await readFile(path.join(r.workDir!, 'wave.txt'), 'utf8')).toBe('0 0\n5e-4 0.5\n1e-3 0.2\n2 0.2\n');
    expect(await readFile(path.join(r.workDir!, 'deck.cir'), 'utf8')).toContain('pre_set xtrtol=7');
  });
});

describe('runNgspice without a usable ngspice', () => {
  let fakeDir: string;
  beforeAll(async () => {
    fakeDir = await mkdtemp(path.join(os.tmpdir(), 'bmru-fake-ngspice-'));
  });
  afterAll(async () => {
    await rm(fakeDir, { recursive: true, force: true });
  });
  afterEach(removeWorkDirs);

  /** A stand-in for ngspice: answers `-v` like ngspice 99, runs `body` otherwise. */
  async function fakeNgspice(name: string, body: string): Promise<string> {
    const bin = path.join(fakeDir, name);
    await writeFile(bin, `#!/bin/sh\nif [ "$1" = "-v" ]; then echo "** ngspice-99 : fake"; exit 0; fi\n${body}\n`);
    await chmod(bin, 0o755);
    return bin;
  }

  it('raises NgspiceNotFoundError, saying how to install ngspice, when the binary does not exist', async () => {
    const run = runNgspice({ netlist: rcDeck('1m'), workRoot, ngspiceBin: '/nonexistent/ngspice' });
    const error = await failureOf(run, NgspiceNotFoundError);
    expect(error.kind).toBe('not-found');
    expect(error.message).toContain('apt-get install -y ngspice');
    expect(error.message).toContain('BMRU_NGSPICE');
    expect(await workDirs()).toEqual([]);
  });

  it('passes -b -n -r, binary filetype and extra arguments, writes the thread count into the deck, with SPICE_ASCIIRAWFILE=0', async () => {
    const script = `printf '%s\\n' "$@" > args.txt\necho "$SPICE_ASCIIRAWFILE" > env.txt\ncp ${rcFixture} "$4"`;
    const bin = await fakeNgspice('ngspice-args', script);
    const extraArgs = ['-D', 'ngbehavior=hsa'];
    const result = await runNgspice({
      netlist: rcDeck('1m'),
      workRoot,
      ngspiceBin: bin,
      threads: 3,
      extraArgs,
      keepWorkDir: 'always',
    });
    const dir = result.workDir!;
    const args = (await readFile(path.join(dir, 'args.txt'), 'utf8')).trim().split('\n');
    const [raw, deckPath] = [path.join(dir, 'out.raw'), path.join(dir, 'deck.cir')];
    expect(args).toEqual(['-b', '-n', '-r', raw, '-D', 'filetype=binary', ...extraArgs, deckPath]);
    expect(await readFile(deckPath, 'utf8')).toContain('.options num_threads=3\n.end');
    expect((await readFile(path.join(dir, 'env.txt'), 'utf8')).trim()).toBe('0');
    expect(result.ngspiceVersion).toBe('99');
    expect(result.plots[0].numPoints).toBe(79);
  });

  it('uses the binary named by BMRU_NGSPICE when no ngspiceBin is given', async () => {
    const bin = await fakeNgspice('ngspice-env', 'cp ' + rcFixture + ' "$4"');
    const saved = process.env.BMRU_NGSPICE;
    process.env.BMRU_NGSPICE = bin;
    try {
      const result = await runNgspice({ netlist: rcDeck('1m'), workRoot });
      expect(result.ngspiceVersion).toBe('99');
    } finally {
      if (saved === undefined) delete process.env.BMRU_NGSPICE;
      else process.env.BMRU_NGSPICE = saved;
    }
  });

  it('raises a crash SpiceCrashError when ngspice is killed by a signal', async () => {
    const bin = await fakeNgspice('ngspice-segv', 'echo "starting" >&2\nkill -SEGV $$');
    const error = await failureOf(runNgspice({ netlist: rcDeck('1m'), workRoot, ngspiceBin: bin }), SpiceCrashError);
    expect(error).toMatchObject({ kind: 'crash', signal: 'SIGSEGV', exitCode: null });
    expect(error.stderrTail).toContain('starting');
  });

  it('sends SIGKILL after the grace period to an ngspice that ignores SIGTERM', async () => {
    // A busy loop in the shell itself: no child process would keep the output pipes open after the kill.
    const bin = await fakeNgspice('ngspice-stubborn', "trap '' TERM\nwhile :; do :; done");
    const startedMs = Date.now();
    await failureOf(
      runNgspice({ netlist: rcDeck('1m'), workRoot, ngspiceBin: bin, timeoutMs: 200 }),
      SpiceTimeoutError,
    );
    expect(Date.now() - startedMs).toBeGreaterThanOrEqual(2000); // KILL_GRACE_MS
    expect(Date.now() - startedMs).toBeLessThan(6000);
  });

  it('asks each binary for its version once', async () => {
    const bin = await fakeNgspice('ngspice-version', 'exit 0');
    const first = ngspiceVersion(bin);
    expect(ngspiceVersion(bin)).toBe(first);
    expect(await first).toBe('99');
  });

  it('raises a crash SpiceCrashError for a failing exit code with no recognised message', async () => {
    const bin = await fakeNgspice('ngspice-exit3', 'exit 3');
    const error = await failureOf(runNgspice({ netlist: rcDeck('1m'), workRoot, ngspiceBin: bin }), SpiceCrashError);
    expect(error).toMatchObject({ kind: 'crash', exitCode: 3 });
    expect(error.message).toContain('exited with code 3 without an error message');
  });

  it('raises an incomplete-run SpiceCrashError for an unreadable rawfile', async () => {
    const bin = await fakeNgspice('ngspice-garbage', 'echo garbage > "$4"');
    const error = await failureOf(runNgspice({ netlist: rcDeck('1m'), workRoot, ngspiceBin: bin }), SpiceCrashError);
    expect(error.kind).toBe('incomplete');
    expect(error.message).toContain('rawfile is unreadable');
  });

  it('refuses a deck with a .control block before running anything', async () => {
    const netlist = '* c\nR1 a 0 1k\n.control\nrun\n.endc\n.end\n';
    // A missing binary would fail differently: the deck is refused before ngspice is looked for.
    const run = runNgspice({ netlist, workRoot, ngspiceBin: '/nonexistent/ngspice' });
    const error: SpiceError = await failureOf(run, SpiceNetlistError);
    expect(error.message).toContain('.control');
  });

  it('refuses a preload block that loads a code model the ngspice installation does not list, before running anything', async () => {
    const elsewhere = await mkdtemp(path.join(os.tmpdir(), 'bmru-cm-'));
    const evil = path.join(elsewhere, 'analog.cm');
    await writeFile(evil, '');
    const netlist = ['* c', 'R1 a 0 1k', '.tran 1u 1m', ...preloadBlock({ codemodels: [evil] }), '.end', ''].join('\n');
    const error = await failureOf(
      runNgspice({ netlist, workRoot, ngspiceBin: '/nonexistent/ngspice' }),
      SpiceNetlistError,
    );
    expect(error.message).toContain(`loads code model ${evil}, which is not one this ngspice installation lists`);
    // Named by BMRU_NGSPICE_CODEMODELS it is listed, and the run goes on (to the missing binary).
    process.env.BMRU_NGSPICE_CODEMODELS = evil;
    try {
      await expect(runNgspice({ netlist, workRoot, ngspiceBin: '/nonexistent/ngspice' })).rejects.toThrow(
        NgspiceNotFoundError,
      );
    } finally {
      delete process.env.BMRU_NGSPICE_CODEMODELS;
      await rm(elsewhere, { recursive: true, force: true });
    }
  });

  it('refuses a data file name that is a path or the deck or rawfile itself, before running anything', async () => {
    for (const name of ['../x.txt', 'a/b.txt', 'deck.cir', 'out.raw', '.hidden', ''])
      await expect(
        runNgspice({
          netlist: rcDeck('1m'),
          workRoot,
          ngspiceBin: '/nonexistent/ngspice',
          dataFiles: new Map([[name, 'x']]),
        }),
      ).rejects.toThrow(/data file name/);
  });

  it('rejects invalid options with RangeError', async () => {
    await expect(runNgspice({ netlist: rcDeck('1m'), timeoutMs: 0 })).rejects.toThrow(RangeError);
    await expect(runNgspice({ netlist: rcDeck('1m'), threads: 0 })).rejects.toThrow(RangeError);
    await expect(runNgspice({ netlist: rcDeck('1m'), expectTStopS: -1 })).rejects.toThrow(RangeError);
  });
});

describe('runNgspice through a wrapper script (module systems, site scripts)', () => {
  let wrapDir: string;
  beforeAll(async () => {
    wrapDir = await mkdtemp(path.join(os.tmpdir(), 'bmru-wrapper-ngspice-'));
  });
  afterAll(async () => {
    await rm(wrapDir, { recursive: true, force: true });
  });
  afterEach(removeWorkDirs);

  /**
   * A wrapper that answers `-v` like ngspice 39, writes its pid (its process group's id: the runner makes it a
   * group leader) to `<bin>.pgid`, then runs `body`.
   */
  async function wrapper(name: string, body: string): Promise<string> {
    const bin = path.join(wrapDir, name);
    await writeFile(
      bin,
      `#!/bin/sh\nif [ "$1" = "-v" ]; then echo "** ngspice-39 : wrapper"; exit 0; fi\necho $$ > "$0.pgid"\n${body}\n`,
    );
    await chmod(bin, 0o755);
    return bin;
  }

  const pgidOf = (bin: string) => Number(readFileSync(`${bin}.pgid`, 'utf8'));

  it('times out a wrapper whose grandchild holds stdout: rejects within seconds and leaves no process of its group', async () => {
    const bin = await wrapper('ngspice-holds-stdout', "sh -c 'sleep 300' &\nwait");
    const startedMs = Date.now();
    await failureOf(
      runNgspice({ netlist: rcDeck('1m'), workRoot, ngspiceBin: bin, timeoutMs: 2000 }),
      SpiceTimeoutError,
    );
    const elapsedMs = Date.now() - startedMs;
    console.log(`wrapper holding stdout: SpiceTimeoutError after ${elapsedMs} ms (timeout 2000 ms)`);
    expect(elapsedMs).toBeLessThan(10_000);
    expect(await groupGone(pgidOf(bin))).toEqual([]);
  });

  it('kills what a wrapper leaves behind after a successful run, without waiting for it', async () => {
    const bin = await wrapper('ngspice-leaves-helper', `sleep 300 &\ncp ${rcFixture} "$4"`);
    const startedMs = Date.now();
    const result = await runNgspice({ netlist: rcDeck('1m'), workRoot, ngspiceBin: bin });
    expect(result.plots[0].numPoints).toBe(79);
    expect(Date.now() - startedMs).toBeLessThan(5000);
    expect(await groupGone(pgidOf(bin))).toEqual([]);
  });

  it('kills the whole group when the run is aborted', async () => {
    const bin = await wrapper('ngspice-aborted', "sh -c 'sleep 300' &\nwait");
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 500);
    const error = await failureOf(
      runNgspice({ netlist: rcDeck('1m'), workRoot, ngspiceBin: bin, signal: controller.signal }),
      Error,
    );
    expect(error.name).toBe('AbortError');
    expect(await groupGone(pgidOf(bin))).toEqual([]);
  });

  it('does not wait on a helper that left the group (setsid) and holds stdout: its output is cut off after a bounded drain', async () => {
    // A process in a session of its own is out of reach of the group kill; the run must end all the same.
    // The wrapper waits for the helper to have left the group (it writes its pid after setsid): otherwise the
    // group kill at the wrapper's exit could catch it before it left, and the test would check nothing (and fail).
    const bin = await wrapper(
      'ngspice-setsid-helper',
      `setsid sh -c 'echo $$ > "$0.helper"; exec sleep 300' "$0" &\nwhile [ ! -s "$0.helper" ]; do sleep 0.01; done\ncp ${rcFixture} "$4"`,
    );
    const startedMs = Date.now();
    try {
      const result = await runNgspice({ netlist: rcDeck('1m'), workRoot, ngspiceBin: bin });
      expect(result.plots[0].numPoints).toBe(79);
      expect(Date.now() - startedMs).toBeLessThan(6000); // STREAM_DRAIN_MS (2 s) plus start-up
    } finally {
      for (let i = 0; i < 50 && !existsSync(`${bin}.helper`); i++) await new Promise((r) => setTimeout(r, 20));
      process.kill(Number(readFileSync(`${bin}.helper`, 'utf8')), 'SIGKILL');
    }
  });

  it.runIf(ngspiceAvailable)(
    'times out the real ngspice run by a wrapper as its child, and leaves no ngspice running',
    async () => {
      const bin = await wrapper('ngspice-child', 'ngspice "$@"\nexit $?');
      const startedMs = Date.now();
      await failureOf(
        runNgspice({ netlist: LONG_DECK, workRoot, ngspiceBin: bin, timeoutMs: 1000 }),
        SpiceTimeoutError,
      );
      expect(Date.now() - startedMs).toBeLessThan(6000);
      expect(await groupGone(pgidOf(bin))).toEqual([]);
    },
  );
});

describe('withThreads', () => {
  it('puts .options num_threads before the final .end, once', () => {
    const deck = '* t\nR1 a 0 1k\n.op\n.end\n';
    expect(withThreads(deck, 1)).toBe('* t\nR1 a 0 1k\n.op\n.options num_threads=1\n.end\n');
    expect(withThreads(withThreads(deck, 1), 1)).toBe(withThreads(deck, 1));
    expect(withThreads('* t\n.options reltol=1e-4 num_threads=2\n.end\n', 1)).toContain('num_threads=2');
    expect(withThreads('* no end\n.op', 1)).toBe('* no end\n.op\n.options num_threads=1\n');
  });
});

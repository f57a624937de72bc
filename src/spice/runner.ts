/**
 * Runs one deck through ngspice in batch mode and returns its plots, or throws a typed `SpiceError`.
 *
 * The run follows a fixed template: make a work directory, write `deck.cir`, spawn
 * `ngspice -b -n -r out.raw -D filetype=binary [extraArgs] deck.cir` (no shell; the deck gets `.options num_threads=N`)
 * in a process group of its own, so that a timeout, an abort or the end of the run takes a wrapper script's
 * children with it (group.ts), read `out.raw`, and delete the directory in `finally` unless it is to be kept. On ngspice 39 the exit code
 * alone is no verdict (DESIGN.md §7), so a run is judged from its exit code, its classified messages and
 * its rawfile together.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { classifyNgspiceOutput, primaryError, type SpiceMessage } from './classify.js';
import {
  NgspiceNotFoundError,
  SpiceConvergenceError,
  SpiceCrashError,
  SpiceIncludeError,
  SpiceModelError,
  SpiceNetlistError,
  SpiceTimeoutError,
  type SpiceError,
  type SpiceErrorContext,
} from './errors.js';
import { outputError } from '../util/output.js';
import { CODEMODEL_ENV, codemodelCandidates } from './codemodels.js';
import { controlLines } from './deck.js';
import { measureLines, parseMeasurements, printedTables, type Measurement } from './measure.js';
import { runInGroup, type GroupOutcome } from './group.js';
import { readRawfile, vector, type RawPlot } from './rawfile.js';
import { watchTransient, type RunProgress } from './watch.js';

export type { RunProgress } from './watch.js';

/** What to run and how. */
export interface RunOptions {
  /**
   * The deck: title line first, `.end` last, with analysis (`.tran`/`.dc`/`.op`/`.ac`) and `.save` lines
   * and no `.control` block. It runs from its own work directory, so `.include` paths must be absolute.
   */
  netlist: string;
  /**
   * Files the deck reads, by name (e.g. a hand-off's points for an XSPICE `filesource`), written beside it in its
   * work directory, from which ngspice runs. Names are plain file names. Default: none.
   */
  dataFiles?: ReadonlyMap<string, string>;
  /** Label used in the work directory's name. Default: `run`. */
  name?: string;
  /** Kill ngspice after this long (ms). Default: 600_000 (10 min). */
  timeoutMs?: number;
  /** OpenMP threads for BSIM device evaluation (`.options num_threads=N` in the deck). Default: 1, for one process per core. */
  threads?: number;
  /** More ngspice arguments, placed before the deck (e.g. `['-D', 'ngbehavior=hsa']`). Default: none. */
  extraArgs?: string[];
  /** Where work directories are made. Default: `os.tmpdir()`. */
  workRoot?: string;
  /** When to keep the work directory (deck, rawfile). Default: `onFailure`. */
  keepWorkDir?: 'never' | 'onFailure' | 'always';
  /** The ngspice binary. Default: env `BMRU_NGSPICE`, else `ngspice` on PATH. */
  ngspiceBin?: string;
  /** If set, the last transient time point must reach this tstop (s), within 1e-9 relative. Default: unchecked. */
  expectTStopS?: number;
  /** Vectors the last plot must hold (`v(out)`, `i(vdd)`): ngspice drops a `.save` of an unknown node silently. */
  expectVectors?: string[];
  /**
   * Run a deck that has ngspice commands in it (`.control`, `*#` lines, `*ng_script`): only for a user's own deck
   * they asked to run as it is; the verdict then rests on the rawfile alone. Default: false, such decks are refused.
   */
  allowControl?: boolean;
  /**
   * Read only these vectors of the rawfile (plus each plot's scale): less memory on decks that save more than the
   * caller needs. Default: every vector. `expectVectors` must be among them.
   */
  readVectors?: string[];
  /** Aborting kills ngspice and rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Called about every `PROGRESS_INTERVAL_MS` (1 s) while a transient advances, with the time of the last
   * point ngspice has written and, when `expectTStopS` is set, the fraction done. Read from the growing
   * rawfile (see watch.ts); never called once `runNgspice` has settled. Default: no reports.
   */
  onProgress?: (p: RunProgress) => void;
}

/** A successful run. */
export interface RunResult {
  /** Every plot of the rawfile, in the order ngspice ran the analyses. */
  plots: RawPlot[];
  exitCode: number;
  /** Wall time from spawn to exit (ms). */
  durationMs: number;
  /** As `ngspice -v` prints it, e.g. `39`. */
  ngspiceVersion: string;
  /** Everything ngspice said that classifies (warnings and notes; errors that did not fail the run). */
  messages: SpiceMessage[];
  /** The last lines of stdout and stderr. */
  stdoutTail: string;
  stderrTail: string;
  /** The deck's `.meas` results (a second run without `-r`; see measure.ts), when it has `.meas` lines. */
  measurements?: Measurement[];
  /** The `.print` tables ngspice printed in that second run, when the deck has `.print` lines. */
  printed?: string;
  /** Present when the work directory was kept (`keepWorkDir: 'always'`). */
  workDir?: string;
  /** The rawfile in it, present with `workDir`. */
  rawFile?: string;
}

const DEFAULT_TIMEOUT_MS = 10 * 60 * 1000;
/** Time between SIGTERM and SIGKILL (ms); ngspice 39 exits at once on SIGTERM, so this is a fallback. */
const KILL_GRACE_MS = 2000;
/** Limit for `ngspice -v` (ms). */
const VERSION_TIMEOUT_MS = 30_000;
/** Output kept per stream for classification (bytes); failures are reported at the end of the output. */
const MAX_OUTPUT_BYTES = 1 << 20;
const TAIL_LINES = 40;
const TSTOP_REL_TOL = 1e-9;
/** Time between looks at the growing rawfile for `onProgress` (ms). */
const PROGRESS_INTERVAL_MS = 1000;
const DECK_FILE = 'deck.cir';
const RAW_FILE = 'out.raw';

type OptionalOptions = 'expectTStopS' | 'signal' | 'onProgress' | 'readVectors' | 'dataFiles';
type ResolvedOptions = Required<Omit<RunOptions, OptionalOptions>> & Pick<RunOptions, OptionalOptions>;

/** The files of one run. */
interface RunFiles {
  workDir: string;
  deck: string;
  raw: string;
}

/** How the ngspice process ended. */
type ProcessOutcome = GroupOutcome;

/**
 * Runs a deck through ngspice and returns its plots.
 *
 * @throws NgspiceNotFoundError, SpiceTimeoutError, SpiceConvergenceError, SpiceModelError,
 *   SpiceIncludeError, SpiceNetlistError or SpiceCrashError (each with the kept work directory);
 *   the signal's reason when aborted; RangeError for invalid options.
 * @example
 *   const netlist = '* rc\nV1 in 0 PWL(0 0 1n 1)\nR1 in out 1k\nC1 out 0 1u\n.tran 10u 5m\n.end\n';
 *   const { plots } = await runNgspice({ netlist, expectTStopS: 5e-3 });
 *   const vOut = vector(plots[0], 'v(out)');
 */
export async function runNgspice(options: RunOptions): Promise<RunResult> {
  const o = resolveOptions(options);
  o.signal?.throwIfAborted();
  const version = await ngspiceVersion(o.ngspiceBin);
  const workDir = await mkdtemp(path.join(o.workRoot, `bmru-ngspice-${safeName(o.name)}-`));
  const files = { workDir, deck: path.join(workDir, DECK_FILE), raw: path.join(workDir, RAW_FILE) };
  // Errors point at the work directory only if it will still be there.
  const where: SpiceErrorContext = o.keepWorkDir === 'never' ? {} : { workDir, netlistPath: files.deck };
  let outcome: 'ok' | 'failed' | 'aborted' = 'failed';
  try {
    for (const [name, text] of o.dataFiles ?? []) {
      const file = path.join(workDir, name);
      await writeFile(file, text).catch((e: unknown) => {
        throw outputError(e, file);
      });
    }
    await writeFile(files.deck, withThreads(o.netlist, o.threads)).catch((e: unknown) => {
      throw outputError(e, files.deck); // a full TMPDIR: say which file, the bare errno does not
    });
    const watcher = o.onProgress
      ? watchTransient(files.raw, o.onProgress, { intervalMs: PROGRESS_INTERVAL_MS, tStopS: o.expectTStopS })
      : undefined;
    const run = await spawnNgspice(o, files, where).finally(() => watcher?.stop());
    if (run.aborted) {
      outcome = 'aborted';
      throw o.signal?.reason;
    }
    let result = await judge(o, run, version, files.raw, { ...where, stderrTail: tail(run.stderr) });
    const wants = measureLines(o.netlist);
    if (wants.measures || wants.prints) result = { ...result, ...(await measureRun(o, files, where)) };
    outcome = 'ok';
    return o.keepWorkDir === 'always' ? { ...result, workDir, rawFile: files.raw } : result;
  } finally {
    if (!keepWorkDir(o.keepWorkDir, outcome)) {
      // A failed clean-up must not replace the run's own result or error.
      await rm(workDir, { recursive: true, force: true }).catch(() => undefined);
    }
  }
}

const versionCache = new Map<string, Promise<string>>();

/**
 * The version of an ngspice binary as `ngspice -v` prints it (`ngspice-39 : ...` -> `39`), asked once per
 * binary and cached; a failed look-up is not cached.
 *
 * @throws NgspiceNotFoundError when the binary cannot be started
 */
export function ngspiceVersion(bin: string = defaultNgspiceBin()): Promise<string> {
  let version = versionCache.get(bin);
  if (!version) {
    version = queryVersion(bin);
    versionCache.set(bin, version);
    version.catch(() => versionCache.delete(bin));
  }
  return version;
}

async function queryVersion(bin: string): Promise<string> {
  let run: GroupOutcome;
  try {
    // In a group of its own too: a wrapper's `-v` may start children of its own.
    run = await runInGroup(bin, ['-v'], {
      timeoutMs: VERSION_TIMEOUT_MS,
      graceMs: KILL_GRACE_MS,
      maxOutputBytes: 64 * 1024,
    });
  } catch (error) {
    throw isNotFound(error) ? new NgspiceNotFoundError(bin, { cause: error }) : error;
  }
  if (run.timedOut) {
    throw new SpiceCrashError(
      'crash',
      `"${bin} -v" did not answer within ${VERSION_TIMEOUT_MS / 1000} s and was killed`,
      null,
      run.signal,
    );
  }
  const version = /ngspice-(\S+)\s*:/.exec(run.stdout)?.[1];
  if (version === undefined) {
    const said = run.stdout.trim().slice(0, 200);
    throw new SpiceCrashError('crash', `"${bin} -v" printed no ngspice version: ${said}`, run.exitCode, run.signal);
  }
  return version;
}

function defaultNgspiceBin(): string {
  return process.env.BMRU_NGSPICE || 'ngspice';
}

function resolveOptions(options: RunOptions): ResolvedOptions {
  const o: ResolvedOptions = {
    name: 'run',
    timeoutMs: DEFAULT_TIMEOUT_MS,
    threads: 1,
    extraArgs: [],
    workRoot: os.tmpdir(),
    keepWorkDir: 'onFailure',
    ngspiceBin: defaultNgspiceBin(),
    allowControl: false,
    expectVectors: [],
    ...withoutUndefined(options),
    netlist: options.netlist,
  };
  if (!(o.timeoutMs > 0)) throw new RangeError(`timeoutMs must be > 0, got ${o.timeoutMs}`);
  if (!Number.isInteger(o.threads) || o.threads < 1) {
    throw new RangeError(`threads must be an integer >= 1, got ${o.threads}`);
  }
  if (o.expectTStopS !== undefined && !(o.expectTStopS > 0)) {
    throw new RangeError(`expectTStopS must be > 0, got ${o.expectTStopS}`);
  }
  for (const name of o.dataFiles?.keys() ?? []) {
    if (!DATA_FILE_NAME.test(name) || name === DECK_FILE || name === RAW_FILE)
      throw new RangeError(
        `expected a data file name (letters, digits, _.-; not the deck's or rawfile's), got ${JSON.stringify(name)}`,
      );
  }
  // A generated deck's preload block (code models, `pre_` commands only) is set-up, not commands.
  const commands = o.allowControl ? [] : controlLines(o.netlist, { allowPreload: true });
  if (!o.allowControl) checkCodemodels(o.netlist, o.ngspiceBin);
  if (commands.length > 0) {
    // ngspice runs these as commands (`shell` among them), and with a .control block the exit code and the
    // rawfile mean something else (DESIGN.md §7): a deck that should only describe a circuit must not have them.
    throw new SpiceNetlistError(
      `the deck has lines ngspice runs as commands (a .control block, a '*#' comment or '*ng_script') at line ${commands.slice(0, 5).join(', ')}; ` +
        'the runner drives ngspice itself, so decks are circuit only',
    );
  }
  return o;
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Loading a code model runs its code: a deck's preload block may load only those the ngspice installation lists
 * (`codemodelCandidates`: `BMRU_NGSPICE_CODEMODELS`, the spinit beside the binary, the distributions' folders).
 *
 * @throws SpiceNetlistError naming a code model that is not one of them
 */
function checkCodemodels(netlist: string, bin: string): void {
  const loaded = [...netlist.matchAll(/^pre_codemodel (\S+)$/gm)].map((m) => m[1]);
  if (loaded.length === 0) return;
  const known = new Set(codemodelCandidates(bin));
  const unknown = loaded.find((cm) => !known.has(cm));
  if (unknown !== undefined)
    throw new SpiceNetlistError(
      `the deck loads code model ${unknown}, which is not one this ngspice installation lists (its spinit, the usual folders, or ${CODEMODEL_ENV})`,
    );
}

/** A data file's name: one plain word, no path. */
const DATA_FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** A name that is safe inside a directory name. */
function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 60) || 'run';
}

function keepWorkDir(policy: ResolvedOptions['keepWorkDir'], outcome: 'ok' | 'failed' | 'aborted'): boolean {
  return policy === 'always' || (policy === 'onFailure' && outcome === 'failed');
}

/**
 * The deck with `.options num_threads=N` before its final `.end`, unless it sets num_threads itself.
 *
 * Why in the deck: on Debian's ngspice 39 neither `-D num_threads=1` nor OMP_NUM_THREADS stops the second
 * OpenMP thread (measured: 0.79 s real, 1.48 s user for a 5-frame example deck), and two such processes on two
 * cores spin against each other: 11.1 s for two runs at once instead of 1.4 s with the option in the deck.
 */
export function withThreads(netlist: string, threads: number): string {
  if (/^\s*\.options\b.*\bnum_threads\s*=/im.test(netlist)) return netlist;
  const lines = netlist.split('\n');
  let end = lines.length - 1;
  while (end >= 0 && !/^\s*\.end\s*$/i.test(lines[end])) end--;
  const option = `.options num_threads=${threads}`;
  if (end < 0) return `${netlist}${netlist.endsWith('\n') ? '' : '\n'}${option}\n`;
  lines.splice(end, 0, option);
  return lines.join('\n');
}

/**
 * `-n` skips .spiceinit files so a user's or a kit's init file cannot change results. `-D filetype=binary`
 * overrides SPICE_ASCIIRAWFILE (checked on 39); only a site-wide spinit that sets filetype can still win,
 * and the parser reads ascii too.
 */
function ngspiceArgs(o: ResolvedOptions, files: RunFiles): string[] {
  const defines = ['-D', 'filetype=binary'];
  return ['-b', '-n', '-r', files.raw, ...defines, ...o.extraArgs, files.deck];
}

/**
 * The deck's `.meas` results and `.print` tables, from a second run without `-r` (ngspice 39 evaluates neither
 * while it writes a rawfile). Costs a second simulation, only for decks that have them.
 */
async function measureRun(
  o: ResolvedOptions,
  files: RunFiles,
  where: SpiceErrorContext,
): Promise<Pick<RunResult, 'measurements' | 'printed'>> {
  let run: ProcessOutcome;
  try {
    run = await runInGroup(o.ngspiceBin, ['-b', '-n', ...o.extraArgs, files.deck], {
      cwd: files.workDir,
      env: { ...process.env },
      timeoutMs: o.timeoutMs,
      graceMs: KILL_GRACE_MS,
      signal: o.signal,
      maxOutputBytes: MAX_OUTPUT_BYTES,
    });
  } catch (error) {
    throw isNotFound(error) ? new NgspiceNotFoundError(o.ngspiceBin, { ...where, cause: error }) : error;
  }
  if (run.aborted) throw o.signal?.reason;
  if (run.timedOut) throw new SpiceTimeoutError(o.timeoutMs, { ...where, stderrTail: tail(run.stderr) });
  return { measurements: parseMeasurements(run.stdout, run.stderr), printed: printedTables(run.stdout) };
}

/**
 * Runs ngspice in a process group of its own (a wrapper script's children included) and waits for it to end,
 * killing the group on timeout or abort. Rejects only if it cannot start.
 */
async function spawnNgspice(o: ResolvedOptions, files: RunFiles, where: SpiceErrorContext): Promise<ProcessOutcome> {
  try {
    return await runInGroup(o.ngspiceBin, ngspiceArgs(o, files), {
      cwd: files.workDir,
      env: { ...process.env, SPICE_ASCIIRAWFILE: '0' },
      timeoutMs: o.timeoutMs,
      graceMs: KILL_GRACE_MS,
      signal: o.signal,
      maxOutputBytes: MAX_OUTPUT_BYTES,
    });
  } catch (error) {
    throw isNotFound(error) ? new NgspiceNotFoundError(o.ngspiceBin, { ...where, cause: error }) : error;
  }
}

/** Turns a finished process into a result, or throws the error that explains its failure. */
async function judge(
  o: ResolvedOptions,
  run: ProcessOutcome,
  version: string,
  rawPath: string,
  context: SpiceErrorContext,
): Promise<RunResult> {
  // stderr first: it carries the error messages, stdout only echoes some of them ("DC solution failed").
  const messages = [...classifyNgspiceOutput(run.stderr), ...classifyNgspiceOutput(run.stdout)];
  if (run.timedOut) throw new SpiceTimeoutError(o.timeoutMs, context);
  const failure = processFailure(run, messages, context);
  if (failure) throw failure;
  const plots = await readPlots(rawPath, run, context, o.readVectors);
  const missing = incompleteReason(plots, o);
  if (missing) {
    throw new SpiceCrashError('incomplete', `ngspice run incomplete: ${missing}`, run.exitCode, null, context);
  }
  return {
    plots,
    exitCode: run.exitCode ?? 0,
    durationMs: run.durationMs,
    ngspiceVersion: version,
    messages,
    stdoutTail: tail(run.stdout),
    stderrTail: context.stderrTail ?? '',
  };
}

/** The error of a run that died or reported a failure, judged before its rawfile is read. */
function processFailure(
  run: ProcessOutcome,
  messages: SpiceMessage[],
  context: SpiceErrorContext,
): SpiceError | undefined {
  if (run.signal) return new SpiceCrashError('crash', `ngspice was killed by ${run.signal}`, null, run.signal, context);
  // 'other' and 'simulation-aborted' say that something failed, not what: the exit code decides below.
  const primary = primaryError(messages);
  if (primary && primary.kind !== 'other' && primary.kind !== 'simulation-aborted') {
    return errorFromMessage(primary, context);
  }
  if (run.exitCode !== 0) {
    // An unexplained failing exit: name every error line ngspice printed, if any.
    const said = messages.filter((m) => m.severity === 'error').map((m) => m.text);
    const why = said.length > 0 ? `: ${said.join('; ')}` : ' without an error message';
    return new SpiceCrashError('crash', `ngspice exited with code ${run.exitCode}${why}`, run.exitCode, null, context);
  }
  return undefined;
}

function errorFromMessage(m: SpiceMessage, context: SpiceErrorContext): SpiceError {
  switch (m.kind) {
    case 'missing-include':
      return new SpiceIncludeError(m.subject ?? m.text, context);
    case 'unknown-model':
    case 'unknown-subckt':
      return new SpiceModelError(m.kind, m.subject, m.line, context);
    case 'timestep-too-small':
    case 'operating-point':
      return new SpiceConvergenceError(m.kind, { timeS: m.timeS, timestepS: m.timestepS, node: m.subject }, context);
    default:
      // 'netlist', and 'not-run' when nothing more specific explains why the circuit was not run.
      return new SpiceNetlistError(m.text, m.line, m.lineText, context);
  }
}

async function readPlots(
  rawPath: string,
  run: ProcessOutcome,
  context: SpiceErrorContext,
  vectors: readonly string[] | undefined,
): Promise<RawPlot[]> {
  try {
    // Streamed: the file is never held whole, only the vectors read (see readRawfile).
    return await readRawfile(rawPath, { vectors });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      const message = 'ngspice exited 0 but wrote no rawfile (does the deck have an analysis line?)';
      throw new SpiceCrashError('incomplete', message, run.exitCode, null, { ...context, cause: error });
    }
    const message = `ngspice exited 0 but its rawfile is unreadable: ${(error as Error).message}`;
    throw new SpiceCrashError('incomplete', message, run.exitCode, null, { ...context, cause: error });
  }
}

/** Why the plots fall short of what the caller expects, if they do. */
function incompleteReason(plots: RawPlot[], o: ResolvedOptions): string | undefined {
  const lastPlot = plots[plots.length - 1];
  if (o.expectTStopS !== undefined) {
    const tran = [...plots].reverse().find((p) => p.vectors[0]?.type === 'time');
    if (!tran) return `no transient plot, expected one reaching tstop = ${o.expectTStopS} s`;
    if (tran.numPoints === 0)
      return `the transient plot has no points, expected it to reach tstop = ${o.expectTStopS} s`;
    const lastS = tran.real[0][tran.numPoints - 1];
    if (!(lastS >= o.expectTStopS * (1 - TSTOP_REL_TOL))) {
      return `the transient stops at t = ${lastS} s, before tstop = ${o.expectTStopS} s`;
    }
  }
  for (const name of o.expectVectors) {
    try {
      vector(lastPlot, name);
    } catch (error) {
      return (error as Error).message;
    }
  }
  return undefined;
}

function isNotFound(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'EACCES';
}

/** The last `TAIL_LINES` lines of a text. */
function tail(text: string): string {
  return text
    .split('\n')
    .slice(-TAIL_LINES - 1)
    .join('\n');
}

/**
 * Errors of an ngspice run. Every one is a `SpiceError` carrying what is needed to look into the failure
 * (the kept work directory, the deck, the end of stderr); subclasses set `name` and add the diagnostics
 * their cause has (time and node of a convergence failure, the missing model, the netlist line, ...).
 */

import { BmruError, type SpiceErrorKind } from '../errors.js';

export type { SpiceErrorKind } from '../errors.js';

/** Where a failed run can be inspected. */
export interface SpiceErrorContext {
  /** The run's work directory, when it was kept. */
  workDir?: string;
  /** The deck ngspice ran (inside workDir), when it was kept. */
  netlistPath?: string;
  /** The last lines ngspice wrote to stderr. */
  stderrTail?: string;
  cause?: unknown;
}

/** Base of every error of an ngspice run. */
export class SpiceError extends BmruError {
  override name = 'SpiceError';
  declare readonly kind: SpiceErrorKind;
  readonly workDir?: string;
  readonly netlistPath?: string;
  readonly stderrTail: string;

  constructor(kind: SpiceErrorKind, message: string, context: SpiceErrorContext = {}) {
    // The kept work directory goes in the message too: a log line or a CLI user sees only the message.
    super(context.workDir ? `${message} (work dir kept: ${context.workDir})` : message, kind, { cause: context.cause });
    this.workDir = context.workDir;
    this.netlistPath = context.netlistPath;
    this.stderrTail = context.stderrTail ?? '';
  }
}

/** The ngspice binary could not be started (ENOENT or not executable). */
export class NgspiceNotFoundError extends SpiceError {
  override name = 'NgspiceNotFoundError';

  constructor(
    readonly bin: string,
    context: SpiceErrorContext = {},
  ) {
    super(
      'not-found',
      `cannot run ngspice ("${bin}"): install it (Debian/Ubuntu: apt-get install -y ngspice) ` +
        'or set BMRU_NGSPICE to the path of the ngspice binary',
      context,
    );
  }
}

/** The run took longer than its time limit and was killed. */
export class SpiceTimeoutError extends SpiceError {
  override name = 'SpiceTimeoutError';

  constructor(
    readonly timeoutMs: number,
    context: SpiceErrorContext = {},
  ) {
    super('timeout', `ngspice did not finish within ${timeoutMs} ms and was killed`, context);
  }
}

/** Where a convergence failure happened, as far as ngspice said. */
export interface ConvergenceDetail {
  /** Simulation time of the failure (s). */
  timeS?: number;
  /** The time step ngspice had shrunk to (s). */
  timestepS?: number;
  /** The node (or instance) ngspice blamed. */
  node?: string;
}

/** The simulator gave up: a transient's time step fell below its minimum, or no operating point was found. */
export class SpiceConvergenceError extends SpiceError {
  override name = 'SpiceConvergenceError';
  readonly timeS?: number;
  readonly timestepS?: number;
  readonly node?: string;

  constructor(
    kind: 'timestep-too-small' | 'operating-point',
    detail: ConvergenceDetail,
    context: SpiceErrorContext = {},
  ) {
    super(kind, convergenceMessage(kind, detail), context);
    this.timeS = detail.timeS;
    this.timestepS = detail.timestepS;
    this.node = detail.node;
  }
}

function convergenceMessage(kind: 'timestep-too-small' | 'operating-point', detail: ConvergenceDetail): string {
  const where = [
    detail.timeS === undefined ? '' : ` at t = ${detail.timeS} s`,
    detail.timestepS === undefined ? '' : ` (time step ${detail.timestepS} s)`,
    detail.node === undefined ? '' : `, trouble with node "${detail.node}"`,
  ].join('');
  return kind === 'timestep-too-small'
    ? `ngspice: timestep too small${where}`
    : `ngspice: the operating point could not be found${where}`;
}

/** An instance names a model or subcircuit that the deck does not define. */
export class SpiceModelError extends SpiceError {
  override name = 'SpiceModelError';

  constructor(
    kind: 'unknown-model' | 'unknown-subckt',
    /** The model or subcircuit name, when ngspice gave it. */
    readonly modelName: string | undefined,
    /** The netlist line of the instance, when ngspice gave it. */
    readonly line?: number,
    context: SpiceErrorContext = {},
  ) {
    const what = kind === 'unknown-model' ? 'model' : 'subckt';
    const at = line === undefined ? '' : ` (netlist line ${line})`;
    super(kind, `ngspice: unknown ${what}${modelName === undefined ? '' : ` "${modelName}"`}${at}`, context);
  }
}

/** An `.include` or `.lib` names a file that does not exist. */
export class SpiceIncludeError extends SpiceError {
  override name = 'SpiceIncludeError';

  constructor(
    readonly includePath: string,
    context: SpiceErrorContext = {},
  ) {
    super('missing-include', `ngspice: could not find include file "${includePath}"`, context);
  }
}

/** The deck does not parse: syntax, undefined parameter, wrong number of ports, ... */
export class SpiceNetlistError extends SpiceError {
  override name = 'SpiceNetlistError';

  constructor(
    /** What ngspice said was wrong. */
    readonly reason: string,
    /** 1-based line of the deck, when ngspice gave one. */
    readonly line?: number,
    /** The offending line as ngspice echoed it (lower-cased, expressions expanded). */
    readonly lineText?: string,
    context: SpiceErrorContext = {},
  ) {
    const at = line === undefined ? '' : ` at netlist line ${line}${lineText === undefined ? '' : `: ${lineText}`}`;
    super('netlist', `ngspice: ${reason}${at}`, context);
  }
}

/** ngspice died, or ended without leaving a usable result, and said nothing that explains why. */
export class SpiceCrashError extends SpiceError {
  override name = 'SpiceCrashError';

  constructor(
    kind: 'crash' | 'incomplete',
    message: string,
    /** The process exit code, or null when a signal ended it. */
    readonly exitCode: number | null,
    /** The signal that ended the process, if any. */
    readonly signal: NodeJS.Signals | null,
    context: SpiceErrorContext = {},
  ) {
    super(kind, message, context);
  }
}

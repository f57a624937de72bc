/**
 * Why an ngspice run failed; one code per cause, each raised by exactly one class of spice/errors.ts. Here, at
 * the root, so that every error the toolkit raises shares one `kind` union.
 */
export type SpiceErrorKind =
  | 'not-found' // NgspiceNotFoundError: the ngspice binary cannot be started
  | 'timeout' // SpiceTimeoutError: killed after timeoutMs
  | 'timestep-too-small' // SpiceConvergenceError: a transient stopped part way
  | 'operating-point' // SpiceConvergenceError: no DC operating point (gmin, source stepping, transient op all failed)
  | 'unknown-model' // SpiceModelError: an instance names a .model that does not exist
  | 'unknown-subckt' // SpiceModelError: an X instance names a .subckt that does not exist
  | 'missing-include' // SpiceIncludeError: an .include or .lib file does not exist
  | 'netlist' // SpiceNetlistError: syntax, undefined parameter, wrong port count, ...
  | 'crash' // SpiceCrashError: killed by a signal, or a failing exit with no recognised message
  | 'incomplete'; // SpiceCrashError: no usable rawfile, or one that stops short of tstop or lacks a vector

/** Every kind of error the toolkit raises on purpose: a stable code for scripts and for the batch failure table. */
export type ErrorKind =
  | SpiceErrorKind
  | 'bad-input' // InputError: a model, inputs, process, plan or tolerance file (or a flag) breaks a rule
  | 'unwritable' // OutputError: an output file or folder cannot be written
  | 'rawfile' // RawfileError: a rawfile that cannot be read
  | 'missing-vector' // MissingVectorError: a plot lacks a vector or an analysis someone asked for
  | 'tool' // ToolError: espeak-ng or sox missing or failed
  | 'batch-locked' // another run holds a batch output folder
  | 'slurm-missing' // no sbatch on this machine
  | 'slurm-submit' // sbatch refused or failed
  | 'slurm-task' // a Slurm task of a partitioned run left no result (bmru compare --slurm)
  | 'interrupted' // Ctrl-C (SIGINT/SIGTERM) ended the work
  | 'corners-failed'; // every PVT point of a corners analysis failed

/** Base class of every error the toolkit raises on purpose; `kind` is a stable code for scripts. */
export class BmruError extends Error {
  constructor(
    message: string,
    readonly kind: ErrorKind,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'BmruError';
  }
}

/** Where in an input file a problem sits: the file, the field (tensor, column, key) and the index. */
export interface InputLocation {
  readonly file?: string;
  readonly field?: string;
  readonly index?: number | readonly number[];
}

/** Bad user input (model, inputs, tolerance file): names the file, the field, the index and the rule broken. */
export class InputError extends BmruError {
  readonly file?: string;
  readonly field?: string;
  readonly index?: number | readonly number[];
  constructor(
    readonly rule: string,
    where: InputLocation = {},
  ) {
    super(formatInputMessage(rule, where), 'bad-input');
    this.name = 'InputError';
    this.file = where.file;
    this.field = where.field;
    this.index = where.index;
  }
}

function formatInputMessage(rule: string, where: InputLocation): string {
  const parts: string[] = [];
  if (where.file) parts.push(where.file);
  if (where.field) parts.push(`'${where.field}'`);
  if (where.index !== undefined) {
    parts.push(`at index ${Array.isArray(where.index) ? `[${where.index.join(', ')}]` : String(where.index)}`);
  }
  return parts.length > 0 ? `${parts.join(' ')}: ${rule}` : rule;
}

/** The parts of a schema we need: zod's safeParse result shape, without tying this file to zod's types. */
interface SafeParser<T> {
  safeParse(
    raw: unknown,
  ):
    | { success: true; data: T }
    | { success: false; error: { issues: readonly { message: string; path: readonly PropertyKey[] }[] } };
}

/** Validate data at a boundary; the first schema issue becomes an InputError naming the file and the field. */
export function parseWith<T>(schema: SafeParser<T>, raw: unknown, file?: string): T {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new InputError(issue.message, { file, field: issue.path.map(String).join('.') || '(root)' });
}

/** An output file or folder that cannot be written: names it and says why in words (`disk full (ENOSPC)`). */
export class OutputError extends BmruError {
  constructor(
    readonly file: string,
    /** The errno code (`ENOSPC`, `EROFS`, ...), when the system gave one. */
    readonly code: string | undefined,
    message: string,
  ) {
    super(message, 'unwritable');
    this.name = 'OutputError';
  }
}

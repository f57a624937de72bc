/**
 * Why a batch job failed, in the four classes a user acts on, and whether trying again can help.
 *
 * ngspice is deterministic: the same deck on the same binary fails the same way, so a convergence failure or
 * a deck that does not parse is not retried. A timeout (a loaded machine) or a crash (a signal, e.g. the OOM
 * killer; a rawfile cut short) can go differently the next time, so those are.
 */
import { BmruError, type ErrorKind } from '../errors.js';

/**
 * `convergence`: ngspice gave up (timestep too small, no operating point). `timeout`: killed after the plan's
 * timeoutS. `crash`: ngspice died or left no usable rawfile. `bad-input`: the model, the inputs or the deck
 * built from them and the process is invalid. `internal`: anything else, a bug of the toolkit.
 */
export type FailureClass = 'convergence' | 'timeout' | 'crash' | 'bad-input' | 'internal';

export const FAILURE_CLASSES: readonly FailureClass[] = ['convergence', 'timeout', 'crash', 'bad-input', 'internal'];

export interface Failure {
  readonly class: FailureClass;
  /** The finer cause: a `SpiceErrorKind`, a `BmruError` kind, or the error's name. */
  readonly kind: string;
  readonly message: string;
  /** Whether another attempt can end differently. */
  readonly retryable: boolean;
}

/**
 * What a job's failure of each kind means for the batch, keyed by the error root's `kind` union so the compiler
 * keeps the table complete: `stop` ends the batch instead (no job can succeed after it).
 */
const FAILURE_OF_KIND: Readonly<
  Record<ErrorKind, { readonly class: FailureClass; readonly retryable: boolean } | 'stop'>
> = {
  'not-found': 'stop', // ngspice is not installed: every job would fail the same way
  timeout: { class: 'timeout', retryable: true }, // a loaded machine may finish in time next time
  'timestep-too-small': { class: 'convergence', retryable: false }, // ngspice is deterministic
  'operating-point': { class: 'convergence', retryable: false },
  crash: { class: 'crash', retryable: true }, // a signal (the OOM killer) need not repeat
  incomplete: { class: 'crash', retryable: true }, // a rawfile cut short, likewise
  rawfile: { class: 'crash', retryable: true },
  'unknown-model': { class: 'bad-input', retryable: false },
  'unknown-subckt': { class: 'bad-input', retryable: false },
  'missing-include': { class: 'bad-input', retryable: false },
  netlist: { class: 'bad-input', retryable: false },
  'bad-input': { class: 'bad-input', retryable: false },
  'missing-vector': { class: 'internal', retryable: false }, // the generator saves what the comparator reads
  unwritable: { class: 'internal', retryable: false },
  tool: { class: 'internal', retryable: false },
  'batch-locked': { class: 'internal', retryable: false },
  'slurm-missing': { class: 'internal', retryable: false },
  'slurm-submit': { class: 'internal', retryable: false },
  'slurm-task': { class: 'internal', retryable: false },
  interrupted: { class: 'internal', retryable: false },
  'corners-failed': { class: 'internal', retryable: false },
};

/**
 * Classifies what a job threw. Returns undefined for errors that no job can succeed after (ngspice is not
 * installed): the batch should stop rather than fail every job the same way.
 */
export function classifyFailure(error: unknown): Failure | undefined {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof BmruError) {
    const entry = FAILURE_OF_KIND[error.kind];
    return entry === 'stop' ? undefined : { ...entry, kind: error.kind, message };
  }
  const detail = error instanceof Error ? (error.stack ?? message) : message;
  return {
    class: 'internal',
    kind: error instanceof Error ? error.name : typeof error,
    message: detail,
    retryable: false,
  };
}

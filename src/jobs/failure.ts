/**
 * Why a batch job failed, in the four classes a user acts on, and whether trying again can help.
 *
 * ngspice is deterministic: the same deck on the same binary fails the same way, so a convergence failure or
 * a deck that does not parse is not retried. A timeout (a loaded machine) or a crash (a signal, e.g. the OOM
 * killer; a rawfile cut short) can go differently the next time, so those are.
 */
import { BmruError, InputError } from '../errors.js';
import {
  NgspiceNotFoundError,
  SpiceConvergenceError,
  SpiceCrashError,
  SpiceError,
  SpiceIncludeError,
  SpiceModelError,
  SpiceNetlistError,
  SpiceTimeoutError,
} from '../spice/errors.js';

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
 * Classifies what a job threw. Returns undefined for errors that no job can succeed after (ngspice is not
 * installed): the batch should stop rather than fail every job the same way.
 */
export function classifyFailure(error: unknown): Failure | undefined {
  if (error instanceof NgspiceNotFoundError) return undefined;
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof SpiceTimeoutError) return { class: 'timeout', kind: error.kind, message, retryable: true };
  if (error instanceof SpiceConvergenceError) return { class: 'convergence', kind: error.kind, message, retryable: false };
  if (error instanceof SpiceCrashError) return { class: 'crash', kind: error.kind, message, retryable: true };
  if (error instanceof SpiceNetlistError || error instanceof SpiceModelError || error instanceof SpiceIncludeError) {
    return { class: 'bad-input', kind: error.kind, message, retryable: false };
  }
  if (error instanceof SpiceError) return { class: 'crash', kind: error.kind, message, retryable: true };
  if (error instanceof InputError) return { class: 'bad-input', kind: error.kind, message, retryable: false };
  if (error instanceof BmruError) return { class: 'internal', kind: error.kind, message, retryable: false };
  const detail = error instanceof Error ? (error.stack ?? message) : message;
  return { class: 'internal', kind: error instanceof Error ? error.name : typeof error, message: detail, retryable: false };
}

import { describe, expect, it } from 'vitest';
import { BmruError, type ErrorKind } from '../../src/errors.js';
import { FAILURE_CLASSES, classifyFailure, type FailureClass } from '../../src/jobs/failure.js';

/**
 * Every error kind with the class its meaning (src/errors.ts) puts it in. Written out here, not read from the
 * table under test: a deck ngspice cannot parse or find models for is bad input; what the toolkit itself gets
 * wrong (a vector it did not save, a folder it cannot write, a tool, a lock, Slurm, Ctrl-C, every corner failing)
 * is internal; ngspice missing stops the batch (no class: every job would fail the same way). A Record over
 * ErrorKind, so a kind added to errors.ts without a row here does not compile (npm test runs tsc on the tests).
 */
const CLASS_OF_KIND: Record<ErrorKind, FailureClass | 'stop'> = {
  'not-found': 'stop',
  timeout: 'timeout',
  'timestep-too-small': 'convergence',
  'operating-point': 'convergence',
  crash: 'crash',
  incomplete: 'crash',
  rawfile: 'crash',
  'unknown-model': 'bad-input',
  'unknown-subckt': 'bad-input',
  'missing-include': 'bad-input',
  netlist: 'bad-input',
  'bad-input': 'bad-input',
  'missing-vector': 'internal',
  unwritable: 'internal',
  tool: 'internal',
  'batch-locked': 'internal',
  'slurm-missing': 'internal',
  'slurm-submit': 'internal',
  interrupted: 'internal',
  'corners-failed': 'internal',
  'slurm-task': 'internal',
};

describe('classifyFailure over every error kind', () => {
  it('puts each kind in its class and retries exactly the classes that can end differently (timeout, crash)', () => {
    for (const [kind, cls] of Object.entries(CLASS_OF_KIND) as [ErrorKind, FailureClass | 'stop'][]) {
      const f = classifyFailure(new BmruError(`a ${kind} failure`, kind));
      if (cls === 'stop') {
        expect(f, kind).toBeUndefined();
        continue;
      }
      expect(f, kind).toEqual({
        class: cls,
        kind,
        message: `a ${kind} failure`,
        retryable: cls === 'timeout' || cls === 'crash',
      });
    }
  });

  it('names a non-toolkit error by its name and keeps its stack; a thrown non-error by its type', () => {
    const e = new RangeError('index 7 out of range');
    expect(classifyFailure(e)).toEqual({ class: 'internal', kind: 'RangeError', message: e.stack, retryable: false });
    expect(classifyFailure('a string')).toEqual({
      class: 'internal',
      kind: 'string',
      message: 'a string',
      retryable: false,
    });
  });

  it('lists the five classes in the order status and report print them', () => {
    expect(FAILURE_CLASSES).toEqual(['convergence', 'timeout', 'crash', 'bad-input', 'internal']);
  });
});

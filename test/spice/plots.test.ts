import { describe, expect, it } from 'vitest';
import { BmruError } from '../../src/errors.js';
import { classifyFailure } from '../../src/jobs/failure.js';
import { SpiceConvergenceError, SpiceTimeoutError } from '../../src/spice/errors.js';
import { MissingVectorError, RawfileError, transientPlot, vector, type RawPlot } from '../../src/spice/rawfile.js';

/** A plot with one point per vector, its scale first. */
function plot(plotname: string, vectors: [string, string][]): RawPlot {
  return {
    title: 't',
    date: '',
    plotname,
    flags: 'real',
    complex: false,
    numPoints: 1,
    vectors: vectors.map(([name, type], index) => ({ index, name, type })),
    real: vectors.map(() => Float64Array.of(1)),
  } as RawPlot;
}

describe('plot and vector selection', () => {
  const op = plot('Operating Point', [['v(a)', 'voltage']]);
  const ac = plot('AC Analysis', [
    ['frequency', 'frequency'],
    ['v(a)', 'voltage'],
  ]);
  const tran = plot('Transient Analysis', [
    ['time', 'time'],
    ['v(a)', 'voltage'],
  ]);

  it('picks the plot whose scale is time, wherever ngspice put it', () => {
    expect(transientPlot([op, tran, ac])).toBe(tran);
    expect(transientPlot([tran, ac])).toBe(tran);
  });

  it('says which plots there are when none is a transient', () => {
    expect(() => transientPlot([op, ac])).toThrow(MissingVectorError);
    expect(() => transientPlot([op, ac])).toThrow(/Operating Point \(voltage\), AC Analysis \(frequency\)/);
  });

  it('a missing vector is a typed error listing the vectors of the plot', () => {
    const e = (() => {
      try {
        vector(tran, 'i(vdd)');
      } catch (error) {
        return error;
      }
    })();
    expect(e).toBeInstanceOf(MissingVectorError);
    expect((e as MissingVectorError).available).toEqual(['time', 'v(a)']);
    expect((e as BmruError).kind).toBe('missing-vector');
  });
});

describe('one error root', () => {
  it('ngspice and rawfile errors are BmruErrors whose kind decides the batch failure class', () => {
    const timeout = new SpiceTimeoutError(5000);
    const convergence = new SpiceConvergenceError('timestep-too-small', {});
    const raw = new RawfileError('out.raw', 'byte 10', 'a header');
    for (const e of [timeout, convergence, raw]) expect(e).toBeInstanceOf(BmruError);
    expect(classifyFailure(timeout)).toMatchObject({ class: 'timeout', retryable: true, kind: 'timeout' });
    expect(classifyFailure(convergence)).toMatchObject({ class: 'convergence', retryable: false });
    expect(classifyFailure(raw)).toMatchObject({ class: 'crash', retryable: true, kind: 'rawfile' });
    expect(classifyFailure(new BmruError('held', 'batch-locked'))).toMatchObject({
      class: 'internal',
      kind: 'batch-locked',
    });
    expect(classifyFailure(new TypeError('bug'))).toMatchObject({
      class: 'internal',
      kind: 'TypeError',
      retryable: false,
    });
  });
});

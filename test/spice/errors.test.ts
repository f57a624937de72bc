import { describe, expect, it } from 'vitest';
import {
  NgspiceNotFoundError,
  SpiceConvergenceError,
  SpiceCrashError,
  SpiceError,
  SpiceIncludeError,
  SpiceModelError,
  SpiceNetlistError,
  SpiceTimeoutError,
} from '../../src/spice/errors.js';

describe('Spice errors', () => {
  const context = { workDir: '/tmp/run-1', netlistPath: '/tmp/run-1/deck.cir', stderrTail: 'tail' };
  const all = [
    new NgspiceNotFoundError('ngspice', context),
    new SpiceTimeoutError(500, context),
    new SpiceConvergenceError('timestep-too-small', { timeS: 1e-6 }, context),
    new SpiceModelError('unknown-model', 'nch', 4, context),
    new SpiceIncludeError('/pdk/x.lib', context),
    new SpiceNetlistError('TSTOP is invalid', 4, '.tran 1u foo', context),
    new SpiceCrashError('crash', 'ngspice was killed by SIGSEGV', null, 'SIGSEGV', context),
  ];

  it('are SpiceErrors whose name is their class name', () => {
    for (const error of all) {
      expect(error).toBeInstanceOf(SpiceError);
      expect(error.name).toBe(error.constructor.name);
      expect(String(error.stack)).toMatch(new RegExp(`^${error.name}: `));
    }
  });

  it('keep the work directory, deck and stderr tail, and name the kept directory in the message', () => {
    for (const error of all) {
      expect(error).toMatchObject(context);
      expect(error.message).toMatch(/\(work dir kept: \/tmp\/run-1\)$/);
    }
  });

  it('say where a convergence failure happened, as far as it is known', () => {
    const full = new SpiceConvergenceError('timestep-too-small', { timeS: 4.00948e-7, timestepS: 1.25e-18, node: 'x' });
    expect(full.message).toBe(
      'ngspice: timestep too small at t = 4.00948e-7 s (time step 1.25e-18 s), trouble with node "x"',
    );
    expect(new SpiceConvergenceError('operating-point', {}).message).toBe(
      'ngspice: the operating point could not be found',
    );
  });

  it('name the model, include path and netlist line', () => {
    expect(new SpiceModelError('unknown-subckt', 'cell', undefined).message).toBe('ngspice: unknown subckt "cell"');
    expect(new SpiceModelError('unknown-model', 'nch', 4).message).toBe(
      'ngspice: unknown model "nch" (netlist line 4)',
    );
    expect(new SpiceIncludeError('/pdk/x.lib').message).toBe('ngspice: could not find include file "/pdk/x.lib"');
    expect(new SpiceNetlistError('TSTOP is invalid', 4, '.tran 1u foo').message).toBe(
      'ngspice: TSTOP is invalid at netlist line 4: .tran 1u foo',
    );
  });

  it('leave the work directory out of the message when it was not kept', () => {
    expect(new SpiceTimeoutError(500).message).toBe('ngspice did not finish within 500 ms and was killed');
  });
});

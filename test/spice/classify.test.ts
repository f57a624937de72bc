import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { classifyNgspiceOutput, primaryError, type SpiceMessage } from '../../src/spice/classify.js';

// What ngspice 39.3 printed for each deck of test/spice/decks/ (see test/spice/messages/README.md).
const messagesDir = fileURLToPath(new URL('./messages/', import.meta.url));

function captured(deck: string) {
  const read = (ext: string) => readFileSync(`${messagesDir}${deck}.${ext}`, 'utf8');
  const messages = [...classifyNgspiceOutput(read('stderr')), ...classifyNgspiceOutput(read('stdout'))];
  return { exitCode: Number(read('exit')), messages, primary: primaryError(messages) };
}

const errors = (messages: SpiceMessage[]) => messages.filter((m) => m.severity === 'error');

describe('classifyNgspiceOutput on ngspice 39 failures', () => {
  it('reads a transient that stopped: time, time step and node', () => {
    const { exitCode, primary } = captured('timestep_too_small');
    expect(exitCode).toBe(1);
    expect(primary).toEqual({
      severity: 'error',
      kind: 'timestep-too-small',
      text: 'doAnalyses: TRAN:  Timestep too small; time = 4.00948e-07, timestep = 1.25e-18: trouble with node "x"',
      timeS: 4.00948e-7,
      timestepS: 1.25e-18,
      subject: 'x',
    });
  });

  it('reads a transient that stopped after progress lines, which end in a carriage return, not a newline', () => {
    // A long run prints `Reference value : <time>\r` to stderr; the failure then follows the last one on its line.
    const { exitCode, primary } = captured('timestep_after_progress');
    expect(exitCode).toBe(1);
    expect(primary).toMatchObject({ kind: 'timestep-too-small', subject: 'x' });
    expect(primary!.text).toMatch(/^doAnalyses: TRAN: {2}Timestep too small; time = 0\.04/);
    expect(primary!.timeS).toBeCloseTo(0.04, 6);
  });

  it('reads a failed .op (gmin, source stepping and transient op all failed) as an operating-point error', () => {
    const { exitCode, messages, primary } = captured('op_failure');
    expect(exitCode).toBe(1);
    expect(primary).toMatchObject({ kind: 'operating-point', text: 'Error: Transient op failed, timestep too small' });
    expect(messages).toContainEqual(
      expect.objectContaining({
        kind: 'operating-point',
        text: 'doAnalyses: OP:  Timestep too small; cause unrecorded.',
      }),
    );
    expect(messages).toContainEqual(expect.objectContaining({ severity: 'error', kind: 'simulation-aborted' }));
  });

  it('reads a transient whose initial operating point failed as an operating-point error, not a timestep one', () => {
    const { messages, primary } = captured('tran_op_failure');
    expect(primary?.kind).toBe('operating-point');
    expect(messages.some((m) => m.kind === 'timestep-too-small')).toBe(false);
    expect(messages).toContainEqual(
      expect.objectContaining({
        kind: 'operating-point',
        text: 'doAnalyses: TRAN:  Timestep too small; initial timepoint: cause unrecorded.',
      }),
    );
  });

  it('reads an unknown MOS model, taking its name from the warning before the error', () => {
    const { exitCode, primary } = captured('unknown_model');
    expect(exitCode).toBe(1);
    expect(primary).toMatchObject({
      kind: 'unknown-model',
      text: 'could not find a valid modelname',
      subject: 'nosuchmodel',
      line: 4,
      lineText: 'm1 d g 0 0 nosuchmodel w=1u l=1u',
    });
  });

  it('reads an unknown subckt with its name', () => {
    const { primary } = captured('unknown_subckt');
    expect(primary).toMatchObject({
      kind: 'unknown-subckt',
      subject: 'nosuchcell',
      text: 'Error: unknown subckt: x1 b 0 nosuchcell',
    });
  });

  it('reads a missing .include and a missing .lib file with their paths', () => {
    expect(captured('missing_include').primary).toMatchObject({
      kind: 'missing-include',
      subject: '/nonexistent/models/card.lib',
    });
    expect(captured('missing_lib').primary).toMatchObject({
      kind: 'missing-include',
      subject: '/nonexistent/models/kit.lib',
    });
  });

  it('reads a syntax error with the netlist line number and text', () => {
    const { exitCode, primary } = captured('syntax_error');
    expect(exitCode).toBe(1);
    expect(primary).toMatchObject({
      kind: 'netlist',
      line: 4,
      lineText: '.tran 1u foo',
      text: 'TSTOP is invalid, must be greater than zero.',
    });
  });

  it('reads a broken B-source expression as a netlist error on its line', () => {
    expect(captured('bad_expression').primary).toMatchObject({ kind: 'netlist', line: 4 });
  });

  it('reads an undefined parameter with its netlist line', () => {
    expect(captured('undefined_param').primary).toEqual({
      severity: 'error',
      kind: 'netlist',
      line: 3,
      text: 'Undefined parameter [rval]',
    });
  });

  it('reads a subckt instance with the wrong number of ports as a netlist error', () => {
    expect(captured('subckt_ports').primary).toMatchObject({ kind: 'netlist', subject: 'cell' });
  });

  it('prefers the cause over the consequences ("circuit not parsed", "no circuits loaded")', () => {
    const { messages, primary } = captured('missing_include');
    expect(errors(messages).map((m) => m.kind)).toEqual(['missing-include', 'not-run']);
    expect(primary?.kind).toBe('missing-include');
  });
});

describe('classifyNgspiceOutput on runs that succeeded', () => {
  it('reports singular-matrix and stepping warnings of a floating node but no error', () => {
    const { exitCode, messages } = captured('floating_node');
    expect(exitCode).toBe(0);
    expect(errors(messages)).toEqual([]);
    expect(messages).toContainEqual({
      severity: 'warning',
      kind: 'singular-matrix',
      subject: 'b',
      text: 'Warning: singular matrix:  check node b',
    });
    expect(messages).toContainEqual({
      severity: 'warning',
      kind: 'stepping',
      text: 'Warning: Dynamic gmin stepping failed',
    });
    expect(messages).toContainEqual({
      severity: 'note',
      kind: 'stepping',
      text: 'Note: Transient op finished successfully',
    });
  });

  it('reports a line of garbage turned into a comment as a netlist warning with its line', () => {
    const { exitCode, messages } = captured('unusual_characters');
    expect(exitCode).toBe(0);
    expect(errors(messages)).toEqual([]);
    expect(messages).toContainEqual(
      expect.objectContaining({ severity: 'warning', kind: 'netlist', line: 4, lineText: '%%% garbage here' }),
    );
  });

  it('finds nothing wrong in a run whose .save names an unknown node (ngspice says nothing)', () => {
    const { exitCode, messages } = captured('save_unknown_node');
    expect(exitCode).toBe(0);
    expect(messages).toEqual([{ severity: 'note', kind: 'other', text: 'Note: No compatibility mode selected!' }]);
  });
});

describe('classifyNgspiceOutput line handling', () => {
  it('gives what the example of its doc comment says', () => {
    expect(classifyNgspiceOutput('Error: Could not find include file /pdk/x.lib\n')).toEqual([
      {
        severity: 'error',
        kind: 'missing-include',
        text: 'Error: Could not find include file /pdk/x.lib',
        subject: '/pdk/x.lib',
      },
    ]);
  });

  it('splits a Note: or Warning: glued to a "Trying gmin" line', () => {
    const messages = classifyNgspiceOutput(
      'Trying gmin =   1.0000E-03 Note: One successful gmin step\nSupplies reduced to   0.1000% Supplies reduced to   0.0000% Warning: source stepping failed\n',
    );
    expect(messages).toEqual([
      { severity: 'note', kind: 'stepping', text: 'Note: One successful gmin step' },
      { severity: 'warning', kind: 'stepping', text: 'Warning: source stepping failed' },
    ]);
  });

  it('reads the give-up line of the operating point ladder (cktop.c, not reproduced by a deck here)', () => {
    const messages = classifyNgspiceOutput(
      '\nError: The operating point could not be simulated successfully.\n    Any of the following steps may fail.!\n',
    );
    expect(primaryError(messages)).toMatchObject({ kind: 'operating-point' });
  });

  it('treats an unknown Error line as an error of kind other, and skips lines that are no message', () => {
    const messages = classifyNgspiceOutput('Circuit: * rc\nNo. of Data Rows : 526\nError: something new\n');
    expect(messages).toEqual([{ severity: 'error', kind: 'other', text: 'Error: something new' }]);
  });

  it('reads CRLF output', () => {
    expect(classifyNgspiceOutput('Error: Could not find include file x.lib\r\n')[0]).toMatchObject({
      subject: 'x.lib',
    });
  });
});

/**
 * The classifier's rules one by one, on hand-written lines in ngspice's formats (the captured runs of
 * classify.test.ts show each format once; these vary what a rule must be robust to: where a message starts, its
 * spacing, multi-digit line numbers, long names, a message at the very end of the output).
 */
import { describe, expect, it } from 'vitest';
import { classifyNgspiceOutput, primaryError, type SpiceMessage } from '../../src/spice/classify.js';

const one = (text: string): SpiceMessage => {
  const messages = classifyNgspiceOutput(text);
  expect(messages, text).toHaveLength(1);
  return messages[0];
};

describe('messages start at the start of a line', () => {
  it('does not read a message text that follows something else on its line (an echoed deck line, a listing)', () => {
    const quoted = [
      '|doAnalyses: TRAN:  Timestep too small; time = 1e-06, timestep = 1e-18: trouble with node "a"',
      '|Error on line 4 or its substitute:',
      '|Netlist line no. 3:',
      "|warning, can't find model 'nm' from line",
      '|Warning: Unusual leading characters like % in line',
      '|Error: Transient op failed, timestep too small',
      '|DC solution failed',
      '|Error: unknown subckt: x1 a b cell',
      '|Too few parameters for subcircuit type "cell" (instance: xx1)',
      '|Error: Could not find include file /pdk/x.lib',
      '|ERROR, library file /pdk/y.lib not found',
      '|PTerror: syntax error',
      '|Warning: singular matrix:  check node a',
      '|Error: circuit not parsed.',
      "|Error: there aren't any circuits loaded.",
      '|ERROR: fatal error in ngspice, exit(1)',
      '|Warning: gmin stepping failed',
      '|Note: Starting source stepping',
      '|Error something',
      '|warning something',
      '|Note something',
    ];
    for (const line of quoted) expect(classifyNgspiceOutput(line), line).toEqual([]);
  });

  it('reads an indented one-line message (ngspice indents some), with its text trimmed', () => {
    expect(one('   Error: unknown subckt: x1 a b cell')).toEqual({
      severity: 'error',
      kind: 'unknown-subckt',
      text: 'Error: unknown subckt: x1 a b cell',
      subject: 'cell',
      lineText: 'x1 a b cell',
    });
  });
});

describe('timestep too small', () => {
  it('reads time, time step and a long node name, however the parts are spaced', () => {
    expect(
      one('doAnalyses:TRAN:Timestep too small;time = 2e-06, timestep = 1e-18: trouble with node "out_12"'),
    ).toEqual(
      expect.objectContaining({ kind: 'timestep-too-small', timeS: 2e-6, timestepS: 1e-18, subject: 'out_12' }),
    );
  });

  it('reads a node named without quotes and without the word "node"', () => {
    expect(
      one('doAnalyses: TRAN:  Timestep too small; time = 3e-06, timestep = 2e-18: trouble with out_2').subject,
    ).toBe('out_2');
  });

  it('gives no subject at all when ngspice names no node', () => {
    const m = one('doAnalyses: TRAN:  Timestep too small; time = 3e-06, timestep = 2e-18');
    expect(m).toStrictEqual({
      severity: 'error',
      kind: 'timestep-too-small',
      timeS: 3e-6,
      timestepS: 2e-18,
      text: 'doAnalyses: TRAN:  Timestep too small; time = 3e-06, timestep = 2e-18',
    });
  });
});

describe('multi-line netlist reports', () => {
  it('Error on line N: a line number of two digits, the echoed line and the reason, each trimmed', () => {
    expect(one('Error on line 12 or its substitute:\n   r1 a b {rval}\n   Undefined parameter [rval]')).toEqual({
      severity: 'error',
      kind: 'netlist',
      line: 12,
      lineText: 'r1 a b {rval}',
      text: 'Undefined parameter [rval]',
    });
  });

  it('Error on line N at the very end of the output: the report line itself is the text', () => {
    expect(one('Error on line 12 or its substitute:')).toEqual({
      severity: 'error',
      kind: 'netlist',
      line: 12,
      lineText: undefined,
      text: 'Error on line 12 or its substitute:',
    });
  });

  it('Netlist line no. N: two-digit line, trimmed reason; at the end of the output, the report line', () => {
    expect(one('Netlist line no. 23:\n    Undefined parameter [x]')).toEqual({
      severity: 'error',
      kind: 'netlist',
      line: 23,
      text: 'Undefined parameter [x]',
    });
    expect(one('Netlist line no. 23:')).toMatchObject({ line: 23, text: 'Netlist line no. 23:' });
  });

  it("can't find model: the model's name, and the echoed line after the warning (not before it), trimmed", () => {
    const messages = classifyNgspiceOutput(
      "some banner\nwarning, can't find model 'nch_9' from line\n   m1 d g s b nch_9",
    );
    expect(messages).toEqual([
      {
        severity: 'warning',
        kind: 'unknown-model',
        subject: 'nch_9',
        lineText: 'm1 d g s b nch_9',
        text: "warning, can't find model 'nch_9' from line",
      },
    ]);
    expect(one("warning, can't find model 'nch_9' from line").lineText).toBeUndefined();
  });

  it('Unusual leading characters: takes the indented lines after it (any indent), finds the Check line, and stops there', () => {
    const messages = classifyNgspiceOutput(
      [
        "Warning: Unusual leading characters like '%' or others out of '= [] ? () &% $\"!:,'",
        " in netlist or included files, will be replaced with '*'",
        ' Check line no 14:  %%% garbage',
        'Error: unknown subckt: x1 a b cell',
      ].join('\n'),
    );
    expect(messages.map((m) => [m.severity, m.kind, m.line, m.lineText])).toEqual([
      ['warning', 'netlist', 14, '%%% garbage'],
      ['error', 'unknown-subckt', undefined, 'x1 a b cell'],
    ]);
  });
});

describe('two Unusual-characters warnings', () => {
  it('give each the Check line of its own continuation lines', () => {
    const text = [
      "Warning: Unusual leading characters like '%'",
      ' Check line no 7:  %a',
      "Warning: Unusual leading characters like '%'",
      ' Check line no 14:  %b',
    ].join('\n');
    expect(classifyNgspiceOutput(text).map((m) => [m.line, m.lineText])).toEqual([
      [7, '%a'],
      [14, '%b'],
    ]);
    // one without a Check line does not borrow the next one's
    const first = classifyNgspiceOutput(["Warning: Unusual leading characters like '%'", text].join('\n'))[0];
    expect(first.line).toBeUndefined();
  });
});

describe('one-line errors and warnings', () => {
  it('unknown subckt: the subcircuit is the last word that is no parameter (name=value) and no label (word:)', () => {
    expect(one('Error: unknown subckt:  x1 b 0 nosuchcell w=1 m=2')).toMatchObject({
      subject: 'nosuchcell',
      lineText: 'x1 b 0 nosuchcell w=1 m=2',
    });
    expect(one('Error: unknown subckt:x1 b 0 cell2 x1:').subject).toBe('cell2');
  });

  it('missing include and library files: the path, without the spacing before it', () => {
    expect(one('Error: Could not find include file  /pdk/models.lib').subject).toBe('/pdk/models.lib');
    expect(one('ERROR, library file  /pdk/sm141064.ngspice not found')).toMatchObject({
      severity: 'error',
      kind: 'missing-include',
      subject: '/pdk/sm141064.ngspice',
    });
  });

  it('singular matrix: the node, however it is spaced', () => {
    expect(one('Warning: singular matrix:  check node out_1')).toMatchObject({
      kind: 'singular-matrix',
      subject: 'out_1',
    });
    expect(one('Warning: singular matrix: check nodeout_1').subject).toBe('out_1');
  });

  it('splits a message glued after two spaces onto the end of a progress line, and reads it in full', () => {
    const messages = classifyNgspiceOutput(
      "Supplies reduced to  50.000%  Warning: Unusual leading characters like '%'\n Check line no 7:  %x",
    );
    expect(messages.map((m) => [m.kind, m.line])).toEqual([['netlist', 7]]);
  });
});

describe('model names and the primary error', () => {
  it('names an unknown-model error after the model of the warning before it, and nothing else', () => {
    const messages = classifyNgspiceOutput(
      [
        "warning, can't find model 'nch_9' from line",
        '   m1 d g s b nch_9',
        'Warning: singular matrix:  check node a',
        'Error on line 5 or its substitute:',
        '   m1 d g s b nch_9',
        '   could not find a valid modelname',
        'PTerror: syntax',
      ].join('\n'),
    );
    expect(messages.map((m) => [m.kind, m.subject])).toEqual([
      ['unknown-model', 'nch_9'],
      ['singular-matrix', 'a'],
      ['unknown-model', 'nch_9'],
      ['netlist', undefined],
    ]);
  });

  it('leaves an unknown-model error with no warning before it without a subject', () => {
    const m = one('Error on line 5 or its substitute:\n   m1 d g s b x\n   could not find a valid modelname');
    expect(Object.keys(m)).not.toContain('subject');
  });

  it('primaryError looks at errors only, in order of kind, not at the first message', () => {
    const warning: SpiceMessage = { severity: 'warning', kind: 'stepping', text: 'Warning: gmin stepping failed' };
    const other: SpiceMessage = { severity: 'error', kind: 'other', text: 'Error: something' };
    const netlist: SpiceMessage = { severity: 'error', kind: 'netlist', text: 'PTerror: syntax' };
    expect(primaryError([warning, other, netlist])).toBe(netlist);
    expect(primaryError([warning])).toBeUndefined();
    // A netlist warning that names a line (Unusual leading characters) is still no error.
    const lineWarning: SpiceMessage = { severity: 'warning', kind: 'netlist', text: 'Warning: Unusual', line: 4 };
    expect(primaryError([lineWarning, netlist])).toBe(netlist);
  });
});

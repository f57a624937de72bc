import { existsSync, readFileSync } from 'node:fs';
import { chmod } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers.js';
import { cliFixture, exampleClip, exampleModelJson, expectOneErrorLine, type CliFixture } from './fixture.js';

// Each bad input must give exit code 2 and one line on stderr naming the file, the field and the rule.
// The real binary in a temp dir: see fixture.ts (dist/ must be built; npm test does).
let cli: CliFixture;
beforeAll(async () => {
  cli = await cliFixture();
});
afterAll(() => cli.cleanUp());

/** Writes the shipped example model with one change made by `edit`, and returns its file name. */
async function brokenModel(name: string, edit: (model: ReturnType<typeof exampleModelJson>) => void): Promise<string> {
  const model = exampleModelJson();
  edit(model);
  return cli.write(name, JSON.stringify(model));
}

const tensor = (model: ReturnType<typeof exampleModelJson>, name: string) => model.tensors[name] as number[][];

describe('bmru with a bad model or inputs file', () => {
  it('names the file and says it is not valid JSON when the model JSON is malformed', async () => {
    const text = JSON.stringify(exampleModelJson());
    const file = await cli.write('malformed.json', text.slice(0, text.length / 2));
    expectOneErrorLine(await cli.run(['simulate', '-m', file]), 'malformed.json', 'valid JSON');
  });

  it('names the tensor and both shapes when a tensor has the wrong shape', async () => {
    const file = await brokenModel('shape.json', (m) => tensor(m, 'blocks.0.cand.weight').forEach((row) => row.pop()));
    expectOneErrorLine(
      await cli.run(['simulate', '-m', file]),
      'shape.json',
      "'blocks.0.cand.weight'",
      'expected shape [4, 4], got [4, 3]',
    );
  });

  it('names the tensor and the index of a NaN (which JSON writes as null)', async () => {
    const file = await brokenModel('nan.json', (m) => (tensor(m, 'blocks.0.cand.weight')[1][2] = Number.NaN));
    const line = expectOneErrorLine(
      await cli.run(['simulate', '-m', file]),
      'nan.json',
      "'blocks.0.cand.weight'",
      '[1, 2]',
    );
    expect(line).toContain('expected a finite number');
  });

  it("names the tensor, the index and the rule of a negative alpha when cellParams is 'realised'", async () => {
    const file = await brokenModel('alpha.json', (m) => {
      expect(m.cellParams).toBe('realised');
      (m.tensors['blocks.1.cell.alpha'] as number[])[2] = -0.5;
    });
    const line = expectOneErrorLine(
      await cli.run(['export', '-m', file]),
      'alpha.json',
      "'blocks.1.cell.alpha'",
      'index 2',
    );
    expect(line).toContain(">= 0 (cell_params = 'realised'), got -0.5");
  });

  it('names the inputs file and both column counts when the clip has the wrong number of columns', async () => {
    const clip = exampleClip(5)
      .split('\n')
      .map((row) => row.split(',').slice(0, 12).join(','))
      .join('\n');
    const file = await cli.write('cols.csv', clip);
    expectOneErrorLine(await cli.run(['simulate', '-i', file]), 'cols.csv', '12 columns', 'expects 13');
  });

  it('rejects a misspelt tolerance key before simulating, instead of using its default', async () => {
    const tol = await cli.write('tol-typo.json', JSON.stringify({ minStateAgrement: 0.9 }));
    const clip = await cli.write('clip3-tol.csv', exampleClip(3));
    const line = expectOneErrorLine(
      await cli.run(['compare', '-i', clip, '-t', tol, '-o', 'cmp-tol']),
      'tol-typo.json',
      'unknown key "minStateAgrement"',
    );
    expect(line).toContain('expected minStateAgreement, requireDecisionMatch, minVoteAgreement');
    expect(existsSync(path.join(cli.dir, 'cmp-tol'))).toBe(false);
  });

  it('rejects an unknown key in a process.json (a misspelt optional key would fall back to defaults)', async () => {
    const proc = JSON.parse(readFileSync(path.join(REPO_ROOT, 'models', 'c180', 'process.json'), 'utf8'));
    const file = await cli.write('process-typo.json', JSON.stringify({ ...proc, sizeing: { unitWidthUm: 4 } }));
    const line = expectOneErrorLine(
      await cli.run(['export', '-p', file, '-o', 'exp-typo']),
      'process-typo.json',
      'unknown key "sizeing"',
    );
    expect(line).toContain('sizing');
  });

  it('says a features file given to kws is not safetensors when it is a CSV', async () => {
    const clip = await cli.write('clip3-features.csv', exampleClip(3));
    expectOneErrorLine(
      await cli.run(['kws', '-f', clip, '--clips', '1', '-o', 'kws-csv']),
      'clip3-features.csv',
      "'header'",
      'expected a safetensors file',
    );
  });

  it('refuses a --kit folder that does not exist before building or simulating anything', async () => {
    const clip = await cli.write('clip3-kit.csv', exampleClip(3));
    const line = expectOneErrorLine(
      await cli.run(['compare', '-p', 'gf180mcu', '--kit', 'no-such-kit', '-i', clip, '-o', 'cmp-kit']),
      path.join(cli.dir, 'no-such-kit'),
      "'kit'",
      'no such folder',
    );
    expect(line).toContain('expected the PDK folder');
    expect(existsSync(path.join(cli.dir, 'cmp-kit'))).toBe(false);
  });

  it('lists the shipped processes when --process is neither one of them nor a file', async () => {
    const line = expectOneErrorLine(
      await cli.run(['export', '-p', 'c18', '-o', 'exp-c18']),
      path.join(cli.dir, 'c18'),
      "'process'",
      "no shipped process 'c18'",
    );
    expect(line).toContain('(c180, gf180mcu)');
  });

  it.each([
    ['simulate', '-m', 'nope.json', 'cannot read model file'],
    ['simulate', '-i', 'nope.csv', 'cannot read inputs file'],
    ['spice', 'nope.cir', '', 'cannot read deck file'],
  ])('names a missing file and says it cannot be read (%s %s %s)', async (command, flag, file, rule) => {
    const args = [command, flag, file].filter((a) => a !== '');
    expectOneErrorLine(await cli.run(args), args.at(-1)!, rule, 'ENOENT');
  });

  it('says the folder does not exist when simulate -o points into one, before simulating', async () => {
    const line = expectOneErrorLine(
      await cli.run(['simulate', '-o', 'no-such-dir/trace.json']),
      'no-such-dir/trace.json',
      "'--out'",
      `the folder ${path.join(cli.dir, 'no-such-dir')} does not exist`,
    );
    expect(line).not.toContain('ENOENT');
  });

  it('says why a command line is not understood, and where to look', async () => {
    expectOneErrorLine(await cli.run(['simulate', '--bogus']), 'Unknown argument: bogus', 'bmru simulate --help');
    expectOneErrorLine(await cli.run(['spice', 'x.cir', '--timeout', '-1']), '--timeout must be', '> 0');
  });
});

describe('bmru when ngspice fails', () => {
  const RC_DECK = '* rc step\nV1 in 0 PWL(0 0 1n 1)\nR1 in out 1k\nC1 out 0 1u\n.tran 10u 5m\n.end\n';
  /** Runs for hours unless killed. */
  const LONG_DECK =
    '* long transient\nV1 in 0 SIN(0 1 1k)\nR1 in out 1k\nC1 out 0 1u\n.tran 1n 10\n.save v(out)\n.end\n';
  const NO_NGSPICE = { BMRU_NGSPICE: '/nonexistent/ngspice' };

  it('says how to install ngspice or point BMRU_NGSPICE at it when it is missing (spice, compare)', async () => {
    const deck = await cli.write('rc.cir', RC_DECK);
    const spice = await cli.run(['spice', deck], NO_NGSPICE);
    expectOneErrorLine(spice, '/nonexistent/ngspice', 'apt-get install -y ngspice', 'BMRU_NGSPICE');
    const clip = await cli.write('clip5.csv', exampleClip(5));
    const compare = await cli.run(['compare', '-i', clip, '-o', 'cmp'], NO_NGSPICE);
    expectOneErrorLine(compare, '/nonexistent/ngspice', 'BMRU_NGSPICE');
  });

  it('names the unknown model and its netlist line when the deck makes ngspice fail', async () => {
    const deck = await cli.write(
      'bad.cir',
      '* unknown model\nV1 in 0 1\nR1 in out 1k\nM1 out in 0 0 nosuchmodel W=1u L=1u\n.op\n.end\n',
    );
    const line = expectOneErrorLine(await cli.run(['spice', deck]), 'unknown model "nosuchmodel"', 'netlist line 4');
    expect(line).toContain(`work dir kept: ${cli.dir}`); // in TMPDIR
  });

  it('reports an ngspice killed by a signal', async () => {
    // A stand-in that answers -v like ngspice, then dies as a segfaulting ngspice would.
    const bin = await cli.write(
      'ngspice-segv',
      '#!/bin/sh\nif [ "$1" = "-v" ]; then echo "** ngspice-39 : fake"; exit 0; fi\nkill -SEGV $$\n',
    );
    await chmod(path.join(cli.dir, bin), 0o755);
    const deck = await cli.write('rc-segv.cir', RC_DECK);
    expectOneErrorLine(await cli.run(['spice', deck], { BMRU_NGSPICE: path.join(cli.dir, bin) }), 'killed by SIGSEGV');
  });

  /**
   * A stand-in ngspice (node) that answers -v like ngspice 39 and writes an ascii rawfile with every vector the
   * deck saves over [0, tstop]: `values` 'nan' (time stays finite) or 'none' (a transient plot with no points).
   */
  async function fakeRawNgspice(name: string, values: 'nan' | 'none'): Promise<string> {
    const script = [
      '#!/usr/bin/env node',
      "const fs = require('fs');",
      'const args = process.argv.slice(2);',
      "if (args[0] === '-v') { console.log('** ngspice-39 : fake'); process.exit(0); }",
      "const deck = fs.readFileSync(args[args.length - 1], 'utf8').split('\\n');",
      "const saves = deck.find((l) => l.startsWith('.save ')).slice(6).trim().split(/\\s+/);",
      "const tstop = Number(deck.find((l) => l.startsWith('.tran ')).split(/\\s+/)[2]);",
      "const head = ['Title: fake', 'Date: today', 'Plotname: Transient Analysis', 'Flags: real', `No. Variables: ${saves.length + 1}`,",
      `  'No. Points: ${values === 'none' ? 0 : 2}', 'Variables:', '\\t0\\ttime\\ttime', ...saves.map((v, i) => \`\\t\${i + 1}\\t\${v}\\tcurrent\`), 'Values:'];`,
      `const data = ${values === 'none' ? '[]' : "[0, tstop].flatMap((t, p) => [`${p}\\t${t}`, ...saves.map(() => '\\tnan')])"};`,
      "fs.writeFileSync(args[3], [...head, ...data].join('\\n') + '\\n');",
    ].join('\n');
    const bin = await cli.write(name, script + '\n');
    await chmod(path.join(cli.dir, bin), 0o755);
    return path.join(cli.dir, bin);
  }

  it('reports a rawfile of NaN waveforms as an ngspice failure (exit 2), not as a fidelity failure (exit 1)', async () => {
    const clip = await cli.write('clip2-nan.csv', exampleClip(2));
    const r = await cli.run(['compare', '-i', clip, '-o', 'cmp-nan'], {
      BMRU_NGSPICE: await fakeRawNgspice('ngspice-nan', 'nan'),
    });
    const line = expectOneErrorLine(r, 'non-finite values in', 'probed vectors', '= NaN at point 0, t = 0 s');
    expect(line).toContain('the simulation diverged');
  });

  it('says a transient plot has no points instead of "t = undefined s"', async () => {
    const clip = await cli.write('clip2-empty.csv', exampleClip(2));
    const r = await cli.run(['compare', '-i', clip, '-o', 'cmp-empty'], {
      BMRU_NGSPICE: await fakeRawNgspice('ngspice-empty', 'none'),
    });
    const line = expectOneErrorLine(r, 'the transient plot has no points, expected it to reach tstop = 0.02 s');
    expect(line).not.toContain('undefined');
  });

  it('shows a short printable excerpt of a rawfile line full of binary bytes, never the bytes themselves', async () => {
    // Terminal control sequences (ESC [, the C1 CSI 0xc2 0x9b), DEL, invalid UTF-8 and 5000 more bytes on one line.
    const garbage =
      "Buffer.concat([Buffer.from('Title: x\\n'), Buffer.from([0x1b, 0x5b, 0x33, 0x31, 0x6d, 0xc2, 0x9b, 0x32, 0x4a, 0x7f, 0xff, 0xfe]), Buffer.alloc(5000, 0x41), Buffer.from('\\n')])";
    const script = [
      '#!/usr/bin/env node',
      "const fs = require('fs');",
      'const args = process.argv.slice(2);',
      "if (args[0] === '-v') { console.log('** ngspice-39 : fake'); process.exit(0); }",
      `fs.writeFileSync(args[3], ${garbage});`,
    ].join('\n');
    const bin = await cli.write('ngspice-garbage', script + '\n');
    await chmod(path.join(cli.dir, bin), 0o755);
    const deck = await cli.write('rc-garbage.cir', RC_DECK);
    const line = expectOneErrorLine(
      await cli.run(['spice', deck], { BMRU_NGSPICE: path.join(cli.dir, bin) }),
      'rawfile is unreadable',
      'found "\\x1b[31m\\x9b2J\\x7f\\ufffd\\ufffd',
      'more characters)',
    );
    expect(line).toMatch(/^[\x20-\x7e]*$/);
    expect(line.length).toBeLessThan(400);
  });

  it('kills ngspice after --timeout seconds and says how to allow more time', async () => {
    const deck = await cli.write('long.cir', LONG_DECK);
    const startedMs = Date.now();
    const r = await cli.run(['spice', deck, '--timeout', '1']);
    expect(Date.now() - startedMs).toBeLessThan(8000);
    expectOneErrorLine(r, 'did not finish within 1000 ms', '--timeout');
  });
});

describe('bmru with a bad numeric option', () => {
  // Each of these used to reach the library: a stack trace ("concurrency must be an integer", "median of an
  // empty array", "Cannot read properties of undefined") or, for limits, a NaN that silently passed everything.
  // The suite and baseline files need not exist: the option is checked first.
  it.each([
    [
      ['analyze', 'corners', '--workers', '0'],
      '--workers must be an integer >= 1, got 0',
      'bmru analyze corners --help',
    ],
    [
      ['analyze', 'montecarlo', '--workers', 'abc'],
      '--workers must be an integer >= 1, got NaN',
      'bmru analyze montecarlo --help',
    ],
    [
      ['analyze', 'montecarlo', '--software-draws', '0'],
      '--software-draws must be an integer >= 1, got 0',
      'bmru analyze montecarlo --help',
    ],
    [
      ['analyze', 'montecarlo', '--seed', '1.5'],
      '--seed must be an integer >= 0, got 1.5',
      'bmru analyze montecarlo --help',
    ],
    [['analyze', 'noise', '--draws', 'abc'], '--draws must be an integer >= 1, got NaN', 'bmru analyze noise --help'],
    [
      ['analyze', 'noise', '--depth-frames', '0'],
      '--depth-frames must be an integer >= 1, got 0',
      'bmru analyze noise --help',
    ],
    [
      ['analyze', 'noise', '--depth-level', '1.5'],
      '--depth-level must be a number in (0, 1), got 1.5',
      'bmru analyze noise --help',
    ],
    [['analyze', 'noise', '--workers', '0'], '--workers must be an integer >= 1, got 0', 'bmru analyze noise --help'],
    [['analyze', 'power', '--frames', '0'], '--frames must be an integer >= 1, got 0', 'bmru analyze power --help'],
    [
      ['analyze', 'hwaware', '--fit-seed', 'x'],
      '--fit-seed must be an integer >= 0, got NaN',
      'bmru analyze hwaware --help',
    ],
    [
      ['fidelity', 'check', 'suite.yaml', '-j', '0'],
      '--workers must be an integer >= 1, got 0',
      'bmru fidelity check --help',
    ],
    [
      ['fidelity', 'baseline', 'suite.yaml', '-j', 'abc'],
      '--workers must be an integer >= 1, got NaN',
      'bmru fidelity baseline --help',
    ],
    [
      ['fidelity', 'check', 'suite.yaml', '--max-drop', 'abc'],
      '--max-drop must be a number in [0, 1], got NaN',
      'bmru fidelity check --help',
    ],
    [['kws', '--min-agreement', 'abc'], '--min-agreement must be a number in [0, 1], got NaN', 'bmru kws --help'],
  ])('rejects %j before any work, naming the flag, the rule and the subcommand help', async (args, rule, help) => {
    expectOneErrorLine(await cli.run(args), rule, `(see ${help})`);
  });
});

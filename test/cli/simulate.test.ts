import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliFixture, type CliFixture } from './fixture.js';

// The real binary in a temp dir: see fixture.ts (dist/ must be built; npm test does).
let cli: CliFixture;
beforeAll(async () => {
  cli = await cliFixture();
});
afterAll(() => cli.cleanUp());

describe('bmru simulate', () => {
  it('runs the shipped example clip and prints the frame count, votes and decision', async () => {
    const r = await cli.run(['simulate']);
    expect(r).toMatchObject({ exitCode: 0, stderr: '' });
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^101 frames, 2 blocks x 4 cells; ON unit-frames per block: \d+, \d+$/);
    expect(lines[1]).toMatch(/^votes: [01]{101}$/);
    expect(lines[2]).toMatch(/^decision: class [01]$/);
    expect(lines).toHaveLength(3);
  });

  it('writes the trace as nested JSON with -o x.json', async () => {
    const r = await cli.run(['simulate', '-o', 'trace.json']);
    expect(r).toMatchObject({ exitCode: 0, stderr: '' });
    expect(r.stdout).toContain('trace written to trace.json');
    const trace = JSON.parse(await readFile(path.join(cli.dir, 'trace.json'), 'utf8'));
    expect(trace.candidates).toHaveLength(2); // blocks
    expect(trace.candidates[0]).toHaveLength(101); // frames
    expect(trace.candidates[0][0]).toHaveLength(4); // cells
  });

  it('writes the trace as CSV, one row per frame x block x unit, with -o x.csv', async () => {
    const r = await cli.run(['simulate', '-o', 'trace.csv']);
    expect(r).toMatchObject({ exitCode: 0, stderr: '' });
    expect(r.stdout).toContain('trace written to trace.csv');
    const rows = (await readFile(path.join(cli.dir, 'trace.csv'), 'utf8')).trimEnd().split('\n');
    expect(rows[0]).toBe('frame,block,unit,candidate,state,state_current,vote,block_output,logit_0,logit_1');
    expect(rows).toHaveLength(1 + 101 * 2 * 4);
    expect(rows[1].split(',')).toHaveLength(10);
  });
});

describe('flags that need a value, and output extensions (issue 15)', () => {
  it.each([
    [['simulate', '-m'], '--model'],
    [['simulate', '-i'], '--inputs'],
    [['simulate', '-o', '-m', 'x.json'], '--out'],
    [['compare', '--timeout'], '--timeout'],
    [['compare', '--spice-option', '--keep'], '--spice-option'],
    [['kws', '--unit-current'], '--unit-current'],
  ])('%j refuses to run, naming %s, instead of taking the default', async (args, flag) => {
    const r = await cli.run(args);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toBe(`error: ${flag} expects a value (see bmru ${args[0]} --help)`);
  });

  it("takes a value given with '=': the flag's own rule answers", async () => {
    const r = await cli.run(['compare', '--unit-current=-1e-9']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(
      'error: --unit-current must be a current in A > 0 (e.g. 250p, 250pA or 2.5e-10), got "-1e-9" (see bmru compare --help)',
    );
  });

  it('simulate -o refuses an extension it does not write, instead of writing JSON under it', async () => {
    const r = await cli.run(['simulate', '-o', 'trace.txt']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(
      "error: --out trace.txt: expected a file ending in .json or .csv (the trace's format follows the extension) (see bmru simulate --help)",
    );
  });
});

describe('bmru <command> --help', () => {
  it.each(['simulate', 'export', 'spice', 'compare'])('shows the usage and examples of %s', async (command) => {
    const r = await cli.run([command, '--help']);
    expect(r).toMatchObject({ exitCode: 0, stderr: '' });
    expect(r.stdout).toContain(`bmru ${command}`);
    const examples = r.stdout.split('Examples:')[1];
    expect(examples, r.stdout).toBeDefined();
    expect(examples).toMatch(new RegExp(`^\\s+bmru ${command}\\b`, 'm'));
  });

  it('lists every command in the top-level help', async () => {
    const r = await cli.run(['--help']);
    expect(r.exitCode).toBe(0);
    for (const command of ['simulate', 'export', 'spice <deck>', 'compare'])
      expect(r.stdout).toContain(`bmru ${command}`);
  });

  it('bare `bmru` prints the command list with the usage error', async () => {
    const r = await cli.run([]);
    expect(r.exitCode).toBe(2);
    expect(r.stdout + r.stderr).toContain('bmru kws-data');
    expect(r.stderr).toMatch(/Name a command/);
  });
});

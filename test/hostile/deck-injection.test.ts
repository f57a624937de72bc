/**
 * Hostile input against the deck writer, with real ngspice: text a user controls (a model's folder name, a
 * process's name and description, deck lines, a deck given to `bmru spice`) must never make ngspice run a
 * command. ngspice executes comment lines that start with `*#` (lower-casing them: `shell touch /tmp/X` touches
 * `/tmp/x`), `.control` blocks, and a file whose first line is `*ng_script`. Each case plants a `shell touch` of
 * a marker file and checks the marker is absent; one case runs the same deck with `--allow-control` and finds
 * the marker, so the check is known to see an executed command.
 */
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { controlLines } from '../../src/spice/deck.js';
import { REPO_ROOT } from '../helpers.js';
import { cliFixture, EXAMPLE_MODEL, EXIT_ERROR, exampleClip, type CliFixture } from '../cli/fixture.js';

// ngspice lower-cases `*#` commands, so the marker path must be lower case to be found if one ever runs.
const MARKER = `/tmp/bmru-hostile-${process.pid}/pwned`;
const SHELL = `shell touch ${MARKER}`;

let f: CliFixture;
beforeAll(async () => {
  f = await cliFixture();
  await f.write('clip5.csv', exampleClip(5));
});
afterAll(() => f.cleanUp());
afterEach(() => rm(path.dirname(MARKER), { recursive: true, force: true }));

async function armMarker(): Promise<void> {
  await rm(path.dirname(MARKER), { recursive: true, force: true });
  await mkdir(path.dirname(MARKER), { recursive: true });
}

/** A copy of the shipped c180 process folder with some process.json fields replaced. */
async function processCopy(name: string, fields: Record<string, unknown>): Promise<string> {
  const dir = path.join(f.dir, name);
  await cp(path.join(REPO_ROOT, 'models', 'c180'), dir, { recursive: true });
  const file = path.join(dir, 'process.json');
  const json = JSON.parse(await readFile(file, 'utf8'));
  await writeFile(file, JSON.stringify({ ...json, ...fields }, null, 2));
  return file;
}

describe('deck injection (real ngspice)', () => {
  it('a model in a folder whose name holds a newline and a *# shell line: compare runs no command and writes only the file name into the deck', async () => {
    await armMarker();
    const folder = path.join(f.dir, `x\n*# ${SHELL}\n.include /etc/passwd\n+ 1\n*`);
    await mkdir(folder, { recursive: true });
    const model = path.join(folder, 'm.json');
    await cp(EXAMPLE_MODEL, model);
    const r = await f.run([
      'compare',
      '-m',
      model,
      '-i',
      'clip5.csv',
      '-o',
      'out-title',
      '-t',
      path.join(REPO_ROOT, 'models', 'example', 'tolerances.json'),
    ]);
    expect(r.exitCode, r.stderr).not.toBe(EXIT_ERROR);
    expect(existsSync(MARKER)).toBe(false);
    const deck = await readFile(path.join(f.dir, 'out-title', 'deck.cir'), 'utf8');
    expect(controlLines(deck)).toEqual([]);
    expect(deck).not.toMatch(/^\.include \/etc\/passwd/m);
    // The title names the model file only (this machine's folders stay out of a deck handed on); a hostile title is
    // escaped by the deck writer itself (test/netlist/deck.test.ts).
    expect(deck.split('\n')[0]).toBe('* bmru compare m.json');
    expect(deck).not.toContain('shell touch');
  });

  it("a process whose name and description carry newlines, '.include /etc/passwd' and a *# shell line: the exported deck runs clean", async () => {
    await armMarker();
    const proc = await processCopy('proc-text', {
      name: `c180\n*# ${SHELL}`,
      description: `typical\n.include /etc/passwd\n*# ${SHELL}`,
    });
    const r = await f.run(['export', '-p', proc, '-i', 'clip5.csv', '-o', 'out-proc']);
    expect(r.exitCode, r.stderr).toBe(0);
    const deckFile = path.join(f.dir, 'out-proc', 'deck.cir');
    const deck = await readFile(deckFile, 'utf8');
    expect(controlLines(deck)).toEqual([]);
    expect(deck).not.toMatch(/^\.include \/etc\/passwd/m);
    const run = await f.run(['spice', deckFile]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(existsSync(MARKER)).toBe(false);
  });

  it('a process deck line that is a *# command, or that a kit path with a newline splits, is refused naming the file and the line', async () => {
    for (const [name, lines] of [
      ['proc-cmd', ['.include {dir}/c180.lib', `*# ${SHELL}`]],
      ['proc-nl', [`.include {dir}/c180.lib\n*# ${SHELL}`]],
    ] as const) {
      await armMarker();
      const proc = await processCopy(name, { deckLines: lines });
      const r = await f.run(['compare', '-p', proc, '-i', 'clip5.csv', '-o', `out-${name}`]);
      expect(r.exitCode).toBe(EXIT_ERROR);
      expect(r.stderr).toContain(proc);
      expect(r.stderr).toMatch(/'deckLines\.\d'/);
      expect(existsSync(MARKER)).toBe(false);
    }
  });

  it('bmru spice refuses *#, .control and *ng_script decks unless --allow-control, which then does run them', async () => {
    const circuit = 'R1 a 0 1k\nV1 a 0 1\n.op\n.end\n';
    const decks = {
      'star-hash.cir': `* t\n  *# ${SHELL}\n${circuit}`,
      'control.cir': `* t\n.control\n${SHELL}\n.endc\n${circuit}`,
      'script.cir': `*ng_script\n${SHELL}\n${circuit}`,
    };
    for (const [name, text] of Object.entries(decks)) {
      await armMarker();
      await f.write(name, text);
      const r = await f.run(['spice', name]);
      expect(r.exitCode, name).toBe(EXIT_ERROR);
      expect(r.stderr).toMatch(/--allow-control/);
      expect(existsSync(MARKER), name).toBe(false);
    }
    await armMarker();
    const allowed = await f.run(['spice', 'star-hash.cir', '--allow-control']);
    expect(allowed.exitCode, allowed.stderr).toBe(0);
    expect(existsSync(MARKER)).toBe(true);
  });
});

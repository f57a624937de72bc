/**
 * Runs the real `bmru` binary (`node bin/bmru.js`) in a temp dir and captures what it says.
 *
 * The binary runs the compiled dist/, not src/: `npm test` (and `npx tsc -p . && npx vitest run`) build
 * it first, so these tests check what a user runs. A stale dist/ tests stale code: build before running
 * these files alone.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { REPO_ROOT } from '../helpers.js';

export const BIN = path.join(REPO_ROOT, 'bin', 'bmru.js');
export const EXAMPLE_MODEL = path.join(REPO_ROOT, 'models', 'example', 'kws-example.json');
export const EXAMPLE_CLIP = path.join(REPO_ROOT, 'models', 'example', 'clip-101.csv');

/** Exit code of every error (bad input, ngspice failure); 1 means "fidelity below tolerance". */
export const EXIT_ERROR = 2;

export interface CliResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

export interface CliFixture {
  /** The temp dir: the binary's cwd and TMPDIR, so ngspice work dirs kept on failure land here too. */
  dir: string;
  /** Runs `bmru ...args` in `dir`, with extra environment variables. */
  run(args: string[], env?: Record<string, string>): Promise<CliResult>;
  /** Writes a file into `dir` and returns its path relative to `dir`. */
  write(name: string, content: string): Promise<string>;
  cleanUp(): Promise<void>;
}

/** A fresh temp dir to run the binary in; call `cleanUp()` in `afterAll`. */
export async function cliFixture(): Promise<CliFixture> {
  if (!existsSync(path.join(REPO_ROOT, 'dist', 'cli', 'main.js'))) {
    throw new Error('dist/ is missing: build with `npx tsc -p .` (npm test does) before the CLI tests');
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bmru-cli-test-'));
  return {
    dir,
    run: (args, env = {}) => runBin(args, dir, env),
    write: async (name, content) => {
      await writeFile(path.join(dir, name), content);
      return name;
    },
    cleanUp: () => rm(dir, { recursive: true, force: true }),
  };
}

function runBin(args: string[], cwd: string, env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: { ...process.env, TMPDIR: cwd, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.once('error', reject);
    child.once('close', (exitCode) => resolve({ exitCode, stdout, stderr }));
  });
}

/** The shipped example model as JSON, for tests to break one field of. */
export function exampleModelJson(): { cellParams: string; tensors: Record<string, unknown> } & Record<string, unknown> {
  return JSON.parse(readFileSync(EXAMPLE_MODEL, 'utf8'));
}

/** The header and the first `frames` rows of the shipped 101-frame clip. */
export function exampleClip(frames: number): string {
  return (
    readFileSync(EXAMPLE_CLIP, 'utf8')
      .split('\n')
      .slice(0, frames + 1)
      .join('\n') + '\n'
  );
}

/**
 * Checks that a run failed the way a user should see it: exit code 2, nothing on stdout, and on stderr one
 * line `error: ...` (no stack trace) that mentions each of `mentions`. Returns that line.
 */
export function expectOneErrorLine(r: CliResult, ...mentions: string[]): string {
  expect(r.exitCode, r.stderr).toBe(EXIT_ERROR);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).not.toMatch(/\bat .*\.js:\d+/); // no stack frames
  for (const m of mentions) expect(lines[0]).toContain(m);
  return lines[0];
}

/**
 * One cell (1 input, width 1, I_unit 1 nA) whose only input weight, 0.005, is below half the smallest c180 copy
 * (netlist/geometry.ts): the circuit leaves it out. Trained, the candidate is 0.005 x + 0.2 (ON at x = 80, beta_hi 0.5); realised it is 0.2
 * (always OFF, 0.1 below beta_lo 0.3). Class 1 wins while the cell is ON. On the clip x = 0 80 80 0 80 80 the trained
 * model says ON in 4 of 6 frames (decision 1), the realised one and the circuit never (decision 0).
 */
export function tinyModel(candBias: number): string {
  return JSON.stringify({
    format: 'bmru-model',
    arch: 'fq-bmru',
    blocks: 1,
    skip: false,
    unitCurrentA: 1e-9,
    frameS: 0.01,
    cellParams: 'realised',
    tensors: {
      'pre.weight': [[0.005]],
      'pre.bias': [0],
      'blocks.0.cand.weight': [[1]],
      'blocks.0.cand.bias': [candBias],
      'blocks.0.cell.alpha': [1],
      'blocks.0.cell.beta1': [0.3],
      'blocks.0.cell.delta': [0.2],
      'blocks.0.cell.s0': [0],
      'blocks.0.post.weight': [[1]],
      'blocks.0.post.bias': [0],
      'out.weight': [[0], [1]],
      'out.bias': [0.5, 0],
    },
  });
}
export const TINY_CLIP = 'x\n0\n80\n80\n0\n80\n80\n';

/** bmru kws-data flags for a tiny set (6 clips, 3 speakers): seconds with espeak-ng and sox. */
export const TINY_KWS_SET = [
  '--keyword-clips',
  '3',
  '--others',
  'no,up',
  '--other-clips',
  '2',
  '--silence-clips',
  '1',
  '--speakers',
  '3',
  '--validation',
  '34',
  '--test',
  '33',
];

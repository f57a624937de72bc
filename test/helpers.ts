import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, onTestFinished } from 'vitest';
import type { RawPlot } from '../src/spice/rawfile.js';

/**
 * A new folder under the OS temp dir, removed when the calling test ends (called inside `it`) or after the calling
 * file or `describe` (called while collecting). Stryker re-runs a file per mutant: folders left behind added up to
 * thousands in /tmp. A run that stops early skips these hooks; the run's own temp root (test/global-setup.ts) still
 * goes.
 */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  if (expect.getState().currentTestName === undefined) afterAll(remove);
  else onTestFinished(remove);
  return dir;
}

/** Repository root (tests run from anywhere). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The shared material beside the project root (a copy sits beside CI's clone too); BMRU_SHARED overrides. */
export const SHARED_DIR = process.env.BMRU_SHARED ?? resolve(REPO_ROOT, '..', 'shared');

export const CONFORMANCE_DIR = resolve(SHARED_DIR, 'conformance');

/** Long SPICE suites run only when BMRU_FULL=1 (CI runs the representative subset). */
export const FULL = process.env.BMRU_FULL === '1';

/** |a - b| <= rel * max(|a|, |b|) + abs: one tolerance rule for every float comparison in tests. */
export function close(a: number, b: number, rel: number, abs = 0): boolean {
  if (a === b) return true; // equal infinities too, where a - b is NaN
  return Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b)) + abs;
}

/**
 * Live processes of process group `pgid`, from /proc (Linux). Zombies do not count: they have ended, and an
 * init that does not reap orphans (as in some containers) keeps them listed.
 */
export function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // ended while we looked
    }
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so split after the last ')'.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z') members.push(Number(name));
  }
  return members;
}

/** Waits up to `ms` for group `pgid` to have no live process; returns those still there. */
export async function groupGone(pgid: number, ms = 2000): Promise<number[]> {
  const deadline = Date.now() + ms;
  let left = groupMembers(pgid);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    left = groupMembers(pgid);
  }
  return left;
}

/** Live processes whose working directory is `dir` or below it, from /proc (Linux). */
export function processesIn(dir: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cwd = readlinkSync(`/proc/${name}/cwd`);
      const state = readFileSync(`/proc/${name}/stat`, 'utf8').split(') ').at(-1)!.split(' ')[0];
      if ((cwd === dir || cwd.startsWith(`${dir}/`)) && state !== 'Z') found.push(Number(name));
    } catch {
      // ended while we looked, or not ours to see
    }
  }
  return found;
}

/**
 * Mounts a tmpfs at `dir` (which must exist) with mount options such as `size=64k` or `ro`, for tests of a full
 * disk or a read-only folder; a mode 555 folder does not stop root, a read-only mount does. Returns undefined
 * once mounted, else why not (not root, no mount(8), a container without CAP_SYS_ADMIN).
 */
export function mountTmpfs(dir: string, options: string): string | undefined {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    return undefined;
  } catch (e) {
    const said = String((e as { stderr?: Buffer }).stderr ?? '').trim();
    return `cannot mount a tmpfs at ${dir} (${said || (e as Error).message}); run the tests as root to include this one`;
  }
}

/** Unmounts what `mountTmpfs` mounted (lazily, so an open file cannot keep it); no error if nothing is mounted. */
export function unmount(dir: string): void {
  try {
    execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
  } catch {
    // not mounted
  }
}

/** Fills the filesystem of `dir` to the last page with a file `name`, then frees `freeBytes` of it. */
export function fillDisk(dir: string, name = 'filler', freeBytes = 0): string {
  const file = `${dir}/${name}`;
  try {
    execFileSync('dd', ['if=/dev/zero', `of=${file}`, 'bs=4096'], { stdio: 'ignore' });
  } catch {
    // dd stops with ENOSPC: that is the point
  }
  if (freeBytes > 0) execFileSync('truncate', ['-s', `-${freeBytes}`, file]);
  return file;
}

/** A transient plot as ngspice would hand it over: `time`, then each named vector (a voltage). */
export function tranPlot(time: readonly number[], vectors: Record<string, readonly number[]>): RawPlot {
  return {
    title: 't',
    date: '',
    plotname: 'Transient Analysis',
    complex: false,
    vectors: [{ name: 'time', type: 'time' }, ...Object.keys(vectors).map((name) => ({ name, type: 'voltage' }))],
    numPoints: time.length,
    real: [Float64Array.from(time), ...Object.values(vectors).map((v) => Float64Array.from(v))],
  };
}

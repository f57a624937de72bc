import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers.js';

// A full `npm run results` takes about an hour of ngspice and rewrites docs/results.*: an option it does not know
// (--help once started the whole run) must print the usage and run nothing.
const SCRIPT = path.join(REPO_ROOT, 'scripts', 'results.mjs');
const RESULTS_JSON = path.join(REPO_ROOT, 'docs', 'results.json');
const run = (...args: string[]) =>
  spawnSync(process.execPath, [SCRIPT, ...args], { encoding: 'utf8', timeout: 30_000 });

describe('scripts/results.mjs options', () => {
  it('prints the usage for --help and -h, exit 0, and writes nothing', () => {
    const before = statSync(RESULTS_JSON).mtimeMs;
    for (const flag of ['--help', '-h']) {
      const r = run(flag);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/^usage: node scripts\/results\.mjs \[--only <id,\.\.\.>\] \[--cheap\] \[--list\]/);
      expect(r.stderr).not.toMatch(/results: \S+ \.\.\./);
    }
    expect(statSync(RESULTS_JSON).mtimeMs).toBe(before);
  });

  it('refuses an unknown option and a bare --only with exit 2, naming what is wrong', () => {
    const bogus = run('--cheep');
    expect(bogus.status).toBe(2);
    expect(bogus.stderr).toMatch(/^results: unknown option --cheep\nusage:/);
    const bare = run('--only');
    expect(bare.status).toBe(2);
    expect(bare.stderr).toMatch(/^results: --only needs a comma-separated list of row ids\nusage:/);
  });

  it('lists the rows with --list, the cheap ones marked', () => {
    const r = run('--list');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^example-c180 \(cheap\): shipped example \(101 frames\), c180\n/);
    expect(r.stdout).toMatch(/^mc-kws-c180-big: the flip ratio on ten times the held-out clips/m);
  });

  it('refuses an unknown row in --only before running any', () => {
    const r = run('--only', 'example-c180,no-such-row');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/unknown row in --only: known example-c180, /);
    expect(r.stderr).not.toMatch(/results: example-c180 \.\.\./);
  });
});

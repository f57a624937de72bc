/**
 * Output files on a disk that fills up and in a read-only folder, on the real binary: no file is left half
 * written or 0 bytes, no report.json vouches for a run whose files are not all there, no temporary file stays,
 * and a read-only output folder stops a command before ngspice starts. The disks are tmpfs mounts, which need
 * root: without it these tests skip, saying why.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fillDisk, mountTmpfs, unmount } from '../helpers.js';
import { EXAMPLE_MODEL, EXIT_ERROR, cliFixture, exampleClip, expectOneErrorLine, type CliFixture } from './fixture.js';

// Mounted at load time: whether the tests skip is decided when they are collected.
const fx: CliFixture = await cliFixture();
const FULL = path.join(fx.dir, 'full'); // 1 MiB, filled up by the ngspice wrapper below once ngspice is done
const TIGHT = path.join(fx.dir, 'tight'); // 64 KiB, filled to its last page before the command starts
const RO = path.join(fx.dir, 'ro');
for (const d of [FULL, TIGHT, RO]) await mkdir(d);
const noMount = mountTmpfs(FULL, 'size=1m') ?? mountTmpfs(TIGHT, 'size=64k') ?? mountTmpfs(RO, 'ro,size=64k');

let clip: string;
let filling: string;
let marking: string;
beforeAll(async () => {
  if (noMount) console.log(`skipping the full-disk and read-only tests: ${noMount}`);
  clip = await fx.write('clip2.csv', exampleClip(2));
  // The disk fills up while ngspice runs: the real ngspice, then a file that takes every free page of FULL but
  // $FREE_BYTES.
  filling = path.join(fx.dir, 'ngspice-then-fill');
  const fill = `dd if=/dev/zero of="${FULL}/filler" bs=4096 2>/dev/null\n[ "\${FREE_BYTES:-0}" -gt 0 ] && truncate -s "-$FREE_BYTES" "${FULL}/filler"`;
  await writeFile(
    filling,
    `#!/bin/sh\nif [ "$1" = "-v" ]; then exec ngspice -v; fi\nngspice "$@"\nrc=$?\n${fill}\nexit $rc\n`,
  );
  // Leaves a mark if it is ever started, even for -v.
  marking = path.join(fx.dir, 'ngspice-marks');
  await writeFile(marking, `#!/bin/sh\ntouch "$0.ran"\nexec ngspice "$@"\n`);
  await Promise.all([chmod(filling, 0o755), chmod(marking, 0o755)]);
});
afterAll(async () => {
  for (const d of [FULL, TIGHT, RO]) unmount(d);
  await fx.cleanUp();
});

/** Every file under `dir`, dot files included, relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => statSync(path.join(dir, f)).isFile())
    .sort();
}

describe.skipIf(noMount !== undefined)('a disk that fills up', () => {
  it('compare: exit 2 naming the file; no report.json (not even the previous one), nothing half-written, no temporary file', async () => {
    const out = path.join(FULL, 'cmp');
    await mkdir(out);
    await writeFile(path.join(out, 'report.json'), JSON.stringify({ verdict: { pass: true } }));
    try {
      // 16 KiB left: room for report.json, not for the 2-frame deck (43 kB).
      const r = await fx.run(['compare', '-i', clip, '-o', out, '--timeout', '120'], {
        BMRU_NGSPICE: filling,
        FREE_BYTES: '16384',
      });
      expect(r.exitCode, r.stderr).toBe(EXIT_ERROR);
      expect(r.stderr).toContain(`error: cannot write ${out}/deck.cir: disk full (ENOSPC)`);
      expect(r.stdout).toBe('');
      expect(filesUnder(out)).toEqual([]);
    } finally {
      await rm(path.join(FULL, 'filler'), { force: true });
    }
  });

  it('export: exit 2 naming the deck, and no 0-byte deck', async () => {
    const out = path.join(TIGHT, 'exp');
    const filler = fillDisk(TIGHT, 'filler', 4096); // one page: the writable-folder probe fits, the deck does not
    try {
      expectOneErrorLine(
        await fx.run(['export', '-i', clip, '-o', out]),
        `cannot write ${out}/deck.cir: disk full (ENOSPC)`,
      );
      expect(filesUnder(out)).toEqual([]);
    } finally {
      await rm(filler);
    }
  });

  it('batch run: exit 2 naming the record, no temporary file, the lock released', async () => {
    const out = path.join(FULL, 'batch');
    const plan = await fx.write(
      'full.yaml',
      [
        'name: full',
        'process: c180',
        `models: [${EXAMPLE_MODEL}]`,
        `inputs: [{ file: ${path.join(fx.dir, clip)} }]`,
        `out: ${out}`,
        '',
      ].join('\n'),
    );
    try {
      const r = await fx.run(['batch', 'run', plan, '-q', '--retries', '0'], { BMRU_NGSPICE: filling });
      expect(r.exitCode, r.stderr).toBe(EXIT_ERROR);
      expect(r.stderr).toMatch(
        new RegExp(`error: cannot write ${out}/results/[0-9a-f]{16}\\.json: disk full \\(ENOSPC\\)`),
      );
      // jobs.json and the empty streams were written before the disk filled; no record, nothing else.
      expect(filesUnder(out)).toEqual(['jobs.json', 'results.csv', 'results.jsonl']);
      expect(JSON.parse(await readFile(path.join(out, 'jobs.json'), 'utf8')).jobs).toHaveLength(1);
    } finally {
      await rm(path.join(FULL, 'filler'), { force: true });
    }
  });
});

describe.skipIf(noMount !== undefined)('a read-only output folder', () => {
  it('compare stops before ngspice starts, naming the folder', async () => {
    const r = await fx.run(['compare', '-i', clip, '-o', 'ro/cmp'], { BMRU_NGSPICE: marking });
    expectOneErrorLine(r, 'cannot create folder ro/cmp: read-only file system (EROFS)');
    expect(existsSync(`${marking}.ran`)).toBe(false);
  });

  it('compare into the read-only folder itself says it cannot write in it', async () => {
    const r = await fx.run(['compare', '-i', clip, '-o', 'ro'], { BMRU_NGSPICE: marking });
    expectOneErrorLine(r, 'cannot write in folder ro: read-only file system (EROFS)');
    expect(existsSync(`${marking}.ran`)).toBe(false);
  });

  it('export names the folder', async () => {
    expectOneErrorLine(
      await fx.run(['export', '-i', clip, '-o', 'ro/exp']),
      'cannot create folder ro/exp: read-only file system (EROFS)',
    );
  });

  it('batch run stops before ngspice starts, naming the folder', async () => {
    const plan = await fx.write(
      'ro.yaml',
      [
        'name: ro',
        'process: c180',
        `models: [${EXAMPLE_MODEL}]`,
        `inputs: [{ file: ${path.join(fx.dir, clip)} }]`,
        `out: ${RO}`,
        '',
      ].join('\n'),
    );
    const r = await fx.run(['batch', 'run', plan, '-q'], { BMRU_NGSPICE: marking });
    expect(r.exitCode, r.stderr).toBe(EXIT_ERROR);
    expect(r.stderr).toContain(`error: cannot write in folder ${RO}: read-only file system (EROFS)`);
    expect(existsSync(`${marking}.ran`)).toBe(false);
  });
});

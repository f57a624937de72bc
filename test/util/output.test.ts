/**
 * Atomic output files and the writable-folder check, on real filesystems: a tmpfs too small for the file
 * (ENOSPC) and a read-only tmpfs (EROFS). Those two need root to mount; without it they skip, saying why.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutputError } from '../../src/errors.js';
import { ensureWritableDir, writeFileAtomic } from '../../src/util/output.js';
import { fillDisk, mountTmpfs, unmount } from '../helpers.js';

// Mounted at load time: whether the tests below skip is decided when they are collected.
const dir = await mkdtemp(path.join(os.tmpdir(), 'bmru-output-test-'));
const full = path.join(dir, 'full');
const readOnly = path.join(dir, 'ro');
await mkdir(full);
await mkdir(readOnly);
const noMount = mountTmpfs(full, 'size=64k') ?? mountTmpfs(readOnly, 'ro,size=64k');
beforeAll(() => {
  if (noMount) console.log(`skipping the ENOSPC and EROFS tests: ${noMount}`);
});
afterAll(async () => {
  unmount(full);
  unmount(readOnly);
  await rm(dir, { recursive: true, force: true });
});

/** What a failed write threw, checked to be an OutputError. */
async function outputFailure(write: Promise<unknown>): Promise<OutputError> {
  const e = await write.then(
    () => new Error('expected the write to fail'),
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(OutputError);
  return e as OutputError;
}

describe('writeFileAtomic', () => {
  it('replaces a file whole and leaves no temporary file behind', async () => {
    const sub = path.join(dir, 'plain');
    await mkdir(sub);
    const file = path.join(sub, 'a.json');
    await writeFileAtomic(file, 'old');
    await writeFileAtomic(file, 'new');
    expect(await readFile(file, 'utf8')).toBe('new');
    expect(await readdir(sub)).toEqual(['a.json']);
  });

  it('names the file and says the folder does not exist', async () => {
    const file = path.join(dir, 'nowhere', 'a.json');
    const e = await outputFailure(writeFileAtomic(file, 'x'));
    expect(e.message).toBe(`cannot write ${file}: folder does not exist (ENOENT)`);
    expect(e).toMatchObject({ kind: 'unwritable', file, code: 'ENOENT' });
  });

  it.skipIf(noMount !== undefined)(
    'on a full disk: names the file, keeps the previous version whole, leaves no temporary file',
    async () => {
      const file = path.join(full, 'deck.cir');
      await writeFileAtomic(file, 'the previous deck\n');
      const e = await outputFailure(writeFileAtomic(file, 'x'.repeat(256 * 1024)));
      expect(e.message).toBe(`cannot write ${file}: disk full (ENOSPC)`);
      expect(await readFile(file, 'utf8')).toBe('the previous deck\n');
      expect(await readdir(full)).toEqual(['deck.cir']);
    },
  );

  it.skipIf(noMount !== undefined)('on a read-only file system: names the file', async () => {
    const e = await outputFailure(writeFileAtomic(path.join(readOnly, 'a.json'), '{}'));
    expect(e.message).toBe(`cannot write ${path.join(readOnly, 'a.json')}: read-only file system (EROFS)`);
  });
});

describe('ensureWritableDir', () => {
  it('creates the folder and leaves nothing in it', async () => {
    const sub = path.join(dir, 'made', 'deeper');
    await ensureWritableDir(sub);
    expect(await readdir(sub)).toEqual([]);
  });

  it('names a path that is a file', async () => {
    const file = path.join(dir, 'a-file');
    await writeFile(file, '');
    const e = await outputFailure(ensureWritableDir(path.join(file, 'out')));
    expect(e.message).toMatch(new RegExp(`^cannot create folder ${file}/out: .* \\((ENOTDIR|EEXIST)\\)$`));
  });

  it.skipIf(noMount !== undefined)(
    'refuses a read-only folder, and one it cannot create there, naming it',
    async () => {
      expect((await outputFailure(ensureWritableDir(readOnly))).message).toBe(
        `cannot write in folder ${readOnly}: read-only file system (EROFS)`,
      );
      const sub = path.join(readOnly, 'out');
      expect((await outputFailure(ensureWritableDir(sub))).message).toBe(
        `cannot create folder ${sub}: read-only file system (EROFS)`,
      );
      expect(existsSync(sub)).toBe(false);
    },
  );

  it.skipIf(noMount !== undefined)('refuses a folder on a full disk', async () => {
    const sub = path.join(full, 'probe-full');
    await mkdir(sub);
    const filler = fillDisk(full);
    try {
      expect((await outputFailure(ensureWritableDir(sub))).message).toBe(
        `cannot write in folder ${sub}: disk full (ENOSPC)`,
      );
      expect(await readdir(sub)).toEqual([]);
    } finally {
      await rm(filler);
    }
  });
});

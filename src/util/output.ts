/**
 * Writing output files so that a reader finds each one whole or not at all, and finding an unwritable output
 * folder before the work that fills it.
 *
 * A file is published by write-temp, fsync, rename, fsync of the folder (DESIGN §7): a full disk, a kill or a
 * power cut leaves the previous version or nothing, never a truncated file that looks valid, and no temporary
 * file once the error is reported. Errors name the file and say what the errno means.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { OutputError } from '../errors.js';

/** Errno codes a user can act on, in words. */
const ERRNO_WORDS: Readonly<Record<string, string>> = {
  ENOSPC: 'disk full',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOENT: 'folder does not exist',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EISDIR: 'is a folder',
  EIO: 'input/output error',
};

/** The error for a failed write of `file` (`what`: 'write' a file, 'create' or 'write in' a folder). */
export function outputError(error: unknown, file: string, what = 'write'): unknown {
  if (error instanceof OutputError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== 'string') return error; // not a system error: a bug, let it show as one
  const why = ERRNO_WORDS[code] ?? (error as Error).message;
  const e = new OutputError(file, code, `cannot ${what} ${file}: ${why} (${code})`);
  e.cause = error;
  return e;
}

/**
 * Writes `data` to `path` atomically: a temporary file beside it, fsync, rename over `path`, fsync of the folder.
 * The folder must exist.
 *
 * @throws OutputError naming `path` and the cause (`disk full (ENOSPC)`, `read-only file system (EROFS)`, ...);
 *   the temporary file is gone by then
 * @example
 *   await writeFileAtomic('out/report.json', JSON.stringify(report, null, 1) + '\n');
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  opts: { mode?: number } = {},
): Promise<void> {
  const dir = dirname(path);
  // A dot name: readers listing the folder skip it; pid + random bytes: concurrent writers never collide.
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const fh = await open(temp, 'wx', opts.mode ?? 0o666);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(temp, path);
  } catch (e) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw outputError(e, path);
  }
  await syncDir(dir).catch((e: unknown) => {
    throw outputError(e, path);
  });
}

/** fsync of a folder, so that a rename in it survives a power cut. */
async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * `mkdir -p dir`.
 *
 * @throws OutputError naming the folder
 */
export async function makeDir(dir: string): Promise<void> {
  try {
    await mkdirEachLevel(dir);
  } catch (e) {
    throw outputError(e, `folder ${dir}`, 'create');
  }
}

/**
 * `mkdir -p` one level at a time. Node's `mkdir(dir, { recursive: true })` reports ENOENT when a level cannot be
 * made on a read-only file system (or without permission): the real errno comes from a plain mkdir.
 */
async function mkdirEachLevel(dir: string): Promise<void> {
  try {
    await mkdir(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return; // a file there fails the first write in it, with ENOTDIR
    const parent = dirname(dir);
    if (code !== 'ENOENT' || parent === dir) throw e;
    await mkdirEachLevel(parent);
    await mkdir(dir).catch((again: NodeJS.ErrnoException) => {
      if (again.code !== 'EEXIST') throw again;
    });
  }
}

/**
 * Creates `dir` if needed and proves that files can be created in it (a probe file written, fsynced and
 * removed), so that a read-only, full or missing output folder stops a command before its simulations run.
 *
 * @throws OutputError naming the folder
 */
export async function ensureWritableDir(dir: string): Promise<void> {
  await makeDir(dir);
  const probe = join(dir, `.bmru-probe.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const fh = await open(probe, 'wx');
    try {
      await fh.writeFile('probe\n');
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (e) {
    throw outputError(e, `folder ${dir}`, 'write in');
  } finally {
    await rm(probe, { force: true }).catch(() => undefined);
  }
}

/** A file's text, or undefined when there is no such file (any other read error is thrown). */
export async function readTextIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

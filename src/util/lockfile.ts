/**
 * A lock file that many processes can race for with exactly one winner, and whose content (owner pid, host,
 * start time, a random token) is complete the moment the file exists.
 *
 * Taking it: write the content to a temporary file, fsync, then `link()` the temporary file to the lock's name;
 * `link` fails with EEXIST when the name exists, atomically, on local filesystems and NFS alike. (Creating the
 * file with O_EXCL and writing after would let a reader see it empty, and take it over as unreadable.)
 *
 * Taking over a lock whose owner died (its pid is gone on this host) must not remove a lock someone else has
 * just taken instead: the taker first hard-links the current lock to a claim name made from the stale lock's
 * token (`link` again, so one taker per stale lock), then reads the claim. Only if the claim is the stale lock
 * itself, which nobody else may now remove, does it unlink the lock; otherwise the lock changed in between and
 * it starts over. The claim goes last, after the lock, so a late taker can never claim that token while the
 * stale lock is still in place.
 */
import { createHash, randomBytes } from 'node:crypto';
import { link, open, rm, unlink } from 'node:fs/promises';
import os from 'node:os';
import { basename, dirname, join } from 'node:path';
import { readTextIfExists } from './output.js';
import { setTimeout as sleep } from 'node:timers/promises';

/** What a lock file says. */
export interface LockOwner {
  readonly pid: number;
  readonly host: string;
  readonly startedAt: string;
  /** Random, unique per lock taken: tells this lock from a later one of the same pid (absent in older locks). */
  readonly token?: string;
}

/** The outcome of `tryLock`. */
export type LockAttempt =
  | { readonly ok: true; readonly owner: LockOwner; readonly release: () => Promise<void> }
  /** `held`: a live process holds it (or one on another host, which cannot be checked). `unreadable`: the file
   * is not a lock this code wrote. `stuck`: its owner is dead but another takeover of it never finished. */
  | { readonly ok: false; readonly reason: 'held' | 'unreadable' | 'stuck'; readonly owner?: LockOwner };

/** Rounds of take / look / take over before giving up on a lock that keeps changing hands. */
const MAX_ROUNDS = 40;
/** Pause when another process is in the middle of taking over the same stale lock (ms). */
const BUSY_WAIT_MS = 25;

/**
 * Takes the lock file `file` (its folder must exist), taking over a lock left by a dead process of this host.
 *
 * @example
 *   const lock = await tryLock('/out/run.lock');
 *   if (!lock.ok) throw new Error(`held by pid ${lock.owner?.pid}`);
 *   try { ... } finally { await lock.release(); }
 */
export async function tryLock(file: string): Promise<LockAttempt> {
  const me = {
    pid: process.pid,
    host: os.hostname(),
    startedAt: new Date().toISOString(),
    token: randomBytes(8).toString('hex'),
  };
  let last: LockOwner | undefined;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    if (await publishLock(file, me)) return { ok: true, owner: me, release: () => releaseLock(file, me.token) };
    const held = await readLock(file);
    if (held === undefined) continue; // released between our try and our look
    if (held.owner === undefined) return { ok: false, reason: 'unreadable' };
    last = held.owner;
    if (held.owner.host !== me.host || processAlive(held.owner.pid))
      return { ok: false, reason: 'held', owner: held.owner };
    if ((await removeStale(file, held.identity)) === 'busy') await sleep(BUSY_WAIT_MS);
  }
  return { ok: false, reason: 'stuck', owner: last };
}

/** The claim name of a stale lock while one process takes it over. */
export function claimPath(file: string, identity: string): string {
  return join(dirname(file), `.${basename(file)}.takeover-${identity}`);
}

/** Creates `file` whole with the owner's content; false if it exists. */
async function publishLock(file: string, me: LockOwner): Promise<boolean> {
  const temp = join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const fh = await open(temp, 'wx');
    try {
      await fh.writeFile(`${JSON.stringify(me)}\n`);
      await fh.sync(); // the name must never point at content a crash can still lose
    } finally {
      await fh.close();
    }
    await link(temp, file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    await rm(temp, { force: true });
  }
}

/** Removes the stale lock of `identity` if it is still the one at `file`; `busy` if another process is at it. */
async function removeStale(file: string, identity: string): Promise<'removed' | 'changed' | 'busy'> {
  const claim = claimPath(file, identity);
  try {
    await link(file, claim);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'changed';
    if (code === 'EEXIST') return 'busy';
    throw e;
  }
  try {
    // The claim is a second name of whatever `file` was at the link: the stale lock, or a newer one.
    if ((await readLock(claim))?.identity !== identity) return 'changed';
    await unlink(file).catch(ignoreMissing);
    return 'removed';
  } finally {
    await rm(claim, { force: true });
  }
}

/** Removes the lock if it is still ours (a lock taken over from us is someone else's now). */
async function releaseLock(file: string, token: string): Promise<void> {
  if ((await readLock(file))?.identity === token) await unlink(file).catch(ignoreMissing);
}

/** A lock file as read: its owner if it names one, and what tells it from every other lock. */
interface HeldLock {
  readonly owner?: LockOwner;
  readonly identity: string;
}

/** Reads a lock file; undefined when there is none. */
export async function readLock(file: string): Promise<HeldLock | undefined> {
  const text = await readTextIfExists(file);
  if (text === undefined) return undefined;
  const owner = parseOwner(text);
  // Locks of older versions have no token: their content tells them apart (the start time is in ms).
  const identity = owner?.token ?? createHash('sha256').update(text).digest('hex').slice(0, 16);
  return { owner, identity };
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const raw = JSON.parse(text) as Partial<LockOwner>;
    if (typeof raw.pid !== 'number' || typeof raw.host !== 'string') return undefined;
    const token = typeof raw.token === 'string' && /^[0-9a-f]{1,64}$/.test(raw.token) ? raw.token : undefined;
    return {
      pid: raw.pid,
      host: raw.host,
      startedAt: String(raw.startedAt ?? '?'),
      ...(token === undefined ? {} : { token }),
    };
  } catch {
    return undefined;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function ignoreMissing(e: NodeJS.ErrnoException): void {
  if (e.code !== 'ENOENT') throw e;
}

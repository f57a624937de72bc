/**
 * run.lock under contention: six processes started together, fifty rounds, one winner per round, whether the
 * lock is free or left by a dead process. The racers are real node processes calling the compiled lock code
 * (dist/: build first, as for the CLI tests), since a race inside one event loop is no race.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimPath, readLock, tryLock } from '../../src/util/lockfile.js';
import { REPO_ROOT } from '../helpers.js';

const RACERS = 6;
const ROUNDS = 50;
/** A pid above the kernel's pid_max (2^22 at most): never alive. */
const DEAD_PID = 2 ** 22 + 1;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'bmru-lock-test-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/**
 * A racer: on `{ round, startAtMs }` it sleeps, then spins, until startAtMs, tries the lock once and answers
 * `{ round, won }`; a winner holds the lock until `{ release }`, so later racers of the round meet it.
 */
const RACER = (lockModule: string) => `
import { tryLock } from ${JSON.stringify(lockModule)};
let held;
process.on('message', async (m) => {
  if (m.release) {
    await held?.release();
    held = undefined;
    process.send({ released: true });
    return;
  }
  await new Promise((r) => setTimeout(r, Math.max(0, m.startAtMs - Date.now() - 5)));
  while (Date.now() < m.startAtMs);
  try {
    const lock = await tryLock(m.file);
    if (lock.ok) held = lock;
    process.send({ round: m.round, won: lock.ok, reason: lock.ok ? null : lock.reason });
  } catch (e) {
    process.send({ round: m.round, error: String(e && e.stack || e) });
  }
});
`;

function nextMessage<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`racer exited with ${code}`));
    child.once('exit', onExit);
    child.once('message', (m) => {
      child.off('exit', onExit);
      resolve(m as T);
    });
  });
}

describe('tryLock', () => {
  it('lets exactly one of six processes starting together win, free lock or stale, fifty rounds', async () => {
    const compiled = path.join(REPO_ROOT, 'dist', 'util', 'lockfile.js');
    if (!existsSync(compiled)) throw new Error('dist/ is missing: build with `npx tsc -p .` before this test');
    const script = path.join(dir, 'racer.mjs');
    await writeFile(script, RACER(pathToFileURL(compiled).href));
    const racers = Array.from({ length: RACERS }, () =>
      fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
    );
    const file = path.join(dir, 'run.lock');
    const winners: number[] = [];
    const startedMs = Date.now();
    try {
      for (let round = 0; round < ROUNDS; round++) {
        // Odd rounds start from a lock a killed run left: every racer tries to take it over at once.
        if (round % 2 === 1)
          await writeFile(
            file,
            JSON.stringify({ pid: DEAD_PID, host: os.hostname(), startedAt: `round ${round}`, token: `dead${round}` }),
          );
        const answers = racers.map((r) => nextMessage<{ won?: boolean; reason?: string; error?: string }>(r));
        const startAtMs = Date.now() + 30;
        for (const r of racers) r.send({ round, file, startAtMs });
        const got = await Promise.all(answers);
        for (const a of got) expect(a.error).toBeUndefined();
        winners.push(got.filter((a) => a.won).length);
        expect(got.filter((a) => !a.won).map((a) => a.reason)).toEqual(Array(RACERS - 1).fill('held'));
        const released = racers.map((r) => nextMessage(r));
        for (const r of racers) r.send({ release: true });
        await Promise.all(released);
        expect(existsSync(file)).toBe(false);
      }
    } finally {
      for (const r of racers) r.kill();
    }
    console.log(
      `lock race: ${ROUNDS} rounds of ${RACERS} racers in ${((Date.now() - startedMs) / 1000).toFixed(1)} s, winners per round: ${winners.join('')}`,
    );
    expect(winners).toEqual(Array(ROUNDS).fill(1));
    // No temporary file or takeover claim is left behind.
    expect((await readdir(dir)).sort()).toEqual(['racer.mjs']);
  });

  it('writes the owner whole: pid, host, start time and token', async () => {
    const file = path.join(dir, 'whole.lock');
    const lock = await tryLock(file);
    expect(lock.ok).toBe(true);
    const owner = JSON.parse(await readFile(file, 'utf8'));
    expect(owner).toMatchObject({
      pid: process.pid,
      host: os.hostname(),
      token: expect.stringMatching(/^[0-9a-f]{16}$/),
    });
    if (lock.ok) await lock.release();
    expect(existsSync(file)).toBe(false);
  });

  it('does not remove a lock taken over from it on release', async () => {
    const file = path.join(dir, 'stolen.lock');
    const lock = await tryLock(file);
    await writeFile(file, JSON.stringify({ pid: process.pid, host: os.hostname(), startedAt: 'later', token: 'beef' }));
    if (lock.ok) await lock.release();
    expect((await readLock(file))?.identity).toBe('beef');
    await rm(file);
  });

  it('waits out a takeover in progress, and reports it stuck if it never finishes', async () => {
    const file = path.join(dir, 'stuck.lock');
    await writeFile(file, JSON.stringify({ pid: DEAD_PID, host: os.hostname(), startedAt: 'then', token: 'dead' }));
    await writeFile(claimPath(file, 'dead'), 'a takeover that died half-way');
    const lock = await tryLock(file);
    expect(lock).toMatchObject({ ok: false, reason: 'stuck', owner: { pid: DEAD_PID } });
    await rm(claimPath(file, 'dead'));
    const again = await tryLock(file);
    expect(again.ok).toBe(true);
    if (again.ok) await again.release();
  });

  it('refuses a lock file it cannot read, and one held on another host', async () => {
    const file = path.join(dir, 'odd.lock');
    await writeFile(file, '');
    expect(await tryLock(file)).toMatchObject({ ok: false, reason: 'unreadable' });
    await writeFile(file, JSON.stringify({ pid: DEAD_PID, host: 'elsewhere', startedAt: 'then' }));
    expect(await tryLock(file)).toMatchObject({ ok: false, reason: 'held', owner: { host: 'elsewhere' } });
    await rm(file);
  });
});

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { scratchDir } from '../helpers.js';
import { keptItems, keptLine, keptNote, openKept, resultKey, runnerKeyFields } from '../../src/jobs/kept.js';

const Item = z.object({ key: z.string(), name: z.string(), value: z.number() });

describe('resultKey', () => {
  it('is the same for the same content in any key order and without callbacks, and differs for other content', () => {
    const a = resultKey({ x: 1, y: [1, 2], f: () => 1, u: undefined });
    expect(resultKey({ y: [1, 2], x: 1 })).toBe(a);
    expect(resultKey({ x: 1, y: [2, 1] })).not.toBe(a);
    expect(resultKey({ x: 2, y: [1, 2] })).not.toBe(a);
    // Typed arrays are their values: equal values, equal keys.
    expect(resultKey({ d: Float64Array.of(0.5, 1) })).toBe(resultKey({ d: Float64Array.of(0.5, 1) }));
    expect(resultKey({ d: Float64Array.of(0.5, 1) })).not.toBe(resultKey({ d: Float64Array.of(0.5, 2) }));
    expect(a).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('runnerKeyFields', () => {
  it('keeps what can change a result (threads, arguments, binary) and leaves out when a run stops', () => {
    const base = { threads: 2, extraArgs: ['-a'], ngspiceBin: '/usr/bin/ngspice' };
    const withTimeout = { ...base, timeoutMs: 5000 };
    expect(runnerKeyFields(withTimeout)).toEqual(base);
    expect(runnerKeyFields(undefined)).toEqual({ threads: undefined, extraArgs: undefined, ngspiceBin: undefined });
    const key = (run: object) => resultKey({ runner: runnerKeyFields(run) });
    expect(key({ ...base, timeoutMs: 1 })).toBe(key({ ...base, timeoutMs: 2 }));
    expect(key({ ...base, threads: 1 })).not.toBe(key(base));
    expect(key({ ...base, extraArgs: [] })).not.toBe(key(base));
    expect(key({ ...base, ngspiceBin: 'ngspice' })).not.toBe(key(base));
  });
});

describe('keptItems', () => {
  it('keeps the lines whose key this run has, and counts the others: another key, cut, not an item', () => {
    const text = [
      keptLine('k1', { name: 'a', value: 1 }),
      keptLine('old', { name: 'b', value: 2 }),
      keptLine('k3', { name: 'c', value: 3 }).slice(0, 20) + '\n',
      JSON.stringify({ key: 'k2', name: 'd' }) + '\n',
      '\n',
      keptLine('k2', { name: 'e', value: 5 }),
    ].join('');
    const { kept, skipped } = keptItems(text, Item, new Set(['k1', 'k2', 'k3']));
    expect([...kept]).toEqual([
      ['k1', { name: 'a', value: 1 }],
      ['k2', { name: 'e', value: 5 }],
    ]);
    expect(skipped).toBe(3);
  });

  it('passes over blank lines, also ones of spaces or a CRLF ending: they are no item and no dropped line', () => {
    const text = ['  \n', keptLine('k1', { name: 'a', value: 1 }), '\t\r\n', '\n'].join('');
    expect(keptItems(text, Item, new Set(['k1']))).toEqual({
      kept: new Map([['k1', { name: 'a', value: 1 }]]),
      skipped: 0,
    });
  });
});

describe('openKept', () => {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it('rewrites the file with the kept items only, then appends new ones in call order', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'bmru-kept-'));
    dirs.push(dir);
    const file = path.join(dir, 'items.jsonl');
    await writeFile(file, keptLine('k1', { name: 'a', value: 1 }) + keptLine('old', { name: 'b', value: 2 }));
    const store = await openKept(file, Item, new Set(['k1', 'k2', 'k3']));
    expect([...store.kept.keys()]).toEqual(['k1']);
    expect(store.skipped).toBe(1);
    expect(await readFile(file, 'utf8')).toBe(keptLine('k1', { name: 'a', value: 1 }));
    store.add('k3', { name: 'c', value: 3 });
    store.add('k2', { name: 'd', value: 4 });
    await store.flushed();
    expect(
      (await readFile(file, 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).key),
    ).toEqual(['k1', 'k3', 'k2']);
  });

  it('rewrites two kept items as the two lines they were, dropping the one between them', async () => {
    const dir = scratchDir('bmru-kept-');
    const file = path.join(dir, 'items.jsonl');
    const [a, b, c] = [
      keptLine('k1', { name: 'a', value: 1 }),
      keptLine('old', { name: 'b', value: 2 }),
      keptLine('k2', { name: 'c', value: 3 }),
    ];
    await writeFile(file, a + b + c);
    await openKept(file, Item, new Set(['k1', 'k2']));
    expect(await readFile(file, 'utf8')).toBe(a + c);
  });

  it('starts an empty file where there was none', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'bmru-kept-'));
    dirs.push(dir);
    const file = path.join(dir, 'none.jsonl');
    const store = await openKept(file, Item, new Set(['k1']));
    expect([store.kept.size, store.skipped]).toEqual([0, 0]);
    expect(await readFile(file, 'utf8')).toBe('');
  });
});

describe('keptNote', () => {
  it('names what was kept and how many lines were dropped, or nothing', () => {
    expect(keptNote('width', ['2', '3'], 'f.jsonl', 1)).toBe(
      ' (width 2, 3 kept from f.jsonl; 1 earlier line dropped (other code, inputs or options, or cut short))',
    );
    expect(keptNote('corner', [], 'f.jsonl', 2)).toBe(
      ' (2 earlier lines dropped (other code, inputs or options, or cut short))',
    );
    expect(keptNote('width', [], 'f.jsonl', 0)).toBe('');
  });
});

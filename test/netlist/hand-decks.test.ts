/**
 * The hand-written decks of netlists/ (docs/circuit-notes.md) run with `ngspice -b deck.cir` from any directory, so
 * every `.include` / `.lib` names a file relative to the deck's own folder: after a move, each target must still be
 * there. The GF180MCU decks reach the kit in shared/ beside the repository (as test/helpers.ts SHARED_DIR).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, SHARED_DIR } from '../helpers.js';

const NETLISTS = path.join(REPO_ROOT, 'netlists');

/** The include targets of a deck, as written. */
function includes(text: string): string[] {
  return [...text.matchAll(/^\s*\.(?:include|inc|lib)\s+("?)([^"\s]+)\1/gim)].map((m) => m[2]);
}

describe('netlists/', () => {
  const decks = readdirSync(NETLISTS, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.cir'))
    .sort();

  it('holds the hand-written decks of both processes (models/ keeps the cards and process definitions)', () => {
    for (const p of ['c180', 'gf180mcu'])
      for (const deck of ['cell.cir', 'mirror.cir', 'weakinv.cir', 'relu_knee.cir', 'options_check.cir'])
        expect(decks).toContain(path.join(p, deck));
    expect(existsSync(path.join(REPO_ROOT, 'models', 'c180', 'decks'))).toBe(false);
  });

  it('every include of every deck resolves from the deck folder', () => {
    const missing: string[] = [];
    for (const deck of decks) {
      const file = path.join(NETLISTS, deck);
      const targets = includes(readFileSync(file, 'utf8'));
      expect(targets.length, deck).toBeGreaterThan(0);
      for (const t of targets) {
        const resolved = path.resolve(path.dirname(file), t);
        // The kit sits in shared/ beside the checkout, wherever BMRU_SHARED moved it for this run.
        const where = resolved.startsWith(path.resolve(REPO_ROOT, '..', 'shared'))
          ? path.join(SHARED_DIR, path.relative(path.resolve(REPO_ROOT, '..', 'shared'), resolved))
          : resolved;
        if (!existsSync(where)) missing.push(`${deck}: ${t}`);
      }
    }
    expect(missing).toEqual([]);
  });
});

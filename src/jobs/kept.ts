/**
 * Results an analysis keeps from an earlier run of the same command: one JSON line per finished item in
 * `<out>/<name>.jsonl`, each with the key of what produced it (`resultKey`: the toolkit's code and every input that
 * decides the result). A rerun keeps the lines whose key it would compute again and runs only the rest; a line under
 * another key (other code, options or inputs) or cut by a kill is dropped, and its item runs again.
 */
import { createHash } from 'node:crypto';
import { appendFile } from 'node:fs/promises';
import type { z } from 'zod';
import type { Process } from '../netlist/process.js';
import type { RunOptions } from '../spice/runner.js';
import { readTextIfExists, writeFileAtomic } from '../util/output.js';
import { canonicalJson, deckFilesSha256, GENERATOR } from './plan.js';

/**
 * SHA-256 (16 hex digits) of this toolkit's code (jobs/plan.ts GENERATOR) and `content`. A JSON round trip first:
 * functions (callbacks) and undefined drop out as JSON drops them, typed arrays become plain data.
 */
export function resultKey(content: unknown): string {
  return createHash('sha256')
    .update(canonicalJson(JSON.parse(JSON.stringify({ generator: GENERATOR, content }))))
    .digest('hex')
    .slice(0, 16);
}

/**
 * The ngspice run options that can change a result, for a `resultKey`: threads, extra arguments, the binary. The rest
 * (timeouts, progress callbacks, abort signals) decide whether a run finishes, not what it computes.
 */
export function runnerKeyFields(run: Pick<RunOptions, 'threads' | 'extraArgs' | 'ngspiceBin'> | undefined): object {
  return { threads: run?.threads, extraArgs: run?.extraArgs, ngspiceBin: run?.ngspiceBin };
}

/**
 * A process as a `resultKey` sees it: every deck's lines with the files they include by content (jobs/plan.ts
 * `deckFilesSha256`), and without its folder. A kit moved or seen from another clone keeps its results; a model card
 * edited in place does not.
 */
export async function processKeyFields(process: Process): Promise<object> {
  const { dir: _d, deckLines, corners, ...rest } = process;
  const cornerDecks = await Promise.all(
    Object.entries(corners).map(async ([name, lines]) => [name, await deckFilesSha256(lines)] as const),
  );
  return { ...rest, deckLines: await deckFilesSha256(deckLines), corners: Object.fromEntries(cornerDecks) };
}

/** One line of a kept-results file: the item and its key. */
export function keptLine(key: string, item: object): string {
  return JSON.stringify({ key, ...item }) + '\n';
}

/**
 * The items of kept-results text whose key is in `keys`, by key; `skipped` counts the other non-empty lines (another
 * key, not JSON, or not what `schema` expects).
 */
export function keptItems<S extends z.ZodType<{ key: string }>>(
  text: string,
  schema: S,
  keys: ReadonlySet<string>,
): { kept: Map<string, Omit<z.infer<S>, 'key'>>; skipped: number } {
  const kept = new Map<string, Omit<z.infer<S>, 'key'>>();
  let skipped = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let parsed;
    try {
      parsed = schema.safeParse(JSON.parse(line));
    } catch {
      // not JSON (a line cut by a kill): `parsed` stays undefined and the line counts as skipped
    }
    if (!parsed?.success || !keys.has(parsed.data.key)) {
      skipped++;
      continue;
    }
    const { key, ...item } = parsed.data;
    kept.set(key, item);
  }
  return { kept, skipped };
}

/** A kept-results file opened for one run: what it kept, and an append for each new item as it finishes. */
export interface KeptFile<T> {
  readonly file: string;
  readonly kept: Map<string, T>;
  readonly skipped: number;
  /** Appends one finished item; appends are chained in call order. */
  add(key: string, item: object): void;
  /** Resolves when every append so far is written. */
  flushed(): Promise<void>;
}

/**
 * Reads `file` for this run's `keys` and rewrites it (whole or not at all) with only the items kept, so that it holds
 * this run's items only.
 */
export async function openKept<S extends z.ZodType<{ key: string }>>(
  file: string,
  schema: S,
  keys: ReadonlySet<string>,
): Promise<KeptFile<Omit<z.infer<S>, 'key'>>> {
  const { kept, skipped } = keptItems((await readTextIfExists(file)) ?? '', schema, keys);
  await writeFileAtomic(file, [...kept].map(([k, item]) => keptLine(k, item as object)).join(''));
  let written = Promise.resolve();
  return {
    file,
    kept,
    skipped,
    add(key, item) {
      written = written.then(() => appendFile(file, keptLine(key, item)));
    },
    flushed: () => written,
  };
}

/** What a run says about a kept-results file: `width 2, 3 kept from <file>; 1 earlier line dropped (...)`, or ''. */
export function keptNote(what: string, keptLabels: readonly string[], file: string, skipped: number): string {
  const notes = [
    ...(keptLabels.length ? [`${what} ${keptLabels.join(', ')} kept from ${file}`] : []),
    ...(skipped
      ? [`${skipped} earlier line${skipped === 1 ? '' : 's'} dropped (other code, inputs or options, or cut short)`]
      : []),
  ];
  return notes.length ? ` (${notes.join('; ')})` : '';
}

/**
 * Every command's flags, read from the yargs definitions themselves: the table in docs/flags.md is generated
 * from here (`node scripts/flags-table.mjs`), and a test checks that a short flag means one long option
 * everywhere and that the committed table is current.
 */
import os from 'node:os';
import yargs, { type Argv } from 'yargs';
import { PACKAGE_ROOT } from '../util/paths.js';
import { COMMANDS } from './main.js';

/** One flag of one command. */
export interface FlagRow {
  readonly command: string;
  readonly flag: string;
  readonly short: string;
  readonly type: string;
  readonly default: string;
  readonly describe: string;
}

interface Definition {
  readonly builder?: unknown;
}

/** yargs' own options, which every command has. */
const BUILT_IN = new Set(['help', 'version', 'h']);

/** A default as the table shows it: machine-dependent values (cores, this checkout's path) in words. */
function defaultText(key: string, def: unknown): string {
  if (def === undefined) return '';
  if (key === 'workers' && def === os.availableParallelism()) return 'all cores';
  return JSON.stringify(def).replaceAll(PACKAGE_ROOT, '<package>');
}

/** The flags of a command built by `builder`, and of its subcommands (`analyze noise`, `batch run`, ...). */
function flagsOf(command: string, builder: unknown): FlagRow[] {
  const y = yargs([]) as Argv;
  if (typeof builder === 'function') builder(y);
  const rows: FlagRow[] = [];
  const o = (y as unknown as { getOptions(): unknown }).getOptions() as {
    key: Record<string, boolean>;
    alias: Record<string, string[]>;
    default: Record<string, unknown>;
    string: string[];
    boolean: string[];
    number: string[];
    array: string[];
  };
  const shorts = new Set(Object.values(o.alias).flat());
  const descriptions = (
    y as unknown as {
      getInternalMethods(): { getUsageInstance(): { getDescriptions(): Record<string, string | undefined> } };
    }
  )
    .getInternalMethods()
    .getUsageInstance()
    .getDescriptions();
  for (const key of Object.keys(o.key)) {
    if (BUILT_IN.has(key) || shorts.has(key)) continue;
    const type = o.boolean.includes(key)
      ? 'boolean'
      : o.number.includes(key)
        ? 'number'
        : o.array.includes(key)
          ? 'array'
          : 'string';
    const def = o.default[key];
    rows.push({
      command,
      flag: `--${key}`,
      short: (o.alias[key] ?? [])
        .filter((a) => a.length === 1)
        .map((a) => `-${a}`)
        .join(' '),
      type,
      default: defaultText(key, def),
      describe: (descriptions[key] ?? '').replace(/\s+/g, ' '),
    });
  }
  const handlers = (
    y as unknown as {
      getInternalMethods(): {
        getCommandInstance(): { getCommandHandlers(): Record<string, Definition & { original: string }> };
      };
    }
  )
    .getInternalMethods()
    .getCommandInstance()
    .getCommandHandlers();
  for (const [name, h] of Object.entries(handlers)) rows.push(...flagsOf(`${command} ${name}`, h.builder));
  return rows;
}

/** Every command's flags, loading each command module. */
export async function commandFlags(): Promise<FlagRow[]> {
  const rows: FlagRow[] = [];
  for (const c of COMMANDS) rows.push(...flagsOf(c.name, (await c.load()).builder));
  return rows;
}

/** One `.example(...)` of a command's --help, `$0` as `bmru`. */
export interface HelpExample {
  readonly command: string;
  readonly example: string;
  readonly description: string;
}

/** The examples of a command built by `builder` and of its subcommands (yargs keeps them without a getter). */
function examplesOf(command: string, builder: unknown): HelpExample[] {
  const y = yargs([]) as Argv;
  const own: HelpExample[] = [];
  const example = y.example.bind(y);
  const record = (cmd: string | [string, string?][], description?: string): Argv => {
    for (const [e, d] of Array.isArray(cmd) ? cmd : [[cmd, description] as const])
      own.push({ command, example: e.replaceAll('$0', 'bmru'), description: d ?? '' });
    return example(cmd as string, description as string);
  };
  Object.assign(y, { example: record });
  if (typeof builder === 'function') builder(y);
  const handlers = (
    y as unknown as {
      getInternalMethods(): { getCommandInstance(): { getCommandHandlers(): Record<string, Definition> } };
    }
  )
    .getInternalMethods()
    .getCommandInstance()
    .getCommandHandlers();
  return [...own, ...Object.entries(handlers).flatMap(([name, h]) => examplesOf(`${command} ${name}`, h.builder))];
}

/** Every example of every command's --help, loading each command module. */
export async function commandExamples(): Promise<HelpExample[]> {
  const out: HelpExample[] = [];
  for (const c of COMMANDS) out.push(...examplesOf(c.name, (await c.load()).builder));
  return out;
}

/** Short flags that stand for different long options in different commands. */
export function shortFlagClashes(rows: readonly FlagRow[]): { short: string; flags: string[] }[] {
  const byShort = new Map<string, Set<string>>();
  for (const r of rows)
    for (const s of r.short.split(' ').filter(Boolean)) byShort.set(s, (byShort.get(s) ?? new Set()).add(r.flag));
  return [...byShort].filter(([, f]) => f.size > 1).map(([short, f]) => ({ short, flags: [...f].sort() }));
}

/** The table as Markdown (docs/flags.md). */
export function flagsMarkdown(rows: readonly FlagRow[]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [
    '# Command-line flags',
    '',
    'Generated from the yargs definitions by `node scripts/flags-table.mjs`; `test/cli/flags.test.ts` fails when it is',
    'out of date or when a short flag means different options in different commands.',
    '',
    '| command | flag | short | type | default | what it does |',
    '|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.command} | \`${r.flag}\` | ${r.short ? `\`${r.short}\`` : ''} | ${r.type} | ${esc(r.default)} | ${esc(r.describe)} |`,
    ),
    '',
  ].join('\n');
}

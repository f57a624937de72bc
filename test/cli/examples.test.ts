/**
 * Every example of every command's --help parses: each command line of it (`a && b` is two) goes through bmru's own
 * parser (strict flags, choices, positionals, the commands' .check rules) without running the command.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandExamples } from '../../src/cli/flags.js';
import { dryParse } from '../../src/cli/main.js';
import { REPO_ROOT } from '../helpers.js';

const examples = await commandExamples();

/** Values for the shell variables the examples use; a new one must be added here (the test says which). */
const VARIABLES: Readonly<Record<string, string>> = { SLURM_ARRAY_TASK_ID: '0', USER: 'user' };

/** A command line as a POSIX shell splits it: words, '...' and "..." quoting, $VAR; `&&` separates commands. */
function shellCommands(line: string): string[][] {
  const commands: string[][] = [[]];
  const re = /'([^']*)'|"([^"]*)"|(&&)|(\s+)|([^\s'"]+)/gy;
  let word: string | undefined;
  const end = () => {
    if (word !== undefined) commands.at(-1)!.push(word);
    word = undefined;
  };
  const expand = (text: string) =>
    text.replace(/\$([A-Za-z_]\w*)/g, (_, name: string) => {
      if (!(name in VARIABLES)) throw new Error(`example uses $${name}: give it a value in VARIABLES`);
      return VARIABLES[name];
    });
  for (const m of line.matchAll(re)) {
    const [, single, double, and, space, bare] = m;
    if (space !== undefined) end();
    else if (and !== undefined) {
      end();
      commands.push([]);
    } else word = (word ?? '') + (single ?? expand(double ?? bare));
  }
  end();
  return commands;
}

/** `.example(` calls in the command sources: each must be found through yargs. */
function exampleCallsInSources(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce(
    (n, e) =>
      n +
      (e.isDirectory()
        ? exampleCallsInSources(path.join(dir, e.name))
        : e.name.endsWith('.ts')
          ? (readFileSync(path.join(dir, e.name), 'utf8').match(/\.example\(/g) ?? []).length
          : 0),
    0,
  );
}

describe('--help examples', () => {
  it('finds every .example() of src/cli/commands through the yargs definitions', () => {
    expect(examples.length).toBe(exampleCallsInSources(path.join(REPO_ROOT, 'src', 'cli', 'commands')));
    expect(examples.length).toBeGreaterThan(50);
  });

  it.each(examples.map((e) => [e.command, e.example] as const))('%s: %s parses', async (_, example) => {
    for (const words of shellCommands(example)) {
      expect(words[0], example).toBe('bmru');
      expect(await dryParse(words.slice(1)), words.join(' ')).toBeUndefined();
    }
  });
});

describe('the dry parse', () => {
  it('reports what bmru would: an unknown flag, a failed check, a missing positional, an unknown command', async () => {
    expect(await dryParse(['compare', '--bogus'])).toBe('Unknown argument: bogus');
    expect(await dryParse(['compare', '--unit-current', '0'])).toMatch(/--unit-current must be a current in A > 0/);
    expect(await dryParse(['batch', 'run', 'plan.yaml', '-j', '0'])).toMatch(/--workers must be an integer >= 1/);
    expect(await dryParse(['batch', 'run'])).toMatch(/Not enough non-option arguments/);
    expect(await dryParse(['batch'])).toMatch(/Name a batch command/);
    expect(await dryParse(['simulte'])).toBe('Did you mean simulate?');
  });

  it('runs no command, nor a subcommand', async () => {
    const out = path.join(os.tmpdir(), `bmru-dry-${process.pid}.json`);
    expect(await dryParse(['simulate', '-o', out])).toBeUndefined();
    expect(existsSync(out)).toBe(false);
    // The plan does not exist: run, batch run would fail reading it.
    expect(await dryParse(['batch', 'run', path.join(os.tmpdir(), 'no-such-plan.yaml')])).toBeUndefined();
  });

  it('splits command lines as a shell does', () => {
    expect(shellCommands(`bmru a --x "" && bmru b --s "m n" -o /s/$USER/p 'q r'`)).toEqual([
      ['bmru', 'a', '--x', ''],
      ['bmru', 'b', '--s', 'm n', '-o', '/s/user/p', 'q r'],
    ]);
  });
});

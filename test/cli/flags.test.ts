import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandFlags, flagsMarkdown, shortFlagClashes } from '../../src/cli/flags.js';
import { REPO_ROOT } from '../helpers.js';

const rows = await commandFlags();

describe('command-line flags', () => {
  it('reads every command and subcommand (and finds their flags)', () => {
    const commands = new Set(rows.map((r) => r.command));
    for (const c of ['compare', 'analyze noise', 'batch submit', 'fidelity check', 'kws', 'spice'])
      expect(commands).toContain(c);
    expect(rows.find((r) => r.command === 'compare' && r.flag === '--tolerances')?.short).toBe('-t');
  });

  it('gives each short flag one meaning across commands', () => {
    expect(shortFlagClashes(rows)).toEqual([]);
  });

  it('docs/flags.md is the table the definitions give (regenerate: npm run build && node scripts/flags-table.mjs)', () => {
    expect(readFileSync(path.join(REPO_ROOT, 'docs', 'flags.md'), 'utf8')).toBe(flagsMarkdown(rows));
  });

  it('finds a clash when there is one', () => {
    const row = { command: 'x', type: 'string', default: '', describe: '' };
    expect(
      shortFlagClashes([
        { ...row, flag: '--process', short: '-p' },
        { ...row, command: 'y', flag: '--partition', short: '-p' },
      ]),
    ).toEqual([{ short: '-p', flags: ['--partition', '--process'] }]);
  });
});

/** The `bmru` command line: thin commands over the library (one file per command in ./commands). */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { BmruError } from '../errors.js';
import { SpiceError, SpiceTimeoutError } from '../spice/errors.js';
import { RawfileError } from '../spice/rawfile.js';
import * as analyze from './commands/analyze.js';
import * as batch from './commands/batch.js';
import * as calibrateCmd from './commands/calibrate.js';
import * as compare from './commands/compare.js';
import * as exportCmd from './commands/export.js';
import * as fidelity from './commands/fidelity.js';
import * as features from './commands/features.js';
import * as kws from './commands/kws.js';
import * as kwsData from './commands/kws-data.js';
import * as simulate from './commands/simulate.js';
import * as spice from './commands/spice.js';
import * as train from './commands/train.js';
import { EXIT_ERROR } from './exit.js';

export { EXIT_ERROR };

/** Commands whose options live on their subcommands, and those subcommands. */
const GROUPS: Readonly<Record<string, readonly string[]>> = {
  analyze: ['power', 'noise', 'montecarlo', 'corners', 'hwaware'],
  batch: ['run', 'submit', 'status', 'report'],
  fidelity: ['check', 'baseline'],
};

/** Parses `argv` (without node and the script) and runs the command it names. */
export async function main(argv: string[]): Promise<void> {
  const named = [simulate, exportCmd, spice, compare, calibrateCmd, analyze, batch, fidelity, kwsData, features, train, kws].some((c) => c.command.split(' ')[0] === argv[0]);
  // Commands with subcommands keep the options on the subcommand: point at `bmru analyze noise --help`, not at
  // `bmru analyze --help`, which does not list them.
  const sub = named && GROUPS[argv[0]]?.includes(argv[1]) ? ` ${argv[1]}` : '';
  const help = named ? `bmru ${argv[0]}${sub} --help` : 'bmru --help';
  await yargs(argv)
    .scriptName('bmru')
    .usage('$0 <command> [options]\n\nCo-simulate FQ-BMRU recurrent networks: software model vs transistor-level ngspice circuit.')
    .command(simulate)
    .command(exportCmd)
    .command(spice)
    .command(compare)
    .command(calibrateCmd)
    .command(analyze)
    .command(kwsData)
    .command(features)
    .command(batch)
    .command(fidelity)
    .command(train)
    .command(kws)
    .demandCommand(1, 'Name a command; `bmru compare` runs the shipped example end to end.')
    .strict()
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .wrap(null)
    .fail((msg, err) => {
      // A usage error comes as a message (a failed .check also as err, a string); a command's error as an Error.
      if (err instanceof Error && err.name !== 'YError') throw err;
      console.error(`error: ${msg ?? String(err)} (see ${help})`);
      process.exit(EXIT_ERROR);
    })
    .parseAsync();
}

/**
 * One line for a failure: the message of an expected error (bad input, ngspice failure, an unreadable or
 * unwritable file), the stack of anything else, which is a bug.
 */
function describeFailure(e: unknown): string {
  if (e instanceof SpiceTimeoutError) return `${e.message}; allow more time with --timeout <seconds>`;
  if (e instanceof BmruError || e instanceof SpiceError || e instanceof RawfileError) return e.message;
  if (e instanceof Error && typeof (e as NodeJS.ErrnoException).syscall === 'string') return e.message; // fs errors
  return `internal error, please report it: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`;
}

main(hideBin(process.argv)).catch((e: unknown) => {
  console.error(`error: ${describeFailure(e)}`);
  process.exitCode = EXIT_ERROR;
});

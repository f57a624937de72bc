/** The `bmru` command line: thin commands over the library (one file per command in ./commands). */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { BmruError } from '../errors.js';
import { SpiceError } from '../spice/errors.js';
import * as compare from './commands/compare.js';
import * as exportCmd from './commands/export.js';
import * as simulate from './commands/simulate.js';
import * as spice from './commands/spice.js';

/** Exit code for errors (bad input, ngspice failure); 1 is reserved for "fidelity below tolerance". */
export const EXIT_ERROR = 2;

export async function main(argv: string[]): Promise<void> {
  await yargs(argv)
    .scriptName('bmru')
    .usage('$0 <command> [options]\n\nCo-simulate FQ-BMRU recurrent networks: software model vs transistor-level ngspice circuit.')
    .command(simulate)
    .command(exportCmd)
    .command(spice)
    .command(compare)
    .demandCommand(1, 'Name a command; `bmru compare` runs the shipped example end to end.')
    .strict()
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .wrap(null)
    .fail((msg, err, y) => {
      if (err) throw err;
      console.error(`${y.help()}\n\n${msg}`);
      process.exit(EXIT_ERROR);
    })
    .parseAsync();
}

main(hideBin(process.argv)).catch((e: unknown) => {
  if (e instanceof BmruError || e instanceof SpiceError) {
    console.error(`error: ${e.message}`);
  } else {
    console.error(e);
  }
  process.exitCode = EXIT_ERROR;
});

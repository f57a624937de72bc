/** The `bmru` command line: thin commands over the library (one file per command in ./commands). */
import yargs, { type CommandModule } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { BmruError } from '../errors.js';
import { SpiceTimeoutError } from '../spice/errors.js';
import { EXIT_ERROR } from './exit.js';

export { EXIT_ERROR };

/** A command's module: its builder and handler (typed by its own options). */
interface Loaded {
  readonly builder?: unknown;
  readonly handler: (args: never) => void | Promise<void>;
}

/**
 * Every command once: its usage as yargs reads it, the line `bmru --help` lists, and how to load it. Only the
 * named command's module is imported, so `bmru --help` and a typo pay for none of them (all twelve, with
 * vega, mathjs and the audio stack behind them, cost 1.0-1.8 s CPU on every start).
 */
export const COMMANDS: readonly {
  readonly name: string;
  readonly usage?: string;
  readonly describe: string;
  readonly load: () => Promise<Loaded>;
}[] = [
  {
    name: 'simulate',
    describe: 'Run the software model and write its full trace (candidates, states, block outputs, logits, decision)',
    load: () => import('./commands/simulate.js'),
  },
  {
    name: 'export',
    describe:
      'Write the ngspice netlist of a model driven by an input clip, with its parameter -> element mapping table',
    load: () => import('./commands/export.js'),
  },
  {
    name: 'spice',
    usage: 'spice <deck>',
    describe: 'Run a netlist through ngspice in batch mode and summarise the rawfile (or dump vectors as CSV)',
    load: () => import('./commands/spice.js'),
  },
  {
    name: 'raw',
    usage: 'raw <file>',
    describe:
      'Summarise a rawfile of ngspice, Xyce, LTspice or QSPICE (which wrote it, encoding, layout; every plot) or dump it as CSV',
    load: () => import('./commands/raw.js'),
  },
  {
    name: 'compare',
    describe:
      'Software model vs transistor-level circuit on the same clip: state agreement, errors, switching delay, power, pass/fail',
    load: () => import('./commands/compare.js'),
  },
  {
    name: 'calibrate',
    describe:
      'Measure what the cell and the mirrors realise on a process (ngspice DC sweeps), store the tables, verify them',
    load: () => import('./commands/calibrate.js'),
  },
  {
    name: 'analyze',
    describe:
      'Circuit analyses on top of the co-simulation: power (and scaling), noise, Monte Carlo, corners, hardware-aware model',
    load: () => import('./commands/analyze.js'),
  },
  {
    name: 'kws-data',
    describe:
      'Generate a synthetic keyword set ("yes" vs other words and silence) with espeak-ng and sox, in the Speech Commands layout',
    load: () => import('./commands/kws-data.js'),
  },
  {
    name: 'features',
    usage: 'features <path>',
    describe: 'MFCC features of a keyword data set (<label>/<file>.wav folders) or of one WAV clip',
    load: () => import('./commands/features.js'),
  },
  {
    name: 'batch',
    describe:
      'Batch jobs from a plan (models x inputs x processes x corners x seeds): run them on a local worker pool or as a Slurm job array, show status, report aggregates',
    load: () => import('./commands/batch.js'),
  },
  {
    name: 'fidelity',
    describe:
      'CI fidelity regression: run a suite (a batch plan) and check it against its tolerances and a stored baseline; JUnit XML + Markdown',
    load: () => import('./commands/fidelity.js'),
  },
  {
    name: 'train',
    describe:
      'Train an FQ-BMRU keyword spotter ("yes" vs others, or N classes: silence, unknown, keywords) on a features file with surrogate gradients; writes the model file every command reads',
    load: () => import('./commands/train.js'),
  },
  {
    name: 'kws',
    describe:
      'Keyword spotting end to end: test clips through the trained network in software and through its circuit in ngspice; accuracy, agreement, power',
    load: () => import('./commands/kws.js'),
  },
];

/** Commands whose options live on their subcommands, and those subcommands. */
const GROUPS: Readonly<Record<string, readonly string[]>> = {
  analyze: ['power', 'noise', 'montecarlo', 'corners', 'hwaware'],
  batch: ['run', 'submit', 'status', 'report'],
  fidelity: ['check', 'baseline'],
};

/** What yargs knows of the options declared (its `getOptions()`, untyped in @types/yargs). */
interface OptionKinds {
  string: string[];
  number: string[];
  array: string[];
  alias: Record<string, string[]>;
}

/**
 * A flag that takes a value given none (`simulate -m`, last or followed by another flag): yargs reads it as '' and
 * the command ran its default instead (issue 15). True, or the error naming the flag.
 */
export function flagsWithoutValue(argv: readonly string[], options: OptionKinds): true | string {
  const valued = new Set([...options.string, ...options.number, ...options.array]);
  const canonical = (name: string) =>
    Object.entries(options.alias).find(([k, as]) => k === name || as.includes(name))?.[0] ?? name;
  for (let i = 0; i < argv.length; i++) {
    const t = argv[i];
    if (t === '--') break;
    const m = /^--?([A-Za-z][\w-]*)$/.exec(t);
    if (!m) continue;
    const next = argv[i + 1];
    const hasValue = next !== undefined && !(next.startsWith('-') && !/^-\d|^-\.\d/.test(next));
    const name = canonical(m[1]);
    if (!hasValue && valued.has(name)) return `--${name} expects a value`;
  }
  return true;
}

/** The parser of `argv`: the named command in full, the others by name; strict (an unknown flag is an error). */
async function parserFor(argv: string[], dryHandler?: () => void) {
  const entry = COMMANDS.find((c) => c.name === argv[0]);
  const module = entry ? await entry.load() : undefined;
  const loaded = module && dryHandler ? { ...module, handler: dryHandler } : module;
  const cli = yargs(argv)
    .scriptName('bmru')
    .usage(
      '$0 <command> [options]\n\nCo-simulate FQ-BMRU recurrent networks: software model vs transistor-level ngspice circuit.',
    );
  // The named command in full; the others by name and description only, for the command list.
  if (dryHandler) {
    // Subcommands (`batch run`) are declared in their group's builder, on this same instance: their handlers too.
    const command = cli.command.bind(cli) as (...args: unknown[]) => unknown;
    const dry = (...args: unknown[]) =>
      command(
        ...args.map((a) => (typeof a === 'object' && a !== null && 'handler' in a ? { ...a, handler: dryHandler } : a)),
      );
    Object.assign(cli, { command: dry });
  }
  for (const c of COMMANDS) {
    const command = c.usage ?? c.name;
    if (c === entry && loaded) cli.command({ ...loaded, command, describe: c.describe } as unknown as CommandModule);
    else cli.command(command, c.describe);
  }
  return cli
    .demandCommand(1, 'Name a command; `bmru compare` runs the shipped example end to end.')
    .check(() => flagsWithoutValue(argv, (cli as unknown as { getOptions(): OptionKinds }).getOptions()), true)
    .strict()
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .wrap(null);
}

/** Parses `argv` (without node and the script) and runs the command it names. */
export async function main(argv: string[]): Promise<void> {
  const named = COMMANDS.some((c) => c.name === argv[0]);
  // Commands with subcommands keep the options on the subcommand: point at `bmru analyze noise --help`, not at
  // `bmru analyze --help`, which does not list them.
  const sub = named && GROUPS[argv[0]]?.includes(argv[1]) ? ` ${argv[1]}` : '';
  const help = named ? `bmru ${argv[0]}${sub} --help` : 'bmru --help';
  await (
    await parserFor(argv)
  )
    .fail((msg, err, y) => {
      // A usage error comes as a message (a failed .check also as err, a string); a command's error as an Error.
      if (err instanceof Error && err.name !== 'YError') throw err;
      if (argv.length === 0) y.showHelp(); // bare `bmru`: the command list is what the user needs
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
  if (e instanceof BmruError) return e.message;
  if (e instanceof Error && typeof (e as NodeJS.ErrnoException).syscall === 'string') return e.message; // fs errors
  return `internal error, please report it: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`;
}

/** Runs the command line of this process (bin/bmru.js calls it); failures print one line and set exit code 2. */
export function run(): Promise<void> {
  return main(hideBin(process.argv)).catch((e: unknown) => {
    console.error(`error: ${describeFailure(e)}`);
    process.exitCode = EXIT_ERROR;
  });
}

/**
 * Parse `argv` as `bmru` does, with every check (strict flags, choices, positionals, the commands' .check rules),
 * but run no command (each handler is replaced by one that only notes it was reached): undefined when it parses,
 * else the usage error bmru would print. For the --help examples.
 */
export async function dryParse(argv: string[]): Promise<string | undefined> {
  let error: string | undefined;
  let reached = false;
  const parser = (await parserFor(argv, () => void (reached = true)))
    .exitProcess(false)
    // Called for a usage error; parsing may go on, so the first message is kept.
    .fail((msg, err) => {
      error ??= msg ?? String(err);
    });
  try {
    await parser.parseAsync();
  } catch (e) {
    error ??= e instanceof Error ? e.message : String(e);
  }
  return error ?? (reached ? undefined : 'no command handler was reached (only a group named, or --help)');
}

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Argv } from 'yargs';
import { InputError } from '../../errors.js';
import { controlLines, transientStopS } from '../../spice/deck.js';
import { runNgspice } from '../../spice/runner.js';
import { progress, transientProgress } from '../progress.js';
import { table } from '../format.js';
import { timeoutOption } from '../common.js';
import { writeFileAtomic } from '../../util/output.js';
import { absoluteIncludes } from '../../spice/export.js';
import { choosePlots, plotSummaryJson, printPlotSummaries, summarisePlots, writePlotCsvs } from '../plot-summary.js';

export function builder(y: Argv) {
  const deck = y
    .positional('deck', {
      type: 'string',
      demandOption: true,
      describe:
        'netlist (.cir); circuit only (no .control, *# or *ng_script lines unless --allow-control); relative includes are found from its folder',
    })
    .option('csv', {
      type: 'string',
      describe:
        'write plots as CSV at full resolution: FILE for one plot, FILE with the plot name added (out.transient-analysis.csv) for several; complex values as re()/im() columns',
    })
    .option('plot', {
      type: 'string',
      describe:
        'only this plot: its whole name (case-insensitive, "AC Analysis"), a short form (op, dc, ac, tran, noise, inoise, tf, pz, sens) or its number from 1; none or several matching is an error listing the plots',
      defaultDescription: 'every plot',
    })
    .option('json', {
      type: 'string',
      describe: 'write the summary, the .meas results and where the .print tables went as JSON',
    })
    .option('vectors', {
      type: 'string',
      describe: 'read only these vectors, comma-separated (v(out),i(v1)); the scale always comes along',
      defaultDescription: 'all',
    });
  return timeoutOption(deck, 600)
    .option('keep', {
      type: 'boolean',
      default: false,
      describe: 'keep the work directory (deck, rawfile) even on success',
    })
    .option('hsa', {
      type: 'boolean',
      default: false,
      describe: 'HSPICE compatibility (-D ngbehavior=hsa), needed by the GF180MCU wrappers',
    })
    .option('allow-control', {
      type: 'boolean',
      default: false,
      describe:
        'run a deck with lines ngspice executes as commands (.control blocks, *# comments, *ng_script): they can run shell commands, so only for decks you wrote; the verdict then rests on the rawfile alone',
    })
    .example(
      '$0 spice out/export-kws-example-clip-101-c180/deck.cir --csv waves.csv',
      'simulate an exported deck, every vector to CSV',
    )
    .example(
      '$0 spice rc.cir --plot AC --csv ac.csv',
      'one plot of a multi-analysis deck; complex values as re/im columns',
    )
    .epilogue(
      '.meas results and .print tables are measured in a second ngspice run without -r (ngspice 39 skips both while writing a rawfile) and reported; .print tables go to <deck>.print.txt.',
    );
}

interface Args {
  deck: string;
  csv?: string;
  plot?: string;
  json?: string;
  timeout: number;
  keep: boolean;
  hsa: boolean;
  allowControl: boolean;
  vectors?: string;
}

export async function handler(a: Args): Promise<void> {
  const text = await readFile(a.deck, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new InputError(`cannot read deck file (${e.code ?? e.message})`, { file: a.deck });
  });
  const commands = controlLines(text);
  if (commands.length > 0 && !a.allowControl) {
    throw new InputError(
      `line ${commands.slice(0, 5).join(', ')}: expected a circuit-only deck, found lines ngspice runs as commands (.control, '*#' or '*ng_script'), which can run shell commands; ` +
        're-run with --allow-control if you wrote this deck and mean it',
      { file: a.deck },
    );
  }
  const netlist = absoluteIncludes(text, path.dirname(path.resolve(a.deck)));
  const p = progress(`ngspice ${a.deck}`);
  const r = await runNgspice({
    netlist,
    allowControl: a.allowControl,
    readVectors: a.vectors
      ?.split(',')
      .map((v) => v.trim())
      .filter(Boolean),
    name: 'spice',
    timeoutMs: a.timeout * 1000,
    keepWorkDir: a.keep ? 'always' : 'onFailure',
    extraArgs: a.hsa ? ['-D', 'ngbehavior=hsa'] : [],
    onProgress: transientProgress(p, transientStopS(netlist)),
  }).catch((e: unknown) => {
    p.stop();
    throw e;
  });
  p.done();
  const chosen = choosePlots(r.plots, a.plot, 'the run wrote');
  const summaries = summarisePlots(chosen);
  printPlotSummaries(summaries);
  if (r.measurements && r.measurements.length > 0) {
    console.log('\n.meas results (second run without -r):');
    console.log(
      table(
        ['analysis', 'name', 'value', 'more'],
        r.measurements.map((m) => [
          m.analysis,
          m.name,
          m.value === null ? `failed: ${m.error}` : m.value.toExponential(6),
          Object.entries(m.extra)
            .map(([k, v]) => `${k}=${v}`)
            .join(' '),
        ]),
      ),
    );
  }
  let printFile: string | undefined;
  if (r.printed) {
    printFile = `${a.deck.replace(/\.[^./]+$/, '')}.print.txt`;
    await writeFileAtomic(printFile, r.printed);
    console.log(`\n.print tables: ${printFile}`);
  }
  const warnings = r.messages.filter((m) => m.severity === 'warning');
  if (warnings.length > 0) console.log(`${warnings.length} warnings, e.g. ${warnings[0].text}`);
  console.log(
    `ngspice ${r.ngspiceVersion}, ${(r.durationMs / 1000).toFixed(2)} s${r.workDir ? `, kept in ${r.workDir}` : ''}`,
  );
  if (a.csv) {
    const files = await writePlotCsvs(a.csv, chosen);
    console.log(`wrote ${files.join(', ')}`);
  }
  if (a.json) {
    const json = {
      deck: a.deck,
      ngspiceVersion: r.ngspiceVersion,
      plots: plotSummaryJson(summaries),
      measurements: r.measurements ?? [],
      printFile: printFile ?? null,
    };
    await writeFileAtomic(a.json, JSON.stringify(json, null, 1) + '\n');
    console.log(`wrote ${a.json}`);
  }
}

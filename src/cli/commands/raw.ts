/** `bmru raw <file>`: summarise or export a rawfile written by ngspice, Xyce, LTspice or QSPICE (src/spice/rawother.ts). */
import type { Argv } from 'yargs';
import { readAnyRawfile } from '../../spice/rawother.js';
import { writeFileAtomic } from '../../util/output.js';
import { choosePlots, plotSummaryJson, printPlotSummaries, summarisePlots, writePlotCsvs } from '../plot-summary.js';

export function builder(y: Argv) {
  return y
    .positional('file', {
      type: 'string',
      demandOption: true,
      describe:
        'rawfile (.raw, .qraw) of ngspice, Xyce, LTspice or QSPICE: ASCII (UTF-8 or UTF-16LE) or binary (ngspice/Xyce float64, LTspice float32/double/fastaccess); QSPICE binary is refused',
    })
    .option('csv', {
      type: 'string',
      describe:
        'write plots as CSV at full resolution: FILE for one plot, FILE with the plot name added for several; complex values as re()/im() columns',
    })
    .option('plot', {
      type: 'string',
      describe:
        'only this plot: its whole name (case-insensitive, "AC Analysis"), a short form (op, dc, ac, tran, noise, inoise, tf, pz, sens) or its number from 1; none or several matching is an error listing the plots',
      defaultDescription: 'every plot',
    })
    .option('json', {
      type: 'string',
      describe: 'write the summary, the writer, encoding and layout found, and the warnings as JSON',
    })
    .example('$0 raw ac.qraw --csv ac.csv', 'a QSPICE AC rawfile: summary, and every vector as re/im columns')
    .epilogue(
      'The writer is told from the Command: line (LTspice, QSPICE) or, without one, from how values are printed (ngspice %.15e, Xyce %.8e). ' +
        'LTspice binary files (float32, fastaccess) are read from the layout and were not tested on a file LTspice wrote (docs/raw.md).',
    );
}

interface Args {
  file: string;
  csv?: string;
  plot?: string;
  json?: string;
}

export async function handler(a: Args): Promise<void> {
  const raw = await readAnyRawfile(a.file);
  console.log(
    `${a.file}: written by ${raw.writer} (${raw.writerEvidence}); ${raw.encoding}, ${raw.layout}` +
      (raw.valueFormat ? ` (${raw.valueFormat})` : ''),
  );
  for (const w of raw.warnings) console.log(`warning: ${w}`);
  const chosen = choosePlots(raw.plots, a.plot, 'the file holds');
  const summaries = summarisePlots(chosen);
  printPlotSummaries(summaries);
  if (a.csv) {
    const files = await writePlotCsvs(a.csv, chosen);
    console.log(`wrote ${files.join(', ')}`);
  }
  if (a.json) {
    const json = {
      file: a.file,
      writer: raw.writer,
      writerEvidence: raw.writerEvidence,
      encoding: raw.encoding,
      layout: raw.layout,
      valueFormat: raw.valueFormat ?? null,
      warnings: raw.warnings,
      plots: plotSummaryJson(summaries),
    };
    await writeFileAtomic(a.json, JSON.stringify(json, null, 1) + '\n');
    console.log(`wrote ${a.json}`);
  }
}

import { readFile } from 'node:fs/promises';
import type { Argv } from 'yargs';
import { InputError } from '../../errors.js';
import { controlLines, transientStopS } from '../../spice/deck.js';
import { runNgspice } from '../../spice/runner.js';
import { progress, transientProgress } from '../progress.js';
import { table } from '../format.js';
import { timeoutOption } from '../common.js';
import { writeFileAtomic } from '../../util/output.js';


export function builder(y: Argv) {
  const deck = y
    .positional('deck', { type: 'string', demandOption: true, describe: 'netlist (.cir); circuit only (no .control, *# or *ng_script lines unless --allow-control); includes with absolute paths' })
    .option('csv', { type: 'string', describe: 'write the last plot as CSV (one column per vector)' })
    .option('vectors', { type: 'string', describe: 'read only these vectors, comma-separated (v(out),i(v1)); the scale always comes along', defaultDescription: 'all' });
  return timeoutOption(deck, 600)
    .option('keep', { type: 'boolean', default: false, describe: 'keep the work directory (deck, rawfile) even on success' })
    .option('hsa', { type: 'boolean', default: false, describe: 'HSPICE compatibility (-D ngbehavior=hsa), needed by the GF180MCU wrappers' })
    .option('allow-control', {
      type: 'boolean', default: false,
      describe: 'run a deck with lines ngspice executes as commands (.control blocks, *# comments, *ng_script): they can run shell commands, so only for decks you wrote; the verdict then rests on the rawfile alone',
    })
    .example('$0 spice netlists/example/deck.cir --csv waves.csv', 'simulate an exported deck');
}

export async function handler(a: { deck: string; csv?: string; timeout: number; keep: boolean; hsa: boolean; allowControl: boolean; vectors?: string }): Promise<void> {
  const netlist = await readFile(a.deck, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new InputError(`cannot read deck file (${e.code ?? e.message})`, { file: a.deck });
  });
  const commands = controlLines(netlist);
  if (commands.length > 0 && !a.allowControl) {
    throw new InputError(
      `line ${commands.slice(0, 5).join(', ')}: expected a circuit-only deck, found lines ngspice runs as commands (.control, '*#' or '*ng_script'), which can run shell commands; ` +
        're-run with --allow-control if you wrote this deck and mean it',
      { file: a.deck },
    );
  }
  const p = progress(`ngspice ${a.deck}`);
  const r = await runNgspice({
    netlist, allowControl: a.allowControl, readVectors: a.vectors?.split(',').map((v) => v.trim()).filter(Boolean), name: 'spice', timeoutMs: a.timeout * 1000, keepWorkDir: a.keep ? 'always' : 'onFailure', extraArgs: a.hsa ? ['-D', 'ngbehavior=hsa'] : [],
    onProgress: transientProgress(p, transientStopS(netlist)),
  }).catch((e: unknown) => {
    p.stop();
    throw e;
  });
  p.done();
  for (const plot of r.plots) {
    console.log(`${plot.plotname}: ${plot.numPoints} points, ${plot.vectors.length} vectors${plot.complex ? ' (complex)' : ''}`);
  }
  const last = r.plots[r.plots.length - 1];
  if (last) {
    console.log(table(['vector', 'type', 'first', 'last'], last.vectors.slice(0, 40).map((v, i) => [v.name, v.type, last.real[i][0].toExponential(4), last.real[i][last.numPoints - 1].toExponential(4)])));
    if (last.vectors.length > 40) console.log(`... ${last.vectors.length - 40} more vectors`);
  }
  const warnings = r.messages.filter((m) => m.severity === 'warning');
  if (warnings.length > 0) console.log(`${warnings.length} warnings, e.g. ${warnings[0].text}`);
  console.log(`ngspice ${r.ngspiceVersion}, ${(r.durationMs / 1000).toFixed(2)} s${r.workDir ? `, kept in ${r.workDir}` : ''}`);
  if (a.csv && last) {
    const lines = [last.vectors.map((v) => v.name).join(',')];
    for (let i = 0; i < last.numPoints; i++) lines.push(last.real.map((col) => col[i]).join(','));
    await writeFileAtomic(a.csv, lines.join('\n') + '\n');
    console.log(`wrote ${a.csv}`);
  }
}

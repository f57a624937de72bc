import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Argv } from 'yargs';
import { generateNetlist } from '../../netlist/generate.js';
import { portableDeckLines } from '../../netlist/process.js';
import { mappingSummary, writeMappingCsv } from '../../netlist/mapping.js';
import { networkToJson } from '../../model/json-format.js';
import { runNetwork } from '../../model/network.js';
import { traceStateAgreement } from '../../compare/metrics.js';
import { pct } from '../format.js';
import { ensureWritableDir, writeFileAtomic } from '../../util/output.js';
import { formatMappingWorst, formatNearTies, LISTED_NEAR_TIES } from '../report.js';
import { nearTies, nearTiesCsvRows } from '../../compare/neartie.js';
import { writeCsv } from '../csv.js';
import { annotateMapping } from '../../netlist/ranges.js';
import {
  checkCircuit,
  intAtLeast,
  loadModelAndInputs,
  loadProcessAndCalibration,
  modelOptions,
  outName,
  processOptions,
  writeClamps,
  type CircuitArgs,
} from '../common.js';

export function builder(y: Argv) {
  return processOptions(modelOptions(y))
    .option('out', {
      alias: 'o',
      type: 'string',
      describe: 'output folder',
      defaultDescription: 'out/export-<model>-<inputs>-<process>',
    })
    .option('near-ties', {
      type: 'number',
      default: LISTED_NEAR_TIES,
      describe: 'near-tie thresholds listed on the terminal (all of them go to near-ties.csv)',
    })
    .check((a) => intAtLeast('near-ties', a['near-ties'], 0))
    .example('$0 export -o netlists/example', 'deck.cir + mapping.csv/json + realised.json for the shipped example')
    .example('$0 export -p gf180mcu --kit ~/pdk/gf180mcu', 'the same circuit on your GF180MCU kit')
    .epilogue(
      [
        "Near ties: the realised cell thresholds that a candidate of the clip (realised model) sits within the process's",
        'resolution of (3% or 5 pA, whichever is larger: the calibration verify rule), where the state depends on the side,',
        'with the unit-frames each decides: near-ties.csv, the first few on the terminal.',
        'Run the deck yourself with: ngspice -b -r out.raw deck.cir (or: bmru spice deck.cir). The model files of the',
        'process folder (the embedded c180 card) are copied beside the deck and included by name, so the folder runs',
        "wherever it is copied to; a kit's files (GF180MCU) keep their absolute path, which the output names.",
      ].join('\n'),
    );
}

export async function handler(
  a: CircuitArgs & {
    inputs: string;
    process: string;
    kit?: string;
    calibrated: boolean;
    out?: string;
    nearTies: number;
  },
): Promise<void> {
  const loaded = await loadModelAndInputs(a);
  const { process, calibration } = await loadProcessAndCalibration(a);
  const { net, clamps } = checkCircuit(loaded.net, process, calibration, a);
  const inputs = loaded.inputs;
  // A deck that runs where it is copied to: the process folder's model files go beside it, included by name.
  const portable = portableDeckLines(process.deckLines, process.dir);
  const g = generateNetlist(net, inputs, {
    process,
    calibration,
    // The file name only: a deck handed on must not carry this machine's paths.
    title: `bmru-cosim: ${basename(a.model)}`,
    maxTransistors: a.maxTransistors,
    deckLines: portable.lines,
  });
  const out = a.out ?? join('out', outName('export', a.model, process.name, a.inputs));
  await ensureWritableDir(out); // after the checks: a refused model leaves no folder behind
  const mapping = annotateMapping(g.mapping, clamps);
  // Each file whole or not at all (a full disk leaves no 0-byte deck that ngspice would run).
  await writeFileAtomic(join(out, 'deck.cir'), g.deck);
  // Through the atomic writer: a full disk names the file and leaves no partial card.
  for (const c of portable.copies) await writeFileAtomic(join(out, c.name), await readFile(c.from));
  await writeMappingCsv(join(out, 'mapping.csv'), mapping);
  await writeFileAtomic(join(out, 'mapping.json'), JSON.stringify(mapping, null, 1) + '\n');
  await writeClamps(out, clamps);
  await writeFileAtomic(join(out, 'probes.json'), JSON.stringify(g.probes, null, 1) + '\n');
  await writeFileAtomic(
    join(out, 'realised.json'),
    networkToJson(g.realised, 'parameters as the circuit realises them'),
  );
  const realisedTrace = runNetwork(g.realised, inputs);
  const near = nearTies(net, g.realised, realisedTrace);
  await writeCsv(join(out, 'near-ties.csv'), nearTiesCsvRows(near));
  const m = mappingSummary(mapping, net.unitCurrentA);
  console.log(
    `${process.name}: ${g.transistors} transistors, ${m.rows} mapped elements, ${calibration ? 'calibrated' : 'uncalibrated (identity transfer)'}`,
  );
  console.log(`worst realised-vs-trained error: ${formatMappingWorst(m)}`);
  console.log(
    `on this clip the realised model keeps ${pct(traceStateAgreement(runNetwork(net, inputs), realisedTrace))} of the trained model's states`,
  );
  console.log(formatNearTies(near, g.realised.unitCurrentA, undefined, a.nearTies));
  console.log(
    `wrote ${join(out, 'deck.cir')}, ${portable.copies.map((c) => `${c.name}, `).join('')}mapping.csv, mapping.json, probes.json, realised.json, near-ties.csv${clamps.length > 0 ? `, clamped.json (${clamps.length} values clamped)` : ''}`,
  );
  if (portable.external.length > 0)
    console.log(`the deck includes files outside its folder (the kit): ${portable.external.join(', ')}`);
}

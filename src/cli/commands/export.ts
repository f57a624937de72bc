import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Argv } from 'yargs';
import { generateNetlist } from '../../netlist/generate.js';
import { mappingSummary, writeMappingCsv } from '../../netlist/mapping.js';
import { networkToJson } from '../../model/json-format.js';
import { pct } from '../format.js';
import { annotateMapping } from '../../netlist/ranges.js';
import { checkCircuit, loadModelAndInputs, loadProcessAndCalibration, modelOptions, processOptions, writeClamps, type CircuitArgs } from '../common.js';

export const command = 'export';
export const describe = 'Write the ngspice netlist of a model driven by an input clip, with its parameter -> element mapping table';

export function builder(y: Argv) {
  return processOptions(modelOptions(y))
    .option('out', { alias: 'o', type: 'string', default: 'netlists/out', describe: 'output folder' })
    .example('$0 export -o netlists/example', 'deck.cir + mapping.csv/json + realised.json for the shipped example')
    .example('$0 export -p gf180mcu --kit ~/pdk/gf180mcu', 'the same circuit on your GF180MCU kit')
    .epilogue('Run the deck yourself with: ngspice -b -r out.raw deck.cir (or: bmru spice deck.cir)');
}

export async function handler(a: CircuitArgs & { inputs: string; process: string; kit?: string; calibrated: boolean; out: string }): Promise<void> {
  const loaded = await loadModelAndInputs(a);
  const { process, calibration } = await loadProcessAndCalibration(a);
  const { net, clamps } = checkCircuit(loaded.net, process, calibration, a);
  const g = generateNetlist(net, loaded.inputs, { process, calibration, title: `bmru-cosim: ${a.model}`, maxTransistors: a.maxTransistors });
  const mapping = annotateMapping(g.mapping, clamps);
  await mkdir(a.out, { recursive: true });
  await writeFile(join(a.out, 'deck.cir'), g.deck);
  await writeMappingCsv(join(a.out, 'mapping.csv'), mapping);
  await writeFile(join(a.out, 'mapping.json'), JSON.stringify(mapping, null, 1) + '\n');
  await writeClamps(a.out, clamps);
  await writeFile(join(a.out, 'probes.json'), JSON.stringify(g.probes, null, 1) + '\n');
  await writeFile(join(a.out, 'realised.json'), networkToJson(g.realised, 'parameters as the circuit realises them'));
  const m = mappingSummary(mapping);
  console.log(`${process.name}: ${g.transistors} transistors, ${m.rows} mapped elements, ${calibration ? 'calibrated' : 'uncalibrated (identity transfer)'}`);
  console.log(`worst realised-vs-trained error ${pct(m.maxRelError)}${m.worst ? ` at ${m.worst.parameter} (${m.worst.element})` : ''}`);
  console.log(`wrote ${join(a.out, 'deck.cir')}, mapping.csv, mapping.json, probes.json, realised.json${clamps.length > 0 ? `, clamped.json (${clamps.length} values clamped)` : ''}`);
}

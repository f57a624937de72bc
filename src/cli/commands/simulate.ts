import type { Argv } from 'yargs';
import { runCumulative } from '../../model/cumulative.js';
import { runNetwork } from '../../model/network.js';
import { traceCsvRows, traceToJson } from '../../model/trace.js';
import { writeFileAtomic } from '../../util/output.js';
import { writeCsv } from '../csv.js';
import { checkOutputFolder, loadModelAndInputs, modelOptions } from '../common.js';

export function builder(y: Argv) {
  return modelOptions(y)
    .option('out', {
      alias: 'o',
      type: 'string',
      describe:
        "write the trace: .json (nested, like conformance expected.json) or .csv (one row per frame x block x unit: candidate, state, state current, vote, block output, the frame's logits)",
    })
    .check((a) =>
      a.out === undefined || /\.(json|csv)$/i.test(a.out)
        ? true
        : `--out ${a.out}: expected a file ending in .json or .csv (the trace's format follows the extension)`,
    )
    .example('$0 simulate', 'the shipped example clip; prints votes and the decision')
    .example('$0 simulate -m model.safetensors -i clip.csv -o trace.csv', 'a trained model, trace as CSV');
}

export async function handler(a: { model: string; inputs: string; out?: string }): Promise<void> {
  if (a.out) checkOutputFolder(a.out);
  const { net, inputs } = await loadModelAndInputs(a, { circuit: false });
  const tr = net.arch === 'fq-bmru' ? runNetwork(net, inputs) : runCumulative(net, inputs);
  if (a.out && /\.csv$/i.test(a.out)) await writeCsv(a.out, traceCsvRows(net, tr));
  else if (a.out) await writeFileAtomic(a.out, JSON.stringify(traceToJson(net, tr)) + '\n');
  // A cumulative state is a count: ON is a positive one.
  const ones = tr.states.map((s: ArrayLike<number>) => Array.from(s).filter((x) => x > 0).length);
  console.log(
    `${inputs.frames} frames, ${net.blocks.length} blocks x ${net.cells} cells${net.arch === 'fq-bmru' ? '' : ` (arch ${net.arch})`}; ON unit-frames per block: ${ones.join(', ')}`,
  );
  console.log(`votes: ${Array.from(tr.votes).join('')}`);
  console.log(`decision: class ${tr.decision}`);
  if (a.out) console.log(`trace written to ${a.out}`);
}

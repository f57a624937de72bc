import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  loadInputs,
  loadModel,
  runNetwork,
  runNetworkBatch,
  runNetworkScan,
  traceToJson,
  type InputSequence,
  type Network,
} from '../../src/model/index.js';
import { CONFORMANCE_DIR, close } from '../helpers.js';

/** DESIGN §1b / conformance README: states exactly, floats to 1e-9 relative. */
const FLOAT_REL = 1e-9;
/** Absolute floor so that values which cancel to ~0 are compared sensibly (float64 rounding of F32 sums). */
const FLOAT_ABS = 1e-12;

const cases = readdirSync(CONFORMANCE_DIR, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);

function expectClose(actual: number[][][] | number[][], expected: number[][][] | number[][], what: string): void {
  const a = actual.flat(2) as number[];
  const e = expected.flat(2) as number[];
  expect(a.length, `${what} length`).toBe(e.length);
  const bad = a.findIndex((v, i) => !close(v, e[i], FLOAT_REL, FLOAT_ABS));
  expect(bad, `${what}[${bad}]: ${a[bad]} vs ${e[bad]}`).toBe(-1);
}

describe('software model reproduces the independent conformance vectors', () => {
  it('finds the conformance cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(4);
  });

  for (const name of cases) {
    describe(name, () => {
      const dir = join(CONFORMANCE_DIR, name);

      for (const [label, run] of [
        ['frame loop', runNetwork],
        ['associative scan', runNetworkScan],
        // The clip twice in one batch: the second copy must not see the first one's cell states.
        ['batch (WebAssembly)', (n: Network, x: InputSequence) => runNetworkBatch(n, [x, x])[1]],
      ] as const) {
        // Loaded in the test, not while vitest collects the file: Stryker then sees which tests cover the loaders.
        it(`${label}: states match exactly, floats to 1e-9, same votes and decision`, async () => {
          const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8'));
          const net = await loadModel(join(dir, 'model.safetensors'));
          const inputs = await loadInputs(join(dir, 'inputs.csv'));
          const got = traceToJson(net, run(net, inputs));
          expect(got.states).toEqual(expected.states);
          expectClose(got.candidates, expected.candidates, 'candidates');
          expectClose(got.block_outputs, expected.block_outputs, 'block_outputs');
          expectClose(got.logits, expected.logits, 'logits');
          expect(got.votes).toEqual(expected.votes);
          expect(got.decision).toBe(expected.decision);
        });
      }
    });
  }
});

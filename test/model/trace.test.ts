/** The long-format trace CSV rows and the nested-array trace, on a network small enough to compute by hand. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runNetwork, traceCsvRows, traceToJson, writeTraceCsv, type Network } from '../../src/model/index.js';
import { scratchDir } from '../helpers.js';

const m = (rows: number, cols: number, ...v: number[]) => ({ rows, cols, data: Float64Array.from(v) });
const lin = (w: ReturnType<typeof m>, ...b: number[]) => ({ weight: w, bias: Float64Array.from(b) });

/**
 * F = 1, H = 2, S = 1 (no skip), C = 2: h = (x, 0.25 - x); c = max(h1, 0) + max(h2, 0); the cell has
 * beta_lo 0.5, beta_hi 1.5, alpha 2, starts OFF; block output relu(2 s + 0.25, -2 s + 0.5); logits (y1, y2 + 0.1).
 */
const tiny: Network = {
  arch: 'fq-bmru',
  inputs: 1,
  width: 2,
  cells: 1,
  classes: 2,
  skip: false,
  unitCurrentA: 1e-9,
  frameS: 0.01,
  cellParams: 'raw',
  pre: lin(m(2, 1, 1, -1), 0, 0.25),
  blocks: [
    {
      cand: lin(m(1, 2, 1, 1), 0),
      cell: {
        alpha: Float64Array.of(-2),
        beta1: Float64Array.of(0.5),
        delta: Float64Array.of(1),
        s0: Float64Array.of(0),
      },
      post: lin(m(2, 1, 1, -1), 0.25, 0.5),
    },
  ],
  out: lin(m(2, 2, 1, 0, 0, 1), 0, 0.1),
};

describe('trace CSV', () => {
  it('has each block output and the frame logits beside the cells, by hand on a 1-2-1-2 network', () => {
    // x = 2: h = (2, -1.75), c = 2 >= 1.5: ON; y = (2.25, 0); logits (2.25, 0.1), vote 0.
    // x = 1: h = (1, -0.75), c = 1 in [0.5, 1.5): holds ON; the same outputs.
    // x = 0.125: h = (0.125, 0.125), c = 0.25 < 0.5: OFF; y = (0.25, 0.5); logits (0.25, 0.6), vote 1.
    const tr = runNetwork(tiny, { frames: 3, features: 1, data: Float64Array.of(2, 1, 0.125) });
    expect(traceCsvRows(tiny, tr)).toEqual([
      ['frame', 'block', 'unit', 'candidate', 'state', 'state_current', 'vote', 'block_output', 'logit_0', 'logit_1'],
      [0, 0, 0, 2, 1, 2, 0, 2.25, 2.25, 0.1],
      [0, 0, 1, '', '', '', 0, 0, 2.25, 0.1], // H = 2 > S = 1: the second unit is a block output only
      [1, 0, 0, 1, 1, 2, 0, 2.25, 2.25, 0.1],
      [1, 0, 1, '', '', '', 0, 0, 2.25, 0.1],
      [2, 0, 0, 0.25, 0, 0, 1, 0.25, 0.25, 0.6],
      [2, 0, 1, '', '', '', 1, 0.5, 0.25, 0.6],
    ]);
  });

  it('leaves block_output empty for the cells beyond the width (S > H)', () => {
    const wide: Network = {
      ...tiny,
      width: 1,
      cells: 2,
      pre: lin(m(1, 1, 1), 0),
      blocks: [
        {
          cand: lin(m(2, 1, 1, 2), 0, 0),
          cell: {
            alpha: Float64Array.of(1, 1),
            beta1: Float64Array.of(0.5, 0.5),
            delta: Float64Array.of(1, 1),
            s0: Float64Array.of(0, 0),
          },
          post: lin(m(1, 2, 1, 1), 0),
        },
      ],
      out: lin(m(2, 1, 1, -1), 0, 0),
    };
    // x = 1: c = (1, 2): cell 0 holds OFF, cell 1 ON; y = 1; logits (1, -1).
    // x = 2: c = (2, 4): both ON; y = 2; logits (2, -2). Two cells per frame: frame 1's are at 2 and 3.
    const rows = traceCsvRows(wide, runNetwork(wide, { frames: 2, features: 1, data: Float64Array.of(1, 2) }));
    expect(rows.slice(1)).toEqual([
      [0, 0, 0, 1, 0, 0, 0, 1, 1, -1],
      [0, 0, 1, 2, 1, 1, 0, '', 1, -1],
      [1, 0, 0, 2, 1, 1, 0, 2, 2, -2],
      [1, 0, 1, 4, 1, 1, 0, '', 2, -2],
    ]);
  });
});

describe('trace as nested arrays and as a file', () => {
  // The frames of the first test above: x = 2, 1, 0.125.
  const clip = { frames: 3, features: 1, data: Float64Array.of(2, 1, 0.125) };

  it('traceToJson gives [L][T][S], [L][T][H], [T][C], the votes and the decision (2 of 3 frames vote 0)', () => {
    expect(traceToJson(tiny, runNetwork(tiny, clip))).toEqual({
      candidates: [[[2], [1], [0.25]]],
      states: [[[1], [1], [0]]],
      block_outputs: [
        [
          [2.25, 0],
          [2.25, 0],
          [0.25, 0.5],
        ],
      ],
      logits: [
        [2.25, 0.1],
        [2.25, 0.1],
        [0.25, 0.6],
      ],
      votes: [0, 0, 1],
      decision: 0,
    });
  });

  it('traceToJson of no frames is empty per block', () => {
    expect(traceToJson(tiny, runNetwork(tiny, { frames: 0, features: 1, data: new Float64Array(0) }))).toEqual({
      candidates: [[]],
      states: [[]],
      block_outputs: [[]],
      logits: [],
      votes: [],
      decision: expect.any(Number),
    });
  });

  it('writeTraceCsv writes the rows as comma-separated lines', async () => {
    const path = join(scratchDir('bmru-trace-'), 'trace.csv');
    await writeTraceCsv(path, tiny, runNetwork(tiny, { frames: 1, features: 1, data: Float64Array.of(0.125) }));
    // x = 0.125: c = 0.25, OFF; y = (0.25, 0.5); logits (0.25, 0.6), vote 1.
    expect(readFileSync(path, 'utf8')).toBe(
      'frame,block,unit,candidate,state,state_current,vote,block_output,logit_0,logit_1\n' +
        '0,0,0,0.25,0,0,1,0.25,0.25,0.6\n' +
        '0,0,1,,,,1,0.5,0.25,0.6',
    );
  });

  it('writeTraceCsv rejects when the file cannot be written', async () => {
    const dir = scratchDir('bmru-trace-');
    await expect(
      writeTraceCsv(dir, tiny, runNetwork(tiny, { frames: 1, features: 1, data: Float64Array.of(1) })),
    ).rejects.toThrow(/EISDIR/);
  });
});

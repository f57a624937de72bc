/**
 * noise-runs.jsonl lines that are not a transient's boundary values (noise-circuit.ts `NoiseRunLineSchema`): each is
 * refused with the field named, so jobs/kept.ts drops it and the run is made again. The expectations are the rules
 * the schema's comment and `BoundaryFrames` state: a level is a fraction >= 0, frames a positive count, states 0 or 1.
 */
import { describe, expect, it } from 'vitest';
import { NoiseRunLineSchema } from '../../src/analysis/noise-circuit.js';

const line = {
  key: 'k',
  level: 0,
  circuit: { frames: 2, candidates: [[0.5, 0.25]], stateCurrents: [[0, 1]], states: [[0, 1]] },
  stateAgreement: 1,
  decisionMatch: true,
  ngspiceS: 3,
};
const paths = (l: unknown) => NoiseRunLineSchema.safeParse(l).error?.issues.map((i) => i.path);

describe('NoiseRunLineSchema', () => {
  it('takes the clean run (level 0) and one frame', () => {
    expect(NoiseRunLineSchema.parse(line)).toEqual(line);
    expect(paths({ ...line, circuit: { ...line.circuit, frames: 1 } })).toBeUndefined();
  });

  it('refuses a negative level, frames that are not a positive count, a state that is not 0 or 1, a NaN written as null', () => {
    expect(paths({ ...line, level: -0.1 })).toEqual([['level']]);
    expect(paths({ ...line, circuit: { ...line.circuit, frames: 0 } })).toEqual([['circuit', 'frames']]);
    expect(paths({ ...line, circuit: { ...line.circuit, frames: 1.5 } })).toEqual([['circuit', 'frames']]);
    expect(paths({ ...line, circuit: { ...line.circuit, states: [[0, 2]] } })).toEqual([['circuit', 'states', 0, 1]]);
    expect(paths({ ...line, circuit: { ...line.circuit, states: [[0.5, 1]] } })).toEqual([['circuit', 'states', 0, 0]]);
    // JSON.stringify writes a NaN candidate as null.
    const nan = JSON.parse(JSON.stringify({ ...line, circuit: { ...line.circuit, candidates: [[NaN, 0.25]] } }));
    expect(paths(nan)).toEqual([['circuit', 'candidates', 0, 0]]);
    expect(paths({ ...line, decisionMatch: 1 })).toEqual([['decisionMatch']]);
  });
});

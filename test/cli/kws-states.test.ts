import { describe, expect, it } from 'vitest';
import { STATE_CATEGORIES, stateRaster } from '../../src/cli/commands/kws.js';

describe("kws.html's cell-state raster", () => {
  it('gives each unit a row and each frame a column, coloured by agreement, from frame-major states', () => {
    // 3 frames x 2 units, frame-major (t * S + j). Unit 0: both OFF, circuit ON alone, both ON.
    // Unit 1: both ON, software ON alone, both OFF.
    const software = [0, 1, 0, 1, 1, 0];
    const circuit = [0, 1, 1, 0, 1, 0];
    const spec = stateRaster(software, circuit, 3, 'block 0');
    expect(spec.rows).toEqual(['unit 0', 'unit 1']);
    expect(spec.columns).toBe(3);
    const name = (i: number) => STATE_CATEGORIES[i].name;
    expect(Array.from(spec.cells, name)).toEqual([
      'OFF',
      'circuit ON, software OFF',
      'ON',
      'ON',
      'circuit OFF, software ON',
      'OFF',
    ]);
  });
});

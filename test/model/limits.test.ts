/** The size limits the README states, and the check every reader applies them with. */
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { MAX_BLOCKS, MAX_CLASSES, MAX_FRAMES, MAX_INPUTS, MAX_WIDTH, checkDimension } from '../../src/model/limits.js';

describe('size limits', () => {
  it('are the README figures: at most 64 blocks, width, inputs and classes 1..4096, clips up to 100 000 frames', () => {
    expect([MAX_BLOCKS, MAX_WIDTH, MAX_INPUTS, MAX_CLASSES, MAX_FRAMES]).toEqual([64, 4096, 4096, 4096, 100_000]);
  });
});

describe('checkDimension', () => {
  const where = { file: 'net.json', field: 'width' };

  it('accepts every integer from 1 to the maximum, both ends included', () => {
    for (const n of [1, 2, 63, 64]) expect(() => checkDimension('blocks', n, 64, where)).not.toThrow();
  });

  it('refuses 0, negatives, fractions and NaN as "expected an integer >= 1", naming the file and field', () => {
    for (const n of [0, -1, 1.5, NaN]) {
      let error: unknown;
      try {
        checkDimension('width', n, 4096, where);
      } catch (e) {
        error = e;
      }
      expect(error, String(n)).toBeInstanceOf(InputError);
      expect((error as InputError).message).toContain(`width is ${n}: expected an integer >= 1`);
      expect(error).toMatchObject(where);
    }
  });

  it('refuses one above the maximum as "expected at most", naming the limit', () => {
    expect(() => checkDimension('blocks', 65, 64, where)).toThrow(
      /blocks is 65: expected at most 64 \(the toolkit's limit/,
    );
    expect(() => checkDimension('blocks', 65, 64, where)).toThrow(InputError);
  });
});

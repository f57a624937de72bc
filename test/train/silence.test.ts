import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { clipFeatures } from '../../src/audio/mfcc.js';
import { loadModel } from '../../src/model/load.js';
import { runNetwork } from '../../src/model/network.js';
import { REPO_ROOT } from '../helpers.js';

// Issue 16: a clip of exact zeros gives all-zero features (every coefficient is constant, so normalised to 0), and the
// model before hardware-aware training called that the keyword. The shipped model must not.
describe('digital silence', () => {
  it('becomes all-zero features, which the shipped keyword model calls "other"', async () => {
    const f = clipFeatures(new Float64Array(16000));
    // Zero up to rounding of the constant first coefficient (about 1e-7).
    expect(Math.max(...f.data.map(Math.abs))).toBeLessThan(1e-6);
    const shipped = await loadModel(path.join(REPO_ROOT, 'models', 'kws', 'kws-w4.json'));
    expect(runNetwork(shipped, f).decision).toBe(0);
    // The previous model, kept as a fixture, is the case the issue found.
    const before = await loadModel(path.join(REPO_ROOT, 'test', 'fixtures', 'models', 'kws-w4-startup.json'));
    expect(runNetwork(before, f).decision).toBe(1);
  });
});

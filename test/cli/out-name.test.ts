import { describe, expect, it } from 'vitest';
import { outName } from '../../src/cli/common.js';
import { cliFixture, exampleClip } from './fixture.js';

describe('default output folders', () => {
  it('name the command, the model, the inputs and the process, so another clip or kit does not overwrite', () => {
    expect(outName('compare', 'models/example/kws-example.json', 'c180', 'models/example/clip-101.csv')).toBe(
      'compare-kws-example-clip-101-c180',
    );
    expect(outName('compare', 'm.safetensors', 'gf180mcu', '/tmp/a/yes.1.csv')).toBe('compare-m-yes.1-gf180mcu');
    expect(outName('kws', 'models/kws/kws-w4.json', 'c180')).toBe('kws-kws-w4-c180');
  });

  it('export writes to out/export-<model>-<inputs>-<process> when -o is not given', async () => {
    const cli = await cliFixture();
    try {
      const clip = await cli.write('two.csv', exampleClip(2));
      const r = await cli.run(['export', '-i', clip]);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout).toContain('wrote out/export-kws-example-two-c180/deck.cir');
    } finally {
      await cli.cleanUp();
    }
  });
});

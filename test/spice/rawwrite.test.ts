/** encodeRawfile against rawfiles ngspice wrote: written again, they read back as the same plot (and as the same bytes). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRawfile, type RawPlot } from '../../src/spice/rawfile.js';
import { encodeRawfile } from '../../src/spice/rawwrite.js';
import { REPO_ROOT } from '../helpers.js';

const fixture = (name: string) => readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'raw', name));

describe('encodeRawfile', () => {
  it("writes ngspice's own transient back to the byte, No. Points padding aside", () => {
    const bytes = fixture('rc_tran.bin.raw');
    const [plot] = parseRawfile(bytes, 'rc_tran.bin.raw');
    // ngspice pads the count it rewrites at the end of the run ("No. Points: 79      "); the writer does not.
    const ngspice = new TextDecoder('latin1').decode(bytes).replace(/^(No\. Points: \d+) +$/m, '$1');
    expect(new TextDecoder('latin1').decode(encodeRawfile(plot))).toBe(ngspice);
  });

  it('reads back as the same plot: names, types, every value', () => {
    const [plot] = parseRawfile(fixture('rc_tran.bin.raw'), 'rc_tran.bin.raw');
    const [back] = parseRawfile(encodeRawfile(plot), 'encoded');
    expect(back.vectors).toEqual(plot.vectors);
    expect(back.numPoints).toBe(79);
    expect(back.real.map((r) => Array.from(r))).toEqual(plot.real.map((r) => Array.from(r)));
  });

  it('refuses a complex plot and a merged plot with grids of its own', () => {
    const [ac] = parseRawfile(fixture('ac_rc.bin.raw'), 'ac_rc.bin.raw');
    expect(() => encodeRawfile(ac)).toThrow(/expected a real plot, got a complex "AC Analysis"/);
    const [tran] = parseRawfile(fixture('rc_tran.bin.raw'), 'rc_tran.bin.raw');
    const merged: RawPlot = { ...tran, timeOf: [undefined, tran.real[0], undefined, undefined] };
    expect(() => encodeRawfile(merged)).toThrow(/merged plot/);
  });
});

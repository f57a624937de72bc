import { describe, expect, it } from 'vitest';
import { portableDeckLines } from '../../src/netlist/process.js';

describe('portableDeckLines', () => {
  it("includes the process folder's files by name and leaves a kit's, relative and other lines alone", () => {
    const r = portableDeckLines(
      [
        '.include /p/c180/c180.lib',
        '.lib /p/c180/models/corners.lib tt',
        '.include /kit/gf/design.ngspice',
        '.lib /kit/gf/sm141064.ngspice typical',
        '.include already.lib',
        '.param x=1',
        '.include /p/c180/c180.lib',
        '.include /p/c180x/other.lib', // a sibling folder whose name starts like the process's is not inside it
      ],
      '/p/c180',
    );
    expect(r.lines).toEqual([
      '.include c180.lib',
      '.lib corners.lib tt',
      '.include /kit/gf/design.ngspice',
      '.lib /kit/gf/sm141064.ngspice typical',
      '.include already.lib',
      '.param x=1',
      '.include c180.lib',
      '.include /p/c180x/other.lib',
    ]);
    expect(r.copies).toEqual([
      { from: '/p/c180/c180.lib', name: 'c180.lib' },
      { from: '/p/c180/models/corners.lib', name: 'corners.lib' },
    ]);
    expect(r.external).toEqual(['/kit/gf/design.ngspice', '/kit/gf/sm141064.ngspice', '/p/c180x/other.lib']);
  });

  it('keeps the path of a second file with a name already taken', () => {
    const r = portableDeckLines(['.include /p/a/m.lib', '.include /p/b/m.lib'], '/p');
    expect(r.lines).toEqual(['.include m.lib', '.include /p/b/m.lib']);
    expect(r.external).toEqual(['/p/b/m.lib']);
  });
});

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliFixture, exampleClip, EXIT_ERROR, type CliFixture } from './fixture.js';

// The real binary on short clips (see fixture.ts): the analyses' files and tables, not their figures.
let cli: CliFixture;
beforeAll(async () => {
  cli = await cliFixture();
});
afterAll(() => cli.cleanUp());

describe('bmru analyze power', () => {
  it('splits power per domain, sweeps two widths and writes CSV, JSON and an HTML page', async () => {
    const clip = await cli.write('clip5.csv', exampleClip(5));
    const r = await cli.run(['analyze', 'power', '-i', clip, '-o', 'pw', '--scaling', '--widths', '2,3', '--frames', '3', '--workers', '1']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^RNN core \(cell \+ ff \+ bias\): [\d.]+ nW, total [\d.]+ nW$/m);
    expect(r.stdout).toMatch(/^core +[-\d.]+ +[\d.]+/m); // the fit table's core row
    const json = JSON.parse(await readFile(path.join(cli.dir, 'pw', 'power.json'), 'utf8'));
    expect(json.power.domains.map((d: { domain: string }) => d.domain)).toEqual(['cell', 'ff', 'bias', 'in']);
    expect(json.scaling.points.map((p: { width: number }) => p.width)).toEqual([2, 3]);
    const csv = await readFile(path.join(cli.dir, 'pw', 'power-frames.csv'), 'utf8');
    expect(csv.trim().split('\n')).toHaveLength(1 + 5);
    const html = await readFile(path.join(cli.dir, 'pw', 'power.html'), 'utf8');
    expect(html.match(/<svg/g)).toHaveLength(2);
  });

  it('rejects a single width with a message that says why', async () => {
    const r = await cli.run(['analyze', 'power', '--scaling', '--widths', '8']);
    expect(r.exitCode).toBe(EXIT_ERROR);
    expect(r.stderr).toMatch(/--widths must be at least two .* got "8"/);
  });
});

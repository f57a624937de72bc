import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers.js';
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
    const r = await cli.run([
      'analyze',
      'power',
      '-i',
      clip,
      '-o',
      'pw',
      '--scaling',
      '--widths',
      '2,3',
      '--frames',
      '3',
      '--workers',
      '1',
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^RNN core \(cell \+ ff \+ bias\): [\d.]+ nW, total [\d.]+ nW$/m);
    expect(r.stdout).toMatch(/^core +[-\d.]+ +[\d.]+/m); // the fit table's core row
    const json = JSON.parse(await readFile(path.join(cli.dir, 'pw', 'power.json'), 'utf8'));
    expect(json.power.domains.map((d: { domain: string }) => d.domain)).toEqual(['cell', 'ff', 'bias', 'in']);
    expect(json.scaling.points.map((p: { width: number }) => p.width)).toEqual([2, 3]);
    // The default stays the monolithic deck.
    expect(json.scaling.points.map((p: { simulation: string }) => p.simulation)).toEqual(['monolithic', 'monolithic']);
    const csv = await readFile(path.join(cli.dir, 'pw', 'power-frames.csv'), 'utf8');
    expect(csv.trim().split('\n')).toHaveLength(1 + 5);
    const html = await readFile(path.join(cli.dir, 'pw', 'power.html'), 'utf8');
    expect(html.match(/<svg/g)).toHaveLength(2);
  });

  it('--scaling keeps the widths an earlier run finished and runs those another option changes', async () => {
    const clip = await cli.write('clip2r.csv', exampleClip(2));
    const args = (frames: string) => [
      'analyze',
      'power',
      '-i',
      clip,
      '-o',
      'pwr',
      '--scaling',
      '--widths',
      '2,3',
      '--frames',
      frames,
      '-j',
      '1',
    ];
    const points = async () =>
      (await readFile(path.join(cli.dir, 'pwr', 'scaling-points.jsonl'), 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { width: number; ngspiceS: number; key: string });
    const first = await cli.run(args('2'));
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/scaling: 2 of 2 widths x 2 frames to run/);
    const ran = await points();
    expect(ran.map((p) => p.width)).toEqual([2, 3]);

    // A crash cut the last line and lost width 3: the rerun keeps width 2 as written (its ngspice time, measured
    // once, is the proof it did not run again) and runs width 3 only.
    const file = path.join(cli.dir, 'pwr', 'scaling-points.jsonl');
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    await writeFile(file, `${lines[0]}\n${lines[1].slice(0, 40)}`);
    const again = await cli.run(args('2'));
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stderr).toMatch(
      /scaling: 1 of 2 widths x 2 frames to run \(width 2 kept from .*; 1 earlier line dropped /,
    );
    const resumed = await points();
    expect(resumed.map((p) => p.width)).toEqual([2, 3]);
    expect(resumed[0]).toEqual(ran[0]);
    const json = JSON.parse(await readFile(path.join(cli.dir, 'pwr', 'power.json'), 'utf8'));
    expect(json.scaling.points[0].ngspiceS).toBe(ran[0].ngspiceS);

    // Another clip length is another point: nothing is kept, and the file holds only this run's points.
    const other = await cli.run(args('3'));
    expect(other.exitCode, other.stderr).toBe(0);
    expect(other.stderr).toMatch(/scaling: 2 of 2 widths x 3 frames to run \(2 earlier lines dropped /);
    const rerun = await points();
    expect(rerun.map((p) => p.width)).toEqual([2, 3]);
    expect(rerun.map((p) => p.key)).not.toContain(ran[0].key);
  });

  it('--partitioned runs each width per cell and says so in scaling.csv', async () => {
    const clip = await cli.write('clip2.csv', exampleClip(2));
    const r = await cli.run([
      'analyze',
      'power',
      '-i',
      clip,
      '-o',
      'pwp',
      '--scaling',
      '--partitioned',
      '--widths',
      '2,3',
      '--frames',
      '2',
      '-j',
      '1',
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    const rows = (await readFile(path.join(cli.dir, 'pwp', 'scaling.csv'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => l.split(','));
    const col = rows[0].indexOf('simulation');
    // Per cell, 2 blocks: front end, per block a shared part, N cells, an outputs' shared part, N outputs; classifier.
    expect(rows.slice(1).map((row) => row[col])).toEqual([
      'partitioned (14 partitions) on local pool (1 worker)',
      'partitioned (18 partitions) on local pool (1 worker)',
    ]);
  });

  it('refuses --slurm without --scaling --partitioned, and an sbatch setting without --slurm', async () => {
    const r = await cli.run(['analyze', 'power', '--scaling', '--slurm']);
    expect(r.exitCode).toBe(EXIT_ERROR);
    expect(r.stderr).toMatch(/--slurm goes with --scaling --partitioned/);
    const s = await cli.run(['analyze', 'power', '--scaling', '--partitioned', '--setup', 'module load ngspice']);
    expect(s.exitCode).toBe(EXIT_ERROR);
    expect(s.stderr).toMatch(/--setup goes with --slurm/);
  });

  it('refuses --partitioned without --scaling', async () => {
    const r = await cli.run(['analyze', 'power', '--partitioned']);
    expect(r.exitCode).toBe(EXIT_ERROR);
    expect(r.stderr).toMatch(/--partitioned goes with --scaling/);
  });

  it('rejects a single width with a message that says why', async () => {
    const r = await cli.run(['analyze', 'power', '--scaling', '--widths', '8']);
    expect(r.exitCode).toBe(EXIT_ERROR);
    expect(r.stderr).toMatch(/--widths must be at least two .* got "8"/);
  });
});

describe('bmru analyze montecarlo', () => {
  it('runs seeded samples, writes them as they finish, resumes, and refuses to mix campaigns', async () => {
    const clip = await cli.write('clip3.csv', exampleClip(3));
    const first = await cli.run(['analyze', 'montecarlo', '-i', clip, '-n', '2', '-o', 'mc', '--software-draws', '50']);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^decision flip rate +\d+\/2 = /m);
    const again = await cli.run(['analyze', 'montecarlo', '-i', clip, '-n', '3', '-o', 'mc', '--software-draws', '50']);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/1 of 3 samples to run \(2 kept from before\)/);
    const lines = (await readFile(path.join(cli.dir, 'mc', 'samples.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l: { index: number }) => l.index).sort()).toEqual([0, 1, 2]);
    expect(new Set(lines.map((l: { seed: number }) => l.seed)).size).toBe(3);
    const other = await cli.run(['analyze', 'montecarlo', '-i', clip, '-n', '2', '-o', 'mc', '--seed', '9']);
    expect(other.exitCode).toBe(EXIT_ERROR);
    expect(other.stderr).toMatch(/campaign\.json: belongs to a different Monte Carlo campaign/);
    // The same file name with another clip in it is another campaign too: its samples must not be mixed in.
    const [header, , ...later] = exampleClip(4).trimEnd().split('\n');
    await cli.write('clip3.csv', [header, ...later].join('\n') + '\n'); // frames 1-3 instead of 0-2
    const edited = await cli.run(['analyze', 'montecarlo', '-i', clip, '-n', '2', '-o', 'mc']);
    expect(edited.exitCode).toBe(EXIT_ERROR);
    expect(edited.stderr).toMatch(/campaign\.json: belongs to a different Monte Carlo campaign/);
  });
});

describe('bmru analyze noise', () => {
  it('scores software and circuit noise per boundary and writes CSV, JSON and HTML', async () => {
    const clip = await cli.write('clip4.csv', exampleClip(4));
    const args = [
      'analyze',
      'noise',
      '-i',
      clip,
      '--levels',
      '0.1',
      '--draws',
      '3',
      '--depths',
      '1',
      '--depth-frames',
      '3',
      '-o',
      'nz',
    ];
    const r = await cli.run(args);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^software +10% +0 /m);
    expect(r.stdout).toMatch(/^circuit +10% +1 /m);
    expect(r.stdout).toMatch(/noisy circuit vs model: 10% [\d.]+%/);
    const csvText = await readFile(path.join(cli.dir, 'nz', 'noise.csv'), 'utf8');
    const csv = csvText.trim().split('\n');
    // example: software + circuit x 2 blocks; depth 1: software + circuit x 1 block
    expect(csv).toHaveLength(1 + 4 + 2);

    // Killed after three of its four transients: the rerun runs the one lost and scores exactly as before.
    const runsFile = path.join(cli.dir, 'nz', 'noise-runs.jsonl');
    const lines = (await readFile(runsFile, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(4); // example clean + 10%, depth 1 clean + 10%
    const lost = lines.findIndex((l) => JSON.parse(l).level > 0);
    await writeFile(runsFile, lines.filter((_, i) => i !== lost).join('\n') + '\n');
    const again = await cli.run(args);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/noise: 1 of 4 ngspice runs \(clean \+ noisy\) to run \(runs .*clean.* kept from /);
    expect(await readFile(path.join(cli.dir, 'nz', 'noise.csv'), 'utf8')).toBe(csvText);
    // A software-only run (another seed) leaves the kept transients alone.
    const kept = await readFile(runsFile, 'utf8');
    const software = await cli.run([...args, '--seed', '2', '--no-circuit']);
    expect(software.exitCode, software.stderr).toBe(0);
    expect(await readFile(runsFile, 'utf8')).toBe(kept);
  });
});

describe('bmru analyze corners', () => {
  it('runs a chosen GF180MCU kit corner and names an unknown corner', async () => {
    const clip = await cli.write('clip3c.csv', exampleClip(3));
    const r = await cli.run([
      'analyze',
      'corners',
      '-p',
      'gf180mcu',
      '-i',
      clip,
      '--corners',
      'ss',
      '--no-vdd-temp',
      '-o',
      'pvt',
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    const gfVddV = JSON.parse(await readFile(path.join(REPO_ROOT, 'models', 'gf180mcu', 'process.json'), 'utf8')).vddV;
    expect(r.stdout).toMatch(
      new RegExp(`^ss +${gfVddV.toFixed(2)} V +27 C +[\\d.]+% +[\\d.]+% +(same|DIFFERENT)`, 'm'),
    );
    const bad = await cli.run(['analyze', 'corners', '--corners', 'xx']);
    expect(bad.exitCode).toBe(EXIT_ERROR);
    expect(bad.stderr).toMatch(
      /process\.json 'corners': --corners: process c180 has no corner "xx" \(it has: tt, ff, ss, fs, sf\)/,
    );
  });

  it('keeps the points an earlier run finished: a rerun runs only the one lost, another clip runs all', async () => {
    const clip = await cli.write('clip2k.csv', exampleClip(2));
    const args = (input: string) => [
      'analyze',
      'corners',
      '-i',
      input,
      '--corners',
      'ff,ss',
      '--no-vdd-temp',
      '-o',
      'pvt-k',
    ];
    const file = path.join(cli.dir, 'pvt-k', 'corners.jsonl');
    const lines = async () => (await readFile(file, 'utf8')).trim().split('\n');
    const first = await cli.run(args(clip));
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/corners: 2 of 2 runs of 2 frames on c180 to run$/m);
    const ran = (await lines()).map((l) => JSON.parse(l) as { corner: string; ngspiceS: number });
    expect(ran.map((r) => r.corner).sort()).toEqual(['ff', 'ss']);

    // Lose the ss point: the rerun keeps ff as written (its ngspice time, measured once, shows it did not run again).
    const ff = (await lines()).find((l) => JSON.parse(l).corner === 'ff')!;
    await writeFile(file, ff + '\n');
    const again = await cli.run(args(clip));
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/corners: 1 of 2 runs of 2 frames on c180 to run \(point ff 100% VDD 27 C kept from /);
    const json = JSON.parse(await readFile(path.join(cli.dir, 'pvt-k', 'corners.json'), 'utf8'));
    expect(json.results.map((r: { corner: string }) => r.corner)).toEqual(['ff', 'ss']);
    expect(json.results[0].ngspiceS).toBe(JSON.parse(ff).ngspiceS);

    // Another clip is another result: nothing is kept.
    const other = await cli.run(args(await cli.write('clip3k.csv', exampleClip(3))));
    expect(other.exitCode, other.stderr).toBe(0);
    expect(other.stderr).toMatch(/corners: 2 of 2 runs of 3 frames on c180 to run \(2 earlier lines dropped /);
  });

  it("names the kit file a corner's deck lacks before any run, exit 2", async () => {
    // A kit folder that does not exist is refused at load (errors.test.ts); an empty one when the corners are keyed.
    await mkdir(path.join(cli.dir, 'empty-kit'));
    const clip = await cli.write('clip2c.csv', exampleClip(2));
    const args = ['analyze', 'corners', '-p', 'gf180mcu', '-i', clip, '--corners', 'ss', '--no-vdd-temp'];
    const r = await cli.run([...args, '--kit', 'empty-kit', '-o', 'pvt-bad']);
    expect(r.exitCode).toBe(EXIT_ERROR);
    expect(r.stderr).toMatch(
      /empty-kit\/design\.ngspice 'deckLines': cannot read .*empty-kit\/design\.ngspice \(ENOENT\)/,
    );
    expect(r.stderr).not.toMatch(/internal error/);
  });

  it("says why when every PVT point fails (kit files that are not the kit's), exit 2", async () => {
    const kit = path.join(cli.dir, 'hollow-kit');
    await mkdir(kit);
    for (const f of ['design.ngspice', 'sm141064.ngspice']) await writeFile(path.join(kit, f), '* not a model file\n');
    const clip = await cli.write('clip2h.csv', exampleClip(2));
    const args = ['analyze', 'corners', '-p', 'gf180mcu', '-i', clip, '--corners', 'ss', '--no-vdd-temp'];
    const r = await cli.run([...args, '--kit', kit, '-o', 'pvt-hollow']);
    expect(r.exitCode).toBe(EXIT_ERROR);
    expect(r.stderr).toMatch(/every PVT point failed .*corners\.csv/);
    expect(r.stderr).not.toMatch(/internal error/);
    // Nothing that failed is kept: a rerun would run it again.
    expect(await readFile(path.join(cli.dir, 'pvt-hollow', 'corners.jsonl'), 'utf8')).toBe('');
  });
});

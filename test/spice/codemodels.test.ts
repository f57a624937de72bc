import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { CODEMODEL_ENV, codemodelCandidates, KNOWN_CODEMODEL_DIRS } from '../../src/spice/codemodels.js';
import { filesourceCodemodel } from '../../src/spice/filesource.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'bmru-codemodels-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The distributions' folders codemodels.ts knows, as their analog.cm. */
const KNOWN = KNOWN_CODEMODEL_DIRS.map((d) => path.join(d, 'analog.cm'));

/** An install tree: `<prefix>/bin/ngspice` and a spinit whose codemodel lines name `analog.cm` files under `<prefix>/lib`. */
async function install(prefix: string, spinitLines: string[]): Promise<string> {
  await mkdir(path.join(prefix, 'bin'), { recursive: true });
  await mkdir(path.join(prefix, 'lib'), { recursive: true });
  await mkdir(path.join(prefix, 'share', 'ngspice', 'scripts'), { recursive: true });
  await writeFile(path.join(prefix, 'lib', 'analog.cm'), '');
  await writeFile(path.join(prefix, 'share', 'ngspice', 'scripts', 'spinit'), spinitLines.join('\n') + '\n');
  const bin = path.join(prefix, 'bin', 'ngspice');
  await writeFile(bin, '#!/bin/sh\nexit 1\n');
  await chmod(bin, 0o755);
  return bin;
}

describe('codemodelCandidates', () => {
  it('reads the codemodel lines of the spinit installed beside the binary, on PATH or by path, skipping commented ones', async () => {
    const prefix = path.join(root, 'opt');
    const cm = path.join(prefix, 'lib', 'analog.cm');
    const commented = path.join(prefix, 'lib', 'commented', 'analog.cm');
    const bin = await install(prefix, [
      '* Standard ngspice init file',
      `* codemodel ${commented}`,
      `  codemodel ${path.join(prefix, 'lib', 'spice2poly.cm')}`,
      `  codemodel ${cm}   `,
    ]);
    await mkdir(path.dirname(commented), { recursive: true });
    await writeFile(commented, '');
    const env = { PATH: `/nonexistent::${path.dirname(bin)}` };
    // After the spinit's: the distributions' folders, where this machine has them (CI's Debian ngspice does).
    const known = KNOWN.filter((f) => existsSync(f));
    expect(codemodelCandidates('ngspice', env)).toEqual([cm, ...known]);
    expect(codemodelCandidates(bin, {})).toEqual([cm, ...known]);
    expect(codemodelCandidates('/nonexistent/ngspice', {})).toEqual(known);
  });

  it('puts BMRU_NGSPICE_CODEMODELS first (a file or its folder) and lists only files that exist', async () => {
    const dir = path.join(root, 'own');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'analog.cm'), '');
    const fromDir = codemodelCandidates('/nonexistent/ngspice', { BMRU_NGSPICE_CODEMODELS: dir });
    expect(fromDir[0]).toBe(path.join(dir, 'analog.cm'));
    expect(
      codemodelCandidates('/nonexistent/ngspice', { BMRU_NGSPICE_CODEMODELS: path.join(dir, 'analog.cm') })[0],
    ).toBe(path.join(dir, 'analog.cm'));
    const missing = codemodelCandidates('/nonexistent/ngspice', { BMRU_NGSPICE_CODEMODELS: path.join(root, 'none') });
    expect(missing).not.toContain(path.join(root, 'none', 'analog.cm'));
    expect(missing).toEqual(KNOWN.filter((f) => existsSync(f)));
    expect(CODEMODEL_ENV).toBe('BMRU_NGSPICE_CODEMODELS');
    expect(KNOWN_CODEMODEL_DIRS).toContain('/usr/lib/x86_64-linux-gnu/ngspice'); // Debian's, as CI installs it
  });
});

describe('filesourceCodemodel', () => {
  it('gives undefined when no candidate replays the probe file with this binary (the caller then writes B sources)', async () => {
    const bin = path.join(root, 'fake-ngspice');
    // Answers -v like ngspice 39, fails every run.
    await writeFile(bin, '#!/bin/sh\nif [ "$1" = "-v" ]; then echo "ngspice-39 : fake"; exit 0; fi\nexit 1\n');
    await chmod(bin, 0o755);
    expect(await filesourceCodemodel(bin)).toBeUndefined();
  });
});

import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CODEMODEL_ENV, codemodelCandidates } from '../../src/spice/codemodels.js';
import { filesourceCodemodel } from '../../src/spice/filesource.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'bmru-codemodels-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

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
    const bin = await install(prefix, [
      '* Standard ngspice init file',
      `* codemodel ${path.join(prefix, 'lib', 'commented', 'analog.cm')}`,
      `  codemodel ${path.join(prefix, 'lib', 'spice2poly.cm')}`,
      `  codemodel ${cm}`,
    ]);
    const env = { PATH: `/nonexistent:${path.dirname(bin)}` };
    expect(codemodelCandidates('ngspice', env)[0]).toBe(cm);
    expect(codemodelCandidates(bin, {})[0]).toBe(cm);
  });

  it(`puts ${CODEMODEL_ENV} first (a file or its folder) and lists only files that exist`, async () => {
    const dir = path.join(root, 'own');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'analog.cm'), '');
    const fromDir = codemodelCandidates('/nonexistent/ngspice', { [CODEMODEL_ENV]: dir });
    expect(fromDir[0]).toBe(path.join(dir, 'analog.cm'));
    expect(codemodelCandidates('/nonexistent/ngspice', { [CODEMODEL_ENV]: path.join(dir, 'analog.cm') })[0]).toBe(
      path.join(dir, 'analog.cm'),
    );
    const missing = codemodelCandidates('/nonexistent/ngspice', { [CODEMODEL_ENV]: path.join(root, 'none') });
    expect(missing).not.toContain(path.join(root, 'none', 'analog.cm'));
    expect(missing.every((f) => f.endsWith('/analog.cm'))).toBe(true);
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

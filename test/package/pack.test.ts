/**
 * The package as a user gets it: `npm pack`, installed into a fresh folder, then the command line on both kits
 * and the README's library example, run as written. Needs the npm registry or npm's cache (CI's `npm ci` fills it).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, SHARED_DIR } from '../helpers.js';

const GF180_KIT = path.join(SHARED_DIR, 'pdk', 'gf180mcu');
let dir: string;
let tarball: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'bmru-pack-'));
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', dir], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }),
  );
  tarball = path.join(dir, packed[0].filename);
  const app = path.join(dir, 'app');
  execFileSync('mkdir', ['-p', app]);
  await writeFile(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], {
    cwd: app,
    stdio: 'ignore',
  });
  await writeFile(
    path.join(app, 'clip5.csv'),
    readFileSync(path.join(REPO_ROOT, 'models', 'example', 'clip-101.csv'), 'utf8')
      .split('\n')
      .slice(0, 6)
      .join('\n') + '\n',
  );
}, 600_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

const app = () => path.join(dir, 'app');
const bmru = (args: string[], env: Record<string, string> = {}) =>
  spawnSync('npx', ['--no-install', 'bmru', ...args], {
    cwd: app(),
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });

describe('the packed package, installed', () => {
  it('ships the built code, the models and the docs, not the tests, sources or source maps', async () => {
    const list = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n').filter(Boolean);
    expect(list).toContain('package/LICENSE');
    expect(list).toContain('package/dist/index.js');
    expect(list).toContain('package/models/c180/calibration.json');
    expect(list).toContain('package/python/bmru_torch.py');
    expect(list.filter((f) => /^package\/(test|src|bench)\//.test(f) || f.endsWith('.map'))).toEqual([]);
    expect(list.length).toBeLessThan(400);
    expect(await readdir(path.join(app(), 'node_modules', 'bmru-cosim', 'dist'))).toContain('index.d.ts');
  });

  it('bmru compare runs on the embedded 180 nm card', () => {
    const r = bmru(['compare', '-i', 'clip5.csv', '-o', 'out-c180']);
    expect(r.stderr).not.toMatch(/error:/);
    expect([0, 1]).toContain(r.status);
    expect(r.stdout).toMatch(/verdict: (PASS|FAIL)/);
  });

  it('bmru compare runs on GF180MCU with the kit given by --kit, and says how to give it when it is missing', () => {
    const r = bmru(['compare', '-p', 'gf180mcu', '--kit', GF180_KIT, '-i', 'clip5.csv', '-o', 'out-gf']);
    expect(r.stderr).not.toMatch(/error:/);
    expect(r.stdout).toMatch(/verdict: (PASS|FAIL)/);
    const missing = bmru(['compare', '-p', 'gf180mcu', '-i', 'clip5.csv', '-o', 'out-gf2']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/--kit DIR or BMRU_KIT/);
  });

  it("bmru calibrate refuses to overwrite the installed package's tables", () => {
    const r = bmru(['calibrate', '-p', 'c180']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/belongs to the installed package/);
  });

  it("runs the README's library example as written", async () => {
    const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    const code = /## Library[\s\S]*?```js\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(code).toBeDefined();
    await writeFile(path.join(app(), 'example.mjs'), code!);
    const r = spawnSync(process.execPath, ['example.mjs'], { cwd: app(), encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/software decision: \d/);
    expect(r.stdout).toMatch(/circuit vs model: [\d.]+ (PASS|FAIL)/);
    expect(r.stdout).toMatch(/input \/ output discrepancy at block 0: /);
  });
});

#!/usr/bin/env node
// `npm run mutate [-- stryker options]`: Stryker (stryker.config.json) with the environment its sandbox needs.
//
//   npm run mutate                                  every module stryker.config.json lists (hours on 2 cores)
//   npm run mutate -- --mutate src/compare/tolerance.ts
//   npm run mutate:ci                               the quick subset CI can afford, failing below 90% killed
//
// Stryker copies the project into .stryker-tmp/sandbox-XXXX and runs the tests there, so every path the tests and
// the library resolve relative to the package root moves with it: the shared material beside the clone
// (test/helpers.ts: ../shared) and the GF180MCU kit (models/gf180mcu/process.json: ../../../shared/pdk/gf180mcu)
// would be looked for inside .stryker-tmp and not found. Here both are fixed as absolute paths, resolved from this
// clone's root (CI clones beside ../shared too), unless BMRU_SHARED / BMRU_KIT are already set.
//
// The sandbox is a copy of the folder as it is, dist/ included: tests that start worker threads
// (src/model/parallel.ts) or the CLI load the compiled code, so it is built first. Those tests run the unmutated
// build; a mutant of src/ is seen only by tests that import src/ directly.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const shared = resolve(process.env.BMRU_SHARED || join(ROOT, '..', 'shared'));
const kit = resolve(process.env.BMRU_KIT || join(shared, 'pdk', 'gf180mcu'));
if (!existsSync(shared)) {
  console.error(`mutate: no shared folder at ${shared}: put it beside the clone or set BMRU_SHARED`);
  process.exit(2);
}

const build = spawnSync(
  process.execPath,
  [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'],
  {
    cwd: ROOT,
    stdio: 'inherit',
  },
);
if (build.status !== 0) process.exit(build.status ?? 2);

const stryker = join(ROOT, 'node_modules', '@stryker-mutator', 'core', 'bin', 'stryker.js');
const result = spawnSync(process.execPath, [stryker, 'run', ...process.argv.slice(2)], {
  cwd: ROOT,
  stdio: 'inherit',
  env: { ...process.env, BMRU_SHARED: shared, BMRU_KIT: kit },
});
if (result.error) throw result.error;
process.exit(result.status ?? 1);

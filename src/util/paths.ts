import { existsSync, readdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../errors.js';

/** The package root (dist/cli/.. /..), where the shipped models live. */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Shipped defaults: the example network, its input clip, the embedded 180 nm process. */
export const DEFAULTS = {
  model: resolve(PACKAGE_ROOT, 'models', 'example', 'kws-example.json'),
  inputs: resolve(PACKAGE_ROOT, 'models', 'example', 'clip-101.csv'),
  process: resolve(PACKAGE_ROOT, 'models', 'c180', 'process.json'),
};

/** `--process` accepts a path or the name of a shipped process (`c180`, `gf180mcu`). */
export function resolveProcessPath(nameOrPath: string): string {
  const shipped = resolve(PACKAGE_ROOT, 'models', nameOrPath, 'process.json');
  if (existsSync(shipped)) return shipped;
  const file = resolve(nameOrPath);
  // Neither: a misspelt shipped name is likelier than a missing file, so list the names (as batch plans do).
  if (!existsSync(file))
    throw new InputError(
      `no shipped process '${nameOrPath}' (${shippedProcesses().join(', ')}) and no such process.json`,
      { file, field: 'process' },
    );
  return file;
}

/** The shipped process names: folders of models/ that hold a process.json. */
function shippedProcesses(): string[] {
  return readdirSync(resolve(PACKAGE_ROOT, 'models'))
    .filter((d) => existsSync(resolve(PACKAGE_ROOT, 'models', d, 'process.json')))
    .sort();
}

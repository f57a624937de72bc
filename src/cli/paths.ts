import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

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
  return existsSync(shipped) ? shipped : resolve(nameOrPath);
}

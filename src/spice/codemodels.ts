/**
 * Where an ngspice binary's XSPICE code models are, for decks that use one (a partition's hand-offs replayed by
 * `filesource`). The runner starts ngspice with `-n`, which skips the spinit that would load them, so a deck loads
 * `analog.cm` itself (`preloadBlock`), by absolute path. Loading a code model runs its code, so the runner lets a deck
 * load only the ones listed here (`codemodelCandidates`); `filesourceCodemodel` (spice/filesource.ts) picks the one
 * that works.
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { CODEMODEL_PATH } from './deck.js';

/** The code-model library holding `filesource`. */
const ANALOG_CM = 'analog.cm';

/**
 * Folders distributions install ngspice's code models in (Debian and Ubuntu per architecture, Fedora, a source
 * build's default prefix, Homebrew), tried after the spinit next to the binary.
 */
export const KNOWN_CODEMODEL_DIRS = [
  '/usr/lib/x86_64-linux-gnu/ngspice',
  '/usr/lib/aarch64-linux-gnu/ngspice',
  '/usr/lib64/ngspice',
  '/usr/lib/ngspice',
  '/usr/local/lib/ngspice',
  '/opt/homebrew/lib/ngspice',
];

/** Environment variable naming `analog.cm` (or its folder) for an install the search does not find. */
export const CODEMODEL_ENV = 'BMRU_NGSPICE_CODEMODELS';

/**
 * `analog.cm` paths to try for `bin`, best first: `BMRU_NGSPICE_CODEMODELS`, the `codemodel` lines of the spinit
 * installed beside the binary (`<prefix>/share/ngspice/scripts/spinit`), then the known folders. Only existing files.
 */
export function codemodelCandidates(bin: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const found: string[] = [];
  const named = env[CODEMODEL_ENV];
  if (named) found.push(named.endsWith('.cm') ? named : path.join(named, ANALOG_CM));
  const spinit = spinitOf(bin, env);
  if (spinit) {
    const text = readFileSync(spinit, 'utf8');
    for (const m of text.matchAll(/^\s*codemodel\s+(\S+analog\.cm)\s*$/gm)) found.push(m[1]);
  }
  found.push(...KNOWN_CODEMODEL_DIRS.map((d) => path.join(d, ANALOG_CM)));
  return [...new Set(found)].filter((f) => CODEMODEL_PATH.test(f) && existsSync(f));
}

/** The spinit of the ngspice that `bin` names (on PATH or a path), or undefined. */
function spinitOf(bin: string, env: NodeJS.ProcessEnv): string | undefined {
  const dirs = bin.includes('/') ? [path.dirname(bin)] : (env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const dir of dirs) {
    let real: string;
    try {
      real = realpathSync(path.join(dir, path.basename(bin)));
    } catch {
      continue; // not in this folder
    }
    const spinit = path.join(path.dirname(real), '..', 'share', 'ngspice', 'scripts', 'spinit');
    return existsSync(spinit) ? spinit : undefined;
  }
  return undefined;
}

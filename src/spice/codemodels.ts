/**
 * Where an ngspice binary's XSPICE code models are, for decks that use one (a partition's hand-offs replayed by
 * `filesource`). The runner starts ngspice with `-n`, which skips the spinit that would load them, so a deck loads
 * `analog.cm` itself (`preloadBlock`), by absolute path: found here once per binary and checked by running it.
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { CODEMODEL_PATH, preloadBlock } from './deck.js';
import { runNgspice } from './runner.js';
import { vector } from './rawfile.js';

/** The code-model library holding `filesource`. */
const ANALOG_CM = 'analog.cm';

/**
 * Folders distributions install ngspice's code models in (Debian and Ubuntu per architecture, Fedora, a source
 * build's default prefix, Homebrew), tried after the spinit next to the binary.
 */
const KNOWN_CODEMODEL_DIRS = [
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
    const exe = path.join(dir, path.basename(bin));
    if (!existsSync(exe)) continue;
    let real: string;
    try {
      real = realpathSync(exe);
    } catch {
      continue;
    }
    const spinit = path.join(path.dirname(real), '..', 'share', 'ngspice', 'scripts', 'spinit');
    return existsSync(spinit) ? spinit : undefined;
  }
  return undefined;
}

const found = new Map<string, Promise<string | undefined>>();

/**
 * The `analog.cm` that `bin` loads and whose `filesource` replays a file as this toolkit writes one, or undefined
 * when none does (the caller then writes `B` sources). Each candidate is tried with a short deck; the answer is
 * kept per binary for the process.
 */
export function filesourceCodemodel(bin: string = process.env.BMRU_NGSPICE || 'ngspice'): Promise<string | undefined> {
  let p = found.get(bin);
  if (!p) {
    p = firstWorking(bin, codemodelCandidates(bin));
    found.set(bin, p);
  }
  return p;
}

/** Probe deck: a ramp replayed from a file onto a resistor, read back at the end of a 1 ms transient. */
const PROBE_END_V = 0.25;

async function firstWorking(bin: string, candidates: readonly string[]): Promise<string | undefined> {
  for (const cm of candidates) {
    const netlist = [
      '* bmru-cosim: does this code model replay a file?',
      'Aprobe %vd([n 0]) probe',
      '.model probe filesource (file="probe.txt" amploffset=[0] amplscale=[1] timeoffset=0 timescale=1 timerelative=false amplstep=false)',
      'R1 n 0 1k',
      '.save v(n)',
      '.tran 10u 1m',
      ...preloadBlock({ codemodels: [cm], xtrtol: 7 }),
      '.end',
      '',
    ].join('\n');
    try {
      const r = await runNgspice({
        netlist,
        ngspiceBin: bin,
        name: 'codemodel-probe',
        keepWorkDir: 'never',
        timeoutMs: 30_000,
        dataFiles: new Map([['probe.txt', `0 0\n1e-3 ${PROBE_END_V}\n1 ${PROBE_END_V}\n`]]),
        expectVectors: ['v(n)'],
      });
      const v = vector(r.plots[r.plots.length - 1], 'v(n)');
      if (Math.abs(v[v.length - 1] - PROBE_END_V) < 1e-9) return cm;
    } catch {
      // Not this one (not loadable by this binary, or no filesource in it): try the next.
    }
  }
  return undefined;
}

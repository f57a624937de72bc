/**
 * The code model whose `filesource` replays a partition's hand-offs from files, found once per ngspice binary: each
 * candidate (`codemodelCandidates`) is tried on a probe deck, the first that replays the probe file right is kept.
 */
import { codemodelCandidates } from './codemodels.js';
import { filesourceModelLine, preloadBlock } from './deck.js';
import { vector } from './rawfile.js';
import { runNgspice } from './runner.js';

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
      filesourceModelLine('probe', 'probe.txt'),
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

/** Small readings of a deck's text that the runner's callers need before ngspice has run it. */

/** SPICE scale suffixes (case-insensitive); `meg` and `mil` are checked before the one-letter ones. */
const SCALE: Record<string, number> = {
  t: 1e12,
  g: 1e9,
  meg: 1e6,
  k: 1e3,
  mil: 25.4e-6,
  m: 1e-3,
  u: 1e-6,
  n: 1e-9,
  p: 1e-12,
  f: 1e-15,
};

/**
 * A SPICE number: a decimal with an optional scale suffix, any letters after which are units and ignored.
 * Returns undefined for anything else (an expression like `{tstop}`, a parameter name).
 *
 * @example spiceNumber('10ms') // 0.01; spiceNumber('2meg') // 2e6; spiceNumber('1e-3') // 0.001
 */
export function spiceNumber(text: string): number | undefined {
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)(meg|mil|[tgkmunpf])?[a-z]*$/i.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * (m[2] ? SCALE[m[2].toLowerCase()] : 1);
}

/**
 * The tstop (s) of the deck's `.tran tstep tstop ...` line, or undefined when it has none or the value is
 * not a plain number.
 *
 * @example transientStopS('* rc\nR1 a 0 1k\n.tran 10u 5m\n.end\n') // 0.005
 */
export function transientStopS(netlist: string): number | undefined {
  const m = /^[ \t]*\.tran[ \t]+(\S+)[ \t]+(\S+)/im.exec(netlist);
  return m ? spiceNumber(m[2]) : undefined;
}

/**
 * Lines ngspice runs as commands, not circuit: a `.control` block (and its `.endc`), a comment that starts
 * with `*#` (leading blanks allowed; measured on 39: `*# shell ...` runs in batch mode), and a first line
 * `*ng_script`, which makes the whole file a script. Returns the 1-based line numbers found.
 */
export function controlLines(deckText: string): number[] {
  const found: number[] = [];
  deckText.split(/\r?\n/).forEach((line, i) => {
    if (/^\s*\*#/.test(line) || /^\s*\.(control|endc)\b/i.test(line) || (i === 0 && /^\s*\*ng_script/i.test(line)))
      found.push(i + 1);
  });
  return found;
}

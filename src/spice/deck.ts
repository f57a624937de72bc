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
 * `*ng_script`, which makes the whole file a script. Returns the 1-based line numbers found. With
 * `allowPreload`, a block of nothing but `preloadBlock`'s lines is circuit set-up, not a command: not reported.
 */
export function controlLines(deckText: string, opts: { readonly allowPreload?: boolean } = {}): number[] {
  const found: number[] = [];
  const lines = deckText.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (opts.allowPreload && /^\.control$/i.test(line)) {
      const end = lines.indexOf('.endc', i + 1);
      if (end > i + 1 && lines.slice(i + 1, end).every((l) => PRELOAD_LINE.test(l))) {
        i = end;
        continue;
      }
    }
    if (/^\s*\*#/.test(line) || /^\s*\.(control|endc)\b/i.test(line) || (i === 0 && /^\s*\*ng_script/i.test(line)))
      found.push(i + 1);
  }
  return found;
}

/**
 * What a deck needs loaded before ngspice reads its circuit (`pre_` commands run before parsing). `xtrtol`: the
 * transient's trtol kept when the deck has XSPICE `A` devices, which ngspice 39 otherwise lowers to 1 for the whole
 * circuit ("Reducing trtol to 1 for xspice 'A' devices": 1.7x the time points on a width-32 cell partition).
 */
export interface Preload {
  /** Absolute paths of XSPICE code-model libraries (`analog.cm`): no blanks, as a command word. */
  readonly codemodels: readonly string[];
  /** An integer trtol to keep (`set xtrtol`); none leaves ngspice's own choice. */
  readonly xtrtol?: number;
}

/** A code-model library path `pre_codemodel` can take as one word. */
export const CODEMODEL_PATH = /^\/[A-Za-z0-9_./+-]+\.cm$/;

const PRELOAD_LINE = new RegExp(`^(?:pre_set xtrtol=\\d+|pre_codemodel ${CODEMODEL_PATH.source.slice(1, -1)})$`);

/**
 * The only `.control` block a generated deck may hold: `pre_` commands, which ngspice runs before it parses the
 * circuit, in batch mode leaving the exit code and rawfile as without a block (measured on 39: 0 on success, 1 on
 * "Timestep too small"). `controlLines(text, { allowPreload: true })` accepts exactly these lines.
 *
 * @throws RangeError for a path that is not one absolute word ending in `.cm`, or a non-integer xtrtol
 */
export function preloadBlock(p: Preload): string[] {
  for (const cm of p.codemodels)
    if (!CODEMODEL_PATH.test(cm))
      throw new RangeError(`expected an absolute code-model path (*.cm, no blanks), got ${JSON.stringify(cm)}`);
  if (p.xtrtol !== undefined && !(Number.isInteger(p.xtrtol) && p.xtrtol > 0))
    throw new RangeError(`expected xtrtol as a positive integer, got ${p.xtrtol}`);
  return [
    '.control',
    ...(p.xtrtol === undefined ? [] : [`pre_set xtrtol=${p.xtrtol}`]),
    ...p.codemodels.map((cm) => `pre_codemodel ${cm}`),
    '.endc',
  ];
}

/**
 * An XSPICE `filesource` model card reading `file` (a plain name, beside the deck) as time and one value a line,
 * linearly interpolated; ngspice 39 wants every parameter given ("Parameter on model has no default").
 */
export function filesourceModelLine(model: string, file: string): string {
  return `.model ${model} filesource (file="${file}" amploffset=[0] amplscale=[1] timeoffset=0 timescale=1 timerelative=false amplstep=false)`;
}

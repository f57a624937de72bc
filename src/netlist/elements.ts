/**
 * SPICE elements as plain data with one printer each, so the generator builds a list of typed records and
 * only `toSpice` knows ngspice's syntax.
 */
import type { Process } from './process.js';
import { filesourceModelLine } from '../spice/deck.js';

export interface Mosfet {
  readonly type: 'mos';
  readonly name: string;
  readonly polarity: 'n' | 'p';
  readonly drain: string;
  readonly gate: string;
  readonly source: string;
  readonly bulk: string;
  readonly widthUm: number;
  readonly lengthUm: number;
  /** Threshold shift written as the instance parameter `delvto` (V; M instances only, see variation.ts). */
  readonly delvtoV?: number;
  /** Drain and source junction geometry (`ad as pd ps`); absent: zero-area junctions, no junction capacitance. */
  readonly junction?: Junction;
}

/**
 * Drain/source diffusion geometry of one transistor, what SPICE needs to simulate the junction capacitances
 * (and junction leakage) of its drain and source: areas in um^2, perimeters in um, the perimeters including the
 * edge along the gate (the BSIM3/BSIM4 convention; the models split off the gate-side part themselves).
 */
export interface Junction {
  readonly drainAreaUm2: number;
  readonly sourceAreaUm2: number;
  readonly drainPerimeterUm: number;
  readonly sourcePerimeterUm: number;
}

/**
 * The junctions of a single-finger device of width `widthUm` whose source and drain each extend `diffusionLengthUm`
 * from the gate edge (the process's diffusion rule, process.json `junctions`): AD = AS = W * L_diff,
 * PD = PS = 2 (W + L_diff).
 */
export function junctionFromDiffusion(widthUm: number, diffusionLengthUm: number): Junction {
  const area = widthUm * diffusionLengthUm;
  const perimeter = 2 * (widthUm + diffusionLengthUm);
  return { drainAreaUm2: area, sourceAreaUm2: area, drainPerimeterUm: perimeter, sourcePerimeterUm: perimeter };
}

/**
 * Every transistor of `elements` with its junctions drawn from the diffusion rule (others unchanged); with no
 * rule (`undefined`) the elements as they are. Drawn width, so apply it before variation (which models a
 * current-factor change as a width change, not a different layout).
 */
export function withJunctions(elements: readonly Element[], diffusionLengthUm: number | undefined): Element[] {
  if (diffusionLengthUm === undefined) return [...elements];
  return elements.map((e) =>
    e.type === 'mos' ? { ...e, junction: junctionFromDiffusion(e.widthUm, diffusionLengthUm) } : e,
  );
}

/** What a transistor needs said; the rest has a default (`mosfet`). */
export type MosfetProps = Omit<Mosfet, 'type' | 'bulk'> & { readonly bulk?: string };

/** A transistor record. The bulk defaults to ground for NMOS and to the source for PMOS (no body effect on PMOS copies). */
export function mosfet(d: MosfetProps): Mosfet {
  return { type: 'mos', ...d, bulk: d.bulk ?? (d.polarity === 'n' ? '0' : d.source) };
}

/** Ideal current source; SPICE convention: the current flows from `from` through the source into `to`. */
export interface CurrentSource {
  readonly type: 'isrc';
  readonly name: string;
  readonly from: string;
  readonly to: string;
  /** Constant value (A), or a piecewise-linear waveform of (time s, current A) points. */
  readonly dcA?: number;
  readonly pwl?: readonly (readonly [number, number])[];
  /** What the source stands for (input front end or a bias reference), for noise injection. */
  readonly role?: 'input' | 'bias';
  /** Sources with the same group are copies of one current and get the same noise samples. */
  readonly noiseGroup?: string;
}

export interface VoltageSource {
  readonly type: 'vsrc';
  readonly name: string;
  readonly plus: string;
  readonly minus: string;
  readonly dcV: number;
  /** Piecewise-linear waveform of (time s, voltage V) points; `dcV` is then its value at t = 0. */
  readonly pwl?: readonly (readonly [number, number])[];
}

/**
 * A recorded voltage replayed between two nodes (ngspice `B` source, `V = pwl(time, ...)`): unlike a PWL `V` source it
 * sets no breakpoint at its points, so a waveform recorded from another run at thousands of points does not make the
 * solver restart its step at each (measured on a partition of the example: 2124 time points with `V` sources, 669
 * with these). The simulator's own truncation-error control still follows the waveform's edges through what it drives.
 */
export interface RecordedVoltage {
  readonly type: 'recorded';
  readonly name: string;
  readonly plus: string;
  readonly minus: string;
  /** (time s, voltage V) points, time strictly increasing; held at the end values outside them. */
  readonly pwl: readonly (readonly [number, number])[];
}

/** Voltage-controlled switch (ngspice `S`): `plus`-`minus` closed while v(ctrlPlus, ctrlMinus) is above the model's threshold. */
export interface Switch {
  readonly type: 'switch';
  readonly name: string;
  readonly plus: string;
  readonly minus: string;
  readonly ctrlPlus: string;
  readonly ctrlMinus: string;
  readonly model: string;
}

export interface Instance {
  readonly type: 'inst';
  readonly name: string;
  readonly nodes: readonly string[];
  readonly subckt: string;
}

/** Voltage-controlled current source (ngspice `G`): gain (A/V) x v(ctrlPlus, ctrlMinus) flows from `plus` through it to `minus`. */
export interface Vccs {
  readonly type: 'vccs';
  readonly name: string;
  readonly plus: string;
  readonly minus: string;
  readonly ctrlPlus: string;
  readonly ctrlMinus: string;
  readonly gainAPerV: number;
}

/** Capacitor (ngspice `C`) between `plus` and `minus`. */
export interface Capacitor {
  readonly type: 'cap';
  readonly name: string;
  readonly plus: string;
  readonly minus: string;
  /** Capacitance (F). */
  readonly capacitanceF: number;
}

/** A comment line; its text may come from outside the toolkit and is escaped (`commentText`). */
export interface Comment {
  readonly type: 'comment';
  readonly text: string;
}

export type Element =
  Mosfet | CurrentSource | VoltageSource | RecordedVoltage | Switch | Vccs | Capacitor | Instance | Comment;

/** The nodes an element connects to, each with whether it is a MOSFET's gate (the only terminal a boundary may cut). */
export function terminals(e: Element): { node: string; gate: boolean }[] {
  const t = (node: string, gate = false) => ({ node, gate });
  switch (e.type) {
    case 'comment':
      return [];
    case 'mos':
      return [t(e.drain), t(e.gate, true), t(e.source), t(e.bulk)];
    case 'isrc':
      return [t(e.from), t(e.to)];
    case 'vsrc':
    case 'recorded':
    case 'cap':
      return [t(e.plus), t(e.minus)];
    case 'switch':
    case 'vccs':
      return [t(e.plus), t(e.minus), t(e.ctrlPlus), t(e.ctrlMinus)];
    case 'inst':
      return e.nodes.map((n) => t(n));
  }
}

/** Characters ngspice would read as a line break, and other controls that have no place in a comment. */
// eslint-disable-next-line no-control-regex
export const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const CONTROL_CHARS_ALL = new RegExp(CONTROL_CHARS.source, 'g');
const NAMED_ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * Free text as the body of one comment line: control characters (newlines first) written as visible escapes
 * (`\n`, `\u0007`), so the text stays on the line that `* ` opens and can never start a line of its own
 * (ngspice runs a line that starts with `*#` as a command, `shell` included).
 */
export function commentText(text: string): string {
  return text.replace(
    CONTROL_CHARS_ALL,
    (c) => NAMED_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * A number to 12 significant digits: 1e-12 relative, far below any tolerance here, and short enough to keep
 * decks readable. Not a round trip (`num(1/3)` reads back as 0.333333333333): compare realised values, not decks.
 */
export function num(v: number): string {
  return String(Number(v.toPrecision(12)));
}

/** (time, value) pairs per continuation line of a long PWL list. */
const PWL_POINTS_PER_LINE = 8;

/** A PWL list as continuation-line bodies, `PWL_POINTS_PER_LINE` pairs each. */
function pwlLines(pwl: readonly (readonly [number, number])[]): string[] {
  const pts = pwl.map(([t, v]) => `${num(t)} ${num(v)}`);
  const lines: string[] = [];
  for (let k = 0; k < pts.length; k += PWL_POINTS_PER_LINE) lines.push(pts.slice(k, k + PWL_POINTS_PER_LINE).join(' '));
  return lines;
}

/**
 * A recorded waveform's points as B-source arguments (an expression list: commas between every time and value),
 * continued with '+'. Kept per waveform: one rail of a wide partitioned run is replayed in every partition it feeds
 * (each of 64 cells at width 64), and formatting its points again for each was most of the toolkit's CPU there.
 */
function recordedText(pwl: readonly (readonly [number, number])[]): string {
  let text = RECORDED_TEXT.get(pwl);
  if (text === undefined) {
    const pts = pwl.map(([t, v]) => `${num(t)}, ${num(v)}`);
    const lines: string[] = [];
    for (let k = 0; k < pts.length; k += PWL_POINTS_PER_LINE)
      lines.push(pts.slice(k, k + PWL_POINTS_PER_LINE).join(', '));
    text = lines.join(',\n+ ');
    RECORDED_TEXT.set(pwl, text);
  }
  return text;
}

const RECORDED_TEXT = new WeakMap<readonly (readonly [number, number])[], string>();

/**
 * Seconds past a replayed waveform's last point at which its data file repeats the last value: ngspice 39's
 * `filesource` reads past its last line when the simulation time passes it, so the file ends far beyond any run.
 */
const REPLAY_HOLD_S = 1e3;

/**
 * A recorded voltage replayed from a data file by an XSPICE `filesource` (ngspice's code model reads the file once,
 * at set-up, and steps through it as time advances), in place of `B ... pwl(time, ...)`, whose parse is quadratic in
 * the points on ngspice 39 (glibc `sscanf` measures the rest of the line for every number: docs/partition.md).
 * `k` numbers the deck's replays (model and file names). Returns the instance and model lines and the file.
 */
export function replayedText(e: RecordedVoltage, k: number): { lines: string; fileName: string; fileText: string } {
  const fileName = `replay-${k}.txt`;
  const lines = `A${e.name} %vd([${e.plus} ${e.minus}]) bmru_replay_${k}\n${filesourceModelLine(`bmru_replay_${k}`, fileName)}`;
  return { lines, fileName, fileText: replayFileText(e.pwl) };
}

/** A waveform as `filesource` lines (time, value), held at its first value from t = 0 and at its last to the end. */
function replayFileText(pwl: readonly (readonly [number, number])[]): string {
  let text = REPLAY_TEXT.get(pwl);
  if (text === undefined) {
    if (pwl.length === 0) throw new Error('internal: an empty recorded waveform');
    const [t0, v0] = pwl[0];
    const [tN, vN] = pwl[pwl.length - 1];
    const rows = pwl.map(([t, v]) => `${num(t)} ${num(v)}`);
    text = [...(t0 > 0 ? [`0 ${num(v0)}`] : []), ...rows, `${num(tN + REPLAY_HOLD_S)} ${num(vN)}`, ''].join('\n');
    REPLAY_TEXT.set(pwl, text);
  }
  return text;
}

const REPLAY_TEXT = new WeakMap<readonly (readonly [number, number])[], string>();

/** Print one element as a netlist line (long PWL lists are continued with '+'). */
export function toSpice(e: Element, process: Process): string {
  switch (e.type) {
    case 'comment':
      return `* ${commentText(e.text)}`;
    case 'mos': {
      const model = e.polarity === 'n' ? process.nmos : process.pmos;
      const j = e.junction;
      // Areas in um^2 as `p` (1e-12 m^2), perimeters in um as `u`: the same for M cards and for kit wrappers (X) that pass them on.
      const junction = j
        ? ` ad=${num(j.drainAreaUm2)}p as=${num(j.sourceAreaUm2)}p pd=${num(j.drainPerimeterUm)}u ps=${num(j.sourcePerimeterUm)}u`
        : '';
      return `${process.instance}${e.name} ${e.drain} ${e.gate} ${e.source} ${e.bulk} ${model} w=${num(e.widthUm)}u l=${num(e.lengthUm)}u${junction}${e.delvtoV ? ` delvto=${num(e.delvtoV)}` : ''}`;
    }
    case 'vsrc':
      if (!e.pwl) return `V${e.name} ${e.plus} ${e.minus} dc ${num(e.dcV)}`;
      // A short waveform (a reset control) on one line; a recorded one (a partition's hand-off) continued with '+'.
      if (e.pwl.length <= PWL_POINTS_PER_LINE)
        return `V${e.name} ${e.plus} ${e.minus} pwl(${e.pwl.map(([t, v]) => `${num(t)} ${num(v)}`).join(' ')})`;
      return `V${e.name} ${e.plus} ${e.minus} pwl(\n+ ${pwlLines(e.pwl).join('\n+ ')} )`;
    case 'recorded':
      return `B${e.name} ${e.plus} ${e.minus} V = pwl(time,\n+ ${recordedText(e.pwl)} )`;
    case 'switch':
      return `S${e.name} ${e.plus} ${e.minus} ${e.ctrlPlus} ${e.ctrlMinus} ${e.model}`;
    case 'vccs':
      return `G${e.name} ${e.plus} ${e.minus} ${e.ctrlPlus} ${e.ctrlMinus} ${num(e.gainAPerV)}`;
    case 'cap':
      return `C${e.name} ${e.plus} ${e.minus} ${num(e.capacitanceF)}`;
    case 'inst':
      return `X${e.name} ${e.nodes.join(' ')} ${e.subckt}`;
    case 'isrc': {
      if (!e.pwl) return `I${e.name} ${e.from} ${e.to} dc ${num(e.dcA ?? 0)}`;
      return `I${e.name} ${e.from} ${e.to} pwl(\n+ ${pwlLines(e.pwl).join('\n+ ')} )`;
    }
  }
}

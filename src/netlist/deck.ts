/**
 * A SPICE deck as data, and `writeDeck`, the only function that turns one into text. Generators (the network
 * netlist, the calibration sweeps) build a `Deck`; the writer orders the sections, prints every element with
 * `toSpice`, and is the one place where text from outside the toolkit (file names in titles, a process's name
 * and description) is made safe: ngspice executes comment lines that start with `*#` and `.control` blocks as
 * commands (`shell` among them), so a newline in a model's folder name must never start a line.
 */
import { InputError } from '../errors.js';
import { controlLines, preloadBlock } from '../spice/deck.js';
import {
  CONTROL_CHARS,
  commentText,
  num,
  replayedText,
  terminals,
  toSpice,
  type Element,
  type VoltageSource,
} from './elements.js';

export { commentText } from './elements.js';
import type { Process } from './process.js';

/** The deck's one analysis. */
export type Analysis =
  | {
      readonly kind: 'tran';
      readonly tStepS: number;
      readonly tStopS: number;
      readonly tStartS: number;
      readonly tMaxS: number;
    }
  | {
      readonly kind: 'dc';
      readonly source: string;
      readonly start: number;
      readonly stop: number;
      readonly step: number;
    }
  | { readonly kind: 'op' };

/** A `.model` card of a built-in device (e.g. the reset switch). */
export interface DeviceModel {
  readonly name: string;
  readonly kind: string;
  readonly params: Readonly<Record<string, number>>;
}

/** A `.subckt` whose elements use its ports and its own internal nodes. */
export interface Subcircuit {
  readonly name: string;
  readonly ports: readonly string[];
  readonly elements: readonly Element[];
}

/** `.options` entries in order; `true` writes a bare flag (`acct`). */
export type SpiceOptions = Readonly<Record<string, string | number | true>>;

/** Everything a deck holds, in the writer's section order. */
export interface Deck {
  /** Free text (a file name may be in it): written as a comment line, escaped. */
  readonly title: string;
  /** Free-text comment lines after the title, escaped. */
  readonly notes?: readonly string[];
  /** The process's device-model lines (`.lib`, `.include`, `.param`): SPICE from process.json, checked not escaped. */
  readonly modelLines: readonly string[];
  readonly options: SpiceOptions;
  readonly supplies?: readonly VoltageSource[];
  readonly temperatureC?: number;
  readonly subcircuits?: readonly Subcircuit[];
  readonly models?: readonly DeviceModel[];
  readonly elements: readonly Element[];
  /** `.ic v(node)=V` entries. */
  readonly initialConditions?: readonly { readonly node: string; readonly voltageV: number }[];
  /** Vectors to save, as ngspice names them (`i(vm_x)`, `v(node)`); see `currentProbe`, `voltageProbe`. */
  readonly saves: readonly string[];
  readonly analysis: Analysis;
  /**
   * The XSPICE code-model library with `filesource` (`analog.cm`, an absolute path): recorded voltages are then
   * replayed from data files (`replayedText`) instead of `B` sources, and the deck is written by `writeDeckFiles`.
   */
  readonly replayCodemodel?: string;
}

/** ngspice's trtol when `.options` leave it (the transient's truncation-error overestimate factor). */
const NGSPICE_DEFAULT_TRTOL = 7;

/** The rawfile vector of the current through voltage source `V<name>` (e.g. a 0 V probe). */
export const currentProbe = (vsrcName: string): string => `i(v${vsrcName})`;
/** The rawfile vector of a node voltage. */
export const voltageProbe = (node: string): string => `v(${node})`;
/** The card name an element gets in the deck (`I<name>`, `V<name>`, `C<name>`, or the process's instance prefix for devices). */
export function cardName(e: Exclude<Element, { type: 'comment' }>, process: Process): string {
  const prefix = {
    mos: process.instance,
    isrc: 'I',
    vsrc: 'V',
    recorded: 'B',
    switch: 'S',
    inst: 'X',
    vccs: 'G',
    cap: 'C',
  }[e.type];
  return `${prefix}${e.name}`;
}

/** A node or element name: one token ngspice reads as a name (no blanks, no syntax characters). */
const NAME = /^[A-Za-z0-9_#.:+-]+$/;

/**
 * A vector to `.save` as the rawfile names it (lower case, as ngspice writes names): `v(node)` or `i(vname)` as
 * given, a bare node name as its voltage. Anything else could carry deck syntax onto the `.save` line.
 *
 * @throws InputError naming the refused text
 */
export function saveVector(text: string): string {
  const t = text.trim().toLowerCase();
  const inner = /^[vi]\((.*)\)$/.exec(t)?.[1];
  if (inner !== undefined && NAME.test(inner)) return t;
  if (NAME.test(t)) return voltageProbe(t);
  throw new InputError(
    `expected a vector to save: v(node), i(vname) or a node name (letters, digits, _#.:+-), got ${JSON.stringify(text)}`,
    { field: 'waveforms' },
  );
}

/** Write a deck as ngspice text (sections in a fixed order, `\n` line ends, `.end` last). */
export function writeDeck(deck: Deck, process: Process): string {
  const { netlist, dataFiles } = writeDeckFiles(deck, process);
  if (dataFiles.size > 0) throw new Error('internal: a deck that replays from data files is written by writeDeckFiles');
  return netlist;
}

/**
 * Write a deck as ngspice text and the data files it reads (by name, to go beside it: the runner's `dataFiles`):
 * with `replayCodemodel`, each recorded voltage's points and a preload block that loads the code model.
 */
export function writeDeckFiles(deck: Deck, process: Process): { netlist: string; dataFiles: Map<string, string> } {
  deck.modelLines.forEach((line, i) => checkModelLine(line, i, process));
  for (const field of ['nmos', 'pmos'] as const) {
    if (!NAME.test(process[field]))
      throw new InputError(`expected a device model name (one word), got ${JSON.stringify(process[field])}`, {
        file: processFile(process),
        field,
      });
  }
  // Saves share the .save line: one word each (a vector a caller passed on must not open a line of its own).
  for (const v of deck.saves) {
    if (!/^\S+$/.test(v) || CONTROL_CHARS.test(v))
      throw new InputError(`expected a vector to save as one word, got ${JSON.stringify(v)}`, { field: 'saves' });
  }
  const elements = deck.elements;
  for (const e of [...elements, ...(deck.supplies ?? []), ...(deck.subcircuits ?? []).flatMap((s) => s.elements)])
    checkNames(e);
  const dataFiles = new Map<string, string>();
  const lines = [
    `* ${commentText(deck.title)}`,
    ...(deck.notes ?? []).map((n) => `* ${commentText(n)}`),
    ...deck.modelLines,
    optionsLine(deck.options),
    ...(deck.supplies ?? []).map((s) => toSpice(s, process)),
    ...(deck.temperatureC !== undefined ? [`.temp ${num(deck.temperatureC)}`] : []),
    ...(deck.subcircuits ?? []).map((s) => subcircuitText(s, process)),
    ...(deck.models ?? []).map(modelLine),
    ...elements.map((e) => {
      if (e.type !== 'recorded' || deck.replayCodemodel === undefined) return toSpice(e, process);
      const r = replayedText(e, dataFiles.size);
      dataFiles.set(r.fileName, r.fileText);
      return r.lines;
    }),
    ...(deck.initialConditions && deck.initialConditions.length > 0
      ? [`.ic ${deck.initialConditions.map((c) => `${voltageProbe(c.node)}=${num(c.voltageV)}`).join(' ')}`]
      : []),
    `.save ${deck.saves.join(' ')}`,
    analysisLine(deck.analysis),
  ];
  if (dataFiles.size > 0)
    lines.push(...preloadBlock({ codemodels: [deck.replayCodemodel!], xtrtol: keptTrtol(deck.options) }));
  lines.push('.end');
  return { netlist: lines.join('\n') + '\n', dataFiles };
}

/**
 * The trtol a deck with XSPICE devices must ask to keep (`xtrtol`, an integer), or undefined when ngspice would not
 * lower it (1 or less).
 *
 * @throws InputError for a trtol `set xtrtol` cannot carry (not an integer)
 */
function keptTrtol(options: SpiceOptions): number | undefined {
  const trtol = options.trtol === undefined ? NGSPICE_DEFAULT_TRTOL : Number(options.trtol);
  if (trtol <= 1) return undefined;
  if (!Number.isInteger(trtol))
    throw new InputError(
      `expected an integer trtol with recorded voltages replayed from files, got ${JSON.stringify(options.trtol)}`,
      {
        field: 'options.trtol',
      },
    );
  return trtol;
}

function optionsLine(options: SpiceOptions): string {
  const entries = Object.entries(options).map(([k, v]) => {
    if (!/^[a-z_][a-z0-9_]*$/i.test(k) || (typeof v === 'string' && !NAME.test(v))) {
      throw new InputError(
        `expected an ngspice option name and a number or single word, got ${JSON.stringify(k)}=${JSON.stringify(v)}`,
        { field: `options.${k}` },
      );
    }
    return v === true ? k : `${k}=${v}`;
  });
  return `.options ${entries.join(' ')}`;
}

function subcircuitText(s: Subcircuit, process: Process): string {
  return [
    `.subckt ${s.name} ${s.ports.join(' ')}`,
    ...s.elements.map((e) => toSpice(e, process)),
    `.ends ${s.name}`,
  ].join('\n');
}

function modelLine(m: DeviceModel): string {
  return `.model ${m.name} ${m.kind} ${Object.entries(m.params)
    .map(([k, v]) => `${k}=${compactNum(v)}`)
    .join(' ')}`;
}

/** `num`, or its exponent form where shorter (`1e15`, not 16 digits), for model parameters a reader scans. */
function compactNum(v: number): string {
  const plain = num(v);
  const exp = Number(plain).toExponential().replace('e+', 'e');
  return exp.length < plain.length ? exp : plain;
}

function analysisLine(a: Analysis): string {
  switch (a.kind) {
    case 'tran':
      return `.tran ${num(a.tStepS)} ${num(a.tStopS)} ${num(a.tStartS)} ${num(a.tMaxS)}`;
    case 'dc':
      return `.dc ${a.source} ${num(a.start)} ${num(a.stop)} ${num(a.step)}`;
    case 'op':
      return '.op';
  }
}

/**
 * A process deck line is SPICE on purpose (it includes the kit), so it is checked, not escaped: one line, no
 * control characters (a kit folder with a newline in its name), and nothing ngspice would run as a command.
 */
function checkModelLine(line: string, index: number, process: Process): void {
  const where = { file: processFile(process), field: `deckLines.${index}` };
  if (CONTROL_CHARS.test(line)) {
    throw new InputError(
      `expected one deck line without control characters (a newline in a kit path?), got ${JSON.stringify(line)}`,
      where,
    );
  }
  if (controlLines(line).length > 0 || /^\s*\.end\s*$/i.test(line)) {
    throw new InputError(
      `expected a device-model line (.lib, .include, .param), got a line ngspice would run as a command or end the deck on: ${JSON.stringify(line)}`,
      where,
    );
  }
}

const processFile = (process: Process): string => `${process.dir}/process.json`;

function checkNames(e: Element): void {
  if (e.type === 'comment') return;
  const names = [e.name, ...terminals(e).map((t) => t.node), ...(e.type === 'inst' ? [e.subckt] : [])];
  const bad = names.find((n) => !NAME.test(n));
  // Names come from the generator, never from a user: a bad one is a bug, reported as such.
  if (bad !== undefined)
    throw new Error(
      `internal: element ${JSON.stringify(e.name)} has a node or name ngspice cannot read: ${JSON.stringify(bad)}`,
    );
}

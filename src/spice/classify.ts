/**
 * Turns what ngspice prints into classified messages. The patterns are ngspice 39's own texts, collected
 * by running broken decks (see test/spice/messages/); DESIGN.md §7 lists the ones that matter.
 *
 * Not every `Error`/`Warning` is a failure and not every failure says `Error`: `Note:` lines (gmin and
 * source stepping progress, "No compatibility mode selected!") never are, `Warning:` lines about singular
 * matrices and stepping usually are not (ngspice recovers), while a failed transient says only
 * `doAnalyses: TRAN:  Timestep too small; ...`. Whether a run failed is decided by the runner from these
 * messages, the exit code and the rawfile together.
 */

export type Severity = 'error' | 'warning' | 'note';

/**
 * What a message is about. The kinds shared with `SpiceErrorKind` are the failures that raise that error;
 * the others are context.
 */
export type MessageKind =
  | 'timestep-too-small' // doAnalyses: TRAN:  Timestep too small; time = ..., timestep = ...: trouble with node "x"
  | 'operating-point' // Transient op failed / The operating point could not be simulated / DC solution failed
  | 'unknown-model' // could not find a valid modelname (error); can't find model 'x' (warning naming it)
  | 'unknown-subckt' // Error: unknown subckt: x1 a b cell
  | 'missing-include' // Error: Could not find include file / library file ...
  | 'netlist' // Error on line N / Netlist line no. N / PTerror / wrong port count / unusual characters
  | 'simulation-aborted' // run simulation(s) aborted: follows the message that says why
  | 'not-run' // circuit not parsed / no circuits loaded / fatal error: follows the message that says why
  | 'singular-matrix' // Warning: singular matrix:  check node x
  | 'stepping' // gmin stepping, source stepping, transient op progress and give-ups
  | 'other';

/** One message of an ngspice run. */
export interface SpiceMessage {
  severity: Severity;
  kind: MessageKind;
  /** What ngspice said; for a multi-line report, its explaining line (the netlist line is in `lineText`). */
  text: string;
  /** 1-based netlist line the message is about, when ngspice gave one. */
  line?: number;
  /** The netlist line as ngspice echoed it (lower-cased, expressions expanded). */
  lineText?: string;
  /** The model, subcircuit, include path or node the message names. */
  subject?: string;
  /** Simulation time of a timestep failure (s). */
  timeS?: number;
  /** Time step at a timestep failure (s). */
  timestepS?: number;
}

/** A matched message and how many lines it took. */
interface Match {
  message: SpiceMessage;
  lines: number;
}

type Rule = (lines: readonly string[], i: number) => Match | undefined;

/**
 * Classifies ngspice's stdout or stderr text, message by message, in output order. Lines that are no
 * message (tables, banners, progress counters) are skipped.
 *
 * @example
 *   classifyNgspiceOutput('Error: Could not find include file /pdk/x.lib\n')
 *   // [{ severity: 'error', kind: 'missing-include', text: 'Error: Could not find include file /pdk/x.lib',
 *   //    subject: '/pdk/x.lib' }]
 */
export function classifyNgspiceOutput(text: string): SpiceMessage[] {
  const lines = logicalLines(text);
  const messages: SpiceMessage[] = [];
  for (let i = 0; i < lines.length;) {
    const match = firstMatch(lines, i);
    if (!match) {
      i += 1;
      continue;
    }
    messages.push(match.message);
    i += match.lines;
  }
  return withModelNames(messages);
}

/** Which error kind explains a failure best, most specific first. */
const ERROR_PRIORITY: readonly MessageKind[] = [
  'missing-include',
  'unknown-subckt',
  'unknown-model',
  'netlist',
  'operating-point',
  'timestep-too-small',
  'not-run',
  'simulation-aborted',
  'other',
];

/**
 * The error message that best explains a failed run: the most specific kind (a missing include explains
 * the "circuit not parsed" after it), and within a kind the first one that names a netlist line.
 */
export function primaryError(messages: readonly SpiceMessage[]): SpiceMessage | undefined {
  for (const kind of ERROR_PRIORITY) {
    const errors = messages.filter((m) => m.severity === 'error' && m.kind === kind);
    const best = errors.find((m) => m.line !== undefined) ?? errors[0];
    if (best) return best;
  }
  return undefined;
}

/**
 * Output lines, with messages that ngspice glued onto one line split apart: `Trying gmin = ...` and
 * `Supplies reduced to ...%` end without a newline, so the next `Note:`/`Warning:` follows on the same line; a long
 * transient's progress, `Reference value : <time>`, ends in a lone carriage return, so a failure follows the last
 * one on its line.
 */
function logicalLines(text: string): string[] {
  return text
    .split(/\r?\n|\r/)
    .flatMap((line) => line.split(/(?<=\S)\s+(?=(?:Note|Warning|Error):)/))
    .map((line) => line.trimEnd());
}

function firstMatch(lines: readonly string[], i: number): Match | undefined {
  for (const rule of RULES) {
    const match = rule(lines, i);
    if (match) return match;
  }
  return undefined;
}

/** A rule for a one-line message: a pattern, and what to make of its match. */
function oneLine(pattern: RegExp, make: (m: RegExpExecArray) => Omit<SpiceMessage, 'text'>): Rule {
  return (lines, i) => {
    const text = lines[i].trim();
    const m = pattern.exec(text);
    return m ? { message: { ...make(m), text }, lines: 1 } : undefined;
  };
}

type Fields = Partial<SpiceMessage>;
const error = (kind: MessageKind, extra: Fields = {}) => ({ severity: 'error' as const, kind, ...extra });
const warning = (kind: MessageKind, extra: Fields = {}) => ({ severity: 'warning' as const, kind, ...extra });
const note = (kind: MessageKind) => ({ severity: 'note' as const, kind });

/**
 * `doAnalyses: TRAN:  Timestep too small; time = 4.00948e-07, timestep = 1.25e-18: trouble with node "x"`
 * is a transient that stopped part way. Without a time (`initial timepoint`, or the `OP:` analysis) it is
 * the operating point that failed.
 */
const timestepTooSmall = oneLine(/^doAnalyses:\s*\w+:\s*Timestep too small;\s*(.*)$/, (m) => {
  const at = /time = ([^,\s]+), timestep = ([^:\s]+)/.exec(m[1]);
  const node = /trouble with (?:node )?"?([^"]+?)"?\s*$/.exec(m[1])?.[1];
  const subject = node === undefined ? {} : { subject: node };
  if (!at) return error('operating-point', subject);
  return error('timestep-too-small', { timeS: Number(at[1]), timestepS: Number(at[2]), ...subject });
});

/**
 * `Error on line 4 or its substitute:` / the echoed line / the reason. The reason
 * `could not find a valid modelname` is ngspice 39's only word on an unknown model.
 */
const errorOnLine: Rule = (lines, i) => {
  const m = /^Error on line (\d+)/.exec(lines[i]);
  if (!m) return undefined;
  const lineText = lines[i + 1]?.trim();
  const reason = lines[i + 2]?.trim() || lines[i].trim();
  const kind = /could not find a valid modelname/i.test(reason) ? 'unknown-model' : 'netlist';
  return { message: { ...error(kind, { line: Number(m[1]), lineText }), text: reason }, lines: 3 };
};

/** `Netlist line no. 3:` / the reason, e.g. `Undefined parameter [rval]`. */
const netlistLineNo: Rule = (lines, i) => {
  const m = /^Netlist line no\. (\d+):/.exec(lines[i]);
  if (!m) return undefined;
  const reason = lines[i + 1]?.trim() || lines[i].trim();
  return { message: { ...error('netlist', { line: Number(m[1]) }), text: reason }, lines: 2 };
};

/** `warning, can't find model 'nosuchmodel' from line` / the echoed line: names the model of the error after it. */
const cantFindModel: Rule = (lines, i) => {
  const m = /^warning, can't find model '([^']+)'/i.exec(lines[i]);
  if (!m) return undefined;
  const lineText = lines[i + 1]?.trim();
  return { message: { ...warning('unknown-model', { subject: m[1], lineText }), text: lines[i].trim() }, lines: 2 };
};

/** `Warning: Unusual leading characters ...` / ... / `Check line no 4:  %%% garbage`: that line becomes a comment. */
const unusualCharacters: Rule = (lines, i) => {
  if (!/^Warning: Unusual leading characters/.test(lines[i])) return undefined;
  let n = 1;
  while (i + n < lines.length && /^\s+\S/.test(lines[i + n])) n += 1;
  const check = lines
    .slice(i, i + n)
    .map((l) => /Check line no (\d+):\s*(.*)$/.exec(l))
    .find((m) => m);
  const extra = check ? { line: Number(check[1]), lineText: check[2] } : {};
  return { message: { ...warning('netlist', extra), text: lines[i].trim() }, lines: n };
};

/** The subcircuit name of `x1 b 0 nosuchcell w=1`: the last word that is no parameter. */
function subcktName(instance: string): string | undefined {
  return instance
    .split(/\s+/)
    .filter((word) => word !== '' && !word.includes('=') && !word.endsWith(':'))
    .at(-1);
}

const RULES: readonly Rule[] = [
  timestepTooSmall,
  errorOnLine,
  netlistLineNo,
  cantFindModel,
  unusualCharacters,
  oneLine(/^Error: Transient op failed/, () => error('operating-point')),
  oneLine(/operating point could not be simulated/i, () => error('operating-point')),
  oneLine(/^(?:DC|Transient) solution failed/, () => error('operating-point')),
  oneLine(/^Error: unknown subckt:\s*(.*)$/, (m) =>
    error('unknown-subckt', { subject: subcktName(m[1]), lineText: m[1] }),
  ),
  oneLine(/^Too (?:few|many) parameters for subcircuit type "([^"]+)"/, (m) => error('netlist', { subject: m[1] })),
  oneLine(/^Error: Could not find (?:include|library) file (.+)$/, (m) =>
    error('missing-include', { subject: m[1].trim() }),
  ),
  oneLine(/^ERROR, library file (.+) not found/, (m) => error('missing-include', { subject: m[1].trim() })),
  oneLine(/^PTerror:/, () => error('netlist')),
  oneLine(/^Warning: singular matrix:\s*check node\s*(.*)$/, (m) =>
    warning('singular-matrix', { subject: m[1].trim() }),
  ),
  oneLine(/run simulation\(s\) aborted/, () => error('simulation-aborted')),
  oneLine(/^Error: circuit not parsed|^Error: there aren't any circuits loaded|^ERROR: fatal error/, () =>
    error('not-run'),
  ),
  oneLine(/no simulation run|Simulation interrupted due to error/, () => error('not-run')),
  oneLine(/^Warning:.*(?:gmin|source stepping)/i, () => warning('stepping')),
  oneLine(/^Note:.*(?:gmin|source step|stepping|Transient op)/i, () => note('stepping')),
  oneLine(/^(?:Error|ERROR)\b/, () => error('other')),
  oneLine(/^warning\b/i, () => warning('other')),
  oneLine(/^Note\b/, () => note('other')),
];

/** ngspice names an unknown model only in the warning before the error: copy the name onto the error. */
function withModelNames(messages: SpiceMessage[]): SpiceMessage[] {
  let lastModel: string | undefined;
  return messages.map((m) => {
    if (m.kind !== 'unknown-model') return m;
    if (m.severity === 'warning') lastModel = m.subject;
    const unnamed = m.severity === 'error' && m.subject === undefined;
    return unnamed && lastModel !== undefined ? { ...m, subject: lastModel } : m;
  });
}

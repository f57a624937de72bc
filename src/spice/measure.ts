/**
 * `.meas` and `.print` of a user's deck. ngspice 39 evaluates neither when it writes a rawfile (`-b -r`: it prints
 * `No .measure possible in batch mode (-b) with -r rawfile set!` and drops `.print` tables), so a deck that has
 * them is run a second time without `-r`, and what that run prints is read here.
 */

/** One `.meas` result as ngspice printed it. */
export interface Measurement {
  /** The analysis it belongs to, as ngspice names it (`Transient Analysis`). */
  readonly analysis: string;
  readonly name: string;
  /** The value; null when ngspice said the measurement failed. */
  readonly value: number | null;
  /** Extra fields ngspice printed (`at`, `from`, `to`). */
  readonly extra: Readonly<Record<string, number>>;
  /** ngspice's words when it failed (`out of interval`). */
  readonly error?: string;
}

/** Whether a deck has `.meas`/`.measure` or `.print` lines (outside comments). */
export function measureLines(deckText: string): { measures: boolean; prints: boolean } {
  const lines = deckText.split(/\r?\n/).map((l) => l.trim().toLowerCase());
  return { measures: lines.some((l) => /^\.meas(ure)?\b/.test(l)), prints: lines.some((l) => /^\.print\b/.test(l)) };
}

const SECTION = /^\s*Measurements for (.+?)\s*$/;
const RESULT = /^(\S+)\s+=\s+(\S+)((?:\s+\w+=\s*\S+)*)\s*$/;
/** ngspice echoes a failed measurement's line on stderr: ` .meas tran tnever when v(out)=2 cross=1 failed!`. */
const FAILED = /^\s*\.meas\w*\s+(\w+)\s+(\S+)\b.*\bfailed!\s*$/i;
/** ... after saying why: `Error: measure  tnever  when(WHEN) : out of interval`. */
const ERROR = /^Error: measure\s+(\S+)\s+[^:]*:\s*(.*)$/;
const ANALYSIS_OF: Readonly<Record<string, string>> = {
  tran: 'Transient Analysis',
  ac: 'AC Analysis',
  dc: 'DC transfer characteristic',
  op: 'Operating Point',
  noise: 'Noise Analysis',
};

/**
 * The measurements of ngspice's batch run without `-r`: from stdout, the `name = value [key= value ...]` lines under
 * a `Measurements for <analysis>` heading; from stderr, the `... failed!` lines of those that could not be
 * measured, with the reason the `Error: measure` line before gave.
 */
export function parseMeasurements(stdout: string, stderr = ''): Measurement[] {
  const out: Measurement[] = [];
  let analysis: string | undefined;
  for (const line of stdout.split(/\r?\n/)) {
    const section = SECTION.exec(line);
    if (section) analysis = section[1];
    else if (/^\s*Total analysis time/.test(line)) analysis = undefined;
    else if (analysis !== undefined) {
      const m = RESULT.exec(line.trim());
      if (m && Number.isFinite(Number(m[2]))) {
        const extra = Object.fromEntries([...m[3].matchAll(/(\w+)=\s*(\S+)/g)].map((x) => [x[1], Number(x[2])]));
        out.push({ analysis, name: m[1], value: Number(m[2]), extra });
      }
    }
  }
  const why = new Map<string, string>();
  for (const line of stderr.split(/\r?\n/)) {
    const err = ERROR.exec(line.trim());
    if (err) why.set(err[1].toLowerCase(), err[2].trim());
    const failed = FAILED.exec(line);
    if (failed) {
      const name = failed[2].toLowerCase();
      out.push({
        analysis: ANALYSIS_OF[failed[1].toLowerCase()] ?? failed[1],
        name,
        value: null,
        extra: {},
        error: why.get(name) ?? 'failed',
      });
    }
  }
  return out;
}

/** The `.print` tables of ngspice's batch output: from the first `Index` header to the end of the last table. */
export function printedTables(stdout: string): string {
  const lines = stdout.split(/\r?\n/);
  const first = lines.findIndex((l) => /^Index\s+\S/.test(l));
  if (first < 0) return '';
  // Each table starts with the deck title and analysis name two lines above its `Index` header.
  const start = Math.max(0, first - 3);
  let end = lines.length;
  for (let i = lines.length - 1; i > first; i--) {
    if (/^\d+\s+\S/.test(lines[i])) {
      end = i + 1;
      break;
    }
  }
  return lines.slice(start, end).join('\n') + '\n';
}

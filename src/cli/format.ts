/** Plain-text tables and number formats for terminal reports. */

/** Render rows as an aligned table with a header rule. */
export function table(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [header, ...rows].map((r) => r.map((c) => String(c)));
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

/** A confusion matrix (`m[target][decision]` clips) as a text table: rows the true class, columns the decision. */
export function confusionTable(m: readonly (readonly number[])[], classes: readonly string[]): string {
  return table(
    ['true \\ decided', ...classes],
    m.map((row, k) => [classes[k], ...row]),
  );
}

export const pct = (v: number, digits = 2): string => `${(100 * v).toFixed(digits)}%`;

/** Seconds with an SI prefix (s, ms, us). */
export function seconds(v: number | null): string {
  if (v === null) return '-';
  if (v >= 1) return `${v.toFixed(2)} s`;
  if (v >= 1e-3) return `${(v * 1e3).toFixed(2)} ms`;
  return `${(v * 1e6).toFixed(1)} us`;
}

/** Watts with an SI prefix. */
export function watts(v: number): string {
  const units: [number, string][] = [
    [1e-3, 'mW'],
    [1e-6, 'uW'],
    [1e-9, 'nW'],
    [1e-12, 'pW'],
  ];
  for (const [scale, unit] of units) if (Math.abs(v) >= scale) return `${(v / scale).toFixed(2)} ${unit}`;
  return `${(v / 1e-12).toFixed(3)} pW`;
}

/** Amperes with an SI prefix (down to fA: pA-level errors are what matter next to the cells' thresholds). */
export function amps(v: number): string {
  const units: [number, string][] = [
    [1e-3, 'mA'],
    [1e-6, 'uA'],
    [1e-9, 'nA'],
    [1e-12, 'pA'],
  ];
  for (const [scale, unit] of units) if (Math.abs(v) >= scale) return `${(v / scale).toFixed(2)} ${unit}`;
  return `${(v / 1e-15).toFixed(2)} fA`;
}

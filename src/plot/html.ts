/** Writing plots to disk: single SVG files and a self-contained HTML page that embeds several of them inline. */
import { makeDir, writeFileAtomic } from '../util/output.js';
import { dirname } from 'node:path';

export interface Section {
  readonly heading: string;
  /** An SVG string from lineChart/histogram (or an HTML fragment such as a table), embedded inline with its ids made unique in the page. */
  readonly svg: string;
  readonly caption?: string;
}

/** Page width cap in px: one chart per row at about its natural size, readable without zooming. */
const MAX_PAGE_WIDTH = 900;

/** Escapes text for HTML element content and double-quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Only system fonts and inline SVG: the page must open from a file on a machine without network access. */
function style(): string {
  return [
    `body { font-family: sans-serif; max-width: ${MAX_PAGE_WIDTH}px; margin: 2em auto; padding: 0 1em; color: #222; }`,
    'figure { margin: 0 0 2.5em 0; }',
    'figure svg { max-width: 100%; height: auto; }',
    'figcaption { color: #555; margin-top: 0.5em; }',
    'table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: right; }',
  ].join('\n');
}

/**
 * Prefixes the SVG's ids and references to them: SVGs rendered in different processes reuse ids such as
 * 'clip1', and inline in one page a reference would resolve to another plot's clip path.
 */
export function scopeIds(svg: string, prefix: string): string {
  return svg
    .replace(/(\s)id="([^"]+)"/g, `$1id="${prefix}$2"`)
    .replace(/url\(#([^)]+)\)/g, `url(#${prefix}$1)`)
    .replace(/href="#([^"]+)"/g, `href="#${prefix}$1"`);
}

/** One self-contained HTML page (inline SVG and CSS, no scripts, fonts or other external files) of headed plots. */
export function htmlPage(title: string, sections: readonly Section[]): string {
  const figures = sections.map((s, i) =>
    [
      '<section>',
      `<h2>${escapeHtml(s.heading)}</h2>`,
      '<figure>',
      scopeIds(s.svg, `plot${i + 1}-`),
      ...(s.caption !== undefined ? [`<figcaption>${escapeHtml(s.caption)}</figcaption>`] : []),
      '</figure>',
      '</section>',
    ].join('\n'),
  );
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8" />',
    `<title>${escapeHtml(title)}</title>`,
    `<style>\n${style()}\n</style>`,
    '</head>',
    '<body>',
    `<h1>${escapeHtml(title)}</h1>`,
    ...figures,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** Writes an SVG (or HTML page) to `path` atomically (util/output.ts), creating missing parent folders. */
export async function writePlot(path: string, content: string): Promise<void> {
  await makeDir(dirname(path));
  await writeFileAtomic(path, content);
}

/**
 * The stage graph of docs/architecture.md, enforced: data flows params -> netlist -> ngspice -> waveforms ->
 * comparison -> report, so a stage imports only the stages below it. A new edge must be added here (and to
 * the doc) on purpose, not arrive with a convenient import.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers.js';

const SRC = path.join(REPO_ROOT, 'src');

/** Which stages each stage may import (besides itself). `errors` and `pipeline` are the root files src/errors.ts and src/pipeline.ts. */
export const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  errors: [],
  util: ['errors'],
  model: ['errors', 'util'],
  spice: ['errors', 'util'],
  netlist: ['errors', 'util', 'model', 'spice'],
  compare: ['errors', 'util', 'model', 'netlist', 'spice'],
  pipeline: ['errors', 'util', 'model', 'netlist', 'spice', 'compare'],
  calibrate: ['errors', 'util', 'netlist', 'spice', 'compare'],
  audio: ['errors', 'util', 'model'],
  plot: ['errors', 'util'],
  train: ['errors', 'util', 'model', 'audio', 'plot'],
  jobs: ['errors', 'util', 'model', 'netlist', 'spice', 'compare', 'pipeline', 'plot'],
  analysis: ['errors', 'util', 'model', 'netlist', 'spice', 'compare', 'pipeline', 'jobs', 'audio'],
  cli: [
    'errors',
    'util',
    'model',
    'netlist',
    'spice',
    'compare',
    'pipeline',
    'calibrate',
    'audio',
    'plot',
    'train',
    'jobs',
    'analysis',
  ],
  index: [
    'errors',
    'util',
    'model',
    'netlist',
    'spice',
    'compare',
    'pipeline',
    'calibrate',
    'audio',
    'train',
    'jobs',
    'analysis',
  ],
};

/** The stage of a file under src/: its top folder, or the root file's name. */
function stageOf(file: string): string {
  const rel = path.relative(SRC, file).split(path.sep);
  return rel.length > 1 ? rel[0] : rel[0].replace(/\.(ts|js)$/, '');
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Every cross-stage import in src/ as `from -> to (file)`. */
function edges(): { from: string; to: string; file: string }[] {
  return sources(SRC).flatMap((file) => {
    const text = readFileSync(file, 'utf8');
    const specs = [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) => m[1]);
    return specs
      .map((spec) => ({
        from: stageOf(file),
        to: stageOf(path.resolve(path.dirname(file), spec)),
        file: path.relative(REPO_ROOT, file),
      }))
      .filter((e) => e.from !== e.to);
  });
}

describe('stage graph', () => {
  it('every stage folder of src/ has a row, and an index.ts that is its public face (cli: main.ts)', () => {
    const folders = readdirSync(SRC, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    for (const f of folders) {
      expect(ALLOWED, f).toHaveProperty(f);
      expect(readdirSync(path.join(SRC, f)), f).toContain(f === 'cli' ? 'main.ts' : 'index.ts');
    }
  });

  it('no import runs against the data flow', () => {
    const bad = edges()
      .filter((e) => !(ALLOWED[e.from] ?? []).includes(e.to))
      .map((e) => `${e.file}: ${e.from} -> ${e.to}`);
    expect(bad).toEqual([]);
  });

  it('finds the imports it checks (a parser that matched nothing would pass the test above)', () => {
    const all = edges();
    expect(all.some((e) => e.from === 'cli' && e.to === 'pipeline')).toBe(true);
    expect(all.some((e) => e.from === 'netlist' && e.to === 'model')).toBe(true);
    expect(all.length).toBeGreaterThan(100);
  });
});

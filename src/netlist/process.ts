/**
 * A process description (`models/<name>/process.json`): which device models to instantiate, how to pull
 * them into a deck, the supply, the layout grid and the default device sizes of the generated circuit.
 * `{dir}` in deck lines is the folder of the process.json; `{kit}` is a user-given kit folder (so a user points
 * the generator at their own copy of a PDK without code changes).
 */
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, resolve, sep } from 'node:path';
import { z } from 'zod';
import { InputError, parseWith } from '../errors.js';
import { strictObject } from '../util/schema.js';

export const SizingSchema = strictObject({
  /** Width of a unity-gain mirror device (um); weight W is realised as output width |W| * unitWidthUm. */
  unitWidthUm: z.number().positive(),
  /** Channel length of mirrors and bias devices (um). */
  mirrorLengthUm: z.number().positive(),
  /** Width (um) and length (um) of the cell's switch devices M3, M6 (gate = V0). */
  switchWidthUm: z.number().positive(),
  switchLengthUm: z.number().positive(),
});

/** Pelgrom coefficients of one polarity: sigma(dVth) = avtMvUm / sqrt(W L), sigma(dBeta/beta) = abetaPctUm / sqrt(W L). */
const PelgromSchema = z.object({ avtMvUm: z.number().nonnegative(), abetaPctUm: z.number().nonnegative() });
/** A global shift of one polarity: |V_th| up by dVthMv, beta up by dBetaPct. */
const SkewSchema = z.object({ dVthMv: z.number(), dBetaPct: z.number().gt(-100) });

/**
 * The layout rule that gives every transistor its drain/source junctions (elements.ts junctionFromDiffusion): how
 * far source and drain diffusion extend from the gate edge (um), and where that figure comes from.
 */
const JunctionsSchema = strictObject({ diffusionLengthUm: z.number().positive(), source: z.string().min(1) });

/** A [min, max] range of positive values with min < max. */
const RangeSchema = z
  .tuple([z.number().positive(), z.number().positive()])
  .refine(([lo, hi]) => lo < hi, { error: 'expected [min, max] with min < max' });

// Strict: a misspelt optional key (sizing, mismatch, corners) would silently fall back to the defaults.
const ProcessSchema = strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  notes: z.string().optional(),
  vddV: z.number().positive(),
  nmos: z.string().min(1),
  pmos: z.string().min(1),
  instance: z.enum(['M', 'X']),
  deckLines: z.array(z.string()),
  ngspiceArgs: z.array(z.string()).default([]),
  minWidthUm: z.number().positive(),
  widthGridUm: z.number().positive(),
  minLengthUm: z.number().positive(),
  /** Longest channel the device models cover (binned kits: the last bin's lmax); absent: no limit. */
  maxLengthUm: z.number().positive().optional(),
  /** Source of every NMOS mirror device (V above ground), netlist/supplies.ts `nmosSource`; absent: ground. */
  nmosSourceV: z.number().nonnegative().optional(),
  corners: z.record(z.string(), z.array(z.string())).optional(),
  /** Local mismatch coefficients per polarity, with where they come from. */
  mismatch: z.object({ n: PelgromSchema, p: PelgromSchema, source: z.string().optional() }).optional(),
  /** Corners made by skewing every device of a polarity (for cards that have none). */
  skewCorners: z.record(z.string(), z.object({ n: SkewSchema.optional(), p: SkewSchema.optional() })).optional(),
  sizing: SizingSchema.partial().optional(),
  /** Diffusion rule for junction areas and perimeters (AD/AS/PD/PS); absent: devices without junctions. */
  junctions: JunctionsSchema.optional(),
  /**
   * Low-pass at every cell's input against edge glitches: capacitance per ampere of the cell's beta_lo (F/A;
   * generate.ts GenerateOptions.cellInputCapFPerA). Absent: no capacitor.
   */
  cellInputCapFPerA: z.number().nonnegative().optional(),
  /** Default kit folder, relative to the process.json, used when the user gives none. */
  defaultKitDir: z.string().optional(),
  /**
   * Currents (A) the circuit may be asked for: I_unit, cell thresholds and ON levels, |biases| (top end). The
   * calibration's measured range is used when there is one, narrowed by this (netlist/ranges.ts).
   */
  currentRangeA: RangeSchema.optional(),
  /** Frame times (s) the circuit may be driven at (default: netlist/ranges.ts DEFAULT_FRAME_RANGE_S). */
  frameRangeS: RangeSchema.optional(),
});

export type Sizing = z.infer<typeof SizingSchema>;
export type JunctionRule = z.infer<typeof JunctionsSchema>;
export type Pelgrom = z.infer<typeof PelgromSchema>;
export type DeviceSkew = z.infer<typeof SkewSchema>;

/**
 * Default device sizes. Mirrors and bias devices use L = 8 um: a copy sourcing into a diode node sees ~1.5 V
 * more drain voltage than its reference, and DIBL then adds 6% (NMOS) / 2% (PMOS) of gain at L = 4 um but
 * 3% / 1% at L = 8 um (c180, 0.1-10 nA), flat enough for one calibration point to hold over the range.
 */
export const DEFAULT_SIZING: Sizing = { unitWidthUm: 2, mirrorLengthUm: 8, switchWidthUm: 0.5, switchLengthUm: 2 };

/** A loaded process: deck lines with {dir}/{kit} resolved to absolute paths. */
export interface Process {
  readonly name: string;
  readonly description: string;
  readonly vddV: number;
  readonly nmos: string;
  readonly pmos: string;
  readonly instance: 'M' | 'X';
  readonly deckLines: readonly string[];
  readonly ngspiceArgs: readonly string[];
  readonly minWidthUm: number;
  readonly widthGridUm: number;
  readonly minLengthUm: number;
  readonly maxLengthUm?: number;
  readonly nmosSourceV?: number;
  readonly corners: Readonly<Record<string, readonly string[]>>;
  readonly mismatch?: { readonly n: Pelgrom; readonly p: Pelgrom; readonly source?: string };
  readonly skewCorners: Readonly<Record<string, { readonly n?: DeviceSkew; readonly p?: DeviceSkew }>>;
  readonly sizing: Sizing;
  /** Diffusion rule for every transistor's junctions (generate.ts writes them unless told not to). */
  readonly junctions?: JunctionRule;
  /** Cell input capacitor per ampere of beta_lo (F/A; generate.ts GenerateOptions.cellInputCapFPerA); undefined: none. */
  readonly cellInputCapFPerA?: number;
  /** Currents (A) this process states it realises, [min, max]; see netlist/ranges.ts. */
  readonly currentRangeA?: readonly [number, number];
  /** Frame times (s) this process states it runs at, [min, max]. */
  readonly frameRangeS?: readonly [number, number];
  /** Folder holding process.json (calibration tables live beside it). */
  readonly dir: string;
}

/** Load and validate `process.json`; `kitDir` replaces `{kit}` (default: the file's `defaultKitDir`). */
export async function loadProcess(path: string, kitDir?: string): Promise<Process> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read process file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, {
      file: path,
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InputError(`expected valid JSON (${(e as Error).message})`, { file: path });
  }
  const p = parseWith(ProcessSchema, raw, path);
  const dir = dirname(resolve(path));
  // --kit, else BMRU_KIT (one setting for every command, and for an installed package, whose shipped default
  // beside the repository does not exist), else the process's default.
  const given = kitDir ?? (process.env.BMRU_KIT || undefined);
  const kit = given ? resolve(given) : p.defaultKitDir ? resolve(dir, p.defaultKitDir) : undefined;
  let kitChecked = false;
  const fill = (line: string): string => {
    if (line.includes('{kit}') && !kit) {
      throw new InputError('deck line uses {kit} but no kit folder was given (use --kit DIR or set BMRU_KIT)', {
        file: path,
        field: 'deckLines',
      });
    }
    if (line.includes('{kit}') && !kitChecked) {
      // Checked here, where the kit is needed, rather than left to ngspice: its "could not find include file"
      // comes after the deck is built and a work dir made, and does not say which option to fix.
      if (!isDirectory(kit!)) {
        throw given
          ? new InputError(
              `${existsSync(kit!) ? 'not a folder' : 'no such folder'}: expected the PDK folder whose ngspice models the deck lines include as {kit}`,
              { file: kit, field: kitDir ? 'kit' : 'BMRU_KIT' },
            )
          : new InputError(
              `the default kit folder ${kit} does not exist: give the PDK folder with --kit DIR or BMRU_KIT=DIR`,
              { file: path, field: 'defaultKitDir' },
            );
      }
      kitChecked = true;
    }
    return line.replaceAll('{dir}', dir).replaceAll('{kit}', kit ?? '');
  };
  return {
    name: p.name,
    description: p.description ?? p.name,
    vddV: p.vddV,
    nmos: p.nmos,
    pmos: p.pmos,
    instance: p.instance,
    deckLines: p.deckLines.map(fill),
    ngspiceArgs: p.ngspiceArgs,
    minWidthUm: p.minWidthUm,
    widthGridUm: p.widthGridUm,
    minLengthUm: p.minLengthUm,
    maxLengthUm: p.maxLengthUm,
    nmosSourceV: p.nmosSourceV,
    corners: Object.fromEntries(Object.entries(p.corners ?? {}).map(([k, v]) => [k, v.map(fill)])),
    mismatch: p.mismatch,
    skewCorners: p.skewCorners ?? {},
    sizing: { ...DEFAULT_SIZING, ...p.sizing },
    junctions: p.junctions,
    cellInputCapFPerA: p.cellInputCapFPerA,
    currentRangeA: p.currentRangeA,
    frameRangeS: p.frameRangeS,
    dir,
  };
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Deck lines that travel with the deck: an `.include` / `.lib` of a file inside the process folder (the embedded
 * card, `{dir}/...`) becomes its bare file name, to be copied next to the deck (ngspice resolves a relative include
 * from the deck's folder); files elsewhere (a PDK kit) keep their absolute path and are listed in `external`.
 */
export function portableDeckLines(
  lines: readonly string[],
  processDir: string,
): { lines: string[]; copies: { from: string; name: string }[]; external: string[] } {
  const copies: { from: string; name: string }[] = [];
  const external: string[] = [];
  const inside = processDir.endsWith(sep) ? processDir : processDir + sep;
  const out = lines.map((line) => {
    const m = /^(\.include|\.lib)\s+(\S+)(.*)$/i.exec(line.trim());
    if (!m || !isAbsolute(m[2])) return line;
    if (!m[2].startsWith(inside)) {
      external.push(m[2]);
      return line;
    }
    const name = basename(m[2]);
    if (copies.some((c) => c.name === name && c.from !== m[2])) {
      external.push(m[2]); // two files of one name: the second keeps its path
      return line;
    }
    if (!copies.some((c) => c.from === m[2])) copies.push({ from: m[2], name });
    return `${m[1]} ${name}${m[3]}`;
  });
  return { lines: out, copies, external };
}

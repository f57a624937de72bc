/**
 * The compare run as a designer reads it: node voltages and branch currents against time, in volts, amperes and
 * seconds, with the levels that decide each cell and the software model's per-frame values beside them.
 */
import type { CosimResult } from '../pipeline.js';
import { cellThresholds } from '../model/types.js';
import { series, type RawPlot } from '../spice/rawfile.js';
import { DOMAINS } from '../netlist/generate.js';
import { amps } from './format.js';
import type { ChartRow, Trace, WaveEvent, WavePageSpec } from '../plot/waveforms.js';

export interface ComparePageOptions {
  readonly title: string;
  /** The terminal report (formatCosim), shown as the page's summary. */
  readonly summary: string;
  readonly vddV: number;
  /** More vectors to chart, as the rawfile names them (`v(node)`, `i(vm_x)`). */
  readonly extraVectors?: readonly string[];
}

/** A constant drawn across the whole run. */
function level(name: string, value: number, tStopS: number): Trace {
  return { name, kind: 'level', tS: [0, tStopS], y: [value, value] };
}

/** Per-frame values as steps: each held from its frame's start, the last one to the end of the run. */
function steps(name: string, perFrame: ArrayLike<number>, frameS: number, tStopS: number): Trace {
  const n = perFrame.length;
  const tS = Array.from({ length: n + 1 }, (_, t) => Math.min(t * frameS, tStopS));
  const y = Array.from({ length: n + 1 }, (_, t) => perFrame[Math.min(t, n - 1)]);
  return { name, kind: 'software', tS, y };
}

/** Unit-frames (frame, block, unit) where the circuit's or the model's state changed from the frame before. */
function switchingEvents(r: CosimResult): { frame: number; block: number; unit: number; what: string }[] {
  const S = r.generated.realised.cells;
  const init = r.generated.realised.blocks.map((b) => cellThresholds(b.cell).s0);
  const out: { frame: number; block: number; unit: number; what: string }[] = [];
  for (let t = 0; t < r.circuit.frames; t++) {
    r.circuit.states.forEach((circuit, k) => {
      const model = r.software.states[k];
      for (let j = 0; j < S; j++) {
        const before = (x: Uint8Array) => (t === 0 ? init[k][j] : x[(t - 1) * S + j]);
        const parts: string[] = [];
        if (circuit[t * S + j] !== before(circuit)) parts.push(`circuit ${before(circuit)}->${circuit[t * S + j]}`);
        if (model[t * S + j] !== before(model)) parts.push(`model ${before(model)}->${model[t * S + j]}`);
        if (parts.length > 0) out.push({ frame: t, block: k, unit: j, what: parts.join(', ') });
      }
    });
  }
  return out;
}

const rowId = (block: number, unit: number) => `b${block}u${unit}`;

/** A circuit vector with its own time grid (a partitioned run's vectors keep their partitions' grids). */
function circuitTrace(plot: RawPlot, name: string): { tS: Float64Array; y: Float64Array } {
  const { timeS, y } = series(plot, name);
  return { tS: timeS, y };
}

/**
 * The page's charts and events: per cell, V0 against VDD/2 (with the model's state as 0 / VDD steps) and the
 * candidate current against beta_lo and beta_hi times I_unit of the realised network (with the verdict's
 * reference's candidate as steps); the supply current of each domain; any extra vectors asked for.
 */
export function comparePageSpec(r: CosimResult, plot: RawPlot, opts: ComparePageOptions): WavePageSpec {
  const net = r.generated.realised;
  const frameS = net.frameS;
  const tStopS = r.generated.tStopS;
  const unitA = net.unitCurrentA;
  const S = net.cells;
  const T = r.circuit.frames;
  const ref = r.reference;
  const disagreeing = new Map<string, number[]>();
  for (const d of r.comparison.disagreements) {
    const key = rowId(d.block, d.unit);
    disagreeing.set(key, [...(disagreeing.get(key) ?? []), d.frame]);
  }
  const cellRows: ChartRow[] = r.generated.probes.cellNodes.flatMap((nodes, k) => {
    const th = cellThresholds(net.blocks[k].cell);
    return nodes.map((v0, j) => {
      const id = rowId(k, j);
      const pick = (x: ArrayLike<number>, scale: number) =>
        Float64Array.from({ length: T }, (_, t) => x[t * S + j] * scale);
      const candidate = r.generated.probes.candidates[k][j];
      return {
        id,
        heading: `block ${k}, cell ${j}`,
        charts: [
          {
            id: `${id}-v0`,
            title: `state node ${v0} (V)`,
            unit: 'V' as const,
            shadeFrames: disagreeing.get(id),
            traces: [
              { name: `circuit ${v0}`, kind: 'circuit' as const, ...circuitTrace(plot, v0) },
              level('VDD/2 (the state threshold)', opts.vddV / 2, tStopS),
              steps(`${ref} model state (0 / VDD)`, pick(r.software.states[k], opts.vddV), frameS, tStopS),
            ],
          },
          {
            id: `${id}-cand`,
            title: `candidate current ${candidate} (A)`,
            unit: 'A' as const,
            shadeFrames: disagreeing.get(id),
            traces: [
              { name: `circuit ${candidate}`, kind: 'circuit' as const, ...circuitTrace(plot, candidate) },
              level(`beta_lo x I_unit = ${amps(th.betaLo[j] * unitA)}`, th.betaLo[j] * unitA, tStopS),
              level(`beta_hi x I_unit = ${amps(th.betaHi[j] * unitA)}`, th.betaHi[j] * unitA, tStopS),
              steps(`${ref} model candidate`, pick(r.software.candidates[k], unitA), frameS, tStopS),
            ],
          },
        ],
      };
    });
  });
  const supplies: ChartRow = {
    id: 'supplies',
    heading: 'supply current per domain (delivered)',
    charts: DOMAINS.map((d) => {
      const name = r.generated.probes.supplies[d];
      // A source's branch current is negative when it delivers power (as sampleCircuit reports it).
      const { tS, y: branch } = circuitTrace(plot, name);
      const y = Float64Array.from(branch, (v) => -v);
      return {
        id: `supply-${d}`,
        title: `${d} domain: -${name} (A)`,
        unit: 'A' as const,
        traces: [
          { name: `circuit -${name}`, kind: 'circuit' as const, tS, y },
          level(`mean ${amps(r.circuit.supplyMeanA[d])}`, r.circuit.supplyMeanA[d], tStopS),
        ],
      };
    }),
  };
  const extra = opts.extraVectors ?? [];
  const extraRows: ChartRow[] =
    extra.length === 0
      ? []
      : [
          {
            id: 'extra',
            heading: 'vectors asked for (--waveforms)',
            charts: extra.map((name, i) => ({
              id: `extra-${i}`,
              title: name,
              unit: /^i\(|#branch$/i.test(name) ? ('A' as const) : ('V' as const),
              traces: [{ name: `circuit ${name}`, kind: 'circuit' as const, ...circuitTrace(plot, name) }],
            })),
          },
        ];
  const events: WaveEvent[] = [
    ...r.comparison.disagreements.map((d) => ({
      frame: d.frame,
      kind: 'disagreement' as const,
      row: rowId(d.block, d.unit),
      label: `disagreement: frame ${d.frame}, block ${d.block}, cell ${d.unit} (model ${d.software}, circuit ${d.circuit}, margin ${(d.relMargin * 100).toFixed(1)}%)`,
    })),
    ...switchingEvents(r).map((e) => ({
      frame: e.frame,
      kind: 'switch' as const,
      row: rowId(e.block, e.unit),
      label: `switch: frame ${e.frame}, block ${e.block}, cell ${e.unit} (${e.what})`,
    })),
  ];
  return {
    title: opts.title,
    summary: opts.summary,
    frameS,
    tStopS,
    rows: [...cellRows, supplies, ...extraRows],
    events,
  };
}

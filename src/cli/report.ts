import { referenceTable, simulationWhere, type CosimResult } from '../pipeline.js';
import { betterReferences, REFERENCE_NAMES, type ReferenceName, type ReferenceTable } from '../compare/references.js';
import { unitFrameKey, type NearTies } from '../compare/neartie.js';
import { mappingSummary, type MappingSummary } from '../netlist/mapping.js';
import {
  DISAGREEMENT_CAUSES,
  MARGIN_CLASS_NAMES,
  type Comparison,
  type DisagreementCause,
} from '../compare/metrics.js';
import { amps, pct, seconds, table, watts } from './format.js';

/** What each cause means, for the report's legend. */
const CAUSE_MEANING: Record<DisagreementCause, string> = {
  carried: 'still holds a wrong state taken earlier while the model holds (counted at that margin)',
  transition: "the model on a continuous input path between frames ends in the circuit's state",
  glitch: 'circuit candidate crossed the latch threshold after the input edge, settled back',
  upstream: 'an earlier block already disagreed in this frame',
  unexplained: 'none of these (at a large margin: a wrongly realised element)',
};

/** Disagreement rows listed in the terminal report (the rest are in report.json). */
const LISTED_DISAGREEMENTS = 12;

/** Counts by cause and margin class, one row per cause, with what the cause means. */
export function causeTable(byCause: Comparison['disagreementsByCause']): string {
  return table(
    ['cause', ...MARGIN_CLASS_NAMES, 'meaning'],
    DISAGREEMENT_CAUSES.map((cause) => [
      cause,
      ...MARGIN_CLASS_NAMES.map((m) => byCause[cause][m]),
      CAUSE_MEANING[cause],
    ]),
  );
}

/** The mapping's worst errors in one short phrase: current sources in amperes, mirrors relative (see mappingSummary). */
export function formatMappingWorst(m: MappingSummary): string {
  const parts = [
    m.worstCurrent ? `current ${amps(m.worstCurrent.errorA)} (${m.worstCurrent.row.parameter})` : undefined,
    m.worstGain ? `mirror gain ${pct(m.worstGain.relError)} (${m.worstGain.row.parameter})` : undefined,
  ].filter((p) => p !== undefined);
  return parts.length > 0 ? parts.join(', ') : 'none';
}

function formatMeasured(name: string, v: number | boolean): string {
  if (typeof v !== 'number') return String(v);
  if (name.endsWith(' agreement')) return pct(v);
  if (name.includes('(s)')) return seconds(v);
  return String(v);
}

/**
 * The circuit against every reference, the verdict's marked, and a note when another one predicts the circuit's
 * states better than the verdict's.
 */
export function formatReferences(t: ReferenceTable, verdict: ReferenceName): string {
  const rows = REFERENCE_NAMES.filter((n) => t[n] !== undefined).map((n) => {
    const f = t[n]!;
    return [
      n === verdict ? `${n} (verdict)` : n,
      pct(f.stateAgreement),
      f.disagreements,
      pct(f.voteAgreement),
      `${f.softwareDecision} / ${f.circuitDecision} ${f.decisionMatch ? 'same' : 'DIFFERENT'}`,
    ];
  });
  const out = [table(['reference', 'states', 'differ', 'frame votes', 'decision model / circuit'], rows)];
  const better = betterReferences(t, verdict);
  if (better.length > 0) {
    const b = better[0];
    out.push(
      `note: ${b} predicts the circuit's states better than ${verdict}, the verdict's reference (${pct(t[b]!.stateAgreement)} vs ${pct(t[verdict]!.stateAgreement)})`,
    );
  }
  return out.join('\n');
}

/** Near-tie rows listed in the terminal (the rest are in near-ties.csv). */
export const LISTED_NEAR_TIES = 8;

/**
 * The thresholds whose realised value a candidate of this clip sits within the process's resolution of, with the
 * unit-frames each decides; with a comparison, how many of those the circuit got wrong.
 */
export function formatNearTies(
  n: NearTies,
  unitA: number,
  disagreements?: readonly { block: number; frame: number; unit: number }[],
  listed = LISTED_NEAR_TIES,
): string {
  const res = `${pct(n.resolution.rel, 0)} or ${amps(n.resolution.absA)}`;
  if (n.ties.length === 0) return `near ties: none (no candidate within ${res} of a threshold that decides its state)`;
  const missed = disagreements?.filter((d) => n.decided.has(unitFrameKey(d.block, d.frame, d.unit))).length;
  const out = [
    `near ties: ${n.unitFrames} of ${n.totalUnitFrames} unit-frames are decided by a candidate within the process's resolution (${res}) of a threshold, ` +
      `${n.ties.length} threshold${n.ties.length > 1 ? 's' : ''}${missed === undefined ? '' : `; the circuit differs on ${missed} of them`}:`,
  ];
  if (listed > 0) {
    out.push(
      table(
        ['threshold', 'trained', 'realised', 'resolution', 'decides', 'closest', 'frames'],
        n.ties
          .slice(0, listed)
          .map((t) => [
            t.parameter,
            t.trained.toFixed(4),
            t.realised.toFixed(4),
            amps(t.resolution * unitA),
            t.frames.length,
            amps(t.closest * unitA),
            framesList(t.frames),
          ]),
      ),
    );
  }
  if (n.ties.length > listed) out.push(`... ${n.ties.length - listed} more in near-ties.csv`);
  return out.join('\n');
}

/** `3 7 12 ... (+4)`: the first few frames of a list. */
function framesList(frames: readonly number[], shown = 6): string {
  return frames.length <= shown
    ? frames.join(' ')
    : `${frames.slice(0, shown).join(' ')} ... (+${frames.length - shown})`;
}

/** The terminal report of a co-simulation: agreement, errors by boundary, switching, power, verdict. */
export function formatCosim(r: CosimResult, vddV: number, near?: NearTies, listedNearTies = LISTED_NEAR_TIES): string {
  const c = r.comparison;
  const out: string[] = [];
  out.push(
    `ngspice ${r.run.ngspiceVersion}, ${simulationWhere(r.simulation)}: ${r.generated.transistors} transistors, ${r.generated.frames} frames, ${(r.run.durationMs / 1000).toFixed(1)} s`,
  );
  if (r.simulation.mode === 'partitioned')
    out.push(
      `  ${r.simulation.partitions.map((p) => `${p.label} ${p.transistors} tr. ${(p.durationMs / 1000).toFixed(1)} s${p.windows ? ` (${p.windows} time windows)` : ''}${p.windowsInTurn ? ` (${p.windowsInTurn} windows in turn)` : ''}${p.abstolRetriedA ? ` (abstol ${p.abstolRetriedA} A after "timestep too small")` : ''}`).join(', ')}`,
    );
  out.push('');
  out.push('circuit against each reference (software model on the same clip):');
  out.push(formatReferences(referenceTable(r), r.reference));
  out.push('');
  out.push(`against ${r.reference}, the verdict's reference:`);
  const fresh = c.disagreements.filter((d) => !d.carried);
  const carried = c.disagreements.length - fresh.length;
  out.push(
    `state agreement   ${pct(c.stateAgreement)} of ${c.unitFrames} unit-frames (${c.disagreements.length} disagree: ${fresh.length} fresh, ${carried} carried over)`,
  );
  out.push(
    `first divergence  ${c.firstDivergence ? `frame ${c.firstDivergence.frame}, block ${c.firstDivergence.block}, unit ${c.firstDivergence.unit}` : 'none'}`,
  );
  out.push(
    `frame votes       ${pct(c.voteAgreement)} agree; decision software ${c.softwareDecision}, circuit ${c.circuitDecision} (${c.decisionMatch ? 'same' : 'DIFFERENT'})`,
  );
  out.push(`logit error       ${c.logitMeanAbsError.toFixed(4)} units mean |circuit - model|`);
  const m = mappingSummary(r.generated.mapping, r.generated.realised.unitCurrentA);
  out.push(
    `mapping           ${m.rows} elements; the realised model keeps ${pct(r.mappingStateAgreement)} of the trained model's states on this clip`,
  );
  out.push(`                  worst error: ${formatMappingWorst(m)}`);
  if (near) {
    out.push('');
    out.push(
      formatNearTies(
        near,
        r.generated.realised.unitCurrentA,
        r.references.realised?.comparison.disagreements,
        listedNearTies,
      ),
    );
  }
  out.push('');
  out.push('cell boundaries (relative error at the cell input vs at its output):');
  out.push(
    table(
      ['block', 'candidate err', 'state err', 'state err (agreeing frames)', 'suppression'],
      c.boundaries.map((b) => [
        b.block,
        pct(b.candidateRelError),
        pct(b.stateRelError),
        pct(b.stateRelErrorAgreeing),
        `${b.suppression.toFixed(1)}x`,
      ]),
    ),
  );
  if (c.disagreements.length > 0) {
    out.push('');
    out.push("disagreements by cause and by margin of the model's candidate to the threshold in question:");
    out.push(causeTable(c.disagreementsByCause));
    out.push('');
    out.push('fresh disagreements:');
    out.push(
      table(
        ['frame', 'block', 'unit', 'model', 'circuit', 'candidate (model)', 'candidate (circuit)', 'margin', 'cause'],
        fresh
          .slice(0, LISTED_DISAGREEMENTS)
          .map((d) => [
            d.frame,
            d.block,
            d.unit,
            d.software,
            d.circuit,
            d.candidate.toFixed(4),
            d.circuitCandidate.toFixed(4),
            pct(d.relMargin),
            d.cause,
          ]),
      ),
    );
    const more = fresh.length - Math.min(fresh.length, LISTED_DISAGREEMENTS);
    if (more + carried > 0)
      out.push(`... ${more} more fresh and ${carried} carried (with the frame each started in) in report.json`);
  }
  out.push('');
  out.push('switching delay after a frame edge (V0 crossing VDD/2):');
  out.push(
    table(
      ['block', 'unit', 'switches', 'median', 'max'],
      c.switching.map((s) => [s.block, s.unit, s.switches, seconds(s.medianDelayS), seconds(s.maxDelayS)]),
    ),
  );
  out.push('');
  out.push(
    `average power: ${Object.entries(r.circuit.supplyMeanA)
      .map(([d, i]) => `${d} ${watts(i * vddV)}`)
      .join(', ')}`,
  );
  out.push('');
  out.push(
    table(
      ['check', 'measured', 'limit', 'result'],
      r.verdict.checks.map((k) => [k.name, formatMeasured(k.name, k.measured), k.limit, k.pass ? 'pass' : 'FAIL']),
    ),
  );
  out.push(
    `verdict: ${r.verdict.pass ? 'PASS' : 'FAIL'} (the circuit judged against the ${r.reference} model; --reference chooses)`,
  );
  return out.join('\n');
}

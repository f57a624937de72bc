import type { CosimResult } from '../pipeline.js';
import { mappingSummary, type MappingSummary } from '../netlist/mapping.js';
import { DISAGREEMENT_CAUSES, MARGIN_CLASS_NAMES, type Comparison, type DisagreementCause } from '../compare/metrics.js';
import { amps, pct, seconds, table, watts } from './format.js';

/** What each cause means, for the report's legend. */
const CAUSE_MEANING: Record<DisagreementCause, string> = {
  carried: 'still holds a wrong state taken earlier while the model holds (counted at that margin)',
  transition: 'the model on a continuous input path between frames ends in the circuit\'s state',
  glitch: 'circuit candidate crossed the latch threshold after the input edge, settled back',
  upstream: 'an earlier block already disagreed in this frame',
  unexplained: 'none of these (at a large margin: a wrongly realised element)',
};

/** Disagreement rows listed in the terminal report (the rest are in report.json). */
const LISTED_DISAGREEMENTS = 12;

/** Counts by cause and margin class, one row per cause, with what the cause means. */
function causeTable(c: Comparison): string {
  return table(['cause', ...MARGIN_CLASS_NAMES, 'meaning'],
    DISAGREEMENT_CAUSES.map((cause) => [cause, ...MARGIN_CLASS_NAMES.map((m) => c.disagreementsByCause[cause][m]), CAUSE_MEANING[cause]]));
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

/** The terminal report of a co-simulation: agreement, errors by boundary, switching, power, verdict. */
export function formatCosim(r: CosimResult, vddV: number): string {
  const c = r.comparison;
  const out: string[] = [];
  out.push(`ngspice ${r.run.ngspiceVersion}: ${r.generated.transistors} transistors, ${r.generated.frames} frames, ${(r.run.durationMs / 1000).toFixed(1)} s`);
  out.push('');
  const fresh = c.disagreements.filter((d) => !d.carried);
  const carried = c.disagreements.length - fresh.length;
  out.push(`state agreement   ${pct(c.stateAgreement)} of ${c.unitFrames} unit-frames (${c.disagreements.length} disagree: ${fresh.length} fresh, ${carried} carried over)`);
  out.push(`first divergence  ${c.firstDivergence ? `frame ${c.firstDivergence.frame}, block ${c.firstDivergence.block}, unit ${c.firstDivergence.unit}` : 'none'}`);
  out.push(`frame votes       ${pct(c.voteAgreement)} agree; decision software ${c.softwareDecision}, circuit ${c.circuitDecision} (${c.decisionMatch ? 'same' : 'DIFFERENT'})`);
  out.push(`logit error       ${c.logitMeanAbsError.toFixed(4)} units mean |circuit - model|`);
  const m = mappingSummary(r.generated.mapping, r.generated.realised.unitCurrentA);
  out.push(`mapping           ${m.rows} elements; the realised model keeps ${pct(r.mappingStateAgreement)} of the trained model's states on this clip`);
  out.push(`                  worst error: ${formatMappingWorst(m)}`);
  out.push('');
  out.push('cell boundaries (relative error at the cell input vs at its output):');
  out.push(table(['block', 'candidate err', 'state err', 'state err (agreeing frames)', 'suppression'],
    c.boundaries.map((b) => [b.block, pct(b.candidateRelError), pct(b.stateRelError), pct(b.stateRelErrorAgreeing), `${b.suppression.toFixed(1)}x`])));
  if (c.disagreements.length > 0) {
    out.push('');
    out.push('disagreements by cause and by margin of the model\'s candidate to the threshold in question:');
    out.push(causeTable(c));
    out.push('');
    out.push('fresh disagreements:');
    out.push(table(['frame', 'block', 'unit', 'model', 'circuit', 'candidate (model)', 'candidate (circuit)', 'margin', 'cause'],
      fresh.slice(0, LISTED_DISAGREEMENTS).map((d) => [d.frame, d.block, d.unit, d.software, d.circuit, d.candidate.toFixed(4), d.circuitCandidate.toFixed(4), pct(d.relMargin), d.cause])));
    const more = fresh.length - Math.min(fresh.length, LISTED_DISAGREEMENTS);
    if (more + carried > 0) out.push(`... ${more} more fresh and ${carried} carried (with the frame each started in) in report.json`);
  }
  out.push('');
  out.push('switching delay after a frame edge (V0 crossing VDD/2):');
  out.push(table(['block', 'unit', 'switches', 'median', 'max'], c.switching.map((s) => [s.block, s.unit, s.switches, seconds(s.medianDelayS), seconds(s.maxDelayS)])));
  out.push('');
  out.push(`average power: ${Object.entries(r.circuit.supplyMeanA).map(([d, i]) => `${d} ${watts(i * vddV)}`).join(', ')}`);
  out.push('');
  out.push(table(['check', 'measured', 'limit', 'result'], r.verdict.checks.map((k) => [k.name, formatMeasured(k.name, k.measured), k.limit, k.pass ? 'pass' : 'FAIL'])));
  out.push(`verdict: ${r.verdict.pass ? 'PASS' : 'FAIL'}`);
  return out.join('\n');
}

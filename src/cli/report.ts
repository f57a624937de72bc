import type { CosimResult } from '../pipeline.js';
import { mappingSummary } from '../netlist/mapping.js';
import { pct, seconds, table, watts } from './format.js';

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
  out.push(`state agreement   ${pct(c.stateAgreement)} of ${c.unitFrames} unit-frames (${c.disagreements.length} disagree)`);
  if (c.disagreements.length > 0) {
    out.push(`                  ${c.transitionDisagreements} of them frame-transition latching (the model on a continuous input path between frames ends in the circuit's state)`);
    out.push(`                  ${c.glitchDisagreements} of them edge glitches (the circuit's candidate crossed the threshold transiently after the frame edge)`);
  }
  out.push(`first divergence  ${c.firstDivergence ? `frame ${c.firstDivergence.frame}, block ${c.firstDivergence.block}, unit ${c.firstDivergence.unit}` : 'none'}`);
  out.push(`frame votes       ${pct(c.voteAgreement)} agree; decision software ${c.softwareDecision}, circuit ${c.circuitDecision} (${c.decisionMatch ? 'same' : 'DIFFERENT'})`);
  out.push(`logit error       ${c.logitMeanAbsError.toFixed(4)} units mean |circuit - model|`);
  const m = mappingSummary(r.generated.mapping);
  out.push(`mapping           ${m.rows} elements, worst realised-vs-trained ${pct(m.maxRelError)}${m.worst ? ` (${m.worst.parameter})` : ''}`);
  out.push('');
  out.push('cell boundaries (relative error at the cell input vs at its output):');
  out.push(table(['block', 'candidate err', 'state err', 'state err (agreeing frames)', 'suppression'],
    c.boundaries.map((b) => [b.block, pct(b.candidateRelError), pct(b.stateRelError), pct(b.stateRelErrorAgreeing), `${b.suppression.toFixed(1)}x`])));
  if (c.disagreements.length > 0) {
    out.push('');
    out.push(`disagreements by margin to the nearest threshold: ${Object.entries(c.disagreementsByMargin).map(([k, v]) => `${k}: ${v}`).join(', ')}`);
    out.push(table(['frame', 'block', 'unit', 'model', 'circuit', 'candidate (model)', 'candidate (circuit)', 'margin', 'upstream', 'transition', 'glitch'],
      c.disagreements.slice(0, 12).map((d) => [d.frame, d.block, d.unit, d.software, d.circuit, d.candidate.toFixed(4), d.circuitCandidate.toFixed(4), pct(d.relMargin), d.upstream ? 'yes' : '', d.transition ? 'yes' : '', d.glitch ? 'yes' : ''])));
    if (c.disagreements.length > 12) out.push(`... ${c.disagreements.length - 12} more in report.json`);
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

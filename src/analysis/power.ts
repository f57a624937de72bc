/**
 * Power from the transient: each supply domain has its own voltage source (src/netlist/generate.ts DOMAINS),
 * so the circuit's power splits exactly into cells, feedforward mirrors, bias generation and the input
 * front end, with no model of the circuit in between. Also the width-scaling fit of issue 3 §2.
 */
import type { RawPlot } from '../spice/rawfile.js';
import { vector } from '../spice/rawfile.js';
import { timeAverage } from '../compare/sample.js';
import { CORE_DOMAINS, type Domain, type SupplyBranch } from '../netlist/supplies.js';

export { CORE_DOMAINS };

export interface DomainPower {
  readonly domain: Domain;
  /** Time-averaged delivered power over the whole run (W). */
  readonly meanW: number;
  /** Largest instantaneous delivered power (W): the charging spikes at frame edges. */
  readonly peakW: number;
  /** Largest per-frame average power (W): what a supply must sustain for a whole frame. */
  readonly peakFrameW: number;
}

export interface PowerReport {
  readonly vddV: number;
  readonly durationS: number;
  readonly domains: readonly DomainPower[];
  /** Sum over CORE_DOMAINS (W). */
  readonly coreW: number;
  readonly totalW: number;
  /** Core energy for the whole clip, one inference (J). */
  readonly coreEnergyJ: number;
  readonly totalEnergyJ: number;
}

/**
 * Power per supply domain from a transient plot. Supply sources' branch currents are negative when they
 * deliver power, so delivered power is -i * VDD.
 */
export function powerFromPlot(
  plot: RawPlot,
  supplies: Readonly<Record<Domain, string>>,
  vddV: number,
  frameS: number,
): PowerReport {
  const time = vector(plot, 'time');
  const durationS = time[time.length - 1] - time[0];
  const domains = (Object.entries(supplies) as [Domain, string][]).map(([domain, name]): DomainPower => {
    const i = vector(plot, name);
    const p = Float64Array.from(i, (v) => -v * vddV);
    return { domain, meanW: timeAverage(time, p), peakW: maxOf(p), peakFrameW: maxOf(frameAverages(time, p, frameS)) };
  });
  const coreW = domains.filter((d) => CORE_DOMAINS.includes(d.domain)).reduce((s, d) => s + d.meanW, 0);
  const totalW = domains.reduce((s, d) => s + d.meanW, 0);
  return { vddV, durationS, domains, coreW, totalW, coreEnergyJ: coreW * durationS, totalEnergyJ: totalW * durationS };
}

/** Largest element (spreading a 10^5-point waveform into Math.max overflows the call stack). */
function maxOf(v: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < v.length; i++) if (v[i] > m) m = v[i];
  return m;
}

/** Trapezoidal average of y over each frame [t * frameS, (t + 1) * frameS) within the waveform's span. */
export function frameAverages(time: Float64Array, y: Float64Array, frameS: number): number[] {
  const frames = Math.max(1, Math.round((time[time.length - 1] - time[0]) / frameS));
  const area = new Float64Array(frames);
  const span = new Float64Array(frames);
  for (let i = 1; i < time.length; i++) {
    const dt = time[i] - time[i - 1];
    // A step straddling an edge is booked to the frame of its midpoint: steps are <= frameS / 50 here.
    const f = Math.min(frames - 1, Math.floor((0.5 * (time[i] + time[i - 1]) - time[0]) / frameS));
    area[f] += 0.5 * (y[i] + y[i - 1]) * dt;
    span[f] += dt;
  }
  return Array.from(area, (a, f) => (span[f] > 0 ? a / span[f] : 0));
}

/** Least-squares fit y = c * x^exponent on log-log axes (all values > 0), with R^2 of the log fit. */
export function fitPowerLaw(
  x: readonly number[],
  y: readonly number[],
): { exponent: number; coefficient: number; r2: number } {
  if (x.length !== y.length || x.length < 2)
    throw new RangeError(`a power-law fit needs >= 2 (x, y) pairs of equal length, got ${x.length} and ${y.length}`);
  const bad = [...x, ...y].findIndex((v) => !(v > 0));
  if (bad >= 0)
    throw new RangeError(
      `a power-law fit needs positive values; value #${bad % x.length} of ${bad < x.length ? 'x' : 'y'} is ${[...x, ...y][bad]}`,
    );
  const lx = x.map(Math.log);
  const ly = y.map(Math.log);
  const n = x.length;
  const mx = lx.reduce((a, b) => a + b, 0) / n;
  const my = ly.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (lx[i] - mx) * (ly[i] - my);
    sxx += (lx[i] - mx) ** 2;
    syy += (ly[i] - my) ** 2;
  }
  const exponent = sxy / sxx;
  const r2 = syy > 0 ? (sxy * sxy) / (sxx * syy) : 1;
  return { exponent, coefficient: Math.exp(my - exponent * mx), r2 };
}

/** One probed supply branch's time-averaged draw. */
export interface BranchPower extends SupplyBranch {
  /** Mean current drawn from the supply (A; negative: the element returns current to it, e.g. a discharging capacitor). */
  readonly meanA: number;
  readonly meanW: number;
}

/** Power summed over a group of branches (an element kind or a stage) in one domain. */
export interface PowerShare {
  readonly key: string;
  readonly domain: Domain;
  readonly branches: number;
  readonly meanW: number;
}

export interface ElementBudget {
  readonly elements: readonly BranchPower[];
  /** Per (kind, domain), largest first. */
  readonly kinds: readonly PowerShare[];
  /** Per (stage, domain), largest first. */
  readonly stages: readonly PowerShare[];
  /** Per domain: the branches' sum against the supply's own current (both W). */
  readonly closure: readonly { readonly domain: Domain; readonly branchesW: number; readonly supplyW: number }[];
}

/**
 * Power per probed supply branch (netlist/supplies.ts), summed per element kind and per stage, with each domain's
 * branch sum beside its supply's total: KCL makes them equal up to the solver's tolerance, so a gap means a branch
 * that touches a supply unprobed.
 */
export function elementBudget(plot: RawPlot, branches: readonly SupplyBranch[], report: PowerReport): ElementBudget {
  const time = vector(plot, 'time');
  const elements = branches.map((b): BranchPower => {
    const meanA = timeAverage(time, vector(plot, b.probe));
    return { ...b, meanA, meanW: meanA * report.vddV };
  });
  const group = (keyOf: (b: BranchPower) => string): PowerShare[] => {
    const acc = new Map<string, PowerShare>();
    for (const e of elements) {
      const id = `${keyOf(e)}\u0000${e.domain}`;
      const s = acc.get(id);
      acc.set(id, {
        key: keyOf(e),
        domain: e.domain,
        branches: (s?.branches ?? 0) + 1,
        meanW: (s?.meanW ?? 0) + e.meanW,
      });
    }
    return [...acc.values()].sort((a, b) => b.meanW - a.meanW);
  };
  const closure = report.domains.map((d) => ({
    domain: d.domain,
    branchesW: elements.filter((e) => e.domain === d.domain).reduce((s, e) => s + e.meanW, 0),
    supplyW: d.meanW,
  }));
  return { elements, kinds: group((e) => e.kind), stages: group((e) => e.stage), closure };
}

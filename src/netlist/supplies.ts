/**
 * Supply domains and the per-branch supply probes of issue 17. Each domain has its own source, so power splits
 * exactly by domain (issue 3); within a domain, a 0 V source in series with every element that touches the supply
 * splits it by element. The probes are exact (KCL at the supply node: the domain's current is the sum of its
 * branches, leakage included) and kit-independent (they work for `X` wrapper instances, whose internal device
 * names a `@m...[id]` save would have to know), at the cost of one branch equation each, so only `analyze power`
 * asks for them.
 */
import { currentProbe } from './deck.js';
import type { Element, VoltageSource } from './elements.js';
import type { Process } from './process.js';

/** Supply domains, separate so that power can be split (issue 3). */
export const DOMAINS = ['cell', 'ff', 'bias', 'in'] as const;
export type Domain = (typeof DOMAINS)[number];
/** Domains whose power is the recurrent network core (the input front end stands for a microphone chain). */
export const CORE_DOMAINS: readonly Domain[] = ['cell', 'ff', 'bias'];
export const SUPPLY: Readonly<Record<Domain, string>> = {
  cell: 'vdd_cell',
  ff: 'vdd_ff',
  bias: 'vdd_bias',
  in: 'vdd_in',
};

/**
 * The node every NMOS mirror device (diodes, copies, bias references; not the cell's own devices) has its source
 * on: ground, or `vsn` held at the process's `nmosSourceV`. Lifted, a summing node that should be off is pulled
 * below its diode's source and the diode stops conducting, so the ReLU has no knee (docs/circuit-notes.md).
 */
export const NMOS_SOURCE_NODE = 'vsn';

/** Source node of the NMOS mirror devices on this process. */
export function nmosSource(process: Pick<Process, 'nmosSourceV'>): string {
  return process.nmosSourceV ? NMOS_SOURCE_NODE : '0';
}

/** The source that holds `vsn` (none when the process does not lift the NMOS sources). */
export function nmosSourceSupply(process: Pick<Process, 'nmosSourceV'>): VoltageSource[] {
  return process.nmosSourceV
    ? [{ type: 'vsrc', name: 'sn', plus: NMOS_SOURCE_NODE, minus: '0', dcV: process.nmosSourceV }]
    : [];
}

/**
 * What an element is there for, as far as power goes. Ranked by `analyze power` so overhead shows: a weight copy
 * realises a trained weight, a rail conversion or a bias copy only moves a current to where it is needed.
 */
export const POWER_KINDS = [
  'weight copy',
  'node diode',
  'rail conversion',
  'bias copy',
  'bias reference',
  'cell bias reference',
  'cell',
  'cell input filter',
  'reset switch',
  'input front end',
  'other',
] as const;
export type PowerKind = (typeof POWER_KINDS)[number];

/** Which part of the network an element serves (a rail conversion: the stage that needed it). */
export const STAGES = ['input', 'pre', 'relu', 'cand', 'cell', 'post', 'skip', 'out'] as const;
export type Stage = (typeof STAGES)[number];

export interface ElementRole {
  readonly kind: PowerKind;
  readonly stage: Stage;
}

/** One probed supply branch: the element it feeds and the rawfile vector of the current it draws (A, > 0 drawn). */
export interface SupplyBranch {
  readonly element: string;
  readonly domain: Domain;
  readonly kind: PowerKind;
  readonly stage: Stage;
  readonly probe: string;
}

/** Node fields of every element type: a supply on any of them is rewired through the element's probe. */
const NODE_FIELDS = [
  'drain',
  'gate',
  'source',
  'bulk',
  'from',
  'to',
  'plus',
  'minus',
  'ctrlPlus',
  'ctrlMinus',
] as const;

/**
 * The elements with a 0 V source between each supply and every element touching it: the element's supply
 * terminals move to a node of its own (`<supply>__<element>`), which the probe `Vs_<element>` feeds from the supply.
 * A probe's branch current is positive when the element draws from the supply. Elements touching no supply are
 * unchanged; an element on two supplies (none here) would get one probe per supply.
 */
export function withSupplyProbes(
  elements: readonly Element[],
  roleOf: (name: string) => ElementRole | undefined,
): { elements: Element[]; branches: SupplyBranch[] } {
  const domainOf = new Map<string, Domain>(Object.entries(SUPPLY).map(([d, n]) => [n, d as Domain]));
  const out: Element[] = [];
  const branches: SupplyBranch[] = [];
  for (const e of elements) {
    if (e.type === 'comment') {
      out.push(e);
      continue;
    }
    const touched = new Set<string>();
    const fields = e as unknown as Record<string, unknown>;
    for (const f of NODE_FIELDS) if (typeof fields[f] === 'string' && domainOf.has(fields[f])) touched.add(fields[f]);
    if (e.type === 'inst') for (const n of e.nodes) if (domainOf.has(n)) touched.add(n);
    if (touched.size === 0) {
      out.push(e);
      continue;
    }
    const local = (n: string) => (touched.has(n) ? `${n}__${e.name}` : n);
    const rewired = { ...fields } as Record<string, unknown>;
    for (const f of NODE_FIELDS) if (typeof fields[f] === 'string') rewired[f] = local(fields[f]);
    if (e.type === 'inst') rewired.nodes = e.nodes.map(local);
    out.push(rewired as unknown as Element);
    const role = roleOf(e.name) ?? { kind: 'other', stage: 'input' };
    for (const supply of touched) {
      const name = touched.size === 1 ? `s_${e.name}` : `s_${e.name}_${supply}`;
      out.push({ type: 'vsrc', name, plus: supply, minus: local(supply), dcV: 0 });
      branches.push({ element: e.name, domain: domainOf.get(supply)!, ...role, probe: currentProbe(name) });
    }
  }
  return { elements: out, branches };
}

/**
 * Device variation applied by the generator, so every realisation is known and recorded: local mismatch with
 * Pelgrom scaling (sigma = A / sqrt(W L), coefficients in process.json) drawn per device from a seed, plus an
 * optional global skew per polarity (for processes whose cards have no corners).
 *
 * A threshold shift dVth (increase of |V_th|) is written as `delvto` on `M` instances (n: +dVth, p: -dVth,
 * since a PMOS V_th is negative), and on `X` instances (kit wrappers that take no delvto) as a DC source in
 * series with the gate, which is the same thing for a device whose gate draws no current. A current-factor
 * change dBeta/beta is written as the same relative change of W (beta ~ W / L).
 */
import { createRng } from '../util/random.js';
import type { Element, Mosfet } from './elements.js';
import type { DeviceSkew, Process } from './process.js';

export interface VariationSpec {
  /** Draw local mismatch with this seed (per device, in element order). */
  readonly mismatchSeed?: number;
  /** Global shift per polarity. */
  readonly skew?: { readonly n?: DeviceSkew; readonly p?: DeviceSkew };
}

/** One device's realisation. */
export interface DeviceVariation {
  readonly device: string;
  readonly polarity: 'n' | 'p';
  readonly widthUm: number;
  readonly lengthUm: number;
  /** Increase of |V_th| (V). */
  readonly dVthV: number;
  /** Relative change of the current factor beta. */
  readonly dBetaRel: number;
}

const MV = 1e-3;
const PCT = 1e-2;

/** Apply variation to every transistor; returns the new element list and each device's realisation. */
export function applyVariation(
  elements: readonly Element[],
  process: Process,
  spec: VariationSpec,
): { elements: Element[]; devices: DeviceVariation[] } {
  const rng = createRng(spec.mismatchSeed ?? 0);
  const devices: DeviceVariation[] = [];
  const out: Element[] = [];
  for (const e of elements) {
    if (e.type !== 'mos') {
      out.push(e);
      continue;
    }
    const areaSqrtUm = Math.sqrt(e.widthUm * e.lengthUm);
    const coeff = process.mismatch?.[e.polarity];
    let dVthV = (spec.skew?.[e.polarity]?.dVthMv ?? 0) * MV;
    let dBetaRel = (spec.skew?.[e.polarity]?.dBetaPct ?? 0) * PCT;
    if (spec.mismatchSeed !== undefined) {
      if (!coeff)
        throw new RangeError(
          `process ${process.name} has no mismatch coefficients (process.json field "mismatch.${e.polarity}")`,
        );
      // Two draws per device in a fixed order, so a device's realisation depends only on the seed and its position.
      dVthV += (rng.normal() * coeff.avtMvUm * MV) / areaSqrtUm;
      dBetaRel += (rng.normal() * coeff.abetaPctUm * PCT) / areaSqrtUm;
    }
    devices.push({ device: e.name, polarity: e.polarity, widthUm: e.widthUm, lengthUm: e.lengthUm, dVthV, dBetaRel });
    out.push(...varied(e, process, dVthV, dBetaRel));
  }
  return { elements: out, devices };
}

function varied(e: Mosfet, process: Process, dVthV: number, dBetaRel: number): Element[] {
  const widthUm = e.widthUm * (1 + dBetaRel);
  if (process.instance === 'M') return [{ ...e, widthUm, delvtoV: e.polarity === 'n' ? dVthV : -dVthV }];
  // A higher |V_th| is a gate pulled towards the source by dVth: lower for NMOS, higher for PMOS.
  const gate = `${e.gate}_vt_${e.name}`;
  return [
    { type: 'vsrc', name: `vt_${e.name}`, plus: gate, minus: e.gate, dcV: e.polarity === 'n' ? -dVthV : dVthV },
    { ...e, gate, widthUm },
  ];
}

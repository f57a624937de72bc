/**
 * The one-way data flow of the toolkit: parameters -> netlist -> ngspice -> waveforms -> comparison -> verdict.
 */
import type { Network } from './model/types.js';
import { runNetwork, type InputSequence, type Trace } from './model/network.js';
import { generateNetlist, type GeneratedNetlist, type GenerateOptions } from './netlist/generate.js';
import { runNgspice, type RunOptions, type RunResult } from './spice/runner.js';
import { transientPlot } from './spice/rawfile.js';
import { sampleCircuit, type CircuitFrames } from './compare/sample.js';
import { compareRun, traceStateAgreement, type Comparison } from './compare/metrics.js';
import { judge, DEFAULT_TOLERANCES, type Tolerances, type Verdict } from './compare/tolerance.js';

export interface CosimOptions extends GenerateOptions {
  readonly tolerances?: Tolerances;
  /** Runner settings (timeout, work directory policy, binary...). */
  readonly run?: Omit<RunOptions, 'netlist' | 'expectTStopS' | 'expectVectors'>;
  readonly sampleFraction?: number;
}

export interface CosimResult {
  readonly generated: GeneratedNetlist;
  readonly run: RunResult;
  readonly software: Trace;
  readonly circuit: CircuitFrames;
  readonly comparison: Comparison;
  readonly verdict: Verdict;
  /** Fraction of unit-frames where the model with the realised parameters keeps the trained model's state on these inputs. */
  readonly mappingStateAgreement: number;
}

/** Generate, simulate and score one network on one input sequence. */
export async function cosimulate(net: Network, inputs: InputSequence, opts: CosimOptions): Promise<CosimResult> {
  const generated = generateNetlist(net, inputs, opts);
  const run = await runNgspice({
    ...opts.run,
    netlist: generated.deck,
    extraArgs: [...opts.process.ngspiceArgs, ...(opts.run?.extraArgs ?? [])],
    expectTStopS: generated.tStopS,
  });
  const plot = transientPlot(run.plots);
  const circuit = sampleCircuit(plot, generated.probes, {
    frames: generated.frames,
    frameS: net.frameS,
    unitA: net.unitCurrentA,
    vddV: opts.process.vddV,
    sampleFraction: opts.sampleFraction,
    inputEdgeS: opts.inputEdgeS,
  });
  // The model is fed what the circuit realises (quantised widths, calibrated biases), not the trained values.
  const software = runNetwork(generated.realised, inputs);
  const comparison = compareRun(generated.realised, software, circuit, inputs);
  const mappingStateAgreement = traceStateAgreement(runNetwork(net, inputs), software);
  return { generated, run, software, circuit, comparison, verdict: judge(comparison, opts.tolerances ?? DEFAULT_TOLERANCES), mappingStateAgreement };
}

/**
 * The one-way data flow of the toolkit: parameters -> netlist -> ngspice -> waveforms -> comparison -> verdict.
 */
import type { Network } from './model/types.js';
import { runNetwork, type InputSequence, type Trace } from './model/network.js';
import { generateNetlist, type GeneratedNetlist, type GenerateOptions } from './netlist/generate.js';
import { runNgspice, type RunOptions, type RunResult } from './spice/runner.js';
import { transientPlot } from './spice/rawfile.js';
import { nonFiniteVectors, sampleCircuit, type CircuitFrames } from './compare/sample.js';
import { SpiceCrashError } from './spice/errors.js';
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
  const bad = nonFiniteVectors(plot, generated.probes);
  if (bad.length > 0) {
    const first = bad[0];
    const message = `ngspice exited ${run.exitCode} but wrote non-finite values in ${bad.length} probed vector${bad.length > 1 ? 's' : ''} (first: ${first.name} = ${first.value} at point ${first.point}${Number.isFinite(first.timeS) ? `, t = ${first.timeS} s` : ''}): the simulation diverged, nothing to compare`;
    throw new SpiceCrashError('incomplete', message, run.exitCode, null, { workDir: run.workDir, stderrTail: run.stderrTail });
  }
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

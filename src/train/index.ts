/**
 * Training the FQ-BMRU keyword spotter in TypeScript (`bmru train`): a reverse-mode pass written for this one
 * network rather than a generic autograd, so a width-4 epoch over the synthetic set takes ~0.1 s on one core.
 *
 * ```ts
 * import { loadTrainingData, trainNetwork, saveModel } from 'bmru-cosim';
 * const data = await loadTrainingData('data/kws-synth/features.safetensors');
 * const r = await trainNetwork(data, { width: 4, epochs: 200, anneal: true, seed: 1 });
 * console.log(r.scores.test?.accuracy);          // clip accuracy, majority vote of per-frame argmax
 * await saveModel(r.network, 'kws.json');         // cell_params 'realised'; runNetwork reproduces training exactly
 * ```
 *
 * - params.ts: the flat parameter vector under the interchange contract's tensor names; raw (signed) cell
 *   parameters while training, exported 'realised'.
 * - surrogate.ts: the arctan surrogate of the cell's Heaviside and its width.
 * - bptt.ts: forward pass with saved activations, per-frame cross-entropy, backward pass through time;
 *   the cumulative (CMRU) gradient through time and a smooth mode for gradient checks.
 * - optim.ts: AdamW, warm-up + cosine decay, gradient-norm clipping, the realisable-range projection.
 * - trainer.ts: the loop (seeded batches, optional input noise, annealing, best-validation checkpoint, scores).
 * - data.ts: features file -> checked training data with split indices.
 * - report.ts: loss CSV, loss/accuracy plots, parameter and current ranges.
 */
export * from './surrogate.js';
export * from './params.js';
export * from './bptt.js';
export * from './optim.js';
export * from './data.js';
export * from './trainer.js';
export * from './report.js';
export * from './hardware.js';

/** bmru-cosim: parameters -> netlist -> ngspice -> waveforms -> comparison -> report; audio -> MFCC features for the KWS inputs; training. */
export * from './errors.js';
export * from './model/index.js';
export * from './netlist/index.js';
export * from './spice/index.js';
export * from './compare/index.js';
export * from './pipeline.js';
export * from './audio/index.js';
export * from './train/index.js';
export * from './calibrate/index.js';
export * from './jobs/index.js';
export * from './analysis/index.js';
export {
  DEFAULTS,
  PACKAGE_ROOT,
  runMany,
  median,
  writeFileAtomic,
  type Completion,
  type RunManyOptions,
} from './util/index.js';

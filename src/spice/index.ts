// ngspice stage: run a deck, classify what ngspice says, read its rawfile.
export {
  parseRawfile,
  parseRawHeader,
  MissingVectorError,
  RawfileError,
  transientPlot,
  readRawfile,
  vector,
  series,
  type Series,
  type RawHeader,
  type RawPlot,
  type RawVector,
} from './rawfile.js';
export {
  NgspiceNotFoundError,
  SpiceConvergenceError,
  SpiceCrashError,
  SpiceError,
  SpiceIncludeError,
  SpiceModelError,
  SpiceNetlistError,
  SpiceTimeoutError,
  type ConvergenceDetail,
  type SpiceErrorContext,
  type SpiceErrorKind,
} from './errors.js';
export { classifyNgspiceOutput, primaryError, type MessageKind, type Severity, type SpiceMessage } from './classify.js';
export {
  ngspiceVersion,
  runNgspice,
  withThreads,
  type RunOptions,
  type RunProgress,
  type RunResult,
} from './runner.js';
export { spiceNumber, transientStopS } from './deck.js';
export { watchTransient, type RawfileWatcher } from './watch.js';
export { controlLines } from './deck.js';
export { mergeTransientPlots, unionGrid } from './merge.js';
export { closeLauncher } from './launcher.js';

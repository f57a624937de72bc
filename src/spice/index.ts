// ngspice stage: run a deck, classify what ngspice says, read its rawfile.
export { parseRawfile, RawfileError, readRawfile, vector, type RawPlot, type RawVector } from './rawfile.js';
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
export { ngspiceVersion, runNgspice, type RunOptions, type RunResult } from './runner.js';
export { runMany, type Completion, type RunManyOptions } from './pool.js';

export * from './plan.js';
export * from './failure.js';
export * from './store.js';
export * from './run.js';
export * from './report.js';
export * from './slurm.js';

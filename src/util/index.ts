// Shared helpers with no stage of their own: paths of the shipped material, the worker pool, atomic output, locks, statistics.
export * from './paths.js';
export * from './pool.js';
export * from './output.js';
export * from './lockfile.js';
export * from './stats.js';
export * from './random.js';

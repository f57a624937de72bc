export * from './sample.js';
export * from './metrics.js';
export * from './tolerance.js';

export * from './sample.js';
export * from './metrics.js';
export * from './tolerance.js';
export * from './references.js';
export * from './neartie.js';

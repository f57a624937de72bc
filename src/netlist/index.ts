export * from './process.js';
export * from './elements.js';
export * from './cell.js';
export * from './calibration.js';
export * from './mapping.js';
export * from './generate.js';
export * from './deck.js';
export * from './corners.js';

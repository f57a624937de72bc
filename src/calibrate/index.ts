// Calibration stage: ngspice DC sweeps of the cell and the mirrors, the tables the generator inverts, verification.
export * from './calibrate.js';
export * from './decks.js';
export * from './measure.js';
export * from './hardware.js';
export * from './method.js';

// Analyses on top of the co-simulation: power and its scaling, noise immunity, Monte Carlo, PVT corners, the
// hardware-aware model, keyword spotting end to end. Each is a library function; the CLI only formats.
export * from './power.js';
export * from './scaling.js';
export * from './noise.js';
export * from './noise-circuit.js';
export * from './montecarlo.js';
export * from './corners.js';
export * from './hwaware.js';
export * from './kws.js';
export * from './noise-study.js';
export * from './hwmodel.js';
export * from './pareto.js';
export * from './sweep.js';
export * from './hwscore.js';

export * from './wav.js';
export * from './clip.js';
export * from './fft.js';
export * from './mfcc.js';
export * from './dataset.js';
export * from './features.js';
export * from './synth.js';

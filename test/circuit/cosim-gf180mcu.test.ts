import { describe } from 'vitest';
import { exampleAgrees } from './example.js';

describe('example network on the GF180MCU kit', () => exampleAgrees('gf180mcu'));

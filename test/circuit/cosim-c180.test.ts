import { describe } from 'vitest';
import { exampleAgrees } from './example.js';

describe('example network on the embedded c180 card', () => exampleAgrees('c180'));

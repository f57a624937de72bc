#!/usr/bin/env node
// Entry point; the TypeScript sources are compiled to dist/ by `npm install` (prepare) or `npm run build`.
import { run } from '../dist/cli/main.js';

await run();

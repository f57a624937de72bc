#!/usr/bin/env node
// Writes docs/flags.md from the yargs definitions (build first: npm run build).
import { writeFileSync } from 'node:fs';
import { commandFlags, flagsMarkdown } from '../dist/cli/flags.js';

const file = new URL('../docs/flags.md', import.meta.url);
writeFileSync(file, flagsMarkdown(await commandFlags()));
console.log(`wrote ${file.pathname}`);

#!/usr/bin/env node
// Runs the compiled command line (built by `npm ci` / `npm run build` into dist/).
import { main } from '../dist/src/cli/main.js';

await main();

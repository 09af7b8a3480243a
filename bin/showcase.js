#!/usr/bin/env node
// Runs the TypeScript CLI directly through tsx (no build step).
require("tsx/cjs");
const { main } = require("../lib/cli.ts");
main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (error) => { console.error(error && error.stack ? error.stack : String(error)); process.exitCode = 1; },
);

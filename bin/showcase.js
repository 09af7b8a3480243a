#!/usr/bin/env node
// Runs the TypeScript CLI directly through tsx (no build step). Both hooks are needed: the CLI loads
// its commands with dynamic import(), which goes through Node's ESM loader.
require("tsx/esm/api").register();
require("tsx/cjs");
const { main } = require("../lib/cli.ts");
main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (error) => { console.error(error && error.stack ? error.stack : String(error)); process.exitCode = 1; },
);

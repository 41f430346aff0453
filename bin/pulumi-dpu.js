#!/usr/bin/env node
"use strict";
// Thin launcher: the CLI is TypeScript compiled to dist/ by `npm run build` (run by `prepare` on install).
require("../dist/cli/main.js")
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });

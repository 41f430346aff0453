#!/usr/bin/env node
// Copies every `assets/` folder of the compiled trees (the shell scripts sent to DPUs, the dashboard's browser
// script) into dist/ next to its compiled module, which loads it from `__dirname/assets` at run time.
// Run by `npm run build` after tsc.
"use strict";
const { cpSync, readdirSync } = require("node:fs");
const { join, relative } = require("node:path");

const root = join(__dirname, "..");
const trees = ["provider", "simulator"];

/** Every `assets` directory under `dir`. */
function assetDirs(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory() || e.name === "node_modules") continue;
    const p = join(dir, e.name);
    if (e.name === "assets") out.push(p);
    else out.push(...assetDirs(p));
  }
  return out;
}

for (const tree of trees) {
  for (const dir of assetDirs(join(root, tree))) {
    cpSync(dir, join(root, "dist", relative(root, dir)), { recursive: true });
  }
}

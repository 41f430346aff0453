/**
 * Copies every `assets/` folder of the sources (shell scripts the provider reads at run time, next to its
 * modules) into the benchmark build (`build/bench/`), as `npm run build` does for `dist/`: tsc compiles only
 * TypeScript. Run by `npm run bench` after compiling; loads nothing of the provider.
 */
import { cpSync, existsSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";

const root = join(__dirname, "..", "..", "..");
const out = join(root, "build", "bench");

function walk(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory() || e.name === "node_modules") continue;
    const p = join(dir, e.name);
    if (e.name === "assets") cpSync(p, join(out, relative(root, p)), { recursive: true });
    else walk(p);
  }
}

for (const top of ["provider", "sdk", "simulator", "engine"]) {
  if (existsSync(join(root, top))) walk(join(root, top));
}

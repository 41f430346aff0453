/**
 * The program `pulumi-dpu demo` runs: a copy of the package's examples/fleet in the run's temporary directory,
 * with a `node_modules` that resolves what `npm install` would give it. A copy, because the package may be
 * installed (Node does not strip types of `.ts` files under `node_modules`, and the stack's files must not be
 * written into the package), and a clone's examples/fleet must not be changed by a demo either.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { linkModules, PACKAGE_ROOT, resolvePackageDir } from "../engine/program-dir";

/** The files of examples/fleet the demo needs (all shipped in the package). */
export const FLEET_FILES = ["Pulumi.yaml", "package.json", "tsconfig.json", "index.ts"] as const;

/** examples/fleet of this package (the clone's, or the installed package's). */
export function fleetExampleDir(): string {
  return path.join(PACKAGE_ROOT, "examples", "fleet");
}

/**
 * Copies examples/fleet to `<workDir>/fleet` and links `@pulumi`, `pulumi-dpu` and (when this package can
 * resolve one) `typescript` into its `node_modules`; returns the program directory.
 */
export function prepareFleetProgram(workDir: string): string {
  const source = fleetExampleDir();
  const missing = FLEET_FILES.filter((f) => !fs.existsSync(path.join(source, f)));
  if (missing.length > 0) {
    throw new Error(
      `examples/fleet is incomplete in ${PACKAGE_ROOT} (missing ${missing.join(", ")}); reinstall pulumi-dpu`,
    );
  }
  const dir = path.join(workDir, "fleet");
  fs.mkdirSync(dir, { recursive: true });
  for (const f of FLEET_FILES) fs.copyFileSync(path.join(source, f), path.join(dir, f));
  // The Node language host prefers a program's own TypeScript to the old one vendored in @pulumi/pulumi.
  const typescript = resolvePackageDir("typescript");
  linkModules(dir, typescript ? { typescript } : {});
  return dir;
}

import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as os from "node:os";
import * as path from "node:path";

/**
 * The directory of the `pulumi-dpu` package containing `start`: walks up from `start` to the first
 * `package.json` whose name is `pulumi-dpu`. Works from the sources (`engine/`, under vitest) and from the
 * compiled output (`dist/engine/`).
 */
export function findPackageRoot(start: string = __dirname): string {
  let dir = path.resolve(start);
  for (;;) {
    const file = path.join(dir, "package.json");
    try {
      const pkg = JSON.parse(fs.readFileSync(file, "utf8")) as { name?: unknown };
      if (pkg.name === "pulumi-dpu") return dir;
    } catch {
      // No (readable) package.json here: keep walking up.
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json named pulumi-dpu above ${start}`);
    dir = parent;
  }
}

/**
 * Root of the `pulumi-dpu` package: the clone when run from it, `node_modules/pulumi-dpu` when installed. Its
 * runtime assets (examples/fleet, simulator/vm/build-image.sh) are shipped at the same paths as in the clone.
 */
export const PACKAGE_ROOT = findPackageRoot();

/** Alias of {@link PACKAGE_ROOT} (the repository root when run from a clone). */
export const REPO_ROOT = PACKAGE_ROOT;

/**
 * The directory of `name` (a package) as this package resolves it: in a clone, `node_modules/<name>`; when
 * installed, wherever npm put it (usually hoisted next to `pulumi-dpu`). Undefined when it is not installed.
 */
export function resolvePackageDir(name: string): string | undefined {
  try {
    const req = createRequire(path.join(PACKAGE_ROOT, "package.json"));
    return path.dirname(req.resolve(`${name}/package.json`));
  } catch {
    return undefined;
  }
}

/** The `@pulumi` scope directory holding the `@pulumi/pulumi` this package uses (a peer dependency). */
function pulumiScopeDir(): string {
  const dir = resolvePackageDir("@pulumi/pulumi");
  if (!dir)
    throw new Error(
      `@pulumi/pulumi is not installed next to pulumi-dpu (${PACKAGE_ROOT}): npm install @pulumi/pulumi`,
    );
  return path.dirname(dir);
}

/** A program directory prepared for the dynamic-provider host. */
export interface ProgramDir {
  readonly dir: string;
  /** Removes the directory when it was created by {@link makeProgramDir}. */
  cleanup(): void;
}

function link(target: string, at: string): void {
  fs.mkdirSync(path.dirname(at), { recursive: true });
  try {
    const current = fs.readlinkSync(at);
    if (path.resolve(path.dirname(at), current) === target) return;
    fs.rmSync(at, { force: true });
  } catch {
    // Not a link yet.
  }
  fs.symlinkSync(target, at, "dir");
}

/**
 * Creates a temporary Pulumi program directory whose `node_modules` resolves what an installed program would:
 * `@pulumi/*` (the host resolves `@pulumi/pulumi/cmd/dynamic-provider` from its cwd), `pulumi-dpu` (this
 * package, so `require("pulumi-dpu/provider")` in the serialized shim finds `dist/provider`), plus any
 * `extraModules` (name → directory), e.g. a test fixture provider.
 */
export function makeProgramDir(project: string, extraModules: Record<string, string> = {}): ProgramDir {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dpu-program-"));
  fs.writeFileSync(path.join(dir, "Pulumi.yaml"), `name: ${project}\nruntime: nodejs\n`);
  fs.writeFileSync(
    path.join(dir, "package.json"),
    `${JSON.stringify({ name: project, private: true, dependencies: { "pulumi-dpu": "*" } }, null, 2)}\n`,
  );
  linkModules(dir, extraModules);
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Links `@pulumi` (the scope of the `@pulumi/pulumi` this package resolves, so the program and the provider
 * share one copy), `pulumi-dpu` and `extraModules` into `<dir>/node_modules` (idempotent). Used for the example
 * programs run from a clone or from the installed package.
 */
export function linkModules(dir: string, extraModules: Record<string, string> = {}): void {
  const nm = path.join(dir, "node_modules");
  link(pulumiScopeDir(), path.join(nm, "@pulumi"));
  link(PACKAGE_ROOT, path.join(nm, "pulumi-dpu"));
  for (const [name, target] of Object.entries(extraModules)) link(target, path.join(nm, name));
}

import * as fs from "node:fs";
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

/** Root of this repository (the `pulumi-dpu` package). */
export const REPO_ROOT = findPackageRoot();

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
 * repository, so `require("pulumi-dpu/provider")` in the serialized shim finds `dist/provider`), plus any
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
 * Links `@pulumi`, `pulumi-dpu` and `extraModules` into `<dir>/node_modules` (idempotent). Used for the
 * example programs, whose `npm install` would do the same with `"pulumi-dpu": "file:../.."`.
 */
export function linkModules(dir: string, extraModules: Record<string, string> = {}): void {
  const nm = path.join(dir, "node_modules");
  link(path.join(REPO_ROOT, "node_modules", "@pulumi"), path.join(nm, "@pulumi"));
  link(REPO_ROOT, path.join(nm, "pulumi-dpu"));
  for (const [name, target] of Object.entries(extraModules)) link(target, path.join(nm, name));
}

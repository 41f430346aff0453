/**
 * The examples outside the clone: what `npm install` in an example needs to give a working project with one
 * `@pulumi/pulumi` (an install of a copy of the clone gave exactly one), and a tsconfig TypeScript 6 accepts.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const REPO = join(__dirname, "..", "..");
const root = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as {
  peerDependencies: Record<string, string>;
};
const programs = readdirSync(join(REPO, "examples"), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .filter((name) => {
    try {
      readFileSync(join(REPO, "examples", name, "package.json"));
      return true;
    } catch {
      return false;
    }
  });

describe.each(programs)("examples/%s", (name) => {
  const dir = join(REPO, "examples", name);
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
    dependencies: Record<string, string>;
    devDependencies?: Record<string, string>;
  };

  it("depends on typescript, and on @pulumi/pulumi with the package's peer range", () => {
    expect(pkg.devDependencies?.typescript ?? pkg.dependencies.typescript).toBeDefined();
    expect(pkg.dependencies["@pulumi/pulumi"]).toBe(root.peerDependencies["@pulumi/pulumi"]);
  });

  it("installs pulumi-dpu from the clone as a packed copy (one @pulumi/pulumi), not a symlink", () => {
    expect(pkg.dependencies["pulumi-dpu"]).toBe("file:../..");
    expect(readFileSync(join(dir, ".npmrc"), "utf8")).toMatch(/^install-links=true$/m);
  });

  it("uses a module resolution TypeScript 6 accepts (not node/node10/classic)", () => {
    const tsconfig = JSON.parse(readFileSync(join(dir, "tsconfig.json"), "utf8")) as {
      compilerOptions: { module?: string; moduleResolution?: string; strict?: boolean };
    };
    expect(["nodenext", "node16", "bundler"]).toContain(
      tsconfig.compilerOptions.moduleResolution?.toLowerCase(),
    );
    expect(tsconfig.compilerOptions.strict).toBe(true);
  });
});

it("there are example programs to check", () => {
  expect(programs).toEqual(expect.arrayContaining(["fleet", "component-library"]));
});

/**
 * The examples outside the clone: what `npm install` in an example needs to give a working project with one
 * `@pulumi/pulumi` (an install of a copy of the clone gave exactly one), and a tsconfig TypeScript 6 accepts.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const REPO = join(__dirname, "..", "..");
const root = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as {
  version: string;
  files: string[];
  peerDependencies: Record<string, string>;
};
/** Examples the tarball ships (a user copies them out of node_modules/pulumi-dpu). */
const shipped = (name: string) => root.files.includes(`examples/${name}/package.json`);
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

  it("a shipped example depends on this release's range (file:../.. means nothing outside the clone); a clone-only one on the clone, packed", () => {
    if (shipped(name)) {
      expect(pkg.dependencies["pulumi-dpu"]).toBe(`^${root.version}`);
      // Its README says how to install it from the installed package, from a tarball and in a clone.
      const readme = readFileSync(join(dir, "README.md"), "utf8");
      expect(readme).toContain(`cp -r node_modules/pulumi-dpu/examples/${name}`);
      expect(readme).toMatch(/npm install \/path\/to\/pulumi-dpu-[\d.]+\.tgz/);
      expect(readme).toContain("npm install --no-save --install-links ../..");
    } else {
      expect(pkg.dependencies["pulumi-dpu"]).toBe("file:../..");
      expect(readFileSync(join(dir, ".npmrc"), "utf8")).toMatch(/^install-links=true$/m);
    }
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

it("the README sends a package user to shipped examples only; others are named as the source repository's", () => {
  const readme = readFileSync(join(REPO, "README.md"), "utf8");
  // Prose paragraphs (code blocks hold the clone's layout, not a pointer for a user).
  const prose = readme.replace(/^```[\s\S]*?^```$/gm, "").split(/\n\s*\n/);
  const mentions = prose.flatMap((para) =>
    [...para.matchAll(/`examples\/([\w-]+)`/g)].map((m) => ({ name: m[1] ?? "", para })),
  );
  expect(mentions.length).toBeGreaterThan(0);
  for (const { name, para } of mentions) {
    if (root.files.includes(`examples/${name}/package.json`)) continue;
    expect(para, `examples/${name} is not in the tarball`).toMatch(/source repository|not shipped/);
  }
});

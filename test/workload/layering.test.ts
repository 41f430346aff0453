import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";

const REPO = join(__dirname, "..", "..");
const BIOME = join(REPO, "node_modules", ".bin", "biome");

/** The relative imports of every TypeScript file of a provider folder. */
function importsOf(folder: string): { file: string; from: string }[] {
  const dir = join(REPO, "provider", folder);
  const out: { file: string; from: string }[] = [];
  for (const f of readdirSync(dir)) {
    if (!f.endsWith(".ts")) continue;
    for (const m of readFileSync(join(dir, f), "utf8").matchAll(/\bfrom\s+"([^"]+)"/g)) {
      out.push({ file: `${folder}/${f}`, from: m[1] ?? "" });
    }
  }
  return out;
}

describe("layering: resources → domain → transports, never back up", () => {
  test("provider/workload and provider/underlay import nothing from provider/resources", () => {
    const up = [...importsOf("workload"), ...importsOf("underlay")].filter((i) =>
      /\/resources(\/|$)/.test(i.from),
    );
    expect(up).toEqual([]);
  });

  // The rule lives in biome.json; a probe tree with the repository's configuration shows that biome refuses an
  // upward import in each folder (and that a more specific override keeps the provider-wide rule).
  const probe = mkdtempSync(join(tmpdir(), "pulumi-dpu-layering-"));
  afterAll(() => rmSync(probe, { recursive: true, force: true }));

  test("biome refuses an upward import from the domain and the transports", () => {
    const config = JSON.parse(readFileSync(join(REPO, "biome.json"), "utf8")) as Record<string, unknown>;
    config.$schema = undefined;
    writeFileSync(join(probe, "biome.json"), JSON.stringify(config));
    const probes = {
      "provider/workload/up.ts": ["../resources/dpu-workload.schema", "../../simulator/lab"],
      "provider/underlay/up.ts": ["../resources/dpu-underlay.schema", "../../sdk/index"],
      "provider/ssh/up.ts": ["../workload/spec", "../../simulator/lab"],
    } as const;
    for (const [file, froms] of Object.entries(probes)) {
      mkdirSync(join(probe, file, ".."), { recursive: true });
      const lines = froms.map((f, i) => `import { v${i} } from "${f}";`);
      writeFileSync(
        join(probe, file),
        `${lines.join("\n")}\nexport const all = [${froms.map((_, i) => `v${i}`)}];\n`,
      );
    }
    const r = spawnSync(BIOME, ["lint", "--max-diagnostics=100", "provider"], {
      cwd: probe,
      encoding: "utf8",
    });
    const out = `${r.stdout}${r.stderr}`;
    for (const [file, froms] of Object.entries(probes)) {
      froms.forEach((_, i) => {
        expect(out, `${file} line ${i + 1}`).toMatch(
          new RegExp(`${file.replace(/[./]/g, "\\$&")}:${i + 1}:\\d+ lint/style/noRestrictedImports`),
        );
      });
    }
    expect(r.status).not.toBe(0);
  });
});

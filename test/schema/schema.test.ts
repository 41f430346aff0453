import * as fs from "node:fs";
import * as path from "node:path";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { describe, expect, it } from "vitest";
import { DpuHostInputsSchema } from "../../provider/resources/dpu-host.schema";
import { DpuUnderlayInputsSchema } from "../../provider/resources/dpu-underlay.schema";
import { DpuWorkloadInputsSchema } from "../../provider/resources/dpu-workload.schema";
import { generateSchema, type PackageSchema, schemaText } from "../../scripts/gen-schema";

// schema.json: valid against Pulumi's metaschema, references resolve, secrets and replacements marked, and
// identical to what scripts/gen-schema.ts generates from the zod schemas (regenerate with `npm run generate`).

const ROOT = path.resolve(__dirname, "../..");
const SCHEMA_FILE = path.join(ROOT, "schema.json");
const META = JSON.parse(
  fs.readFileSync(path.join(__dirname, "fixtures", "pulumi-package-metaschema.json"), "utf8"),
);

function validator() {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  return ajv.compile(META);
}

function refs(v: unknown, out: string[] = []): string[] {
  if (Array.isArray(v)) for (const x of v) refs(x, out);
  else if (v && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) {
      if (k === "$ref" && typeof x === "string") out.push(x);
      else refs(x, out);
    }
  }
  return out;
}

describe("schema.json", () => {
  const generated: PackageSchema = generateSchema();

  it("is up to date with the zod schemas (regenerate: npm run generate)", () => {
    expect(fs.existsSync(SCHEMA_FILE), "schema.json is missing").toBe(true);
    expect(fs.readFileSync(SCHEMA_FILE, "utf8")).toBe(schemaText());
  });

  it("validates against Pulumi's package metaschema", () => {
    const validate = validator();
    const ok = validate(JSON.parse(fs.readFileSync(SCHEMA_FILE, "utf8")));
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it("the metaschema check is real: a wrong property type is rejected", () => {
    const bad = structuredClone(generated) as unknown as {
      resources: Record<string, { inputProperties: Record<string, unknown> }>;
    };
    const host = bad.resources["dpu:index:DpuHost"];
    if (!host) throw new Error("DpuHost missing");
    host.inputProperties.power = { type: "enum-ish" };
    expect(validator()(bad)).toBe(false);
  });

  it("uses dpu:index:* tokens and every $ref resolves", () => {
    for (const t of [...Object.keys(generated.types), ...Object.keys(generated.resources)]) {
      expect(t).toMatch(/^dpu:index:[A-Z][A-Za-z0-9]*$/);
    }
    for (const r of refs(generated)) {
      if (r === "pulumi.json#/Any") continue;
      const m = /^#\/(types|resources)\/(.+)$/.exec(r);
      expect(m, r).not.toBeNull();
      const table = m?.[1] === "types" ? generated.types : generated.resources;
      expect(table[m?.[2] ?? ""], r).toBeDefined();
    }
  });

  it("covers the three resources and two components with the zod inputs", () => {
    const r = generated.resources;
    expect(Object.keys(r).sort()).toEqual([
      "dpu:index:DpuFleet",
      "dpu:index:DpuHost",
      "dpu:index:DpuNode",
      "dpu:index:DpuUnderlay",
      "dpu:index:DpuWorkload",
    ]);
    expect(Object.keys(r["dpu:index:DpuHost"]?.inputProperties ?? {}).sort()).toEqual(
      Object.keys(DpuHostInputsSchema.shape).sort(),
    );
    expect(Object.keys(r["dpu:index:DpuUnderlay"]?.inputProperties ?? {}).sort()).toEqual(
      Object.keys(DpuUnderlayInputsSchema.shape).sort(),
    );
    expect(Object.keys(r["dpu:index:DpuWorkload"]?.inputProperties ?? {}).sort()).toEqual(
      Object.keys(DpuWorkloadInputsSchema.shape).sort(),
    );
    expect(r["dpu:index:DpuFleet"]?.isComponent).toBe(true);
    expect(r["dpu:index:DpuNode"]?.isComponent).toBe(true);
  });

  it("marks secrets and replacements from the providers' lists and rules", () => {
    const bmcRef = generated.resources["dpu:index:DpuHost"]?.inputProperties.bmc?.$ref ?? "";
    const bmc = generated.types[bmcRef.replace("#/types/", "")];
    expect(bmc?.properties?.password?.secret).toBe(true);
    expect(bmc?.properties?.endpoint?.replaceOnChanges).toBe(true);
    expect(bmc?.properties?.endpoint?.secret).toBeUndefined();
    const wl = generated.resources["dpu:index:DpuWorkload"];
    expect(wl?.inputProperties.secretEnv?.secret).toBe(true);
    expect(wl?.inputProperties.name?.replaceOnChanges).toBe(true);
    const conn = generated.types["dpu:index:SshConnection"];
    expect(conn?.properties?.privateKey?.secret).toBe(true);
    expect(generated.config.variables.bmcPassword?.secret).toBe(true);
    // The connection type is shared by DpuUnderlay and DpuWorkload.
    expect(generated.resources["dpu:index:DpuUnderlay"]?.inputProperties.connection?.$ref).toBe(
      "#/types/dpu:index:SshConnection",
    );
    expect(wl?.inputProperties.connection?.$ref).toBe("#/types/dpu:index:SshConnection");
  });
});

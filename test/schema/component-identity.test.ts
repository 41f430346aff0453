import { describe, expect, it } from "vitest";
import { generateSchema } from "../../scripts/gen-schema";
import type { DpuFleetArgs } from "../../sdk/dpu-fleet";
import type { DpuFleetIdentity } from "../../sdk/fleet-identity";

// The DpuFleet and DpuNode component schemas list the Day-0 `identity` input the SDK takes (sdk/dpu-fleet.ts,
// sdk/fleet-identity.ts, sdk/dpu-node.ts). The records below are checked by tsc against the SDK interfaces, so
// a field added there without the schema (or the other way round) fails here.

/** DpuFleetIdentity fields expressible in a package schema (`row` is a TypeScript function). */
const FLEET_IDENTITY_FIELDS: { [K in Exclude<keyof DpuFleetIdentity<never>, "row">]-?: true } = {
  authorizedKeys: true,
  managementInterface: true,
  gateway: true,
  nameservers: true,
  hostKey: true,
  stage: true,
};
/** DpuFleetArgs inputs expressible in a package schema (`node` is a TypeScript function). */
const FLEET_INPUTS: { [K in Exclude<keyof DpuFleetArgs, "node">]-?: true } = {
  inventory: true,
  identity: true,
  rollout: true,
};

describe("component schemas: identity", () => {
  const schema = generateSchema();
  const fleet = schema.resources["dpu:index:DpuFleet"];
  const node = schema.resources["dpu:index:DpuNode"];

  it("DpuFleet lists every schema-expressible input of DpuFleetArgs, identity included", () => {
    expect(Object.keys(fleet?.inputProperties ?? {}).sort()).toEqual(Object.keys(FLEET_INPUTS).sort());
    expect(fleet?.inputProperties.identity?.$ref).toBe("#/types/dpu:index:DpuFleetIdentity");
    expect(fleet?.inputProperties.identity?.description).toMatch(/Day-0 identities/);
  });

  it("DpuFleetIdentity has the SDK interface's fields, with DpuHost's own stage and host-key types", () => {
    const t = schema.types["dpu:index:DpuFleetIdentity"];
    expect(Object.keys(t?.properties ?? {}).sort()).toEqual(Object.keys(FLEET_IDENTITY_FIELDS).sort());
    expect(t?.required).toEqual(["authorizedKeys", "managementInterface", "stage"]);
    const hostStage = schema.resources["dpu:index:DpuHost"]?.inputProperties.stage;
    expect(t?.properties?.stage?.oneOf).toEqual(hostStage?.oneOf);
    expect(t?.properties?.hostKey?.$ref).toBe("#/types/dpu:index:DpuHostIdentityHostKey");
    expect(schema.types["dpu:index:DpuHostIdentityHostKey"]?.enum?.map((e) => e.value)).toEqual([
      "generate",
      "image",
    ]);
    for (const [name, p] of Object.entries(t?.properties ?? {})) expect(p.description, name).toBeTruthy();
  });

  it("DpuNode's host takes DpuHostArgs, whose identity is DpuHost's", () => {
    expect(node?.inputProperties.host?.$ref).toBe("#/types/dpu:index:DpuHostArgs");
    expect(node?.inputProperties.host?.description).toMatch(/identity/);
    expect(schema.types["dpu:index:DpuHostArgs"]?.properties?.identity?.$ref).toBe(
      "#/types/dpu:index:DpuHostIdentity",
    );
  });
});

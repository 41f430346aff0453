import { describe, expect, it } from "vitest";
import { z } from "zod";
import { checkInputs, UNKNOWN } from "../../provider/lifecycle";

const Schema = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9-]*$/, "must be a DNS label"),
    mtu: z
      .number()
      .int()
      .min(68, "MTU must be at least 68")
      .max(9216, "MTU must be at most 9216")
      .default(1500),
    interfaces: z.array(
      z.object({ name: z.string().min(1, "name is required"), mtu: z.number().optional() }),
    ),
    min: z.number().optional(),
    max: z.number().optional(),
  })
  .refine((v) => v.min === undefined || v.max === undefined || v.min <= v.max, {
    message: "min must not exceed max",
    path: ["min"],
  });

describe("checkInputs", () => {
  it("applies defaults and keeps __provider", () => {
    const r = checkInputs(Schema, { name: "dpu-0", interfaces: [], __provider: "text" });
    expect(r.failures).toEqual([]);
    expect(r.inputs).toEqual({ name: "dpu-0", mtu: 1500, interfaces: [], __provider: "text" });
  });

  it("maps issues to Pulumi property paths with the schema's reason", () => {
    const r = checkInputs(Schema, { name: "Bad Name", mtu: 10, interfaces: [{ name: "" }] });
    expect(r.failures).toEqual(
      expect.arrayContaining([
        { property: "name", reason: "must be a DNS label" },
        { property: "mtu", reason: "MTU must be at least 68" },
        { property: "interfaces[0].name", reason: "name is required" },
      ]),
    );
  });

  it("tolerates unknown values during preview, but still rejects known bad values", () => {
    const r = checkInputs(Schema, { name: UNKNOWN, mtu: 99999, interfaces: UNKNOWN, min: UNKNOWN, max: 3 });
    expect(r.failures).toEqual([{ property: "mtu", reason: "MTU must be at most 9216" }]);
    // Inputs come back as given: defaults cannot be applied around unknowns.
    expect((r.inputs as Record<string, unknown>).name).toBe(UNKNOWN);
  });

  it("reports cross-field rules when everything is known", () => {
    const r = checkInputs(Schema, { name: "a", interfaces: [], min: 5, max: 3 });
    expect(r.failures).toEqual([{ property: "min", reason: "min must not exceed max" }]);
  });

  it("rejects a non-object without throwing", () => {
    const r = checkInputs(Schema, null);
    expect(r.failures.length).toBeGreaterThan(0);
  });
});

import { describe, expect, it } from "vitest";
import { diffInputs, type FieldRules, jsonEqual, UNKNOWN } from "../../provider/lifecycle";

const rules: FieldRules = {
  replaceOnChanges: ["bmc.endpoint", "bmc.systemId"],
  noHardwareAction: ["bmc.password", "bmc.username"],
  deleteBeforeReplace: true,
};
const keys = ["bmc", "image", "power"];
const base = {
  bmc: { endpoint: "https://a", systemId: "1", username: "u", password: "p" },
  image: { url: "http://i/1.iso" },
  power: "On",
};

describe("diffInputs", () => {
  it("finds no change for equal inputs, ignoring outputs and __provider", () => {
    const d = diffInputs(
      { ...base, serial: "X", __provider: "old" },
      { ...base, __provider: "new" },
      keys,
      rules,
    );
    expect(d).toMatchObject({ changes: false, replaces: [], deleteBeforeReplace: false });
  });

  it("an image change is an in-place update", () => {
    const d = diffInputs(base, { ...base, image: { url: "http://i/2.iso" } }, keys, rules);
    expect(d.changes).toBe(true);
    expect(d.replaces).toEqual([]);
    expect(d.changed).toEqual([{ path: "image.url", replace: false, noHardwareAction: false }]);
  });

  it("an endpoint change replaces, delete first", () => {
    const d = diffInputs(base, { ...base, bmc: { ...base.bmc, endpoint: "https://b" } }, keys, rules);
    expect(d.replaces).toEqual(["bmc"]);
    expect(d.deleteBeforeReplace).toBe(true);
  });

  it("credential rotation is an update with no hardware action", () => {
    const d = diffInputs(base, { ...base, bmc: { ...base.bmc, password: "q" } }, keys, rules);
    expect(d.changed).toEqual([{ path: "bmc.password", replace: false, noHardwareAction: true }]);
  });

  it("drift observed by read (power Off in state) shows as a change", () => {
    const d = diffInputs({ ...base, power: "Off" }, base, keys, rules);
    expect(d.changed.map((c) => c.path)).toEqual(["power"]);
  });

  it("an unknown value in a replace path during preview forces replacement", () => {
    const d = diffInputs(base, { ...base, bmc: { ...base.bmc, endpoint: UNKNOWN } }, keys, rules);
    expect(d.replaces).toEqual(["bmc"]);
  });

  it("jsonEqual treats missing and undefined alike and compares arrays in order", () => {
    expect(jsonEqual({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
  });
});

import { describe, expect, it } from "vitest";
import { typeStrippingProblem } from "../../cli/demo-harness";

describe("demo harness on a Node without type stripping", () => {
  it("says which Node it needs instead of failing on an unknown .ts extension", () => {
    expect(typeStrippingProblem({}, "v20.20.2")).toMatch(
      /Node v20\.20\.2 does not strip TypeScript types.*>= 22\.18/,
    );
    expect(typeStrippingProblem({ typescript: "strip" }, "v24.21.0")).toBeUndefined();
  });
});

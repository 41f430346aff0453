import { describe, expect, it } from "vitest";
import { countSteps, describeCounts, formatPlan, inputChanges, secret, UNKNOWN } from "../../engine";

// The `pulumi preview --diff`-like plan the demo prints: changed input paths, secrets hidden, unknowns shown
// as output<string>, defaults that check could not apply under unknowns left out.

describe("plan rendering", () => {
  it("lists changed paths old => new, hides secrets, shows unknowns, ignores unchanged __provider", () => {
    const olds = {
      __provider: "p",
      image: { url: "http://x/dpu-os-1.1.iso", sha256: "a".repeat(64) },
      bmc: { password: secret("old-pass") },
      interfaces: [{ name: "p0", mtu: 1500 }],
      token: secret("same"),
    };
    const news = {
      __provider: "p",
      image: { url: "http://x/dpu-os-2.0.iso", sha256: "b".repeat(64) },
      bmc: { password: secret("new-pass") },
      interfaces: [
        { name: "p0", mtu: 9000 },
        { name: "p1", mtu: 9000 },
      ],
      token: secret("same"),
      hostKey: UNKNOWN,
    };
    const changes = inputChanges(olds, news);
    expect(changes).toEqual([
      {
        path: "image.url",
        kind: "change",
        old: '"http://x/dpu-os-1.1.iso"',
        new: '"http://x/dpu-os-2.0.iso"',
      },
      { path: "image.sha256", kind: "change", old: '"aaaaaaaaaaaa…"', new: '"bbbbbbbbbbbb…"' },
      { path: "bmc.password", kind: "change", old: "[secret]", new: "[secret]" },
      { path: "interfaces[0].mtu", kind: "change", old: "1500", new: "9000" },
      { path: "interfaces[1]", kind: "add", new: '{ name: "p1", mtu: 9000 }' },
      { path: "hostKey", kind: "add", new: "output<string>" },
    ]);
    expect(JSON.stringify(changes)).not.toMatch(/old-pass|new-pass|"same"/);
  });

  it("formats steps with +, ~, -, +- and leaves defaults out while inputs are unknown", () => {
    const lines = formatPlan([
      { op: "create", type: "dpu:DpuHost", name: "a" },
      { op: "same", type: "dpu:DpuHost", name: "b" },
      {
        op: "update",
        type: "dpu:DpuWorkload",
        name: "c",
        oldInputs: { env: { G: "hello" }, restart: "on-failure", hostKey: "SHA256:k" },
        inputs: { env: { G: "hi" }, hostKey: UNKNOWN },
      },
      { op: "replace", type: "dpu:DpuUnderlay", name: "d", diff: { replaces: ["connection"] } },
      { op: "delete", type: "dpu:DpuHost", name: "e" },
    ]);
    expect(lines).toEqual([
      "  +  dpu:DpuHost  a  (create)",
      "  ~  dpu:DpuWorkload  c  (update)",
      '        ~ env.G: "hello" => "hi"',
      '        ~ hostKey: "SHA256:k" => output<string>',
      "          (+ 1 defaults, applied by check once the output<string> values are known)",
      "  +- dpu:DpuUnderlay  d  (replace) [replace: connection]",
      "  -  dpu:DpuHost  e  (delete)",
    ]);
    const counts = countSteps([{ op: "create" }, { op: "same" }, { op: "same" }, { op: "delete" }]);
    expect(describeCounts(counts, true)).toBe("1 to create, 1 to delete, 2 unchanged");
    expect(describeCounts(counts, false)).toBe("1 created, 1 deleted, 2 unchanged");
  });
});

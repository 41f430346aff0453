import { describe, expect, it } from "vitest";
import { dpuHost } from "../../provider";

/**
 * Typos a hostile (or hurried) user makes in DpuHost's newest nested inputs, as check() sees them in preview:
 * every one refused at its own path with the intended name or value suggested, and no secret echoed.
 */
const base = {
  bmc: {
    endpoint: "https://10.0.0.1",
    username: "root",
    password: "Bmc-Secret-4471",
    insecureSkipVerify: true,
  },
  image: { url: "https://images.example/bf.bfb", method: "simpleUpdate" },
};
const host = {
  endpoint: "https://10.0.0.2",
  username: "admin",
  password: "Host-Secret-9923",
  insecureSkipVerify: true,
  policy: "powerCycle",
};

async function failures(props: Record<string, unknown>): Promise<{ property: string; reason: string }[]> {
  const r = await dpuHost.check?.({}, props);
  const f = r?.failures ?? [];
  expect(JSON.stringify(f)).not.toMatch(/Secret-/);
  return f as { property: string; reason: string }[];
}

describe("DpuHost check(): typos in mode, host and deferred-update inputs", () => {
  it.each([
    [
      { ...base, host: { ...host, policy: undefined, polcy: "powerCycle" } },
      "host.polcy",
      /did you mean "policy"/,
    ],
    [
      { ...base, image: { ...base.image, applytime: "OnReset" } },
      "image.applytime",
      /did you mean "applyTime"/,
    ],
    [
      { ...base, image: { ...base.image, applyTime: "OnReset", activat: "now" } },
      "image.activat",
      /did you mean "activate"/,
    ],
    [{ ...base, mdoe: "nic" }, "mdoe", /did you mean "mode"/],
    [
      { ...base, image: { ...base.image, applyTime: "onreset" } },
      "image.applyTime",
      /did you mean "OnReset"/,
    ],
    [
      { ...base, image: { ...base.image, applyTime: "OnReset", activate: "Now" } },
      "image.activate",
      /did you mean "now"/,
    ],
    [{ ...base, host: { ...host, policy: "powercycle" } }, "host.policy", /did you mean "powerCycle"/],
    [{ ...base, host: { ...host, policy: "requireoff" } }, "host.policy", /did you mean "requireOff"/],
    [{ ...base, mode: "NIC" }, "mode", /did you mean "nic"/],
  ])("%# refused at its path with a suggestion", async (props, property, reason) => {
    const f = await failures(props as Record<string, unknown>);
    expect(f).toHaveLength(1);
    expect(f[0]?.property).toBe(property);
    expect(f[0]?.reason).toMatch(reason);
  });

  it("a value far from every allowed one suggests nothing (no wrong guess)", async () => {
    const f = await failures({ ...base, host: { ...host, policy: "yolo" } });
    expect(f[0]?.property).toBe("host.policy");
    expect(f[0]?.reason).not.toMatch(/did you mean/);
    expect(f[0]?.reason).toMatch(/powerCycle/);
  });

  it("host.endpoint pointing at the DPU's own BMC is refused (it would power-cycle the DPU, not the host)", async () => {
    const f = await failures({ ...base, mode: "nic", host: { ...host, endpoint: "https://10.0.0.1:443/" } });
    expect(f).toHaveLength(1);
    expect(f[0]?.property).toBe("host.endpoint");
    expect(f[0]?.reason).toMatch(/DPU's own BMC/);
  });
});

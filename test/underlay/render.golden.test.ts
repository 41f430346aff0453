import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderInput } from "../../provider/resources/dpu-underlay.observe";
import { DpuUnderlayInputsSchema } from "../../provider/resources/dpu-underlay.schema";
import type { RenderInput } from "../../provider/underlay/render-model";
import { renderNetplan } from "../../provider/underlay/render-netplan";
import { renderNetworkd } from "../../provider/underlay/render-networkd";
import { renderNetworkManager } from "../../provider/underlay/render-networkmanager";

const input: RenderInput = {
  id: "underlay-0123456789abcdef",
  links: [
    {
      name: "p0",
      mtu: 9000,
      addresses: ["198.19.1.1/24", "2001:db8:19::1/64"],
      state: "up",
      vlans: [{ name: "p0.100", id: 100, mtu: 1500, addresses: ["198.19.100.1/24"] }],
    },
    { name: "p1", mac: "02:00:00:00:01:02", addresses: ["198.19.2.1/24"], state: "down", vlans: [] },
  ],
  routes: [
    { destination: "198.19.200.0/24", via: "198.19.1.2", dev: "p0", metric: 50 },
    { destination: "default6", via: "2001:db8:19::fe", dev: "p0", table: 100 },
    { destination: "198.19.250.0/24", dev: "p0.100" },
  ],
  dns: { servers: ["198.18.0.53", "2001:db8::53"], search: ["lab.example"] },
};

const GOLDEN = join(__dirname, "golden");

function golden(name: string, files: { path: string; mode: number; content: string }[]): void {
  const text = files.map((f) => `=== ${f.path} (mode ${f.mode.toString(8)})\n${f.content}`).join("");
  const path = join(GOLDEN, name);
  if (process.env.UPDATE_GOLDEN) writeFileSync(path, text);
  expect(text).toBe(readFileSync(path, "utf8"));
}

describe("persistence renderers (golden files)", () => {
  it("netplan", () => golden("netplan.txt", renderNetplan(input)));
  it("systemd-networkd", () => golden("networkd.txt", renderNetworkd(input)));
  it("NetworkManager keyfiles", () => golden("networkmanager.txt", renderNetworkManager(input)));
  it("renders only the declared links and is deterministic", () => {
    for (const r of [renderNetplan, renderNetworkd, renderNetworkManager]) {
      const a = r(input);
      expect(r(input)).toEqual(a);
      const all = a.map((f) => f.content).join("\n");
      expect(all).not.toMatch(/oob_net0/);
      for (const f of a) expect(f.path).toContain(input.id);
    }
  });
});

describe("routes declared without dev", () => {
  it("are attached to the declared link or VLAN whose subnet holds the gateway, for every renderer", () => {
    const inputs = DpuUnderlayInputsSchema.parse({
      connection: { host: "198.18.0.10", username: "root", password: "x" },
      interfaces: [
        {
          name: "p0",
          addresses: ["198.19.1.1/24", "2001:db8:19::1/64"],
          vlans: [{ id: 100, addresses: ["198.19.100.1/24"] }],
        },
      ],
      routes: [
        { destination: "198.19.200.0/24", via: "198.19.1.2", metric: 50 },
        { destination: "2001:db8:200::/48", via: "2001:db8:19::fe" },
        { destination: "198.19.201.0/24", via: "198.19.100.254" },
        { destination: "198.19.202.0/24", via: "198.18.0.1" },
      ],
    });
    const r = renderInput("underlay-0123456789abcdef", inputs, [{ name: "p0", vlans: ["p0.100"] }]);
    expect(r.routes.map((x) => x.dev)).toEqual(["p0", "p0", "p0.100", undefined]);
    const all = [renderNetplan(r), renderNetworkd(r), renderNetworkManager(r)].map((fs) =>
      fs.map((f) => f.content).join("\n"),
    );
    for (const text of all) {
      expect(text).toContain("198.19.200.0/24");
      expect(text).toContain("2001:db8:200::/48");
      expect(text).toContain("198.19.201.0/24");
      // The gateway on an undeclared (management) subnet is not written anywhere: the provider refuses it
      // before applying when persistence is on.
      expect(text).not.toContain("198.19.202.0/24");
    }
  });
});

import { execFileSync } from "node:child_process";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { dpuUnderlayProvider } from "../../provider/resources/dpu-underlay";
import { shellQuote } from "../../provider/ssh";
import { parseObserved } from "../../provider/underlay/observed";
import { planUnderlay } from "../../provider/underlay/planner";

const connection = {
  host: "198.18.0.10",
  privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n",
};

async function failures(news: Record<string, unknown>) {
  const r = await dpuUnderlayProvider.check!({}, { connection, ...news });
  return (r.failures ?? []).map((f) => `${f.property}: ${f.reason}`);
}

describe("DpuUnderlay check()", () => {
  it("accepts a valid declaration and applies defaults", async () => {
    const r = await dpuUnderlayProvider.check!(
      {},
      { connection, interfaces: [{ name: "p0", addresses: ["198.19.1.1/24"] }] },
    );
    expect(r.failures).toEqual([]);
    expect(r.inputs).toMatchObject({
      persist: "auto",
      safety: { rollbackAfterSeconds: 60, allowManagementInterface: false },
      interfaces: [{ state: "up", vlans: [] }],
    });
  });

  it("rejects invalid values with the field path", async () => {
    const f = await failures({
      interfaces: [
        { name: "p0", mtu: 67, addresses: ["198.19.1.1/33", "nonsense"], vlans: [{ id: 0 }, { id: 4095 }] },
        { name: "p0" },
        { name: "p1", mtu: 9217, addresses: ["198.19.1.7/24"] },
      ],
      routes: [{ destination: "198.19.0.0/16" }],
    });
    expect(f).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^interfaces\[0\]\.mtu: MTU must be at least 68/),
        expect.stringMatching(/^interfaces\[0\]\.addresses\[0\]: must be an address in CIDR form/),
        expect.stringMatching(/^interfaces\[0\]\.addresses\[1\]: must be an address in CIDR form/),
        expect.stringMatching(/^interfaces\[0\]\.vlans\[0\]\.id: VLAN id must be 1-4094/),
        expect.stringMatching(/^interfaces\[0\]\.vlans\[1\]\.id: VLAN id must be 1-4094/),
        expect.stringMatching(/^interfaces\[2\]\.mtu: MTU must be at most 9216/),
        expect.stringMatching(/^routes\[0\]\.via: set via or dev/),
      ]),
    );
  });

  it("rejects overlapping CIDRs and duplicate interfaces", async () => {
    const f = await failures({
      interfaces: [
        { name: "p0", addresses: ["198.19.1.1/24"] },
        {
          name: "p1",
          addresses: ["198.19.1.200/25", "2001:db8::1/64"],
          vlans: [{ id: 5, addresses: ["2001:db8::2/48"] }],
        },
        { name: "p0" },
      ],
    });
    expect(f).toEqual(
      expect.arrayContaining([
        "interfaces[1].addresses[0]: 198.19.1.200/25 overlaps 198.19.1.1/24",
        "interfaces[1].vlans[0].addresses[0]: 2001:db8::2/48 overlaps 2001:db8::1/64",
        "interfaces[2].name: duplicate interface (name p0 is also interfaces[0])",
      ]),
    );
  });

  it("rejects shell metacharacters in interface names, hostnames and DNS entries", async () => {
    const hostile = ["p0;reboot", "$(id)", "p0 p1", "`x`", "a'b", "a\nb", "..", "a|b", "a&b"];
    for (const name of hostile) {
      expect(await failures({ interfaces: [{ name }] }), name).not.toEqual([]);
      expect(await failures({ hostname: name }), name).not.toEqual([]);
      expect(await failures({ dns: { servers: [name], search: [name] } }), name).toHaveLength(2);
      expect(await failures({ routes: [{ destination: "default", dev: name }] }), name).not.toEqual([]);
    }
  });

  it("rejects interface names longer than 15 characters", async () => {
    expect(await failures({ interfaces: [{ name: "averyveryverylongname" }] })).toEqual([
      expect.stringMatching(/^interfaces\[0\]\.name: must be a Linux interface name/),
    ]);
  });

  it("accepts only names and values that are single safe tokens (property)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 20 }), async (name) => {
        const f = await failures({ interfaces: [{ name }], hostname: name });
        if (f.length === 0) expect(name).toMatch(/^[A-Za-z0-9_.-]+$/);
      }),
      { numRuns: 200 },
    );
  });
});

describe("command builder", () => {
  it("quotes so a local POSIX shell sees every argument unchanged (property)", () => {
    const arg = fc.string({ unit: "binary", maxLength: 30 }).filter((a) => !a.includes("\u0000"));
    fc.assert(
      fc.property(fc.array(arg, { minLength: 1, maxLength: 5 }), (args) => {
        const out = execFileSync("sh", ["-c", shellQuote(["printf", "%s\\0", ...args])]);
        expect(out.toString("utf8").split("\u0000").slice(0, -1)).toEqual(args);
      }),
      { numRuns: 60 },
    );
  });
});

const observedDoc = (extra: { record?: unknown; p0Addrs?: string[]; p0Mtu?: number } = {}) =>
  JSON.stringify({
    links: [
      { ifname: "oob_net0", address: "02:00:00:00:00:01", mtu: 1500, flags: ["UP"], operstate: "UP" },
      {
        ifname: "p0",
        address: "02:00:00:00:00:02",
        mtu: extra.p0Mtu ?? 1500,
        flags: ["UP"],
        operstate: "UP",
      },
    ],
    addrs: [
      {
        ifname: "oob_net0",
        addr_info: [{ family: "inet", local: "198.18.0.10", prefixlen: 22, scope: "global" }],
      },
      {
        ifname: "p0",
        addr_info: (extra.p0Addrs ?? ["198.18.9.9/24"]).map((a) => ({
          local: a.split("/")[0],
          prefixlen: Number(a.split("/")[1]),
          scope: "global",
        })),
      },
    ],
    routes4: [{ dst: "default", gateway: "198.18.0.1", dev: "oob_net0", flags: [] }],
    routes6: [],
    hostname: Buffer.from("dpu-0\n").toString("base64"),
    resolv: "",
    record: extra.record === undefined ? "" : Buffer.from(JSON.stringify(extra.record)).toString("base64"),
    sshConnection: Buffer.from("198.18.0.1 5555 198.18.0.10 22").toString("base64"),
    backends: { netplan: false, networkmanager: false, networkd: false },
  });

describe("planner", () => {
  const want = {
    interfaces: [
      {
        name: "p0",
        mtu: 9000,
        addresses: ["198.19.1.1/24"],
        state: "up" as const,
        vlans: [{ id: 10, addresses: ["198.19.10.1/24"] }],
      },
    ],
    routes: [{ destination: "198.19.200.0/24", via: "198.19.1.2" }],
  };

  it("plans the minimal ordered batch and its exact undo", () => {
    const plan = planUnderlay(want, parseObserved(observedDoc()), "oob_net0");
    expect(plan.apply).toEqual([
      "link set dev p0 mtu 9000",
      "link add link p0 name p0.10 type vlan id 10",
      "link set dev p0.10 up",
      "address add 198.19.1.1/24 dev p0",
      "address add 198.19.10.1/24 dev p0.10",
      "route replace 198.19.200.0/24 via 198.19.1.2",
    ]);
    expect(plan.restore).toEqual([
      "route del 198.19.200.0/24 via 198.19.1.2",
      "address del 198.19.1.1/24 dev p0",
      "link del dev p0.10",
      "link set dev p0 mtu 1500",
    ]);
    expect(plan.touchesManagement).toEqual([]);
    expect(plan.record.links.p0).toEqual({ mtuBefore: 1500, addresses: ["198.19.1.1/24"] });
  });

  it("is empty when the DPU already matches, and undoes only its own additions on delete", () => {
    const first = planUnderlay(want, parseObserved(observedDoc()), "oob_net0");
    const converged = parseObserved(
      observedDoc({ record: first.record, p0Addrs: ["198.18.9.9/24", "198.19.1.1/24"], p0Mtu: 9000 }),
    );
    const del = planUnderlay({ interfaces: [], routes: [] }, converged, "oob_net0");
    expect(del.apply).toEqual(["address del 198.19.1.1/24 dev p0", "link set dev p0 mtu 1500"]);
    expect(del.apply.join("\n")).not.toContain("198.18.9.9");
  });

  it("flags a change to the management interface", () => {
    const plan = planUnderlay(
      { interfaces: [{ name: "oob_net0", addresses: [], state: "down", vlans: [] }], routes: [] },
      parseObserved(observedDoc()),
      "oob_net0",
    );
    expect(plan.touchesManagement).toEqual(["oob_net0"]);
  });
});

import { describe, expect, it } from "vitest";
import { managementRisks } from "../../provider/underlay/management";
import { parseObserved } from "../../provider/underlay/observed";
import { type DesiredUnderlay, planUnderlay } from "../../provider/underlay/planner";

// Issue 12 item 5, the rule on fixtures: the SSH client is off the management subnet, reached through the
// management gateway 198.18.0.1 by a default route on oob_net0 with metric 100 (a DHCP-configured DPU).
const observed = parseObserved(
  JSON.stringify({
    links: [
      { ifname: "oob_net0", address: "02:00:00:00:00:01", mtu: 1500, flags: ["UP"], operstate: "UP" },
      { ifname: "p0", address: "02:00:00:00:00:02", mtu: 1500, flags: ["UP"], operstate: "UP" },
    ],
    addrs: [
      { ifname: "oob_net0", addr_info: [{ local: "198.18.0.10", prefixlen: 24, scope: "global" }] },
      { ifname: "p0", addr_info: [{ local: "198.19.1.1", prefixlen: 24, scope: "global" }] },
    ],
    routes4: [
      { dst: "default", gateway: "198.18.0.1", dev: "oob_net0", metric: 100 },
      { dst: "198.18.0.0/24", dev: "oob_net0", metric: 100 },
      { dst: "198.19.1.0/24", dev: "p0" },
    ],
    routes6: [],
    hostname: Buffer.from("dpu-0").toString("base64"),
    resolv: "",
    record: "",
    sshConnection: Buffer.from("10.20.30.40 5555 198.18.0.10 22").toString("base64"),
    backends: { netplan: false, networkmanager: false, networkd: false },
  }),
);

const risks = (d: Partial<DesiredUnderlay>) => {
  const desired: DesiredUnderlay = { interfaces: [], routes: [], ...d };
  const plan = planUnderlay(desired, observed, "oob_net0");
  return managementRisks(desired, observed, "oob_net0", plan).map((p) => `${p.property}: ${p.reason}`);
};

describe("management path guard", () => {
  it("refuses a default route that would win over the one the session uses, accepts one that would not", () => {
    expect(risks({ routes: [{ destination: "default", via: "198.19.1.254" }] })).toEqual([
      expect.stringMatching(
        /^routes\[0\]\.destination: default covers 10\.20\.30\.40, the SSH client address .*reached today by default via 198\.18\.0\.1 dev oob_net0; .*safety\.allowManagementInterface/,
      ),
    ]);
    expect(risks({ routes: [{ destination: "default", via: "198.19.1.254", metric: 100 }] })).toHaveLength(1);
    expect(risks({ routes: [{ destination: "default", via: "198.19.1.254", metric: 200 }] })).toEqual([]);
    expect(risks({ routes: [{ destination: "198.19.200.0/24", via: "198.19.1.254" }] })).toEqual([]);
  });

  it("refuses routes covering the client or the management gateway, and addresses holding them", () => {
    expect(risks({ routes: [{ destination: "10.20.30.0/24", via: "198.19.1.254" }] })).toEqual([
      expect.stringMatching(/^routes\[0\]\.destination: 10\.20\.30\.0\/24 covers 10\.20\.30\.40/),
    ]);
    expect(risks({ routes: [{ destination: "198.18.0.1/32", dev: "p0" }] })).toEqual([
      expect.stringMatching(
        /^routes\[0\]\.destination: 198\.18\.0\.1\/32 covers 198\.18\.0\.1, the gateway the SSH session goes through/,
      ),
    ]);
    const itf = (addresses: string[]) => ({ name: "p0", addresses, state: "up" as const, vlans: [] });
    expect(risks({ interfaces: [itf(["10.20.30.1/24"])] })).toEqual([
      expect.stringMatching(
        /^interfaces\[0\]\.addresses\[0\]: 10\.20\.30\.1\/24 on p0 holds 10\.20\.30\.40, the SSH client/,
      ),
    ]);
    expect(risks({ interfaces: [itf(["198.18.0.77/25"])] })).toEqual([
      expect.stringMatching(
        /^interfaces\[0\]\.addresses\[0\]: 198\.18\.0\.77\/25 on p0 overlaps 198\.18\.0\.10\/24 of oob_net0/,
      ),
    ]);
    // Addresses already on the link, and a route in another table, change nothing on the session's path.
    expect(risks({ interfaces: [itf(["198.19.1.1/24"])] })).toEqual([]);
    expect(risks({ routes: [{ destination: "default", via: "198.19.1.254", table: 100 }] })).toEqual([]);
  });
});

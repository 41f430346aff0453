import { describe, expect, it } from "vitest";
import { parseObserved } from "../../provider/underlay/observed";
import { planUnderlay } from "../../provider/underlay/planner";

// Issue 12 item 4: the restore runs one undo step at a time, so each step's undo must be complete and in the
// order it runs. A VLAN this resource created and no longer declares is deleted; its undo recreates it: the
// link first, then its MTU, addresses and state (it used to be written backwards, so `ip -force` skipped the
// lines that came before the link existed).
const observed = parseObserved(
  JSON.stringify({
    links: [
      { ifname: "p0", address: "02:00:00:00:00:02", mtu: 1500, flags: ["UP"], operstate: "UP" },
      {
        ifname: "p0.10",
        address: "02:00:00:00:00:02",
        mtu: 1400,
        flags: ["UP"],
        operstate: "UP",
        link: "p0",
        linkinfo: { info_kind: "vlan", info_data: { id: 10 } },
      },
    ],
    addrs: [{ ifname: "p0.10", addr_info: [{ local: "198.19.10.1", prefixlen: 24, scope: "global" }] }],
    routes4: [],
    routes6: [],
    hostname: Buffer.from("dpu-0").toString("base64"),
    resolv: "",
    record: Buffer.from(
      JSON.stringify({
        version: 1,
        links: { "p0.10": { addresses: ["198.19.10.1/24"] } },
        vlans: [{ name: "p0.10", parent: "p0", id: 10 }],
        routes: [],
        files: [],
      }),
    ).toString("base64"),
    sshConnection: "",
    backends: { netplan: false, networkmanager: false, networkd: false },
  }),
);

describe("planner undo", () => {
  it("gives every step its own undo, in the order it runs", () => {
    const plan = planUnderlay(
      { interfaces: [{ name: "p0", addresses: [], state: "up", vlans: [] }], routes: [] },
      observed,
      undefined,
    );
    expect(plan.apply).toEqual(["link del dev p0.10"]);
    expect(plan.undo).toEqual([
      [
        "link add link p0 name p0.10 type vlan id 10",
        "link set dev p0.10 mtu 1400",
        "address add 198.19.10.1/24 dev p0.10",
        "link set dev p0.10 up",
      ],
    ]);
    expect(plan.restore).toEqual(plan.undo.flat());
  });
});

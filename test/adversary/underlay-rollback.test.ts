import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDpuUnderlayProvider, type DpuUnderlayOutputs } from "../../provider/resources/dpu-underlay";
import { createSshConnector } from "../../provider/ssh";
import {
  checked,
  confirmDroppingConnector,
  SKIP_UNDERLAY_LAB,
  snapshot,
  strayProcesses,
  tamperingConnector,
  underlayLab,
} from "./underlay-helpers";

// Issue 12 items 3 and 4, against a namespace DPU whose /bin/sh is the host's (dash on Debian/Ubuntu).
// Item 3: `kill -TERM -- "-$pid"` is an error in dash, so the rollback timer was never cancelled: every apply
// left `sleep N; restore.sh` behind, and a delete then create within the window got a false "rollback window
// passed" because the old timer ran the new change's restore. Item 4: the restore stopped at the first undo
// line iproute2 could not parse, leaving MTU and addresses behind with no record.

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(SKIP_UNDERLAY_LAB)("DpuUnderlay rollback under adversity", () => {
  let L: Awaited<ReturnType<typeof underlayLab>>;
  let before: Awaited<ReturnType<typeof snapshot>>;
  beforeAll(async () => {
    L = await underlayLab();
    before = await snapshot(L.session);
    expect(await strayProcesses(L.session)).toEqual([]);
  });
  afterAll(async () => {
    await L?.stop();
  });

  const p1 = (window = 5) =>
    checked({
      connection: L.connection,
      interfaces: [{ name: "p1", mtu: 1400, addresses: ["198.19.61.1/24", "2001:db8:61::1/64"] }],
      safety: { rollbackAfterSeconds: window },
    });

  it("a confirmed create or delete leaves no process on the DPU; a create right after a delete stays applied past the window", async () => {
    const first = await L.provider.create!(p1());
    expect(await strayProcesses(L.session)).toEqual([]);
    await L.provider.delete!(first.id, first.outs as DpuUnderlayOutputs);
    expect(await strayProcesses(L.session)).toEqual([]);
    // Within the delete's window: an old timer, had it survived, would restore this create's change.
    const again = await L.provider.create!(p1());
    expect(await strayProcesses(L.session)).toEqual([]);
    await sleep(6_000);
    const read = await L.provider.read!(again.id, again.outs as DpuUnderlayOutputs);
    const p = (read.props as DpuUnderlayOutputs).observedInterfaces[0];
    expect(p?.mtu).toBe(1400);
    expect(p?.addresses).toEqual(expect.arrayContaining(["198.19.61.1/24", "2001:db8:61::1/64"]));
    expect(await strayProcesses(L.session)).toEqual([]);
    await L.provider.delete!(again.id, read.props as DpuUnderlayOutputs);
    expect(await snapshot(L.session)).toEqual(before);
    expect(await strayProcesses(L.session)).toEqual([]);
  });

  it("a step that fails is undone at once, names the step, and leaves no process", async () => {
    const err = (await L.provider.create!(
      checked({
        connection: L.connection,
        interfaces: [{ name: "p1", mtu: 1400, addresses: ["198.19.62.1/24"] }],
        // No link holds 198.19.77.0/24: the kernel refuses the gateway.
        routes: [{ destination: "198.19.201.0/24", via: "198.19.77.1" }],
        safety: { rollbackAfterSeconds: 5 },
      }),
    ).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(/step `route replace 198\.19\.201\.0\/24 via 198\.19\.77\.1` failed/);
    expect(err.message).toMatch(/nothing was changed/);
    expect(await snapshot(L.session)).toEqual(before);
    expect(await strayProcesses(L.session)).toEqual([]);
  });

  it("a failing probe restores at once and leaves no process", async () => {
    const err = (await L.provider.create!(
      checked({
        connection: L.connection,
        interfaces: [{ name: "p1", addresses: ["198.19.63.1/24"] }],
        safety: { rollbackAfterSeconds: 5, probes: [{ ping: "198.19.63.254" }] },
      }),
    ).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/probe ping 198\.19\.63\.254 failed after the change; the DPU was restored/);
    expect(await snapshot(L.session)).toEqual(before);
    expect(await strayProcesses(L.session)).toEqual([]);
  });

  it("check() refuses a default route whose gateway is of the other family", async () => {
    const r = await L.provider.check!(
      {},
      {
        connection: L.connection,
        interfaces: [{ name: "p1", addresses: ["2001:db8:62::1/64"] }],
        routes: [
          { destination: "default", via: "2001:db8:62::fe", dev: "p1" },
          { destination: "default6", via: "198.19.62.254", dev: "p1" },
        ],
      },
    );
    expect((r.failures ?? []).map((f) => `${f.property}: ${f.reason}`)).toEqual([
      "routes[0].destination: `default` is the IPv4 default route but the gateway 2001:db8:62::fe is IPv6; use `default6` for an IPv6 default route",
      "routes[1].destination: `default6` is the IPv6 default route but the gateway 198.19.62.254 is IPv4; use `default` for an IPv4 default route",
    ]);
  });

  it("a restore that meets an undo step iproute2 cannot run runs every other step, reports it, and records what is left for delete", async () => {
    // The adversary on the wire turns one undo line into one iproute2 cannot parse.
    const bad = "address del 2001:db8:62::1/64 dev p1";
    const provider = createDpuUnderlayProvider({
      connector: tamperingConnector(createSshConnector(), (stdin) =>
        stdin.replace(`${bad}\n`, `${bad} bogus\n`),
      ),
    });
    const inputs = checked({
      connection: L.connection,
      interfaces: [{ name: "p1", mtu: 1400, addresses: ["2001:db8:62::1/64", "198.19.62.1/24"] }],
      routes: [{ destination: "198.19.201.0/24", via: "198.19.77.1" }],
      safety: { rollbackAfterSeconds: 5 },
    });
    const err = (await provider.create!(inputs).catch((e: unknown) => e)) as Error & {
      id?: string;
      properties?: DpuUnderlayOutputs;
    };
    expect(err.message).toMatch(/step `route replace 198\.19\.201\.0\/24 via 198\.19\.77\.1` failed/);
    expect(err.message).toMatch(
      /could not undo 1: `address del 2001:db8:62::1\/64 dev p1 bogus` \(.*garbage/,
    );
    expect(err.message).toMatch(/recorded in \/var\/lib\/pulumi-dpu\/underlay\/underlay-[0-9a-f]{16}\.json/);
    // Every other undo step ran: the MTU and the IPv4 address are back, only the IPv6 address is left.
    const p1Now = (await snapshot(L.session)).links.find((l) => l.name === "p1");
    expect(p1Now?.mtu).toBe(before.links.find((l) => l.name === "p1")?.mtu);
    expect(p1Now?.addrs).toEqual(["2001:db8:62::1/64"]);
    // The provider learned it: a partial resource whose record lists what is left, and delete removes it.
    expect(err.id).toMatch(/^underlay-[0-9a-f]{16}$/);
    expect(err.properties?.added.links.p1?.addresses).toContain("2001:db8:62::1/64");
    expect(err.properties?.observedInterfaces[0]?.addresses).toEqual(["2001:db8:62::1/64"]);
    expect(await strayProcesses(L.session)).toEqual([]);
    await L.provider.delete!(err.id!, err.properties!);
    expect(await snapshot(L.session)).toEqual(before);
    expect(await strayProcesses(L.session)).toEqual([]);
  });

  it("the connection lost around the confirmation: a confirmed change is kept, an unconfirmed one rolled back, no process left", async () => {
    const after = createDpuUnderlayProvider({
      connector: confirmDroppingConnector(createSshConnector(), "after"),
    });
    const kept = await after.create!(p1());
    expect((kept.outs as DpuUnderlayOutputs).observedInterfaces[0]?.mtu).toBe(1400);
    expect(await strayProcesses(L.session)).toEqual([]);
    await L.provider.delete!(kept.id, kept.outs as DpuUnderlayOutputs);
    expect(await snapshot(L.session)).toEqual(before);

    const lost = createDpuUnderlayProvider({
      connector: confirmDroppingConnector(createSshConnector(), "before"),
    });
    const err = (await lost.create!(p1()).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(
      /^the SSH session was lost while confirming the change \(.*\) and the rollback window ended first\. The DPU restored its previous configuration \(rollback after 5s\); nothing was changed$/,
    );
    expect(await snapshot(L.session)).toEqual(before);
    expect(await strayProcesses(L.session)).toEqual([]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DpuUnderlayOutputs } from "../../provider/resources/dpu-underlay";
import { checked, SKIP_UNDERLAY_LAB, snapshot, strayProcesses, underlayLab } from "./underlay-helpers";

// Issue 12 item 5: a /32 route to the management peer via a data port was accepted without
// `allowManagementInterface`; the rollback saved the DPU but its message blamed the window. Any change that can
// take the SSH session's path away must be refused before apply, naming the field; a rollback must say what
// failed. Item 11 (underlay part): name + a MAC of another port said "no interface named p0".

describe.skipIf(SKIP_UNDERLAY_LAB)("DpuUnderlay management path under adversity", () => {
  let L: Awaited<ReturnType<typeof underlayLab>>;
  let before: Awaited<ReturnType<typeof snapshot>>;
  /** The DPU's management subnet as a /24 holding the SSH client (more specific than the lab's /22). */
  let clientNet24: string;
  beforeAll(async () => {
    L = await underlayLab();
    before = await snapshot(L.session);
    clientNet24 = `${L.sshClient.split(".").slice(0, 3).join(".")}.0/24`;
  });
  afterAll(async () => {
    await L?.stop();
  });

  const refusal = async (raw: Record<string, unknown>) => {
    const err = (await L.provider.create!(checked({ connection: L.connection, ...raw })).catch(
      (e: unknown) => e,
    )) as Error;
    expect(err).toBeInstanceOf(Error);
    // Refused before apply: nothing changed, nothing started.
    expect(await snapshot(L.session)).toEqual(before);
    expect(await strayProcesses(L.session)).toEqual([]);
    return err.message;
  };

  it("refuses a /32 route to the SSH client through a data port, naming the field", async () => {
    const msg = await refusal({
      interfaces: [{ name: "p0", addresses: ["198.19.66.1/24"] }],
      routes: [{ destination: `${L.sshClient}/32`, via: "198.19.66.254", dev: "p0" }],
    });
    expect(msg).toContain(
      `routes[0].destination: ${L.sshClient}/32 covers ${L.sshClient}, the SSH client address (as the DPU sees the session), reached today by`,
    );
    expect(msg).toMatch(/set safety\.allowManagementInterface: true to allow it/);
  });

  it("refuses a route more specific than the management route, and an address overlapping the management subnet", async () => {
    expect(
      await refusal({
        interfaces: [{ name: "p0", addresses: ["198.19.66.1/24"] }],
        routes: [{ destination: clientNet24, via: "198.19.66.254" }],
      }),
    ).toMatch(/routes\[0\]\.destination: .* covers .*the SSH client address/);
    const overlap = clientNet24.replace(/0\/24$/, "200/24");
    expect(await refusal({ interfaces: [{ name: "p0", addresses: [overlap] }] })).toMatch(
      new RegExp(
        `interfaces\\[0\\]\\.addresses\\[0\\]: ${overlap.replaceAll(".", "\\.")} on p0 overlaps .* of oob_net0, the management interface carrying the SSH session`,
      ),
    );
  });

  it("accepts a default route through a data port: less specific than the management route, it takes nothing away", async () => {
    const ok = await L.provider.create!(
      checked({
        connection: L.connection,
        interfaces: [{ name: "p0", addresses: ["198.19.66.1/24"] }],
        routes: [{ destination: "default", via: "198.19.66.254" }],
        safety: { rollbackAfterSeconds: 5 },
      }),
    );
    expect((ok.outs as DpuUnderlayOutputs).observedRoutes[0]?.present).toBe(true);
    await L.provider.delete!(ok.id, ok.outs as DpuUnderlayOutputs);
    expect(await snapshot(L.session)).toEqual(before);
    expect(await strayProcesses(L.session)).toEqual([]);
  });

  it("with the opt-in, a route that cuts the session is rolled back and the error says the session was lost, not the window", async () => {
    const err = (await L.provider.create!(
      checked({
        connection: L.connection,
        interfaces: [{ name: "p0", addresses: ["198.19.66.1/24"] }],
        routes: [{ destination: `${L.sshClient}/32`, via: "198.19.66.254", dev: "p0" }],
        safety: { rollbackAfterSeconds: 5, allowManagementInterface: true },
      }),
    ).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(/the DPU stopped answering over SSH/);
    expect(err.message).toMatch(/cut the SSH session's path/);
    expect(err.message).not.toMatch(/window (passed|ended) before the change could be confirmed/);
    expect(err.message).toMatch(/restored its previous configuration/);
    const s = await L.fresh();
    expect(await snapshot(s)).toEqual(before);
    expect(await strayProcesses(s)).toEqual([]);
  });

  it("an interface given by name and the MAC of another port names the port that MAC belongs to", async () => {
    const ports = L.lab.endpoints.dpus[0]!.ports;
    const p1mac = ports.find((p) => p.name === "p1")!.mac;
    const p0mac = ports.find((p) => p.name === "p0")!.mac;
    const msg = await refusal({ interfaces: [{ name: "p0", mac: p1mac, addresses: ["198.19.66.1/24"] }] });
    expect(msg).toContain(`interfaces[0].mac: MAC ${p1mac} belongs to p1, not p0 (p0 has MAC ${p0mac})`);
    expect(msg).not.toMatch(/no interface named p0/);
  });
});

import { readFileSync } from "node:fs";
import { Agent, fetch as ufetch } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LightLab, startLightLab } from "../../simulator";
import { labAvailable } from "../dpu-host/helpers";
import { runInspect } from "./inspect-run";

// Issue 13 (hostile review, finding 6): `inspect --json` reported a sessionsPath on a BMC whose service root
// links no SessionService (quirk-emulator), and on an iDRAC-like BMC listed only the system's virtual media,
// not the Manager's deprecated slots it also serves. Inspect reports what the BMC offers: checked here against
// the BMC's own answers read with plain Redfish GETs.

const PROFILES = ["quirk-emulator", "quirk-idrac"] as const;

describe.skipIf(!labAvailable())("pulumi-dpu inspect reports what the BMC offers", () => {
  let lab: LightLab;
  beforeAll(async () => {
    lab = await startLightLab({ count: PROFILES.length, profile: [...PROFILES], bootTimeMs: 200 });
  }, 180_000);
  afterAll(async () => {
    await lab?.stop();
  });

  /** A plain Basic-auth GET of DPU `i`'s BMC (not the provider's client). */
  const get = async (i: number, path: string): Promise<Record<string, unknown>> => {
    const d = lab.endpoints.dpus[i];
    if (!d) throw new Error(`no DPU ${i}`);
    const dispatcher = new Agent({ connect: { ca: readFileSync(d.bmc.caCertFile, "utf8") } });
    const auth = `Basic ${Buffer.from(`${d.bmc.username}:${d.bmc.password}`).toString("base64")}`;
    try {
      const r = await ufetch(`${d.bmc.url}${path}`, { dispatcher, headers: { Authorization: auth } });
      return (await r.json()) as Record<string, unknown>;
    } finally {
      await dispatcher.close();
    }
  };
  const inspectJson = async (i: number, json = true) => {
    const d = lab.endpoints.dpus[i];
    if (!d) throw new Error(`no DPU ${i}`);
    const args = ["--endpoint", d.bmc.url, "--username", d.bmc.username, "--password-env", "H13_BMC_PW"];
    const run = await runInspect([...args, "--ca-cert", d.bmc.caCertFile, ...(json ? ["--json"] : [])], {
      H13_BMC_PW: d.bmc.password,
    });
    expect(run.code).toBe(0);
    return run.out;
  };
  const members = (c: Record<string, unknown>) =>
    ((c.Members ?? []) as { "@odata.id": string }[]).map((m) => m["@odata.id"]);

  it("no SessionService linked: no sessionsPath in --json, and the table says Basic only", async () => {
    const root = await get(0, "/redfish/v1");
    expect(root.SessionService).toBeUndefined();
    expect((root.Links as Record<string, unknown> | undefined)?.Sessions).toBeUndefined();
    const j = JSON.parse(await inspectJson(0)) as Record<string, unknown>;
    expect(j).not.toHaveProperty("sessionsPath");
    expect(await inspectJson(0, false)).toMatch(
      /^Sessions\s+none \(the service root links no SessionService/m,
    );
  });

  it("iDRAC-like: the system's slots and the Manager's deprecated ones, the one DpuHost uses marked", async () => {
    const sys = await get(1, members(await get(1, "/redfish/v1/Systems"))[0] ?? "");
    const sysSlots = members(await get(1, (sys.VirtualMedia as { "@odata.id": string })["@odata.id"]));
    const mgr = await get(
      1,
      (sys.Links as { ManagedBy: { "@odata.id": string }[] }).ManagedBy[0]?.["@odata.id"] ?? "",
    );
    const mgrSlots = members(await get(1, (mgr.VirtualMedia as { "@odata.id": string })["@odata.id"]));
    expect(sysSlots.length).toBeGreaterThan(0);
    expect(mgrSlots.length).toBeGreaterThan(0);
    const j = JSON.parse(await inspectJson(1)) as {
      virtualMedia: { location: string; slots: { path: string; under: string; used: boolean }[] };
    };
    expect(j.virtualMedia.slots.map((s) => s.path).sort()).toEqual([...sysSlots, ...mgrSlots].sort());
    for (const s of j.virtualMedia.slots)
      expect(s.under).toBe(mgrSlots.includes(s.path) ? "manager" : "system");
    const used = j.virtualMedia.slots.filter((s) => s.used);
    expect(used.length).toBe(1);
    expect(sysSlots).toContain(used[0]?.path);
    const table = await inspectJson(1, false);
    expect(table).toMatch(/slot \S+\s+under the manager \(deprecated\); /);
    expect(table.match(/<- used/g)?.length).toBe(1);
  });
});

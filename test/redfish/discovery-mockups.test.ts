import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeAllPools, discover, RedfishClient } from "../../provider/redfish";
import { type MockupServer, mockupsAvailable, serveMockup } from "./mockup-server";

const have = mockupsAvailable();

function client(url: string): RedfishClient {
  return new RedfishClient({
    endpoint: url,
    username: "root",
    password: "mockup-password",
    retryAttempts: 2,
    retryBaseDelayMs: 10,
  });
}

describe.skipIf(!have)("discovery against shared mockups (read-only)", () => {
  const servers: Record<string, MockupServer> = {};
  beforeAll(async () => {
    for (const n of ["public-rackmount1", "nvidia-bluefield-bmc", "public-smartnic"])
      servers[n] = await serveMockup(n);
  });
  afterAll(async () => {
    await Promise.all(Object.values(servers).map((s) => s.close()));
    await closeAllPools();
  });

  it("public-rackmount1: virtual media under the system, CD1 needs the PATCH fallback", async () => {
    const c = client(servers["public-rackmount1"]!.url);
    const caps = await discover(c);
    await c.close();
    expect(caps.systemId).toBe("437XR1138R2");
    expect(caps.virtualMedia.location).toBe("system");
    expect(caps.virtualMedia.chosen?.id).toBe("CD1");
    expect(caps.virtualMedia.chosen?.insertTarget).toBeUndefined();
    expect(caps.virtualMedia.chosen?.patchable).toBe(true);
    expect(caps.boot.targets).toContain("Cd");
    expect(caps.boot.settingsPath).toBeUndefined();
    expect(caps.reset.types).toContain("ForceRestart");
    expect(caps.bootProgress.supported).toBe(true);
    expect(caps.recommended).toBe("virtualMedia");
    // The read-only mockup refuses sessions (405), so auto mode fell back to Basic.
    expect(c.authInUse).toBe("basic");
  });

  it("nvidia-bluefield-bmc: no virtual media, Settings object, ActionInfo reset types → SimpleUpdate", async () => {
    const c = client(servers["nvidia-bluefield-bmc"]!.url);
    const caps = await discover(c);
    expect(caps.systemId).toBe("Bluefield");
    expect(caps.virtualMedia.location).toBe("none");
    expect(caps.virtualMedia.chosen).toBeUndefined();
    expect(caps.boot.settingsPath).toBe("/redfish/v1/Systems/Bluefield/Settings");
    expect(caps.reset.types).toEqual(
      expect.arrayContaining(["ForceRestart", "GracefulRestart", "PowerCycle"]),
    );
    expect(caps.update.simpleUpdateTarget).toBe(
      "/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate",
    );
    expect(caps.update.transferProtocols).toEqual(["SCP"]);
    expect(caps.update.osTargets).toContain("/redfish/v1/UpdateService/FirmwareInventory/DPU_OS");
    expect(caps.methods).not.toContain("virtualMedia");
    expect(["simpleUpdate", "uefiHttp"]).toContain(caps.recommended);
    expect(caps.firmwareVersion).toBeTruthy();
  });

  it("public-smartnic: picks the DPU system among several (SystemType DPU), media from its manager", async () => {
    const c = client(servers["public-smartnic"]!.url);
    const caps = await discover(c);
    expect(caps.systems.length).toBeGreaterThan(1);
    expect(caps.systemId).toBe("Card1-SoC");
    expect(caps.systemType).toBe("DPU");
    expect(["manager", "system", "none"]).toContain(caps.virtualMedia.location);
  });

  it("an unknown systemId is a clear error naming the systems", async () => {
    const c = client(servers["public-rackmount1"]!.url);
    await expect(discover(c, { systemId: "nope" })).rejects.toThrow(
      /no system 'nope'.*437XR1138R2.*bmc\.systemId/,
    );
  });

  it("a 404 carries status, MessageId and the BMC's resolution in the message", async () => {
    const c = client(servers["public-rackmount1"]!.url);
    const err = await c.get("/redfish/v1/Nope", { action: "read nothing" }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 404, code: "DPU_REDFISH_HTTP" });
    expect(String((err as Error).message)).toMatch(
      /read nothing on BMC http:\/\/127\.0\.0\.1:\d+: GET \/redfish\/v1\/Nope failed, HTTP 404: .*ResourceNotFound/,
    );
  });
});

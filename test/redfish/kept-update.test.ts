import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  capabilitiesFromKept,
  closeAllPools,
  discover,
  isKeptCapabilities,
  keepCapabilities,
  RedfishClient,
} from "../../provider/redfish";
import { type MockupServer, mockupsAvailable, serveMockup } from "./mockup-server";

const have = mockupsAvailable();
const CAPTURE = "/work/shared/redfish/mockups/nvidia-bluefield-bmc/redfish/v1/UpdateService/index.json";

// Oracle: the real NVIDIA BlueField BMC capture (its UpdateService as captured), not our simulator.
describe.skipIf(!have)("UpdateService kept in state (NVIDIA BlueField capture)", () => {
  let server: MockupServer;
  beforeAll(async () => {
    server = await serveMockup("nvidia-bluefield-bmc");
  });
  afterAll(async () => {
    await server?.close();
    await closeAllPools();
  });

  it("a BFB re-image gets SimpleUpdate, its targets and the PublicKeyExchange target from state (no UpdateService read)", async () => {
    const c = new RedfishClient({
      endpoint: server.url,
      username: "root",
      password: "mockup-password",
      retryAttempts: 2,
      retryBaseDelayMs: 10,
    });
    const caps = await discover(c);
    await c.close();
    const captured = JSON.parse(readFileSync(CAPTURE, "utf8")) as {
      Actions: { Oem: { Nvidia: Record<string, { target: string }> } };
    };
    const exchange = captured.Actions.Oem.Nvidia["#NvidiaUpdateService.PublicKeyExchange"]?.target;
    expect(exchange).toMatch(/PublicKeyExchange$/);
    expect(caps.update.scpKeyExchange).toEqual({ target: exchange });
    // State is plain JSON.
    const kept: unknown = JSON.parse(JSON.stringify(keepCapabilities(caps)));
    expect(isKeptCapabilities(kept)).toBe(true);
    if (!isKeptCapabilities(kept)) return;
    const again = capabilitiesFromKept(kept, { inserted: false });
    expect(again.methods).toContain("simpleUpdate");
    expect(again.unavailable?.simpleUpdate).toBeUndefined();
    expect(again.update).toEqual(caps.update);
  });
});

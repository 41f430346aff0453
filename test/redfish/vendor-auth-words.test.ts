import { afterEach, describe, expect, it } from "vitest";
import { renderTable } from "../../cli/inspect";
import { closeAllPools, discover, RedfishClient } from "../../provider/redfish";
import { type EditedMockup, serveEditedMockup } from "./edited-mockup";
import { mockupsAvailable } from "./mockup-server";

/**
 * Authentication fallback, the BMC's own words in errors, and where virtual media lives, on the public-tower
 * capture (shared mockups, read at run time) given one vendor quirk at a time.
 */
const have = mockupsAvailable();
const SYS = "/redfish/v1/Systems/437XR1238R2";
const MGR_VM = "/redfish/v1/Managers/BMC/VirtualMedia";

function client(url: string, password = "tower-pass-1"): RedfishClient {
  return new RedfishClient({
    endpoint: url,
    username: "admin",
    password,
    retryAttempts: 1,
    retryBaseDelayMs: 10,
  });
}

describe.skipIf(!have)("vendor quirks on the public-tower capture", () => {
  let srv: EditedMockup | undefined;
  afterEach(async () => {
    await srv?.close();
    srv = undefined;
    await closeAllPools();
  });

  it("auth auto: a session login refused with 401 is followed by one Basic try, which works", async () => {
    srv = await serveEditedMockup("public-tower", {
      basic: "admin:tower-pass-1",
      handlers: {
        "POST /redfish/v1/SessionService/Sessions": () => ({ status: 401, text: "Unauthorized" }),
      },
    });
    const c = client(srv.url);
    const caps = await discover(c);
    expect(caps.systemId).toBe("437XR1238R2");
    expect(c.authInUse).toBe("basic");
    expect(srv.log.filter((l) => l.startsWith("POST")).length).toBe(1);
    await c.close();
  });

  it("auth auto: when both the session login (403) and Basic are refused, the error names both and says what to check", async () => {
    srv = await serveEditedMockup("public-tower", {
      basic: "admin:tower-pass-1",
      handlers: {
        "POST /redfish/v1/SessionService/Sessions": () => ({ status: 403, body: {} }),
      },
    });
    const c = client(srv.url, "not-the-password");
    const err = await discover(c).catch((e: unknown) => e);
    expect(String(err)).toMatch(
      /tried a session login \(HTTP 403\), then HTTP Basic\); check bmc\.username \/ bmc\.password/,
    );
    expect(String(err)).not.toContain("not-the-password");
  });

  it("a plain-text 400 and a JSON error without Message keep the BMC's words (bounded, secrets scrubbed)", async () => {
    srv = await serveEditedMockup("public-tower", {
      handlers: {
        [`PATCH ${SYS}`]: () => ({ status: 400, text: "Failed to save HttpBootUri field value.\n" }),
        [`PATCH ${SYS}/Bios`]: () => ({
          status: 400,
          body: {
            error: {
              "@Message.ExtendedInfo": [{ MessageId: "Oem.1.0.SaveFailed", MessageArgs: ["HttpBootUri"] }],
            },
          },
        }),
        "PATCH /redfish/v1/Managers/BMC": () => ({
          status: 500,
          body: { Status: "failed", Password: "leaked-pw-1", detail: "x".repeat(2000) },
        }),
      },
    });
    const c = client(srv.url);
    const plain = await c.patch(SYS, { Boot: {} }, { action: "set boot" }).catch((e: unknown) => e);
    expect(String(plain)).toMatch(/HTTP 400: the BMC said: Failed to save HttpBootUri field value\./);
    const noMessage = await c.patch(`${SYS}/Bios`, {}, { action: "set bios" }).catch((e: unknown) => e);
    expect(String(noMessage)).toMatch(/arguments: HttpBootUri \(Oem\.1\.0\.SaveFailed\)/);
    const big = await client(srv.url)
      .patch("/redfish/v1/Managers/BMC", {}, { action: "set manager", idempotent: false })
      .catch((e: unknown) => e);
    expect(String(big)).toMatch(/the BMC said: \{"Status":"failed"/);
    expect(String(big)).not.toContain("leaked-pw-1");
    expect(String(big).length).toBeLessThan(700);
    await c.close();
  });

  it("uefiHttp is offered only where Boot.HttpBootUri can be set, and inspect says why otherwise", async () => {
    const withTarget = (b: Record<string, unknown>, uri: boolean) => {
      const boot = { ...(b.Boot as Record<string, unknown>) };
      const targets = boot["BootSourceOverrideTarget@Redfish.AllowableValues"] as string[];
      boot["BootSourceOverrideTarget@Redfish.AllowableValues"] = [...targets, "UefiHttp"];
      if (uri) boot.HttpBootUri = "";
      else delete boot.HttpBootUri;
      return { ...b, Boot: boot };
    };
    srv = await serveEditedMockup("public-tower", { edits: { [SYS]: (b) => withTarget(b, false) } });
    const c = client(srv.url);
    const caps = await discover(c);
    await c.close();
    expect(caps.boot.targets).toContain("UefiHttp");
    expect(caps.methods).not.toContain("uefiHttp");
    expect(caps.unavailable?.uefiHttp).toMatch(/no Boot\.HttpBootUri/);
    expect(renderTable(caps)).toMatch(/not uefiHttp +the system has no Boot\.HttpBootUri/);
    await srv.close();
    srv = await serveEditedMockup("public-tower", { edits: { [SYS]: (b) => withTarget(b, true) } });
    const c2 = client(srv.url);
    expect((await discover(c2)).methods).toContain("uefiHttp");
    await c2.close();
  });

  it("slots linked from the system but living under a manager are reported as under the manager (linked from the system)", async () => {
    srv = await serveEditedMockup("public-tower", {
      edits: { [SYS]: (b) => ({ ...b, VirtualMedia: { "@odata.id": MGR_VM } }) },
    });
    const c = client(srv.url);
    const caps = await discover(c);
    await c.close();
    expect(caps.virtualMedia.location).toBe("manager");
    expect(caps.virtualMedia.linkedFromSystem).toBe(true);
    expect(caps.virtualMedia.slots.every((s) => s.under === "manager")).toBe(true);
    expect(renderTable(caps)).toMatch(/Virtual media +under the manager \(linked from the system\)/);
  });
});

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BASE_REGISTRY_PREFIX, MESSAGES } from "../../simulator/bmc";
import { FakeBackend, preinstalled } from "./fake-backend";
import { type Lab, PASS, rf, SHARED, sharedAvailable, startLab, USER } from "./harness";

let lab: Lab;
beforeAll(async () => {
  lab = await startLab();
});
afterAll(async () => lab?.close());

const SESSIONS = "/redfish/v1/SessionService/Sessions";
const ids = (r: { json: { error: { "@Message.ExtendedInfo": { MessageId: string }[] } } }) =>
  r.json.error["@Message.ExtendedInfo"].map((m) => m.MessageId);

describe.skipIf(!sharedAvailable())("Base registry", () => {
  it("every MessageId the simulator can emit exists in Base.1.22.1 with the same text", () => {
    const reg = JSON.parse(readFileSync(join(SHARED, "registries", "Base.1.22.1.json"), "utf8"));
    expect(`${reg.Id}`.startsWith(BASE_REGISTRY_PREFIX)).toBe(true);
    for (const [key, def] of Object.entries(MESSAGES)) {
      expect(reg.Messages[key], key).toBeDefined();
      expect(def.message, key).toBe(reg.Messages[key].Message);
      expect(def.severity, key).toBe(reg.Messages[key].MessageSeverity);
    }
  });
});

describe("sessions and authentication", () => {
  it("service root needs no auth; everything else answers 401 with a Basic challenge and a Redfish body", async () => {
    const { bmc } = await lab.bmc("generic");
    const ca = lab.pki.caPem;
    const root = await rf(bmc, ca, "GET", "/redfish/v1/", { auth: "none" });
    expect(root.status).toBe(200);
    expect(root.json.Links.Sessions["@odata.id"]).toBe(SESSIONS);
    expect(root.headers["odata-version"]).toBe("4.0");
    for (const auth of ["none", { token: "bogus" }] as const) {
      const r = await rf(bmc, ca, "GET", "/redfish/v1/Systems", { auth });
      expect(r.status).toBe(401);
      expect(r.headers["www-authenticate"]).toMatch(/^Basic /);
      expect(ids(r)).toEqual(["Base.1.22.NoValidSession"]);
    }
    const wrong = await rf(bmc, ca, "GET", "/redfish/v1/Systems", { pass: "nope" });
    expect(wrong.status).toBe(401);
    const basic = await rf(bmc, ca, "GET", "/redfish/v1/Systems");
    expect(basic.status).toBe(200);
    expect(basic.json.Members).toEqual([{ "@odata.id": "/redfish/v1/Systems/1" }]);
  });

  it("create, use, list, logout; bad credentials; missing fields", async () => {
    const { bmc } = await lab.bmc("dell");
    const ca = lab.pki.caPem;
    const bad = await rf(bmc, ca, "POST", SESSIONS, {
      auth: "none",
      body: { UserName: USER, Password: "x" },
    });
    expect(bad.status).toBe(401);
    const missing = await rf(bmc, ca, "POST", SESSIONS, { auth: "none", body: { UserName: USER } });
    expect(missing.status).toBe(400);
    expect(ids(missing)).toEqual(["Base.1.22.PropertyMissing"]);
    const s = await rf(bmc, ca, "POST", SESSIONS, { auth: "none", body: { UserName: USER, Password: PASS } });
    expect(s.status).toBe(201);
    const token = s.headers["x-auth-token"] as string;
    const loc = s.headers.location as string;
    expect(loc).toMatch(new RegExp(`^${SESSIONS}/`));
    expect(s.json.UserName).toBe(USER);
    expect(s.json.Password).toBeNull();
    const sys = await rf(bmc, ca, "GET", "/redfish/v1/Systems/System.Embedded.1", { auth: { token } });
    expect(sys.status).toBe(200);
    expect(sys.json.SystemType).toBe("DPU");
    const list = await rf(bmc, ca, "GET", SESSIONS, { auth: { token } });
    expect(list.json.Members).toEqual([{ "@odata.id": loc }]);
    expect(bmc.snapshot().activeSessions).toBe(1);
    expect((await rf(bmc, ca, "DELETE", loc, { auth: { token } })).status).toBe(204);
    expect((await rf(bmc, ca, "GET", "/redfish/v1/Systems", { auth: { token } })).status).toBe(401);
    expect(bmc.snapshot().activeSessions).toBe(0);
  });

  it("idle expiry, session limit, expireSessions()", async () => {
    const { bmc } = await lab.bmc("generic", { sessionIdleTimeoutMs: 1500, maxSessions: 2 });
    const ca = lab.pki.caPem;
    const login = () =>
      rf(bmc, ca, "POST", SESSIONS, { auth: "none", body: { UserName: USER, Password: PASS } });
    const a = await login();
    const b = await login();
    expect([a.status, b.status]).toEqual([201, 201]);
    const c = await login();
    expect(c.status).toBe(503);
    expect(ids(c)).toEqual(["Base.1.22.SessionLimitExceeded"]);
    // Use keeps a session alive; idleness ends it.
    const tokenA = a.headers["x-auth-token"] as string;
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 500));
      expect((await rf(bmc, ca, "GET", "/redfish/v1/Systems", { auth: { token: tokenA } })).status).toBe(200);
    }
    expect(
      (
        await rf(bmc, ca, "GET", "/redfish/v1/Systems", {
          auth: { token: b.headers["x-auth-token"] as string },
        })
      ).status,
    ).toBe(401);
    bmc.expireSessions();
    expect((await rf(bmc, ca, "GET", "/redfish/v1/Systems", { auth: { token: tokenA } })).status).toBe(401);
    expect((await login()).status).toBe(201);
  });

  it("read-only account gets 403 InsufficientPrivilege on changes; 404 and 405 bodies", async () => {
    const { bmc } = await lab.bmc("generic", {
      readOnlyAccount: { username: "viewer", password: "viewer-pw" },
    });
    const ca = lab.pki.caPem;
    const ro = { user: "viewer", pass: "viewer-pw" };
    expect((await rf(bmc, ca, "GET", "/redfish/v1/Systems/1", ro)).status).toBe(200);
    const denied = await rf(bmc, ca, "POST", "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset", {
      ...ro,
      body: { ResetType: "On" },
    });
    expect(denied.status).toBe(403);
    expect(ids(denied)).toEqual(["Base.1.22.InsufficientPrivilege"]);
    const nf = await rf(bmc, ca, "GET", "/redfish/v1/Systems/2");
    expect(nf.status).toBe(404);
    expect(ids(nf)).toEqual(["Base.1.22.ResourceNotFound"]);
    const na = await rf(bmc, ca, "POST", "/redfish/v1/Systems/1", { body: {} });
    expect(na.status).toBe(405);
    expect(na.headers.allow).toBe("GET, PATCH");
    expect(ids(na)).toEqual(["Base.1.22.OperationNotAllowed"]);
  });
});

describe("ETag and PATCH validation", () => {
  it("412 on a stale If-Match, success with the current tag in strong or weak form", async () => {
    const { bmc } = await lab.bmc("generic", { backend: new FakeBackend("etag", preinstalled()) });
    const ca = lab.pki.caPem;
    const uri = "/redfish/v1/Systems/1";
    const first = await rf(bmc, ca, "GET", uri);
    const tag = first.headers.etag as string;
    expect(tag).toMatch(/^"[0-9a-f]+"$/);
    expect(first.json["@odata.etag"]).toBe(tag);
    const ok = await rf(bmc, ca, "PATCH", uri, {
      body: { AssetTag: "rack-1" },
      headers: { "If-Match": tag },
    });
    expect(ok.status).toBe(200);
    expect(ok.json.AssetTag).toBe("rack-1");
    const newTag = ok.headers.etag as string;
    expect(newTag).not.toBe(tag);
    const stale = await rf(bmc, ca, "PATCH", uri, {
      body: { AssetTag: "rack-2" },
      headers: { "If-Match": tag },
    });
    expect(stale.status).toBe(412);
    expect(ids(stale)).toEqual(["Base.1.22.PreconditionFailed"]);
    expect((await rf(bmc, ca, "GET", uri)).json.AssetTag).toBe("rack-1");
    const weak = await rf(bmc, ca, "PATCH", uri, {
      body: { AssetTag: "rack-3" },
      headers: { "If-Match": `W/${newTag}` },
    });
    expect(weak.status).toBe(200);
    const noMatch = await rf(bmc, ca, "PATCH", uri, { body: { AssetTag: "rack-4" } });
    expect(noMatch.status).toBe(200);
    const bodyTag = await rf(bmc, ca, "PATCH", uri, { body: { AssetTag: "rack-5", "@odata.etag": tag } });
    expect(bodyTag.status).toBe(412);
  });

  it("rejects unknown, read-only and out-of-list properties with JSON-pointer RelatedProperties, all or nothing", async () => {
    const { bmc } = await lab.bmc("generic");
    const ca = lab.pki.caPem;
    const uri = "/redfish/v1/Systems/1";
    const r = await rf(bmc, ca, "PATCH", uri, {
      body: {
        Bogus: true,
        PowerState: "Off",
        AssetTag: "should-not-apply",
        Boot: { BootSourceOverrideTarget: "UsbCd", BootSourceOverrideEnabled: 3, Nope: 1 },
      },
    });
    expect(r.status).toBe(400);
    const info = r.json.error["@Message.ExtendedInfo"] as {
      MessageId: string;
      RelatedProperties: string[];
      MessageArgs: string[];
    }[];
    const by = Object.fromEntries(info.map((m) => [m.RelatedProperties[0], m.MessageId]));
    expect(by).toEqual({
      "#/Bogus": "Base.1.22.PropertyUnknown",
      "#/PowerState": "Base.1.22.PropertyNotWritable",
      "#/Boot/BootSourceOverrideTarget": "Base.1.22.PropertyValueNotInList",
      "#/Boot/BootSourceOverrideEnabled": "Base.1.22.PropertyValueTypeError",
      "#/Boot/Nope": "Base.1.22.PropertyUnknown",
    });
    expect(r.json.error.code).toBe("Base.1.22.GeneralError");
    expect(info.find((m) => m.MessageId.endsWith("PropertyValueNotInList"))?.MessageArgs).toEqual([
      "UsbCd",
      "Boot/BootSourceOverrideTarget",
    ]);
    expect((await rf(bmc, ca, "GET", uri)).json.AssetTag).toBe("");
    const bad = await rf(bmc, ca, "POST", `${uri}/Actions/ComputerSystem.Reset`, {
      body: { ResetType: "Explode", Force: 1 },
    });
    expect(bad.status).toBe(400);
    expect(ids(bad)).toEqual(["Base.1.22.ActionParameterUnknown"]);
    const notInList = await rf(bmc, ca, "POST", `${uri}/Actions/ComputerSystem.Reset`, {
      body: { ResetType: "Explode" },
    });
    expect(ids(notInList)).toEqual(["Base.1.22.ActionParameterValueNotInList"]);
    const missing = await rf(bmc, ca, "POST", `${uri}/Actions/ComputerSystem.Reset`, { body: {} });
    expect(ids(missing)).toEqual(["Base.1.22.ActionParameterMissing"]);
  });

  it("BlueField: Boot is not writable on the system, only through the Settings object", async () => {
    const { bmc } = await lab.bmc("bluefield");
    const ca = lab.pki.caPem;
    const sys = await rf(bmc, ca, "GET", "/redfish/v1/Systems/Bluefield");
    expect(sys.json["@Redfish.Settings"].SettingsObject["@odata.id"]).toBe(
      "/redfish/v1/Systems/Bluefield/Settings",
    );
    expect(sys.json.Actions["#ComputerSystem.Reset"]["@Redfish.ActionInfo"]).toBe(
      "/redfish/v1/Systems/Bluefield/ResetActionInfo",
    );
    expect(sys.json.Actions["#ComputerSystem.Reset"]["ResetType@Redfish.AllowableValues"]).toBeUndefined();
    const r = await rf(bmc, ca, "PATCH", "/redfish/v1/Systems/Bluefield", {
      body: { Boot: { BootSourceOverrideTarget: "Pxe" } },
    });
    expect(r.status).toBe(400);
    expect(ids(r)).toEqual(["Base.1.22.PropertyNotWritable"]);
    expect(r.json.error["@Message.ExtendedInfo"][0].RelatedProperties).toEqual(["#/Boot"]);
    const ai = await rf(bmc, ca, "GET", "/redfish/v1/Systems/Bluefield/ResetActionInfo");
    expect(ai.json.Parameters[0].AllowableValues).toContain("GracefulRestart");
    expect((await rf(bmc, ca, "GET", "/redfish/v1/Managers/Bluefield_BMC/VirtualMedia")).status).toBe(404);
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SimBmc } from "../../simulator/contracts";
import { parseBmcFaults } from "../../simulator/lab/control-server";
import { FakeBackend, preinstalled } from "./fake-backend";
import { type Lab, rf, sharedAvailable, startLab, waitFor } from "./harness";

// Field misbehaviours are fault toggles any profile can switch on; the generic profile needs no shared material.
const SYS = "/redfish/v1/Systems/1";
const RESET = `${SYS}/Actions/ComputerSystem.Reset`;
const SLOT = "/redfish/v1/Managers/BMC/VirtualMedia/CD1";
const INSERT = `${SLOT}/Actions/VirtualMedia.InsertMedia`;

describe("field misbehaviours: toggling each one changes what a client sees on the wire", () => {
  let lab: Lab;
  let bmc: SimBmc;
  beforeAll(async () => {
    lab = await startLab();
    bmc = (await lab.bmc("generic", { backend: new FakeBackend("mis-0", preinstalled()) })).bmc;
    await bmc.powerOnAndWait();
  }, 120_000);
  afterAll(async () => lab?.close());

  const req = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
    rf(bmc, lab.pki.caPem, method, path, {
      ...(body === undefined ? {} : { body }),
      ...(headers ? { headers } : {}),
    });
  const messageId = (json: { error: { "@Message.ExtendedInfo": { MessageId: string }[] } }) =>
    json.error["@Message.ExtendedInfo"][0]?.MessageId;

  it("the control API accepts every misbehaviour switch (and still refuses unknown ones)", () => {
    const all = {
      insertNoAttachCount: 1,
      etagStyle: 2,
      rejectIfMatchOnPost: 1,
      sessionLimitCount: 1,
      asyncActionCount: 1,
      taskMonitorGoneCount: 1,
    };
    expect(parseBmcFaults(all)).toEqual(all);
    expect(() => parseBmcFaults({ insertNeverCount: 1 })).toThrow(/unknown BMC fault/);
  });

  it("insertNoAttachCount: InsertMedia answers 204 and attaches nothing, then works again", async () => {
    bmc.setFaults({ insertNoAttachCount: 1 });
    const first = await req("POST", INSERT, { Image: lab.url("dpu-os-1.1.iso") });
    expect(first.status).toBe(204);
    expect((await req("GET", SLOT)).json.Inserted).toBe(false);
    const second = await req("POST", INSERT, { Image: lab.url("dpu-os-1.1.iso") });
    expect(second.status).toBe(204);
    expect((await req("GET", SLOT)).json.Inserted).toBe(true);
    await req("POST", `${SLOT}/Actions/VirtualMedia.EjectMedia`, {});
  });

  it("etagStyle: strong by default, double-quoted (matched literally) or weak only (a weak If-Match gets 412)", async () => {
    bmc.clearFaults();
    const strong = await req("GET", SYS);
    expect(strong.headers.etag).toMatch(/^"[0-9a-f]+"$/);
    const bare = (strong.headers.etag as string).replace(/"/g, "");

    bmc.setFaults({ etagStyle: 1 });
    const dq = await req("GET", SYS);
    expect(dq.headers.etag).toBe(`""${bare}""`);
    expect(dq.json["@odata.etag"]).toBe(`""${bare}""`);
    expect((await req("PATCH", SYS, { AssetTag: "a" }, { "If-Match": `"${bare}"` })).status).toBe(412);
    const okDq = await req("PATCH", SYS, { AssetTag: "a" }, { "If-Match": `""${bare}""` });
    expect(okDq.status).toBe(200);

    bmc.setFaults({ etagStyle: 2 });
    const weak = await req("GET", SYS);
    expect(weak.headers.etag).toMatch(/^W\/"[0-9a-f]+"$/);
    expect(weak.json["@odata.etag"]).toBe(weak.headers.etag);
    const weakTag = weak.headers.etag as string;
    const refused = await req("PATCH", SYS, { AssetTag: "b" }, { "If-Match": weakTag });
    expect(refused.status).toBe(412);
    expect(messageId(refused.json)).toMatch(/PreconditionFailed$/);
    expect((await req("PATCH", SYS, { AssetTag: "b" }, { "If-Match": weakTag.slice(2) })).status).toBe(200);
    bmc.clearFaults();
    expect((await req("GET", SYS)).headers.etag).toMatch(/^"[0-9a-f]+"$/);
  });

  it("rejectIfMatchOnPost: an action carrying If-Match gets 412; without the header it runs", async () => {
    bmc.setFaults({ rejectIfMatchOnPost: 1 });
    const refused = await req("POST", RESET, { ResetType: "Nmi" }, { "If-Match": "*" });
    expect(refused.status).toBe(412);
    expect((await req("POST", RESET, { ResetType: "Nmi" })).status).toBe(204);
    bmc.setFaults({ rejectIfMatchOnPost: 0 });
    expect((await req("POST", RESET, { ResetType: "Nmi" }, { "If-Match": "*" })).status).toBe(204);
  });

  it("sessionLimitCount: the next login answers 503 SessionLimitExceeded (a Base message), the one after 201", async () => {
    bmc.setFaults({ sessionLimitCount: 1 });
    const body = { UserName: "root", Password: "lab-password-1" };
    const full = await rf(bmc, lab.pki.caPem, "POST", "/redfish/v1/SessionService/Sessions", {
      auth: "none",
      body,
    });
    expect(full.status).toBe(503);
    expect(messageId(full.json)).toBe("Base.1.22.SessionLimitExceeded");
    const ok = await rf(bmc, lab.pki.caPem, "POST", "/redfish/v1/SessionService/Sessions", {
      auth: "none",
      body,
    });
    expect(ok.status).toBe(201);
    await rf(bmc, lab.pki.caPem, "DELETE", ok.headers.location as string, {
      auth: { token: ok.headers["x-auth-token"] as string },
    });
  });

  it("asyncActionCount: an action answers 202 + Location, the monitor ends in 200", async () => {
    bmc.setFaults({ asyncActionCount: 1 });
    const r = await req("POST", RESET, { ResetType: "Nmi" });
    expect(r.status).toBe(202);
    const location = r.headers.location as string;
    expect(location).toMatch(/^\/redfish\/v1\/TaskService\/TaskMonitors\//);
    await waitFor(async () => (await req("GET", location)).status === 200, "task monitor 200");
    expect((await req("POST", RESET, { ResetType: "Nmi" })).status).toBe(204);
  });

  it("taskMonitorGoneCount: the task monitor answers 404 from its second poll on; the Task stays readable", async () => {
    bmc.setFaults({ asyncActionCount: 1, taskMonitorGoneCount: 1, taskDelayMs: 2000 });
    const r = await req("POST", RESET, { ResetType: "Nmi" });
    expect(r.status).toBe(202);
    const location = r.headers.location as string;
    expect((await req("GET", location)).status).toBe(202);
    const gone = await req("GET", location);
    expect(gone.status).toBe(404);
    expect(messageId(gone.json)).toMatch(/ResourceNotFound$/);
    expect((await req("GET", `/redfish/v1/TaskService/Tasks/${r.json.Id}`)).status).toBe(200);
    bmc.clearFaults();
  });
});

describe.skipIf(!sharedAvailable())("field misbehaviours on a capture-backed profile", () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab();
  }, 120_000);
  afterAll(async () => lab?.close());

  it("insertNoAttachCount on a PATCH-only slot (quirk-xcc): 204, nothing attached", async () => {
    const { bmc } = await lab.bmc("quirk-xcc", { backend: new FakeBackend("mis-xcc", preinstalled()) });
    const slot = "/redfish/v1/Systems/437XR1138R2/VirtualMedia/CD1";
    const ca = lab.pki.caPem;
    await rf(bmc, ca, "PATCH", slot, { body: { Image: null, Inserted: false } });
    bmc.setFaults({ insertNoAttachCount: 1 });
    const body = { Image: lab.url("dpu-os-1.1.iso"), Inserted: true };
    expect((await rf(bmc, ca, "PATCH", slot, { body })).status).toBe(204);
    expect((await rf(bmc, ca, "GET", slot)).json.Inserted).toBe(false);
    expect((await rf(bmc, ca, "PATCH", slot, { body })).status).toBe(200);
    expect((await rf(bmc, ca, "GET", slot)).json.Inserted).toBe(true);
  });
});

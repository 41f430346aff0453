import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCaptureModel } from "../../simulator/bmc/capture/model";
import { QUIRK_PROFILES } from "../../simulator/bmc/capture/quirks";
import { ALL_BMC_PROFILES, QUIRK_BMC_PROFILES, type SimBmc } from "../../simulator/contracts";
import { FakeBackend, preinstalled } from "./fake-backend";
import { type Lab, rf, sharedAvailable, startLab, waitFor } from "./harness";

const haveShared = sharedAvailable();
const RACK = "/redfish/v1/Systems/437XR1138R2";
const TOWER = "/redfish/v1/Systems/437XR1238R2";
const IDRAC = "/redfish/v1/Managers/iDRAC.Embedded.1";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!haveShared)("quirk profiles: each reproduces its vendor behaviour, seen over HTTP", () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab();
  }, 120_000);
  afterAll(async () => lab?.close());

  const start = async (profile: (typeof QUIRK_BMC_PROFILES)[number], timing = {}) => {
    const backend = new FakeBackend(`q-${profile}`, preinstalled());
    const { bmc } = await lab.bmc(profile, { backend, quirkTiming: timing });
    await bmc.powerOnAndWait();
    return { bmc, backend };
  };
  const req = (bmc: SimBmc, method: string, path: string, body?: unknown) =>
    rf(bmc, lab.pki.caPem, method, path, body === undefined ? {} : { body });
  const get = async (bmc: SimBmc, path: string) => (await req(bmc, "GET", path)).json;
  /** Cd once + ForceRestart; resolves when the DPU runs the image of `label`. */
  const bootCd = async (bmc: SimBmc, backend: FakeBackend, sys: string, label = "DPUOS_1_1") => {
    const p = await req(bmc, "PATCH", sys, {
      Boot: { BootSourceOverrideTarget: "Cd", BootSourceOverrideEnabled: "Once" },
    });
    expect(p.status, p.text).toBe(200);
    const r = await req(bmc, "POST", `${sys}/Actions/ComputerSystem.Reset`, { ResetType: "ForceRestart" });
    expect(r.status).toBe(204);
    await waitFor(() => backend.installedImage()?.label === label && backend.running(), `${label} booted`);
  };

  it("every quirk profile is accepted by name, has a one-line note citing its source, and builds", () => {
    for (const q of QUIRK_BMC_PROFILES) {
      expect(ALL_BMC_PROFILES).toContain(q);
      const note = QUIRK_PROFILES[q].note;
      expect(note).not.toContain("\n");
      expect(note).toMatch(/\(.*(redfish\.md|docs|capture|issue).*\)$/);
      expect(loadCaptureModel(q).spec.note).toBe(note);
    }
  });

  it("quirk-idrac: no BootProgress, iDRAC.Embedded.1, Systems slots without TransferMethod plus Manager slots, JID_ jobs", async () => {
    const { bmc, backend } = await start("quirk-idrac");
    const sys = await get(bmc, RACK);
    expect(sys.BootProgress).toBeUndefined();
    expect(sys.Links.ManagedBy[0]["@odata.id"]).toBe(IDRAC);
    expect((await get(bmc, IDRAC)).Id).toBe("iDRAC.Embedded.1");
    expect((await req(bmc, "GET", "/redfish/v1/Managers/BMC")).status).toBe(404);
    const slot = await get(bmc, `${RACK}/VirtualMedia/CD1`);
    const insert = slot.Actions["#VirtualMedia.InsertMedia"];
    expect(insert.target).toBe(`${RACK}/VirtualMedia/CD1/Actions/VirtualMedia.InsertMedia`);
    expect(insert["TransferMethod@Redfish.AllowableValues"]).toBeUndefined();
    expect(slot.TransferMethod).toBeUndefined();
    const mgrSlots = await get(bmc, `${IDRAC}/VirtualMedia`);
    expect(mgrSlots.Members.map((m: { "@odata.id": string }) => m["@odata.id"])).toContain(
      `${IDRAC}/VirtualMedia/CD1`,
    );
    // Job-style task: Location is the Dell job, which answers 200 with a JobState.
    const up = await req(bmc, "POST", "/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate", {
      ImageURI: lab.url("dpu-os-1.1.iso"),
    });
    expect(up.status, up.text).toBe(202);
    const location = up.headers.location as string;
    expect(location).toMatch(/^\/redfish\/v1\/Managers\/iDRAC\.Embedded\.1\/Jobs\/JID_\d{12}$/);
    const job = await waitFor(async () => {
      const j = await req(bmc, "GET", location);
      expect(j.status).toBe(200);
      return j.json.JobState === "Completed" ? j.json : undefined;
    }, "job completed");
    expect(job["@odata.type"]).toMatch(/^#DellJob\./);
    expect((await req(bmc, "GET", `/redfish/v1/TaskService/Tasks/${job.Id}`)).status).toBe(200);
    // The deprecated Manager slot is another name of the Systems slot: media inserted there shows (and boots) here.
    expect((await req(bmc, "POST", slot.Actions["#VirtualMedia.EjectMedia"].target, {})).status).toBe(204);
    expect((await get(bmc, `${IDRAC}/VirtualMedia/CD1`)).Inserted).toBe(false);
    const viaManager = await req(bmc, "POST", `${IDRAC}/VirtualMedia/CD1/Actions/VirtualMedia.InsertMedia`, {
      Image: lab.url("dpu-os-1.1.iso"),
    });
    expect(viaManager.status).toBe(204);
    const shown = await get(bmc, `${RACK}/VirtualMedia/CD1`);
    expect([shown.Inserted, shown.Image]).toEqual([true, lab.url("dpu-os-1.1.iso")]);
    expect((await req(bmc, "POST", insert.target, { Image: lab.url("dpu-os-1.1.iso") })).status).toBe(409);
    await bootCd(bmc, backend, RACK);
  });

  it("quirk-ilo: media only under the manager (id not 1), no BootProgress, EjectMedia needs a {} body", async () => {
    const { bmc, backend } = await start("quirk-ilo");
    const sys = await get(bmc, TOWER);
    expect(sys.BootProgress).toBeUndefined();
    expect(sys.VirtualMedia).toBeUndefined();
    const mgr = sys.Links.ManagedBy[0]["@odata.id"] as string;
    expect(mgr).not.toMatch(/\/1$/);
    const slotPath = `${mgr}/VirtualMedia/CD1`;
    const slot = await get(bmc, slotPath);
    const eject = slot.Actions["#VirtualMedia.EjectMedia"].target as string;
    const noBody = await req(bmc, "POST", eject);
    expect(noBody.status).toBe(400);
    expect(noBody.json.error["@Message.ExtendedInfo"][0].MessageId).toMatch(/MalformedJSON$/);
    expect((await req(bmc, "POST", eject, {})).status).toBe(204);
    const ins = await req(bmc, "POST", slot.Actions["#VirtualMedia.InsertMedia"].target, {
      Image: lab.url("dpu-os-1.1.iso"),
    });
    expect(ins.status).toBe(204);
    await bootCd(bmc, backend, TOWER);
  });

  it("quirk-supermicro: Managers/1 slots NotConnected, EjectMedia only while inserted, protocols in an ActionInfo", async () => {
    const { bmc, backend } = await start("quirk-supermicro");
    const slotPath = "/redfish/v1/Managers/1/VirtualMedia/CD1";
    const empty = await get(bmc, slotPath);
    expect(empty.ConnectedVia).toBe("NotConnected");
    expect(empty.Inserted).toBe(false);
    expect(empty.Actions["#VirtualMedia.EjectMedia"]).toBeUndefined();
    expect((await get(bmc, "/redfish/v1/Managers/1/VirtualMedia/Floppy1")).ConnectedVia).toBe("NotConnected");
    const eject = `${slotPath}/Actions/VirtualMedia.EjectMedia`;
    expect((await req(bmc, "POST", eject, {})).status).toBe(400);
    const ins = await req(bmc, "POST", `${slotPath}/Actions/VirtualMedia.InsertMedia`, {
      Image: lab.url("dpu-os-1.1.iso"),
    });
    expect(ins.status).toBe(204);
    const full = await get(bmc, slotPath);
    expect(full.Actions["#VirtualMedia.EjectMedia"].target).toBe(eject);
    await bootCd(bmc, backend, TOWER);
    expect((await req(bmc, "POST", eject, {})).status).toBe(204);
    const ejected = await get(bmc, slotPath);
    expect(ejected.Actions["#VirtualMedia.EjectMedia"]).toBeUndefined();
    // The eject leaves ImageName (community.general #6969): only ConnectedVia and Inserted say the slot is empty.
    expect(ejected).toMatchObject({ Inserted: false, ConnectedVia: "NotConnected", Image: null });
    expect(ejected.ImageName).toBe(full.ImageName);
    expect(ejected.ImageName).toBeTruthy();
    // SimpleUpdate: no inline values, the protocols are in the ActionInfo, and they are enforced.
    const us = await get(bmc, "/redfish/v1/UpdateService");
    const su = us.Actions["#UpdateService.SimpleUpdate"];
    expect(su["TransferProtocol@Redfish.AllowableValues"]).toBeUndefined();
    const info = await get(bmc, su["@Redfish.ActionInfo"]);
    const tp = info.Parameters.find((p: { Name: string }) => p.Name === "TransferProtocol");
    expect(tp.AllowableValues).toEqual(["HTTP", "HTTPS"]);
    const scp = await req(bmc, "POST", su.target, { ImageURI: "scp://10.0.0.1/os.iso" });
    expect(scp.status).toBe(400);
    expect(scp.json.error["@Message.ExtendedInfo"][0].MessageId).toMatch(/ActionParameterValueNotInList$/);
  });

  it("quirk-xcc: media by PATCH only, a Pending object holding only BootOrder that refuses boot override PATCHes", async () => {
    const { bmc, backend } = await start("quirk-xcc");
    const sys = await get(bmc, RACK);
    const pending = sys["@Redfish.Settings"].SettingsObject["@odata.id"] as string;
    expect(pending).toBe(`${RACK}/Pending`);
    expect(Object.keys((await get(bmc, pending)).Boot)).toEqual(["BootOrder"]);
    const refused = await req(bmc, "PATCH", pending, { Boot: { BootSourceOverrideTarget: "Cd" } });
    expect(refused.status).toBe(400);
    expect(refused.json.error["@Message.ExtendedInfo"][0].MessageId).toMatch(/PropertyUnknown$/);
    const order = await req(bmc, "PATCH", pending, { Boot: { BootOrder: ["Boot0002", "Boot0001"] } });
    expect(order.status).toBe(200);
    expect(order.json.Boot.BootOrder).toEqual(["Boot0002", "Boot0001"]);
    for (const slotPath of [`${RACK}/VirtualMedia/CD1`, "/redfish/v1/Managers/BMC/VirtualMedia/CD1"]) {
      const slot = await get(bmc, slotPath);
      expect(slot.Actions, slotPath).toBeUndefined();
    }
    const vm = await req(bmc, "PATCH", `${RACK}/VirtualMedia/CD1`, {
      Image: lab.url("dpu-os-1.1.iso"),
      Inserted: true,
      WriteProtected: true,
    });
    expect(vm.status, vm.text).toBe(200);
    // The boot override goes to the system itself (the Pending object does not cover it).
    await bootCd(bmc, backend, RACK);
  });

  it("quirk-bluefield-old: SCP-only SimpleUpdate (nested), BootProgress stale after a reset for a while", async () => {
    const { bmc } = await start("quirk-bluefield-old", { staleBootProgressMs: 1500 });
    const sysPath = "/redfish/v1/Systems/Bluefield";
    const su = (await get(bmc, "/redfish/v1/UpdateService")).Actions["#UpdateService.SimpleUpdate"];
    expect(su["TransferProtocol@Redfish.AllowableValues"]).toEqual([["SCP"]]);
    const http = await req(bmc, "POST", su.target, { ImageURI: lab.url("bf-bundle-4.10.bfb") });
    expect(http.status).toBe(400);
    const before = (await get(bmc, sysPath)).BootProgress;
    expect(before.OemLastState).toBe("OsIsRunning");
    await sleep(1100); // Redfish times have second resolution: make the reset visibly later.
    const reset = await req(bmc, "POST", `${sysPath}/Actions/ComputerSystem.Reset`, {
      ResetType: "ForceRestart",
    });
    expect(reset.status).toBe(200);
    const during = await get(bmc, sysPath);
    expect(during.BootProgress).toEqual(before);
    expect(Date.parse(during.BootProgress.LastStateTime)).toBeLessThan(Date.parse(during.LastResetTime));
    const after = await waitFor(async () => {
      const bp = (await get(bmc, sysPath)).BootProgress;
      return bp.LastStateTime !== before.LastStateTime ? bp : undefined;
    }, "BootProgress moves on");
    expect(Date.parse(after.LastStateTime)).toBeGreaterThanOrEqual(Date.parse(during.LastResetTime));
    // The switch is a default of the profile (5 s), shortened here.
    expect(loadCaptureModel("quirk-bluefield-old").spec.quirks?.staleBootProgressMs).toBe(5000);
  });

  it("quirk-bluefield-new: SimpleUpdate over HTTP/HTTPS installs a BFB, HttpPushUri advertised", async () => {
    const { bmc, backend } = await start("quirk-bluefield-new");
    const us = await get(bmc, "/redfish/v1/UpdateService");
    expect(typeof us.HttpPushUri).toBe("string");
    const su = us.Actions["#UpdateService.SimpleUpdate"];
    expect(su["TransferProtocol@Redfish.AllowableValues"]).toEqual(["HTTP", "HTTPS"]);
    const up = await req(bmc, "POST", su.target, {
      ImageURI: lab.url("bf-bundle-4.10.bfb"),
      Targets: ["/redfish/v1/UpdateService/FirmwareInventory/DPU_OS"],
    });
    expect(up.status, up.text).toBe(202);
    await waitFor(
      () => backend.installedImage()?.kind === "bfb" && backend.running(),
      "BFB installed and booted",
    );
  });

  it("quirk-emulator: no SessionService (Basic only), BootSourceOverrideEnabled ignored, power changes late", async () => {
    const { bmc, backend } = await start("quirk-emulator", { powerDelayMs: 400 });
    expect(loadCaptureModel("quirk-emulator").spec.quirks?.powerDelayMs).toEqual([1000, 10_000]);
    const root = (await rf(bmc, lab.pki.caPem, "GET", "/redfish/v1", { auth: "none" })).json;
    expect(root.SessionService).toBeUndefined();
    expect(root.Links?.Sessions).toBeUndefined();
    const login = await rf(bmc, lab.pki.caPem, "POST", "/redfish/v1/SessionService/Sessions", {
      body: { UserName: "root", Password: "lab-password-1" },
    });
    expect(login.status).toBe(404);
    expect((await get(bmc, TOWER)).PowerState).toBe("On");
    const p = await req(bmc, "PATCH", TOWER, {
      Boot: { BootSourceOverrideTarget: "Pxe", BootSourceOverrideEnabled: "Once" },
    });
    expect(p.status).toBe(200);
    expect(p.json.Boot.BootSourceOverrideEnabled).toBe("Continuous");
    expect(p.json.Boot.BootSourceOverrideTarget).toBe("Pxe");
    const off = await req(bmc, "POST", `${TOWER}/Actions/ComputerSystem.Reset`, { ResetType: "ForceOff" });
    expect(off.status).toBe(204);
    expect((await get(bmc, TOWER)).PowerState).toBe("On");
    await sleep(150);
    expect((await get(bmc, TOWER)).PowerState).toBe("On");
    await waitFor(async () => (await get(bmc, TOWER)).PowerState === "Off", "late power off");
    expect(backend.running()).toBe(false);
  });

  it("quirk-bare: power and one CD slot by PATCH; no BootProgress, no UpdateService", async () => {
    const { bmc, backend } = await start("quirk-bare");
    const root = await get(bmc, "/redfish/v1");
    expect(root.UpdateService).toBeUndefined();
    expect((await req(bmc, "GET", "/redfish/v1/UpdateService")).status).toBe(404);
    const sys = await get(bmc, RACK);
    expect(sys.BootProgress).toBeUndefined();
    const slots = await get(bmc, `${RACK}/VirtualMedia`);
    expect(slots.Members).toEqual([{ "@odata.id": `${RACK}/VirtualMedia/CD1` }]);
    expect(slots["Members@odata.count"]).toBe(1);
    expect((await get(bmc, `${RACK}/VirtualMedia/CD1`)).Actions).toBeUndefined();
    const vm = await req(bmc, "PATCH", `${RACK}/VirtualMedia/CD1`, {
      Image: lab.url("dpu-os-1.1.iso"),
      Inserted: true,
    });
    expect(vm.status).toBe(200);
    await bootCd(bmc, backend, RACK);
  });
});

import { describe, expect, it } from "vitest";
import { loadCaptureModel } from "../../simulator/bmc/capture/model";
import { ALL_BMC_PROFILES, CAPTURE_BMC_PROFILES, type SimBmc } from "../../simulator/contracts";
import { useSchemaLab } from "./capture-walk";
import { FakeBackend, preinstalled } from "./fake-backend";
import { type Res, rf, sharedAvailable, waitFor } from "./harness";
import { RedfishSchemas } from "./redfish-schemas";

const haveShared = sharedAvailable();

describe.skipIf(!haveShared)("capture-backed BMC profiles: the state machine on top of the capture", () => {
  const env = useSchemaLab();

  const start = async (profile: (typeof CAPTURE_BMC_PROFILES)[number]) => {
    const backend = new FakeBackend(`st-${profile}`, preinstalled());
    const { bmc } = await env.lab().bmc(profile, { backend });
    return { bmc, backend, model: loadCaptureModel(profile) };
  };
  const get = async (bmc: SimBmc, path: string) => (await rf(bmc, env.lab().pki.caPem, "GET", path)).json;

  it("every profile serves $metadata, odata and the service root without authentication", async () => {
    for (const profile of ALL_BMC_PROFILES) {
      const { bmc } = await env
        .lab()
        .bmc(profile, { backend: new FakeBackend(`od-${profile}`, preinstalled()) });
      const ca = env.lab().pki.caPem;
      const meta = await rf(bmc, ca, "GET", "/redfish/v1/$metadata", { auth: "none" });
      expect(meta.status, `${profile} $metadata`).toBe(200);
      expect(meta.headers["content-type"]).toMatch(/application\/xml/);
      expect(meta.text).toMatch(/<edmx:Edmx[^>]*Version="4.0"/);
      expect(meta.text).toContain('Namespace="ServiceRoot');
      const odata = await rf(bmc, ca, "GET", "/redfish/v1/odata", { auth: "none" });
      expect(odata.status, `${profile} odata`).toBe(200);
      expect(odata.json.value.map((v: { name: string }) => v.name)).toContain("Systems");
      expect((await rf(bmc, ca, "GET", "/redfish/v1", { auth: "none" })).status).toBe(200);
      expect((await rf(bmc, ca, "GET", "/redfish/v1/Systems", { auth: "none" })).status, profile).toBe(401);
    }
  }, 60_000);

  for (const profile of CAPTURE_BMC_PROFILES) {
    it(`${profile}: power off/on and a reset change PowerState with the captured ResetTypes`, async () => {
      const { bmc, backend, model } = await start(profile);
      const ca = env.lab().pki.caPem;
      const sys = model.dpu.path;
      expect(bmc.systemId).toBe(model.dpu.id);
      expect((await get(bmc, sys)).PowerState).toBe("Off");
      await bmc.powerOnAndWait();
      expect((await get(bmc, sys)).PowerState).toBe("On");
      const target = model.dpu.resetTarget as string;
      expect(model.dpu.resetTypes).toContain("ForceOff");
      const off = await rf(bmc, ca, "POST", target, { body: { ResetType: "ForceOff" } });
      expect([200, 204]).toContain(off.status);
      await waitFor(async () => (await get(bmc, sys)).PowerState === "Off", "PowerState Off");
      expect(backend.running()).toBe(false);
      await rf(bmc, ca, "POST", target, { body: { ResetType: "On" } });
      await waitFor(
        async () => (await get(bmc, sys)).PowerState === "On" && backend.running(),
        "PowerState On",
      );
      const starts = backend.calls.filter((c) => c === "start").length;
      const restart = await rf(bmc, ca, "POST", target, { body: { ResetType: "ForceRestart" } });
      expect([200, 204]).toContain(restart.status);
      await waitFor(() => backend.calls.filter((c) => c === "start").length > starts, "restart");
      expect((await get(bmc, sys)).PowerState).toBe("On");
      // A ResetType the capture does not list is refused with a Base message.
      const notListed = ["PowerCycle", "FullPowerCycle", "Suspend"].find(
        (t) => !model.dpu.resetTypes.includes(t),
      );
      const bad = await rf(bmc, ca, "POST", target, { body: { ResetType: notListed } });
      expect(bad.status).toBe(400);
      expect(bad.json.error["@Message.ExtendedInfo"][0].MessageId).toMatch(
        /^Base\.1\.22\.ActionParameterValueNotInList$/,
      );
      // BootProgress only where the capture has it.
      const body = await get(bmc, sys);
      expect("BootProgress" in body).toBe(model.dpu.hasBootProgress);
      if (model.dpu.hasBootProgress)
        expect(body.BootProgress.LastState).toBe(profile === "capture-bluefield" ? "OEM" : "OSRunning");
    }, 60_000);
  }

  for (const profile of ["capture-rackmount1", "capture-smartnic", "capture-tower"] as const) {
    it(`${profile}: virtual media insert, boot from Cd once, eject (the slot as captured: PATCH only)`, async () => {
      const { bmc, backend, model } = await start(profile);
      const ca = env.lab().pki.caPem;
      const slot = model.bootSlot;
      expect(slot?.patchable).toBe(true);
      const path = slot?.path as string;
      expect(
        path.startsWith(profile === "capture-rackmount1" ? "/redfish/v1/Systems/" : "/redfish/v1/Managers/"),
      ).toBe(true);
      await bmc.powerOnAndWait();
      // Captured as inserted (an odd value: a scheme-less Image); a PATCH replaces it.
      expect((await get(bmc, path)).Inserted).toBe(true);
      const url = env.lab().url("dpu-os-1.1.iso");
      const ins = await rf(bmc, ca, "PATCH", path, {
        body: { Image: url, Inserted: true, WriteProtected: true },
      });
      expect(ins.status).toBe(200);
      expect(ins.json).toMatchObject({ Image: url, Inserted: true });
      const insAction = await rf(bmc, ca, "POST", `${path}/Actions/VirtualMedia.InsertMedia`, {
        body: { Image: url },
      });
      expect(insAction.status).toBe(404);
      const boot = await rf(bmc, ca, "PATCH", model.dpu.path, {
        body: { Boot: { BootSourceOverrideTarget: "Cd", BootSourceOverrideEnabled: "Once" } },
      });
      expect(boot.status).toBe(200);
      await rf(bmc, ca, "POST", model.dpu.resetTarget as string, { body: { ResetType: "ForceRestart" } });
      await waitFor(
        () => backend.installedImage()?.label === "DPUOS_1_1" && backend.running(),
        "boot from Cd",
      );
      expect((await get(bmc, model.dpu.path)).Boot).toMatchObject({ BootSourceOverrideEnabled: "Disabled" });
      const slotBody = await get(bmc, path);
      const file = RedfishSchemas.fileOf(slotBody["@odata.type"]);
      expect(env.schemas().validate(file, slotBody)).toEqual([]);
      const ej = await rf(bmc, ca, "PATCH", path, { body: { Image: null, Inserted: false } });
      expect(ej.status).toBe(200);
      expect((await get(bmc, path)).Inserted).toBe(false);
      expect(bmc.snapshot().media.inserted).toBe(false);
      // A Boot property the capture does not show is unknown here.
      const unknown = await rf(bmc, ca, "PATCH", model.dpu.path, { body: { Boot: { HttpBootUri: url } } });
      expect(unknown.status).toBe(400);
      expect(unknown.json.error["@Message.ExtendedInfo"][0].MessageId).toBe("Base.1.22.PropertyUnknown");
    }, 60_000);
  }

  it("capture-bladed: the other blades keep their own power and Boot override; the DPU blade is untouched", async () => {
    const { bmc, backend, model } = await start("capture-bladed");
    const ca = env.lab().pki.caPem;
    await bmc.powerOnAndWait();
    const other = model.systems.find((x) => x !== model.dpu);
    expect(other).toBeDefined();
    const path = other?.path as string;
    const off = await rf(bmc, ca, "POST", other?.resetTarget as string, { body: { ResetType: "ForceOff" } });
    expect(off.status).toBe(204);
    expect((await get(bmc, path)).PowerState).toBe("Off");
    const patch = await rf(bmc, ca, "PATCH", path, {
      body: { Boot: { BootSourceOverrideTarget: "Pxe", BootSourceOverrideEnabled: "Once" } },
    });
    expect(patch.status).toBe(200);
    expect((await get(bmc, path)).Boot).toMatchObject({ BootSourceOverrideTarget: "Pxe" });
    expect((await get(bmc, model.dpu.path)).Boot.BootSourceOverrideTarget).toBe("None");
    expect((await get(bmc, model.dpu.path)).PowerState).toBe("On");
    expect(backend.running()).toBe(true);
    // HEAD answers like GET, without a body.
    const head = await rf(bmc, ca, "HEAD", path);
    expect(head.status).toBe(200);
    expect(head.text).toBe("");
  }, 60_000);

  it("capture-tower: sessions log in as on the other profiles; the captured session list gains the live ones", async () => {
    const { bmc, model } = await start("capture-tower");
    const ca = env.lab().pki.caPem;
    const login = await rf(bmc, ca, "POST", "/redfish/v1/SessionService/Sessions", {
      auth: "none",
      body: { UserName: "root", Password: "lab-password-1" },
    });
    expect(login.status).toBe(201);
    const token = { token: String(login.headers["x-auth-token"]) };
    const own = String(login.headers.location);
    const list = await rf(bmc, ca, "GET", "/redfish/v1/SessionService/Sessions", { auth: token });
    expect(list.status).toBe(200);
    const ids = list.json.Members.map((x: { "@odata.id": string }) => x["@odata.id"]);
    expect(ids).toEqual(["/redfish/v1/SessionService/Sessions/1234567890ABCDEF", own]);
    expect(list.json["Members@odata.count"]).toBe(2);
    expect((await rf(bmc, ca, "GET", model.dpu.path, { auth: token })).status).toBe(200);
    expect((await rf(bmc, ca, "DELETE", own, { auth: token })).status).toBe(204);
    expect((await rf(bmc, ca, "GET", model.dpu.path, { auth: token })).status).toBe(401);
  }, 60_000);

  it("capture-smartnic: the SoC system has no Boot in its capture, so a Boot PATCH is refused", async () => {
    const { bmc } = await start("capture-smartnic");
    const res = await rf(bmc, env.lab().pki.caPem, "PATCH", "/redfish/v1/Systems/Card1-SoC", {
      body: { Boot: { BootSourceOverrideTarget: "Cd" } },
    });
    expect(res.status).toBe(400);
    expect(res.json.error["@Message.ExtendedInfo"][0].MessageId).toBe("Base.1.22.PropertyUnknown");
  }, 60_000);

  it("capture-bluefield: SimpleUpdate refuses a protocol the capture does not allow (SCP only, nested)", async () => {
    const { bmc, model } = await start("capture-bluefield");
    const ca = env.lab().pki.caPem;
    expect(model.simpleUpdate?.protocols).toEqual(["SCP"]);
    const target = model.simpleUpdate?.target as string;
    for (const body of [
      { ImageURI: env.lab().url("bf-bundle-4.10.bfb") },
      { ImageURI: "127.0.0.1//bf.bfb", TransferProtocol: "HTTP" },
    ]) {
      const res = await rf(bmc, ca, "POST", target, { body });
      expect(res.status).toBe(400);
      expect(env.schemas().validate("redfish-error.v1_0_2.json", res.json)).toEqual([]);
      const m = res.json.error["@Message.ExtendedInfo"][0];
      expect(m.MessageId).toBe("Base.1.22.ActionParameterValueNotInList");
      expect(m.MessageArgs).toEqual(["HTTP", "TransferProtocol", "UpdateService.SimpleUpdate"]);
    }
    // SCP is accepted (a task) and pulled with the real scp: a closed port ends the task with OpenSSH's words.
    const scp = await rf(bmc, ca, "POST", target, {
      body: { ImageURI: "127.0.0.1:1//bf.bfb", TransferProtocol: "SCP" },
    });
    expect(scp.status).toBe(202);
    const done = (await waitFor(async () => {
      const t = await rf(bmc, ca, "GET", scp.headers.location as string);
      return t.status !== 202 ? t : undefined;
    }, "SCP task")) as Res;
    expect(done.status).toBe(400);
    expect(JSON.stringify(done.json)).toMatch(/SCP transfer from 127\.0\.0\.1 failed: .*Connection refused/);
  }, 60_000);

  it("capture-rackmount1: SimpleUpdate protocols come from its ActionInfo; an HTTP image is staged until reset", async () => {
    const { bmc, backend, model } = await start("capture-rackmount1");
    const ca = env.lab().pki.caPem;
    expect(model.simpleUpdate?.protocols).toEqual(["FTP", "SFTP", "HTTP", "HTTPS", "SCP", "TFTP"]);
    const target = model.simpleUpdate?.target as string;
    const nfs = await rf(bmc, ca, "POST", target, { body: { ImageURI: "nfs://127.0.0.1/x.iso" } });
    expect(nfs.status).toBe(400);
    expect(nfs.json.error["@Message.ExtendedInfo"][0].MessageId).toBe(
      "Base.1.22.ActionParameterValueNotInList",
    );
    const up = await rf(bmc, ca, "POST", target, { body: { ImageURI: env.lab().url("dpu-os-1.1.iso") } });
    expect(up.status).toBe(202);
    const done = (await waitFor(async () => {
      const t = await rf(bmc, ca, "GET", up.headers.location as string);
      return t.status !== 202 ? t : undefined;
    }, "update task")) as Res;
    expect(done.status).toBe(200);
    const tasks = await get(bmc, "/redfish/v1/TaskService/Tasks");
    expect(tasks.Members.map((x: { "@odata.id": string }) => x["@odata.id"])).toContain(
      "/redfish/v1/TaskService/Tasks/1",
    );
    expect(tasks.Members.map((x: { "@odata.id": string }) => x["@odata.id"])).toContain(
      "/redfish/v1/TaskService/Tasks/545",
    );
    await bmc.powerOnAndWait();
    expect(backend.installedImage()?.label).toBe("DPUOS_1_1");
  }, 60_000);

  it("capture-bluefield: Boot changes only through the captured Settings object, applied at the next reset", async () => {
    const { bmc, model } = await start("capture-bluefield");
    const ca = env.lab().pki.caPem;
    const sys = model.dpu.path;
    expect(model.dpu.settingsPath).toBe("/redfish/v1/Systems/Bluefield/Settings");
    const direct = await rf(bmc, ca, "PATCH", sys, { body: { Boot: { BootSourceOverrideTarget: "Pxe" } } });
    expect(direct.status).toBe(400);
    expect(direct.json.error["@Message.ExtendedInfo"][0].MessageId).toBe("Base.1.22.PropertyNotWritable");
    const pend = await rf(bmc, ca, "PATCH", model.dpu.settingsPath as string, {
      body: { Boot: { BootSourceOverrideTarget: "Pxe", BootSourceOverrideEnabled: "Continuous" } },
    });
    expect(pend.status).toBe(200);
    expect(pend.json.Boot).toMatchObject({ BootSourceOverrideTarget: "Pxe" });
    expect((await get(bmc, sys)).Boot.BootSourceOverrideTarget).toBe("None");
    await bmc.powerOnAndWait();
    expect((await get(bmc, sys)).Boot).toMatchObject({
      BootSourceOverrideTarget: "Pxe",
      BootSourceOverrideEnabled: "Continuous",
    });
    // bmcweb answers actions 200 with a Success message, as the hand-written bluefield profile does.
    const r = await rf(bmc, ca, "POST", model.dpu.resetTarget as string, {
      body: { ResetType: "GracefulRestart" },
    });
    expect(r.status).toBe(200);
    expect(r.json["@Message.ExtendedInfo"][0].MessageId).toBe("Base.1.22.Success");
  }, 60_000);
});

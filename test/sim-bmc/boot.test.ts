import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SimBmc } from "../../simulator/contracts";
import { makeIso } from "../../simulator/images";
import { FakeBackend, preinstalled } from "./fake-backend";
import { type Lab, rf, startLab, waitFor } from "./harness";

let lab: Lab;
beforeAll(async () => {
  lab = await startLab();
});
afterAll(async () => lab?.close());

const get = async (bmc: SimBmc, uri: string) => (await rf(bmc, lab.pki.caPem, "GET", uri)).json;
const post = (bmc: SimBmc, uri: string, body: unknown) => rf(bmc, lab.pki.caPem, "POST", uri, { body });
const patch = (bmc: SimBmc, uri: string, body: unknown) => rf(bmc, lab.pki.caPem, "PATCH", uri, { body });
const sha = (name: string) => lab.files.find((f) => f.name === name)?.sha256;

/** Records distinct BootProgress/PowerState observations until `done` holds. */
async function watch(bmc: SimBmc, done: (sys: Record<string, unknown>) => boolean): Promise<string[]> {
  const seen: string[] = [];
  await waitFor(async () => {
    const sys = await get(bmc, `/redfish/v1/Systems/${bmc.systemId}`);
    const bp = sys.BootProgress as { LastState: string; OemLastState?: string };
    const s = bp.LastState === "OEM" ? `OEM:${bp.OemLastState}` : bp.LastState;
    if (seen[seen.length - 1] !== s) seen.push(s);
    return done(sys);
  }, "boot progress");
  return seen;
}

async function settle(bmc: SimBmc): Promise<void> {
  await waitFor(() => {
    const s = bmc.snapshot();
    return (
      s.lastBootError !== undefined ||
      s.bootProgress.lastState === "OSRunning" ||
      s.bootProgress.oemLastState === "OsIsRunning"
    );
  }, "boot end");
}

describe("generic profile: virtual media + Cd Once", () => {
  it("boots the inserted ISO once, BootProgress advances, override reverts, installed OS is measured", async () => {
    const backend = new FakeBackend("vm-generic", preinstalled());
    const { bmc } = await lab.bmc("generic", { backend, bootTimeMs: 1500 });
    await bmc.powerOnAndWait();
    expect(backend.running()).toBe(true);
    backend.calls.length = 0;
    const vm = "/redfish/v1/Managers/BMC/VirtualMedia/CD1";
    const slot = await get(bmc, vm);
    expect(slot.Inserted).toBe(false);
    expect(slot.MediaTypes).toContain("CD");
    const ins = await post(bmc, `${vm}/Actions/VirtualMedia.InsertMedia`, {
      Image: lab.url("dpu-os-1.1.iso"),
      TransferProtocolType: "HTTP",
    });
    expect(ins.status).toBe(204);
    const after = await get(bmc, vm);
    expect(after).toMatchObject({
      Inserted: true,
      Image: lab.url("dpu-os-1.1.iso"),
      ImageName: "dpu-os-1.1.iso",
      ConnectedVia: "URI",
      TransferMethod: "Stream",
    });
    const again = await post(bmc, `${vm}/Actions/VirtualMedia.InsertMedia`, {
      Image: lab.url("dpu-os-2.0.iso"),
    });
    expect(again.status).toBe(409);
    const p = await patch(bmc, "/redfish/v1/Systems/1", {
      Boot: {
        BootSourceOverrideTarget: "Cd",
        BootSourceOverrideEnabled: "Once",
        BootSourceOverrideMode: "UEFI",
      },
    });
    expect(p.status).toBe(200);
    expect(p.json.Boot).toMatchObject({ BootSourceOverrideTarget: "Cd", BootSourceOverrideEnabled: "Once" });
    const hitsBefore = lab.images.hits("dpu-os-1.1.iso");
    expect(
      (await post(bmc, "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset", { ResetType: "ForceRestart" }))
        .status,
    ).toBe(204);
    expect(backend.running()).toBe(false);
    const seen = await watch(bmc, (s) => (s.BootProgress as { LastState: string }).LastState === "OSRunning");
    expect(seen[0], seen.join()).toBe("PrimaryProcessorInitializationStarted");
    expect(seen).toContain("SystemHardwareInitializationComplete");
    expect(seen, seen.join()).toContain("OSBootStarted");
    expect(seen[seen.length - 1]).toBe("OSRunning");
    const sys = await get(bmc, "/redfish/v1/Systems/1");
    expect(sys.PowerState).toBe("On");
    expect(sys.Boot).toMatchObject({
      BootSourceOverrideEnabled: "Disabled",
      BootSourceOverrideTarget: "None",
    });
    expect(backend.calls).toEqual(["stop", "install:DPUOS_1_1", "start"]);
    expect(bmc.snapshot().installedImage).toMatchObject({
      label: "DPUOS_1_1",
      kind: "iso",
      sha256: sha("dpu-os-1.1.iso"),
    });
    expect(lab.images.hits("dpu-os-1.1.iso")).toBe(hitsBefore + 1);
    // A plain reset now boots the installed OS without fetching again.
    backend.calls.length = 0;
    await post(bmc, "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset", { ResetType: "GracefulRestart" });
    await settle(bmc);
    expect(backend.calls).toEqual(["stop", "start"]);
    expect(lab.images.hits("dpu-os-1.1.iso")).toBe(hitsBefore + 1);
    // Eject, power off.
    expect((await post(bmc, `${vm}/Actions/VirtualMedia.EjectMedia`, {})).status).toBe(204);
    expect((await get(bmc, vm)).Inserted).toBe(false);
    await post(bmc, "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset", { ResetType: "ForceOff" });
    await waitFor(async () => (await get(bmc, "/redfish/v1/Systems/1")).PowerState === "Off", "power off");
    expect(backend.running()).toBe(false);
    expect(bmc.snapshot().powerState).toBe("Off");
  });

  it("virtual media by PATCH (DMTF fallback) and Continuous override boots media every time", async () => {
    const backend = new FakeBackend("vm-patch");
    const { bmc } = await lab.bmc("generic", { backend });
    const vm = "/redfish/v1/Managers/BMC/VirtualMedia/CD1";
    expect((await patch(bmc, vm, { Image: lab.url("dpu-os-2.0.iso"), Inserted: true })).status).toBe(200);
    await patch(bmc, "/redfish/v1/Systems/1", {
      Boot: { BootSourceOverrideTarget: "Cd", BootSourceOverrideEnabled: "Continuous" },
    });
    await post(bmc, "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset", { ResetType: "On" });
    await settle(bmc);
    await post(bmc, "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset", { ResetType: "ForceRestart" });
    await settle(bmc);
    expect(backend.installs.map((i) => i.label)).toEqual(["DPUOS_2_0", "DPUOS_2_0"]);
    expect((await get(bmc, "/redfish/v1/Systems/1")).Boot.BootSourceOverrideEnabled).toBe("Continuous");
    expect((await patch(bmc, vm, { Image: null, Inserted: false })).status).toBe(200);
    expect((await get(bmc, vm)).Inserted).toBe(false);
  });
});

describe("failed boots are visible, never silent", () => {
  const cases: [string, () => string, RegExp][] = [
    ["corrupt image", () => lab.url("corrupt.iso"), /InvalidObject/],
    ["404", () => lab.url("no-such.iso"), /ResourceMissingAtURI/],
    ["unreachable URL", () => "http://127.0.0.1:9/dpu.iso", /CouldNotEstablishConnection/],
    ["BFB on a CD", () => lab.url("bf-bundle-4.9.bfb"), /not bootable/],
  ];
  for (const [what, url, err] of cases) {
    it(`${what}: BootProgress stops before the OS, no OS, lastBootError set`, async () => {
      const backend = new FakeBackend(`fail-${what}`, preinstalled());
      const { bmc } = await lab.bmc("dell", { backend });
      await bmc.powerOnAndWait();
      const vm = "/redfish/v1/Systems/System.Embedded.1/VirtualMedia/1";
      expect((await post(bmc, `${vm}/Actions/VirtualMedia.InsertMedia`, { Image: url() })).status).toBe(204);
      await patch(bmc, "/redfish/v1/Systems/System.Embedded.1", {
        Boot: { BootSourceOverrideTarget: "Cd", BootSourceOverrideEnabled: "Once" },
      });
      await post(bmc, "/redfish/v1/Systems/System.Embedded.1/Actions/ComputerSystem.Reset", {
        ResetType: "ForceRestart",
      });
      await settle(bmc);
      const snap = bmc.snapshot();
      expect(snap.lastBootError).toMatch(err);
      expect(backend.running()).toBe(false);
      expect(backend.installedImage()?.label).toBe("DPUOS_1_0");
      const sys = await get(bmc, "/redfish/v1/Systems/System.Embedded.1");
      expect(sys.BootProgress.LastState).toBe("SystemHardwareInitializationComplete");
      expect(sys.Status.Health).toBe("Warning");
      expect(sys.Boot.BootSourceOverrideEnabled).toBe("Once");
      // The override is still pending, so powering on again fails the same way.
      await expect(bmc.powerOnAndWait()).rejects.toThrow(err);
    });
  }

  it("blank DPU without override stays stuck without OS; powerOnAndWait rejects", async () => {
    const backend = new FakeBackend("blank");
    const { bmc } = await lab.bmc("generic", { backend });
    await expect(bmc.powerOnAndWait()).rejects.toThrow(/no bootable device/);
    expect(backend.running()).toBe(false);
    expect(bmc.snapshot()).toMatchObject({
      powerState: "On",
      bootProgress: { lastState: "SystemHardwareInitializationComplete" },
    });
  });

  it("UefiHttp without HttpBootUri fails (no DHCP boot URL in the lab)", async () => {
    const { bmc, backend } = await lab.bmc("generic");
    await patch(bmc, "/redfish/v1/Systems/1", {
      Boot: { BootSourceOverrideTarget: "UefiHttp", BootSourceOverrideEnabled: "Once" },
    });
    await post(bmc, "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset", { ResetType: "On" });
    await settle(bmc);
    expect(bmc.snapshot().lastBootError).toMatch(/HttpBootUri/);
    expect(backend.running()).toBe(false);
  });
});

describe("UEFI HTTP boot over HTTPS trusts the lab CA", () => {
  it("fetches an HTTPS HttpBootUri with opts.caFile and boots it", async () => {
    const iso = await makeIso({ label: "HTTPS_OS" });
    const srv = createServer({ key: lab.pki.key, cert: lab.pki.cert }, (_q, res) => {
      res.writeHead(200, { "Content-Length": iso.length });
      res.end(iso);
    });
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    try {
      const url = `https://127.0.0.1:${(srv.address() as AddressInfo).port}/os.iso`;
      const { bmc, backend } = await lab.bmc("generic");
      await patch(bmc, "/redfish/v1/Systems/1", {
        Boot: { BootSourceOverrideTarget: "UefiHttp", BootSourceOverrideEnabled: "Once", HttpBootUri: url },
      });
      await post(bmc, "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset", { ResetType: "On" });
      await settle(bmc);
      expect(bmc.snapshot().lastBootError).toBeUndefined();
      expect(backend.installedImage()).toMatchObject({ label: "HTTPS_OS", url });
      // Without the CA the same boot fails.
      const { bmc: noCa, backend: b2 } = await lab.bmc("generic", { caFile: undefined });
      await patch(noCa, "/redfish/v1/Systems/1", {
        Boot: { BootSourceOverrideTarget: "UefiHttp", BootSourceOverrideEnabled: "Once", HttpBootUri: url },
      });
      await post(noCa, "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset", { ResetType: "On" });
      await settle(noCa);
      expect(noCa.snapshot().lastBootError).toMatch(/CouldNotEstablishConnection/);
      expect(b2.running()).toBe(false);
    } finally {
      srv.close();
    }
  });
});

describe("Intel IPU profile", () => {
  it("InsertMedia requires TransferMethod Upload, answers 202 + task, boots via Manager.Reset", async () => {
    const backend = new FakeBackend("ipu", preinstalled());
    const { bmc } = await lab.bmc("intel-ipu", { backend });
    await bmc.powerOnAndWait();
    const vm = "/redfish/v1/Systems/1/VirtualMedia/1";
    const action = `${vm}/Actions/VirtualMedia.InsertMedia`;
    const missing = await post(bmc, action, { Image: lab.url("dpu-os-2.0.iso") });
    expect(missing.status).toBe(400);
    expect(missing.json.error["@Message.ExtendedInfo"][0].MessageId).toBe("Base.1.22.ActionParameterMissing");
    const stream = await post(bmc, action, { Image: lab.url("dpu-os-2.0.iso"), TransferMethod: "Stream" });
    expect(stream.json.error["@Message.ExtendedInfo"][0].MessageId).toBe(
      "Base.1.22.ActionParameterValueNotInList",
    );
    const up = await post(bmc, action, { Image: lab.url("dpu-os-2.0.iso"), TransferMethod: "Upload" });
    expect(up.status).toBe(202);
    expect(up.headers.location).toMatch(/^\/redfish\/v1\/TaskService\/TaskMonitors\//);
    expect(up.json).toMatchObject({ TaskState: "Running" });
    await waitFor(async () => (await get(bmc, vm)).Inserted === true, "upload done");
    expect(await get(bmc, vm)).toMatchObject({ ImageName: "dpu-os-2.0.iso", TransferMethod: "Upload" });
    const mon = await rf(bmc, lab.pki.caPem, "GET", up.headers.location as string);
    expect(mon.status).toBe(200);
    expect(mon.json).toMatchObject({ TaskState: "Completed", PercentComplete: 100, TaskStatus: "OK" });
    const sysReset = await post(bmc, "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset", {
      ResetType: "ForceRestart",
    });
    expect(sysReset.status).toBe(400);
    expect(sysReset.json.error["@Message.ExtendedInfo"][0].MessageId).toBe(
      "Base.1.22.ActionParameterValueNotInList",
    );
    await patch(bmc, "/redfish/v1/Systems/1", {
      Boot: { BootSourceOverrideTarget: "Cd", BootSourceOverrideEnabled: "Once" },
    });
    const hits = lab.images.hits("dpu-os-2.0.iso");
    expect(
      (await post(bmc, "/redfish/v1/Managers/1/Actions/Manager.Reset", { ResetType: "ForceRestart" })).status,
    ).toBe(204);
    await settle(bmc);
    expect(backend.installedImage()?.label).toBe("DPUOS_2_0");
    expect(backend.running()).toBe(true);
    // The IMC booted its downloaded copy: no second fetch.
    expect(lab.images.hits("dpu-os-2.0.iso")).toBe(hits);
  });

  it("Upload of a missing image ends the task in Exception and leaves the slot empty", async () => {
    const { bmc } = await lab.bmc("intel-ipu");
    const up = await post(bmc, "/redfish/v1/Systems/1/VirtualMedia/1/Actions/VirtualMedia.InsertMedia", {
      Image: lab.url("gone.iso"),
      TransferMethod: "Upload",
    });
    expect(up.status).toBe(202);
    const task = `/redfish/v1/TaskService/Tasks/${up.json.Id}`;
    await waitFor(async () => (await get(bmc, task)).TaskState === "Exception", "exception");
    const t = await get(bmc, task);
    expect(t.Messages[0].MessageId).toBe("Base.1.22.ResourceMissingAtURI");
    expect(t.EndTime).toBeDefined();
    const mon = await rf(bmc, lab.pki.caPem, "GET", up.headers.location as string);
    expect(mon.status).toBe(400);
    expect((await get(bmc, "/redfish/v1/Systems/1/VirtualMedia/1")).Inserted).toBe(false);
  });
});

describe("BlueField profile", () => {
  const UPDATE = "/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate";

  it("SimpleUpdate of a BFB to DPU_OS: 202 + task, reset, OEM BootProgress to OsIsRunning", async () => {
    const backend = new FakeBackend("bf", preinstalled());
    const { bmc } = await lab.bmc("bluefield", { backend, bootTimeMs: 900 });
    await bmc.powerOnAndWait();
    expect(bmc.snapshot().bootProgress).toEqual({ lastState: "OEM", oemLastState: "OsIsRunning" });
    const badTarget = await post(bmc, UPDATE, {
      ImageURI: lab.url("bf-bundle-4.10.bfb"),
      Targets: ["/redfish/v1/UpdateService/FirmwareInventory/BMC_Firmware"],
    });
    expect(badTarget.status).toBe(400);
    backend.calls.length = 0;
    bmc.setFaults({ taskDelayMs: 300 }); // keeps the update task running while we probe "busy"
    // BlueField style: scheme-less ImageURI plus TransferProtocol; target without the leading slash.
    const hostPath = lab.url("bf-bundle-4.10.bfb").replace("http://", "").replace("/bf-", "//bf-");
    const up = await post(bmc, UPDATE, {
      ImageURI: hostPath,
      TransferProtocol: "HTTP",
      Targets: ["redfish/v1/UpdateService/FirmwareInventory/DPU_OS"],
    });
    expect(up.status).toBe(202);
    const busy = await post(bmc, UPDATE, { ImageURI: lab.url("bf-bundle-4.9.bfb") });
    expect(busy.status).toBe(400);
    const task = `/redfish/v1/TaskService/Tasks/${up.json.Id}`;
    const monitor = up.headers.location as string;
    expect((await rf(bmc, lab.pki.caPem, "GET", monitor)).status).toBe(202);
    // Like DPF: wait for the task to reach 100 %, then for BootProgress (the old OS showed OsIsRunning too).
    await waitFor(async () => (await rf(bmc, lab.pki.caPem, "GET", monitor)).status === 200, "task done");
    // The old OS showed OsIsRunning too: the wait ends only at an OsIsRunning that follows the reset (a state
    // other than OsIsRunning seen first), else a first poll before the reset would end it at once under load.
    let reset = false;
    const seen = await watch(bmc, (s) => {
      const st = (s.BootProgress as { OemLastState?: string }).OemLastState;
      if (st !== "OsIsRunning") reset = true;
      return reset && st === "OsIsRunning";
    });
    expect(seen.filter((x) => x !== "OEM:OsIsRunning").length).toBeGreaterThan(0);
    expect(seen[seen.length - 1]).toBe("OEM:OsIsRunning");
    const t = await get(bmc, task);
    expect(t).toMatchObject({ TaskState: "Completed", PercentComplete: 100, TaskStatus: "OK" });
    expect(backend.calls).toEqual(["stop", "install:bf-bundle-4.10", "start"]);
    expect(backend.installedImage()).toMatchObject({
      kind: "bfb",
      label: "bf-bundle-4.10",
      sha256: sha("bf-bundle-4.10.bfb"),
    });
    expect((await get(bmc, "/redfish/v1/UpdateService/FirmwareInventory/DPU_OS")).Version).toBe(
      "bf-bundle-4.10",
    );
  });

  it("SimpleUpdate of an ISO or a missing file ends in Exception without touching the DPU", async () => {
    const backend = new FakeBackend("bf-bad", preinstalled());
    const { bmc } = await lab.bmc("bluefield", { backend });
    await bmc.powerOnAndWait();
    for (const [name, id] of [
      ["dpu-os-1.0.iso", "InvalidObject"],
      ["nope.bfb", "ResourceMissingAtURI"],
    ] as const) {
      const up = await post(bmc, UPDATE, {
        ImageURI: lab.url(name),
        TransferProtocol: "HTTP",
        Targets: ["/redfish/v1/UpdateService/FirmwareInventory/DPU_OS"],
      });
      expect(up.status).toBe(202);
      const task = `/redfish/v1/TaskService/Tasks/${up.json.Id}`;
      await waitFor(async () => (await get(bmc, task)).TaskState === "Exception", "exception");
      expect((await get(bmc, task)).Messages[0].MessageId).toBe(`Base.1.22.${id}`);
    }
    expect(backend.running()).toBe(true);
    expect(backend.installedImage()?.label).toBe("DPUOS_1_0");
  });

  it("Settings object: UefiHttp + HttpBootUri pending until the next reset, then applied once", async () => {
    const backend = new FakeBackend("bf-http", preinstalled());
    const { bmc } = await lab.bmc("bluefield", { backend });
    await bmc.powerOnAndWait();
    const r = await patch(bmc, "/redfish/v1/Systems/Bluefield/Settings", {
      Boot: {
        BootSourceOverrideTarget: "UefiHttp",
        BootSourceOverrideEnabled: "Once",
        HttpBootUri: lab.url("dpu-os-2.0.iso"),
      },
    });
    expect(r.status).toBe(200);
    expect(r.json.Boot.BootSourceOverrideTarget).toBe("UefiHttp");
    const bad = await patch(bmc, "/redfish/v1/Systems/Bluefield/Settings", {
      Boot: { BootSourceOverrideTarget: "Cd" },
    });
    expect(bad.json.error["@Message.ExtendedInfo"][0].MessageId).toBe("Base.1.22.PropertyValueNotInList");
    expect((await get(bmc, "/redfish/v1/Systems/Bluefield")).Boot.BootSourceOverrideTarget).toBe("None");
    await post(bmc, "/redfish/v1/Systems/Bluefield/Actions/ComputerSystem.Reset", {
      ResetType: "GracefulRestart",
    });
    await settle(bmc);
    expect(backend.installedImage()?.label).toBe("DPUOS_2_0");
    const sys = await get(bmc, "/redfish/v1/Systems/Bluefield");
    expect(sys.Boot).toMatchObject({
      BootSourceOverrideEnabled: "Disabled",
      BootSourceOverrideTarget: "None",
      HttpBootUri: lab.url("dpu-os-2.0.iso"),
    });
    expect(sys.BootProgress).toMatchObject({ LastState: "OEM", OemLastState: "OsIsRunning" });
    expect((await get(bmc, "/redfish/v1/Systems/Bluefield/Settings")).Boot.BootSourceOverrideTarget).toBe(
      "None",
    );
  });
});

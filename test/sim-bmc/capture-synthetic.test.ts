import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeBackend, preinstalled } from "./fake-backend";
import { type Lab, rf, startLab, waitFor } from "./harness";

/**
 * A small capture written here (named like a shared one, in a directory of its own) with what the shared
 * captures lack: a slot with InsertMedia/EjectMedia actions, inline SimpleUpdate protocols, and no $metadata.
 */
const mockups = mkdtempSync(join(tmpdir(), "capture-synthetic-"));
function put(path: string, body: unknown): void {
  const file = join(mockups, "public-bladed", path, "index.json");
  mkdirSync(join(file, ".."), { recursive: true });
  writeFileSync(file, JSON.stringify(body));
}
const link = (id: string) => ({ "@odata.id": id });
const SYS = "/redfish/v1/Systems/Node7";
const CD = "/redfish/v1/Managers/Mgr9/VirtualMedia/CD";
put("", {
  "@odata.type": "#ServiceRoot.v1_5_0.ServiceRoot",
  "@odata.id": "/redfish/v1",
  Id: "RootService",
  Name: "Root",
  Systems: link("/redfish/v1/Systems"),
  Managers: link("/redfish/v1/Managers"),
  UpdateService: link("/redfish/v1/UpdateService"),
});
put("Systems", {
  "@odata.type": "#ComputerSystemCollection.ComputerSystemCollection",
  "@odata.id": "/redfish/v1/Systems",
  Name: "Systems",
  Members: [link(SYS)],
});
put("Systems/Node7", {
  "@odata.type": "#ComputerSystem.v1_5_0.ComputerSystem",
  "@odata.id": SYS,
  Id: "Node7",
  Name: "Node 7",
  PowerState: "On",
  Boot: {
    BootSourceOverrideEnabled: "Disabled",
    BootSourceOverrideTarget: "None",
    "BootSourceOverrideTarget@Redfish.AllowableValues": ["None", "Cd", "Hdd"],
  },
  Links: { ManagedBy: [link("/redfish/v1/Managers/Mgr9")] },
  Actions: {
    "#ComputerSystem.Reset": {
      target: `${SYS}/Actions/ComputerSystem.Reset`,
      "ResetType@Redfish.AllowableValues": ["On", "ForceOff", "ForceRestart"],
    },
  },
});
put("Managers", {
  "@odata.type": "#ManagerCollection.ManagerCollection",
  "@odata.id": "/redfish/v1/Managers",
  Name: "Managers",
  Members: [link("/redfish/v1/Managers/Mgr9")],
});
put("Managers/Mgr9", {
  "@odata.type": "#Manager.v1_5_0.Manager",
  "@odata.id": "/redfish/v1/Managers/Mgr9",
  Id: "Mgr9",
  Name: "Manager",
  VirtualMedia: link("/redfish/v1/Managers/Mgr9/VirtualMedia"),
});
put("Managers/Mgr9/VirtualMedia", {
  "@odata.type": "#VirtualMediaCollection.VirtualMediaCollection",
  "@odata.id": "/redfish/v1/Managers/Mgr9/VirtualMedia",
  Name: "Virtual Media",
  Members: [link(CD)],
});
put("Managers/Mgr9/VirtualMedia/CD", {
  "@odata.type": "#VirtualMedia.v1_3_0.VirtualMedia",
  "@odata.id": CD,
  Id: "CD",
  Name: "Virtual CD",
  MediaTypes: ["CD", "DVD"],
  Image: null,
  Inserted: false,
  WriteProtected: true,
  Actions: {
    "#VirtualMedia.InsertMedia": {
      target: `${CD}/Actions/VirtualMedia.InsertMedia`,
      "TransferMethod@Redfish.AllowableValues": ["Stream"],
    },
    "#VirtualMedia.EjectMedia": { target: `${CD}/Actions/VirtualMedia.EjectMedia` },
  },
});
put("UpdateService", {
  "@odata.type": "#UpdateService.v1_5_0.UpdateService",
  "@odata.id": "/redfish/v1/UpdateService",
  Id: "UpdateService",
  Name: "Update",
  Actions: {
    "#UpdateService.SimpleUpdate": {
      target: "/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate",
      "TransferProtocol@Redfish.AllowableValues": ["HTTPS"],
    },
  },
});

describe("capture-backed BMC from a synthetic capture (actions, inline protocols, no $metadata)", () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab();
  }, 120_000);
  afterAll(async () => {
    await lab?.close();
    rmSync(mockups, { recursive: true, force: true });
  });

  it("InsertMedia/EjectMedia as the slot offers them, media boots, protocols and $metadata as derived", async () => {
    const backend = new FakeBackend("synthetic-0", preinstalled());
    const { bmc } = await lab.bmc("capture-bladed", { backend, mockupsDir: mockups });
    const ca = lab.pki.caPem;
    expect(bmc.systemId).toBe("Node7");
    await bmc.powerOnAndWait();
    const url = lab.url("dpu-os-1.1.iso");
    expect((await rf(bmc, ca, "PATCH", CD, { body: { Image: url } })).status).toBe(405);
    const ins = await rf(bmc, ca, "POST", `${CD}/Actions/VirtualMedia.InsertMedia`, {
      body: { Image: url, TransferMethod: "Stream" },
    });
    expect(ins.status).toBe(204);
    const again = await rf(bmc, ca, "POST", `${CD}/Actions/VirtualMedia.InsertMedia`, {
      body: { Image: url },
    });
    expect(again.status).toBe(409);
    const upload = await rf(bmc, ca, "POST", `${CD}/Actions/VirtualMedia.InsertMedia`, {
      body: { Image: url, TransferMethod: "Upload" },
    });
    expect(upload.json.error["@Message.ExtendedInfo"][0].MessageId).toBe(
      "Base.1.22.ActionParameterValueNotInList",
    );
    const slot = (await rf(bmc, ca, "GET", CD)).json;
    expect(slot).toMatchObject({ Image: url, Inserted: true, WriteProtected: true });
    // Only the owned properties the capture shows: this slot has no ConnectedVia.
    expect("ConnectedVia" in slot).toBe(false);
    await rf(bmc, ca, "PATCH", SYS, {
      body: { Boot: { BootSourceOverrideTarget: "Cd", BootSourceOverrideEnabled: "Once" } },
    });
    await rf(bmc, ca, "POST", `${SYS}/Actions/ComputerSystem.Reset`, { body: { ResetType: "ForceRestart" } });
    await waitFor(
      () => backend.installedImage()?.label === "DPUOS_1_1" && backend.running(),
      "boot from media",
    );
    expect((await rf(bmc, ca, "POST", `${CD}/Actions/VirtualMedia.EjectMedia`, { body: {} })).status).toBe(
      204,
    );
    expect((await rf(bmc, ca, "GET", CD)).json.Inserted).toBe(false);

    const su = "/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate";
    const http = await rf(bmc, ca, "POST", su, { body: { ImageURI: url } });
    expect(http.status).toBe(400);
    expect(http.json.error["@Message.ExtendedInfo"][0].MessageArgs).toEqual([
      "HTTP",
      "TransferProtocol",
      "UpdateService.SimpleUpdate",
    ]);
    expect(
      (await rf(bmc, ca, "POST", su, { body: { ImageURI: url.replace(/^http:/, "https:") } })).status,
    ).toBe(202);

    const meta = await rf(bmc, ca, "GET", "/redfish/v1/$metadata", { auth: "none" });
    expect(meta.status).toBe(200);
    for (const ns of [
      "ServiceRoot.v1_5_0",
      "ComputerSystem.v1_5_0",
      "VirtualMedia.v1_3_0",
      "UpdateService.v1_5_0",
    ])
      expect(meta.text).toContain(`<edmx:Include Namespace="${ns}"/>`);
    const odata = await rf(bmc, ca, "GET", "/redfish/v1/odata", { auth: "none" });
    expect(odata.json.value.map((v: { url: string }) => v.url)).toEqual([
      "/redfish/v1/",
      "/redfish/v1/Systems",
      "/redfish/v1/Managers",
      "/redfish/v1/UpdateService",
    ]);
  }, 60_000);
});

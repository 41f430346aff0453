import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AttachedMedium, BootImage, InstallExtras } from "../../simulator/contracts";
import { inspectImage, makeBfb } from "../../simulator/images";
import { FakeBackend, preinstalled } from "./fake-backend";
import { type Lab, rf, startLab, waitFor } from "./harness";

/** A FakeBackend that also records the media each boot saw and what each install carried. */
class SeedRecordingBackend extends FakeBackend {
  readonly boots: (readonly AttachedMedium[])[] = [];
  readonly extras: InstallExtras[] = [];
  override async install(image: BootImage, extras?: InstallExtras): Promise<void> {
    await super.install(image);
    this.extras.push(extras ?? {});
  }
  override async start(media?: readonly AttachedMedium[]): Promise<void> {
    await super.start();
    this.boots.push(media ?? []);
  }
}

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

describe("BMC: a second virtual-media slot and a BFB's appended bf.cfg reach the DPU", () => {
  let lab: Lab;
  let ca: string;
  beforeAll(async () => {
    lab = await startLab();
    ca = await readFile(lab.pki.caFile, "utf8");
  });
  afterAll(async () => {
    await lab?.close();
  });

  const start = async (
    profile: "generic" | "dell" | "bluefield" | "intel-ipu" | "capture-tower",
    n: string,
  ) => {
    const backend = new SeedRecordingBackend(n, preinstalled());
    const { bmc } = await lab.bmc(profile, { backend });
    await bmc.powerOnAndWait();
    return { bmc, backend };
  };

  it.each([
    ["generic", "/redfish/v1/Managers/BMC/VirtualMedia", "USB1"],
    ["dell", "/redfish/v1/Systems/System.Embedded.1/VirtualMedia", "2"],
  ] as const)(
    "%s: the second slot is listed, inserts once, and its medium is fetched at every boot",
    async (profile, coll, id) => {
      const { bmc, backend } = await start(profile, `dpu-${profile}`);
      const list = await rf(bmc, ca, "GET", coll);
      const slot = `${coll}/${id}`;
      expect(list.json.Members.map((m: { "@odata.id": string }) => m["@odata.id"])).toContain(slot);
      const view = await rf(bmc, ca, "GET", slot);
      expect(view.json).toMatchObject({ Inserted: false, Image: null, MediaTypes: ["USBStick"] });
      const image = lab.files.find((f) => f.kind === "iso")!;
      const insert = `${slot}/Actions/VirtualMedia.InsertMedia`;
      expect((await rf(bmc, ca, "POST", insert, { body: { Image: image.url, Inserted: true } })).status).toBe(
        204,
      );
      expect((await rf(bmc, ca, "POST", insert, { body: { Image: image.url } })).status).toBe(409);
      expect((await rf(bmc, ca, "GET", slot)).json).toMatchObject({ Inserted: true, Image: image.url });
      // The CD (the boot slot) is untouched: the medium is not a boot source.
      expect(bmc.snapshot().media.inserted).toBe(false);
      const reset = `/redfish/v1/Systems/${bmc.systemId}/Actions/ComputerSystem.Reset`;
      expect((await rf(bmc, ca, "POST", reset, { body: { ResetType: "ForceRestart" } })).status).toBe(204);
      await waitFor(() => (backend.boots.length === 2 ? true : undefined), "the reboot");
      const seen = backend.boots[1]!;
      expect(seen.map((m) => [m.slot, m.url])).toEqual([[slot, image.url]]);
      expect(sha(seen[0]!.bytes)).toBe(image.sha256);
      expect(backend.installs).toHaveLength(0);
      // Ejected: the next boot sees no medium.
      const eject = `${slot}/Actions/VirtualMedia.EjectMedia`;
      expect((await rf(bmc, ca, "POST", eject, { body: {} })).status).toBe(204);
      await rf(bmc, ca, "POST", reset, { body: { ResetType: "ForceRestart" } });
      await waitFor(() => (backend.boots.length === 3 ? true : undefined), "the second reboot");
      expect(backend.boots[2]).toEqual([]);
    },
  );

  it("generic: a second-slot medium that cannot be fetched is absent for the OS, the boot goes on, the BMC says why", async () => {
    const { bmc, backend } = await start("generic", "dpu-unreachable");
    const gone = `${lab.images.baseUrl}/no-such-seed.iso`;
    const insert = "/redfish/v1/Managers/BMC/VirtualMedia/USB1/Actions/VirtualMedia.InsertMedia";
    expect((await rf(bmc, ca, "POST", insert, { body: { Image: gone } })).status).toBe(204);
    await rf(bmc, ca, "POST", "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset", {
      body: { ResetType: "ForceRestart" },
    });
    await waitFor(() => (backend.boots.length === 2 ? true : undefined), "the reboot");
    expect(backend.boots[1]).toEqual([]);
    expect(backend.running()).toBe(true);
    const snap = bmc.snapshot();
    expect(snap.lastMediaError).toContain("/redfish/v1/Managers/BMC/VirtualMedia/USB1");
    expect(snap.lastMediaError).toContain(gone);
    expect(snap.lastBootError).toBeUndefined();
  });

  it("intel-ipu keeps one slot; bluefield has no virtual media", async () => {
    const ipu = await start("intel-ipu", "dpu-ipu");
    const list = await rf(ipu.bmc, ca, "GET", "/redfish/v1/Systems/1/VirtualMedia");
    expect(list.json.Members).toHaveLength(1);
    const bf = await start("bluefield", "dpu-bf-nomedia");
    expect((await rf(bf.bmc, ca, "GET", "/redfish/v1/Managers/Bluefield_BMC/VirtualMedia")).status).toBe(404);
  });

  it("capture-tower: media the capture shows inserted are not fetched; a client's insert in Floppy1 is", async () => {
    const { bmc, backend } = await start("capture-tower", "dpu-tower");
    expect(backend.boots[0]).toEqual([]);
    const slot = "/redfish/v1/Managers/BMC/VirtualMedia/Floppy1";
    const image = lab.files.find((f) => f.kind === "iso")!;
    expect(
      (await rf(bmc, ca, "PATCH", slot, { body: { Image: image.url, Inserted: true } })).status,
    ).toBeLessThan(300);
    expect(bmc.snapshot().extraMedia).toEqual({ [slot]: image.url });
  });

  it("bluefield: SimpleUpdate keeps the whole BFB; the appended bf.cfg goes to the installer", async () => {
    const { bmc, backend } = await start("bluefield", "dpu-bfb");
    const cfg = "bfb_modify_os()\n{\n  echo seeded > /mnt/etc/hostname\n}\n";
    const bfb = Buffer.concat([makeBfb({ name: "bf-bundle-seeded", version: "9.9" }), Buffer.from(cfg)]);
    const added = await lab.images.addImage("seeded.bfb", bfb);
    const r = await rf(bmc, ca, "POST", "/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate", {
      body: { ImageURI: added.url, TransferProtocol: "HTTP" },
    });
    expect(r.status).toBe(202);
    await waitFor(() => (backend.installs.length === 1 ? true : undefined), "the BFB install");
    expect(backend.extras[0]).toEqual({ bfCfg: cfg });
    expect(backend.installs[0]).toMatchObject({
      kind: "bfb",
      label: "bf-bundle-seeded",
      sizeBytes: bfb.length,
    });
    expect(backend.installs[0]!.sha256).toBe(sha(bfb));
  });

  it("a BFB without an appendix carries no bf.cfg; a truncated one is still refused", async () => {
    const { bmc, backend } = await start("bluefield", "dpu-bfb-plain");
    const plain = lab.files.find((f) => f.kind === "bfb")!;
    await rf(bmc, ca, "POST", "/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate", {
      body: { ImageURI: plain.url, TransferProtocol: "HTTP" },
    });
    await waitFor(() => (backend.installs.length === 1 ? true : undefined), "the BFB install");
    expect(backend.extras[0]).toEqual({});
    const bytes = await readFile(join(lab.dir, "images", plain.name));
    expect(() => inspectImage(bytes.subarray(0, bytes.length - 1))).toThrow(/corrupt BFB/);
  });
});

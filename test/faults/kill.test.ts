import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { control, hostInputs, labImage } from "../../bench/lab";
import { setLogSink } from "../../provider/log";
import { closeAllPools } from "../../provider/redfish";
import { type DpuHostOutputs, dpuHost } from "../../provider/resources/dpu-host";
import { sshPool } from "../../provider/ssh";
import { type Lab, startLab } from "../../simulator";
import { labMissing, snap, until } from "./helpers";
import { type ProviderChildren, providerChildren, providerDistMissing } from "./provider-child";

let missing = labMissing("provider killed mid-create");
if (!missing && providerDistMissing()) {
  if (process.env.CI)
    throw new Error("provider killed mid-create: dist/ is missing; run `npm run build` first");
  missing = providerDistMissing();
}

describe.skipIf(missing !== undefined)(
  `provider killed mid-create${missing ? ` (skipped: ${missing})` : ""}`,
  () => {
    let lab: Lab;
    let children: ProviderChildren;
    let restore: () => void;

    beforeAll(async () => {
      restore = setLogSink(() => undefined);
      children = providerChildren();
      lab = await startLab({ count: 1, profile: "generic", bootTimeMs: 1500 });
    });
    afterAll(async () => {
      children?.close();
      restore?.();
      await sshPool.closeAll();
      await closeAllPools();
      await lab?.stop();
    });

    it("killed during the boot after the install: the re-run adopts the DPU, no second fetch or install", async () => {
      const image = "dpu-os-1.1.iso";
      const sha = labImage(lab.endpoints, image).sha256;
      const news = hostInputs(lab.endpoints, 0, image);
      const dpu = [...lab.dpus.values()][0]!;
      const child = children.start(news);
      await until(
        "the install to finish and the boot to be under way",
        () => snap(lab, 0).installedImage?.sha256 === sha && !dpu.backend.running(),
        30_000,
      );
      await children.kill9(child);
      const hostKey = dpu.hostKeyFingerprint();
      const hits = lab.imageHits(image);
      const outs = (await dpuHost.create!(news)).outs as DpuHostOutputs;
      expect(outs.osRelease.DPU_IMAGE_SHA256).toBe(sha);
      expect(lab.imageHits(image) - hits).toBe(1); // the provider's own verification download; the BMC fetched nothing
      expect(dpu.hostKeyFingerprint()).toBe(hostKey); // not reinstalled
      expect(outs.hostKeyFingerprint).toBe(hostKey);
      const s = snap(lab, 0);
      expect(s.media.inserted).toBe(false);
      expect(s.override.enabled).toBe("Disabled");
      // The re-run deleted the session the killed process left (provider/redfish/session-registry.ts) and
      // logged out of its own: none is left open.
      expect(s.activeSessions).toBe(0);
    });

    it("killed after inserting the media, before the reset: the re-run reflashes exactly once", async () => {
      const image = "dpu-os-2.0.iso";
      const sha = labImage(lab.endpoints, image).sha256;
      const news = hostInputs(lab.endpoints, 0, image);
      const dpu = [...lab.dpus.values()][0]!;
      const before = snap(lab, 0).installedImage?.sha256;
      const hostKey = dpu.hostKeyFingerprint();
      // A slow BMC widens the gap between InsertMedia and the reset.
      await control(lab.endpoints, `/bmc/${lab.endpoints.dpus[0]!.name}/faults`, { latencyMs: 150 });
      const child = children.start(news);
      await until(
        "the media to be inserted",
        () => snap(lab, 0).media.image?.includes(image) === true,
        30_000,
      );
      await children.kill9(child);
      await control(lab.endpoints, "/faults/clear");
      expect(snap(lab, 0).installedImage?.sha256).toBe(before); // killed before the reset: nothing installed
      expect(dpu.hostKeyFingerprint()).toBe(hostKey);
      const hits = lab.imageHits(image);
      const outs = (await dpuHost.create!(news)).outs as DpuHostOutputs;
      expect(outs.osRelease.DPU_IMAGE_SHA256).toBe(sha);
      // One verification download by the provider plus exactly one fetch by the BMC: one reflash.
      expect(lab.imageHits(image) - hits).toBe(2);
      expect(dpu.hostKeyFingerprint()).not.toBe(hostKey);
      const s = snap(lab, 0);
      expect(s.installedImage?.sha256).toBe(sha);
      expect(s.media.inserted).toBe(false);
      expect(s.override.enabled).toBe("Disabled");
    });
  },
);

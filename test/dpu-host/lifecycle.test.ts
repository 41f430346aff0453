import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setLogSink } from "../../provider/log";
import { closeAllPools } from "../../provider/redfish";
import { type DpuHostInputs, type DpuHostOutputs, dpuHost } from "../../provider/resources/dpu-host";
import { sshPool } from "../../provider/ssh";
import { type Lab, startLab } from "../../simulator";
import { image, inputsFor, inputsOf, labAvailable } from "./helpers";

const have = labAvailable();

interface Plan {
  readonly index: number;
  readonly profile: string;
  readonly first: { image: string; method?: "virtualMedia" | "uefiHttp" | "simpleUpdate"; expect: string };
  readonly second: { image: string; method?: "virtualMedia" | "uefiHttp" | "simpleUpdate"; expect: string };
}

// Generic, dell, bluefield, intel-ipu: every profile and every boot method is exercised. DPU 4 (generic) is
// the progress test's own, so that no test depends on what another left behind (log lines, installed images).
const PROFILES = ["generic", "dell", "bluefield", "intel-ipu", "generic"] as const;
const PLANS: Plan[] = [
  {
    index: 0,
    profile: "generic",
    first: { image: "dpu-os-1.1.iso", expect: "virtualMedia" },
    second: { image: "dpu-os-2.0.iso", method: "uefiHttp", expect: "uefiHttp" },
  },
  {
    index: 1,
    profile: "dell",
    first: { image: "dpu-os-1.1.iso", expect: "virtualMedia" },
    second: { image: "dpu-os-2.0.iso", expect: "virtualMedia" },
  },
  {
    index: 2,
    profile: "bluefield",
    first: { image: "bf-bundle-4.10.bfb", expect: "simpleUpdate" },
    second: { image: "dpu-os-2.0.iso", method: "uefiHttp", expect: "uefiHttp" },
  },
  {
    index: 3,
    profile: "intel-ipu",
    first: { image: "dpu-os-1.1.iso", expect: "virtualMedia" },
    second: { image: "dpu-os-2.0.iso", expect: "virtualMedia" },
  },
];

function withImage(
  base: DpuHostInputs,
  lab: Lab,
  name: string,
  method?: "virtualMedia" | "uefiHttp" | "simpleUpdate",
): DpuHostInputs {
  const img = image(lab.endpoints, name);
  const { method: _m, ...rest } = base.image;
  return { ...base, image: { ...rest, url: img.url, sha256: img.sha256, ...(method ? { method } : {}) } };
}

describe.skipIf(!have)("DpuHost lifecycle: every profile, every boot method", () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab({ count: PROFILES.length, profile: PROFILES, bootTimeMs: 400 });
  });
  afterAll(async () => {
    await sshPool.closeAll();
    await closeAllPools();
    await lab?.stop();
  });

  it.each(PLANS)(
    "$profile: create ($first.image) → read → no-op diff → update ($second.image) → read → delete",
    async (plan) => {
      const ep = lab.endpoints;
      const dpu = ep.dpus[plan.index]!;
      expect(dpu.profile).toBe(plan.profile);
      const bmc = lab.dpus.get(dpu.name)!.bmc;
      const news = withImage(
        inputsFor(ep, plan.index, plan.first.image),
        lab,
        plan.first.image,
        plan.first.method,
      );
      const created = await dpuHost.create!(news);
      const outs = created.outs as DpuHostOutputs;
      expect(created.id).toBe(`${new URL(dpu.bmc.url).origin}/redfish/v1/Systems/${dpu.bmc.systemId}`);
      expect(outs.installedImage).toMatchObject({
        url: news.image.url,
        sha256: news.image.sha256,
        method: plan.first.expect,
      });
      expect(outs.osRelease.DPU_IMAGE_SHA256).toBe(news.image.sha256);
      expect(outs.powerState).toBe("On");
      expect(outs.manufacturer).toBeTruthy();
      expect(outs.bmcFirmwareVersion).toBeTruthy();
      expect(outs.hostKeyFingerprint).toMatch(/^SHA256:/);
      expect(Object.keys(outs.macs)).toEqual(expect.arrayContaining(["oob_net0", "p0", "p1"]));
      expect(bmc.snapshot().media.inserted).toBe(false);
      expect(bmc.snapshot().override.enabled).toBe("Disabled");

      const read = await dpuHost.read!(created.id, outs);
      expect(read.id).toBe(created.id);
      const state = read.props as DpuHostOutputs;
      expect((await dpuHost.diff!(created.id, state, inputsOf(outs))).changes).toBe(false);

      const next = withImage(news, lab, plan.second.image, plan.second.method);
      const d2 = await dpuHost.diff!(created.id, state, next);
      expect(d2).toMatchObject({ changes: true, replaces: [] });
      const outs2 = (await dpuHost.update!(created.id, state, next)).outs as DpuHostOutputs;
      expect(outs2.installedImage).toMatchObject({ url: next.image.url, method: plan.second.expect });
      expect(outs2.osRelease.DPU_IMAGE_SHA256).toBe(next.image.sha256);
      expect(outs2.hostKeyFingerprint).not.toBe(outs.hostKeyFingerprint);
      const read2 = await dpuHost.read!(created.id, outs2);
      expect((await dpuHost.diff!(created.id, read2.props as DpuHostOutputs, next)).changes).toBe(false);

      await dpuHost.delete!(created.id, outs2);
      const after = bmc.snapshot();
      expect(after.powerState).toBe("On");
      expect(after.media.inserted).toBe(false);
      expect(after.override.enabled).toBe("Disabled");
    },
  );

  it("long waits reported progress with elapsed time and BootProgress", async () => {
    const index = PROFILES.length - 1;
    const news = withImage(inputsFor(lab.endpoints, index, "dpu-os-1.1.iso"), lab, "dpu-os-1.1.iso");
    const lines: string[] = [];
    const restore = setLogSink((_l, line) => lines.push(line));
    let created: Awaited<ReturnType<NonNullable<typeof dpuHost.create>>>;
    try {
      created = await dpuHost.create!(news);
    } finally {
      restore();
    }
    expect(
      lines.some((l) => /waiting for DPU .* to boot: \d+s elapsed, last: power \w+, BootProgress/.test(l)),
    ).toBe(true);
    await dpuHost.delete!(created.id, created.outs as DpuHostOutputs);
  });
});

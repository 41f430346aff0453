import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setLogSink } from "../../provider/log";
import { closeAllPools, RedfishClient } from "../../provider/redfish";
import { type DpuHostInputs, type DpuHostOutputs, dpuHost } from "../../provider/resources/dpu-host";
import { sshPool } from "../../provider/ssh";
import { type Lab, startLab } from "../../simulator";
import { control, image, inputsFor, inputsOf, labAvailable } from "./helpers";

const have = labAvailable();

function withImage(base: DpuHostInputs, lab: Lab, name: string): DpuHostInputs {
  const img = image(lab.endpoints, name);
  return { ...base, image: { ...base.image, url: img.url, sha256: img.sha256 } };
}

describe.skipIf(!have)("DpuHost faults, drift and resumption (simulator control API)", () => {
  let lab: Lab;
  let restore: () => void;
  const admin = (i: number) => {
    const d = lab.endpoints.dpus[i]!;
    return new RedfishClient({
      endpoint: d.bmc.url,
      username: d.bmc.username,
      password: d.bmc.password,
      caCert: readFileSync(d.bmc.caCertFile, "utf8"),
      auth: "basic",
    });
  };
  beforeAll(async () => {
    restore = setLogSink(() => undefined);
    // mixed: dpu-0 generic, dpu-1 dell, dpu-2 bluefield, dpu-3 intel-ipu
    lab = await startLab({ count: 4, profile: "mixed", bootTimeMs: 300 });
  });
  afterAll(async () => {
    restore?.();
    await sshPool.closeAll();
    await closeAllPools();
    await lab?.stop();
  });

  it("503 bursts, a TCP reset and an expired session mid-provision end in success; a re-run adopts without reflash", async () => {
    const ep = lab.endpoints;
    const name = ep.dpus[0]!.name;
    await control(ep, `/bmc/${name}/faults`, { fail503Count: 3, tcpResetCount: 1 });
    const news = inputsFor(ep, 0, "dpu-os-1.1.iso");
    const creating = dpuHost.create!(news);
    await new Promise((r) => setTimeout(r, 700));
    await control(ep, `/bmc/${name}/expire-sessions`);
    const outs = (await creating).outs as DpuHostOutputs;
    expect(outs.osRelease.DPU_IMAGE_SHA256).toBe(news.image.sha256);

    // "Provider killed after the flash": create again converges without a second reflash (same host key).
    const bmc = lab.dpus.get(name)!.bmc;
    const postsBefore = bmc.snapshot().requests.POST ?? 0;
    const again = (await dpuHost.create!(news)).outs as DpuHostOutputs;
    expect(again.hostKeyFingerprint).toBe(outs.hostKeyFingerprint);
    expect(again.installedImage?.sha256).toBe(news.image.sha256);
    const posts = (bmc.snapshot().requests.POST ?? 0) - postsBefore;
    expect(posts).toBeLessThanOrEqual(1); // at most the session login; no insert, no reset
  });

  it("drift: power off behind our back and another image booted show in read and diff", async () => {
    const ep = lab.endpoints;
    const news = inputsFor(ep, 1, "dpu-os-1.1.iso");
    const id = (await dpuHost.create!(news)).id;
    const outs = (await dpuHost.create!(news)).outs as DpuHostOutputs;
    // Another image booted (someone reprovisioned out of band).
    await dpuHost.create!(withImage(news, lab, "dpu-os-2.0.iso"));
    const seen = await dpuHost.read!(id, outs);
    const state = seen.props as DpuHostOutputs;
    expect(state.image.url).toMatch(/drift: SSH host key changed/);
    const d = await dpuHost.diff!(id, state, news);
    expect(d.changes).toBe(true);
    expect(d.replaces).toEqual([]);
    // Converge back, then power off behind our back.
    const fixed = (await dpuHost.update!(id, state, news)).outs as DpuHostOutputs;
    expect(fixed.osRelease.DPU_IMAGE_SHA256).toBe(news.image.sha256);
    const c = admin(1);
    await c.post(
      `/redfish/v1/Systems/${ep.dpus[1]!.bmc.systemId}/Actions/ComputerSystem.Reset`,
      { ResetType: "ForceOff" },
      { action: "test power off" },
    );
    await new Promise((r) => setTimeout(r, 300));
    const off = await dpuHost.read!(id, fixed);
    expect((off.inputs as DpuHostInputs).power).toBe("Off");
    const d2 = await dpuHost.diff!(id, off.props as DpuHostOutputs, inputsOf(fixed));
    expect(d2.changes).toBe(true);
    const on = (await dpuHost.update!(id, off.props as DpuHostOutputs, inputsOf(fixed)))
      .outs as DpuHostOutputs;
    expect(on.powerState).toBe("On");
    expect(on.installedImage?.sha256).toBe(news.image.sha256);
  });

  it("drift: media ejected behind our back (ejectAfterInstall false) shows in diff", async () => {
    const ep = lab.endpoints;
    const news = inputsFor(ep, 0, "dpu-os-1.1.iso", { ejectAfterInstall: false });
    const created = await dpuHost.create!(news);
    const outs = created.outs as DpuHostOutputs;
    expect(lab.dpus.get(ep.dpus[0]!.name)!.bmc.snapshot().media.inserted).toBe(true);
    const c = admin(0);
    const slot = outs.discovery.slotPath!;
    const vm = await c.get(slot, { action: "test read" });
    const eject = (vm.body.Actions as Record<string, { target: string }>)["#VirtualMedia.EjectMedia"]!.target;
    await c.post(eject, {}, { action: "test eject" });
    const seen = await dpuHost.read!(created.id, outs);
    expect((seen.inputs as DpuHostInputs).ejectAfterInstall).toBe(true);
    expect((await dpuHost.diff!(created.id, seen.props as DpuHostOutputs, news)).changes).toBe(true);
    await dpuHost.update!(created.id, seen.props as DpuHostOutputs, news);
    expect(lab.dpus.get(ep.dpus[0]!.name)!.bmc.snapshot().media.inserted).toBe(true);
    await dpuHost.delete!(created.id, outs);
    expect(lab.dpus.get(ep.dpus[0]!.name)!.bmc.snapshot().media.inserted).toBe(false);
  });

  it("wrong checksum and unreachable image fail before any hardware action", async () => {
    const ep = lab.endpoints;
    const bmc = lab.dpus.get(ep.dpus[0]!.name)!.bmc;
    const before = bmc.snapshot().requests;
    const bad = inputsFor(ep, 0, "dpu-os-1.1.iso");
    const wrong = { ...bad, image: { ...bad.image, sha256: "0".repeat(64) } };
    await expect(dpuHost.create!(wrong)).rejects.toThrow(
      /sha256 mismatch: expected 0{64}.*nothing was changed on the DPU/,
    );
    const missing = { ...bad, image: { ...bad.image, url: `${ep.images.baseUrl}/nope.iso` } };
    await expect(dpuHost.create!(missing)).rejects.toThrow(/HTTP 404; check image.url/);
    expect(bmc.snapshot().requests).toEqual(before);
  });

  it("a failing task (intel-ipu InsertMedia) is a clear error; a re-run converges", async () => {
    const ep = lab.endpoints;
    const name = ep.dpus[3]!.name;
    const news = inputsFor(ep, 3, "dpu-os-2.0.iso");
    await control(ep, `/bmc/${name}/faults`, { taskFailCount: 1 });
    await expect(dpuHost.create!(news)).rejects.toThrow(
      /insert virtual media .* on BMC https:\/\/127\.0\.0\.1:\d+: task .* ended in state Exception.*taskFailCount/,
    );
    const outs = (await dpuHost.create!(news)).outs as DpuHostOutputs;
    expect(outs.osRelease.DPU_IMAGE_SHA256).toBe(news.image.sha256);
  });

  it("a failing boot times out naming the last BootProgress; a re-run converges", async () => {
    const ep = lab.endpoints;
    const name = ep.dpus[2]!.name;
    const news = inputsFor(ep, 2, "bf-bundle-4.9.bfb", { readyTimeoutMs: 4000 });
    await control(ep, `/bmc/${name}/faults`, { bootFailCount: 1 });
    const err = (await dpuHost.create!(news).catch((e: unknown) => e)) as Error & {
      id?: string;
      properties?: unknown;
    };
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(/timed out after \d+s waiting for DPU Bluefield to boot.*BootProgress/);
    expect(err.id).toMatch(/\/redfish\/v1\/Systems\/Bluefield$/);
    const outs = (await dpuHost.create!({ ...news, ready: { ...news.ready, timeoutMs: 30_000 } }))
      .outs as DpuHostOutputs;
    expect(outs.osRelease.DPU_IMAGE_SHA256).toBe(news.image.sha256);
  });
});

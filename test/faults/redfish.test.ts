import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { control, hostInputs, labImage } from "../../bench/lab";
import { setLogSink } from "../../provider/log";
import { closeAllPools } from "../../provider/redfish";
import { type DpuHostInputs, type DpuHostOutputs, dpuHost } from "../../provider/resources/dpu-host";
import { sshPool } from "../../provider/ssh";
import { type Lab, startLab } from "../../simulator";
import { expectCleanBmc, labMissing, served, snap, until } from "./helpers";

const missing = labMissing("Redfish fault matrix");

// Fault matrix, BMC side. Every case asserts the exact outcome: success after retry, or a clear error, then a
// re-run that converges, with nothing left behind on the BMC (session, media, boot override) or in state.
describe.skipIf(missing !== undefined)(
  `Redfish fault matrix${missing ? ` (skipped: ${missing})` : ""}`,
  () => {
    let lab: Lab;
    let restore: () => void;
    let lines: string[] = [];
    const previousLevel = process.env.PULUMI_DPU_LOG;
    const sha = (name: string) => labImage(lab.endpoints, name).sha256;
    const create = async (i: DpuHostInputs) => (await dpuHost.create!(i)).outs as DpuHostOutputs;
    const fault = (index: number, body: Record<string, number>) =>
      control(lab.endpoints, `/bmc/${lab.endpoints.dpus[index]!.name}/faults`, body);

    beforeAll(async () => {
      process.env.PULUMI_DPU_LOG = "debug";
      restore = setLogSink((_l, line) => lines.push(line));
      // mixed: dpu-0 generic, dpu-1 dell, dpu-2 bluefield, dpu-3 intel-ipu
      lab = await startLab({ count: 4, profile: "mixed", bootTimeMs: 200 });
    });
    afterEach(async () => {
      await control(lab.endpoints, "/faults/clear");
      lines = [];
    });
    afterAll(async () => {
      restore?.();
      process.env.PULUMI_DPU_LOG = previousLevel;
      if (previousLevel === undefined) delete process.env.PULUMI_DPU_LOG;
      await sshPool.closeAll();
      await closeAllPools();
      await lab?.stop();
    });

    it("BMC 503 burst within the retry budget: provisioning succeeds after retries", async () => {
      await fault(0, { fail503Count: 3 });
      const outs = await create(hostInputs(lab.endpoints, 0, "dpu-os-1.1.iso"));
      expect(outs.osRelease.DPU_IMAGE_SHA256).toBe(sha("dpu-os-1.1.iso"));
      expect(lines.filter((l) => /HTTP 503.*retry \d in/.test(l))).toHaveLength(3);
      expectCleanBmc(lab, 0, sha("dpu-os-1.1.iso"));
    });

    it("BMC 503 burst beyond the retry budget: clear error, nothing changed; the re-run converges", async () => {
      const before = snap(lab, 0);
      await fault(0, { fail503Count: 50 });
      const news = hostInputs(lab.endpoints, 0, "dpu-os-2.0.iso", { retryAttempts: 2 });
      await expect(create(news)).rejects.toThrow(/HTTP 503.*ServiceTemporarilyUnavailable|503/);
      const after = snap(lab, 0);
      expect(after.installedImage).toEqual(before.installedImage);
      expect(after.media.inserted).toBe(false);
      expect(after.override.enabled).toBe("Disabled");
      await control(lab.endpoints, "/faults/clear");
      const outs = await create(news);
      expect(outs.osRelease.DPU_IMAGE_SHA256).toBe(sha("dpu-os-2.0.iso"));
      expectCleanBmc(lab, 0, sha("dpu-os-2.0.iso"));
    });

    it("session expiry mid-operation (during the boot wait): re-login, success, the new session logged out", async () => {
      const name = lab.endpoints.dpus[1]!.name;
      const target = sha("dpu-os-1.1.iso");
      // auto authenticates with Basic (issue 15): a session is what bmc.auth session asks for.
      const news = hostInputs(lab.endpoints, 1, "dpu-os-1.1.iso");
      const creating = create({ ...news, bmc: { ...news.bmc, auth: "session" } });
      await until("the reset (boot in progress)", () => snap(lab, 1).bootProgress.lastState !== "OSRunning");
      await control(lab.endpoints, `/bmc/${name}/expire-sessions`);
      const outs = await creating;
      expect(outs.osRelease.DPU_IMAGE_SHA256).toBe(target);
      expect(lines.some((l) => /session on .* expired or was ended; logging in again/.test(l))).toBe(true);
      expectCleanBmc(lab, 1, target);
    });

    it("412 concurrent modification of the system (ETag moved on): PATCH retried, success", async () => {
      const patches = snap(lab, 0).requests.PATCH ?? 0;
      await fault(0, { etagConflictCount: 1 });
      const outs = await create(hostInputs(lab.endpoints, 0, "dpu-os-1.1.iso"));
      expect(outs.osRelease.DPU_IMAGE_SHA256).toBe(sha("dpu-os-1.1.iso"));
      expect(lines.filter((l) => /PATCH .*HTTP 412 with If-Match/.test(l))).toHaveLength(1);
      // The boot-once PATCH went twice (412, then the next If-Match form); nothing else was patched again.
      expect((snap(lab, 0).requests.PATCH ?? 0) - patches).toBeGreaterThanOrEqual(2);
      expectCleanBmc(lab, 0, sha("dpu-os-1.1.iso"));
    });

    it("TCP reset: the connection is re-opened and the request retried, success", async () => {
      await fault(0, { tcpResetCount: 2 });
      const outs = await create(hostInputs(lab.endpoints, 0, "dpu-os-2.0.iso"));
      expect(outs.osRelease.DPU_IMAGE_SHA256).toBe(sha("dpu-os-2.0.iso"));
      expect(lines.filter((l) => /retry \d in/.test(l)).length).toBeGreaterThanOrEqual(2);
      expectCleanBmc(lab, 0, sha("dpu-os-2.0.iso"));
    });

    it("task slower than its timeout (intel-ipu InsertMedia): clear timeout error; the re-run converges", async () => {
      await fault(3, { taskDelayMs: 4000 });
      const base = hostInputs(lab.endpoints, 3, "dpu-os-1.1.iso");
      const slow = { ...base, image: { ...base.image, timeoutMs: 1500 } };
      const err = (await create(slow).catch((e: unknown) => e)) as Error & { id?: string };
      expect(err).toBeInstanceOf(Error);
      expect(err.message).toMatch(/timed out after \d+s waiting for .*task/i);
      // The task we stopped waiting for is cancelled, so it cannot insert behind the re-run's eject.
      expect(err.message).toMatch(/cancelled the task \(HTTP 204\)/);
      expect(err.id).toMatch(/\/redfish\/v1\/Systems\/1$/);
      expect(snap(lab, 3).installedImage?.sha256).toBe(sha("dpu-os-1.0.iso"));
      await control(lab.endpoints, "/faults/clear");
      const outs = await create(base);
      expect(outs.osRelease.DPU_IMAGE_SHA256).toBe(sha("dpu-os-1.1.iso"));
      expectCleanBmc(lab, 3, sha("dpu-os-1.1.iso"));
      // Past the old task's 4 s: it did not act late.
      await new Promise((r) => setTimeout(r, 4000));
      expectCleanBmc(lab, 3, sha("dpu-os-1.1.iso"));
    });

    it("failed boot: times out naming BootProgress, records a partial resource; the re-run converges", async () => {
      await fault(2, { bootFailCount: 1 });
      const news = hostInputs(lab.endpoints, 2, "bf-bundle-4.9.bfb", { readyTimeoutMs: 2500 });
      const err = (await create(news).catch((e: unknown) => e)) as Error & {
        id?: string;
        properties?: DpuHostOutputs;
      };
      expect(err).toBeInstanceOf(Error);
      expect(err.message).toMatch(/timed out after \d+s waiting for DPU Bluefield to boot.*BootProgress/);
      expect(err.id).toMatch(/\/redfish\/v1\/Systems\/Bluefield$/);
      expect(err.properties?.discovery.method).toBe("simpleUpdate");
      expect(snap(lab, 2).lastBootError).toMatch(/bootFailCount/);
      const outs = await create({ ...news, ready: { ...news.ready, timeoutMs: 30_000 } });
      expect(outs.osRelease.DPU_IMAGE_SHA256).toBe(sha("bf-bundle-4.9.bfb"));
      expect(snap(lab, 2).activeSessions).toBe(0);
      expect(snap(lab, 2).powerState).toBe("On");
    });

    it("image 404 and checksum mismatch: clear errors before any BMC request", async () => {
      const before = served(lab, 0);
      const news = hostInputs(lab.endpoints, 0, "dpu-os-1.1.iso");
      await expect(
        create({ ...news, image: { ...news.image, url: `${lab.endpoints.images.baseUrl}/missing.iso` } }),
      ).rejects.toThrow(/HTTP 404; check image.url/);
      await expect(create({ ...news, image: { ...news.image, sha256: "0".repeat(64) } })).rejects.toThrow(
        /sha256 mismatch: expected 0{64}.*nothing was changed on the DPU/,
      );
      expect(served(lab, 0)).toBe(before);
    });
  },
);

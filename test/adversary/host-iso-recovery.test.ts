import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dpuHost } from "../../provider";
import { keepsStartedBoot } from "../../provider/host/install-state";
import { setLogSink } from "../../provider/log";
import { closeAllPools } from "../../provider/redfish";
import type { DpuHostOutputs } from "../../provider/resources/dpu-host";
import type { SimBmc } from "../../simulator/contracts";
import { identity, loopbackStage } from "../seed/fixtures";
import { FakeBackend, preinstalled } from "../sim-bmc/fake-backend";
import { type Lab, PASS, sharedAvailable, startLab, USER } from "../sim-bmc/harness";
import { freePort } from "../stage/helpers";

/**
 * An install by virtual media or UEFI HTTP boot whose boot fails (the DPU stops before its OS while the BMC
 * answers) leaves a partial resource; the engine's next `up` calls update() with its outputs and the same inputs.
 * That update does not wait on the dead boot again (it would only time out again): it waits for the boot to
 * settle, sees it never reached the OS, and installs again (virtual media inserted again, boot-once override,
 * reset). The create's error says so. Driven through the public runtime; the BMC's own state is the witness.
 */
const SKIP = !sharedAvailable();
const IMAGE = "dpu-os-1.1.iso";

describe.skipIf(SKIP)("DpuHost: a failed ISO boot is installed again by the next up", () => {
  let lab: Lab;
  let restore: (() => void) | undefined;
  let logs: string[] = [];
  const bmc = async (): Promise<{ b: SimBmc; backend: FakeBackend }> => {
    const backend = new FakeBackend(`iso-rec-${Date.now()}-${Math.random()}`, preinstalled());
    const { bmc: b } = await lab.bmc("generic", { backend, bootTimeMs: 600 });
    await b.powerOnAndWait();
    // BootProgress.LastStateTime has whole seconds: the install's boot must start in a later second than the OS
    // boot above, or the BMC could not tell the two apart (the resume then resets instead of waiting on a boot).
    await new Promise((r) => setTimeout(r, 1_100));
    return { b, backend };
  };

  beforeAll(async () => {
    lab = await startLab();
    restore = setLogSink((_level, line) => logs.push(line));
  }, 60_000);
  afterAll(async () => {
    restore?.();
    await closeAllPools();
    await lab?.close();
  });

  for (const method of ["virtualMedia", "uefiHttp"] as const) {
    it(`${method}: the boot fails before the OS; the error says the next up installs again, update() does and converges`, async () => {
      const { b, backend } = await bmc();
      const checked = await dpuHost.check?.(
        {},
        {
          bmc: {
            endpoint: b.url,
            username: USER,
            password: PASS,
            caCert: lab.pki.caPem,
            retryBaseDelayMs: 10,
          },
          image: { url: lab.url(IMAGE), method, timeoutMs: 8_000 },
          ready: { timeoutMs: 3_000 },
        },
      );
      expect(checked?.failures ?? []).toEqual([]);
      const inputs = checked?.inputs;
      b.setFaults({ bootFailCount: 1 });
      const err = (await dpuHost.create?.(inputs).catch((e: unknown) => e)) as Error & {
        id?: string;
        properties?: DpuHostOutputs;
      };
      expect(err).toBeInstanceOf(Error);
      expect(typeof err.id).toBe("string");
      expect(err.properties?.installPending).toMatchObject({ method, stage: "booting" });
      expect(err.message).toMatch(/the next `pulumi up` installs again .* instead of waiting on this boot/);
      // The BMC's own word: the boot stopped before the OS, and the DPU stays there (BMC up, no OS).
      expect(b.snapshot().lastBootError).toMatch(/bootFailCount/);
      expect(b.snapshot().bootProgress.lastState).not.toBe("OSRunning");
      const installsBefore = backend.installs.length;

      logs = [];
      const updated = await dpuHost.update?.(err.id as string, err.properties as DpuHostOutputs, inputs);
      const log = logs.join("\n");
      expect(log).toMatch(new RegExp(`the ${method} install the last run started did not bring the DPU up`));
      expect(log).toMatch(new RegExp(`provisioning system .* via ${method}`));
      const outs = updated?.outs as DpuHostOutputs;
      expect(outs.installPending).toBeUndefined();
      expect(outs.installedImage?.method).toBe(method);
      // Independent of our state: the BMC booted the image (the DPU's disk now holds it) and the OS runs.
      const snap = b.snapshot();
      expect(snap.bootProgress.lastState).toBe("OSRunning");
      expect(backend.installs.length).toBeGreaterThan(installsBefore);
      expect(backend.installs.at(-1)?.url).toBe(lab.url(IMAGE));
      expect(snap.override.enabled).toBe("Disabled");
    }, 40_000);
  }

  it("an OS that boots but never answers SSH: the next up installs again instead of waiting on that boot", async () => {
    const { b, backend } = await bmc();
    // An SSH address nobody listens on (a port just freed), with an OpenSSH key the probe would use.
    const dir = mkdtempSync(join(tmpdir(), "iso-rec-key-"));
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "k")]);
    const privateKey = readFileSync(join(dir, "k"), "utf8");
    rmSync(dir, { recursive: true, force: true });
    const checked = await dpuHost.check?.(
      {},
      {
        bmc: { endpoint: b.url, username: USER, password: PASS, caCert: lab.pki.caPem, retryBaseDelayMs: 10 },
        image: { url: lab.url(IMAGE), method: "virtualMedia", timeoutMs: 8_000 },
        ready: { timeoutMs: 3_000, ssh: { host: "127.0.0.1", port: await freePort(), privateKey } },
        identity: { ...identity({ hostname: "dpu-ssh.lab" }), hostKey: "generate" },
        stage: loopbackStage(await freePort()),
      },
    );
    expect(checked?.failures ?? []).toEqual([]);
    const inputs = checked?.inputs;
    const err = (await dpuHost.create?.(inputs).catch((e: unknown) => e)) as Error & {
      id?: string;
      properties?: DpuHostOutputs;
    };
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(/SSH on 127\.0\.0\.1/);
    expect(err.message).toMatch(/the next `pulumi up` installs again/);
    // The BMC says the DPU reached its OS: the boot itself is done, only SSH never answered.
    expect(b.snapshot().bootProgress.lastState).toBe("OSRunning");
    expect(err.properties?.installPending?.failedBootTime).toEqual(expect.any(String));
    const installsBefore = backend.installs.length;

    logs = [];
    const again = (await dpuHost
      .update?.(err.id as string, err.properties as DpuHostOutputs, inputs)
      .catch((e: unknown) => e)) as Error;
    // SSH still does not answer; what matters is that this up installed again rather than wait on the dead boot.
    expect(again).toBeInstanceOf(Error);
    expect(logs.join("\n")).toMatch(/the virtualMedia install the last run started did not bring the DPU up/);
    expect(backend.installs.length).toBeGreaterThan(installsBefore);
  }, 40_000);
});

describe("keepsStartedBoot: which boot a resumed install waits on", () => {
  it("keeps only a boot that reached the OS and is not the one already seen failing", () => {
    expect(keepsStartedBoot({}, { bootProgress: "OSRunning", bootProgressTime: "t2" })).toBe(true);
    expect(keepsStartedBoot({}, { bootProgress: "SystemHardwareInitializationComplete" })).toBe(false);
    expect(keepsStartedBoot({}, {})).toBe(false);
    expect(
      keepsStartedBoot({ failedBootTime: "t2" }, { bootProgress: "OsIsRunning", bootProgressTime: "t2" }),
    ).toBe(false);
    expect(
      keepsStartedBoot({ failedBootTime: "t2" }, { bootProgress: "OSRunning", bootProgressTime: "t3" }),
    ).toBe(true);
  });
});

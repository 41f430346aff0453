import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dpuHost } from "../../provider";
import { closeAllPools } from "../../provider/redfish";
import type { DpuHostOutputs } from "../../provider/resources/dpu-host";
import { type Lab, startLab } from "../../simulator";
import { inputsFor } from "../dpu-host/helpers";
import { sharedAvailable } from "../sim-bmc/harness";
import { skipLab } from "../sim-lab/helpers";

/**
 * DpuHost on BMCs that show no BootProgress, with real DPU OSes behind them (issue 13, item 2): the boot is
 * proved over SSH, which must see the requested image, not the old OS still answering before the reset took
 * effect. Small labs (a few DPUs each), created through the public runtime.
 */
const SKIP = skipLab() || !sharedAvailable();

type Created = { id: string; outs: DpuHostOutputs };

async function create(lab: Lab, index: number, image: string): Promise<Created> {
  const inputs = inputsFor(lab.endpoints, index, image, { readyTimeoutMs: 60_000 });
  const checked = await dpuHost.check?.({}, inputs);
  expect(checked?.failures ?? []).toEqual([]);
  return (await dpuHost.create?.(checked?.inputs)) as Created;
}

describe.skipIf(SKIP)("DpuHost with ready.ssh on capture and quirk profiles (lab)", () => {
  let tower: Lab;
  let emulator: Lab;
  beforeAll(async () => {
    tower = await startLab({ count: 2, profile: "capture-tower", bootTimeMs: 300 });
    emulator = await startLab({ count: 1, profile: "quirk-emulator", bootTimeMs: 300 });
  }, 180_000);
  afterAll(async () => {
    await closeAllPools();
    await tower?.stop();
    await emulator?.stop();
  });

  it("capture-tower (media under the manager by PATCH, no BootProgress): two DPUs installed at once, each boot proved over SSH", async () => {
    const [a, b] = await Promise.all([
      create(tower, 0, "dpu-os-1.1.iso"),
      create(tower, 1, "dpu-os-2.0.iso"),
    ]);
    for (const [c, want] of [
      [a, "dpu-os-1.1.iso"],
      [b, "dpu-os-2.0.iso"],
    ] as const) {
      expect(c.outs.discovery.bootProgressSupported).toBe(false);
      expect(c.outs.installedImage?.observedBy).toBe("ssh");
      const img = tower.endpoints.images.files.find((f) => f.name === want);
      expect(c.outs.installedImage?.sha256).toBe(img?.sha256);
      expect(c.outs.hostKeyFingerprint).toMatch(/^SHA256:/);
    }
    // Media ejected only after the boot was seen; nothing left behind.
    for (const d of tower.dpus.values()) expect(d.bmc.snapshot().media.inserted).toBe(false);
  }, 180_000);

  it("emulator-like (no SessionService, power applied 1-10 s late, override always Continuous): default auth works, SSH waits for the new image, the Continuous Cd override it set is cleared", async () => {
    const c = await create(emulator, 0, "dpu-os-1.1.iso");
    expect(c.outs.installedImage?.observedBy).toBe("ssh");
    expect(c.outs.osRelease.IMAGE_ID ?? c.outs.osRelease.VERSION_ID).toMatch(/1\.1|1_1/);
    const snap = [...emulator.dpus.values()][0]?.bmc.snapshot();
    expect(snap?.installedImage?.label).toBe("DPUOS_1_1");
    expect(snap?.override.target).not.toBe("Cd");
    expect(snap?.activeSessions).toBe(0);
  }, 180_000);
});

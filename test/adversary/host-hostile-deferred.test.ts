import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dpuHost } from "../../provider";
import { setLogSink } from "../../provider/log";
import { closeAllPools } from "../../provider/redfish";
import type { DpuHostOutputs } from "../../provider/resources/dpu-host";
import { type Lab, rf, sharedAvailable, startLab, waitFor } from "../sim-bmc/harness";
import { bfbHostProps, bfbVersion, poweredBmc } from "./bluefield-sim";

/**
 * Hostile sequences around a deferred update (image.applyTime OnReset, activate nextReset): an immediate install
 * over a staged, never activated one, and delete while one is staged. Oracle: the BMC's own FirmwareInventory
 * (DPU_OS version, the staged member) after a reset by the operator.
 */
const SKIP = !sharedAvailable();
const INVENTORY = "/redfish/v1/UpdateService/FirmwareInventory";
const RESET = "/redfish/v1/Systems/Bluefield/Actions/ComputerSystem.Reset";

describe.skipIf(SKIP)("DpuHost: hostile sequences around a staged update", () => {
  let lab: Lab;
  let restore: (() => void) | undefined;
  const logs: string[] = [];
  beforeAll(async () => {
    lab = await startLab();
    restore = setLogSink((_level, line) => logs.push(line));
  }, 60_000);
  afterAll(async () => {
    restore?.();
    await closeAllPools();
    await lab?.close();
  });
  const checked = async (props: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const c = await dpuHost.check?.({}, props);
    expect(c?.failures ?? []).toEqual([]);
    return c?.inputs as Record<string, unknown>;
  };

  it("an Immediate install over a staged, never activated update: the operator's next reset keeps the Immediate image", async () => {
    const b = await poweredBmc(lab, "over", "quirk-bluefield-new");
    const os = async (): Promise<unknown> =>
      (await rf(b, lab.pki.caPem, "GET", `${INVENTORY}/DPU_OS`)).json.Version;
    const staged = (await dpuHost.create?.(
      await checked(bfbHostProps(lab, b, "bf-bundle-4.10.bfb", { applyTime: "OnReset" })),
    )) as { id: string; outs: DpuHostOutputs };
    expect(staged.outs.pendingActivation?.url).toBe(lab.url("bf-bundle-4.10.bfb"));
    const now = (
      await dpuHost.update?.(staged.id, staged.outs, await checked(bfbHostProps(lab, b, "bf-bundle-4.9.bfb")))
    )?.outs as DpuHostOutputs;
    expect(now.pendingActivation).toBeUndefined();
    expect(await os()).toBe(bfbVersion(lab, "bf-bundle-4.9.bfb"));
    expect(
      (await rf(b, lab.pki.caPem, "POST", RESET, { body: { ResetType: "ForceRestart" } })).status,
    ).toBeLessThan(300);
    await waitFor(
      async () =>
        JSON.stringify(
          (await rf(b, lab.pki.caPem, "GET", "/redfish/v1/Systems/Bluefield")).json.BootProgress,
        ).includes("OsIsRunning"),
      "the DPU back in its OS",
    );
    expect(await os()).toBe(bfbVersion(lab, "bf-bundle-4.9.bfb"));
  }, 60_000);

  it("delete while an update is staged and not activated: delete says the BMC still holds it and that the next reset installs it", async () => {
    const b = await poweredBmc(lab, "delstaged", "quirk-bluefield-new");
    const staged = (await dpuHost.create?.(
      await checked(bfbHostProps(lab, b, "bf-bundle-4.10.bfb", { applyTime: "OnReset" })),
    )) as { id: string; outs: DpuHostOutputs };
    expect(staged.outs.pendingActivation).toBeDefined();
    logs.length = 0;
    await dpuHost.delete?.(staged.id, staged.outs);
    const said = logs.join("\n");
    expect(said).toContain(lab.url("bf-bundle-4.10.bfb"));
    expect(said).toMatch(/still holds .* staged.*next reset/);
  }, 60_000);
});

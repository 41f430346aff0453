import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dpuHost } from "../../provider";
import { setLogSink } from "../../provider/log";
import { closeAllPools } from "../../provider/redfish";
import type { SimBmc } from "../../simulator/contracts";
import { FakeBackend, preinstalled } from "../sim-bmc/fake-backend";
import { type Lab, PASS, sharedAvailable, startLab, USER, waitFor } from "../sim-bmc/harness";

/**
 * A Redfish task we stop waiting for must not act behind us (DSP0266: DELETE on its task monitor cancels it). The
 * hostile case here: the connection drops while DpuHost polls the task (a BMC's network blip), not a timeout.
 * Oracle: the BMC's own media state after the task's delay has passed.
 */
const SKIP = !sharedAvailable();
const ISO = "dpu-os-1.1.iso";

describe.skipIf(SKIP)("DpuHost: a Redfish task whose polling is cut off", () => {
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

  it("intel-ipu InsertMedia task: a dropped connection while polling it leaves no insert landing behind the run", async () => {
    const { bmc } = await lab.bmc("intel-ipu", {
      backend: new FakeBackend(`task-${Date.now()}`, preinstalled()),
      bootTimeMs: 300,
    });
    await bmc.powerOnAndWait();
    const delay = 2_500;
    bmc.setFaults({ taskDelayMs: delay });
    const c = await dpuHost.check?.(
      {},
      {
        bmc: {
          endpoint: bmc.url,
          username: USER,
          password: PASS,
          caCert: lab.pki.caPem,
          retryBaseDelayMs: 10,
        },
        image: { url: lab.url(ISO), timeoutMs: 8_000 },
        ready: { timeoutMs: 8_000 },
      },
    );
    expect(c?.failures ?? []).toEqual([]);
    const posts = (b: SimBmc) => b.snapshot().requests.POST ?? 0;
    const before = posts(bmc);
    const creating = dpuHost.create?.(c?.inputs).then(
      () => undefined,
      (e: unknown) => e,
    );
    // Once InsertMedia is in (its task running), the next request's connection drops: a task poll.
    await waitFor(() => posts(bmc) > before, "InsertMedia sent", 8_000);
    bmc.setFaults({ tcpResetCount: 1 });
    const outcome = await creating;
    // Either the wait survived the blip (the install went on) or the run failed and the task was cancelled:
    // past the task's delay, nothing inserted behind a failed run.
    await new Promise((r) => setTimeout(r, delay + 500));
    if (outcome instanceof Error) {
      expect(bmc.snapshot().media.inserted).toBe(false);
    } else {
      expect(bmc.snapshot().installedImage?.sha256).toBe(lab.files.find((f) => f.name === ISO)?.sha256);
    }
  }, 60_000);
});

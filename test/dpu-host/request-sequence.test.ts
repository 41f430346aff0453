import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { portOf, splitAtReset, startRequestLog } from "../../bench/request-log";
import { createDpuHostProvider } from "../../provider";
import { setLogSink } from "../../provider/log";
import { closeAllPools, RequestCounter } from "../../provider/redfish";
import type { DpuHostOutputs } from "../../provider/resources/dpu-host";
import { sshPool } from "../../provider/ssh";
import type { SshSession, SshTarget } from "../../provider/ssh/types";
import { type Lab, startLab } from "../../simulator";
import { CountingConnector } from "../ssh/counting-connector";
import { inputsFor, labAvailable } from "./helpers";

/** The shared counting connector, noting when each SSH session is asked for. */
class TimedConnector extends CountingConnector {
  readonly at: number[] = [];
  override session(target: SshTarget): Promise<SshSession> {
    this.at.push(performance.now());
    return super.session(target);
  }
}

const have = labAvailable();

const SYS = "/redfish/v1/Systems/1";
const SLOT = "/redfish/v1/Managers/BMC/VirtualMedia/CD1";

/**
 * The Redfish requests DpuHost sends before the boot wait (up to and including the reset) on the generic
 * profile, counted by the BMC, named one by one so that any request added back shows here (issue 15: targets
 * ≤ 6 on a fresh BMC, ≤ 3 on re-image). Authentication is HTTP Basic (no session login; DSP0266 §13.3 requires
 * services to support it), and the service root is read only when its answer is needed.
 */
const FRESH = [
  "GET /redfish/v1/Systems?$expand=.($levels=1)", // DSP0266's Systems URI, the systems with their bodies
  "GET /redfish/v1/Managers/BMC", // the system links no virtual media: its manager does
  "GET /redfish/v1/Managers/BMC/VirtualMedia?$expand=.($levels=1)", // the slots with their bodies
  `POST ${SLOT}/Actions/VirtualMedia.InsertMedia`, // the slot was empty: no eject
  `PATCH ${SYS}`, // one-time boot override; the answer carries the system (power state, BootProgress)
  `POST ${SYS}/Actions/ComputerSystem.Reset`,
];
/** Right after the reset: the slot is read once, the evidence that the image was in it (no GET before). */
const AFTER_RESET = `GET ${SLOT}`;
/** Re-image (update to another image): the targets kept in state; nothing is read before the reset. */
const REIMAGE = [
  `POST ${SLOT}/Actions/VirtualMedia.InsertMedia`,
  `PATCH ${SYS}`,
  `POST ${SYS}/Actions/ComputerSystem.Reset`,
];

describe.skipIf(!have)("DpuHost: the requests before the boot wait (generic profile)", () => {
  let lab: Lab;
  let restore: () => void;
  beforeAll(async () => {
    restore = setLogSink(() => undefined);
    lab = await startLab({ count: 1, profile: "generic", bootTimeMs: 300 });
  });
  afterAll(async () => {
    restore?.();
    await sshPool.closeAll();
    await closeAllPools();
    await lab?.stop();
  });

  it("create sends exactly the listed requests up to the reset (≤ 6), re-image ≤ 3 from state, the slot read right after the reset, and no SSH probe of the old OS", async () => {
    const log = startRequestLog();
    // Injected transports, no patching of the shared pool: SSH through a timed counting connector, Redfish
    // through a counting layer checked against what the BMC's HTTP server saw.
    const ssh = new TimedConnector(sshPool);
    const counter = new RequestCounter();
    const dpuHost = createDpuHostProvider({ ssh, redfish: { layers: [counter.layer] } });
    const sshAt = ssh.at;
    try {
      const ep = lab.endpoints;
      const port = portOf(ep.dpus[0]!.bmc.url);
      const t0 = performance.now();
      const created = await dpuHost.create!(inputsFor(ep, 0, "dpu-os-1.1.iso"));
      const t1 = performance.now();
      await dpuHost.update!(created.id, created.outs as DpuHostOutputs, inputsFor(ep, 0, "dpu-os-2.0.iso"));
      const t2 = performance.now();
      const seq = (from: number, to: number) => {
        const reqs = log.forPort(port, from, to);
        return reqs.slice(0, splitAtReset(reqs).beforeBootWait + 1).map((r) => `${r.method} ${r.path}`);
      };
      expect(seq(t0, t1)).toEqual([...FRESH, AFTER_RESET]);
      expect(seq(t1, t2)).toEqual([...REIMAGE, AFTER_RESET]);
      // The state says the DPU runs another image: the old OS is not probed over SSH before the reset; the new
      // one is, after it (ready.ssh).
      const resetAt = splitAtReset(log.forPort(port, t1, t2)).resetAt ?? t2;
      expect(sshAt.filter((t) => t >= t1 && t < resetAt)).toEqual([]);
      expect(sshAt.filter((t) => t >= resetAt && t <= t2).length).toBeGreaterThan(0);
      expect(ssh.trips).toBeGreaterThan(0);
      // Every request the provider sent went through its injected layer, and only those reached the BMC.
      expect(counter.total).toBe(log.forPort(port, t0, t2).length);
    } finally {
      log.stop();
    }
  });
});

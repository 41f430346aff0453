import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { portOf, startRequestLog } from "../../bench/request-log";
import { createDpuHostProvider, dpuHost } from "../../provider";
import { setLogSink } from "../../provider/log";
import { closeAllPools, RequestCounter } from "../../provider/redfish";
import { sshPool } from "../../provider/ssh";
import { type Lab, startLab } from "../../simulator";
import { inputsFor, labAvailable } from "../dpu-host/helpers";
import { CountingConnector } from "../ssh/counting-connector";

const have = labAvailable();

/**
 * DpuHost has the shape of DpuUnderlay and DpuWorkload: a factory taking its transports. Two instances run at
 * the same time in one process, as a bench or a host program embedding the provider would, and each sees only
 * its own traffic: the reference is what each BMC's HTTP server saw, not the provider's own count.
 */
describe.skipIf(!have)("DpuHost provider instances: injected transports stay with their instance", () => {
  let lab: Lab;
  let restore: () => void;
  beforeAll(async () => {
    restore = setLogSink(() => undefined);
    lab = await startLab({ count: 2, profile: "generic", bootTimeMs: 300 });
  });
  afterAll(async () => {
    restore?.();
    await sshPool.closeAll();
    await closeAllPools();
    await lab?.stop();
  });

  it("two concurrent creates count exactly their own BMC's requests and SSH round trips; the default instance counts nowhere", async () => {
    const ep = lab.endpoints;
    const log = startRequestLog();
    try {
      const [ra, rb] = [new RequestCounter(), new RequestCounter()];
      const [sa, sb] = [new CountingConnector(sshPool), new CountingConnector(sshPool)];
      const a = createDpuHostProvider({ ssh: sa, redfish: { layers: [ra.layer] } });
      const b = createDpuHostProvider({ ssh: sb, redfish: { layers: [rb.layer] } });
      const t0 = performance.now();
      await Promise.all([
        a.create!(inputsFor(ep, 0, "dpu-os-1.1.iso")),
        b.create!(inputsFor(ep, 1, "dpu-os-1.1.iso", { ssh: false })),
      ]);
      const t1 = performance.now();
      const served = (i: number) => log.forPort(portOf(ep.dpus[i]!.bmc.url), t0, t1).length;
      expect(served(0)).toBeGreaterThan(0);
      expect(served(1)).toBeGreaterThan(0);
      expect(ra.total).toBe(served(0));
      expect(rb.total).toBe(served(1));
      // ready.ssh only on DPU 0: its probe went through A's connector, B's saw none.
      expect(sa.trips).toBeGreaterThan(0);
      expect(sb.trips).toBe(0);

      // The default instance (built by the same factory) uses the plain transports: nothing counted above moves.
      const before = [ra.total, rb.total, sa.trips, sb.trips];
      const created = await dpuHost.create!(inputsFor(ep, 1, "dpu-os-2.0.iso", { ssh: false }));
      expect(created.id).toContain(new URL(ep.dpus[1]!.bmc.url).origin);
      expect([ra.total, rb.total, sa.trips, sb.trips]).toEqual(before);
    } finally {
      log.stop();
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createFleet,
  type FleetEntry,
  type FleetProviders,
  fleetProviders,
  refreshFleet,
} from "../../bench/fleet";
import { control, labState } from "../../bench/lab";
import { setLogSink } from "../../provider/log";
import { closeAllPools } from "../../provider/redfish";
import { sshPool } from "../../provider/ssh";
import { type LightLab, startLightLab } from "../../simulator";
import { labMissing } from "./helpers";

const missing = labMissing("200-DPU load test");
const N = 200;
const GROUP = 10;

// 200 DPUs × 3 resources = 600 reads; 30 of them (5%) meet a transient fault: 10 BMCs answer 503 once, 10 BMCs
// reset the TCP connection once, and every SSH connection of one group of 10 DPUs is cut.
describe.skipIf(missing !== undefined)(`load${missing ? ` (skipped: ${missing})` : ""}`, () => {
  let lab: LightLab;
  let fp: FleetProviders;
  let entries: FleetEntry[];
  let restore: () => void;

  beforeAll(async () => {
    restore = setLogSink(() => undefined);
    lab = await startLightLab({ count: N, groupSize: GROUP });
    fp = fleetProviders();
    entries = await createFleet(
      lab.endpoints,
      Array.from({ length: N }, (_, i) => i),
      (i) => lab.dataPorts(i),
      fp,
      64,
      { hostSsh: false, cheap: true },
    );
  }, 240_000);
  afterAll(async () => {
    restore?.();
    await fp?.close();
    await closeAllPools();
    await lab?.stop();
  });

  it("a 200-DPU refresh with 5% injected transient errors completes with 0 failures and 0 drift", async () => {
    const names = lab.endpoints.dpus.map((d) => d.name);
    const faulty503 = names.filter((_, i) => i % 20 === 3); // 10 BMCs
    const faultyReset = names.filter((_, i) => i % 20 === 13); // 10 BMCs
    for (const n of faulty503) await control(lab.endpoints, `/bmc/${n}/faults`, { fail503Count: 1 });
    for (const n of faultyReset) await control(lab.endpoints, `/bmc/${n}/faults`, { tcpResetCount: 1 });
    const served = async () =>
      new Map(
        (await labState(lab.endpoints)).map((d) => [
          d.name,
          Object.values(d.bmc.requests).reduce((a, b) => a + b, 0),
        ]),
      );
    const before = await served();
    const dials = sshPool.dials;
    await lab.dropSshConnections(7); // DPUs 70..79
    const r = await refreshFleet(lab.endpoints, entries, fp, 64);
    console.log(`200-DPU refresh with faults: ${JSON.stringify(r)}`);
    expect(r.reads).toBe(600);
    expect(r.failures).toBe(0);
    expect(r.drifted).toBe(0);
    const after = await served();
    for (const n of names) {
      const faulted = faulty503.includes(n) || faultyReset.includes(n);
      // A DpuHost read is 2 requests (the system, and the firmware inventory in one $expand: issue 17), plus the
      // one retry of a faulted BMC.
      expect(`${n}:${after.get(n)! - before.get(n)!}`).toBe(`${n}:${faulted ? 3 : 2}`);
    }
    expect(sshPool.dials - dials).toBeGreaterThanOrEqual(GROUP); // the cut connections were dialled again
    expect(r.sshPerRead.underlay).toBe(1);
    expect(r.sshPerRead.workload).toBe(1);
  }, 120_000);
});

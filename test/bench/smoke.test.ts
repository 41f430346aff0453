import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { benchDpuHostRequests, DPU_HOST_REQUEST_TARGETS } from "../../bench/dpu-host-requests";
import {
  createFleet,
  type FleetEntry,
  type FleetProviders,
  fleetProviders,
  refreshFleet,
} from "../../bench/fleet";
import { benchHostOverhead } from "../../bench/host-overhead";
import { benchProvisionOverhead } from "../../bench/provision-overhead";
import { fleetMarkdown, hostMarkdown, perResourceMarkdown, provisionMarkdown } from "../../bench/report";
import { sshVsOpensshMarkdown } from "../../bench/report-scale";
import { benchSshVsOpenssh, OPENSSH_RATIO_TARGET } from "../../bench/ssh-vs-openssh";
import { setLogSink } from "../../provider/log";
import { closeAllPools } from "../../provider/redfish";
import { type LightLab, startLightLab } from "../../simulator";
import { unavailable } from "../capabilities";

const missing = unavailable("bench smoke", "lab");
const built = unavailable("bench smoke (plugin host)", "dist") === undefined;

// The benchmarks at tiny N, so `npm run bench` keeps working: the same code paths, the targets asserted.
describe.skipIf(missing !== undefined)(`benchmarks, tiny N${missing ? ` (skipped: ${missing})` : ""}`, () => {
  let lab: LightLab;
  let fp: FleetProviders;
  let entries: FleetEntry[];
  let restore: () => void;
  beforeAll(async () => {
    restore = setLogSink(() => undefined);
    lab = await startLightLab({ count: 3, groupSize: 2 });
    fp = fleetProviders();
    entries = await createFleet(lab.endpoints, [0, 1, 2], (i) => lab.dataPorts(i), fp, 3);
  });
  afterAll(async () => {
    restore?.();
    await fp?.close();
    await closeAllPools();
    await lab?.stop();
  });

  it("fleet refresh: ≤ 2 Redfish requests per DpuHost read, 1 SSH round trip per underlay and workload read", async () => {
    const cold = await refreshFleet(lab.endpoints, entries, fp, 8);
    const warm = await refreshFleet(lab.endpoints, entries, fp, 8);
    for (const r of [cold, warm]) {
      expect(r.reads).toBe(9);
      expect(r.failures).toBe(0);
      expect(r.drifted).toBe(0);
      expect(r.redfishPerHostRead).toBeLessThanOrEqual(2);
      expect(r.sshPerRead.underlay).toBe(1);
      expect(r.sshPerRead.workload).toBe(1);
    }
    const md = fleetMarkdown([
      {
        dpus: 3,
        groups: 2,
        simStartMs: 0,
        createMs: 0,
        cold,
        warm,
        warmRounds: [warm],
        peakRssMb: 1,
        cpuMs: { user: 1, system: 1 },
        concurrency: 8,
        limits: [],
      },
    ]);
    expect(md).toContain("| 3 | 9 |");
  });

  it("DpuHost (generic profile, counted by the BMC): the request targets of issue 15, ≤ 2 per read, ≤ 6 before the boot wait on a fresh BMC, ≤ 3 on re-image", async () => {
    const r = await benchDpuHostRequests();
    expect(r.requestsPerRead).toBeGreaterThan(0);
    expect(r.requestsPerRead).toBeLessThanOrEqual(DPU_HOST_REQUEST_TARGETS.perRead);
    expect(r.createBeforeBootWait).toBeGreaterThan(0);
    expect(r.createBeforeBootWait).toBeLessThanOrEqual(DPU_HOST_REQUEST_TARGETS.freshBeforeBootWait);
    expect(r.reimageBeforeBootWait).toBeGreaterThan(0);
    expect(r.reimageBeforeBootWait).toBeLessThanOrEqual(DPU_HOST_REQUEST_TARGETS.reimageBeforeBootWait);
    const md = perResourceMarkdown({ host: r, underlay: {}, workload: {} });
    expect(md).toContain(`before the boot wait ${r.createBeforeBootWait} (target ≤ 6: ✅ met)`);
    expect(md).toContain(`before the boot wait ${r.reimageBeforeBootWait} (target ≤ 3: ✅ met)`);
  });

  it("warm SSH reads: 1 round trip each, within 1.2× of the same command over an OpenSSH ControlMaster", async () => {
    const r = await benchSshVsOpenssh(12);
    for (const x of [r.underlay, r.workload]) {
      expect(x.roundTripsPerRead).toBe(1);
      expect(x.ratio).toBeLessThanOrEqual(OPENSSH_RATIO_TARGET);
    }
    expect(sshVsOpensshMarkdown(r)).toContain("DpuWorkload");
  });

  it("provisioning overhead runs and reports a ratio", async () => {
    const r = await benchProvisionOverhead(1);
    expect(r.floorRequests).toBeGreaterThan(5);
    expect(r.providerRequests).toBeGreaterThan(5);
    expect(r.providerMs).toBeGreaterThan(0);
    expect(r.floorMs).toBeGreaterThan(0);
    expect(r.floorSteps.length).toBeGreaterThan(10);
    expect(provisionMarkdown(r)).toContain("ratio");
  });

  it.skipIf(!built)("dynamic-provider host: per-call overhead through the real plugin", async () => {
    const r = await benchHostOverhead(20);
    expect(r.check.hostP50).toBeGreaterThan(0);
    expect(r.serialize.bytes).toBeGreaterThan(100);
    expect(hostMarkdown(r)).toContain("Check (DpuHost)");
  });
});
